//! The first demo of the notebook (cells `In [2]` to `In [4]`): three calls of
//! `count()` that each print `One`, wait a second, and print `Two`.
//!
//! [`main`] runs the three calls concurrently with `tokio::join!`, the
//! counterpart of `asyncio.gather`, and takes one second. [`blocking`] is the
//! synchronous contrast of `In [4]`, which takes three. [`main_recorded`] and
//! [`blocking::main_recorded`] run them again on a [`Timeline`], one lane per
//! call, printing the same lines.
//!
//! ```
//! use asyncio_rs::{demos::count, runtime::Runtime, timing::timed};
//! use std::time::Duration;
//!
//! let rt = Runtime::paused().unwrap();
//! let ((), elapsed) = rt.run(timed(count::main())); // One One One Two Two Two
//! assert_eq!(elapsed, Duration::from_secs(1));
//! ```

use std::time::Duration;

use tokio::time::sleep;

use crate::timeline::{Recorder, Timeline};

/// Prints `One`, sleeps for a second without blocking the thread, prints `Two`.
///
/// The `.await` is where the task tells the runtime "I am waiting; run
/// something else": the stand-in for any slow but non-blocking call.
pub async fn count() {
    println!("One");
    sleep(Duration::from_secs(1)).await;
    println!("Two");
}

/// Runs three `count()` calls concurrently on the current task.
pub async fn main() {
    tokio::join!(count(), count(), count());
}

/// [`main`], with each `count()` call on a lane of a timeline: prints the
/// same lines in the same order, and returns the picture. Three waits side by
/// side.
///
/// ```
/// use asyncio_rs::{demos::count, runtime::Runtime};
/// use std::time::Duration;
///
/// let rt = Runtime::paused().unwrap();
/// let timeline = rt.run(count::main_recorded()); // One One One Two Two Two
/// for call in timeline.tracks() {
///     assert_eq!(call.waits().collect::<Vec<_>>(), [Duration::ZERO..Duration::from_secs(1)]);
/// }
/// ```
pub async fn main_recorded() -> Timeline {
    let recorder = Recorder::new();
    tokio::join!(
        recorder.trace("count() #1", count()),
        recorder.trace("count() #2", count()),
        recorder.trace("count() #3", count()),
    );
    recorder.timeline()
}

/// The synchronous version of `In [4]`: the same names, blocking sleeps.
pub mod blocking {
    use std::thread::sleep;
    use std::time::Duration;

    use crate::timeline::{Recorder, Timeline};

    /// Prints `One`, blocks the thread for a second, prints `Two`.
    pub fn count() {
        println!("One");
        sleep(Duration::from_secs(1));
        println!("Two");
    }

    /// Calls `count()` three times, one after the other.
    pub fn main() {
        for _ in 0..3 {
            count();
        }
    }

    /// [`main`], with each `count()` call on a lane of a timeline, on the
    /// real clock: prints the same lines and returns the picture. Each call
    /// holds the thread for its whole second, so to the event loop it is one
    /// long run, and the next call starts when it ends.
    pub fn main_recorded() -> Timeline {
        let recorder = Recorder::new();
        for call in 1..=3 {
            let lane = recorder.lane(format!("count() #{call}"));
            lane.run();
            count();
            lane.finish();
        }
        recorder.timeline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use crate::timeline::{Event, Kind};

    #[test]
    fn the_recorded_concurrent_counts_wait_side_by_side() {
        let rt = Runtime::paused().unwrap();
        let timeline = rt.run(main_recorded());
        let names: Vec<&str> = timeline.tracks().iter().map(|t| t.name()).collect();
        assert_eq!(names, ["count() #1", "count() #2", "count() #3"]);
        let at = |secs, kind| Event {
            at: Duration::from_secs(secs),
            kind,
        };
        for track in timeline.tracks() {
            assert_eq!(
                track.events(),
                [
                    at(0, Kind::Run),
                    at(0, Kind::Wait),
                    at(1, Kind::Wake),
                    at(1, Kind::Run),
                    at(1, Kind::Finish)
                ]
            );
        }
        assert_eq!(timeline.end(), Duration::from_secs(1));
    }

    #[test]
    fn the_recorded_blocking_counts_run_one_after_the_other() {
        // The real clock: a blocking sleep cannot be virtual. Only lower
        // bounds are checked, which a sleep guarantees.
        let timeline = blocking::main_recorded();
        let runs: Vec<_> = timeline.tracks().iter().flat_map(|t| t.runs()).collect();
        assert_eq!(runs.len(), 3);
        for pair in runs.windows(2) {
            assert!(pair[1].start >= pair[0].end, "{runs:?}");
        }
        for run in &runs {
            assert!(run.end - run.start >= Duration::from_secs(1), "{runs:?}");
        }
        assert!(timeline.tracks().iter().all(|t| t.waits().count() == 0));
    }
}
