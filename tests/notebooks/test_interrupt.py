"""Jupyter's interrupt button, pressed as a reader presses it: through the
kernel spec (`interrupt_mode` "signal": SIGINT to the kernel's process group),
by jupyter_client's `interrupt_kernel()`, during the notebook's long cells.

After each press the cell must end with `KeyboardInterrupt` and no panic, and
`rt`, `random` and `c` must still work; at the end `in-9` and `in-10` print
what CPython prints for seed 444. Then a blocking cell and a `loop {}`. The
checks share one kernel and run in file order; sizes are scaled down from
the notebook's."""
import re
import time
from pathlib import Path

import pytest

from helpers import PANIC, Kernel, cell_with, children_of, cpython_makerandom, load, tagged_cells

KEYBOARD_INTERRUPT = "KeyboardInterrupt"
BLOCKING = "Interrupt: this cell is running code that does not .await"
LOST = "Interrupted again: ending the process that runs the cells. Every variable is lost"
# rt, random and c, used after every interrupt.
STILL_THERE = 'println!("{} {} {}", rt.run(async { 6 * 7 }), random.randint(1, 1), c.reset().len());'


def threads_of(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


def sockets_of(pid):
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += fd.readlink().name.startswith("socket:")
        except FileNotFoundError:
            pass
    return count


def assert_interrupted(run):
    """The cell ended at the press with Python's word, once, as its last
    line, and no panic. (The interrupt prints on stdout, which evcxr delivers
    before it reports the cell done.)"""
    assert len(run.pressed) == 1, run.pressed
    assert run.stdout.splitlines().count(KEYBOARD_INTERRUPT) == 1, run.stdout
    assert run.stdout.endswith(f"{KEYBOARD_INTERRUPT}\n"), run.stdout
    assert BLOCKING not in run.stdout, run.stdout
    assert not PANIC.search(run.stderr), run.stderr
    assert run.status == "ok" and not run.errors, run.errors


def printed_before(run):
    """What the cell printed before the interrupt's line."""
    return run.stdout.removesuffix(f"{KEYBOARD_INTERRUPT}\n")


def assert_still_there(kernel):
    assert kernel.run_clean(STILL_THERE).stdout == "42 1 4\n"


@pytest.fixture(scope="module")
def session():
    """A kernel that has run the notebook's cells up to `in-9`, with `rt`,
    `random`, `c` and the pool section's server and pool."""
    kernel = Kernel()
    notebook = load()
    cells = tagged_cells(notebook)
    for tag in ["in-1", "in-2", "in-5", "in-6", "in-7", "in-8"]:
        kernel.run_clean(cells[tag].source)
    for marker in ["let rt: Runtime", "use asyncio_rs::demos::tasks_vs_threads::",
                   "use asyncio_rs::demos::network;", "let pool: Pool", "async fn fetch_and_hash"]:
        kernel.run_clean(cell_with(notebook, marker).source)
    yield kernel, notebook, cells
    kernel.close()


def test_in_10_stops_within_half_a_second_and_every_variable_survives(session):
    kernel, _, cells = session
    kernel.run_clean(cells["in-9"].source)
    run = kernel.run(cells["in-10"].source, presses=[("Initiated makerandom(0)", 3)])
    assert_interrupted(run)
    stopped = run.ended - run.pressed[0]
    assert stopped < 0.5
    print(f"in-10 stopped {stopped * 1000:.0f} ms after the press")
    # It printed what it printed up to the press: the start of seed 444's lines.
    assert cpython_makerandom("--seed", "444").startswith(printed_before(run))
    assert "Finished: makerandom(0)" not in run.stdout
    assert_still_there(kernel)


def test_the_threads_comparison_joins_its_threads(session):
    kernel, _, _ = session
    pid = kernel.cell_pid
    before = threads_of(pid)
    # Pressed while the tasks run, then while the threads start.
    for code, delay in [
        ('println!("comparing");\ntasks_vs_threads::compare(&rt, &[1_000, 10_000], &[100, 1_000])?', 0.5),
        ('println!("starting threads");\ntasks_vs_threads::threads(10_000)?', 0.2),
    ]:
        run = kernel.run(code, presses=[(code.split('"')[1], delay)])
        assert_interrupted(run)
        assert threads_of(pid) == before, "threads are left"
    assert_still_there(kernel)


def test_the_network_demo_closes_its_connections_and_servers(session):
    kernel, _, _ = session
    pid = kernel.cell_pid
    before = sockets_of(pid), threads_of(pid)
    # Pressed while the tasks' clients wait, then while the threads' do: the tasks' part ends with
    # its progress line, and the threads' part starts right after it (whole, it takes about 1.5 s
    # here, so a fixed delay may come after the cell's end).
    for marker, delay in [("clients", 0.3), ("tokio tasks:", 0.2)]:
        run = kernel.run('println!("clients");\nnetwork::compare(10_000)?', presses=[(marker, delay)])
        assert_interrupted(run)
        assert (sockets_of(pid), threads_of(pid)) == before, "sockets or threads are left"
    assert_still_there(kernel)


def test_an_interrupted_pool_call_leaves_no_worker_and_the_pool_serves_the_next(session):
    kernel, notebook, _ = session
    pid = kernel.cell_pid
    run = kernel.run(
        'println!("mapping");\n'
        "let many: Vec<Result<(u32, u32, String), JobError>> =\n"
        "    rt.run(pool.map(0..64, move |n| fetch_and_hash(address, n)));",
        presses=[("mapping", 0.5)],
    )
    assert_interrupted(run)
    assert children_of(pid) == [], "worker processes are left"
    again = kernel.run_clean(cell_with(notebook, "rt.run(pool.apply(").source)
    assert again.stdout.startswith("item 8: worker process ")
    assert children_of(pid) == []
    assert_still_there(kernel)


def test_in_9_and_in_10_then_print_what_cpython_prints_for_444(session):
    kernel, _, cells = session
    kernel.run_clean(cells["in-9"].source)
    assert kernel.run_clean(cells["in-10"].source).stdout == cpython_makerandom("--seed", "444")


def test_a_blocking_cell_is_told_and_runs_to_its_end(session):
    kernel, _, _ = session
    run = kernel.run(
        'println!("sleeping");\nstd::thread::sleep(Duration::from_secs(3));\nprintln!("woke up");',
        presses=[("sleeping", 1)],
    )
    assert run.status == "ok" and not run.errors, run.errors
    [told] = [line for line in run.stdout.splitlines() if line.startswith(BLOCKING)]
    assert run.stdout == f"sleeping\n{told}\nwoke up\n"
    # The press went with the cell: the next run is not interrupted.
    assert_still_there(kernel)


def test_a_press_while_no_cell_runs_does_nothing(session):
    kernel, _, _ = session
    kernel.manager.interrupt_kernel()
    # Time for the press to arrive; a message would show in the next cell's output.
    time.sleep(1)
    assert_still_there(kernel)


def test_a_loop_ends_the_process_at_the_second_press_and_the_next_cell_answers(session):
    kernel, _, _ = session
    run = kernel.run('println!("looping");\nloop {}', presses=[("looping", 1), (BLOCKING, 0.5)])
    assert len(run.pressed) == 2
    assert run.stdout.count(BLOCKING) == 1, run.stdout
    assert LOST in run.stdout, run.stdout
    assert run.status == "error", run.errors
    assert run.errors == ["Error: Subprocess terminated with status: exit status: 130"]
    assert kernel.run_clean('println!("{}", 6 * 7);').stdout == "42\n"
    # The variables went with the process, as the message said.
    assert kernel.run("rt").status == "error"


def test_in_evcxr_async_mode_every_constructor_works_and_a_run_is_interrupted(session):
    # Last: after a top-level `.await`, evcxr wraps every cell in a tokio
    # runtime of its own (here in the fresh process the loop left).
    kernel, _, _ = session
    kernel.run_clean('tokio::time::sleep(Duration::from_millis(1)).await;')
    run = kernel.run_clean(
        """
        let rt: Runtime = Runtime::new().expect("start the event loop");
        {
            let paused: Runtime = Runtime::paused().expect("start a paused event loop");
            let hour = paused.spawn(async { tokio::time::sleep(Duration::from_secs(3600)).await; "an hour" });
            println!("{} {} {}", rt.run(async { 1 }), paused.run(hour).unwrap(), asyncio_rs::runtime::run(async { 3 }));
        }
        """
    )
    assert run.stdout == "1 an hour 3\n"
    run = kernel.run(
        'println!("waiting");\nrt.run(async { tokio::time::sleep(Duration::from_secs(3600)).await });',
        presses=[("waiting", 0.5)],
    )
    assert_interrupted(run)
    assert kernel.run_clean('println!("{}", rt.run(async { 6 * 7 }));').stdout == "42\n"


def test_before_any_runtime_a_press_ends_a_running_cell_as_plain_evcxr_does():
    # A fresh kernel that made no Runtime: nothing in the cell process has taken SIGINT over,
    # so the launcher ends the process of a running cell; a press between cells does nothing.
    kernel = Kernel()
    try:
        kernel.run_clean("let kept: i64 = 7;")
        kernel.manager.interrupt_kernel()
        time.sleep(1)
        assert kernel.run_clean('println!("{kept}");').stdout == "7\n"
        run = kernel.run('println!("looping");\nloop {}', presses=[("looping", 1)])
        assert run.status == "error", run.stdout
        assert run.errors == ["Error: Subprocess terminated with status: signal: 9 (SIGKILL)"], run.errors
        assert kernel.run_clean('println!("{}", 6 * 7);').stdout == "42\n"
    finally:
        kernel.close()
