//! Checks that every seed Python's `random.seed` takes seeds
//! `asyncio_rs::random` exactly as CPython: integers far past 128 bits,
//! negative ones, strings (ASCII and not) and bytes.
//!
//! Every expected value comes from running `python3` on
//! `tests/reference/seed_reference.py` with the seeds listed here; nothing is
//! copied in by hand. Without `python3` these tests fail: they cannot check
//! anything.

mod common;

use asyncio_rs::int;
use asyncio_rs::random::{Random, Seed, SharedRandom};
use common::python3;

/// A seed, as the test gives it to both sides.
#[derive(Debug, Clone)]
enum Given {
    /// An integer literal, read with `int(text, 0)` in Python and
    /// [`Seed::int`] in Rust.
    Int(String),
    Str(String),
    Bytes(Vec<u8>),
}

impl Given {
    /// The line seed_reference.py reads.
    fn line(&self) -> String {
        match self {
            Given::Int(text) => format!("int {text}"),
            Given::Str(text) => format!("str {}", hex(text.as_bytes())),
            Given::Bytes(bytes) => format!("bytes {}", hex(bytes)),
        }
    }

    /// Every way a reader could pass this seed to `seed`; all must agree.
    fn forms(&self) -> Vec<Seed> {
        match self {
            Given::Int(text) => vec![Seed::int(text).expect("an integer literal")],
            Given::Str(text) => vec![
                Seed::from(text.as_str()),
                Seed::from(text.clone()),
                Seed::from(text),
            ],
            Given::Bytes(bytes) => vec![
                Seed::from(bytes.as_slice()),
                Seed::from(bytes.clone()),
                Seed::from(bytes),
            ],
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What seed_reference.py draws after `random.seed(..)`, drawn in Rust.
fn draws(seed: Seed) -> Vec<String> {
    let random = SharedRandom::new(seed);
    let mut values: Vec<String> = (0..630)
        .map(|_| random.getrandbits(32).to_string())
        .collect();
    values.extend((0..10).map(|_| random.randint(0, 10).to_string()));
    // `{:?}` of an f64 is the shortest text that reads back as it, as
    // Python's repr is; both are compared as numbers all the same.
    values.extend((0..3).map(|_| format!("{:?}", random.random())));
    values
}

/// Runs seed_reference.py once for all `seeds`: one line of values each.
fn cpython(seeds: &[Given]) -> Vec<Vec<String>> {
    let input: String = seeds.iter().map(|seed| seed.line() + "\n").collect();
    let stdout = python3("seed_reference.py", &[], &input);
    let lines: Vec<Vec<String>> = stdout
        .lines()
        .map(|line| line.split(' ').map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), seeds.len(), "one line per seed");
    lines
}

/// Compares Rust's draws with CPython's for every seed and every form of it.
fn check(seeds: &[Given]) {
    let mut failures = Vec::new();
    for (given, python) in seeds.iter().zip(cpython(seeds)) {
        for (form, seed) in given.forms().into_iter().enumerate() {
            let ours = draws(seed);
            let same = ours.len() == python.len()
                && ours.iter().zip(&python).all(|(ours, python)| {
                    ours == python
                        || ours.parse::<f64>().map(f64::to_bits)
                            == python.parse::<f64>().map(f64::to_bits)
                });
            if !same {
                let at = ours
                    .iter()
                    .zip(&python)
                    .take_while(|(ours, python)| ours == python)
                    .count();
                let shown = format!("{given:?}");
                failures.push(format!(
                    "{} (form {form}): value #{at}: Python {:?}, Rust {:?}",
                    &shown[..shown.len().min(120)],
                    python.get(at),
                    ours.get(at),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} seeds differ from CPython:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Random digits in `radix`, `len` of them, the first not zero.
fn digits(picker: &mut Random, radix: u64, len: usize) -> String {
    let alphabet = b"0123456789abcdef";
    (0..len)
        .map(|i| {
            let low = if i == 0 { 1 } else { 0 };
            char::from(alphabet[picker.randint(low, radix as i64 - 1) as usize])
        })
        .collect()
}

#[test]
fn integers_of_any_size_and_sign_seed_as_in_cpython() {
    let mut seeds: Vec<Given> = [
        "0",
        "-1",
        "170141183460469231731687303715884105727",  // i128::MAX
        "-170141183460469231731687303715884105728", // i128::MIN
        "170141183460469231731687303715884105728",  // 2^127: past i128
        "340282366920938463463374607431768211455",  // 2^128 - 1
        "340282366920938463463374607431768211456",  // 2^128
        "-340282366920938463463374607431768211457",
        "123456789012345678901234567890123456789012345678901234567890",
        "-123456789012345678901234567890123456789012345678901234567890",
        "0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff",
        "-0o7777777777777777777777777777777777777777777777777",
        "0b1_0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
    ]
    .map(|text| Given::Int(text.to_string()))
    .to_vec();
    let mut picker = Random::new(2026);
    // Up to 7000 decimal digits (23,000 bits): keys longer than the 624 words
    // of state, which init_by_array then walks more than once.
    for (i, len) in [39, 40, 41, 60, 100, 310, 1000, 6011, 6012, 7000]
        .into_iter()
        .enumerate()
    {
        let sign = if i % 2 == 0 { "" } else { "-" };
        seeds.push(Given::Int(format!(
            "{sign}{}",
            digits(&mut picker, 10, len)
        )));
    }
    for len in [33, 64, 4992, 4993, 5000] {
        // 4992 hex digits are 624 words exactly.
        seeds.push(Given::Int(format!("0x{}", digits(&mut picker, 16, len))));
    }
    check(&seeds);
}

#[test]
fn strings_seed_as_their_utf8_in_cpython() {
    let mut seeds: Vec<Given> = [
        "",
        "a",
        "abc",
        "444", // a str, not the integer 444
        "héllo",
        "日本語",
        "🦀 ferris",
        "a\0b",
    ]
    .map(|text| Given::Str(text.to_string()))
    .to_vec();
    // A long one of mixed widths: 1 to 4 bytes per character.
    let mut picker = Random::new(7);
    let long: String = (0..900)
        .map(|_| {
            let code = match picker.randint(0, 3) {
                0 => picker.randint(0x20, 0x7e),
                1 => picker.randint(0xa0, 0x7ff),
                2 => picker.randint(0x4e00, 0x9fff),
                _ => picker.randint(0x1f300, 0x1f64f),
            };
            char::from_u32(code as u32).expect("a scalar value")
        })
        .collect();
    seeds.push(Given::Str(long));
    check(&seeds);
}

#[test]
fn bytes_seed_as_in_cpython() {
    let mut seeds: Vec<Given> = [
        &b""[..],
        b"\0",
        b"\0\0\0\0\0abc", // leading zero bytes: the integer is shorter
        b"abc",
        b"\xff\xfe\xfd",
        "héllo".as_bytes(),
    ]
    .map(|bytes| Given::Bytes(bytes.to_vec()))
    .to_vec();
    let mut picker = Random::new(8);
    for len in [1, 3, 4, 5, 63, 64, 65, 300, 2497, 3000] {
        let mut bytes = vec![0; len];
        for byte in &mut bytes {
            *byte = picker.randint(0, 255) as u8;
        }
        seeds.push(Given::Bytes(bytes));
    }
    check(&seeds);
}

/// The seeds a reader types in a cell, written here the same way: bare
/// literals, inferred as `i128` whatever their size, and `int!` past that.
/// Each is also given to CPython as the same text.
#[test]
fn literals_as_a_reader_types_them_seed_as_in_cpython() {
    let typed: Vec<(&str, Seed)> = vec![
        ("444", Seed::from(444)),
        ("10000000000", Seed::from(10000000000)),
        ("-10000000000", Seed::from(-10000000000)),
        ("0x7fff_ffff_ffff_ffff", Seed::from(0x7fff_ffff_ffff_ffff)),
        (
            "170141183460469231731687303715884105727",
            Seed::from(170141183460469231731687303715884105727),
        ),
        (
            "-170141183460469231731687303715884105728",
            Seed::from(-170141183460469231731687303715884105728),
        ),
        (
            "170141183460469231731687303715884105728",
            int!(170141183460469231731687303715884105728),
        ),
        (
            "-123456789012345678901234567890123456789012345678901234567890",
            int!(-123456789012345678901234567890123456789012345678901234567890),
        ),
        (
            "0x1_0000_0000_0000_0000_0000_0000_0000_0000",
            int!(0x1_0000_0000_0000_0000_0000_0000_0000_0000),
        ),
    ];
    let seeds: Vec<Given> = typed
        .iter()
        .map(|(text, _)| Given::Int(text.to_string()))
        .collect();
    for ((text, seed), python) in typed.into_iter().zip(cpython(&seeds)) {
        assert_eq!(draws(seed), python, "random.seed({text})");
    }

    // And straight into `seed`, as in the notebook's `random.seed(444);`.
    let random = SharedRandom::new(0);
    random.seed(10000000000);
    let mut expected = Random::new(Seed::int("10000000000").unwrap());
    assert_eq!(random.randint(0, 10), expected.randint(0, 10));
    random.seed(int!(
        -123456789012345678901234567890123456789012345678901234567890
    ));
    random.seed("abc");
    random.seed(b"abc");
    random.seed(vec![1u8, 2, 3]);
    let mut expected = Random::new(&[1u8, 2, 3][..]);
    assert_eq!(random.random(), expected.random());
}
