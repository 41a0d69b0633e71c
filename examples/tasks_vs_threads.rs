//! The benchmark behind the notebook's "Async IO vs threading": N tokio tasks
//! against M OS threads, each sleeping one second, with wall time and peak
//! memory; optionally the same tasks in Python asyncio.
//!
//! ```text
//! cargo run --release --example tasks_vs_threads -- --tasks 1000000 --threads 10000
//! cargo run --release --example tasks_vs_threads -- --tasks 1e3 1e4 1e5 1e6 --threads 100 1000 30000 --svg chart.svg
//! cargo run --release --example tasks_vs_threads -- --tasks 1e6 --threads 30000 --json --python
//! ```
//!
//! Threads never go past the machine's limits (`asyncio_rs::limits`): asking
//! for more stops short, says which limit stopped it, and exits 0. With
//! `--json` it prints one object, `{"tasks": {"n", "seconds",
//! "peak_rss_bytes"}, "threads": {"requested", "started", "seconds",
//! "peak_rss_bytes", "stopped_because"}}`, each part an array instead when
//! given several values, and `"python"` (like `"tasks"`) with `--python`.
//!
//! Peak memory is each run's own: every run (each N of tasks or threads, and
//! each Python run) is a child process of its own, whose peak resident memory
//! is that run's and nothing else's. (A million tokio tasks leave about
//! 400 MiB with the allocator after they end, which would otherwise sit under
//! whatever ran next in the same process.)

use std::process::{Command, ExitCode, Output};

use clap::Parser;
use serde_json::{Value, json};

use asyncio_rs::demos::Kind;
use asyncio_rs::demos::tasks_vs_threads::{self, Comparison, Row};
use asyncio_rs::memory::Peak;
use asyncio_rs::runtime::Runtime;

/// N sleeping tokio tasks against M sleeping OS threads.
#[derive(Parser)]
#[command(name = "tasks_vs_threads")]
struct Args {
    /// How many tokio tasks (one or more sizes, e.g. 1000 or 1e6).
    #[arg(long, num_args = 1.., value_parser = count, default_values = ["100000"])]
    tasks: Vec<u64>,
    /// How many OS threads (one or more sizes); never more than the limits allow.
    #[arg(long, num_args = 1.., value_parser = count, default_values = ["1000"])]
    threads: Vec<u64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also run the tasks in Python asyncio (python3) and print the ratios.
    #[arg(long)]
    python: bool,
    /// Write the chart (time and memory against N) to this SVG file.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
    /// Run one part in this process and print its row as JSON: how the
    /// example runs each part in a child process of its own.
    #[arg(long, hide = true, value_parser = ["tasks", "threads"])]
    child: Option<String>,
}

/// Python's side: the same N tasks, each `asyncio.sleep(1)`, gathered.
const ASYNCIO: &str = r#"
import asyncio, json, sys, time

async def main(n):
    await asyncio.gather(*(asyncio.sleep(1) for _ in range(n)))

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field))

n = int(sys.argv[1])
before = status("VmRSS:")
start = time.perf_counter()
asyncio.run(main(n))
seconds = time.perf_counter() - start
peak = status("VmHWM:")  # not ru_maxrss, which counts the parent's peak before exec
print(json.dumps({"n": n, "seconds": seconds, "before": before, "peak_rss_bytes": peak}))
"#;

