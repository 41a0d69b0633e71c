//! The examples against CPython: the makerandom script must print, byte for
//! byte, what the original notebook's code prints under CPython for the same
//! seed (`tests/reference/makerandom.py`), and the count script what `In [3]`
//! printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::python3;

/// Seeds small, large, negative, past 2^32, past 2^64 and past 2^128.
const SEEDS: [&str; 16] = [
    "444",
    "0",
    "1",
    "2",
    "7",
    "42",
    "99",
    "2024",
    "-17",
    "4294967296",
    "123456789012",
    "18446744073709551615",
    "18446744073709551616",
    "-170141183460469231731687303715884105728",
    "340282366920938463463374607431768211456",
    "-123456789012345678901234567890123456789012345678901234567890",
];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo test` builds the examples next to the test binaries' `deps/`.
fn example(name: &str) -> Command {
    let test_binary = std::env::current_exe().unwrap();
    let profile_dir = test_binary.parent().and_then(Path::parent).unwrap();
    let path: PathBuf = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    let mut command = Command::new(path);
    command
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("EVCXR_IS_RUNTIME");
    command
}

fn cpython_makerandom(seed: &str) -> String {
    python3("makerandom.py", &["--seed", seed], "")
}

fn stdout_of(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn strip_ansi(text: &str) -> String {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        plain.push_str(&rest[..start]);
        let end = rest[start..].find('m').expect("an escape code ends with m");
        rest = &rest[start + end + 1..];
    }
    plain.push_str(rest);
    plain
}

#[test]
fn the_reference_reproduces_the_original_notebook() {
    let original =
        std::fs::read_to_string(manifest_dir().join("tests/reference/original_in10.txt")).unwrap();
    assert_eq!(strip_ansi(&cpython_makerandom("444")), original);
}

#[test]
fn makerandom_prints_what_cpython_prints_for_every_seed() {
    for seed in SEEDS {
        let ours = stdout_of(
            example("makerandom")
                .args(["--seed", seed, "--virtual-time"])
                .env("CLICOLOR_FORCE", "1")
                .output()
                .unwrap(),
        );
        assert_eq!(ours, cpython_makerandom(seed), "seed {seed}");
    }
}

#[test]
fn colours_are_on_under_evcxr_and_no_color_turns_them_off() {
    let run = |no_color: Option<&str>| {
        let mut command = example("makerandom");
        command
            .args(["--virtual-time"])
            .env("EVCXR_IS_RUNTIME", "1");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        stdout_of(command.output().unwrap())
    };
    let reference = cpython_makerandom("444");
    // Piped, as evcxr's stdout is, yet coloured: Jupyter renders the codes.
    assert_eq!(run(None), reference);
    assert_eq!(run(Some("1")), strip_ansi(&reference));
    // An empty NO_COLOR does not count, as no-color.org says.
    assert_eq!(run(Some("")), reference);
}

#[test]
fn makerandom_outside_a_terminal_is_plain() {
    let ours = stdout_of(
        example("makerandom")
            .arg("--virtual-time")
            .output()
            .unwrap(),
    );
    assert_eq!(ours, strip_ansi(&cpython_makerandom("444")));
}

#[test]
fn makerandom_refuses_a_bad_seed_with_a_usage_message() {
    let output = example("makerandom")
        .args(["--seed", "many"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--seed takes an integer"));
}

#[test]
fn count_prints_in_3_on_the_paused_clock() {
    let ours = stdout_of(example("count").arg("--virtual-time").output().unwrap());
    assert_eq!(ours, "One\nOne\nOne\nTwo\nTwo\nTwo\nExecuted in  1.00s\n");
}

#[test]
fn makerandom_timeline_comes_after_the_unchanged_output_one_wait_per_retry() {
    for seed in [
        "444",
        "7",
        "-123456789012345678901234567890123456789012345678901234567890",
    ] {
        let ours = stdout_of(
            example("makerandom")
                .args(["--seed", seed, "--virtual-time", "--timeline"])
                .env("CLICOLOR_FORCE", "1")
                .output()
                .unwrap(),
        );
        let reference = cpython_makerandom(seed);
        let chart = ours
            .strip_prefix(&reference)
            .unwrap_or_else(|| panic!("seed {seed}: the normal output changed:\n{ours}"));
        let chart = chart
            .strip_prefix('\n')
            .expect("a blank line before the chart");
        // Each lane in its task's colour, as its lines.
        for (idx, color) in ["\x1b[36m", "\x1b[91m", "\x1b[35m"].iter().enumerate() {
            let lane = format!("{color}makerandom({idx})");
            assert!(
                chart.contains(&lane),
                "seed {seed}: no {lane:?} in\n{chart}"
            );
        }
        let chart = strip_ansi(chart);
        for idx in 0..3 {
            let retries = strip_ansi(&reference)
                .lines()
                .filter(|line| line.starts_with(&format!("makerandom({idx}) == ")))
                .count();
            let row = chart
                .lines()
                .find(|line| line.starts_with(&format!("makerandom({idx})")))
                .unwrap_or_else(|| panic!("seed {seed}: no lane for makerandom({idx}):\n{chart}"));
            let plural = if retries == 1 { "" } else { "s" };
            assert!(
                row.contains(&format!("  {retries} wait{plural}, done at ")),
                "seed {seed}: makerandom({idx}) retried {retries} times: {row}"
            );
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn tasks_vs_threads_stops_short_of_30_000_threads_with_the_reason() {
    let output = example("tasks_vs_threads")
        .args(["--tasks", "1000", "--threads", "30000", "--json"])
        .output()
        .unwrap();
    // Exits 0 (stdout_of checks), never SIGABRT.
    let report: serde_json::Value = serde_json::from_str(&stdout_of(output)).unwrap();
    let keys = |part: &str| {
        let mut keys: Vec<&str> = report[part]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    };
    assert_eq!(keys("tasks"), ["n", "peak_rss_bytes", "seconds"]);
    assert_eq!(
        keys("threads"),
        [
            "peak_rss_bytes",
            "requested",
            "seconds",
            "started",
            "stopped_because"
        ]
    );
    assert_eq!(report["tasks"]["n"], 1000);
    let threads = &report["threads"];
    assert_eq!(threads["requested"], 30_000);
    let started = threads["started"].as_u64().unwrap();
    assert!(0 < started && started < 30_000, "{started}");
    let reason = threads["stopped_because"].as_str().unwrap();
    let grouped = asyncio_rs::display::thousands(started);
    assert!(
        reason.starts_with(&format!("stopped at {grouped} threads: ")),
        "{reason}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn tasks_vs_threads_prints_a_table_and_all_start_when_there_is_room() {
    let table = stdout_of(
        example("tasks_vs_threads")
            .args(["--tasks", "1_000", "--threads", "1e2"])
            .output()
            .unwrap(),
    );
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("kind"));
    assert!(lines[1].starts_with("threads              100        100 "));
    assert!(lines[1].ends_with("  -"));
    assert!(lines[2].starts_with("tokio tasks        1,000      1,000 "));
}

#[test]
fn network_refuses_a_bad_count_as_makerandom_refuses_a_bad_seed() {
    for (name, args) in [
        ("network", ["--clients", "0"]),
        ("makerandom", ["--seed", "x"]),
    ] {
        let output = example(name).args(args).output().unwrap();
        // 2, a usage error, as clap's in tasks_vs_threads.
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("usage: "),
            "{name}"
        );
    }
}

#[test]
fn tasks_vs_threads_refuses_a_bad_count() {
    let output = example("tasks_vs_threads")
        .args(["--tasks", "many"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a count"));
}

#[test]
fn fire_and_forget_refuses_an_unknown_argument_with_a_usage_line() {
    let output = example("fire_and_forget").arg("--pyhton").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown argument \"--pyhton\""), "{stderr}");
    assert!(
        stderr.contains("usage: fire_and_forget [--python]"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing runs");
}
