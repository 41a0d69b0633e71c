//! One tokio runtime that outlives notebook cells: the counterpart of the
//! event loop that IPython keeps running, and of `asyncio.run` in a script.
//!
//! A [`Runtime`] owns a current-thread tokio runtime and a thread of its own,
//! the *event loop*, which drives it for as long as the `Runtime` lives.
//! [`Runtime::run`] hands a future to that thread and blocks until it is done;
//! [`Runtime::spawn`] hands it over and returns at once. Every future, and
//! every task those futures start with plain `tokio::spawn`, is polled on the
//! event loop, one at a time, as in asyncio: so a task started in one cell
//! goes on running while later cells run, and a paused clock
//! ([`Runtime::paused`]) gives the same output on every run.
//!
//! Why not the runtime evcxr builds when a cell uses `.await` at the top
//! level? evcxr links a fresh copy of every crate into each cell, so the
//! thread-local "current runtime" that `tokio::spawn` and `sleep` look up
//! exists once per cell. A future compiled in cell 5 finds its copy unset on
//! threads that cell 1's copy set up. [`Runtime::run`] and [`Runtime::spawn`]
//! therefore enter the runtime's context on the event-loop thread *in the
//! caller's copy of tokio* before the future is first polled, and leave it
//! entered. The event loop never blocks the caller's thread in tokio's sense
//! either, so `run` works inside another runtime too (a `#[tokio::test]`, or a
//! cell in evcxr's async mode) without "Cannot start a runtime from within a
//! runtime".
//!
//! ```
//! use asyncio_rs::runtime::Runtime;
//! use std::time::Duration;
//!
//! let rt = Runtime::paused().unwrap();
//! // A background task: in a notebook, this cell returns at once.
//! let task = rt.spawn(async {
//!     tokio::time::sleep(Duration::from_secs(10)).await;
//!     "done"
//! });
//! // A later cell collects the result.
//! assert_eq!(rt.run(task).unwrap(), "done");
//! ```

use std::future::Future;
use std::io;
use std::panic;
use std::sync::{Arc, mpsc};
use std::thread;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::interrupt;
use crate::pacing::{self, Pacer};
use crate::panics;

mod block_on;
pub use block_on::block_on;

/// A tokio runtime driven by its own event-loop thread.
///
/// Dropping it stops the event loop and cancels the tasks still running, as
/// closing an asyncio loop does.
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
    clock: Clock,
    stop: Option<oneshot::Sender<()>>,
    event_loop: Option<thread::JoinHandle<()>>,
}

/// A runtime's clock.
#[derive(Debug)]
enum Clock {
    /// tokio's paused clock, started at this virtual instant: timers count
    /// whole milliseconds from it.
    Paused(Instant),
    /// The real clock, and the pacer of [`Runtime::run_paced`].
    Real(Arc<Pacer>),
}