fn main() -> ExitCode {
    let mut args = Args::parse();
    args.tasks.sort_unstable();
    args.threads.sort_unstable();
    let outcome = match args.child.as_deref() {
        Some(part) => child(part, &args),
        None => run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn run(args: &Args) -> Fallible<()> {
    let mut comparison = Comparison::default();
    for &n in &args.threads {
        comparison.rows.push(in_a_child("threads", n)?);
    }
    for &n in &args.tasks {
        comparison.rows.push(in_a_child("tasks", n)?);
    }
    if args.python {
        for &n in &args.tasks {
            comparison.rows.push(asyncio(n)?);
        }
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, comparison.chart().svg()?)?;
    }
    if args.json {
        println!("{}", to_json(&comparison));
    } else {
        println!("{comparison}");
        for line in ratios(&comparison) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The child's side: one run, its row as JSON on stdout.
fn child(part: &str, args: &Args) -> Fallible<()> {
    let row = match part {
        "tasks" => tasks_vs_threads::tasks(&Runtime::new()?, args.tasks[0])?,
        _ => tasks_vs_threads::threads(args.threads[0])?,
    };
    let row = json!({
        "requested": row.requested,
        "started": row.started,
        "seconds": row.seconds,
        "before": row.memory.before,
        "peak": row.memory.peak,
        "stopped_because": row.stopped_because,
    });
    println!("{row}");
    Ok(())
}

/// Runs one part in a child process (this example again, `--child`).
fn in_a_child(part: &str, n: u64) -> Fallible<Row> {
    let output = Command::new(std::env::current_exe()?)
        .args(["--child", part, &format!("--{part}"), &n.to_string()])
        .output()?;
    let row = json_of(output, "the child process")?;
    let field = |name: &str| {
        row[name]
            .as_f64()
            .ok_or(format!("the child gave no {name}"))
    };
    Ok(Row {
        kind: if part == "tasks" {
            Kind::Tasks
        } else {
            Kind::Threads
        },
        requested: field("requested")? as u64,
        started: field("started")? as u64,
        seconds: field("seconds")?,
        memory: Peak {
            before: field("before")? as u64,
            peak: field("peak")? as u64,
        },
        stopped_because: row["stopped_because"].as_str().map(str::to_string),
    })
}

fn json_of(output: Output, what: &str) -> Fallible<Value> {
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Runs the tasks in CPython, in a process of its own.
fn asyncio(n: u64) -> Fallible<Row> {
    let output = Command::new("python3")
        .args(["-c", ASYNCIO, &n.to_string()])
        .output()
        .map_err(|error| format!("could not run python3: {error}"))?;
    let figures = json_of(output, "python3")?;
    let field = |name: &str| {
        figures[name]
            .as_f64()
            .ok_or(format!("python3 gave no {name}"))
    };
    Ok(Row {
        kind: Kind::Asyncio,
        requested: n,
        started: n,
        seconds: field("seconds")?,
        memory: Peak {
            before: field("before")? as u64,
            peak: field("peak_rss_bytes")? as u64,
        },
        stopped_because: None,
    })
}

/// asyncio's time and memory over tokio's, for each N both ran.
fn ratios(comparison: &Comparison) -> Vec<String> {
    let of = |kind: Kind| comparison.rows.iter().filter(move |row| row.kind == kind);
    of(Kind::Tasks)
        .filter_map(|tokio| {
            let python = of(Kind::Asyncio).find(|row| row.requested == tokio.requested)?;
            Some(format!(
                "N = {}: Python asyncio takes {:.1}x the time and {:.1}x the memory of tokio",
                asyncio_rs::display::thousands(tokio.requested),
                python.seconds / tokio.seconds,
                python.memory.peak as f64 / tokio.memory.peak as f64
            ))
        })
        .collect()
}

fn to_json(comparison: &Comparison) -> Value {
    let part = |kind: Kind| {
        let rows: Vec<Value> = (comparison.rows.iter())
            .filter(|row| row.kind == kind)
            .map(|row| match kind {
                Kind::Threads => json!({
                    "requested": row.requested,
                    "started": row.started,
                    "seconds": row.seconds,
                    "peak_rss_bytes": row.memory.peak,
                    "stopped_because": row.stopped_because,
                }),
                Kind::Tasks | Kind::Asyncio => json!({
                    "n": row.started,
                    "seconds": row.seconds,
                    "peak_rss_bytes": row.memory.peak,
                }),
            })
            .collect();
        match <[Value; 1]>::try_from(rows) {
            Ok([one]) => one,
            Err(rows) => Value::Array(rows),
        }
    };
    let mut object = json!({ "tasks": part(Kind::Tasks), "threads": part(Kind::Threads) });
    if comparison.rows.iter().any(|row| row.kind == Kind::Asyncio) {
        object["python"] = part(Kind::Asyncio);
    }
    object
}

/// A count: `1000`, `1_000` or `1e3`.
fn count(text: &str) -> Result<u64, String> {
    let text = text.replace('_', "");
    text.parse::<u64>()
        .ok()
        .or_else(|| {
            let value: f64 = text.parse().ok()?;
            (value >= 0.0 && value.fract() == 0.0 && value < 1e15).then_some(value as u64)
        })
        .ok_or_else(|| format!("{text:?} is not a count (1000, 1_000 or 1e3)"))
}
