//! The first demo of the notebook (cells `In [2]` to `In [4]`): three calls of
//! `count()` that each print `One`, wait a second, and print `Two`.
//!
//! [`main`] runs the three calls concurrently with `tokio::join!`, the
//! counterpart of `asyncio.gather`, and takes one second. [`blocking`] is the
//! synchronous contrast of `In [4]`, which takes three.
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

/// The synchronous version of `In [4]`: the same names, blocking sleeps.
pub mod blocking {
    use std::thread::sleep;
    use std::time::Duration;

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
}