impl Runtime {
    /// A runtime on the real clock: `sleep(1s)` takes a second.
    ///
    /// ```
    /// let rt = asyncio_rs::runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.run(async { 6 * 7 }), 42);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Runtime::start(false)
    }

    /// A runtime on a paused, virtual clock (tokio's `start_paused`): when no
    /// task can make progress the clock jumps to the next timer, so a demo
    /// that sleeps for 12 s finishes in milliseconds with the same output.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::time::{sleep, Instant};
    ///
    /// let rt = asyncio_rs::runtime::Runtime::paused().unwrap();
    /// let waited = rt.run(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await;
    ///     start.elapsed()
    /// });
    /// assert_eq!(waited, Duration::from_secs(3600));
    /// ```
    pub fn paused() -> io::Result<Runtime> {
        Runtime::start(true)
    }

    fn start(paused: bool) -> io::Result<Runtime> {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        // Timers and IO (sockets), as asyncio's loop has both. Every runtime
        // starts paused: the instant its timer counts from is then the
        // clock's first reading (the pacer needs it); one on the real clock
        // resumes at once.
        builder.enable_all().start_paused(true);
        let pacer = (!paused).then(|| Arc::new(Pacer::default()));
        if let Some(pacer) = &pacer {
            let pacer = Arc::clone(pacer);
            builder.on_thread_park(move || pacer.before_park());
        }
        let runtime = builder.build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        // The clock's origin is read on the event loop: the caller's thread
        // may be inside another runtime (a `#[tokio::test]`, a cell in
        // evcxr's async mode, a task), where `block_on` would panic.
        let (origin_tx, origin_rx) = mpsc::channel::<Instant>();
        let event_loop = thread::Builder::new()
            .name("event-loop".to_string())
            .spawn(move || {
                // Drive every task until the `Runtime` is dropped; dropping
                // `runtime` afterwards cancels what is left.
                runtime.block_on(async {
                    let _ = origin_tx.send(Instant::now());
                    if !paused {
                        tokio::time::resume();
                    }
                    let _ = stopped.await;
                });
            })?;
        let origin = origin_rx
            .recv()
            .map_err(|_| io::Error::other("the event loop ended as it started"))?;
        interrupt::enable();
        panics::install();
        let clock = match pacer {
            Some(pacer) => {
                pacer.start(origin);
                Clock::Real(pacer)
            }
            None => Clock::Paused(origin),
        };
        Ok(Runtime {
            handle,
            clock,
            stop: Some(stop),
            event_loop: Some(event_loop),
        })
    }

    /// Runs `future` on the event loop and blocks until it completes: the
    /// counterpart of `await main()` at the top of an IPython cell.
    ///
    /// A panic inside the future is raised again here, in the caller; the
    /// runtime keeps working for the next call. In the notebook's kernel,
    /// Jupyter's interrupt drops the future and ends the cell with
    /// `KeyboardInterrupt` ([`interrupt`]). Futures that tokio creates
    /// eagerly, such as `sleep(d)`, need the runtime when they are made: wrap
    /// them, `rt.run(async { sleep(d).await })`.
    ///
    /// # Panics
    ///
    /// If called from a task of this same runtime, which would wait for
    /// itself forever: `.await` the future there instead. (Python's twin:
    /// "asyncio.run() cannot be called from a running event loop".)
    ///
    /// ```
    /// let rt = asyncio_rs::runtime::Runtime::paused().unwrap();
    /// let answer = rt.run(async {
    ///     // Plain tokio works inside: spawn, join!, sleep.
    ///     let task = tokio::spawn(async { 40 });
    ///     task.await.unwrap() + 2
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    pub fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        assert!(
            !self.on_event_loop(),
            "Runtime::run was called from a task on its own event loop; .await the future instead"
        );
        // A press that came while the cell was blocking: the future is not
        // started at all (the event loop would run it before `join` looks).
        interrupt::checkpoint();
        match interrupt::join(self.spawn(future)) {
            Ok(output) => output,
            Err(error) if error.is_panic() => panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("the event loop dropped the future: {error}"),
        }
    }

    /// Starts `future` as a task on the event loop and returns at once: the
    /// counterpart of `asyncio.create_task`. The task keeps running between
    /// notebook cells; await its handle later, in [`Runtime::run`] or in
    /// another task.
    ///
    /// ```
    /// let rt = asyncio_rs::runtime::Runtime::paused().unwrap();
    /// let task = rt.spawn(async { "from the background" });
    /// assert_eq!(rt.run(task).unwrap(), "from the background");
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.handle.clone();
        let paused_at = match self.clock {
            Clock::Paused(origin) => Some(origin),
            Clock::Real(_) => None,
        };
        self.handle.spawn(async move {
            if enter_for_good(&handle, paused_at.is_some())
                && let Some(origin) = paused_at
            {
                pacing::on_the_grid(origin).await;
            }
            future.await
        })
    }

    /// Like [`Runtime::run`], on a clock that keeps time for timers: each
    /// `sleep` counts from the instant its task was due rather than from when
    /// the machine got round to waking it, so tasks due at the same instant
    /// run in the order they went to sleep, on every run and however busy
    /// the machine, while each still wakes at its real instant. The notebook
    /// runs `In [10]` this way; the rule and its price (tokio's `Instant`
    /// stands still while the event loop is busy) are in [`crate::pacing`].
    /// On a paused runtime it is `run`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::time::{Instant, sleep};
    ///
    /// let rt = asyncio_rs::runtime::Runtime::new().unwrap();
    /// let real = std::time::Instant::now();
    /// let waited = rt.run_paced(async {
    ///     let start = Instant::now();
    ///     for _ in 0..5 {
    ///         sleep(Duration::from_millis(20)).await;
    ///     }
    ///     start.elapsed()
    /// });
    /// // No wake-up latency adds up: five sleeps of 20 ms take 100 ms exactly
    /// // on the runtime's clock, and at least as long in real time.
    /// assert_eq!(waited, Duration::from_millis(100));
    /// assert!(real.elapsed() >= Duration::from_millis(100));
    /// ```
    pub fn run_paced<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.clock {
            Clock::Real(pacer) => self.run(Arc::clone(pacer).section(future)),
            Clock::Paused(_) => self.run(future),
        }
    }

    /// Whether the calling thread is this runtime's event loop.
    fn on_event_loop(&self) -> bool {
        self.event_loop
            .as_ref()
            .is_some_and(|event_loop| event_loop.thread().id() == thread::current().id())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A task that drops the last handle to its own runtime cannot wait
        // for the event loop it runs on; the loop stops once the task ends.
        if !self.on_event_loop()
            && let Some(event_loop) = self.event_loop.take()
        {
            let _ = event_loop.join();
        }
    }
}

