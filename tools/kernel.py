"""The notebook's Jupyter kernel: evcxr, started in a warm build directory of its own.

evcxr compiles every cell with cargo, in a build directory that it deletes when the kernel
exits, so every new kernel compiles our crate and its dependencies again. Given a directory of
its own (`EVCXR_TMPDIR`), evcxr leaves it in place, and cargo finds everything it built there
last time still fresh. Two kernels must never share one (they would write the same `Cargo.toml`
and `src/lib.rs`), so this launcher keeps a few *slots*, build directories under `.venv/evcxr/`,
and gives each kernel one of its own for as long as the kernel lives:

    .venv/evcxr/
        .cargo/config.toml   profile settings for every slot (the cell's crate at opt-level 0)
        0.lock, 0/           slot 0: the lock that marks it taken, and evcxr's build directory
        1.lock, 1/           ...

A slot is taken with `flock` on its lock file, inherited by evcxr and the process that runs the
cells: the operating system frees it when the last of them exits, so a killed kernel never leaves
a slot taken. A kernel that finds every warm slot taken gets a new slot, made as a copy of a warm
one (cargo's fingerprints are mtimes, which the copy keeps). There are at most `MAX_SLOTS`; when
all are taken, evcxr gets a temporary directory, as without this launcher, and compiles cold.

The launcher runs the evcxr_jupyter that `make setup` built with the patches in patches/
(tools/evcxr.py), tells it which function runs a cell's top-level `.await`, and puts the
toolchain's `bin` ahead of rustup's proxies (measured in docs/speed.md). It stays evcxr's parent
for Jupyter's interrupt (docs/interrupt.md): SIGINT is ignored by evcxr and handed to our crate
in the process that runs the cells, and where no `Runtime` has taken it over yet, the launcher
ends a running cell's process as plain evcxr would (Linux only: without /proc and prctl, as on
macOS, it leaves the press alone; see docs/platforms.md).

Commands:

    kernel.py launch CONNECTION_FILE   what the kernel spec runs: take a slot, run evcxr_jupyter
    kernel.py install                  register the kernel (in $JUPYTER_PATH/kernels/rust)
    kernel.py warm                     fill a slot by running in-1, unless one is warm already
    kernel.py status                   the slots, their size, and which are taken
    kernel.py clean                    delete the slots that are not taken
"""
import argparse
import ctypes
import fcntl
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evcxr  # noqa: E402  (tools/evcxr.py: where the patched kernel is)

ROOT = Path(__file__).resolve().parents[1]
# tools/procfs.py, by its path: the kernel spec runs this file with `python -I`, which leaves the
# file's folder off sys.path.
_SPEC = importlib.util.spec_from_file_location("procfs", ROOT / "tools" / "procfs.py")
procfs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(procfs)
children_of, environ_of, parent_of = procfs.children_of, procfs.environ_of, procfs.parent_of
SLOTS = ROOT / ".venv" / "evcxr"
MAX_SLOTS = 4
# The number of read(2) in /proc/PID/syscall, to tell a cell process that waits for its next
# command: 0 on x86_64, 63 on aarch64.
READ_SYSCALL = {"x86_64": 0, "aarch64": 63}.get(platform.machine(), 0)
# Linux's /proc and prctl. Elsewhere (macOS) the launcher does without them (docs/platforms.md);
# ASYNCIO_RS_NO_PROC=1 makes it do without them on Linux too, for the tests of that path.
LINUX = sys.platform == "linux" and os.environ.get("ASYNCIO_RS_NO_PROC") != "1"
# In a slot that `warm` filled: what it was filled from (see warm_stamp).
STAMP = ".warm"
# Written into every slot's parent, so cargo reads it for every build in a slot. A profile in a
# config file overrides the one evcxr writes into each slot's Cargo.toml (`opt_level` of
# notebooks/evcxr.toml, for every crate). `ctx` is the crate evcxr makes of each cell: it changes
# in every cell and is compiled in every cell, so it is compiled quickest; the code it calls (our
# crate, tokio) keeps evcxr.toml's level, which the timed demos need. See docs/speed.md.
CARGO_CONFIG = """\
# Written by tools/kernel.py for the notebook's evcxr build slots: see docs/speed.md.
[profile.dev.package.ctx]
opt-level = 0
"""


