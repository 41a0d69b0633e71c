//! Timing a demo the way the notebook does: `perf_counter()` before and after,
//! then `print(f"Executed in {elapsed: .2f}s")`.
//!
//! Python's format spec `" .2f"` puts a space where a minus sign would go, so
//! one second prints as `Executed in  1.00s`, with two spaces. Rust's
//! formatter has no such flag; [`executed_in`] adds the space.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The line the notebook prints after a timed demo.
///
/// ```
/// use std::time::Duration;
/// use asyncio_rs::timing::executed_in;
///
/// assert_eq!(executed_in(Duration::from_millis(1004)), "Executed in  1.00s");
/// assert_eq!(executed_in(Duration::from_millis(12_346)), "Executed in  12.35s");
/// ```
pub fn executed_in(elapsed: Duration) -> String {
    format!("Executed in  {:.2}s", elapsed.as_secs_f64())
}

/// Awaits `future` and measures how long it took, on tokio's clock: real time
/// on a normal runtime, virtual time on a paused one.
///
/// ```
/// use std::time::Duration;
/// use asyncio_rs::{runtime::Runtime, timing::timed};
///
/// let rt = Runtime::paused().unwrap();
/// let nap = async { tokio::time::sleep(Duration::from_secs(3)).await };
/// let ((), elapsed) = rt.run(timed(nap));
/// assert_eq!(elapsed, Duration::from_secs(3));
/// ```
pub async fn timed<F: Future>(future: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let output = future.await;
    (output, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_python() {
        assert_eq!(
            executed_in(Duration::from_millis(3_000)),
            "Executed in  3.00s"
        );
        assert_eq!(
            executed_in(Duration::from_millis(3_054)),
            "Executed in  3.05s"
        );
        assert_eq!(executed_in(Duration::ZERO), "Executed in  0.00s");
    }
}
