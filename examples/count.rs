//! The count demo as a script: what the notebook's `In [3]` and `In [4]`
//! print, where Python would call `asyncio.run(main())`.
//!
//! ```text
//! cargo run --example count                   # real clock: about 4 s
//! cargo run --example count -- --virtual-time # paused clock: instant
//! ```
//!
//! With `--virtual-time` the concurrent part runs on tokio's paused clock and
//! the blocking part is skipped (a thread's sleep cannot be virtual).

use std::time::Instant;

use asyncio_rs::demos::count::{self, blocking};
use asyncio_rs::runtime::Runtime;
use asyncio_rs::timing::{executed_in, timed};

fn main() -> std::io::Result<()> {
    let virtual_time = std::env::args().any(|arg| arg == "--virtual-time");

    // In [3]: three concurrent counts take one second.
    let rt = if virtual_time {
        Runtime::paused()?
    } else {
        Runtime::new()?
    };
    let ((), elapsed) = rt.run(timed(count::main()));
    println!("{}", executed_in(elapsed));

    // In [4]: three blocking counts take three.
    if !virtual_time {
        let s = Instant::now();
        blocking::main();
        println!("{}", executed_in(s.elapsed()));
    }
    Ok(())
}
