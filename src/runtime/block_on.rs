//! A top-level `.await` in a notebook cell: [`block_on`], what the notebook's
//! kernel calls with a cell that uses `.await` outside an `async` block, as
//! IPython runs a cell's top-level `await` on its event loop.
//!
//! evcxr wraps such a cell in `async { … }` and hands the future to a
//! function: upstream, `block_on` of a tokio runtime it keeps across cells,
//! made by the first such cell's copy of tokio, which a later cell's copy
//! does not see ("there is no reactor running" in the tasks it spawns). The
//! notebook's evcxr (`patches/`) calls the function that `EVCXR_ASYNC_RUNNER`
//! names, `asyncio_rs::runtime::block_on`, compiled into the cell with the
//! cell's own copy of tokio, so everything the cell's code finds is this
//! cell's.
//!
//! The cell's future borrows the cell's variables, so it cannot move to the
//! event loop of a [`Runtime`](super::Runtime) (`'static` futures only): it
//! runs on the cell's own thread, on a current-thread runtime made for the
//! cell, one thread as on asyncio's loop (tasks that wake together run in the
//! order they went to sleep). When the cell ends, the tasks it spawned and
//! did not wait for are dropped; a task that must outlive its cell goes to
//! `rt.spawn`, as before.
//!
//! Like `rt.run`, the cell stops with `KeyboardInterrupt` at Jupyter's
//! interrupt and keeps every earlier variable. A panic in any task the cell
//! started ends the cell with that panic (tokio's own
//! `unhandled_panic = "shutdown_runtime"`, which is not stable), so that a
//! cell whose tasks failed never looks done, and nothing of it runs on after
//! the cell.

use std::future::Future;
use std::panic;
use std::sync::{Arc, Mutex, Once};
use std::thread::{self, ThreadId};

use tokio::sync::Notify;

use crate::interrupt;

/// The name of the threads of a cell's `spawn_blocking` tasks.
const BLOCKING_THREADS: &str = "cell-blocking";

/// Runs `future` to completion on the calling thread, on a current-thread
/// tokio runtime (timers and IO) made for the call, then drops the tasks it
/// spawned that are still running. The future need not be `Send` nor
/// `'static`.
///
/// In the notebook's kernel, a cell's top-level `.await` comes here (the
/// comment at the top of `src/runtime/block_on.rs` says how and why).
/// Elsewhere it is a plain `block_on`.
///
/// ```
/// let answer = asyncio_rs::runtime::block_on(async {
///     let task = tokio::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// If `future` or a task it spawned panics (with that panic's message shown
/// first), if the runtime cannot be built, or when called inside another
/// runtime's task (tokio refuses to block there).
pub fn block_on<F: Future>(future: F) -> F::Output {
    enum Outcome<T> {
        Done(T),
        Interrupted,
        TaskPanicked,
    }

    // A press that came while the cell was blocking: nothing starts.
    interrupt::checkpoint();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(BLOCKING_THREADS)
        .build()
        .expect("could not start a tokio runtime");
    let panicked = watch_task_panics();
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            () = interrupt::pressed() => Outcome::Interrupted,
            () = panicked.notified() => Outcome::TaskPanicked,
            output = future => Outcome::Done(output),
        }
    });
    // Drops the tasks still running now; a blocking task already started
    // runs to its end on its own thread.
    runtime.shutdown_background();
    unwatch_task_panics();
    match outcome {
        Outcome::Done(output) => output,
        Outcome::Interrupted => interrupt::stop(),
        // The task's panic printed its message; this unwind prints nothing
        // more.
        Outcome::TaskPanicked => panic::resume_unwind(Box::new(
            "a task that this cell started panicked; the cell stops with it",
        )),
    }
}

/// Whom a panic on the watched threads notifies: the thread in [`block_on`]
/// and its blocking threads.
struct Watch {
    thread: ThreadId,
    notify: Arc<Notify>,
}

/// The watch of this copy of the crate (under evcxr, of this cell: each cell
/// has its own copy of the crate and of std's panic hook).
static WATCH: Mutex<Option<Watch>> = Mutex::new(None);

/// Starts notifying, on a panic on this thread or on a blocking thread, the
/// `Notify` returned: a task's panic never unwinds out of the runtime, tokio
/// catches it, so the panic hook is where it shows.
fn watch_task_panics() -> Arc<Notify> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // try_lock: a panic while the watch is being changed is not a task's.
            if let Ok(watch) = WATCH.try_lock()
                && let Some(watch) = watch.as_ref()
            {
                let current = thread::current();
                if current.id() == watch.thread || current.name() == Some(BLOCKING_THREADS) {
                    watch.notify.notify_one();
                }
            }
            previous(info);
        }));
    });
    let notify = Arc::new(Notify::new());
    *WATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Watch {
        thread: thread::current().id(),
        notify: Arc::clone(&notify),
    });
    notify
}

fn unwatch_task_panics() {
    *WATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;
    use tokio::time::sleep;

    #[test]
    fn a_future_that_borrows_and_is_not_send() {
        let counter = Cell::new(0);
        let local = std::rc::Rc::new(5);
        let got = block_on(async {
            sleep(Duration::from_millis(1)).await;
            counter.set(*local);
            tokio::spawn(async { 2 }).await.unwrap()
        });
        assert_eq!((counter.get(), got), (5, 2));
    }

    #[test]
    fn tasks_that_wake_together_run_in_the_order_they_slept() {
        let order = block_on(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let tasks: Vec<_> = (0..5)
                .map(|i| {
                    let log = Arc::clone(&log);
                    tokio::spawn(async move {
                        sleep(Duration::from_millis(20)).await;
                        log.lock().unwrap().push(i);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        assert_eq!(order, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_panic_in_a_task_is_the_callers_even_if_nobody_awaits_it() {
        let caught = panic::catch_unwind(|| {
            block_on(async {
                tokio::spawn(async { panic!("in a task") });
                sleep(Duration::from_secs(3600)).await;
            })
        });
        let payload = caught.unwrap_err();
        let message = payload.downcast_ref::<&str>().unwrap();
        assert!(
            message.contains("a task that this cell started panicked"),
            "{message}"
        );
        // The next call is not disturbed by it.
        assert_eq!(block_on(async { 1 }), 1);
    }

    #[test]
    fn the_tasks_left_running_are_dropped_at_the_end() {
        struct Flag(Arc<Mutex<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = true;
            }
        }
        let dropped = Arc::new(Mutex::new(false));
        let flag = Flag(Arc::clone(&dropped));
        block_on(async move {
            tokio::spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
            tokio::task::yield_now().await;
        });
        assert!(*dropped.lock().unwrap());
    }
}
