"""The order tasks run in under one rule: timers fire by deadline, and of timers due at the same
instant, the one set first fires first (a heap keyed on the deadline, then on the order of the
sleep calls), with no time passing between a wake-up and the next sleep.

The program is the notebook's makerandom (In [7], In [8]) with a fourth task that sleeps a random
number of units; the others sleep idx + 1 units. Each line starts with its instant, in units.
tests/paced_order.rs runs the same program on Runtime::run_paced and compares.

    python3 tests/reference/timer_order.py --seed 7
"""
import argparse
import heapq
import itertools
import random

now = 0


def makerandom(idx, threshold):
    """makerandom as a generator that yields the length of each sleep, in units."""
    print(f"t={now:.2f} Initiated makerandom({idx})")
    i = random.randint(0, 10)
    while i <= threshold:
        print(f"t={now:.2f} makerandom({idx}) == {i} too low; retrying.")
        yield idx + 1 if idx < 3 else random.randint(1, 4)
        i = random.randint(0, 10)
    print(f"t={now:.2f} --> Finished: makerandom({idx}) == {i}")
    return i


def main():
    global now
    tasks = [makerandom(i, 10 - i - 1) for i in range(3)] + [makerandom(3, 7)]
    order = itertools.count()
    # (deadline, order of the sleep call, task): every task starts at 0, in order.
    timers = [(0, next(order), idx) for idx in range(len(tasks))]
    results = [None] * len(tasks)
    while timers:
        now, _, idx = heapq.heappop(timers)
        try:
            units = next(tasks[idx])
        except StopIteration as done:
            results[idx] = done.value
        else:
            heapq.heappush(timers, (now + units, next(order), idx))
    print(f"results: {results}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=444)
    args = parser.parse_args()
    random.seed(args.seed)
    main()