/// Runs `future` to completion on a fresh runtime on the real clock, then
/// shuts it down: the counterpart of `asyncio.run(main())`. Works in a plain
/// program, in a test and in a notebook cell alike, inside another runtime
/// too.
///
/// ```
/// assert_eq!(asyncio_rs::runtime::run(async { "hello" }), "hello");
/// ```
///
/// # Panics
///
/// If the runtime cannot be built (the system refuses a thread), or if
/// `future` panics.
pub fn run<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Runtime::new()
        .expect("could not start a tokio runtime")
        .run(future)
}

/// Makes `handle` this thread's current runtime, in the copy of tokio that
/// this code was compiled against, unless that copy already has one here.
///
/// In a plain program there is one copy and the event loop has set it. Under
/// evcxr each cell brings its own copy; the guard is kept (forgotten) so that
/// tasks spawned from that cell still find the runtime when they are polled
/// after the cell has finished.
///
/// A copy also keeps its own "was the clock ever paused?" flag, and reads the
/// real clock until it is set. Resuming and pausing the (shared) clock again
/// sets it; virtual time moves on by the nanoseconds in between. Returns
/// whether it did, so that the caller can put the clock back on the grid.
fn enter_for_good(handle: &Handle, paused: bool) -> bool {
    if Handle::try_current().is_err() {
        std::mem::forget(handle.enter());
        if paused {
            tokio::time::resume();
            tokio::time::pause();
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::time::{Instant, sleep};

    #[test]
    fn run_returns_the_output() {
        let rt = Runtime::paused().unwrap();
        assert_eq!(rt.run(async { 1 + 1 }), 2);
    }

    #[test]
    fn a_nudged_paused_clock_goes_back_on_the_millisecond_grid() {
        let rt = Runtime::paused().unwrap();
        let Clock::Paused(origin) = rt.clock else {
            unreachable!("a paused runtime")
        };
        let (realigned_at, slept) = rt.run(async move {
            // What a new cell's copy of tokio does to the clock: a few nanoseconds.
            tokio::time::advance(Duration::from_nanos(1_234)).await;
            pacing::on_the_grid(origin).await;
            let start = Instant::now();
            for _ in 0..12 {
                sleep(Duration::from_secs(1)).await;
            }
            (start - origin, start.elapsed())
        });
        // Off the grid, each sleep would end 1 ms late: 12.012 s.
        assert_eq!(realigned_at, Duration::from_millis(1));
        assert_eq!(slept, Duration::from_secs(12));
    }

    #[test]
    fn paused_clock_jumps_over_sleeps() {
        let rt = Runtime::paused().unwrap();
        let real = std::time::Instant::now();
        let virtual_elapsed = rt.run(async {
            let start = Instant::now();
            sleep(Duration::from_secs(12)).await;
            start.elapsed()
        });
        assert_eq!(virtual_elapsed, Duration::from_secs(12));
        assert!(real.elapsed() < Duration::from_secs(2));
    }

    /// Whether tokio's clock on `rt` moves with real time outside a task's
    /// waits: it does on the real clock, not on a paused one.
    fn clock_runs(rt: &Runtime) -> bool {
        rt.run(async {
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(30));
            start.elapsed() >= Duration::from_millis(30)
        })
    }

    #[test]
    fn a_paced_run_keeps_real_time_and_hands_the_real_clock_back() {
        let rt = Runtime::new().unwrap();
        assert!(clock_runs(&rt));
        let real = std::time::Instant::now();
        let (virtual_waits, busy) = rt.run_paced(async {
            let start = Instant::now();
            sleep(Duration::from_millis(40)).await;
            let after_sleep = start.elapsed();
            // Busy for 30 ms: the paced clock stands still meanwhile.
            std::thread::sleep(Duration::from_millis(30));
            let busy = start.elapsed() - after_sleep;
            sleep(Duration::from_millis(40)).await;
            (start.elapsed(), busy)
        });
        assert_eq!(virtual_waits, Duration::from_millis(80));
        assert_eq!(busy, Duration::ZERO);
        // Never ahead of the real clock; the busy stretch does not push the
        // second deadline back: it is 80 ms after the start, in real time too.
        assert!(
            real.elapsed() >= Duration::from_millis(80),
            "{:?}",
            real.elapsed()
        );
        assert!(clock_runs(&rt));
    }

    #[test]
    fn a_paced_run_that_panics_hands_the_real_clock_back() {
        let rt = Runtime::new().unwrap();
        let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
            rt.run_paced(async {
                sleep(Duration::from_millis(5)).await;
                panic!("boom")
            })
        }));
        assert!(caught.is_err());
        assert!(clock_runs(&rt));
        assert_eq!(rt.run_paced(async { "paced again" }), "paced again");
    }

    #[test]
    fn a_paced_run_waits_for_sockets_and_blocking_tasks() {
        let rt = Runtime::new().unwrap();
        let (echoed, slept) = rt.run_paced(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            // A peer that answers after 50 ms of real time, on a thread of its own.
            let peer = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(address).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                std::io::Write::write_all(&mut stream, b"pong").unwrap();
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut answer = [0u8; 4];
            // A timeout far longer than the wait: the clock does not jump past it.
            tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
                .await
                .expect("the answer comes before the timeout")
                .unwrap();
            stream.shutdown().await.unwrap();
            peer.join().unwrap();
            let start = Instant::now();
            let ticker = tokio::spawn(sleep(Duration::from_millis(20)));
            tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(60)))
                .await
                .unwrap();
            ticker.await.unwrap();
            (answer, start.elapsed())
        });
        assert_eq!(&echoed, b"pong");
        assert!(slept >= Duration::from_millis(20), "{slept:?}");
    }

    #[test]
    fn a_spawned_task_progresses_between_runs() {
        let rt = Runtime::new().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = rt.spawn({
            let log = Arc::clone(&log);
            async move {
                sleep(Duration::from_millis(50)).await;
                log.lock().unwrap().push("background");
                7
            }
        });
        // No `run` is in progress: the event loop alone moves the task on.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(*log.lock().unwrap(), ["background"]);
        assert!(task.is_finished());
        assert_eq!(rt.run(task).unwrap(), 7);
    }

    #[test]
    fn tokio_spawn_works_in_every_run() {
        let rt = Runtime::paused().unwrap();
        for round in 0..10 {
            let got = rt.run(async move {
                let inner = tokio::spawn(async move {
                    sleep(Duration::from_secs(1)).await;
                    round * 2
                });
                inner.await.unwrap()
            });
            assert_eq!(got, round * 2);
        }
    }

    #[test]
    fn a_panic_reaches_the_caller_and_the_runtime_survives() {
        let rt = Runtime::paused().unwrap();
        let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
            rt.run(async { panic!("boom") });
        }));
        let message = caught.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"boom"));
        assert_eq!(rt.run(async { "still alive" }), "still alive");
    }

    #[test]
    fn dropping_the_runtime_cancels_its_tasks() {
        let rt = Runtime::paused().unwrap();
        let task = rt.spawn(std::future::pending::<()>());
        let abort = task.abort_handle();
        drop(rt);
        assert!(abort.is_finished());
    }

    #[test]
    fn run_from_a_task_on_the_same_loop_is_refused() {
        let rt = Arc::new(Runtime::paused().unwrap());
        let inner = Arc::clone(&rt);
        let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
            rt.run(async move { inner.run(async { 1 }) })
        }));
        let message = caught.unwrap_err();
        let message = message.downcast_ref::<&str>().unwrap();
        assert!(message.contains(".await the future instead"), "{message}");
        assert_eq!(rt.run(async { 2 }), 2);
    }

    #[test]
    fn a_task_may_drop_the_last_handle_to_its_runtime() {
        let rt = Arc::new(Runtime::paused().unwrap());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let last = Arc::clone(&rt);
        rt.spawn(async move {
            drop(last);
            done_tx.send(()).unwrap();
        });
        drop(rt);
        done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn the_free_run_is_asyncio_run() {
        assert_eq!(run(async { "plain" }), "plain");
    }

    /// Every constructor and method of `Runtime`, and the free `run`, with
    /// the paused clock still jumping.
    fn every_constructor_and_method() {
        for rt in [Runtime::new().unwrap(), Runtime::paused().unwrap()] {
            let task = rt.spawn(async {
                sleep(Duration::from_millis(20)).await;
                "spawned"
            });
            assert_eq!(rt.run(async { 6 * 7 }), 42);
            assert_eq!(rt.run(task).unwrap(), "spawned");
            drop(rt);
        }
        let paused = Runtime::paused().unwrap();
        let waited = paused.run(async {
            let start = Instant::now();
            sleep(Duration::from_secs(3600)).await;
            start.elapsed()
        });
        assert_eq!(waited, Duration::from_secs(3600));
        assert_eq!(run(async { 5 }), 5);
    }

    #[tokio::test]
    async fn everything_works_inside_a_current_thread_runtime() {
        // tokio's own `Runtime::block_on` would panic here: a #[tokio::test].
        every_constructor_and_method();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn everything_works_inside_a_multi_thread_runtime() {
        // The shape of a cell in evcxr's async mode: `Runtime::new()` and
        // `block_on` around the cell.
        every_constructor_and_method();
    }

    #[test]
    fn everything_works_inside_a_task_of_another_runtime() {
        let outer = Runtime::paused().unwrap();
        outer.run(async { every_constructor_and_method() });
        assert_eq!(
            outer.run(async { "outer still works" }),
            "outer still works"
        );
    }
}
