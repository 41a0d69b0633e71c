"""Reference values from CPython's `random.seed`, for tests/seeds_cpython.rs.

Reads one seed a line on stdin, as "<kind> <text>":
  int    an integer literal, read with int(text, 0): decimal, 0x, 0o or 0b, any size, any sign
  str    a str, given as the hex of its UTF-8 bytes
  bytes  a bytes, given as hex (empty for b"")

For each, seeds the module-level generator with random.seed(value) and
prints one line: 630 getrandbits(32) (past one twist of the state), ten
randint(0, 10) and three repr(random()), space-separated.
"""

import random
import sys


def value(kind, text):
    if kind == "int":
        return int(text, 0)
    if kind == "str":
        return bytes.fromhex(text).decode("utf-8")
    if kind == "bytes":
        return bytes.fromhex(text)
    raise SystemExit(f"unknown seed kind {kind!r}")


def main():
    # Decimal seeds past 4300 digits: Python 3.11 refuses to read those by
    # default (a guard against slow parsing), but seeds with them all the same.
    sys.set_int_max_str_digits(0)
    for line in sys.stdin.read().splitlines():
        kind, _, text = line.partition(" ")
        random.seed(value(kind, text))
        values = [random.getrandbits(32) for _ in range(630)]
        values += [random.randint(0, 10) for _ in range(10)]
        values += [repr(random.random()) for _ in range(3)]
        print(*values)


main()
