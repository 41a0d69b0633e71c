//! Starting many OS threads at once, the way every demo that sets threads
//! against tokio tasks starts them: one by one, stopping at the first that
//! the system refuses, then joining every thread started.
//!
//! A refused thread is not the end of the demo: the threads already running
//! still hold their work (a client's connection, a writer's lines), so they
//! are joined before the refusal is reported, and nothing is left running.
//! In the notebook's kernel a line says, at most once a second, how many
//! threads have started ([`Progress`]); joining them takes little longer
//! than their own work.
//! Jupyter's interrupt is asked between two starts ([`interrupt::requested`]):
//! a press starts no more, joins those started, then ends the cell with
//! `KeyboardInterrupt` ([`interrupt::checkpoint`]), without the message for
//! blocking code, since this code stops by itself.
//!
//! ```
//! use asyncio_rs::threads::start_and_join;
//!
//! let joined = start_and_join(4, |i| move || i * 10);
//! assert!(joined.refused.is_none());
//! let results: Vec<usize> = joined.results.into_iter().map(Result::unwrap).collect();
//! assert_eq!(results, [0, 10, 20, 30]);
//! ```

use std::io;
use std::thread;

use crate::display::thousands;
use crate::interrupt;
use crate::progress::Progress;

/// What [`start_and_join`] did.
#[derive(Debug)]
pub struct Joined<T> {
    /// The result of each thread started, in the order started: `Err` with
    /// the panic's payload for a thread that panicked.
    pub results: Vec<thread::Result<T>>,
    /// Why the system refused the next thread, if it refused one: none was
    /// started after it.
    pub refused: Option<io::Error>,
}

impl<T> Joined<T> {
    /// How many threads started (and were joined).
    pub fn started(&self) -> usize {
        self.results.len()
    }

    /// The threads' results, or the refusal, or, if a thread panicked, an
    /// error saying that `who` panicked.
    ///
    /// ```
    /// let joined = asyncio_rs::threads::start_and_join(2, |i| move || {
    ///     assert_eq!(i, 0, "thread 1 panics");
    /// });
    /// let error = joined.into_results("a worker thread").unwrap_err();
    /// assert_eq!(error.to_string(), "a worker thread panicked");
    /// ```
    pub fn into_results(self, who: &str) -> io::Result<Vec<T>> {
        if let Some(error) = self.refused {
            return Err(error);
        }
        (self.results.into_iter())
            .map(|result| result.map_err(|_| io::Error::other(format!("{who} panicked"))))
            .collect()
    }
}

/// Starts `count` OS threads, the `i`th running `work(i)`, one after the
/// other, and joins them all. Stops starting at the first thread the system
/// refuses, or when the reader presses interrupt; joins the threads started
/// either way, then ends the cell if the reader pressed interrupt.
///
/// It does not check the limits on threads: a Rust process that crosses
/// `vm.max_map_count` aborts before `spawn` can return an error, so a caller
/// that starts thousands of threads asks [`crate::limits`] first how many fit.
pub fn start_and_join<T, W>(count: usize, mut work: impl FnMut(usize) -> W) -> Joined<T>
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
{
    let checking = interrupt::checking();
    let mut progress = Progress::new();
    let mut running = Vec::with_capacity(count);
    let mut refused = None;
    for i in 0..count {
        // Jupyter's interrupt: start no more, join those started, then stop.
        if interrupt::requested() {
            break;
        }
        match thread::Builder::new().spawn(work(i)) {
            Ok(handle) => running.push(handle),
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
        progress.tick(|| {
            format!(
                "threads: {} of {} started",
                thousands(i as u64 + 1),
                thousands(count as u64)
            )
        });
    }
    let results = running.into_iter().map(|handle| handle.join()).collect();
    drop(checking);
    interrupt::checkpoint();
    Joined { results, refused }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_thread_runs_once_and_is_joined_before_the_results_return() {
        let finished = Arc::new(AtomicUsize::new(0));
        let joined = start_and_join(50, |i| {
            let finished = Arc::clone(&finished);
            move || {
                std::thread::sleep(std::time::Duration::from_millis(5));
                finished.fetch_add(1, Ordering::SeqCst);
                i
            }
        });
        assert_eq!(finished.load(Ordering::SeqCst), 50);
        assert_eq!(joined.started(), 50);
        assert_eq!(
            joined.into_results("a thread").unwrap(),
            (0..50).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_panic_is_a_result_of_its_own_and_the_others_still_run() {
        let joined = start_and_join(3, |i| move || if i == 1 { panic!("thread 1") } else { i });
        let results: Vec<bool> = joined.results.iter().map(Result::is_ok).collect();
        assert_eq!(results, [true, false, true]);
        assert_eq!(
            joined
                .into_results("a client thread")
                .unwrap_err()
                .to_string(),
            "a client thread panicked"
        );
    }

    #[test]
    fn none_starts_none() {
        let joined = start_and_join(0, |_| || ());
        assert_eq!((joined.started(), joined.refused.is_none()), (0, true));
    }
}
