"""Write the README's picture, docs/images/count-timeline.svg, from the committed notebook.

It is the crate's own output: the `image/svg+xml` that notebooks/asyncio.ipynb shows after
In [4], three concurrent `count()` calls above three blocking ones, drawn by
`asyncio_rs::timeline`. Run it after `make refresh`:

    python3 tools/readme_picture.py
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "asyncio.ipynb"
PICTURE = ROOT / "docs" / "images" / "count-timeline.svg"
# The one code cell whose source has this: the cell that draws the count() timelines.
MARKER = "count::main_recorded()"


def main():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    [cell] = [c for c in cells if c["cell_type"] == "code" and MARKER in "".join(c["source"])]
    [svg] = [
        "".join(output["data"]["image/svg+xml"])
        for output in cell["outputs"]
        if "image/svg+xml" in output.get("data", {})
    ]
    PICTURE.parent.mkdir(parents=True, exist_ok=True)
    PICTURE.write_text(svg if svg.endswith("\n") else svg + "\n", encoding="utf-8")
    print(f"wrote {PICTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
