"""The notebook against the Python original, side by side (`make bench`).

Each round executes, one after the other:

  a. python   benches/original.ipynb, the original's ten code cells verbatim, under ipykernel;
  b. cold     ours, the same work (the `in-n` cells of notebooks/asyncio.ipynb and the `let rt`
              cell), in a fresh evcxr kernel whose build slots (tools/kernel.py) have just been
              deleted: nothing compiled yet, as before `make setup` warms a slot;
  c. warm     the same again, in the slot that b left warm: every reader's session;
  d. whole    all of notebooks/asyncio.ipynb, warm;
  e. make     `make notebooks` (execute, coalesce and export every notebook), warm;
  f. reader   a reader's own cells in a warm kernel after in-1 and `let rt`, typed one after the
              other: untyped `let`s of std, tokio and crate types, a top-level `.await` (10 s),
              more untyped `let`s, then Tab completions (tests/notebooks/test_reader_cells.py
              checks what they answer).

Rounds alternate, so a change in the machine's load hits every variant alike; the report gives
medians and the spread (min-max). For each run: end-to-end wall time (nbclient's execute, kernel
start and shutdown included), the time until the kernel is ready and to the end of the first
cell, each cell's latency, the CPU time of the kernel and everything it ran (getrusage of reaped
children) and the peak memory of the kernel's process tree (psutil, sampled every 50 ms).

    .venv/bin/python benches/bench.py [--rounds 3] [--only python,cold,warm,whole,make]
                                      [--json FILE]   # every run and the medians, for machines
    (`--only reader` is not among the defaults: `make bench ARGS="--only warm,reader"`.)
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BENCHES = ROOT / "benches"
# The cells that sleep, and how long: the rest is overhead. The same in both notebooks.
SLEEPS = {"in-3": 1.0, "in-4": 3.0, "in-10": 12.0}
LOG = ROOT / "build" / "bench" / "kernels.log"
VARIANTS = ["python", "cold", "warm", "whole", "make"]
EXTRA_VARIANTS = ["reader"]
# The reader's cells, after in-1 and `let rt`, in order; the first comes right after `let rt`.
READER_CELLS = [
    ("untyped let v (first)", "let v = vec![1, 2, 3];"),
    ("untyped let s", 'let s = String::from("hello");'),
    ("untyped let x = rt.run", "let x = rt.run(async { 41 + 1 });"),
    ("untyped let h = rt.spawn", "let h = rt.spawn(async { 7 });"),
    ("untyped let, iterator chain", "let doubled = v.iter().map(|x| x * 2).collect::<Vec<_>>();"),
    ("top-level .await, sleeps 10 s", "tokio::time::sleep(Duration::from_secs(10)).await;"),
    ("untyped let m (analyzer warm)", "let m = std::collections::HashMap::from([(1, 30)]);"),
    ("untyped let n (analyzer warm)", "let n = v.len() + doubled.len() + m.len();"),
    ("expression", "rt.run(h).unwrap() + x"),
]
READER_COMPLETIONS = [("Tab after w. (a Vec<u32>)", "let w: Vec<u32> = vec![]; w."),
                      ("Tab after String::fr", "String::fr")]
READER_SLEEP = "top-level .await, sleeps 10 s"


def tag_of(cell):
    return next((t for t in cell.metadata.get("tags", []) if t.startswith("in-")), None)


def same_work():
    """Our notebook cut down to the original's work: its `in-n` cells and the cell that starts
    the runtime they use (`let rt`), in order."""
    notebook = nbformat.read(NOTEBOOKS / "asyncio.ipynb", as_version=4)
    keep = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and (tag_of(cell) or cell.source.startswith("let rt:"))
    ]
    notebook.cells = keep
    return notebook


def empty_slots():
    """Delete the kernels' build slots (tools/kernel.py), so that the next kernel compiles our
    crate and its dependencies from nothing, as on a reader's first day."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "kernel.py"), "clean"], check=True)


