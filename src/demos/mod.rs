//! The notebook's demos: the code that its cells show and run, one module per
//! section of the original. They are built from the reusable pieces at the top
//! of the crate ([`crate::runtime`], [`crate::gather`], [`crate::random`], …).

pub mod blocking_in_async;
pub mod count;
pub mod fire_and_forget;
pub mod makerandom;
pub mod multiprocessing;
pub mod network;
pub mod tasks_vs_threads;

use std::fmt;

/// What runs a demo's workers: tokio tasks or OS threads, the two sides of
/// "Async IO vs threading" ([`tasks_vs_threads`], [`network`]); or Python's
/// asyncio tasks, which the `tasks_vs_threads` example measures with
/// `--python`.
///
/// ```
/// assert_eq!(asyncio_rs::demos::Kind::Tasks.to_string(), "tokio tasks");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// tokio tasks ([`tasks_vs_threads::sleeping_tasks`], [`network::tasks`]).
    Tasks,
    /// OS threads ([`tasks_vs_threads::sleeping_threads`], [`network::threads`]).
    Threads,
    /// Python asyncio tasks.
    Asyncio,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Tasks => "tokio tasks",
            Kind::Threads => "threads",
            Kind::Asyncio => "asyncio tasks",
        })
    }
}
