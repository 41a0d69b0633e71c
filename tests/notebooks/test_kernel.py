"""One evcxr session, used the way people use a notebook: cells re-run out of
order, background tasks, a panic, spawning in many cells, top-level `.await`.

The tests share one kernel and run in file order."""
import re

import pytest

from helpers import (
    Kernel,
    code_cells,
    cpython_makerandom,
    load,
    meant_to_panic,
    meant_to_raise,
    sanitize,
    stdout_of,
    tagged_cells,
    varies,
)

# Each code cell of the session's first run of the notebook, with what it did (its Run).
FIRST_RUN = []
# The longest a cell may run without printing a line, once it has printed one (before its first
# line, a cell also compiles). The cell that blocks its thread on purpose is the exception.
SILENCE = 4.0
BLOCKS_ON_PURPOSE = "std::thread::sleep(Duration::from_secs(7));"


def run_cell(kernel, cell):
    """What a cell did; it must run cleanly, but for the cells meant to fail to compile or
    to panic, whose own tests (test_fire_and_forget.py) check their error."""
    if meant_to_raise(cell) or meant_to_panic(cell):
        run = kernel.run(cell.source)
        assert run.errors or "panicked at" in run.stderr, f"meant to fail, ran: {cell.source}"
        return run
    return kernel.run_clean(cell.source)


def run_all(kernel, notebook, runs=None):
    """Runs every code cell in order, as "Run All" does; returns what they
    printed, but for the cells tagged `varies` (process ids), and adds each
    cell and its Run to `runs`."""
    printed = []
    for cell in code_cells(notebook):
        run = run_cell(kernel, cell)
        if runs is not None:
            runs.append((cell, run))
        printed.append((cell, run.stdout))
    return "".join(stdout for cell, stdout in printed if not varies(cell))


@pytest.fixture(scope="module")
def session():
    """A kernel that has run the whole notebook once, top to bottom."""
    kernel = Kernel()
    notebook = load()
    first = run_all(kernel, notebook, FIRST_RUN)
    yield kernel, notebook, first
    kernel.close()


def test_running_everything_again_prints_the_same(session):
    kernel, notebook, first = session
    assert sanitize(run_all(kernel, notebook)) == sanitize(first)


def test_no_cell_is_silent_for_long_once_it_has_printed(session):
    # Progress lines: a reader can tell a slow cell from a hung one.
    assert FIRST_RUN
    for cell, run in FIRST_RUN:
        if BLOCKS_ON_PURPOSE in cell.source or not run.arrivals:
            continue
        instants = [when for when, _ in run.arrivals] + [run.ended - run.started]
        silence = max(later - earlier for earlier, later in zip(instants, instants[1:]))
        assert silence <= SILENCE, f"{silence:.1f} s without a line in:\n{cell.source}"


def test_in_10_streams_each_line_when_it_is_printed(session):
    kernel, notebook, _ = session
    cells = tagged_cells(notebook)
    kernel.run_clean(cells["in-9"].source)
    run = kernel.run_clean(cells["in-10"].source)
    arrivals = [(when, text) for when, text in run.arrivals if text.strip()]
    first_line = next(when for when, text in arrivals if "Initiated makerandom(0)" in text)
    last_task_line = next(when for when, text in arrivals if "Finished: makerandom(0)" in text)
    # makerandom(0) sleeps 1 s twelve times between its first and last line.
    assert last_task_line - first_line >= 11, arrivals


def test_re_running_in_10_continues_the_sequence_as_python_does(session):
    kernel, notebook, _ = session
    cells = tagged_cells(notebook)
    kernel.run_clean(cells["in-9"].source)
    both = kernel.run_clean(cells["in-10"].source).stdout + kernel.run_clean(cells["in-10"].source).stdout
    assert both == cpython_makerandom("--seed", "444", "--runs", "2")
    # Seeding again repeats the first run.
    kernel.run_clean(cells["in-9"].source)
    assert kernel.run_clean(cells["in-10"].source).stdout == cpython_makerandom("--seed", "444")


def test_cells_re_run_out_of_order_print_what_they_printed_first(session):
    kernel, notebook, _ = session
    cells = tagged_cells(notebook)
    committed = {tag: sanitize(stdout_of(cell)) for tag, cell in cells.items()}
    for tag in ["in-4", "in-3", "in-8", "in-7", "in-2", "in-6", "in-5", "in-1", "in-3", "in-9", "in-10"]:
        assert sanitize(kernel.run_clean(cells[tag].source).stdout) == committed[tag], tag


