//! The original's `scripts/asyncio_multiprocessing.py` idea: a pool of worker
//! processes, each with its own event loop, mapping an async function over
//! inputs. Here the function is CPU-bound (SHA-256 over 64 KiB, `--rounds`
//! times per item), so the time shows what a second process buys.
//!
//! ```text
//! cargo run --release --example asyncio_multiprocessing
//! cargo run --release --example asyncio_multiprocessing -- --python   # and aiomultiprocess
//! cargo run --release --example asyncio_multiprocessing -- --items 4 --rounds 10 --repeat 1
//! ```
//!
//! Each figure is the best of `--repeat` runs (3, 1 and 2 processes taken in
//! turn), pool start-up and worker fork included. `--child-concurrency` (16,
//! aiomultiprocess's default) is how many items each process runs at once.
//! With `--python` the same workload runs under aiomultiprocess
//! (`examples/asyncio_multiprocessing.py`, with `.venv/bin/python` from
//! `make setup`), whose digests must match ours.

use asyncio_rs::demos::multiprocessing::{answer, digest};
use asyncio_rs::pool::Pool;
use asyncio_rs::runtime::run;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// The job: an async function, as aiomultiprocess maps, whose work is CPU.
async fn work(n: u32, rounds: u32) -> String {
    tokio::task::yield_now().await;
    digest(&answer(n), rounds)
}

struct Options {
    items: u32,
    rounds: u32,
    repeat: u32,
    child_concurrency: u32,
    python: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        items: 16,
        rounds: 2000,
        repeat: 3,
        child_concurrency: 16,
        python: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u32, String> {
            args.next()
                .and_then(|value| value.parse().ok())
                .filter(|&value| value > 0)
                .ok_or(format!("{name} needs a positive whole number"))
        };
        match arg.as_str() {
            "--items" => options.items = number("--items")?,
            "--rounds" => options.rounds = number("--rounds")?,
            "--repeat" => options.repeat = number("--repeat")?,
            "--child-concurrency" => options.child_concurrency = number("--child-concurrency")?,
            "--python" => options.python = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --items, --rounds, --repeat, --child-concurrency, --python)"
                ));
            }
        }
    }
    Ok(options)
}

/// The time of one map over a fresh pool of `processes`, and the digests.
fn timed_map(processes: usize, options: &Options) -> Result<(Duration, Vec<String>), String> {
    let start = Instant::now();
    let pool = Pool::builder()
        .processes(processes)
        .child_concurrency(options.child_concurrency as usize)
        .build()
        .map_err(|error| error.to_string())?;
    let rounds = options.rounds;
    let results = run(pool.map(0..options.items, move |n| work(n, rounds)));
    let elapsed = start.elapsed();
    let digests = results
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|error| error.to_string())?;
    Ok((elapsed, digests))
}

/// The best times on 1 and 2 processes over `repeat` rounds, taken in turn
/// so that both see the same moments of a busy machine; and the digests.
fn best_times(options: &Options) -> Result<(Duration, Duration, Vec<String>), String> {
    let (mut one, mut two, mut digests) = (Duration::MAX, Duration::MAX, Vec::new());
    for _ in 0..options.repeat {
        let (elapsed, on_one) = timed_map(1, options)?;
        one = one.min(elapsed);
        let (elapsed, on_two) = timed_map(2, options)?;
        two = two.min(elapsed);
        if on_one != on_two {
            return Err("1 and 2 processes computed different digests".into());
        }
        digests = on_two;
    }
    Ok((one, two, digests))
}

/// Runs the same workload under aiomultiprocess: (seconds for 1 and 2
/// processes, digests).
fn python(options: &Options) -> Result<(f64, f64, Vec<String>), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let interpreter = root.join(".venv/bin/python");
    if !interpreter.exists() {
        return Err(format!(
            "{} is missing: run `make setup` first",
            interpreter.display()
        ));
    }
    let output = Command::new(&interpreter)
        .arg(root.join("examples/asyncio_multiprocessing.py"))
        .args(["--items", &options.items.to_string()])
        .args(["--rounds", &options.rounds.to_string()])
        .args(["--repeat", &options.repeat.to_string()])
        .args([
            "--child-concurrency",
            &options.child_concurrency.to_string(),
        ])
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
    let seconds = |processes: &str| {
        report["seconds"][processes]
            .as_f64()
            .ok_or("no time in the Python report")
    };
    let digests = report["digests"]
        .as_array()
        .map(|digests| {
            digests
                .iter()
                .filter_map(|digest| digest.as_str().map(String::from))
                .collect()
        })
        .ok_or("no digests in the Python report")?;
    Ok((seconds("1")?, seconds("2")?, digests))
}

fn main() -> ExitCode {
    match report() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn report() -> Result<(), String> {
    let options = options()?;
    println!(
        "{} items, SHA-256 over 64 KiB {} times each, up to {} at once per process, best of {}:",
        options.items, options.rounds, options.child_concurrency, options.repeat
    );
    let (one, two, digests) = best_times(&options)?;
    println!("  asyncio_rs pool, 1 process:   {:.3} s", one.as_secs_f64());
    println!("  asyncio_rs pool, 2 processes: {:.3} s", two.as_secs_f64());
    println!(
        "  speed-up with 2 processes: {:.2}x",
        one.as_secs_f64() / two.as_secs_f64()
    );
    if options.python {
        let (python_one, python_two, python_digests) = python(&options)?;
        if python_digests != digests {
            return Err("aiomultiprocess computed different digests".into());
        }
        println!("  aiomultiprocess, 1 process:   {python_one:.3} s");
        println!("  aiomultiprocess, 2 processes: {python_two:.3} s");
        println!(
            "  aiomultiprocess speed-up with 2 processes: {:.2}x",
            python_one / python_two
        );
        println!(
            "  aiomultiprocess / asyncio_rs, 2 processes: {:.2}x (same digests)",
            python_two / two.as_secs_f64()
        );
    }
    Ok(())
}
