"""The exports that `make notebooks` writes, made from the shared fresh run by the functions
tools/notebooks.py uses: the PDF (the HTML export printed by Chromium) and the Markdown with
its pictures beside it.

The PDF is read as poppler reads it: its text (pdftotext) must hold every line of every code
cell and of every text output, so nothing was cut off at the page's edge; and each picture
must be drawn on its page: the picture's own labels, in order, and inside the area they span,
the picture's colours, counted on the page as pdftoppm renders it.
"""
import copy
import importlib.util
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import ROOT, cell_with, code_cells, load, strip_ansi, tagged_cells

SPEC = importlib.util.spec_from_file_location("tools_notebooks", ROOT / "tools" / "notebooks.py")
tools = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tools)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SVG = "image/svg+xml"
SVG_NS = "{http://www.w3.org/2000/svg}"
# Pages are rendered at this resolution to count a picture's colours.
DPI = 100


@pytest.fixture(scope="module")
def exported(executed, tmp_path_factory):
    """The fresh run, its streams coalesced as `make notebooks` does, exported."""
    notebook = tools.coalesce(copy.deepcopy(executed))
    out = tmp_path_factory.mktemp("exports")
    skipped = tools.export(notebook, out, "asyncio", chromium=CHROMIUM)
    return notebook, out, skipped


@pytest.fixture(scope="module")
def pdf(exported):
    notebook, out, skipped = exported
    if not CHROMIUM.exists():
        assert skipped and "apt-get install --no-install-recommends chromium" in skipped[0]
        assert not (out / "asyncio.pdf").exists()
        pytest.skip(f"no {CHROMIUM} to print the PDF: {skipped[0]}")
    for tool in ["pdftotext", "pdftoppm"]:
        if not shutil.which(tool):
            pytest.skip(f"no {tool} to read the PDF (apt-get install --no-install-recommends poppler-utils)")
    assert skipped == []
    return out / "asyncio.pdf"


def squeeze(text):
    """Text without whitespace: how a line is found in a PDF whatever its spacing or wrapping."""
    return re.sub(r"\s+", "", text)


def text_outputs(cell):
    for output in cell.outputs:
        if "text" in output:
            yield output.text
        elif "text/plain" in output.get("data", {}) and SVG not in output.data:
            yield output.data["text/plain"]


def pictures(notebook):
    return [output.data[SVG] for cell in code_cells(notebook) for output in cell.outputs
            if SVG in output.get("data", {})]


def test_the_pdf_holds_in_10_and_every_line_of_the_notebook(exported, pdf):
    notebook = exported[0]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "r1: 10, r2: 10, r3: 9" in text
    in_10 = tagged_cells(notebook)["in-10"]
    printed = strip_ansi("".join(text_outputs(in_10))).splitlines()
    assert len(printed) == 25
    for line in in_10.source.splitlines() + printed:
        assert line in text, f"in-10's line {line!r} is not in the PDF's text"
    # No line is cut off at the page's edge: every line of every cell is in the PDF's text.
    squeezed = squeeze(text)
    for cell in code_cells(notebook):
        for line in cell.source.splitlines() + strip_ansi("".join(text_outputs(cell))).splitlines():
            assert squeeze(line) in squeezed, f"{line!r} is not in the PDF's text"


def words_by_page(pdf):
    """Each page's words, in the order they were drawn, with their boxes (points)."""
    html = subprocess.run(["pdftotext", "-raw", "-bbox", str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    pages = []
    for page in re.findall(r"<page .*?</page>", html, re.S):
        pages.append([
            (tuple(float(v) for v in box), ET.fromstring(f"<w>{word}</w>").text)
            for *box, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page)
        ])
    return pages


def find_drawn(pages, labels):
    """(page number, box in points) of the words that spell `labels` one after the other."""
    wanted = squeeze("".join(labels))
    for number, words in enumerate(pages, start=1):
        joined, owner = "", []
        for index, (_, word) in enumerate(words):
            joined += squeeze(word)
            owner += [index] * len(squeeze(word))
        at = joined.find(wanted)
        if at >= 0:
            boxes = [words[i][0] for i in sorted(set(owner[at:at + len(wanted)]))]
            return number, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                            max(b[2] for b in boxes), max(b[3] for b in boxes))
    return None, None


def hues(svg):
    """The picture's colours that are neither white, black nor grey."""
    found = set()
    for hex_ in re.findall(r'(?:fill|stroke)="#([0-9a-fA-F]{6})"', svg):
        rgb = tuple(int(hex_[i:i + 2], 16) for i in (0, 2, 4))
        if max(rgb) - min(rgb) > 60:
            found.add(rgb)
    return found


def rendered(pdf, page, box):
    """The pixels of `box` (points) on `page`, rendered by pdftoppm, as (r, g, b) tuples."""
    scale = DPI / 72
    x, y = int(box[0] * scale), int(box[1] * scale)
    width, height = int((box[2] - box[0]) * scale) + 1, int((box[3] - box[1]) * scale) + 1
    ppm = subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-x", str(x), "-y", str(y),
         "-W", str(width), "-H", str(height), str(pdf)],
        check=True, capture_output=True,
    ).stdout
    # P6 <width> <height> 255\n then the RGB bytes.
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    data = ppm[header.end():]
    return [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]


def test_every_picture_is_drawn_on_its_page_in_its_colours(exported, pdf):
    notebook = exported[0]
    svgs = pictures(notebook)
    # Every picture of the committed notebook: the timelines and the threads chart.
    assert len(svgs) == len(pictures(load())) >= 3
    pages = words_by_page(pdf)
    for svg in svgs:
        labels = ["".join(text.itertext()) for text in ET.fromstring(svg).iter(f"{SVG_NS}text")]
        assert len(labels) >= 10
        page, box = find_drawn(pages, labels)
        assert page, f"the labels of a picture are not in the PDF: {labels}"
        pixels = rendered(pdf, page, box)
        colours = hues(svg)
        assert colours, "a picture with no colour to look for"
        for colour in colours:
            near = sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, colour)) <= 24)
            assert near >= 30, (
                f"page {page}: {near} pixels of #{bytes(colour).hex()} where a picture with labels "
                f"{labels[:3]}... is drawn"
            )


def test_the_markdown_links_every_picture_to_a_file_beside_it(exported):
    notebook, out, _ = exported
    markdown = (out / "asyncio.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == len(pictures(notebook)) == len(pictures(load())) >= 3
    for link in links:
        assert not re.match(r"[a-z]+:|/", link), f"{link} is not a relative link"
        target = out / link
        assert target.is_file(), f"{link} does not exist beside the Markdown"
        assert ET.parse(target).getroot().tag == f"{SVG_NS}svg"
    # The lines are there, without the colour codes that Markdown cannot show.
    assert "\x1b" not in markdown
    for line in strip_ansi(tagged_cells(notebook)["in-10"].outputs[0].text).splitlines():
        assert line in markdown
    assert cell_with(notebook, "kill(*pid)").source in markdown
