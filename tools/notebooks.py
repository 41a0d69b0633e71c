"""Execute notebooks, coalesce their streams and export them, in one Python process.

`make notebooks` and `make refresh` run this instead of `jupyter nbconvert` three times per
notebook (execute, coalesce, export): each nbconvert start costs about 1.5 s of imports.

    tools/notebooks.py --out build/notebooks notebooks/*.ipynb   # executed .ipynb and .html there
    tools/notebooks.py --inplace notebooks/*.ipynb               # refresh the committed outputs

Each cell's stream outputs are coalesced into one, as Jupyter shows them live (a lone "\\n"
output would vanish from the HTML). Kernels start in the notebook's folder, as in Jupyter.
"""
import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, ExecutePreprocessor

TIMEOUT = 600


def execute(path, record_timing):
    notebook = nbformat.read(path, as_version=4)
    # nbconvert's own executor, as `jupyter nbconvert --execute` runs it (the kernel numbers the
    # cells), then its coalescing.
    executor = ExecutePreprocessor(timeout=TIMEOUT, record_timing=record_timing)
    notebook, _ = executor.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
    notebook, _ = CoalesceStreamsPreprocessor(enabled=True).preprocess(notebook, {})
    return notebook


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="write the executed .ipynb and its .html here")
    where.add_argument("--inplace", action="store_true", help="overwrite each notebook, no timing")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        notebook = execute(path, record_timing=not args.inplace)
        if args.inplace:
            nbformat.write(notebook, path)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, args.out / path.name)
        html, _ = HTMLExporter().from_notebook_node(
            notebook, resources={"metadata": {"name": path.stem}}
        )
        (args.out / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
