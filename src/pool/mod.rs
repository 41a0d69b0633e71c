//! A pool of worker *processes* that run an async function on many items, in
//! the spirit of Python's `aiomultiprocess.Pool`: each worker runs its own
//! tokio runtime with up to `child_concurrency` jobs at once, so a pool of
//! `processes` workers has `processes × child_concurrency` jobs in flight.
//!
//! The function can be a closure or an `async fn` defined anywhere, in a
//! notebook cell too: workers are `fork`ed for each `map` call, so they have
//! the code that is loaded at that moment, with no `main` to take over and no
//! binary to re-run (what `spawn`-style pools and re-exec crates need, and
//! what a notebook cell does not have). Items and results cross the process
//! boundary as JSON ([serde_json](https://docs.rs/serde_json)), so both must
//! be serde types.
//!
//! ```
//! use asyncio_rs::pool::Pool;
//!
//! # asyncio_rs::runtime::run(async {
//! let pool = Pool::builder().processes(2).child_concurrency(4).build().unwrap();
//! let squares = pool.map(1..=5u64, |n| async move { n * n }).await;
//! let squares: Vec<u64> = squares.into_iter().map(Result::unwrap).collect();
//! assert_eq!(squares, [1, 4, 9, 16, 25]);
//! # });
//! ```
//!
//! What happens when things go wrong, item by item ([`JobError`]): a job that
//! panics gives its panic message, and the worker goes on; a worker that is
//! killed or aborts gives an error naming the signal for each item it was
//! running, and a new worker takes over the rest; a job past the timeout is
//! cancelled (and if it blocks its thread, its worker is killed). Dropping the
//! pool, or the future or [`Completed`] stream of a `map`, kills and reaps its
//! workers: no process is left behind, not even a zombie. When the parent
//! process dies, its workers get `SIGKILL` from the kernel.
//!
//! # What a worker must not do
//!
//! A worker is a copy of the parent made by `fork`, with one thread. Python
//! 3.14 moved its default away from `fork` because in a copy of a
//! multi-threaded process a lock that another thread held is held forever.
//! The pool takes care of its own side: it forks from a thread of its own
//! that holds no lock and runs no runtime, with Rust's stdout and stderr
//! locks taken over the fork; the worker builds a fresh tokio runtime, closes
//! every file descriptor it inherited, never drops what it inherited, and
//! ends with `_exit`; panics in workers are recorded by a hook installed in
//! the parent beforehand, so nothing in the worker takes the global hook
//! lock or prints a backtrace. The function must not rely on what only
//! existed in the parent:
//!
//! - other threads, and the runtimes they drove: no `Handle` or `Runtime`
//!   captured from the parent (the worker has its own: use `tokio::spawn`,
//!   `sleep`, sockets freely), no `tokio::signal` or `tokio::process`;
//! - locks (`Mutex`, `RwLock`, `OnceLock` being initialized) that another
//!   parent thread might hold: a static the parent shares between threads may
//!   be locked forever in the worker;
//! - the parent's connections and file descriptors: they are closed in the
//!   worker. Open what you need inside the job;
//! - changes to the parent's memory: a worker changes its own copy only.
//!   Send results back instead.
//!
//! What a worker prints on stdout and stderr is copied to the parent's.
//!
//! Linux and macOS (macOS type-checked, not run: `pool/platform.rs` holds
//! what differs); elsewhere [`Builder::build`] returns
//! [`PoolError::Unsupported`].

mod error;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod platform;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod run;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod supervisor;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod wire;
#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod worker;

pub use error::{Death, JobError, PoolError};

use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// A function each worker runs once, when it starts.
pub(crate) type Initializer = Arc<dyn Fn() + Send + Sync>;

/// Settings for a [`Pool`]: `Pool::builder().processes(2).build()?`.
#[derive(Clone)]
pub struct Builder {
    processes: usize,
    child_concurrency: usize,
    max_tasks_per_child: usize,
    initializer: Option<Initializer>,
    timeout: Option<Duration>,
}

impl Builder {
    /// How many worker processes run at once (default: the number of CPUs,
    /// as aiomultiprocess's `processes`).
    pub fn processes(mut self, processes: usize) -> Builder {
        self.processes = processes;
        self
    }

    /// How many jobs each worker runs at once on its runtime (default 16, as
    /// aiomultiprocess's `childconcurrency`).
    pub fn child_concurrency(mut self, jobs: usize) -> Builder {
        self.child_concurrency = jobs;
        self
    }

    /// After this many jobs a worker exits and a fresh one replaces it
    /// (default 0: never, as aiomultiprocess's `maxtasksperchild`).
    pub fn max_tasks_per_child(mut self, jobs: usize) -> Builder {
        self.max_tasks_per_child = jobs;
        self
    }

    /// A function each worker runs when it starts, before any job. If it
    /// panics, the items of that `map` fail with [`JobError::NoWorker`].
    pub fn initializer(mut self, initializer: impl Fn() + Send + Sync + 'static) -> Builder {
        self.initializer = Some(Arc::new(initializer));
        self
    }

