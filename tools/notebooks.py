"""Execute notebooks, coalesce their streams and export them, in one Python process.

`make notebooks` and `make refresh` run this instead of `jupyter nbconvert` once per step and
format: each nbconvert start costs about 1.5 s of imports.

    tools/notebooks.py --out build/notebooks notebooks/*.ipynb   # executed .ipynb, .html, .pdf, .md
    tools/notebooks.py --inplace notebooks/*.ipynb               # refresh the committed outputs

Each cell's stream outputs are coalesced into one, as Jupyter shows them live (a lone "\\n"
output would vanish from the HTML). Kernels start in the notebook's folder, as in Jupyter.

The exports, for a notebook NAME: NAME.html (nbconvert's lab template); NAME.pdf, that HTML
printed by Chromium (colours, inline SVG pictures and tables as the page shows them; needs
Debian's chromium, or the build that $CHROMIUM names, and is skipped with a note without it);
NAME.md, with each SVG output written beside it in NAME_files/ and linked relatively (the
Markdown has no colours: ANSI codes are stripped). The tests import these functions.
"""
import argparse
import copy
import os
import sys
from pathlib import Path
from queue import Empty

import nbformat
from nbclient.util import ensure_async, run_sync
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, ExecutePreprocessor

TIMEOUT = 600
# How long the kernel's output must be quiet after a cell before the next one starts (see
# Executor): 0.2 s for each of the notebook's 45 code cells.
LATE_OUTPUT = 0.2
# Debian's Chromium prints the PDF; another build of it can be named in $CHROMIUM.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless Chromium as root in a container: no sandbox, no GPU, nothing that reaches the network.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The page's colours as they are, backgrounds included, and pictures no wider than the page
# (every SVG output has a viewBox, so it scales).
PRINT_CSS = """
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
svg, img { max-width: 100%; height: auto; }
.jp-OutputArea-child, svg, img { break-inside: avoid; }
"""
# Text outputs are tables and aligned lines, and code is laid out by hand, so neither is
# wrapped as JupyterLab wraps them on screen: each block wider than the page is set in a smaller
# font until it fits, down to MIN_FONT_PX; only a block still too wide then wraps.
FIT_TEXT_JS = """minimum => {
  for (const pre of document.querySelectorAll('.jp-OutputArea-output pre, .jp-InputArea pre')) {
    pre.style.whiteSpace = 'pre';
    // A flex item grows with its text, so the room is measured up to the cell's right edge.
    const room = () => pre.closest('.jp-Cell').getBoundingClientRect().right
      - pre.getBoundingClientRect().left;
    if (pre.scrollWidth <= room()) continue;
    const size = parseFloat(getComputedStyle(pre).fontSize);
    const fitted = Math.max(minimum, Math.floor(size * room() / pre.scrollWidth * 10) / 10);
    pre.style.fontSize = fitted + 'px';
    if (pre.scrollWidth > room()) pre.style.whiteSpace = 'pre-wrap';
  }
}"""
MIN_FONT_PX = 6
# A4 less the margins below, in CSS pixels (96 per inch), is 718 px; Chromium's print layout of
# this page turned out 14 px narrower than a window that wide, so the text is fitted in a window
# narrower still.
PAGE = {"format": "A4", "margin": {"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"}}
FIT_WIDTH_PX = round((210 - 20) / 25.4 * 96) - 24
NO_CHROMIUM = (
    "skipped {pdf}: no Chromium at {chromium} to print it "
    "(apt-get install --no-install-recommends chromium, or name one in $CHROMIUM)"
)


class Executor(ExecutePreprocessor):
    """nbconvert's executor, as `jupyter nbconvert --execute` runs it (the kernel numbers the
    cells), keeping every line a cell printed.

    evcxr forwards a cell's stdout from another thread than the one that reports the cell done,
    so on a busy machine its last lines can reach the client after the cell's "idle", where
    nbclient, done with the cell, drops them; and evcxr sends what comes after the next cell has
    started as that cell's. Jupyter shows a cell's late lines in the cell, if no other cell has
    started yet. So, after each cell, this reads the kernel's output until it has been quiet for
    LATE_OUTPUT and adds the cell's stream messages to it, as JupyterLab appends them."""

    async def _async_poll_for_reply(self, msg_id, cell, *args, **kw):
        self._request = msg_id
        return await super()._async_poll_for_reply(msg_id, cell, *args, **kw)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type != "code":
            return cell
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=LATE_OUTPUT))
            except Empty:
                return cell
            if msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == self._request:
                # Merged with the cell's other streams by coalesce().
                cell.outputs.append(nbformat.v4.output_from_msg(msg))

    # nbclient binds its synchronous wrapper to its own coroutine.
    execute_cell = run_sync(async_execute_cell)


