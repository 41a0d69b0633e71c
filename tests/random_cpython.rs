//! Checks `asyncio_rs::random` against CPython itself.
//!
//! Every expected value comes from running `python3` on
//! `tests/reference/random_reference.py` with the seeds, ranges and bounds
//! listed here; nothing is copied in by hand. Without `python3` these tests
//! fail: they cannot check anything.

use std::collections::BTreeSet;
use std::sync::OnceLock;

mod common;

use asyncio_rs::random::{Random, SharedRandom};
use common::python3;
use rand::Rng;

/// The ranges given to `randint(a, b)` in the "randint_ranges" check.
const RANGES: &[(i64, i64)] = &[
    (0, 10),
    (1, 6),
    (-5, 5),
    (-10, -1),
    (7, 7),                // width 1: draws nothing
    (-3, -3),              // width 1, negative
    (0, 1024),             // width 1025, just above a power of two
    (0, 1 << 32),          // width 2^32 + 1: 33 bits
    (0, i64::MAX),         // width 2^63: 64 bits
    (i64::MIN, -1),        // width 2^63, negative
    (-(1 << 62), 1 << 62), // width 2^63 + 1
    (i64::MIN, i64::MAX),  // width 2^64: getrandbits(65) in Python
    (i64::MIN, i64::MIN + 2),
    (i64::MAX - 2, i64::MAX),
];

/// The `n` given to `_randbelow(n)` in the "randbelow" check.
const BELOW: &[u64] = &[
    1,
    2,
    3,
    7,
    8,
    9,
    1000,
    (1 << 32) - 1,
    1 << 32,
    (1 << 32) + 1,
    1 << 63,
    (1 << 63) + 1,
    u64::MAX,
];

/// The seeds: edge cases, then 50 spread over every size up to 2^127.
fn seeds() -> Vec<i128> {
    let mut seeds = vec![
        0,
        1,
        2,
        444,
        (1 << 31) - 1,
        1 << 31,
        (1 << 32) - 1,
        1 << 32,
        (1 << 32) + 1,
        1 << 63,
        i128::from(u64::MAX),
        1 << 64,
        (1 << 64) + 1,
        1 << 100,
        -1,
        -444,
        -(1 << 32),
        i128::MAX,
        i128::MIN,
        i128::MIN + 1,
    ];
    // Any generator would do to pick these; a Random is at hand.
    let mut picker = Random::new(2024);
    for i in 0..50 {
        let bits = 1 + i * 126 / 49; // from 1 bit up to 127 bits
        let high = u128::from(picker.getrandbits(64));
        let low = u128::from(picker.getrandbits(64));
        let seed = (((high << 64) | low) >> (128 - bits)) as i128;
        seeds.push(if i % 3 == 0 { -seed } else { seed });
    }
    seeds
}

/// The names of the checks that random_reference.py prints for each seed.
const LABELS: &[&str] = &[
    "randint_0_10",
    "randint_ranges",
    "getrandbits",
    "random",
    "getrandbits32",
    "getrandbits64",
    "randbelow",
    "randbytes",
    "long",
    "module",
];

/// One line of Python's output: a seed, a check, and the values it drew.
struct Line {
    seed: i128,
    label: String,
    values: Vec<String>,
}

/// Runs the Python script once and keeps its output for every test.
fn reference() -> &'static [Line] {
    static LINES: OnceLock<Vec<Line>> = OnceLock::new();
    LINES.get_or_init(run_python)
}

fn run_python() -> Vec<Line> {
    let join = |items: Vec<String>| items.join(",");
    let seed_list = join(seeds().iter().map(i128::to_string).collect());
    let ranges = join(RANGES.iter().map(|(a, b)| format!("{a}:{b}")).collect());
    let below = join(BELOW.iter().map(u64::to_string).collect());

    let stdout = python3("random_reference.py", &[&seed_list, &ranges, &below], "");
    let lines: Vec<Line> = stdout
        .lines()
        .map(|line| {
            let mut words = line.split_whitespace();
            let seed = words.next().expect("a seed").parse().expect("an i128 seed");
            let label = words.next().expect("a label").to_string();
            let values = words.map(str::to_string).collect();
            Line {
                seed,
                label,
                values,
            }
        })
        .collect();
    assert_eq!(
        lines.len(),
        seeds().len() * LABELS.len(),
        "python3 printed an unexpected number of lines"
    );
    lines
}

/// One value drawn by the Rust side, to compare with Python's text for it.
#[derive(Debug)]
enum Drawn {
    Int(i128),
    /// Compared bit for bit: Python prints `repr(x)`, the shortest text that
    /// reads back as exactly `x`.
    Float(f64),
    /// Printed by Python as "x" and the bytes in hex.
    Bytes(Vec<u8>),
}

