//! `gather`: the counterpart of `asyncio.gather` for tokio.
//!
//! `asyncio.gather(*coros)` wraps each coroutine in a task and returns the
//! results in the order the coroutines were given. [`gather`] does the same
//! with tokio tasks. Being separate tasks matters when several of them wake at
//! the same instant: the one that went to sleep first runs first, as on
//! asyncio's loop, whereas `tokio::join!` polls its branches in a rotating
//! order. On a paused clock, where such ties are exact, that keeps the output
//! of the makerandom demo identical to Python's.
//!
//! ```
//! use asyncio_rs::{gather::gather, runtime::Runtime};
//!
//! let rt = Runtime::paused().unwrap();
//! let squares = rt.run(gather((1..=3).map(|n| async move { n * n })));
//! assert_eq!(squares, [1, 4, 9]);
//! ```

use std::future::Future;
use std::panic;

use tokio::task::JoinSet;

/// Runs every future as its own task and returns their outputs in order.
///
/// Must be called within a tokio runtime. If a task panics, the panic is
/// raised again here; dropping the returned future cancels the tasks still
/// running, as cancelling a gather does in Python.
pub async fn gather<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Each task returns its index with its output, so that it goes straight
    // to its slot, whatever order the tasks finish in.
    let mut tasks = JoinSet::new();
    let mut outputs: Vec<Option<F::Output>> = Vec::new();
    for (index, future) in futures.into_iter().enumerate() {
        tasks.spawn(async move { (index, future.await) });
        outputs.push(None);
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, output)) => outputs[index] = Some(output),
            Err(error) if error.is_panic() => panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("a gathered task was cancelled: {error}"),
        }
    }
    outputs
        .into_iter()
        .map(|output| output.expect("every task has finished"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::time::sleep;

    #[test]
    fn results_come_in_call_order_not_finish_order() {
        let rt = Runtime::paused().unwrap();
        let got = rt.run(gather([3u64, 1, 2].map(|secs| async move {
            sleep(Duration::from_secs(secs)).await;
            secs
        })));
        assert_eq!(got, [3, 1, 2]);
    }

    #[test]
    fn many_tasks_finishing_in_reverse_come_back_in_call_order() {
        let rt = Runtime::paused().unwrap();
        let got = rt.run(gather((0..10_000u64).map(|n| async move {
            sleep(Duration::from_millis(10_000 - n)).await;
            n
        })));
        assert_eq!(got, (0..10_000).collect::<Vec<u64>>());
    }

    #[test]
    fn equal_wake_ups_run_in_the_order_they_went_to_sleep() {
        let rt = Runtime::paused().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = |name: &'static str, naps: Vec<u64>| {
            let log = Arc::clone(&log);
            async move {
                for secs in naps {
                    sleep(Duration::from_secs(secs)).await;
                    log.lock().unwrap().push(name);
                }
            }
        };
        // At t = 2 both wake: "slow" went to sleep at t = 0, "fast" at t = 1.
        rt.run(gather([task("fast", vec![1, 1]), task("slow", vec![2])]));
        assert_eq!(*log.lock().unwrap(), ["fast", "slow", "fast"]);
    }

    #[test]
    fn a_panic_in_a_task_reaches_the_caller() {
        let rt = Runtime::paused().unwrap();
        let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
            rt.run(gather([async { panic!("task failed") }]))
        }));
        assert!(caught.is_err());
    }
}
