"""The kernel launcher (tools/kernel.py) where Linux's /proc and prctl are missing, as on macOS,
forced on Linux with ASYNCIO_RS_NO_PROC=1 (docs/platforms.md): evcxr starts without prctl, `warm`
finds a kernel's slot without /proc, a press before any `Runtime` is ignored (the cell runs on,
every variable kept), and once a `Runtime` exists Jupyter's interrupt stops a run, keeping every
variable."""
import importlib.util
import os
import subprocess
import sys

import pytest

from helpers import ROOT, Kernel, cell_with, load, tagged_cells

LAUNCHER = ROOT / "tools" / "kernel.py"
SLEEPING = 'println!("sleeping"); std::thread::sleep(std::time::Duration::from_secs(2)); println!("slept");'


def launcher():
    """tools/kernel.py as a module (its folder on the path, for what it imports from there)."""
    if str(LAUNCHER.parent) not in sys.path:
        sys.path.insert(0, str(LAUNCHER.parent))
    spec = importlib.util.spec_from_file_location("kernel_launcher", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def linux_flag(**environment):
    code = f"import sys; sys.path.insert(0, {str(LAUNCHER.parent)!r}); import kernel; print(kernel.LINUX)"
    env = {**os.environ, **environment}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_switch_takes_the_linux_only_calls_away():
    assert linux_flag() == "True"
    assert linux_flag(ASYNCIO_RS_NO_PROC="1") == "False"


def test_without_prctl_nothing_is_called_before_evcxr_starts(monkeypatch):
    kernel = launcher()
    monkeypatch.setattr(kernel, "LINUX", False)

    def no_prctl(*_, **__):
        pytest.fail("prctl called where there is none")

    monkeypatch.setattr(kernel.ctypes, "CDLL", no_prctl)
    kernel.die_with_parent()


def test_a_slot_is_found_by_the_launcher_pid_in_its_lock(tmp_path, monkeypatch):
    kernel = launcher()
    monkeypatch.setattr(kernel, "SLOTS", tmp_path)
    held = kernel.try_lock(2)
    os.write(held, b"4242\n")
    stale = kernel.try_lock(3)
    os.write(stale, b"4242\n")
    os.close(stale)  # a launcher that has exited: its pid may be anyone's now
    assert kernel.slot_of(4242) == tmp_path / "2"
    assert kernel.slot_of(4243) is None
    os.close(held)
    assert kernel.slot_of(4242) is None


def test_a_kernel_without_proc_starts_ignores_a_press_before_the_runtime_then_interrupts_runs():
    notebook = load()
    kernel = Kernel(ASYNCIO_RS_NO_PROC="1")
    try:
        assert kernel.build_dir() is not None
        kernel.run_clean(tagged_cells(notebook)["in-1"].source)
        kernel.run_clean("let kept: u64 = 7;")
        # No Runtime yet: the launcher leaves the press alone, and the cell runs to its end.
        run = kernel.run(SLEEPING, presses=[("sleeping", 0.3)])
        assert run.status == "ok" and run.stdout == "sleeping\nslept\n", (run.stdout, run.errors)
        kernel.run_clean(cell_with(notebook, "let rt: Runtime").source)
        run = kernel.run(
            'rt.run(async { println!("waiting"); tokio::time::sleep(Duration::from_secs(30)).await });',
            presses=[("waiting", 0.3)],
        )
        assert run.stdout.endswith("KeyboardInterrupt\n") and run.ended - run.pressed[0] < 0.5, run.stdout
        assert kernel.run_clean('println!("{kept} {}", rt.run(async { 6 * 7 }));').stdout == "7 42\n"
    finally:
        kernel.close()
