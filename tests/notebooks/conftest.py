"""Fixtures that several test files share, so that the slow work is done once."""
import pytest
from nbclient import NotebookClient

from helpers import NOTEBOOKS, load


@pytest.fixture(scope="session")
def executed():
    """notebooks/asyncio.ipynb executed from scratch in a fresh kernel, as
    "Restart & Run All" and `make notebooks` execute it. Every file that checks
    what a fresh run shows reads this one run."""
    notebook = load()
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="rust",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return notebook
