//! The fire-and-forget demo as a script: 100,000 lines written by 1,000
//! writers to one file (tokio tasks through a task that owns the file, OS
//! threads with a lock, OS threads through a thread that owns it), read back
//! and checked; 100,000 updates of one counter (tasks with no lock, threads
//! with a `Mutex`); and the updates an `.await` between read and write loses,
//! on the paused clock.
//!
//! ```text
//! cargo run --release --example fire_and_forget
//! cargo run --release --example fire_and_forget -- --python   # and CPython's counters
//! ```
//!
//! With `--python` the same counters run under CPython
//! (`examples/fire_and_forget.py`, with `.venv/bin/python` from `make setup`,
//! or `python3`): asyncio tasks with no lock, threads with a
//! `threading.Lock`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use asyncio_rs::demos::fire_and_forget::{self, Update};
use asyncio_rs::display::thousands;
use asyncio_rs::runtime::Runtime;

const WRITERS: usize = 1_000;
const LINES_EACH: usize = 100;
const WORKERS: usize = 100;
const UPDATES_EACH: usize = 1_000;

fn main() -> ExitCode {
    let mut python = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--python" => python = true,
            other => {
                eprintln!("error: unknown argument {other:?}");
                eprintln!("usage: fire_and_forget [--python]");
                return ExitCode::from(2);
            }
        }
    }
    match report(python) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn report(python: bool) -> Result<(), String> {
    let rt = Runtime::new().map_err(|error| error.to_string())?;
    let writes = fire_and_forget::compare_writes(&rt, WRITERS, LINES_EACH)
        .map_err(|error| format!("writing the file: {error}"))?;
    println!("{writes}\n");
    if let Some(row) = writes.rows.iter().find(|row| !row.check.is_complete()) {
        return Err(format!(
            "{} lost or tore lines: {:?}",
            row.handing_to, row.check
        ));
    }
    let counts = fire_and_forget::compare_counts(WORKERS, UPDATES_EACH)
        .map_err(|error| format!("counting: {error}"))?;
    println!("{counts}");
    if python {
        for (name, sharing, seconds, count) in cpython()? {
            println!(
                "{name:<14} {sharing:<26} {seconds:>7.3} {:>9}",
                thousands(count)
            );
        }
    }
    println!();
    println!("On the paused clock, 1 ms of IO between the read and the write:");
    for update in [
        Update::ReadAwaitWrite,
        Update::ReadWriteAwait,
        Update::LockedAcross,
    ] {
        let race = fire_and_forget::race(update, 10, 100).map_err(|error| error.to_string())?;
        println!("  {race}");
    }
    Ok(())
}

/// The counters under CPython: (writers as, sharing as, seconds, count) for
/// asyncio and for threading.
fn cpython() -> Result<Vec<(&'static str, &'static str, f64, u64)>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join(".venv/bin/python");
    let interpreter = if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let output = Command::new(&interpreter)
        .arg(root.join("examples/fire_and_forget.py"))
        .args(["--workers", &WORKERS.to_string()])
        .args(["--updates", &UPDATES_EACH.to_string()])
        .output()
        .map_err(|error| format!("could not run {}: {error}", interpreter.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the Python run failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("unreadable Python report: {error}"))?;
    let row = |key: &str, name, sharing| {
        let seconds = report[key]["seconds"].as_f64();
        let count = report[key]["count"].as_u64();
        match (seconds, count) {
            (Some(seconds), Some(count)) => Ok((name, sharing, seconds, count)),
            _ => Err(format!("no {key} figures in the Python report")),
        }
    };
    Ok(vec![
        row("asyncio", "Python tasks", "an int, no lock")?,
        row("threading", "Python threads", "threading.Lock")?,
    ])
}
