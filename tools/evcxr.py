"""The notebook's evcxr: evcxr_jupyter 0.22.0 as published, with the patches in patches/.

The kernel needs three changes to evcxr (a top-level `.await` that works with the tasks it
spawns, the standard library loaded for the analyzer off the reader's path, a type for a kept
variable when the analyzer has none); each is a patch file in `patches/` that says why and what it
measured. This script builds that kernel once per set of patches, outside the clone, and leaves
any `evcxr_jupyter` of the reader's own (`~/.cargo/bin`) alone:

    ~/.cache/asyncio-rs/                      ($XDG_CACHE_HOME/asyncio-rs)
        evcxr-<key>/bin/evcxr_jupyter         the patched kernel; <key> hashes the version and
                                              the patches, so a new clone with the same patches
                                              finds it built and an edited patch builds anew
        evcxr-<key>/src/                      the published sources, patched
        evcxr-target/                         cargo's target directory, shared by every key: a
                                              changed patch recompiles evcxr, not its 300
                                              dependencies

Steps: `cargo fetch` for a throw-away manifest that depends on `evcxr_jupyter = "=0.22.0"` (so
cargo downloads and checks both published crates), the two `.crate` archives from cargo's cache
unpacked, the patches applied with `git apply`, then `cargo build --release --locked` with the
lock file that evcxr_jupyter 0.22.0 was published with (the first patch points it at the patched
evcxr). About 10 minutes on 2 cores the first time; a minute or two after a change of patches.
`EVCXR_TARGET_DIR` names another target directory (one that `cargo install evcxr_jupyter
--version 0.22.0` filled, say). The cache holds about 750 MiB; delete `~/.cache/asyncio-rs/` to
get it back (the next `make setup` builds again).

    evcxr.py build     build the patched kernel unless it is built (what `make setup` runs)
    evcxr.py path      print where the patched kernel is (built or not)
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.22.0"
CRATES = ["evcxr_jupyter", "evcxr"]
ROOT = Path(__file__).resolve().parents[1]
PATCHES = ROOT / "patches"
# Part of the key: bump it when the way this script builds changes.
RECIPE = "1"


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "asyncio-rs"


def patch_files():
    return sorted(PATCHES.glob("*.patch"))


def key():
    """What the build depends on: the version, this recipe, the patches' names and changes (not
    their headers: rewording a reason builds nothing)."""
    digest = hashlib.sha256(f"{VERSION}\0{RECIPE}\0".encode())
    for patch in patch_files():
        text = patch.read_bytes()
        changes = text[text.find(b"\ndiff --git") + 1:]
        digest.update(patch.name.encode() + b"\0" + changes + b"\0")
    return digest.hexdigest()[:16]


def home():
    return cache_dir() / f"evcxr-{key()}"


def binary():
    """Where the patched evcxr_jupyter is, or will be once built."""
    return home() / "bin" / "evcxr_jupyter"


def cargo_home():
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def fetch(work):
    """Has cargo download and verify the published crates; returns their `.crate` archives."""
    manifest = work / "fetch"
    (manifest / "src").mkdir(parents=True)
    (manifest / "src" / "lib.rs").write_text("")
    (manifest / "Cargo.toml").write_text(
        '[package]\nname = "fetch-evcxr"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n'
        f'[dependencies]\nevcxr_jupyter = {{ version = "={VERSION}", default-features = false }}\n'
    )
    subprocess.run(["cargo", "fetch", "--quiet", "--manifest-path", str(manifest / "Cargo.toml")],
                   check=True)
    archives = []
    for crate in CRATES:
        found = sorted(cargo_home().glob(f"registry/cache/*/{crate}-{VERSION}.crate"))
        if not found:
            sys.exit(f"evcxr.py: cargo fetched no {crate}-{VERSION}.crate")
        archives.append(found[0])
    return archives


def build():
    target = binary()
    if target.exists():
        return
    print(f"building evcxr_jupyter {VERSION} with the patches in patches/ into {home()} "
          "(about 10 minutes the first time on 2 cores)", flush=True)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"evcxr-{key()}.", dir=cache))
    try:
        src = staging / "src"
        src.mkdir()
        for archive in fetch(staging):
            with tarfile.open(archive) as tar:
                # The "data" filter (Python 3.12, and 3.8.17+ back-ports) refuses odd members.
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(src, filter="data")
                else:
                    tar.extractall(src)
        for patch in patch_files():
            subprocess.run(["git", "apply", "--whitespace=nowarn", str(patch)], cwd=src, check=True)
        target_dir = Path(os.environ.get("EVCXR_TARGET_DIR") or cache / "evcxr-target")
        manifest = src / f"evcxr_jupyter-{VERSION}" / "Cargo.toml"
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "evcxr_jupyter",
                        "--manifest-path", str(manifest), "--target-dir", str(target_dir)],
                       check=True)
        (staging / "bin").mkdir()
        shutil.copy2(target_dir / "release" / "evcxr_jupyter", staging / "bin" / "evcxr_jupyter")
        shutil.rmtree(staging / "fetch")
        try:
            staging.rename(home())
        except OSError:
            # Another clone finished the same build first: theirs is as good.
            if not target.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"built {target}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "path"])
    args = parser.parse_args()
    if args.command == "build":
        build()
    else:
        print(binary())


if __name__ == "__main__":
    main()
