//! The makerandom demo as a script: what the notebook's `In [9]` and
//! `In [10]` print, for any seed.
//!
//! ```text
//! cargo run --example makerandom                        # seed 444, about 12 s
//! cargo run --example makerandom -- --seed 7 --virtual-time
//! cargo run --example makerandom -- --timeline   # then a chart of the three tasks
//! ```
//!
//! Colours follow the environment (`NO_COLOR`, a terminal, `CLICOLOR_FORCE`).

use std::process::ExitCode;

use asyncio_rs::colors::Palette;
use asyncio_rs::demos::makerandom;
use asyncio_rs::random::{Seed, SharedRandom};
use asyncio_rs::runtime::Runtime;

fn main() -> ExitCode {
    let mut seed = Seed::from(444);
    let mut virtual_time = false;
    let mut timeline = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--virtual-time" => virtual_time = true,
            "--timeline" => timeline = true,
            // Any integer, of any size, as Python's `int` reads it.
            "--seed" => match args.next().map(|value| Seed::int(&value)) {
                Some(Ok(value)) => seed = value,
                Some(Err(error)) => return usage(&format!("--seed takes an integer: {error}")),
                None => return usage("--seed takes an integer"),
            },
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }

    let rt = match if virtual_time {
        Runtime::paused()
    } else {
        Runtime::new()
    } {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let random = SharedRandom::new(seed);
    let c = Palette::new();
    let outcome = if timeline {
        rt.run_paced(makerandom::main_recorded(random, c))
            .map(|(numbers, timeline)| (numbers, Some(timeline)))
    } else {
        rt.run_paced(makerandom::main(random, c))
            .map(|numbers| (numbers, None))
    };
    match outcome {
        Ok(([r1, r2, r3], timeline)) => {
            println!();
            println!("r1: {r1}, r2: {r2}, r3: {r3}");
            if let Some(timeline) = timeline {
                println!();
                println!("{}", timeline.text(c.enabled()));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}");
    eprintln!("usage: makerandom [--seed N] [--virtual-time] [--timeline]");
    ExitCode::from(2)
}
