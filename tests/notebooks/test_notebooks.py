"""The notebook, executed from scratch under the real evcxr kernel, as
"Restart & Run All" and `make notebooks` execute it, then exported to HTML."""
import re

import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config

from helpers import (
    PANIC,
    ROOT,
    TIMING,
    TIMING_BOUNDS,
    Kernel,
    code_cells,
    cpython_makerandom,
    load,
    meant_to_panic,
    meant_to_raise,
    sanitize,
    stdout_of,
    strip_ansi,
    tag_of,
    tagged_cells,
    varies,
)

# A variable a cell keeps, without its type written out.
UNTYPED_LET = re.compile(r"^let (mut )?[^:=]+=", re.MULTILINE)
# Where code shown in a cell's comment comes from.
SHOWN_SOURCE = re.compile(r"^// (src/\S+\.rs)")


def whole_stdout(notebook):
    return "".join(stdout_of(cell) for cell in code_cells(notebook) if not varies(cell))


def test_every_cell_runs_without_error_or_panic(executed):
    # Except the cells meant to fail, which their own tests check.
    for index, cell in enumerate(code_cells(executed)):
        for output in cell.outputs:
            if not meant_to_raise(cell):
                assert output.output_type != "error", f"code cell {index}: {output.get('evalue')}"
            if output.output_type == "stream" and output.name == "stderr" and not meant_to_panic(cell):
                assert not PANIC.search(output.text), f"code cell {index} panicked:\n{output.text}"


def unasked_values(notebook):
    """The first line of each cell whose result is a bare `()`: a value the reader did not ask
    for (evcxr shows the value of a cell's last expression, and a `for` loop's is `()`)."""
    return [
        cell.source.splitlines()[0]
        for cell in code_cells(notebook)
        for output in cell.get("outputs", [])
        if output.output_type == "execute_result" and output.data.get("text/plain", "").strip() == "()"
    ]


def test_no_committed_cell_shows_a_value_the_reader_did_not_ask_for():
    assert unasked_values(load()) == []


def test_no_cell_of_a_fresh_run_shows_a_value_the_reader_did_not_ask_for(executed):
    assert unasked_values(executed) == []


def test_the_cells_meant_to_fail_are_few_and_say_so():
    # Each is announced by the markdown cell above it.
    cells = load().cells
    for index, cell in enumerate(cells):
        if meant_to_raise(cell) or meant_to_panic(cell):
            above = cells[index - 1]
            assert above.cell_type == "markdown" and "meant" in above.source, cell.source
    assert sum(meant_to_raise(cell) or meant_to_panic(cell) for cell in cells) == 2


def test_every_original_cell_has_its_mirror():
    tags = [tag_of(cell) for cell in load().cells if tag_of(cell)]
    assert tags == [f"in-{n}" for n in range(1, 11)]


def test_tagged_cells_print_what_the_committed_notebook_shows(executed):
    committed, fresh = tagged_cells(load()), tagged_cells(executed)
    for tag, cell in committed.items():
        assert sanitize(stdout_of(fresh[tag])) == sanitize(stdout_of(cell)), tag


def test_the_whole_notebook_prints_what_is_committed(executed):
    # A background task's lines land under whichever cell is running when
    # they are printed, so the untagged cells are compared as one stream.
    assert sanitize(whole_stdout(executed)) == sanitize(whole_stdout(load()))


@pytest.mark.parametrize("tag", sorted(TIMING_BOUNDS))
def test_the_count_demos_print_the_original_lines_in_time(executed, tag):
    text = stdout_of(tagged_cells(executed)[tag])
    lines = text.splitlines()
    expected = ["One"] * 3 + ["Two"] * 3 if tag == "in-3" else ["One", "Two"] * 3
    assert lines[:-1] == expected
    seconds = float(TIMING.fullmatch(lines[-1]).group(1))
    low, high = TIMING_BOUNDS[tag]
    assert low <= seconds <= high, f"{tag} took {seconds}s"


def test_in_10_prints_what_cpython_prints_for_seed_444(executed):
    assert stdout_of(tagged_cells(executed)["in-10"]) == cpython_makerandom("--seed", "444")


def test_in_10_matches_the_original_notebook(executed):
    original = (ROOT / "tests" / "reference" / "original_in10.txt").read_text()
    plain = strip_ansi(stdout_of(tagged_cells(executed)["in-10"]))
    assert plain == original


def test_no_color_turns_the_colours_off_in_the_notebook():
    kernel = Kernel(NO_COLOR="1")
    try:
        cells = tagged_cells(load())
        for tag in ["in-1", "in-5", "in-6", "in-7", "in-8", "in-9"]:
            kernel.run_clean(cells[tag].source)
        kernel.run_clean("let rt: Runtime = Runtime::paused().unwrap();")
        printed = kernel.run_clean(cells["in-10"].source).stdout
    finally:
        kernel.close()
    assert printed == strip_ansi(cpython_makerandom("--seed", "444"))


def test_the_html_export_shows_the_colours_and_the_blank_line(executed):
    # As `make notebooks` exports it: one stream output per cell.
    exporter = HTMLExporter(config=Config(CoalesceStreamsPreprocessor={"enabled": True}))
    html, _ = exporter.from_notebook_node(executed)
    for css_class, line in [
        ("ansi-cyan-fg", "Initiated makerandom(0)"),
        ("ansi-red-intense-fg", "--&gt; Finished: makerandom(1) == 10"),
        ("ansi-magenta-fg", "--&gt; Finished: makerandom(2) == 9"),
    ]:
        assert f'<span class="{css_class}">{line}' in html, css_class
    assert "makerandom(0) == 10</span>\n\nr1: 10, r2: 10, r3: 9" in html
    assert "Executed in  1.0" in html


def test_every_variable_a_cell_keeps_has_its_type_written_out():
    # So that the notebook runs under plain evcxr too: without rust-src, it
    # cannot infer the type of a kept variable and stops with "Couldn't
    # automatically determine type of variable" (our kernel infers it).
    for cell in code_cells(load()):
        assert not UNTYPED_LET.search(cell.source), cell.source


def shown_blocks(source):
    """The runs of code a cell shows in its comments (lines `//     ...`), each
    run a list of stripped lines; a line that is not code ends a run."""
    blocks, block = [], []
    for line in source.splitlines() + [""]:
        if line.startswith("//     "):
            block.append(line[len("//     "):].strip())
        elif block:
            blocks.append(block)
            block = []
    return blocks


def test_code_shown_in_comments_is_the_crate_s_code():
    # Cells like In [2] show the helper crate's function in a comment; it
    # must not drift from the source it names. Each run of shown lines must
    # be a run of lines of that file, whole and in order (a lone `}` matches
    # nothing by itself), and the runs come in the file's order.
    for cell in code_cells(load()):
        match = SHOWN_SOURCE.match(cell.source)
        if not match:
            continue
        source = [line.strip() for line in (ROOT / match.group(1)).read_text().splitlines()]
        blocks = shown_blocks(cell.source)
        assert blocks, tag_of(cell)
        position = 0
        for block in blocks:
            starts = [
                start
                for start in range(position, len(source) - len(block) + 1)
                if source[start:start + len(block)] == block
            ]
            assert starts, f"{tag_of(cell)}: these lines are not one block of {match.group(1)}:\n" + "\n".join(block)
            position = starts[0] + len(block)
