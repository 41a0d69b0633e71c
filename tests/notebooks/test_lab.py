"""`make lab` opens the notebooks in JupyterLab with the project's kernel: the
server that it starts lists the `rust` kernel registered in .venv, serves the
notebook, and starts the kernel for it, as the Lab page does when it opens it."""
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from helpers import NOTEBOOKS, jupyter_lab


@pytest.fixture(scope="module")
def lab():
    with jupyter_lab() as (base, _token, session):
        yield base, session


def test_lab_page_is_served(lab):
    base, session = lab
    page = session.get(f"{base}/lab/tree/notebooks/asyncio.ipynb", timeout=10)
    assert page.ok and "JupyterLab" in page.text


def test_lab_knows_the_rust_kernel_from_the_virtualenv(lab):
    base, session = lab
    specs = session.get(f"{base}/api/kernelspecs", timeout=10).json()["kernelspecs"]
    assert specs["rust"]["spec"]["language"] == "rust"
    # Registered inside the project, not in the home directory.
    where = KernelSpecManager().find_kernel_specs()["rust"]
    assert where.startswith(str(NOTEBOOKS.parent / ".venv")), where


def test_lab_opens_the_notebook_with_its_kernel(lab):
    base, session = lab
    notebook = session.get(f"{base}/api/contents/notebooks/asyncio.ipynb", timeout=10).json()
    assert notebook["content"]["metadata"]["kernelspec"]["name"] == "rust"
    opened = session.post(
        f"{base}/api/sessions",
        json={"path": "notebooks/asyncio.ipynb", "type": "notebook", "kernel": {"name": "rust"}},
        timeout=30,
    )
    assert opened.status_code == 201, opened.text
    kernel = opened.json()["kernel"]
    assert kernel["name"] == "rust"
    session.delete(f"{base}/api/sessions/{opened.json()['id']}", timeout=30)
