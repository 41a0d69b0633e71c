"""The fire-and-forget cells ("Async IO vs threading", the original's second
example of IO-bound work), as a fresh run of the notebook shows them: writes
handed to a task that owns the file, a counter shared with no lock, the cell
meant not to compile, and the updates an `.await` in the middle loses.

Speed is not tested: the tables' seconds are whatever the machine gives. What
the lines, the counts and the paused-clock runs show is."""
import re

from helpers import (
    PANIC,
    cell_with,
    code_cells,
    load,
    meant_to_panic,
    meant_to_raise,
    number,
    shown_text,
    stdout_of,
    strip_ansi,
)

WRITE_ROW = re.compile(
    r"^(tokio tasks|OS threads) +(a task that owns the file|a Mutex around the file|a thread that owns the file)"
    r" +\d+\.\d\d +([\d,]+) +([\d,]+) +(yes|no) +([\d,]+)$"
)
COUNT_ROW = re.compile(r"^(tokio tasks|OS threads) +(Rc<RefCell<u64>>, no lock|Arc<Mutex<u64>>) +\d+\.\d{3} +([\d,]+)$")


def rows(pattern, text):
    return [match.groups() for match in map(pattern.match, text.splitlines()) if match]


def test_every_way_of_writing_puts_all_the_lines_in_the_file_whole_once_in_order(executed):
    text = shown_text(cell_with(executed, "compare_writes(&rt, 1_000, 100)"))
    assert text.startswith("100,000 lines: 1,000 writers, 100 lines each, to one file, read back"), text
    found = rows(WRITE_ROW, text)
    assert [row[:2] for row in found] == [
        ("tokio tasks", "a task that owns the file"),
        ("OS threads", "a Mutex around the file"),
        ("OS threads", "a thread that owns the file"),
    ], text
    for _, _, lines, whole, in_order, _ in found:
        assert (number(lines), number(whole), in_order) == (100_000, 100_000, "yes"), text
    # What the prose says: the tasks alternate almost line by line, the
    # threads' lines come in runs.
    switches = [number(row[5]) for row in found]
    assert switches[0] >= 90_000, text
    assert max(switches[1:]) < switches[0] / 2, text


def test_a_full_disk_comes_back_as_the_error(executed):
    # After a line as each way of writing ends (they vary with the machine).
    printed = stdout_of(cell_with(executed, 'PathBuf::from("/dev/full")')).splitlines()
    assert [line.split(":")[0] for line in printed[:-1]] == [
        "tokio tasks handing lines to a task that owns the file",
        "OS threads handing lines to a Mutex around the file",
        "OS threads handing lines to a thread that owns the file",
    ], printed
    assert printed[-1] == 'Err(Os { code: 28, kind: StorageFull, message: "No space left on device" })'


def test_tasks_with_no_lock_and_threads_with_one_count_every_update(executed):
    text = shown_text(cell_with(executed, "compare_counts(100, 1_000)"))
    assert text.startswith("100,000 updates of one counter: 100 workers, 1,000 updates each"), text
    found = rows(COUNT_ROW, text)
    assert [(name, sharing) for name, sharing, _ in found] == [
        ("tokio tasks", "Rc<RefCell<u64>>, no lock"),
        ("OS threads", "Arc<Mutex<u64>>"),
    ], text
    assert [number(count) for _, _, count in found] == [100_000, 100_000], text


def test_rc_shared_by_threads_fails_to_compile_with_e0277_and_the_kernel_goes_on(executed):
    cells = code_cells(executed)
    [index] = [i for i, cell in enumerate(cells) if meant_to_raise(cell)]
    failed = cells[index]
    assert "std::thread::spawn(move || *count.borrow_mut() += 1)" in failed.source
    # evcxr's report of a compile error: one error output, the compiler's
    # message as its value, the code and the message first in the traceback.
    [error] = failed.outputs
    assert error.output_type == "error", failed.outputs
    assert error.evalue == "`Rc<RefCell<u64>>` cannot be sent between threads safely"
    message = strip_ansi("\n".join(error.traceback))
    assert message.startswith("[E0277] Error: `Rc<RefCell<u64>>` cannot be sent between threads safely\n"), message
    # Nothing else is wrong with the cell: one compiler error, this one.
    assert len(re.findall(r"\[E\d{4}\] Error:", message)) == 1, message
    # The next cell ran, in the same kernel.
    after = cells[index + 1]
    assert after.execution_count == failed.execution_count + 1
    assert "count 2 of 6, 4 lost" in stdout_of(after)


def test_read_await_write_loses_updates_and_the_fixes_lose_none(executed):
    cell = cell_with(executed, "fire_and_forget::race(update, 3, 2)")
    assert stdout_of(cell) == (
        "read, .await, write: 3 tasks × 2 updates, count 2 of 6, 4 lost, 2 ms\n"
        "read, write, .await: 3 tasks × 2 updates, count 6 of 6, 0 lost, 2 ms\n"
        "a tokio Mutex held across the .await: 3 tasks × 2 updates, count 6 of 6, 0 lost, 6 ms\n"
    )
    # The timeline: three sections of three lanes, as a picture and as text.
    [picture] = [output for output in cell.outputs if "image/svg+xml" in output.get("data", {})]
    chart = picture.data["text/plain"]
    for title in ["read, .await, write", "read, write, .await", "a tokio Mutex held across the .await"]:
        assert f"\n{title}\n" in f"\n{chart}", chart
    assert chart.count("task 1 ") == 3, chart


def test_a_borrow_held_across_an_await_panics_with_already_borrowed(executed):
    [cell] = [cell for cell in code_cells(executed) if meant_to_panic(cell)]
    assert stdout_of(cell) == (
        "a RefCell borrow held across the .await: 2 tasks × 2 updates, "
        "a task panicked: RefCell already borrowed\n"
    )
    stderr = "".join(output.text for output in cell.outputs if output.get("name") == "stderr")
    assert PANIC.search(stderr) and "RefCell already borrowed" in stderr, stderr
    # Short: where, the message and how to get a backtrace (src/panics.rs), in three lines.
    assert "stack backtrace" not in stderr and len(stderr.strip().splitlines()) == 3, stderr
    # Where, as the repository names the file: no machine's absolute path in the notebook.
    assert " panicked at src/demos/fire_and_forget/races.rs:" in stderr, stderr


def test_the_section_sits_between_the_network_cells_and_await_takes_only_futures():
    sources = [cell.source for cell in load().cells]
    network = max(i for i, source in enumerate(sources) if "network::compare" in source)
    futures = next(i for i, source in enumerate(sources) if source.startswith("**`await` takes only futures.**"))
    ours = [i for i, source in enumerate(sources) if "fire_and_forget" in source]
    assert network < min(ours) and max(ours) < futures
