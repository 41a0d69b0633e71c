//! Blocking code in an `async fn`, as a script: three gathered `count()`s
//! whose sleep is `std::thread::sleep` take three seconds on one event loop;
//! with `tokio::task::spawn_blocking` they take one.
//!
//! ```text
//! cargo run --example blocking_in_async   # about 4 s
//! ```
//!
//! The clock is the real one: a thread's sleep cannot be skipped by tokio's
//! paused clock, and is not even seen by it.

use asyncio_rs::demos::blocking_in_async::{offloaded, stalled};
use asyncio_rs::runtime::Runtime;
use asyncio_rs::timing::{executed_in, timed};

fn main() -> std::io::Result<()> {
    let rt = Runtime::new()?;
    let ((), elapsed) = rt.run(timed(stalled::main()));
    println!("{}", executed_in(elapsed));
    let ((), elapsed) = rt.run(timed(offloaded::main()));
    println!("{}", executed_in(elapsed));
    Ok(())
}
