"""Re-run the notebooks and save their outputs in place, as they are committed.

    python tools/run_notebooks.py                            # all eight, full budget (about an hour on a CPU)
    python tools/run_notebooks.py notebooks/03_head.ipynb    # one

Needs requirements-dev.txt (nbclient, ipykernel). Progress bars are reduced to their final
state and timing metadata is dropped, so that the files stay small and diffs stay readable.
"""

import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PROGRESS_BAR = re.compile(r".*\|.*\| *\d+/\d+ \[")  # a tqdm line: "v1 training:  40%|####  | 400/1000 [..."


def final_state(text):
    """What a terminal would show: each line's text after its last carriage return, blank lines dropped."""
    return "\n".join(s for line in text.split("\n") if (s := line.rsplit("\r", 1)[-1]).strip())


def tidy(outputs):
    """Progress bars reduced to the last one of the cell, in its final state; everything else kept."""
    bars = [i for i, o in enumerate(outputs) if o.output_type == "stream" and o.name == "stderr"
            and all(PROGRESS_BAR.match(line) for line in final_state(o.text).split("\n"))]
    kept = []
    for i, out in enumerate(outputs):
        if out.output_type == "stream" and out.name == "stderr":
            if i in bars[:-1] or not final_state(out.text):
                continue
            out.text = final_state(out.text) + "\n"
        kept.append(out)
    return kept


def run(path):
    nb = nbformat.read(path, as_version=4)
    # timeout is per cell: 08 trains all seven versions in one cell, about a quarter of an hour on a CPU
    client = NotebookClient(nb, kernel_name="python3", timeout=1800, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = tidy(cell.outputs)
    nbformat.write(nb, path)
    print(f"ran {path}")


if __name__ == "__main__":
    for arg in sys.argv[1:] or sorted(NOTEBOOKS.glob("*.ipynb")):
        run(Path(arg).resolve())
