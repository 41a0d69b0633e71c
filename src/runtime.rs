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
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::interrupt;

mod block_on;
pub use block_on::block_on;

/// A tokio runtime driven by its own event-loop thread.
///
/// Dropping it stops the event loop and cancels the tasks still running, as
/// closing an asyncio loop does.
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
    /// On a paused clock, the virtual instant the clock started at: timers
    /// count whole milliseconds from it.
    clock_origin: Option<Instant>,
    stop: Option<oneshot::Sender<()>>,
    event_loop: Option<thread::JoinHandle<()>>,
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
        // Timers and IO (sockets), as asyncio's loop has both.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(paused)
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        // The paused clock's origin is read on the event loop: the caller's
        // thread may be inside another runtime (a `#[tokio::test]`, a cell in
        // evcxr's async mode, a task), where `block_on` would panic.
        let (origin_tx, origin_rx) = mpsc::channel::<Instant>();
        let event_loop = thread::Builder::new()
            .name("event-loop".to_string())
            .spawn(move || {
                // Drive every task until the `Runtime` is dropped; dropping
                // `runtime` afterwards cancels what is left.
                runtime.block_on(async {
                    let _ = origin_tx.send(Instant::now());
                    let _ = stopped.await;
                });
            })?;
        let origin = origin_rx
            .recv()
            .map_err(|_| io::Error::other("the event loop ended as it started"))?;
        interrupt::enable();
        Ok(Runtime {
            handle,
            clock_origin: paused.then_some(origin),
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
        let (handle, clock_origin) = (self.handle.clone(), self.clock_origin);
        self.handle.spawn(async move {
            if enter_for_good(&handle, clock_origin.is_some())
                && let Some(origin) = clock_origin
            {
                back_on_the_millisecond_grid(origin).await;
            }
            future.await
        })
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

/// Moves a paused clock on to the next whole millisecond after `origin`, if
/// it is between two.
///
/// tokio's timer rounds every deadline up to a whole millisecond from the
/// clock's start. A clock a few nanoseconds off that grid (after the nudge of
/// [`enter_for_good`]) would make every `sleep` end a millisecond late, and a
/// demo that sleeps twelve times finish at 12.012 s instead of 12 s.
async fn back_on_the_millisecond_grid(origin: Instant) {
    const TICK: Duration = Duration::from_millis(1);
    let past_the_tick =
        Duration::from_nanos((origin.elapsed().as_nanos() % TICK.as_nanos()) as u64);
    if !past_the_tick.is_zero() {
        tokio::time::advance(TICK - past_the_tick).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::time::{Instant, sleep};

    #[test]
    fn run_returns_the_output() {
        let rt = Runtime::paused().unwrap();
        assert_eq!(rt.run(async { 1 + 1 }), 2);
    }

    #[test]
    fn a_nudged_paused_clock_goes_back_on_the_millisecond_grid() {
        let rt = Runtime::paused().unwrap();
        let origin = rt.clock_origin.unwrap();
        let (realigned_at, slept) = rt.run(async move {
            // What a new cell's copy of tokio does to the clock: a few nanoseconds.
            tokio::time::advance(Duration::from_nanos(1_234)).await;
            back_on_the_millisecond_grid(origin).await;
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