def execute(path, record_timing):
    notebook = nbformat.read(path, as_version=4)
    # The exports show panics as a reader of the notebook sees them by default, in three lines
    # (src/panics.rs), even for someone who keeps RUST_BACKTRACE set in their shell.
    os.environ.pop("RUST_BACKTRACE", None)
    executor = Executor(timeout=TIMEOUT, record_timing=record_timing)
    notebook, _ = executor.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
    return coalesce(notebook)


def coalesce(notebook):
    """Each cell's stream outputs merged into one, as Jupyter shows them live."""
    notebook, _ = CoalesceStreamsPreprocessor(enabled=True).preprocess(notebook, {})
    return notebook


def export_html(notebook, name):
    """The notebook as one HTML page (nbconvert's lab template, pictures inline)."""
    html, _ = HTMLExporter().from_notebook_node(notebook, resources={"metadata": {"name": name}})
    return html


def export_markdown(notebook, out, name):
    """Write out/NAME.md and, beside it, out/NAME_files/ with each SVG (or other picture)
    output as a file that the Markdown links to by a relative path. Returns the .md path."""
    plain = copy.deepcopy(notebook)
    for cell in plain.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = strip_ansi(output.text)
            if "text/plain" in output.get("data", {}):
                output.data["text/plain"] = strip_ansi(output.data["text/plain"])
    files = f"{name}_files"
    markdown, resources = MarkdownExporter().from_notebook_node(
        plain, resources={"metadata": {"name": name}, "output_files_dir": files}
    )
    for relative, data in resources["outputs"].items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    path = out / f"{name}.md"
    path.write_text(markdown, encoding="utf-8")
    return path


def print_pdf(html_path, pdf_path, chromium=CHROMIUM):
    """Print an HTML export to PDF with headless Chromium, as the browser's "Save as PDF" with
    "Background graphics" on does. Only file: URLs load: nbconvert's page asks CDNs for
    require.js and MathJax, which it does not need to show the notebook, and there may be no
    network, so those requests fail at once rather than hold up the printing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": FIT_WIDTH_PX, "height": 1000})
            page.route(
                "**/*",
                lambda route: route.continue_()
                if route.request.url.startswith("file:")
                else route.abort(),
            )
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            page.add_style_tag(content=PRINT_CSS)
            page.evaluate(FIT_TEXT_JS, MIN_FONT_PX)
            page.pdf(path=str(pdf_path), print_background=True, **PAGE)
        finally:
            browser.close()


def export(notebook, out, name, chromium=CHROMIUM):
    """Write NAME.ipynb, .html, .pdf and .md to `out`. Returns what was skipped, as sentences
    (the PDF when there is no Chromium)."""
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out / f"{name}.ipynb")
    html_path = out / f"{name}.html"
    html_path.write_text(export_html(notebook, name), encoding="utf-8")
    export_markdown(notebook, out, name)
    pdf_path = out / f"{name}.pdf"
    if not Path(chromium).exists():
        pdf_path.unlink(missing_ok=True)
        return [NO_CHROMIUM.format(pdf=pdf_path, chromium=chromium)]
    print_pdf(html_path, pdf_path, chromium)
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write the executed .ipynb and its exports here")
    where.add_argument("--inplace", action="store_true", help="overwrite each notebook, no timing")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    skipped = []
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        notebook = execute(path, record_timing=not args.inplace)
        if args.inplace:
            nbformat.write(notebook, path)
            continue
        print(f"exporting {path.stem} to {args.out}/", flush=True)
        skipped += export(notebook, args.out, path.stem)
    for sentence in skipped:
        print(sentence)
    return 0


if __name__ == "__main__":
    sys.exit(main())
