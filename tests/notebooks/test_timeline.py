"""The timeline cells of the notebook, as a fresh run shows them: pictures
(image/svg+xml, with a text/plain fallback) of the count demos and of the
makerandom run, whose lanes must agree with what the same run printed."""
import re
import xml.etree.ElementTree as ET

import pytest

from helpers import code_cells, cpython_makerandom, stdout_of, strip_ansi

SVG = "{http://www.w3.org/2000/svg}"
# The colours JupyterLab draws cyan, bright red and magenta in.
TASK_COLOURS = ["#60c6c8", "#b22b31", "#d160c4"]


def cell_calling(notebook, name):
    cells = [cell for cell in code_cells(notebook) if name in cell.source]
    assert len(cells) == 1, f"one cell calls {name}"
    return cells[0]


def picture(cell):
    """The cell's rich output: its SVG, parsed, and its text/plain."""
    bundles = [
        output.data
        for output in cell.outputs
        if output.output_type in ("execute_result", "display_data")
    ]
    assert len(bundles) == 1, cell.outputs
    data = bundles[0]
    assert set(data) >= {"image/svg+xml", "text/plain"}, sorted(data)
    return ET.fromstring(data["image/svg+xml"]), data["text/plain"]


def lanes(svg):
    """[(name, colour, [(kind, from, to)])] from top to bottom."""
    found = []
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") != "lane":
            continue
        spans = [
            (rect.get("class"), float(rect.get("data-from")), float(rect.get("data-to")))
            for rect in group.iter(f"{SVG}rect")
            if rect.get("class") in ("run", "wait", "ready")
        ]
        found.append((group.get("data-name"), group.get("data-color"), spans))
    return found


def titles(svg):
    return [text.text for text in svg.iter(f"{SVG}text") if text.get("class") == "title"]


@pytest.fixture(scope="module")
def counts(executed):
    return cell_calling(executed, "count::main_recorded()")


@pytest.fixture(scope="module")
def makerandom(executed):
    return cell_calling(executed, "main_recorded(SharedRandom::new(444), c)")


def test_the_count_timelines_print_what_in_3_and_in_4_print(counts):
    lines = stdout_of(counts).splitlines()
    assert lines == ["One"] * 3 + ["Two"] * 3 + ["One", "Two"] * 3


def test_the_concurrent_counts_wait_side_by_side_and_the_blocking_ones_in_a_row(counts):
    svg, text = picture(counts)
    assert titles(svg) == ["In [3]: concurrent, on the paused clock", "In [4]: blocking, on the real clock"]
    drawn = lanes(svg)
    assert [name for name, _, _ in drawn] == [f"count() #{n}" for n in (1, 2, 3)] * 2
    # Concurrent, on the paused clock: exact times, one wait from 0 s to 1 s each.
    for _, _, spans in drawn[:3]:
        assert sorted(spans) == [("run", 0.0, 0.0), ("run", 1.0, 1.0), ("wait", 0.0, 1.0)]
    # Blocking, on the real clock: one run of a second or more each, in a row.
    runs = [spans for _, _, spans in drawn[3:]]
    assert all(len(spans) == 1 and spans[0][0] == "run" for spans in runs), runs
    for (_, _, end), (_, next_start, _) in zip([s[0] for s in runs], [s[0] for s in runs[1:]]):
        assert next_start >= end
    assert all(end - start >= 1.0 for _, start, end in (s[0] for s in runs))
    assert text.count("1 wait, done at 1 s") == 3
    assert text.count("0 waits, done at ") == 3


def test_the_makerandom_timeline_is_the_run_it_printed(makerandom):
    printed = stdout_of(makerandom)
    # Recording changes nothing: the lines of In [10], colours and all.
    assert printed == cpython_makerandom("--seed", "444")
    svg, text = picture(makerandom)
    assert titles(svg) == []
    drawn = lanes(svg)
    assert [(name, colour) for name, colour, _ in drawn] == [
        (f"makerandom({idx})", colour) for idx, colour in enumerate(TASK_COLOURS)
    ]
    plain = strip_ansi(printed)
    for idx, (name, _, spans) in enumerate(drawn):
        retries = len(re.findall(rf"^makerandom\({idx}\) == \d+ too low; retrying\.$", plain, re.M))
        waits = [(start, end) for kind, start, end in spans if kind == "wait"]
        runs = [start for kind, start, _ in spans if kind == "run"]
        # One wait per "too low" line, each the task's sleep(idx + 1), back to back.
        assert len(waits) == retries, name
        assert waits == [(n * (idx + 1), (n + 1) * (idx + 1)) for n in range(retries)], name
        # A run to start, and one after each wait: the last one finishes.
        assert runs == [n * (idx + 1) for n in range(retries + 1)], name
        assert f"{name}  " in text and f"{retries} waits, done at {retries * (idx + 1)} s" in text


def test_the_svg_ids_are_unique_in_the_page(counts, makerandom):
    # Both pictures sit in one HTML page; their pattern ids must not clash.
    ids = []
    for cell in (counts, makerandom):
        svg, _ = picture(cell)
        ids += [element.get("id") for element in svg.iter() if element.get("id")]
    assert len(ids) == len(set(ids)), ids
