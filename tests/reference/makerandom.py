"""CPython's own output for the makerandom demo, for any seed, in milliseconds.

Runs the original notebook's code (cells In [6] to In [10], copied verbatim
below) on an asyncio loop with a virtual clock: when nothing is ready, the
clock jumps to the next timer instead of waiting. Every turn of the loop costs
one virtual microsecond, as a turn of a real loop costs some real time; so
timers due at the same nominal instant fire in the order they were set, as
they did on the machine that produced the original output.

    python3 tests/reference/makerandom.py --seed 444
    python3 tests/reference/makerandom.py --seed 444 --runs 2   # In [10] twice
"""
import argparse
import asyncio
import random


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock only moves when the loop turns."""

    TURN = 1e-6

    def __init__(self):
        super().__init__()
        self._virtual_now = 0.0

    def time(self):
        return self._virtual_now

    def _run_once(self):
        self._virtual_now += self.TURN
        if not self._ready and self._scheduled:
            self._virtual_now = max(self._virtual_now, self._scheduled[0]._when)
        super()._run_once()


# ---- the original notebook, In [6] to In [8], verbatim ----------------------
# ANSI colors
c = (
    "\033[0m",   # End of color
    "\033[36m",  # Cyan
    "\033[91m",  # Red
    "\033[35m",  # Magenta
)

async def makerandom(idx: int, threshold: int = 6):
    async_color = c[idx + 1]
    print(async_color+f"Initiated makerandom({idx})")
    i = random.randint(0, 10)
    while i <= threshold:
        print(async_color+f"makerandom({idx}) == {i} too low; retrying.")
        await asyncio.sleep(idx + 1)  # mimics an IO-bound process with an uncertain wait time
        i = random.randint(0, 10)
    print(async_color+f"--> Finished: makerandom({idx}) == {i}"+c[0])
    return i

async def main():
    # Concurrently run makerandom() across 3 different inputs
    res = await asyncio.gather(*(makerandom(i, 10 - i - 1) for i in range(3)))
    return res
# -----------------------------------------------------------------------------


def in_10():
    loop = VirtualTimeLoop()
    try:
        r1, r2, r3 = loop.run_until_complete(main())
    finally:
        loop.close()
    print()
    print(f"r1: {r1}, r2: {r2}, r3: {r3}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=444)
    parser.add_argument("--runs", type=int, default=1, help="how many times In [10] runs")
    args = parser.parse_args()
    random.seed(args.seed)  # In [9]
    for _ in range(args.runs):
        in_10()
