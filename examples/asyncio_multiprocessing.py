"""The workload of examples/asyncio_multiprocessing.rs, on aiomultiprocess.

Each item builds the same 64 KiB answer as asyncio_rs::demos::multiprocessing::answer
and hashes it with SHA-256 `rounds` times, as `digest` does there. The Rust example
runs this script with --python and prints the ratio of the times; it also checks
that both sides computed the same digests.

    .venv/bin/python examples/asyncio_multiprocessing.py --items 16 --rounds 2000
"""
import argparse
import asyncio
import hashlib
import json
import time

from aiomultiprocess import Pool

ANSWER_BYTES = 64 * 1024


def answer(n):
    return bytes((i * 31 + n) % 251 for i in range(ANSWER_BYTES))


def digest(data, rounds):
    buffer = bytearray(data)
    head = min(len(buffer), 32)
    last = hashlib.sha256(buffer).digest()
    for _ in range(1, rounds):
        buffer[:head] = last[:head]
        last = hashlib.sha256(buffer).digest()
    return last.hex()


async def work(n, rounds):
    # A function at the top of a module: aiomultiprocess's "spawn" workers
    # import it by name, which a function defined in a notebook cell cannot be.
    await asyncio.sleep(0)
    return digest(answer(n), rounds)


async def timed_map(processes, items, rounds, childconcurrency):
    start = time.perf_counter()
    async with Pool(processes=processes, childconcurrency=childconcurrency) as pool:
        results = await pool.starmap(work, [(n, rounds) for n in range(items)])
    return time.perf_counter() - start, results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child-concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    # The process counts in turn, so that each sees the same moments of a busy machine.
    times, digests = {}, None
    for _ in range(args.repeat):
        for processes in args.processes:
            elapsed, digests = asyncio.run(
                timed_map(processes, args.items, args.rounds, args.child_concurrency)
            )
            times[processes] = min(times.get(processes, elapsed), elapsed)
    print(json.dumps({"seconds": times, "digests": digests}))


if __name__ == "__main__":
    main()
