"""Reference values from CPython's `random`, for tests/random_cpython.rs.

Usage: python3 random_reference.py SEEDS RANGES BELOW
  SEEDS   comma-separated ints, e.g. 0,444,-1
  RANGES  comma-separated a:b pairs for randint(a, b), e.g. 0:10,-5:5
  BELOW   comma-separated n > 0 for _randbelow(n)

Prints one line per seed and check: "<seed> <label> <value> <value> ...".
Each check starts from a freshly seeded generator.
"""

import random
import sys


def checks(seed, ranges, below):
    r = random.Random(seed)
    yield "randint_0_10", [r.randint(0, 10) for _ in range(20)]

    r = random.Random(seed)
    yield "randint_ranges", [r.randint(a, b) for a, b in ranges for _ in range(3)]

    r = random.Random(seed)
    yield "getrandbits", [r.getrandbits(k) for k in range(0, 65)]

    r = random.Random(seed)
    yield "random", [repr(r.random()) for _ in range(10)]

    r = random.Random(seed)
    yield "getrandbits32", [r.getrandbits(32) for _ in range(30)]

    r = random.Random(seed)
    yield "getrandbits64", [r.getrandbits(64) for _ in range(10)]

    r = random.Random(seed)
    yield "randbelow", [r._randbelow(n) for n in below for _ in range(3)]

    # "x" in front, so that randbytes(0) is not an empty token.
    r = random.Random(seed)
    yield "randbytes", ["x" + r.randbytes(n).hex() for n in range(10)]

    # Two full twists of the 624-word state.
    r = random.Random(seed)
    yield "long", [r.getrandbits(32) for _ in range(1300)]

    # The module-level functions share one hidden Random.
    random.seed(seed)
    values = [random.randint(0, 10) for _ in range(10)]
    values.append(repr(random.random()))
    values.append(random.getrandbits(40))
    random.seed(seed)
    values.append(random.randint(0, 10))
    yield "module", values


def main():
    seeds = [int(s) for s in sys.argv[1].split(",")]
    ranges = [tuple(int(x) for x in pair.split(":")) for pair in sys.argv[2].split(",")]
    below = [int(n) for n in sys.argv[3].split(",")]
    for seed in seeds:
        for label, values in checks(seed, ranges, below):
            print(seed, label, *values)


main()
