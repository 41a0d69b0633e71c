"""No line lost: cells that print a burst of lines in their last instant, executed on a busy
machine and exported by tools/notebooks.py as `make notebooks` and `make refresh` do, keep every
line, in its own cell, in the .ipynb, the HTML, the Markdown and the PDF.

evcxr forwards a cell's stdout from another thread than the one that reports the cell done; on
a busy machine (the test keeps every core busy meanwhile) that thread falls behind, and most of
a last-instant burst of a few thousand lines reaches the client after the cell's "idle", where
nbclient, done with the cell, drops it. One such cell is in the middle of the notebook and one
at its end. The cells use no crate, so that the kernel compiles them in a moment.
"""
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT, load, stdout_of, strip_ansi

SPEC = importlib.util.spec_from_file_location("tools_notebooks", ROOT / "tools" / "notebooks.py")
tools = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tools)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LINES = 3000
# Processes that keep the CPU busy while the notebook runs: one more than the cores.
BUSY = (os.cpu_count() or 1) + 1


def burst(name):
    """A cell that prints a line, computes, then prints LINES lines at once as it ends."""
    return (
        f'println!("{name} cell, first line");\n'
        "let mut lines: String = String::new();\n"
        f"for i in 0..{LINES} {{\n"
        f'    lines.push_str(&format!("{name} cell, line {{i}} of {LINES}\\n"));\n'
        "}\n"
        'print!("{lines}");'
    )


def expected(name):
    return [f"{name} cell, first line"] + [f"{name} cell, line {i} of {LINES}" for i in range(LINES)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("late")
    notebook = nbformat.v4.new_notebook(metadata=load().metadata)
    notebook.cells = [
        nbformat.v4.new_code_cell(burst("first")),
        nbformat.v4.new_code_cell('println!("a cell in between");'),
        nbformat.v4.new_code_cell(burst("last")),
    ]
    path = folder / "late.ipynb"
    nbformat.write(notebook, path)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY)]
    try:
        executed = tools.execute(path, record_timing=False)
    finally:
        for spinner in busy:
            spinner.kill()
            spinner.wait()
    out = folder / "out"
    skipped = tools.export(executed, out, "late", chromium=CHROMIUM)
    return out, skipped


def missing(text, name):
    """The lines of the named cell that `text` lacks, each line read without its indentation
    (the Markdown indents outputs) or the HTML tags around it."""
    text = html.unescape(re.sub(r"<[^>]*>", "", strip_ansi(text)))
    lines = {line.strip() for line in text.splitlines()}
    return [line for line in expected(name) if line not in lines]


def test_the_ipynb_keeps_every_line_in_its_cell(exported):
    out, _ = exported
    first, between, last = nbformat.read(out / "late.ipynb", as_version=4).cells
    assert stdout_of(first).splitlines() == expected("first")
    assert stdout_of(between) == "a cell in between\n"
    assert stdout_of(last).splitlines() == expected("last")


@pytest.mark.parametrize("name", ["first", "last"])
@pytest.mark.parametrize("export", ["late.html", "late.md"])
def test_the_html_and_markdown_keep_every_line(exported, export, name):
    out, _ = exported
    text = (out / export).read_text(encoding="utf-8")
    assert missing(text, name) == []


def test_the_pdf_keeps_every_line(exported):
    out, skipped = exported
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM} to print the PDF: {skipped[0]}")
    if not shutil.which("pdftotext"):
        pytest.skip("no pdftotext to read the PDF (apt-get install --no-install-recommends poppler-utils)")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out / "late.pdf"), "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    for name in ["first", "last"]:
        assert missing(text, name) == []