class PeakMemory:
    """The peak resident memory of a process and its descendants, sampled in a thread."""

    def __init__(self):
        self.pid = None
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.05):
            if self.pid is None:
                continue
            try:
                root = psutil.Process(self.pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            total = 0
            for process in processes:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


class TimedClient(NotebookClient):
    """nbclient's executor, noting when the kernel is ready and when each cell ends."""

    def __init__(self, *args, memory, **kwargs):
        super().__init__(*args, **kwargs)
        self.memory = memory
        self.cell_ends = []
        self.cell_times = []

    async def async_start_new_kernel(self, **kwargs):
        # The kernel's own stdout and stderr (evcxr prints its configuration and cargo's
        # progress there) go to a log, not into this report.
        LOG.parent.mkdir(parents=True, exist_ok=True)
        with open(LOG, "ab") as log:
            await super().async_start_new_kernel(stdout=log, stderr=log, **kwargs)

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        self.ready = time.monotonic()
        self.memory.pid = self.km.provisioner.process.pid
        return client

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        start = time.monotonic()
        result = await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        end = time.monotonic()
        if cell.cell_type == "code":
            self.cell_times.append(end - start)
            self.cell_ends.append(end)
        return result


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute(notebook, kernel_name, path):
    """Execute `notebook` in a fresh kernel; what it cost."""
    memory = PeakMemory()
    client = TimedClient(
        notebook,
        timeout=600,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path)}},
        memory=memory,
    )
    cpu = children_cpu()
    start = time.monotonic()
    client.execute()
    wall = time.monotonic() - start
    cpu = children_cpu() - cpu
    peak = memory.stop()
    for cell in notebook.cells:
        # A cell tagged raises-exception shows an error on purpose (nbclient runs on past it).
        if "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                raise RuntimeError(f"cell failed: {output.ename}: {output.evalue}")
    cells = {}
    for index, (cell, seconds) in enumerate(zip(
        [c for c in notebook.cells if c.cell_type == "code"], client.cell_times
    )):
        name = tag_of(cell) or ("let rt" if cell.source.startswith("let rt:") else f"cell {index}")
        cells[name] = seconds
    return {
        "wall": wall,
        "kernel_start": client.ready - start,
        "first_cell": client.cell_ends[0] - start,
        "cpu": cpu,
        "peak_mib": peak / 2**20,
        "cells": cells,
    }


def reader():
    """A reader's own cells in a warm kernel, after in-1 and `let rt`: each cell's latency, and
    each completion's."""
    from jupyter_client.manager import start_new_kernel

    same = same_work()
    first = [c.source for c in same.cells if tag_of(c) == "in-1"][0]
    let_rt = [c.source for c in same.cells if c.source.startswith("let rt:")][0]
    LOG.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(LOG, "ab") as log:
        manager, client = start_new_kernel(
            kernel_name="rust", cwd=str(NOTEBOOKS), stdout=log, stderr=log
        )
    ready = time.monotonic()
    cells, completions = {}, {}
    try:
        for name, code in [("in-1", first), ("let rt", let_rt), *READER_CELLS]:
            began = time.monotonic()
            reply = client.execute_interactive(code, timeout=600, output_hook=lambda m: None)
            cells[name] = time.monotonic() - began
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"reader cell failed: {code}: {reply['content']}")
        for name, code in READER_COMPLETIONS:
            began = time.monotonic()
            client.complete(code, len(code))
            matches = client.get_shell_msg(timeout=120)["content"]["matches"]
            completions[name] = time.monotonic() - began
            if not matches:
                raise RuntimeError(f"no completion for {code!r}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {
        "wall": time.monotonic() - start,
        "kernel_start": ready - start,
        "cells": cells,
        "completions": completions,
    }


def reader_table(results):
    rows = [["a reader's cells, warm kernel", "median (min-max)"]]
    rows.append(["kernel start (until ready)", fmt(summary([r["kernel_start"] for r in results]))])
    for name in results[0]["cells"]:
        stat = summary([r["cells"][name] for r in results])
        rows.append([name, fmt(stat)])
    for name in results[0]["completions"]:
        rows.append([name, fmt(summary([r["completions"][name] for r in results]))])
    return render(rows)


def run_variant(variant):
    if variant == "reader":
        return reader()
    if variant == "python":
        notebook = nbformat.read(BENCHES / "original.ipynb", as_version=4)
        return execute(notebook, "python3", BENCHES)
    if variant == "cold":
        empty_slots()
        return execute(same_work(), "rust", NOTEBOOKS)
    if variant == "warm":
        return execute(same_work(), "rust", NOTEBOOKS)
    if variant == "whole":
        notebook = nbformat.read(NOTEBOOKS / "asyncio.ipynb", as_version=4)
        return execute(notebook, "rust", NOTEBOOKS)
    if variant == "make":
        cpu = children_cpu()
        start = time.monotonic()
        subprocess.run(["make", "notebooks"], cwd=ROOT, check=True, capture_output=True)
        return {"wall": time.monotonic() - start, "cpu": children_cpu() - cpu}
    raise ValueError(variant)