    /// The most time one job may take; later it fails with
    /// [`JobError::TimedOut`] (default: no limit).
    pub fn timeout(mut self, timeout: Duration) -> Builder {
        self.timeout = Some(timeout);
        self
    }

    /// Checks the settings and starts the pool's supervisor thread. No worker
    /// runs until the first `map`.
    ///
    /// ```
    /// use asyncio_rs::pool::{Pool, PoolError};
    ///
    /// let refused = Pool::builder().processes(0).build();
    /// assert!(matches!(refused, Err(PoolError::NoProcesses)));
    /// ```
    pub fn build(self) -> Result<Pool, PoolError> {
        if self.processes == 0 {
            return Err(PoolError::NoProcesses);
        }
        if self.child_concurrency == 0 {
            return Err(PoolError::NoConcurrency);
        }
        imp::build(self)
    }
}

/// A pool of worker processes; see the [module](self) documentation.
pub struct Pool {
    inner: Arc<imp::Inner>,
}

impl Pool {
    /// The settings, with aiomultiprocess's defaults.
    pub fn builder() -> Builder {
        Builder {
            processes: std::thread::available_parallelism().map_or(1, |n| n.get()),
            child_concurrency: 16,
            max_tasks_per_child: 0,
            initializer: None,
            timeout: None,
        }
    }

