"""What a reader sees: JupyterLab, started as `make lab` starts it, open in a
real browser (Debian's headless Chromium, driven by Playwright). The page
opens notebooks/asyncio.ipynb, clears every output and runs all cells, as a
reader does with "Clear Outputs of All Cells" then "Run All Cells"; the tests
then read what the page shows, not what the kernel sent. A screenshot of the
whole notebook is left in build/browser/ for a person to look at.

The notebook is run in place (its kernel must start in notebooks/, next to the
crate), but never saved: autosave is off and the browser is closed without
saving; a test checks that the file is unchanged.
"""
import json
import os
import re
import struct
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from helpers import (
    NOTEBOOKS,
    PANIC,
    ROOT,
    TIMING,
    TIMING_BOUNDS,
    code_cells,
    cpython_makerandom,
    jupyter_lab,
    load,
    meant_to_panic,
    meant_to_raise,
    sanitize,
    stdout_of,
    strip_ansi,
    varies,
)

# Debian's Chromium, or another build of it that CHROMIUM names.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(
        f"no {CHROMIUM}: install Debian's Chromium for the browser test "
        "(apt-get install --no-install-recommends chromium; `make test` does it as root)",
        allow_module_level=True,
    )
# The flags that work for headless Chromium here: no sandbox as root, no GPU,
# and nothing that would reach past loopback.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
NOTEBOOK = "notebooks/asyncio.ipynb"
SCREENSHOT = ROOT / "build" / "browser" / "asyncio.png"
# The first cell compiles the crate; in-10 sleeps 12 s; a loaded machine is slow.
RUN_TIMEOUT_MS = 10 * 60 * 1000
# How JupyterLab renders the colours of `In [6]` (ANSI SGR code -> CSS class).
ANSI_CLASSES = {"36": "ansi-cyan-fg", "91": "ansi-red-intense-fg", "35": "ansi-magenta-fg"}
SVG = "image/svg+xml"
# The error of the cell meant not to compile (test_fire_and_forget.py checks it in full).
COMPILE_ERROR = "`Rc<RefCell<u64>>` cannot be sent between threads safely"

# JupyterLab settings for this run only: every cell attached to the page (so
# that the screenshot and the checks see them all), no blank page after the
# last cell, no autosave, no news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "scrollPastEnd": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