def summary(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarize(runs):
    """Medians and spread of each metric over the rounds, per variant."""
    out = {}
    for variant, results in runs.items():
        metrics = {}
        for key in ("wall", "kernel_start", "first_cell", "cpu", "peak_mib"):
            if key in results[0]:
                metrics[key] = summary([r[key] for r in results])
        if "cells" in results[0]:
            metrics["cells"] = {
                name: summary([r["cells"][name] for r in results]) for name in results[0]["cells"]
            }
            # Cells that do not sleep, the first one aside (it has its own line).
            quick = [name for name in list(results[0]["cells"])[1:] if name not in SLEEPS]
            metrics["quick_cells"] = quick
            metrics["quick_cell_median"] = summary(
                [statistics.median(r["cells"][n] for n in quick) for r in results]
            )
            metrics["sleep_overhead"] = summary(
                [sum(r["cells"][n] - s for n, s in SLEEPS.items() if n in r["cells"]) for r in results]
            )
        out[variant] = metrics
    return out


def fmt(stat, unit="s"):
    if stat is None:
        return "-"
    if unit == "MiB":
        return f"{stat['median']:.0f} ({stat['min']:.0f}-{stat['max']:.0f}) MiB"
    return f"{stat['median']:.2f} ({stat['min']:.2f}-{stat['max']:.2f}) s"


def table(summaries, rounds):
    lines = [f"medians over {rounds} rounds, (min-max); ratios are of medians, to python", ""]
    same = [v for v in ("python", "cold", "warm") if v in summaries]
    rows = [
        ("end-to-end wall", "wall", "s"),
        ("kernel start (until ready)", "kernel_start", "s"),
        ("to the first cell's end", "first_cell", "s"),
        ("median non-sleeping cell", "quick_cell_median", "s"),
        ("sleeping cells beyond 16 s", "sleep_overhead", "s"),
        ("CPU, kernel and its children", "cpu", "s"),
        ("peak memory, kernel tree", "peak_mib", "MiB"),
    ]
    header = ["same work as the original"] + same
    python = summaries.get("python")
    if python:
        header += [f"{v}/python" for v in same if v != "python"]
    body = []
    for label, key, unit in rows:
        row = [label] + [fmt(summaries[v].get(key), unit) for v in same]
        if python:
            for v in same:
                if v == "python":
                    continue
                a, b = python.get(key), summaries[v].get(key)
                row.append(f"{b['median'] / a['median']:.2f}x" if a and b and a["median"] else "-")
        body.append(row)
    lines += render([header] + body)
    # Per cell, for the same-work variants.
    names = []
    for v in sorted(same, key=lambda v: v == "python"):
        for name in summaries[v]["cells"]:
            if name not in names:
                names.append(name)
    lines += ["", "per cell (median, s)" + "".join(f" | {v}" for v in same)]
    cell_rows = [["cell"] + same]
    for name in names:
        cell_rows.append(
            [name + (f" (sleeps {SLEEPS[name]:.0f} s)" if name in SLEEPS else "")]
            + [
                f"{summaries[v]['cells'][name]['median']:.2f}" if name in summaries[v]["cells"] else "-"
                for v in same
            ]
        )
    lines = lines[:-1] + render(cell_rows)
    other = [v for v in ("whole", "make") if v in summaries]
    if other:
        lines += ["", *render(
            [["whole runs, warm", "wall", "CPU"]]
            + [
                [
                    {"whole": "notebooks/asyncio.ipynb", "make": "make notebooks"}[v],
                    fmt(summaries[v]["wall"]),
                    fmt(summaries[v]["cpu"]),
                ]
                for v in other
            ]
        )]
    return "\n".join(lines)


def render(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = []
    for k, row in enumerate(rows):
        out.append("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    parser.add_argument("--json", type=Path, help="also write every run and the medians here")
    args = parser.parse_args()
    variants = [v for v in args.only.split(",") if v]
    for v in variants:
        if v not in VARIANTS + EXTRA_VARIANTS:
            parser.error(f"unknown variant {v!r}; choose from {','.join(VARIANTS + EXTRA_VARIANTS)}")
    if "JUPYTER_PATH" not in os.environ:
        parser.error("run it with `make bench`, which points Jupyter at .venv")
    runs = {v: [] for v in variants}
    for round_ in range(1, args.rounds + 1):
        for v in variants:
            print(f"round {round_}/{args.rounds}: {v}", file=sys.stderr, flush=True)
            runs[v].append(run_variant(v))
    summaries = summarize({v: r for v, r in runs.items() if v != "reader"})
    if args.json:
        args.json.write_text(json.dumps(
            {
                "rounds": args.rounds,
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg(),
                "runs": runs,
                "summary": summaries,
            },
            indent=1,
        ))
    if summaries:
        print(table(summaries, args.rounds))
    if "reader" in runs:
        print("\n" + "\n".join(reader_table(runs["reader"])))
    print(f"\n{os.cpu_count()} CPUs, load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
