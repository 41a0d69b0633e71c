//! "The main disadvantage of async IO is that `await` only supports a
//! specific set of objects": in Rust, only futures can be awaited, and
//! nothing stops an `async fn` from calling ordinary blocking code instead.
//! It compiles, and it blocks the thread that polls it.
//!
//! [`stalled`] is `count()` of `In [2]` with the blocking sleep of `In [4]`:
//! gathered three times on our one-thread event loop it takes three seconds,
//! not one, because while one task sleeps no other task can run.
//! [`offloaded`] hands the same blocking sleep to tokio's blocking pool with
//! `tokio::task::spawn_blocking`, which returns a future; the three then take
//! one second again.
//!
//! ```
//! use asyncio_rs::demos::blocking_in_async::{offloaded, stalled};
//! use asyncio_rs::{runtime::Runtime, timing::{executed_in, timed}};
//!
//! let rt = Runtime::new().unwrap();
//! let ((), elapsed) = rt.run(timed(stalled::main())); // One Two One Two One Two
//! println!("{}", executed_in(elapsed)); // Executed in  3.00s
//! let ((), elapsed) = rt.run(timed(offloaded::main())); // One One One Two Two Two
//! println!("{}", executed_in(elapsed)); // Executed in  1.00s
//! ```
//!
//! On a multi-thread runtime a blocking call stalls only the worker thread
//! that runs it; the other workers go on with other tasks. With two workers,
//! three gathered tasks that each block for a second take two seconds: two
//! at a time.

/// `count()` with a blocking sleep inside: the event loop stalls.
pub mod stalled {
    use std::time::Duration;

    use crate::gather::gather;

    /// Prints `One`, blocks the thread for a second, prints `Two`. An
    /// `async fn`, but with nothing to `.await`: no other task can run in
    /// the meantime on the thread that polls it.
    pub async fn count() {
        println!("One");
        std::thread::sleep(Duration::from_secs(1));
        println!("Two");
    }

    /// Three `count()`s as three tasks, as `asyncio.gather` runs them: on one
    /// thread they run one after the other.
    pub async fn main() {
        gather([count(), count(), count()]).await;
    }
}

/// `count()` with the blocking sleep moved to tokio's blocking pool.
pub mod offloaded {
    use std::time::Duration;

    use tokio::task::spawn_blocking;

    use crate::gather::gather;

    /// Prints `One`, runs a blocking one-second sleep on a thread of tokio's
    /// blocking pool and awaits it, prints `Two`. While it waits, other
    /// tasks run.
    pub async fn count() {
        println!("One");
        spawn_blocking(|| std::thread::sleep(Duration::from_secs(1)))
            .await
            .expect("the blocking sleep does not panic");
        println!("Two");
    }

    /// Three `count()`s as three tasks: their sleeps overlap.
    pub async fn main() {
        gather([count(), count(), count()]).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use crate::timing::timed;
    use std::time::{Duration, Instant};

    #[test]
    fn tokio_s_clock_does_not_see_a_thread_s_sleep() {
        // On the paused clock, time moves only when tokio's own timers make
        // it; three seconds of blocked thread are none of its business.
        let rt = Runtime::paused().unwrap();
        let real = Instant::now();
        let ((), on_tokio_s_clock) = rt.run(timed(stalled::main()));
        assert_eq!(on_tokio_s_clock, Duration::ZERO);
        // A thread sleeps at least as long as asked.
        assert!(real.elapsed() >= Duration::from_secs(3));
    }
}
