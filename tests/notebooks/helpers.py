"""What the notebook tests share: a live evcxr kernel, the notebook's cells,
and CPython's output for the makerandom demo.

nbclient runs whole notebooks; `Kernel` drives one cell by cell, so that a
test can re-run cells in any order and see when each line arrived.
"""
import importlib.util
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import requests
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]
# What the kernel launcher reads of other processes in /proc (children, alive, environment), one
# copy for it and for the tests: tools/procfs.py.
_SPEC = importlib.util.spec_from_file_location("procfs", ROOT / "tools" / "procfs.py")
procfs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(procfs)
alive, children_of, environ_of = procfs.alive, procfs.children_of, procfs.environ_of
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 600
# How long a cell's last output may come after its reply (see Kernel.run).
LATE_OUTPUT = 0.1

# evcxr reports a panicked cell as status "ok"; this is how the panic shows.
PANIC = re.compile(r"panicked at")
TIMING = re.compile(r"Executed in  (\d+\.\d\d)s")
# The clock checks, in seconds: one concurrent second, three blocking ones.
TIMING_BOUNDS = {"in-3": (1.00, 1.02), "in-4": (3.00, 3.09)}


def sanitize(text):
    """Text with the digits of its timing lines masked."""
    return TIMING.sub("Executed in  #.##s", text)


def number(text):
    """A count as the crate's tables print it: `100,000` is 100000."""
    return int(text.replace(",", ""))


def strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def cpython_makerandom(*args):
    """What the original code prints under CPython (tests/reference/makerandom.py)."""
    script = ROOT / "tests" / "reference" / "makerandom.py"
    return subprocess.run(
        ["python3", str(script), *args], check=True, capture_output=True, text=True
    ).stdout


@dataclass
class Run:
    """What one cell did."""

    status: str
    stdout: str = ""
    stderr: str = ""
    errors: list = field(default_factory=list)
    results: list = field(default_factory=list)
    # (seconds since the cell started, text) for every stdout message.
    arrivals: list = field(default_factory=list)
    # time.monotonic() of each interrupt pressed during the cell, of its start and of its end.
    pressed: list = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def assert_clean(self):
        assert self.status == "ok", f"cell failed: {self.errors or self.stderr}"
        assert not self.errors, f"cell reported errors: {self.errors}"
        assert not PANIC.search(self.stderr), f"cell panicked:\n{self.stderr}"


class Kernel:
    """An evcxr kernel whose working directory is notebooks/ (or `cwd`), as in Jupyter."""

    def __init__(self, cwd=NOTEBOOKS, **environment):
        env = {**os.environ, **environment}
        self.manager, self.client = start_new_kernel(kernel_name="rust", cwd=str(cwd), env=env)

    @property
    def pid(self):
        """The kernel's process: the launcher (tools/kernel.py), evcxr_jupyter's parent."""
        return self.manager.provisioner.process.pid

    @property
    def evcxr_pid(self):
        """evcxr_jupyter's process, which compiles the cells."""
        [evcxr] = children_of(self.pid)
        return evcxr

    @property
    def cell_pid(self):
        """The process that runs the cells and holds the variables: evcxr's child with
        EVCXR_IS_RUNTIME (its other children are cargo and rustc, while a cell compiles)."""
        found = [
            child for child in children_of(self.evcxr_pid)
            if environ_of(child).get("EVCXR_IS_RUNTIME") == "1"
        ]
        assert len(found) == 1, found
        return found[0]

    def build_dir(self):
        """The build directory evcxr uses (`EVCXR_TMPDIR`, set by the launcher), or None."""
        found = environ_of(self.evcxr_pid).get("EVCXR_TMPDIR")
        return Path(found) if found else None

    def run(self, code, presses=()):
        """Runs `code`; `presses` are (text, seconds) pairs: the interrupt
        button is pressed, through the kernel spec as Jupyter presses it,
        that many seconds after `text` first shows in the cell's output, one
        pair after the other. `run.pressed` has the instants of the presses
        and `run.ended` the instant of the reply (time.monotonic())."""
        run = Run(status="")
        start = run.started = time.monotonic()
        done = threading.Event()

        def press():
            for text, delay in presses:
                while text not in run.stdout + run.stderr:
                    if done.wait(0.02):
                        return
                if done.wait(delay):
                    return
                run.pressed.append(time.monotonic())
                self.manager.interrupt_kernel()

        def collect(message):
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    run.stdout += content["text"]
                    run.arrivals.append((time.monotonic() - start, content["text"]))
                else:
                    run.stderr += content["text"]
            elif kind == "error":
                run.errors.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_result":
                run.results.append(content["data"].get("text/plain", ""))

        presser = threading.Thread(target=press, daemon=True)
        if presses:
            presser.start()
        try:
            reply = self.client.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=collect)
        finally:
            run.ended = time.monotonic()
            done.set()
            if presses:
                presser.join()
        run.status = reply["content"]["status"]
        # evcxr sends a cell's last stdout lines from another task than its reply, and they can
        # come after the cell's "idle"; Jupyter shows them in the cell all the same. So does this.
        cell = reply["parent_header"]["msg_id"]
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=LATE_OUTPUT)
            except queue.Empty:
                break
            if message["parent_header"].get("msg_id") == cell and message["msg_type"] == "stream":
                collect(message)
        return run

    def run_clean(self, code):
        run = self.run(code)
        run.assert_clean()
        return run

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def load(name="asyncio.ipynb"):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def tag_of(cell):
    """The `in-n` tag of a cell that mirrors the original's `In [n]`, if any."""
    for tag in cell.metadata.get("tags", []):
        if re.fullmatch(r"in-\d+", tag):
            return tag
    return None


