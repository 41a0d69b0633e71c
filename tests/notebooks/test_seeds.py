"""Seeds typed in a notebook cell, as a reader types them, under the real
evcxr kernel: integer literals of every size and sign, strings and bytes must
draw what CPython draws after the same `random.seed(...)`.

One kernel runs In [1] and In [5] as the notebook has them (In [1] brings
`int!` into scope, In [5] makes `random`), then one cell per seed, typed as a
reader types it into In [9]; the expected numbers come from python3, never
typed in, and so does the first integer past u128::MAX.
"""
import json
import re
import subprocess

import pytest

from helpers import Kernel, load, tagged_cells

# 2**128, u128::MAX + 1, as CPython prints it.
PAST_U128 = subprocess.run(
    ["python3", "-c", "print(2**128)"], check=True, capture_output=True, text=True
).stdout.strip()

# (what the reader types in the cell's `random.seed(...)`, the same seed in Python)
SEEDS = [
    ("444", "444"),
    ("10000000000", "10000000000"),
    ("-10000000000", "-10000000000"),
    ("-444", "-444"),
    ("170141183460469231731687303715884105727", "170141183460469231731687303715884105727"),
    ("-170141183460469231731687303715884105728", "-170141183460469231731687303715884105728"),
    (
        "int!(170141183460469231731687303715884105728)",
        "170141183460469231731687303715884105728",
    ),
    (f"int!({PAST_U128})", PAST_U128),
    (
        "int!(123456789012345678901234567890123456789012345678901234567890)",
        "123456789012345678901234567890123456789012345678901234567890",
    ),
    (
        "int!(-0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff)",
        "-0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff",
    ),
    ('"abc"', '"abc"'),
    ('"héllo, wörld: 日本語 🦀"', '"héllo, wörld: 日本語 🦀"'),
    ('String::from("444")', '"444"'),
    ('b"abc"', 'b"abc"'),
    ('b"\\x00\\x00\\xffabc"', 'b"\\x00\\x00\\xffabc"'),
    ("vec![0u8, 1, 2, 255]", "bytearray([0, 1, 2, 255])"),
]

# What each cell prints after seeding, in Rust and in Python.
RUST_DRAWS = (
    'println!("{:?} {} {:?}", (0..10).map(|_| random.randint(0, 10)).collect::<Vec<i64>>(), '
    "random.getrandbits(64), random.random());"
)
PYTHON_DRAWS = (
    "print([random.randint(0, 10) for _ in range(10)], random.getrandbits(64), repr(random.random()))"
)


def python_draws():
    script = "import random\n" + "".join(
        f"random.seed({python})\n{PYTHON_DRAWS}\n" for _, python in SEEDS
    )
    out = subprocess.run(["python3", "-c", script], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def parse(line):
    """[ints] bits float, from either side; floats compared as numbers."""
    match = re.fullmatch(r"(\[[\d, ]*\]) (\d+) ([\d.e-]+)", line.strip())
    assert match, line
    return json.loads(match.group(1)), int(match.group(2)), float(match.group(3))


@pytest.fixture(scope="module")
def kernel():
    kernel = Kernel()
    cells = tagged_cells(load())
    for tag in ["in-1", "in-5"]:
        kernel.run_clean(cells[tag].source)
    yield kernel
    kernel.close()


def test_the_notebook_seeds_as_the_original_does():
    assert tagged_cells(load())["in-9"].source == "random.seed(444);"


def test_every_seed_a_reader_types_draws_what_cpython_draws(kernel):
    expected = python_draws()
    assert len(expected) == len(SEEDS)
    for (typed, python), reference in zip(SEEDS, expected):
        printed = kernel.run_clean(f"random.seed({typed});\n{RUST_DRAWS}").stdout
        assert parse(printed) == parse(reference), f"random.seed({typed}) vs Python's random.seed({python})"


@pytest.mark.parametrize(
    "typed, error",
    [
        # Past i128::MAX: rustc's deny-by-default overflowing_literals lint.
        ("170141183460469231731687303715884105728", "literal out of range for `i128`"),
        # Past u128::MAX: rustc refuses the literal before any type is chosen.
        ("340282366920938463463374607431768211456", "integer literal is too large"),
        # int! checks its literal at compile time.
        ("int!(12ab)", "an integer in base 10 has the digits 0 to 9"),
    ],
)
def test_a_literal_rustc_refuses_is_a_clear_compile_error(kernel, typed, error):
    run = kernel.run(f"random.seed({typed});")
    assert run.status == "error"
    assert any(error in message for message in run.errors), run.errors
    # The kernel and its variables live on.
    assert kernel.run_clean("random.seed(444);\nprintln!(\"{}\", random.randint(0, 10));").stdout == "4\n"
