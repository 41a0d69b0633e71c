"""`make lab` opens the notebooks in JupyterLab with the project's kernel: the
server that it starts lists the `rust` kernel registered in .venv, serves the
notebook, and starts the kernel for it, as the Lab page does when it opens it."""
import os
import secrets
import socket
import subprocess
import sys
import time

import pytest
import requests
from jupyter_client.kernelspec import KernelSpecManager

from helpers import NOTEBOOKS


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--notebook-dir={NOTEBOOKS.parent}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
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
        yield base, session
    finally:
        server.terminate()
        server.wait(timeout=30)


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