def cell_with(notebook, marker):
    """The one code cell whose source contains `marker`."""
    found = [cell for cell in code_cells(notebook) if marker in cell.source]
    assert len(found) == 1, f"{len(found)} cells contain {marker!r}"
    return found[0]


def varies(cell):
    """Whether a cell prints what differs on every run (process ids, timings):
    such cells are tagged `varies`, and their own tests check them."""
    return "varies" in cell.metadata.get("tags", [])


def meant_to_raise(cell):
    """Whether a cell is meant to fail with an error, as one that shows a
    compile error is: Jupyter's own tag for it, `raises-exception`, with which
    nbclient (and so nbconvert) and JupyterLab's Run All go on to the next
    cell. Its own test checks that it fails, and how."""
    return "raises-exception" in cell.metadata.get("tags", [])


def meant_to_panic(cell):
    """Whether a cell is meant to show a panic on stderr (tagged `panics`):
    evcxr reports it as "ok", and its own test checks the panic."""
    return "panics" in cell.metadata.get("tags", [])


def tagged_cells(notebook):
    return {tag_of(cell): cell for cell in notebook.cells if tag_of(cell)}


def stdout_of(cell):
    """The stdout a committed or executed cell shows, streams joined."""
    return "".join(
        output.get("text", "")
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == "stdout"
    )


def shown_text(cell):
    """What a cell shows as text/plain, from display data or its result."""
    return "".join(
        output.get("data", {}).get("text/plain", "")
        for output in cell.outputs
        if output.output_type in ("display_data", "execute_result")
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def jupyter_lab(*options, log=subprocess.DEVNULL):
    """A JupyterLab server started as `make lab` starts it, serving the
    repository on loopback, on an ephemeral port, behind a token. Yields the
    base URL, the token and a `requests` session that sends it. On the way
    out, every kernel it started is shut down, then the server."""
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--notebook-dir={ROOT}",
         *(["--allow-root"] if os.geteuid() == 0 else []), *options],
        stdout=log, stderr=log, env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if session.get(f"{base}/api/status", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, "jupyter lab exited"
            assert time.monotonic() < deadline, "jupyter lab did not start in 60 s"
            time.sleep(0.5)
        yield base, token, session
    finally:
        try:
            if server.poll() is None:
                for kernel in session.get(f"{base}/api/kernels", timeout=10).json():
                    session.delete(f"{base}/api/kernels/{kernel['id']}", timeout=60)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