def test_tokio_spawn_works_in_every_cell(session):
    kernel, _, _ = session
    for n in range(1, 11):
        run = kernel.run_clean(
            f"""
            let answer: i32 = rt.run(async {{
                let task = tokio::spawn(async {{
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    {n} * 10
                }});
                task.await.unwrap()
            }});
            println!("cell {n}: {{answer}}");
            """
        )
        assert run.stdout == f"cell {n}: {n * 10}\n"


def test_a_task_from_one_cell_is_awaited_in_another(session):
    kernel, _, _ = session
    kernel.run_clean(
        "let later: JoinHandle<i32> = rt.spawn(async { tokio::time::sleep(Duration::from_millis(300)).await; 99 });"
    )
    kernel.run_clean('println!("an unrelated cell");')
    assert kernel.run_clean('println!("{}", rt.run(later).unwrap());').stdout == "99\n"


def test_a_panic_in_a_cell_leaves_the_runtime_working(session):
    kernel, _, _ = session
    run = kernel.run('rt.run(async { panic!("boom in a task") });')
    assert "boom in a task" in run.stderr
    assert kernel.run_clean('println!("{}", rt.run(async { 2 + 2 }));').stdout == "4\n"


def test_a_panic_is_short_unless_rust_backtrace_asks_for_a_backtrace(session):
    kernel, _, _ = session
    panic = 'rt.run(async { let none: Option<u8> = None; none.expect("a value") });'
    # As a kernel started without RUST_BACKTRACE (evcxr sets it for the cells; the crate puts
    # the reader's choice back).
    kernel.run_clean('unsafe { std::env::remove_var("RUST_BACKTRACE") };')
    short = kernel.run(panic).stderr
    # Where, the message and how to get more: no frame of tokio's or evcxr's.
    assert re.fullmatch(
        r"thread '[^']*' panicked at [^\n]*:\d+:\d+:\na value\n"
        r"note: set RUST_BACKTRACE=1 for a backtrace\n",
        short.lstrip("\n"),
    ), short
    kernel.run_clean('unsafe { std::env::set_var("RUST_BACKTRACE", "1") };')
    long = kernel.run(panic).stderr
    assert "a value" in long and "stack backtrace:" in long and "tokio::runtime" in long, long
    kernel.run_clean('unsafe { std::env::remove_var("RUST_BACKTRACE") };')
    assert "stack backtrace" not in kernel.run(panic).stderr


def test_the_free_run_works_in_a_cell(session):
    kernel, _, _ = session
    run = kernel.run_clean('println!("{}", asyncio_rs::runtime::run(async { "like asyncio.run" }));')
    assert run.stdout == "like asyncio.run\n"


def test_a_paused_runtime_kept_across_cells_keeps_exact_time(session):
    # Each new cell's copy of tokio nudges the paused clock by nanoseconds;
    # the runtime puts it back on tokio's millisecond grid, so twelve sleeps
    # of a second still take exactly 12 s of virtual time in a later cell.
    kernel, _, _ = session
    kernel.run_clean("let virtual_clock: Runtime = Runtime::paused().unwrap();")
    for _ in range(2):
        run = kernel.run_clean(
            """
            let slept: Duration = virtual_clock.run(async {
                let start = tokio::time::Instant::now();
                for _ in 0..12 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                start.elapsed()
            });
            println!("{slept:?}");
            """
        )
        assert run.stdout == "12s\n"


def test_top_level_await_keeps_the_variables_and_rt_still_works(session):
    # Last: evcxr wraps every later cell in its own runtime from here on.
    kernel, notebook, _ = session
    run = kernel.run_clean(
        'tokio::time::sleep(Duration::from_millis(10)).await; println!("top-level await");'
    )
    assert run.stdout == "top-level await\n"
    assert "was lost" not in run.stderr
    run = kernel.run_clean(
        'println!("{}", rt.run(async { tokio::spawn(async { 8 }).await.unwrap() }));'
    )
    assert run.stdout == "8\n"
    cells = tagged_cells(notebook)
    kernel.run_clean(cells["in-9"].source)
    assert kernel.run_clean(cells["in-10"].source).stdout == cpython_makerandom("--seed", "444")