impl Drawn {
    fn matches(&self, python: &str) -> bool {
        match self {
            Drawn::Int(n) => python.parse::<i128>() == Ok(*n),
            Drawn::Float(x) => python.parse::<f64>().map(f64::to_bits) == Ok(x.to_bits()),
            Drawn::Bytes(bytes) => {
                let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
                python == format!("x{hex}")
            }
        }
    }
}

/// Turns integers of any width into [`Drawn::Int`]s.
fn ints<T: Into<i128>>(values: impl IntoIterator<Item = T>) -> Vec<Drawn> {
    values
        .into_iter()
        .map(|value| Drawn::Int(value.into()))
        .collect()
}

/// Compares Python's values for `label` with `rust(seed)`, for every seed.
fn check(label: &str, rust: impl Fn(i128) -> Vec<Drawn>) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in reference().iter().filter(|line| line.label == label) {
        checked += 1;
        let ours = rust(line.seed);
        let same = ours.len() == line.values.len()
            && ours
                .iter()
                .zip(&line.values)
                .all(|(ours, python)| ours.matches(python));
        if !same {
            let at = ours
                .iter()
                .zip(&line.values)
                .take_while(|(ours, python)| ours.matches(python))
                .count();
            failures.push(format!(
                "seed {}: value #{at}: Python {:?}, Rust {:?} ({} vs {} values)",
                line.seed,
                line.values.get(at),
                ours.get(at),
                line.values.len(),
                ours.len(),
            ));
        }
    }
    assert_eq!(checked, seeds().len(), "no Python output for {label}");
    assert!(
        failures.is_empty(),
        "{label}: {} of {checked} seeds differ from CPython:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn python_printed_every_seed_and_check() {
    let printed: BTreeSet<(i128, &str)> = reference()
        .iter()
        .map(|line| (line.seed, line.label.as_str()))
        .collect();
    for seed in seeds() {
        for label in LABELS {
            assert!(
                printed.contains(&(seed, label)),
                "no {label} for seed {seed}"
            );
        }
    }
}

#[test]
fn randint_0_10_matches() {
    check("randint_0_10", |seed| {
        let mut rng = Random::new(seed);
        ints((0..20).map(|_| rng.randint(0, 10)))
    });
}

#[test]
fn randint_other_ranges_match() {
    check("randint_ranges", |seed| {
        let mut rng = Random::new(seed);
        let mut values = Vec::new();
        for &(a, b) in RANGES {
            for _ in 0..3 {
                values.push(rng.randint(a, b));
            }
        }
        ints(values)
    });
}

#[test]
fn getrandbits_0_to_64_matches() {
    check("getrandbits", |seed| {
        let mut rng = Random::new(seed);
        ints((0..=64).map(|k| rng.getrandbits(k)))
    });
}

#[test]
fn random_matches_bit_for_bit() {
    check("random", |seed| {
        let mut rng = Random::new(seed);
        (0..10).map(|_| Drawn::Float(rng.random())).collect()
    });
}

#[test]
fn getrandbits_32_and_next_u32_match() {
    check("getrandbits32", |seed| {
        let mut rng = Random::new(seed);
        ints((0..30).map(|_| rng.getrandbits(32)))
    });
    check("getrandbits32", |seed| {
        let mut rng = Random::new(seed);
        ints((0..30).map(|_| rng.next_u32()))
    });
}

#[test]
fn getrandbits_64_and_next_u64_match() {
    check("getrandbits64", |seed| {
        let mut rng = Random::new(seed);
        ints((0..10).map(|_| rng.getrandbits(64)))
    });
    check("getrandbits64", |seed| {
        let mut rng = Random::new(seed);
        ints((0..10).map(|_| rng.next_u64()))
    });
}

#[test]
fn randbelow_matches() {
    check("randbelow", |seed| {
        let mut rng = Random::new(seed);
        let mut values = Vec::new();
        for &n in BELOW {
            for _ in 0..3 {
                values.push(rng.randbelow(n));
            }
        }
        ints(values)
    });
}

#[test]
fn fill_bytes_matches_randbytes() {
    check("randbytes", |seed| {
        let mut rng = Random::new(seed);
        (0..10)
            .map(|len| {
                let mut bytes = vec![0; len];
                rng.fill_bytes(&mut bytes);
                Drawn::Bytes(bytes)
            })
            .collect()
    });
}

#[test]
fn long_sequences_match_across_twists() {
    check("long", |seed| {
        let mut rng = Random::new(seed);
        ints((0..1300).map(|_| rng.getrandbits(32)))
    });
}

#[test]
fn shared_random_matches_module_functions() {
    check("module", |seed| {
        let rng = SharedRandom::new(seed);
        let mut values = ints((0..10).map(|_| rng.randint(0, 10)));
        values.push(Drawn::Float(rng.random()));
        values.push(Drawn::Int(rng.getrandbits(40).into()));
        rng.seed(seed);
        values.push(Drawn::Int(rng.randint(0, 10).into()));
        values
    });
}