    /// Runs `f` on every item, in the workers, and returns the results in the
    /// order of the items: `aiomultiprocess`'s `pool.map`. Each result is the
    /// function's return value or why that item has none.
    ///
    /// The future owns what it needs (`'static`): it can run on any runtime,
    /// and dropping it kills the workers it started.
    ///
    /// ```
    /// use asyncio_rs::pool::Pool;
    ///
    /// let pool = Pool::builder().processes(2).build().unwrap();
    /// let lengths = asyncio_rs::runtime::run(pool.map(["a", "bb", "ccc"].map(String::from), |word| async move {
    ///     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    ///     word.len()
    /// }));
    /// assert_eq!(lengths, [Ok(1), Ok(2), Ok(3)]);
    /// ```
    pub fn map<T, R, F, Fut>(
        &self,
        items: impl IntoIterator<Item = T>,
        f: F,
    ) -> impl Future<Output = Vec<Result<R, JobError>>> + Send + 'static
    where
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let mut completed = self.as_completed(items, f);
        async move {
            let mut results: Vec<Option<Result<R, JobError>>> =
                (0..completed.len()).map(|_| None).collect();
            while let Some((index, result)) = completed.next().await {
                results[index] = Some(result);
            }
            results
                .into_iter()
                .map(|result| result.unwrap_or(Err(JobError::Closed)))
                .collect()
        }
    }

    /// Like [`Pool::map`], but yields `(index, result)` as each item finishes,
    /// which aiomultiprocess cannot do.
    ///
    /// ```
    /// use asyncio_rs::pool::Pool;
    /// use std::time::Duration;
    ///
    /// // One worker running both: the shorter sleep finishes first.
    /// let pool = Pool::builder().processes(1).child_concurrency(2).build().unwrap();
    /// let mut completed = pool.as_completed([300u64, 10], |ms| async move {
    ///     tokio::time::sleep(Duration::from_millis(ms)).await;
    ///     ms
    /// });
    /// let first = asyncio_rs::runtime::run(async move { completed.next().await });
    /// assert_eq!(first, Some((1, Ok(10))));
    /// ```
    pub fn as_completed<T, R, F, Fut>(
        &self,
        items: impl IntoIterator<Item = T>,
        f: F,
    ) -> Completed<R>
    where
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
    {
        imp::as_completed(&self.inner, items, f)
    }

    /// Runs `f` on one item in a worker: `aiomultiprocess`'s `pool.apply`.
    ///
    /// ```
    /// use asyncio_rs::pool::Pool;
    ///
    /// let pool = Pool::builder().processes(1).build().unwrap();
    /// let pid = asyncio_rs::runtime::run(pool.apply(|()| async { std::process::id() }, ()));
    /// assert_ne!(pid, Ok(std::process::id()));
    /// ```
    pub fn apply<T, R, F, Fut>(
        &self,
        f: F,
        item: T,
    ) -> impl Future<Output = Result<R, JobError>> + Send + 'static
    where
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
    {
        let map = self.map([item], f);
        async move { map.await.pop().unwrap_or(Err(JobError::Closed)) }
    }

    /// The process ids of this pool's workers alive now (none between `map`
    /// calls).
    pub fn workers(&self) -> Vec<u32> {
        imp::workers(&self.inner)
    }

    /// Kills every worker and waits until they are reaped; items still
    /// running fail with [`JobError::Closed`], and later calls too. Dropping
    /// the pool does the same.
    pub fn close(&self) {
        imp::close(&self.inner)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

/// The results of [`Pool::as_completed`], as they finish. Dropping it before
/// the end kills its workers.
pub struct Completed<R> {
    received: tokio::sync::mpsc::UnboundedReceiver<(usize, Result<Vec<u8>, JobError>)>,
    len: usize,
    // Declared last: dropped after the receiver, so that a cancelled run does
    // not block on sending.
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    _run: Option<run::Run>,
    result: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Completed<R> {
    /// The next item to finish, as `(index, result)`; `None` once every item
    /// has its result and every worker of this call has exited.
    pub async fn next(&mut self) -> Option<(usize, Result<R, JobError>)> {
        let (index, result) = self.received.recv().await?;
        let result = result.and_then(|bytes| {
            serde_json::from_slice(&bytes).map_err(|error| {
                JobError::Serialization(format!("the result could not be read: {error}"))
            })
        });
        Some((index, result))
    }

    /// How many items this call has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no items at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(any(target_os = "linux", target_vendor = "apple"))]
mod imp {
    use super::run::{self, Settings};
    use super::supervisor::{Body, Supervisor};
    use super::worker::{self, Service};
    use super::{Builder, Completed, JobError, Pool, PoolError};
    use serde::{Serialize, de::DeserializeOwned};
    use std::collections::VecDeque;
    use std::future::Future;
    use std::marker::PhantomData;
    use std::sync::Arc;

    pub(super) struct Inner {
        supervisor: Arc<Supervisor>,
        settings: Settings,
        initializer: Option<super::Initializer>,
    }

    pub(super) fn build(builder: Builder) -> Result<Pool, PoolError> {
        let settings = Settings {
            processes: builder.processes,
            concurrency: builder.child_concurrency,
            max_tasks_per_child: builder.max_tasks_per_child,
            timeout: builder.timeout,
        };
        Ok(Pool {
            inner: Arc::new(Inner {
                supervisor: Arc::new(Supervisor::start()?),
                settings,
                initializer: builder.initializer,
            }),
        })
    }

    pub(super) fn as_completed<T, R, F, Fut>(
        inner: &Inner,
        items: impl IntoIterator<Item = T>,
        f: F,
    ) -> Completed<R>
    where
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
    {
        worker::quiet_panics();
        let (out, received) = tokio::sync::mpsc::unbounded_channel();
        let mut jobs = VecDeque::new();
        let mut len = 0;
        for (index, item) in items.into_iter().enumerate() {
            len += 1;
            match serde_json::to_vec(&item) {
                Ok(bytes) if bytes.len() <= super::wire::MAX_PAYLOAD => {
                    jobs.push_back((index, bytes))
                }
                Ok(bytes) => {
                    let message = format!(
                        "the item is {} bytes, more than a worker accepts",
                        bytes.len()
                    );
                    let _ = out.send((index, Err(JobError::Serialization(message))));
                }
                Err(error) => {
                    let message = format!("the item could not be serialized: {error}");
                    let _ = out.send((index, Err(JobError::Serialization(message))));
                }
            }
        }
        let service = Service {
            function: Arc::new(f),
            initializer: inner.initializer.clone(),
            concurrency: inner.settings.concurrency,
            timeout: inner.settings.timeout,
        };
        let body: Body = Arc::new(move |socket| worker::serve::<T, R, F, Fut>(socket, &service));
        let started = if jobs.is_empty() {
            None
        } else {
            let queued: Vec<usize> = jobs.iter().map(|(index, _)| *index).collect();
            match run::start(
                Arc::clone(&inner.supervisor),
                inner.settings,
                body,
                jobs,
                out.clone(),
            ) {
                Ok(run) => Some(run),
                Err(error) => {
                    let error = JobError::NoWorker(format!("could not start a thread: {error}"));
                    for index in queued {
                        let _ = out.send((index, Err(error.clone())));
                    }
                    None
                }
            }
        };
        Completed {
            received,
            len,
            _run: started,
            result: PhantomData,
        }
    }

    pub(super) fn workers(inner: &Inner) -> Vec<u32> {
        inner.supervisor.live()
    }

    pub(super) fn close(inner: &Inner) {
        inner.supervisor.close();
    }
}

#[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
mod imp {
    use super::{Builder, Completed, Pool, PoolError};
    use serde::{Serialize, de::DeserializeOwned};
    use std::future::Future;

    /// No pool can exist here: `build` refuses.
    pub(super) enum Inner {}

    pub(super) fn build(_: Builder) -> Result<Pool, PoolError> {
        Err(PoolError::Unsupported)
    }

    pub(super) fn as_completed<T, R, F, Fut>(
        inner: &Inner,
        _: impl IntoIterator<Item = T>,
        _: F,
    ) -> Completed<R>
    where
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
    {
        match *inner {}
    }

    pub(super) fn workers(inner: &Inner) -> Vec<u32> {
        match *inner {}
    }

    pub(super) fn close(inner: &Inner) {
        match *inner {}
    }
}
