//! Part 2, no lock: tasks on one thread share a counter as `Rc<RefCell<_>>`
//! ([`local_count`]); threads need `Arc<Mutex<_>>` ([`threads_count`]).
//! [`compare_counts`] times both.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::{JoinSet, yield_now};

use super::{on_one_thread, on_threads};
use crate::display::{self, thousands};

/// `workers` tasks each add 1 to one counter `updates_each` times, sharing
/// it as `Rc<RefCell<u64>>`, with no lock, yielding after each update so
/// that they take turns. No update is lost: a task gives up the thread only
/// at an `.await`, and there is none inside an update. Run it on a
/// `LocalSet` ([`on_one_thread`]); returns the count.
///
/// ```
/// use asyncio_rs::demos::fire_and_forget::{local_count, on_one_thread};
///
/// assert_eq!(on_one_thread(false, local_count(10, 100)).unwrap(), 1_000);
/// ```
pub async fn local_count(workers: usize, updates_each: usize) -> u64 {
    let count = Rc::new(RefCell::new(0));
    let mut running = JoinSet::new();
    for _ in 0..workers {
        let count = Rc::clone(&count);
        running.spawn_local(async move {
            for _ in 0..updates_each {
                *count.borrow_mut() += 1;
                yield_now().await;
            }
        });
    }
    running.join_all().await;
    *count.borrow()
}

/// `workers` OS threads each add 1 to one counter `updates_each` times,
/// sharing it as `Arc<Mutex<u64>>`: threads run at the same time, so each
/// update takes the lock. Returns the count, or an error if the system
/// refuses a thread.
///
/// ```
/// assert_eq!(asyncio_rs::demos::fire_and_forget::threads_count(10, 100).unwrap(), 1_000);
/// ```
pub fn threads_count(workers: usize, updates_each: usize) -> io::Result<u64> {
    let count = Arc::new(Mutex::new(0));
    on_threads(workers, |_| {
        let count = Arc::clone(&count);
        move || {
            for _ in 0..updates_each {
                *count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            }
            Ok(())
        }
    })?;
    let count = *count.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(count)
}

/// One row of [`Counts`]: the count reached and the time it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The counter at the end.
    pub count: u64,
    /// From the first worker's start to the last one's end.
    pub elapsed: Duration,
}

/// [`compare_counts`]'s table. Under evcxr a cell that ends with it shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// How many workers each row had.
    pub workers: usize,
    /// How many updates each worker made.
    pub updates_each: usize,
    /// [`local_count`]: tokio tasks, `Rc<RefCell<u64>>`, no lock.
    pub tasks: Counted,
    /// [`threads_count`]: OS threads, `Arc<Mutex<u64>>`.
    pub threads: Counted,
}

impl Counts {
    /// evcxr's display protocol: the table as `text/plain`.
    pub fn evcxr_display(&self) {
        display::evcxr_text(self);
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} updates of one counter: {} workers, {} updates each",
            thousands((self.workers * self.updates_each) as u64),
            thousands(self.workers as u64),
            thousands(self.updates_each as u64),
        )?;
        writeln!(f)?;
        write!(
            f,
            "{:<14} {:<26} {:>7} {:>9}",
            "workers as", "sharing the counter as", "seconds", "count"
        )?;
        let rows = [
            ("tokio tasks", "Rc<RefCell<u64>>, no lock", self.tasks),
            ("OS threads", "Arc<Mutex<u64>>", self.threads),
        ];
        for (name, sharing, row) in rows {
            write!(
                f,
                "\n{:<14} {:<26} {:>7.3} {:>9}",
                name,
                sharing,
                row.elapsed.as_secs_f64(),
                thousands(row.count)
            )?;
        }
        Ok(())
    }
}

/// Times [`local_count`] (on a one-thread runtime of its own) and
/// [`threads_count`], each with `workers` workers of `updates_each` updates.
///
/// # Errors
///
/// A runtime or a thread that the system refuses.
pub fn compare_counts(workers: usize, updates_each: usize) -> io::Result<Counts> {
    let start = Instant::now();
    let count = on_one_thread(false, local_count(workers, updates_each))?;
    let tasks = Counted {
        count,
        elapsed: start.elapsed(),
    };
    let start = Instant::now();
    let count = threads_count(workers, updates_each)?;
    let threads = Counted {
        count,
        elapsed: start.elapsed(),
    };
    Ok(Counts {
        workers,
        updates_each,
        tasks,
        threads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_without_a_lock_and_threads_with_one_lose_no_update() {
        let counts = compare_counts(100, 1_000).unwrap();
        assert_eq!(counts.tasks.count, 100_000);
        assert_eq!(counts.threads.count, 100_000);
        let table = counts.to_string();
        assert!(
            table.starts_with("100,000 updates of one counter: 100 workers, 1,000 updates each"),
            "{table}"
        );
        assert!(
            table.contains("\ntokio tasks    Rc<RefCell<u64>>, no lock"),
            "{table}"
        );
        assert!(
            table.contains("\nOS threads     Arc<Mutex<u64>>"),
            "{table}"
        );
    }
}
