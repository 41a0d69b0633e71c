//! What the notebook shim costs, measured on this machine:
//!
//! ```text
//! cargo run --release --example overhead
//! ```
//!
//! Each figure is the best of five rounds, per operation: handing a future to
//! the event loop and waiting for it, spawning a task and collecting it, and
//! building a fresh runtime for every call (`asyncio.run`'s way).

use std::time::{Duration, Instant};

use asyncio_rs::runtime::{self, Runtime};

/// The best of five rounds of `ops` operations, per operation.
fn best_of_five(ops: u32, mut round: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            round();
            start.elapsed() / ops
        })
        .min()
        .expect("five rounds")
}

fn main() -> std::io::Result<()> {
    let rt = Runtime::new()?;

    let per_run = best_of_five(10_000, || {
        for _ in 0..10_000 {
            rt.run(async {});
        }
    });
    println!("Runtime::run, an empty future:            {per_run:>10.2?}");

    let per_spawn = best_of_five(10_000, || {
        for _ in 0..10_000 {
            let task = rt.spawn(async {});
            rt.run(task).expect("the task finishes");
        }
    });
    println!("Runtime::spawn, then run(handle):         {per_spawn:>10.2?}");

    let per_fresh = best_of_five(200, || {
        for _ in 0..200 {
            runtime::run(async {});
        }
    });
    println!("runtime::run (a new runtime each call):   {per_fresh:>10.2?}");

    Ok(())
}
