"""The counters of examples/fire_and_forget.rs in Python: asyncio tasks that share a counter
with no lock, and threads that share one under a threading.Lock.

Each of WORKERS workers adds 1 to one counter UPDATES times. The asyncio tasks give up the loop
after each update (`await asyncio.sleep(0)`), as the Rust tasks do with `yield_now`; nothing
can run in the middle of an update, which has no `await`. The threads take the lock for each
update. The Rust example runs this script with --python and prints the times next to its own.

    .venv/bin/python examples/fire_and_forget.py --workers 100 --updates 1000
"""
import argparse
import asyncio
import json
import threading
import time


async def no_lock(workers, updates):
    count = 0

    async def worker():
        nonlocal count
        for _ in range(updates):
            count += 1
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return count


def with_lock(workers, updates):
    count = 0
    lock = threading.Lock()

    def worker():
        nonlocal count
        for _ in range(updates):
            with lock:
                count += 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count


def timed(run):
    start = time.perf_counter()
    count = run()
    return {"seconds": time.perf_counter() - start, "count": count}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    report = {
        "asyncio": timed(lambda: asyncio.run(no_lock(args.workers, args.updates))),
        "threading": timed(lambda: with_lock(args.workers, args.updates)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