# What the page shows, cell by cell: the prompt, the model's outputs and the
# output areas' rendered DOM.
READ_CELLS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map(cell => {
    if (cell.model.type !== 'code') return {type: cell.model.type};
    const outputs = [...cell.node.querySelectorAll('.jp-OutputArea-output')].map(node => ({
      mime: node.getAttribute('data-mime-type'),
      text: node.textContent,
      // Text nodes and spans of a rendered stream, in order, with their classes.
      runs: [...(node.querySelector('pre')?.childNodes ?? [])].map(child => ({
        text: child.textContent,
        css: child.nodeType === Node.ELEMENT_NODE ? child.className : '',
      })),
      images: [...node.querySelectorAll('img')].map(img => ({
        src: img.src.slice(0, 40), loaded: img.complete, width: img.naturalWidth,
        height: img.naturalHeight,
      })),
      svgs: [...node.querySelectorAll('svg')].map(svg => {
        const box = svg.getBoundingClientRect();
        return {width: box.width, height: box.height};
      }),
    }));
    return {
      type: 'code',
      tags: cell.model.getMetadata('tags') ?? [],
      prompt: cell.node.querySelector('.jp-InputPrompt').textContent.trim(),
      model_outputs: cell.model.outputs.toJSON(),
      outputs,
    };
  });
}"""

# The computed colour of each makerandom colour class in in-10's output, and
# of its plain text.
READ_COLOURS = """(classes) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets.find(
    cell => (cell.model.getMetadata('tags') ?? []).includes('in-10'));
  const pre = cell.node.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"] pre');
  const colours = {plain: getComputedStyle(pre).color};
  for (const css of classes) colours[css] = getComputedStyle(pre.querySelector('span.' + css)).color;
  return colours;
}"""


# Runs the cell tagged `tag` as Shift-Enter does, without moving on; returns
# its prompt before the run.
RUN_TAGGED = """(tag) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const index = panel.content.widgets.findIndex(
    cell => (cell.model.getMetadata('tags') ?? []).includes(tag));
  const prompt = panel.content.widgets[index].node.querySelector('.jp-InputPrompt').textContent.trim();
  panel.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
  return prompt;
}"""
# The output areas of the cell tagged `tag`, and its prompt.
READ_TAGGED = """(tag) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets.find(
    cell => (cell.model.getMetadata('tags') ?? []).includes(tag));
  return {
    prompt: cell.node.querySelector('.jp-InputPrompt').textContent.trim(),
    outputs: [...cell.node.querySelectorAll('.jp-OutputArea-output')].map(node => ({
      mime: node.getAttribute('data-mime-type'), text: node.textContent,
    })),
  };
}"""


@dataclass
class Seen:
    cells: list  # READ_CELLS, for every cell of the notebook
    colours: dict  # READ_COLOURS
    # READ_TAGGED of in-10, stopped with the stop button, then run again.
    interrupted: dict
    again: dict
    seconds: float  # from opening the page to the end of the run
    notebook_height: int  # of the notebook's content, in CSS pixels
    notebook_before: bytes
    notebook_after: bytes


def wait_for(page, script, what, timeout=60_000, arg=None):
    try:
        page.wait_for_function(script, arg=arg, timeout=timeout, polling=500)
    except Exception as error:
        raise AssertionError(f"{what}: {error}") from None


# The element that scrolls the notebook's cells.
SCROLLER = "window.jupyterapp.shell.currentWidget.content.node.querySelector('.jp-WindowedPanel-outer')"


def screenshot_whole_notebook(page):
    """Grow the window until the notebook no longer scrolls, then shoot the
    page: JupyterLab scrolls the notebook inside its panel, so a full-page
    screenshot of a normal window shows only the top."""
    page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")
    for _ in range(5):
        hidden = page.evaluate(f"() => {{ const s = {SCROLLER}; return s.scrollHeight - s.clientHeight; }}")
        if hidden <= 0:
            break
        size = page.viewport_size
        page.set_viewport_size({"width": size["width"], "height": size["height"] + hidden})
        page.wait_for_timeout(500)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    return page.evaluate(f"() => {SCROLLER}.scrollHeight")


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    settings = tmp_path_factory.mktemp("lab-settings")
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    workspaces = tmp_path_factory.mktemp("lab-workspaces")
    # Opening a notebook makes a checkpoint of it; keep it out of notebooks/.
    checkpoints = tmp_path_factory.mktemp("lab-checkpoints")
    notebook_file = NOTEBOOKS / "asyncio.ipynb"
    before = notebook_file.read_bytes()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(SCREENSHOT.with_name("jupyterlab.log"), "wb") as log,
        jupyter_lab(
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workspaces}",
            f"--FileCheckpoints.checkpoint_dir={checkpoints}",
            log=log,
        ) as (base, token, _session),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.monotonic()
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            wait_for(page, f"""() => {{
              const panel = window.jupyterapp?.shell.currentWidget;
              return panel?.context?.path === '{NOTEBOOK}' && panel.context.isReady
                && panel.sessionContext.session?.kernel?.status === 'idle';
            }}""", "the notebook opened with an idle kernel", timeout=120_000)
            assert page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.content.notebookConfig.windowingMode"
            ) == "none", "the settings for this run were not read"
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            # A cleared cell shows an empty prompt, so stale numbers cannot pass the wait below.
            wait_for(page, """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .every(prompt => !/\\d/.test(prompt.textContent))""", "outputs cleared")
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            wait_for(page, """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .some(prompt => /[*\\d]/.test(prompt.textContent))""", "the run started")
            # Run All queues every cell at once ([*]); it is over when none is
            # left queued and the kernel is idle. A cell that fails stops it,
            # and leaves the cells after it unnumbered.
            wait_for(page, """() => {
              const panel = window.jupyterapp.shell.currentWidget;
              const prompts = [...panel.content.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
              return prompts.every(prompt => prompt.textContent.trim() !== '[*]:')
                && panel.sessionContext.session?.kernel?.status === 'idle';
            }""", "the run finished and the kernel is idle", timeout=RUN_TIMEOUT_MS)
            seconds = time.monotonic() - start
            # Every image has had its chance to load.
            wait_for(page,
                     "() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(img => img.complete)",
                     "the images loaded")
            notebook_height = screenshot_whole_notebook(page)
            cells = page.evaluate(READ_CELLS)
            colours = page.evaluate(READ_COLOURS, list(ANSI_CLASSES.values()))
            interrupted, again = stop_in_10_then_run_it_again(page)
        finally:
            browser.close()
    return Seen(cells, colours, interrupted, again, seconds, notebook_height, before,
                notebook_file.read_bytes())


def run_tagged(page, tag, timeout=120_000):
    """Runs the cell tagged `tag` and waits until it has finished."""
    before = page.evaluate(RUN_TAGGED, tag)
    wait_until_finished(page, tag, before, timeout)


def wait_until_finished(page, tag, before, timeout):
    wait_for(page, """([tag, before]) => {
      const panel = window.jupyterapp.shell.currentWidget;
      const cell = panel.content.widgets.find(
        cell => (cell.model.getMetadata('tags') ?? []).includes(tag));
      const prompt = cell.node.querySelector('.jp-InputPrompt').textContent.trim();
      return /^\\[\\d+\\]:$/.test(prompt) && prompt !== before
        && panel.sessionContext.session?.kernel?.status === 'idle';
    }""", f"{tag} finished", timeout=timeout, arg=[tag, before])


def stop_in_10_then_run_it_again(page):
    """After Run All: in-9, then in-10 stopped with the toolbar's stop button
    (Interrupt the kernel) 3 s after its first line, then in-9 and in-10
    again, as a reader who changed their mind does. Returns what in-10 showed
    when stopped and after the second run."""
    run_tagged(page, "in-9")
    before = page.evaluate(RUN_TAGGED, "in-10")
    wait_for(page, """() => {
      const cell = window.jupyterapp.shell.currentWidget.content.widgets.find(
        cell => (cell.model.getMetadata('tags') ?? []).includes('in-10'));
      return cell.node.querySelector('.jp-OutputArea').textContent.includes('Initiated makerandom(0)');
    }""", "in-10 started")
    page.wait_for_timeout(3000)
    page.get_by_title("Interrupt the kernel").first.click()
    # Well before the 12 s that in-10 runs for.
    wait_until_finished(page, "in-10", before, timeout=5_000)
    interrupted = page.evaluate(READ_TAGGED, "in-10")
    run_tagged(page, "in-9")
    run_tagged(page, "in-10")
    return interrupted, page.evaluate(READ_TAGGED, "in-10")


def code_of(seen):
    return [cell for cell in seen.cells if cell["type"] == "code"]


def cell_tagged(seen, tag):
    [cell] = [cell for cell in code_of(seen) if tag in cell["tags"]]
    return cell


def shown_stdout(cell):
    return "".join(
        output["text"] for output in cell["outputs"]
        if output["mime"] == "application/vnd.jupyter.stdout"
    )


def test_every_cell_ran_in_order_under_one_kernel(seen):
    assert len(code_of(seen)) == len(code_cells(load()))
    prompts = [cell["prompt"] for cell in code_of(seen)]
    # A cell that fails stops Run All: the cells after it keep an empty prompt.
    assert all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts), f"not every cell ran: {prompts}"
    numbers = [int(prompt[1:-2]) for prompt in prompts]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers
    print(f"the browser ran the notebook in {seen.seconds:.0f} s")


def test_the_page_shows_what_the_committed_notebook_prints(seen):
    # A background task's lines land under whichever cell is running when
    # they are printed, so the cells are compared as one text.
    # Cells tagged `varies` print process ids: their own tests check them.
    pairs = list(zip(code_of(seen), code_cells(load())))
    shown = "".join(shown_stdout(page) for page, cell in pairs if not varies(cell))
    committed = "".join(stdout_of(cell) for _, cell in pairs if not varies(cell))
    assert sanitize(shown) == sanitize(strip_ansi(committed))


def test_no_cell_shows_an_error_or_a_panic(seen):
    # But the cells meant to, each its error or its panic, and Run All went
    # on past them (every cell ran, above). JupyterLab renders an error
    # output as stderr, so errors are read from the cell's model.
    for index, (cell, committed) in enumerate(zip(code_of(seen), code_cells(load()))):
        errors = [output for output in cell["model_outputs"] if output["output_type"] == "error"]
        if meant_to_raise(committed):
            assert [error["evalue"] for error in errors] == [COMPILE_ERROR], f"code cell {index}: {errors}"
            shown = "".join(output["text"] for output in cell["outputs"])
            assert shown.startswith(f"[E0277] Error: {COMPILE_ERROR}\n"), f"code cell {index}: {shown!r}"
        else:
            assert not errors, f"code cell {index}: {errors[0]['evalue']}"
        stderr = "".join(
            output["text"] for output in cell["outputs"] if output["mime"] == "application/vnd.jupyter.stderr"
        )
        if meant_to_panic(committed):
            assert PANIC.search(stderr) and "already borrowed" in stderr, f"code cell {index}: {stderr!r}"
        else:
            assert not PANIC.search(stderr), f"code cell {index} panicked:\n{stderr}"


@pytest.mark.parametrize("tag", sorted(TIMING_BOUNDS))
def test_the_executed_in_lines_show_the_time(seen, tag):
    [line] = TIMING.findall(shown_stdout(cell_tagged(seen, tag)))
    low, high = TIMING_BOUNDS[tag]
    assert low <= float(line) <= high, f"{tag} shows Executed in  {line}s"


def expected_line_classes(printed):
    """(CSS class or '', text) for each line that `printed` shows, following
    the ANSI colour state across lines as a terminal does."""
    state, lines = "", []
    for raw in printed.splitlines():
        codes = re.findall(r"\x1b\[(\d+)m", raw)
        first = re.match(r"\x1b\[(\d+)m", raw)
        line_class = (ANSI_CLASSES.get(first.group(1), "") if first else state)
        if codes:
            state = ANSI_CLASSES.get(codes[-1], "")
        lines.append((line_class, strip_ansi(raw)))
    return lines


def shown_line_classes(cell):
    """(CSS class or '', text) for each line of a cell's rendered stdout: the
    class of the element each line's text sits in (one per line, or the test
    says which line mixes them)."""
    lines, current, classes = [], "", set()
    for output in cell["outputs"]:
        if output["mime"] != "application/vnd.jupyter.stdout":
            continue
        for run in output["runs"]:
            for piece in re.split(r"(\n)", run["text"]):
                if piece == "\n":
                    assert len(classes) <= 1, f"{current!r} shows in several colours: {classes}"
                    lines.append((classes.pop() if classes else "", current))
                    current, classes = "", set()
                elif piece:
                    current += piece
                    classes.add(run["css"])
    assert current == "", f"unfinished line {current!r}"
    return lines


def test_the_makerandom_lines_show_in_their_colours(seen):
    # CPython's lines for seed 444, each in the colour of its task.
    expected = expected_line_classes(cpython_makerandom("--seed", "444"))
    assert {css for css, _ in expected} == {"", *ANSI_CLASSES.values()}
    assert shown_line_classes(cell_tagged(seen, "in-10")) == expected


def test_the_makerandom_colours_are_cyan_bright_red_and_magenta(seen):
    def rgb(css):
        return tuple(int(part) for part in re.findall(r"\d+", seen.colours[css])[:3])

    r, g, b = rgb("ansi-cyan-fg")
    assert g > r + 50 and b > r + 50, seen.colours
    r, g, b = rgb("ansi-red-intense-fg")
    assert r > g + 50 and r > b + 50, seen.colours
    r, g, b = rgb("ansi-magenta-fg")
    assert r > g + 50 and b > g + 50, seen.colours
    assert len({rgb(css) for css in seen.colours}) == 4, f"colours not all distinct: {seen.colours}"


def test_every_chart_is_rendered_as_an_image(seen, executed):
    # As many image/svg+xml outputs as a fresh run of the notebook makes...
    made = sum(SVG in output.get("data", {}) for cell in code_cells(executed) for output in cell.outputs)
    received = sum(SVG in output.get("data", {}) for cell in code_of(seen) for output in cell["model_outputs"])
    assert received == made
    # ... and each one shows on the page as a decoded image.
    shown = [output for cell in code_of(seen) for output in cell["outputs"] if output["mime"] == SVG]
    assert len(shown) == made
    for output in shown:
        images = [image for image in output["images"]
                  if image["src"].startswith("data:image/svg+xml") and image["loaded"] and image["width"] > 0]
        inline = [svg for svg in output["svgs"] if svg["width"] > 0 and svg["height"] > 0]
        assert images or inline, f"an SVG output shows no image: {output}"


def test_the_screenshot_shows_the_whole_notebook(seen):
    # A PNG's width and height are the first fields of its IHDR chunk.
    width, height = struct.unpack(">II", SCREENSHOT.read_bytes()[16:24])
    assert width == 1280 and height >= seen.notebook_height, (width, height, seen.notebook_height)


def test_the_browser_did_not_save_the_notebook(seen):
    assert seen.notebook_after == seen.notebook_before


def test_the_stop_button_stops_in_10_and_the_kernel_runs_it_again(seen):
    outputs = seen.interrupted["outputs"]
    stderr = "".join(o["text"] for o in outputs if o["mime"] == "application/vnd.jupyter.stderr")
    stdout = "".join(o["text"] for o in outputs if o["mime"] == "application/vnd.jupyter.stdout")
    assert stdout.endswith("\nKeyboardInterrupt\n"), stdout
    assert not PANIC.search(stderr), stderr
    assert all(o["mime"] != "application/vnd.jupyter.error" for o in outputs), outputs
    # Stopped part way: the first lines of seed 444, not the last.
    expected = strip_ansi(cpython_makerandom("--seed", "444"))
    printed = stdout.removesuffix("KeyboardInterrupt\n")
    assert printed and expected.startswith(printed) and printed != expected
    again = "".join(o["text"] for o in seen.again["outputs"] if o["mime"] == "application/vnd.jupyter.stdout")
    assert again == expected
