"""Fixtures that several test files share, so that the slow work is done once."""
import importlib.util
import os

import pytest

from helpers import NOTEBOOKS, ROOT, load

# Kernels start as a reader's would, without RUST_BACKTRACE (panics then print in three lines;
# test_kernel.py asks for a backtrace in a cell), whatever the shell running the tests has set.
os.environ.pop("RUST_BACKTRACE", None)

SPEC = importlib.util.spec_from_file_location("tools_notebooks", ROOT / "tools" / "notebooks.py")
tools = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tools)


@pytest.fixture(scope="session")
def executed():
    """notebooks/asyncio.ipynb executed from scratch in a fresh kernel, as
    "Restart & Run All" and `make notebooks` execute it (tools/notebooks.py's executor, which
    keeps the lines evcxr sends after a cell's idle). Every file that checks what a fresh run
    shows reads this one run."""
    notebook = load()
    executor = tools.Executor(timeout=600, kernel_name="rust")
    notebook, _ = executor.preprocess(notebook, {"metadata": {"path": str(NOTEBOOKS)}})
    return notebook
