//! "Async IO shines for read/write operations in a fire-and-forget style,
//! without worrying about a lock for whatever you're reading/writing to": the
//! original's second example of IO-bound work, in three parts, a file each
//! (`writes.rs`, `counts.rs`, `races.rs`).
//!
//! 1. **Fire-and-forget writes.** Many writers each hand a line over and go
//!    on at once, without waiting for it to be written. Among tokio tasks the
//!    usual shape is one task that owns the file, fed through a channel
//!    ([`tasks`]); threads need a lock around the file ([`threads_locked`])
//!    or the same channel to a thread that owns it ([`threads_channel`]).
//!    [`check`] reads the file back: every line whole, once, in its writer's
//!    order. [`compare_writes`] does all three in a temporary directory,
//!    removed afterwards.
//! 2. **No lock.** Tasks on one thread can share state through
//!    `Rc<RefCell<_>>` ([`local_count`]): a task gives up the thread only at
//!    an `.await`, so no other task can run in the middle of an update that
//!    has none. Threads run at the same time: they need `Arc<Mutex<_>>`
//!    ([`threads_count`]), and Rust refuses to send an `Rc` to another thread
//!    at compile time. [`compare_counts`] times both.
//! 3. **What "without worrying" leaves out.** The `.await` is where other
//!    tasks run, so an update that reads, awaits, then writes loses updates
//!    under async IO too ([`read_await_write`]). The fixes: no `.await`
//!    between the read and the write ([`read_write_await`]), or a
//!    `tokio::sync::Mutex` held across it ([`locked_across`]). A `RefCell`
//!    borrow held across an `.await` is the same mistake in another form
//!    ([`borrow_across_await`]): the next task's borrow panics. [`race`] runs
//!    each on a paused clock, so what is lost is the same on every run.
//!
//! Tasks that share an `Rc` are not `Send`: they run on a `LocalSet`, on a
//! one-thread runtime of their own ([`on_one_thread`]), not on a
//! [`Runtime`](crate::runtime::Runtime)'s event loop, which takes only `Send` futures.
//!
//! ```
//! use asyncio_rs::demos::fire_and_forget::{self, Update};
//!
//! let counts = fire_and_forget::compare_counts(10, 100).unwrap();
//! assert_eq!((counts.tasks.count, counts.threads.count), (1_000, 1_000));
//! let lost = fire_and_forget::race(Update::ReadAwaitWrite, 3, 2).unwrap();
//! assert_eq!(lost.outcome, Ok(2)); // of 6
//! ```

use std::future::Future;
use std::io;

use tokio::task::LocalSet;

use crate::threads;

mod counts;
mod races;
mod writes;

pub use counts::{Counted, Counts, compare_counts, local_count, threads_count};
pub use races::{
    IO, Race, Update, borrow_across_await, locked_across, race, read_await_write, read_write_await,
};
pub use writes::{
    Check, WriteRow, Writes, check, compare_writes, line, tasks, threads_channel, threads_locked,
};

/// Runs `future` to the end on a one-thread runtime of its own, on a
/// `LocalSet`, so that it can spawn tasks that are not `Send`
/// (`tokio::task::spawn_local`); on tokio's paused clock if `paused`.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use asyncio_rs::demos::fire_and_forget::on_one_thread;
///
/// let shared = Rc::new(Cell::new(1));
/// on_one_thread(false, {
///     let shared = Rc::clone(&shared);
///     async move { tokio::task::spawn_local(async move { shared.set(2) }).await.unwrap() }
/// })
/// .unwrap();
/// assert_eq!(shared.get(), 2);
/// ```
pub fn on_one_thread<F: Future>(paused: bool, future: F) -> io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()?;
    Ok(LocalSet::new().block_on(&runtime, future))
}

/// Runs `work(i)` on `count` OS threads ([`threads::start_and_join`]) and
/// returns their results in order, or the first error: a thread the system
/// refused, a thread that panicked, or a thread's own error.
fn on_threads<T, W>(count: usize, work: impl Fn(usize) -> W) -> io::Result<Vec<T>>
where
    T: Send + 'static,
    W: FnOnce() -> io::Result<T> + Send + 'static,
{
    (threads::start_and_join(count, work).into_results("a thread")?)
        .into_iter()
        .collect()
}
