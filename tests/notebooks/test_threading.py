"""The "Async IO vs threading" section, first claim: tokio tasks against OS
threads, each sleeping a second, as a table and an inline chart; threads
stop short of the machine's limits, and the kernel survives a cell that asks
for more than they allow."""
import base64
import json
import re
import subprocess
from functools import cache

from nbconvert import HTMLExporter
from traitlets.config import Config

from helpers import ROOT, Kernel, code_cells, load, number, stdout_of

# A row of the table: kind, requested, started, seconds, peak, added, reason.
ROW = re.compile(
    r"^(tokio tasks|threads) +([\d,]+) +([\d,]+) +(\d+\.\d\d) +([\d.]+) MiB +([\d.]+) MiB  (.+)$"
)
STOPPED = re.compile(r"^stopped at ([\d,]+) threads: (\S+) \(.+\)$")


def by_id(notebook, cell_id):
    return next(cell for cell in notebook.cells if cell.get("id") == cell_id)


def rich_output(cell):
    """The data of the one value a cell shows (evcxr: an execute_result)."""
    shown = [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")]
    assert len(shown) == 1, cell.outputs
    return shown[0].data


@cache
def room_for_threads_here():
    """Whether this machine has room for 30,000 more threads, as the crate reckons it
    (`Limits::thread_headroom`, every limit with its margin), from the example that prints it."""
    report = subprocess.run(
        ["cargo", "run", "--quiet", "--example", "tasks_vs_threads", "--", "--limits", "--json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(report)["thread_headroom"] >= 30_000


def test_the_comparison_is_a_table_and_an_inline_svg_chart(executed):
    data = rich_output(by_id(executed, "threads-compare"))
    assert {"text/plain", "image/svg+xml"} <= set(data)

    header, *lines = data["text/plain"].splitlines()
    assert header.split()[:3] == ["kind", "requested", "started"]
    rows = [ROW.match(line).groups() for line in lines]
    asked = [(kind, number(requested)) for kind, requested, *_ in rows]
    assert asked == [("threads", n) for n in (100, 1_000, 10_000, 30_000)] + [
        ("tokio tasks", n) for n in (1_000, 10_000, 100_000, 1_000_000)
    ]
    for kind, requested, started, seconds, peak, added, reason in rows:
        assert float(seconds) >= 1.0, "each worker sleeps a second"
        assert float(peak) >= float(added) >= 0
        if started == requested:
            assert reason == "-"
        else:
            assert kind == "threads" and number(started) < number(requested)
            assert STOPPED.match(reason).group(1) == started
    stopped = [row for row in rows if row[-1] != "-"]
    assert len(stopped) == (0 if room_for_threads_here() else 1)

    svg = data["image/svg+xml"]
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    # Text as SVG text: titles, axis labels, ticks and legend, readable.
    threads = "threads"
    if stopped:
        threads += ", stopped by " + STOPPED.match(stopped[0][-1]).group(2)
    for text in ["wall time", "memory added at the peak", "seconds", "MiB", "tokio tasks",
                 threads, "1k", "1M"]:
        assert f">\n{text}\n</text>" in svg, text


def test_the_comparison_prints_a_line_as_each_measurement_ends(executed):
    # Progress: the cell runs for about 20 s; each measurement's line comes as it ends, in the
    # table's order (lines saying how many threads have started may come in between).
    cell = by_id(executed, "threads-compare")
    lines = [line for line in stdout_of(cell).splitlines() if "requested" in line]
    header, *rows = rich_output(cell)["text/plain"].splitlines()
    table = [(kind, requested) for kind, requested, *_ in (ROW.match(row).groups() for row in rows)]
    printed = [re.match(r"^(tokio tasks|threads): ([\d,]+) requested, ", line).groups() for line in lines]
    assert printed == table, stdout_of(cell)


def test_30_000_threads_end_with_how_many_started_and_what_stopped_them(executed):
    text = rich_output(by_id(executed, "threads-30000"))["text/plain"]
    first, *rest = text.splitlines()
    started = re.match(r"threads: 30,000 requested, ([\d,]+) started, ", first).group(1)
    if room_for_threads_here():
        assert rest == [] and started == "30,000"
    else:
        assert len(rest) == 1 and STOPPED.match(rest[0]).group(1) == started
        assert number(started) > 1_000


def test_the_kernel_lives_on_after_the_30_000_thread_cell(executed):
    assert stdout_of(by_id(executed, "threads-alive")) == (
        "the kernel is alive, and `comparison` still has 8 rows\n"
    )


def test_the_kernel_answers_after_a_cell_asks_for_more_threads_than_the_limit():
    notebook = load()
    kernel = Kernel()
    try:
        kernel.run_clean(code_cells(notebook)[0].source)
        kernel.run_clean(by_id(notebook, "threads-demo").source)
        # A reader asking for more than the limits allow, whatever the machine.
        asked = kernel.run_clean(
            "let more: u64 = Limits::read()?.thread_headroom().count + 1_000;\n"
            "let row: Row = tasks_vs_threads::threads(more)?;\n"
            "row"
        )
        answer = kernel.run_clean('println!("still here: {} < {}", row.started, row.requested);')
    finally:
        kernel.close()
    reason = asked.results[0].splitlines()[-1]
    started = STOPPED.match(reason).group(1)
    assert answer.stdout.startswith(f"still here: {number(started)} < ")


def test_the_html_export_shows_the_chart(executed):
    exporter = HTMLExporter(config=Config(CoalesceStreamsPreprocessor={"enabled": True}))
    html, _ = exporter.from_notebook_node(executed)
    svg = rich_output(by_id(executed, "threads-compare"))["image/svg+xml"]
    # nbconvert inlines an SVG output as an <img> with a data URI.
    images = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', html)
    shown = [base64.b64decode(image).decode() for image in images]
    assert svg.strip() in [image.strip() for image in shown]
