"""The kernel launcher (tools/kernel.py): every kernel builds in a warm slot of its own.

Two kernels open at once (two tabs, or JupyterLab while `make notebooks` runs) each get their
own slot and each print what the committed notebook shows; a killed kernel leaves its slot free;
and an edit under src/ reaches the next kernel that runs in-1 (cargo's own freshness, in a
directory that outlives the kernel).
"""
import fcntl
import os
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from helpers import ROOT, Kernel, alive, cell_with, load, stdout_of, tagged_cells

SLOTS = ROOT / ".venv" / "evcxr"


def slot_is_free(slot):
    """Whether no process holds the lock of `slot` (a directory under SLOTS)."""
    fd = os.open(SLOTS / f"{slot.name}.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


NOTEBOOK = load()
TAGGED = tagged_cells(NOTEBOOK)
IN_10 = TAGGED["in-10"]
SETUP = [TAGGED["in-1"], cell_with(NOTEBOOK, "let rt: Runtime")] + [
    TAGGED[f"in-{n}"] for n in range(5, 10)
]


def test_two_kernels_at_once_each_in_a_slot_of_their_own():
    with ThreadPoolExecutor(2) as pool:
        kernels = list(pool.map(lambda _: Kernel(), range(2)))
    try:
        dirs = [kernel.build_dir() for kernel in kernels]
        assert all(d is not None and d.parent == SLOTS for d in dirs), dirs
        assert dirs[0] != dirs[1]
        assert not any(slot_is_free(d) for d in dirs)

        def work(kernel):
            for cell in SETUP:
                kernel.run_clean(cell.source)
            return kernel.run_clean(IN_10.source).stdout

        with ThreadPoolExecutor(2) as pool:
            outputs = list(pool.map(work, kernels))
        assert outputs[0] == outputs[1] == stdout_of(IN_10)
    finally:
        for kernel in kernels:
            kernel.close()


@contextmanager
def kernel_to_kill():
    """A kernel that the test kills; closing it afterwards may find nothing left to close."""
    kernel = Kernel()
    try:
        yield kernel
    finally:
        try:
            kernel.close()
        except Exception:
            pass


def wait_until(done, failure, seconds=30):
    """Polls `done()` until it holds; fails with `failure()` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, failure()
        time.sleep(0.2)


def test_a_killed_kernel_leaves_its_slot_free():
    with kernel_to_kill() as kernel:
        slot = kernel.build_dir()
        kernel.run_clean("let x: i64 = 1;")
        assert not slot_is_free(slot)
        # As the system's OOM killer, or `kill -9` by hand: the launcher's process group.
        os.killpg(os.getpgid(kernel.pid), signal.SIGKILL)
        wait_until(lambda: slot_is_free(slot), lambda: f"{slot} still taken 30 s after the kill")


def test_an_edit_under_src_reaches_the_next_kernel():
    # A copy of the crate and the notebook folder, as a reader's own checkout. Always in the
    # same place: cargo keeps a build of the crate per path in the slot it used.
    tmp_path = ROOT / ".venv" / "slots-test-checkout"
    shutil.rmtree(tmp_path, ignore_errors=True)
    tmp_path.mkdir()
    # Copied with new mtimes, as a checkout writes them: cargo compares mtimes, and the build of
    # the last run's edited copy is still in the slot.
    for name in ["Cargo.toml", "Cargo.lock"]:
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src", copy_function=shutil.copy)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "evcxr.toml", tmp_path / "notebooks" / "evcxr.toml")
    show = 'println!("{}", executed_in(Duration::from_millis(1500)));'

    def first_cells():
        kernel = Kernel(cwd=tmp_path / "notebooks")
        try:
            kernel.run_clean(TAGGED["in-1"].source)
            return kernel.run_clean(show).stdout
        finally:
            kernel.close()

    assert first_cells() == "Executed in  1.50s\n"
    timing = tmp_path / "src" / "timing.rs"
    source = timing.read_text()
    assert 'format!("Executed in  {' in source
    timing.write_text(source.replace('format!("Executed in  {', 'format!("Ran in  {'))
    assert first_cells() == "Ran in  1.50s\n"
    shutil.rmtree(tmp_path)


def test_killing_the_launcher_alone_leaves_no_evcxr_behind():
    # A client that kills the kernel's pid rather than its process group: evcxr and the process
    # that runs the cells go with the launcher (PR_SET_PDEATHSIG), and its slot is free again.
    with kernel_to_kill() as kernel:
        kernel.run_clean("let x: i64 = 1;")
        slot, orphans = kernel.build_dir(), [kernel.evcxr_pid, kernel.cell_pid]
        os.kill(kernel.pid, signal.SIGKILL)
        wait_until(
            lambda: not any(alive(pid) for pid in orphans) and slot_is_free(slot),
            lambda: f"left behind: {[p for p in orphans if alive(p)]}, slot free: {slot_is_free(slot)}",
        )


