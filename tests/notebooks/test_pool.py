"""The "Mixing multiprocessing and async IO" section under the real kernel:
the pool's workers are other processes, a killed worker fails only its own
items, the pool works on afterwards, and no worker outlives the kernel."""
import os
import queue
import re
import signal
import subprocess
import time

import pytest

from helpers import Kernel, alive, cell_with, children_of, code_cells, load, stdout_of

ITEM = re.compile(r"^item (\d+): worker process (\d+), digest ([0-9a-f]{16})\.\.\.$")
KILLED = re.compile(r"^item (\d+): worker process (\d+) was killed by SIGKILL while it ran the job$")
ROUNDS = 2000


def cpython_digests(items):
    """The first 16 hex digits of each item's digest, computed by CPython as
    examples/asyncio_multiprocessing.py computes them."""
    script = (
        "import hashlib, sys\n"
        "for n in map(int, sys.argv[1:]):\n"
        "    buffer = bytearray((i * 31 + n) % 251 for i in range(64 * 1024))\n"
        "    last = hashlib.sha256(buffer).digest()\n"
        f"    for _ in range(1, {ROUNDS}):\n"
        "        buffer[:32] = last\n"
        "        last = hashlib.sha256(buffer).digest()\n"
        "    print(last.hex()[:16])\n"
    )
    out = subprocess.run(
        ["python3", "-c", script, *map(str, items)], check=True, capture_output=True, text=True
    ).stdout
    return dict(zip(items, out.split()))


def lines_of(notebook, text):
    return stdout_of(cell_with(notebook, text)).splitlines()


def test_the_section_s_cells_are_marked_as_varying():
    for text in ["pool.map(0..8", "pool.as_completed(0..12", "pool.apply(", "tokio threads + spawn_blocking"]:
        assert "varies" in cell_with(load(), text).metadata.get("tags", []), text


def test_map_runs_the_cell_s_function_in_two_worker_processes(executed):
    lines = lines_of(executed, "pool.map(0..8")
    kernel = int(re.search(r"this kernel is process (\d+)", "\n".join(lines)).group(1))
    items = [ITEM.match(line) for line in lines if line.startswith("item ")]
    assert all(items), lines
    assert [int(item.group(1)) for item in items] == list(range(8)), "results in input order"
    pids = {int(item.group(2)) for item in items}
    assert len(pids) == 2 and kernel not in pids, (pids, kernel)
    expected = cpython_digests(list(range(8)))
    assert {int(item.group(1)): item.group(3) for item in items} == expected
    assert re.search(r"^8 items on 2 processes: \d+\.\d\d s$", "\n".join(lines), re.MULTILINE)


def test_a_killed_worker_fails_only_its_items_and_the_call_ends(executed):
    lines = lines_of(executed, "pool.as_completed(0..12")
    victim = int(re.fullmatch(r"first result from worker process (\d+): killing it", lines[0]).group(1))
    done, failed = {}, []
    for line in lines[1:]:
        item, killed = ITEM.match(line), KILLED.match(line)
        assert item or killed, line
        if item:
            done[int(item.group(1))] = item.group(3)
        else:
            assert int(killed.group(2)) == victim, line
            failed.append(int(killed.group(1)))
    assert failed, "the killed worker was running items"
    assert sorted([*done, *failed]) == list(range(12)), "every item has one outcome"
    expected = cpython_digests(list(range(12)))
    assert all(done[n] == expected[n] for n in done)


def test_the_pool_works_after_the_kill(executed):
    lines = lines_of(executed, "pool.apply(")
    item = ITEM.match(lines[0])
    assert item and item.group(1) == "8", lines
    assert item.group(3) == cpython_digests([8])[8]
    assert lines[1] == "workers alive between calls: []"


def test_threads_compute_the_same_digests(executed):
    lines = lines_of(executed, "tokio threads + spawn_blocking")
    assert re.fullmatch(r"pool of 2 processes: +\d+\.\d\d s", lines[0]), lines
    assert re.fullmatch(r"1 process, tokio threads \+ spawn_blocking: \d+\.\d\d s", lines[1]), lines
    assert lines[2] == "same digests: true"


def wait_until_gone(pids, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(alive, pids)):
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


BUSY_POOL = """
use asyncio_rs::pool::{JobError, Pool};
let rt: Runtime = Runtime::new().unwrap();
let pool: Pool = Pool::builder().processes(2).child_concurrency(2).build().unwrap();
let busy: JoinHandle<Vec<Result<u32, JobError>>> = rt.spawn(pool.map(0..8u32, |n| async move {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    n
}));
while pool.workers().len() < 2 {
    std::thread::sleep(Duration::from_millis(50));
}
println!("{:?}", pool.workers());
"""


def evcxr_child(kernel):
    """evcxr_jupyter runs the cells in a child process of its own."""
    return kernel.cell_pid


def busy_workers(kernel):
    workers = [int(pid) for pid in re.findall(r"\d+", kernel.run_clean(BUSY_POOL).stdout)]
    assert len(workers) == 2
    running = [pid for pid in children_of(evcxr_child(kernel)) if alive(pid)]
    assert sorted(running) == sorted(workers)
    return workers


def late_stderr(kernel, quiet=2.0):
    """stderr text that arrives after the cell's reply, until none has come for `quiet` s."""
    text = ""
    while True:
        try:
            message = kernel.client.get_iopub_msg(timeout=quiet)
        except queue.Empty:
            return text
        if message["msg_type"] == "stream" and message["content"]["name"] == "stderr":
            text += message["content"]["text"]


@pytest.fixture(scope="module")
def kernel():
    kernel = Kernel()
    kernel.run_clean(code_cells(load())[0].source)
    yield kernel
    if kernel.manager.is_alive():
        kernel.close()


def test_what_workers_print_reaches_the_cell(kernel):
    run = kernel.run_clean(
        """
use asyncio_rs::pool::{JobError, Pool};
let printer: Pool = Pool::builder().processes(2).build().unwrap();
let printed: Vec<Result<u32, JobError>> = Runtime::new().unwrap().run(printer.map(0..4u32, |n| async move {
    println!("worker {} prints {n}", std::process::id());
    eprintln!("and warns {n}");
    n
}));
println!("{printed:?}");
"""
    )
    # evcxr passes its process's stderr on line by line, with no mark for the
    # end of a cell as it has for stdout: the last lines may come after the
    # cell's "idle", still addressed to that cell, where Jupyter shows them.
    stderr = run.stderr + late_stderr(kernel)
    for n in range(4):
        assert re.search(rf"^worker \d+ prints {n}$", run.stdout, re.MULTILINE), run.stdout
        assert f"and warns {n}\n" in stderr
    # The worker's lines came through before the call returned.
    assert run.stdout.rstrip().endswith("[Ok(0), Ok(1), Ok(2), Ok(3)]")


def test_no_worker_outlives_the_kernel_s_process(kernel):
    # What Jupyter's interrupt does to evcxr: its child process is killed
    # outright, with no chance to drop the pool.
    workers = busy_workers(kernel)
    os.kill(evcxr_child(kernel), signal.SIGKILL)
    assert wait_until_gone(workers) == []
    # evcxr starts a new process for the next cell (the first one reports the
    # kill: "Subprocess terminated"); this time the whole kernel is shut down
    # while a call runs.
    assert kernel.run("()").errors
    kernel.run_clean(code_cells(load())[0].source)
    workers = busy_workers(kernel)
    kernel.close()
    assert wait_until_gone(workers) == []