def slot_is_warm(slot):
    return (slot / "target" / "debug" / ".fingerprint").is_dir()


def try_lock(index):
    """The lock of slot `index` as an open file descriptor, or None if a kernel holds it."""
    fd = os.open(SLOTS / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def take_slot():
    """(slot directory, lock fd) for a new kernel, or (None, None) when every slot is taken.

    A free warm slot first; else a free empty slot, filled with a copy of a warm one if there
    is one (taken by another kernel: cargo only writes there while that kernel compiles, and
    what it writes for a cell is rebuilt in every cell anyway)."""
    SLOTS.mkdir(parents=True, exist_ok=True)
    config = SLOTS / ".cargo" / "config.toml"
    if not config.exists() or config.read_text() != CARGO_CONFIG:
        # Another kernel may be starting too: write aside, then rename over.
        config.parent.mkdir(exist_ok=True)
        fresh = config.with_name(f"config.toml.{os.getpid()}")
        fresh.write_text(CARGO_CONFIG)
        fresh.replace(config)
    order = sorted(range(MAX_SLOTS), key=lambda i: not slot_is_warm(SLOTS / str(i)))
    for index in order:
        fd = try_lock(index)
        if fd is None:
            continue
        slot = SLOTS / str(index)
        if not slot_is_warm(slot):
            warm = next((SLOTS / str(i) for i in order if slot_is_warm(SLOTS / str(i))), None)
            shutil.rmtree(slot, ignore_errors=True)
            if warm is not None:
                # Symlinks and mtimes as they are; a file that vanishes meanwhile is skipped.
                subprocess.run(["cp", "-a", str(warm), str(slot)], stderr=subprocess.DEVNULL)
            slot.mkdir(exist_ok=True)
        # The dylibs of the last kernel's cells (evcxr numbers them from 1 again), a megabyte
        # or more each, in target/<host triple>/debug/deps.
        for old in slot.glob("target/*/debug/deps/libcode_*"):
            old.unlink(missing_ok=True)
        return slot, fd
    return None, None


def toolchain_bin():
    """The active toolchain's own `bin`, so that evcxr runs cargo and rustc directly rather than
    through rustup's proxies (each proxy call resolves the toolchain again)."""
    try:
        sysroot = subprocess.run(
            ["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(sysroot) / "bin"
    return path if (path / "cargo").exists() else None


def launch(connection_file):
    slot, fd = take_slot()
    env = dict(os.environ)
    if slot is None:
        print(
            f"kernel.py: all {MAX_SLOTS} build slots in {SLOTS} are taken; "
            "this kernel compiles in a temporary directory",
            file=sys.stderr,
        )
    else:
        os.set_inheritable(fd, True)
        env["EVCXR_TMPDIR"] = str(slot)
        # Whose slot it is, for `warm` (slot_of): this launcher's pid, in the lock file.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    # evcxr runs the cells with RUST_BACKTRACE=1 whatever the reader set; the crate's short panics
    # (src/panics.rs) put the reader's choice back in the cell process.
    env["ASYNCIO_RS_RUST_BACKTRACE"] = env.get("RUST_BACKTRACE", "")
    bin_dir = toolchain_bin()
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        # evcxr's rust-analyzer looks for cargo in $CARGO before $CARGO_HOME/bin (the proxy).
        env.setdefault("CARGO", str(bin_dir / "cargo"))
    # A cell's top-level `.await` runs in asyncio_rs::runtime::block_on once the crate is a
    # dependency (patches/0002), on a runtime of the cell's own tokio before.
    env.setdefault("EVCXR_ASYNC_RUNNER", "asyncio_rs::runtime::block_on")
    kernel_binary = kernel_path()
    # Jupyter's interrupt (interrupt_mode "signal") sends SIGINT to the kernel's process group.
    # evcxr must not die of it: ignored here before the fork, it stays ignored in evcxr and in the
    # process that runs the cells, where our crate takes it over (see docs/interrupt.md).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    kernel = subprocess.Popen(
        [kernel_binary, "--control_file", connection_file], env=env, pass_fds=() if fd is None else (fd,),
        preexec_fn=die_with_parent,
    )
    if LINUX:
        # Elsewhere a press stays ignored here: nothing tells whether a cell runs (docs/platforms.md).
        signal.signal(signal.SIGINT, lambda *_: stop_an_unguarded_cell(kernel.pid))
    signal.signal(signal.SIGTERM, lambda signum, _: kernel.send_signal(signum))
    code = kernel.wait()
    sys.exit(code if code >= 0 else 128 - code)


def kernel_path():
    """The evcxr_jupyter to run: the one built with our patches (`make setup`), or the one that
    ASYNCIO_RS_EVCXR names (e.g. upstream's, to check that the notebook runs under it)."""
    path = os.environ.get("ASYNCIO_RS_EVCXR") or str(evcxr.binary())
    if not os.access(path, os.X_OK):
        sys.exit(f"kernel.py: no evcxr_jupyter at {path}; run `make setup`")
    return path


def die_with_parent():
    """In evcxr's process, before exec: if this launcher is killed alone (a client that kills
    the kernel's pid rather than its process group), evcxr is killed too, never orphaned; the
    process that runs the cells then ends with evcxr (its stdin closes). Linux only (prctl):
    elsewhere nothing, and only a client that kills the launcher alone leaves evcxr behind."""
    if not LINUX:
        return
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_an_unguarded_cell(evcxr):
    """What plain evcxr does on an interrupt, where our crate cannot: end the process that runs
    the cells, if it is running one and has no SIGINT handler of its own (no `Runtime` made yet:
    a `loop {}` before the notebook's `let rt`). evcxr reports it and starts a fresh process for
    the next cell. A compile (cargo and rustc, evcxr's other children) is left alone.

    evcxr, not this launcher, reaps that process, so its pid may be another process's by the time
    we look. The signal goes through a pidfd opened before the checks: the checks then read the
    pidfd's own process, or a newcomer that took the pid after it ended (whose parent is not
    evcxr, so it is left alone), and a pidfd whose process has ended signals nothing (ESRCH)."""
    for child in children_of(evcxr):
        try:
            pidfd = os.pidfd_open(child)
        except OSError:  # ended already
            continue
        try:
            if is_unguarded_cell(child, evcxr):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except (OSError, TypeError):  # ended while we looked
            continue
        finally:
            os.close(pidfd)


def is_unguarded_cell(pid, evcxr):
    """Whether `pid` is evcxr's process that runs the cells, running one, with no SIGINT handler."""
    proc = Path("/proc") / str(pid)
    if parent_of(pid) != evcxr or environ_of(pid).get("EVCXR_IS_RUNTIME") != "1":
        return False
    caught = int(re.search(r"^SigCgt:\s*(\w+)", (proc / "status").read_text(), re.M)[1], 16)
    if caught & (1 << (signal.SIGINT - 1)):
        return False
    # Between cells, the process waits for evcxr's next command: read(0, …).
    return (proc / "syscall").read_text().split()[:2] != [str(READ_SYSCALL), "0x0"]


def kernel_dir():
    return Path(os.environ["JUPYTER_PATH"].split(os.pathsep)[0]) / "kernels" / "rust"


def install():
    """Register the kernel: evcxr's own files (logo, CodeMirror mode), and a kernel.json that
    starts this launcher with the virtualenv's Python."""
    spec_dir = kernel_dir()
    # evcxr_jupyter rewrites kernel.json at its start when version.txt is not its own.
    if not (spec_dir / "version.txt").exists():
        subprocess.run([kernel_path(), "--install"], check=True, stdout=subprocess.DEVNULL)
    spec = {
        "argv": [sys.executable, "-I", str(Path(__file__).resolve()), "launch", "{connection_file}"],
        "display_name": "Rust",
        "language": "rust",
        "interrupt_mode": "signal",
    }
    path = spec_dir / "kernel.json"
    if not path.exists() or json.loads(path.read_text()) != spec:
        path.write_text(json.dumps(spec, indent=2) + "\n")
        print(f"registered the Rust kernel in {spec_dir}")


def first_cell():
    """The source of the notebook's `in-1` cell: its `:dep`s and `use`s."""
    notebook = json.loads((ROOT / "notebooks" / "asyncio.ipynb").read_text())
    first = next(c for c in notebook["cells"] if "in-1" in c.get("metadata", {}).get("tags", []))
    return "".join(first["source"])


def warm_stamp():
    """What a warm slot was built from: our crate's manifest and lock file, the notebook's
    first cell (its `:dep`s) and the profiles. Edits under src/ are cargo's to notice."""
    parts = [(ROOT / "Cargo.toml").read_text(), (ROOT / "Cargo.lock").read_text(),
             first_cell(), (ROOT / "notebooks" / "evcxr.toml").read_text(), CARGO_CONFIG]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def warm():
    """Compile the notebook's first cell in a slot, unless a slot is warm for the crate as it
    is: whichever of `make notebooks`, `make test` and `make lab` comes first leaves a warm slot
    behind, and so does the first after a change of dependencies."""
    stamp = warm_stamp()
    if any((SLOTS / str(i) / STAMP).exists() and (SLOTS / str(i) / STAMP).read_text() == stamp
           for i in range(MAX_SLOTS)):
        return
    from jupyter_client.manager import start_new_kernel

    print("compiling the notebook's crate and its dependencies into a build slot")
    manager, client = start_new_kernel(kernel_name="rust", cwd=str(ROOT / "notebooks"))
    try:
        slot = slot_of(manager.provisioner.process.pid)
        reply = client.execute_interactive(first_cell(), timeout=900, output_hook=lambda m: None)
        if reply["content"]["status"] != "ok":
            sys.exit(f"kernel.py: the first cell failed: {reply['content']}")
        if slot is not None:
            (slot / STAMP).write_text(stamp)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def is_taken(index):
    """Whether a kernel holds slot `index`."""
    fd = try_lock(index)
    if fd is not None:
        os.close(fd)
    return fd is None


def slot_of(launcher):
    """The slot that the kernel started by `launcher` (its process id) holds, or None: `launch`
    writes its pid into the lock file of the slot it takes. (No /proc needed: macOS has none.)"""
    for index in range(MAX_SLOTS):
        try:
            owner = (SLOTS / f"{index}.lock").read_text().strip()
        except FileNotFoundError:
            continue
        if owner == str(launcher) and is_taken(index):
            return SLOTS / str(index)
    return None


def status():
    SLOTS.mkdir(parents=True, exist_ok=True)
    for index in range(MAX_SLOTS):
        slot = SLOTS / str(index)
        if not slot.exists():
            continue
        taken = is_taken(index)
        size = subprocess.run(["du", "-sh", str(slot)], capture_output=True, text=True).stdout
        state = "taken" if taken else ("warm" if slot_is_warm(slot) else "empty")
        print(f"slot {index}: {state}, {size.split()[0] if size else '?'}")


def clean():
    SLOTS.mkdir(parents=True, exist_ok=True)
    for index in range(MAX_SLOTS):
        fd = try_lock(index)
        if fd is None:
            print(f"slot {index} is taken by a running kernel: kept")
            continue
        shutil.rmtree(SLOTS / str(index), ignore_errors=True)
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("launch").add_argument("connection_file")
    for name in ["install", "warm", "status", "clean"]:
        commands.add_parser(name)
    args = parser.parse_args()
    if args.command == "launch":
        launch(args.connection_file)
    else:
        {"install": install, "warm": warm, "status": status, "clean": clean}[args.command]()


if __name__ == "__main__":
    main()
