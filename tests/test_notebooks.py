"""The eight notebooks run headless, top to bottom, without a cell error (small budget)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_all_eight_notebooks_are_here_in_order():
    assert NAMES == [
        "01_bigram.ipynb", "02_selfattention.ipynb", "03_head.ipynb", "04_multihead_attention.ipynb",
        "05_residual.ipynb", "06_feedforward.ipynb", "07_transformer.ipynb", "08_compare_versions.ipynb",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)  # a fresh copy in memory: the file is never written
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(
        nb, kernel_name="python3", timeout=60,  # per cell
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the working directory: notebooks/
    )
    # One torch thread: as fast for these tiny models, and steady when the machine is busy.
    env = {**os.environ, "BABYGPT_QUICK": "1", "OMP_NUM_THREADS": "1"}
    client.execute(env=env)  # raises CellExecutionError on any cell error
    printed = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "missing from font" not in printed and "findfont" not in printed  # Chinese drew as glyphs


@pytest.mark.slow
def test_a_notebook_runs_from_a_colab_layout(tmp_path):
    """Colab's working directory is /content and the clone is /content/BabyGPT: one level below."""
    (tmp_path / "sample_data").mkdir()
    (tmp_path / "BabyGPT").symlink_to(NOTEBOOKS.parent, target_is_directory=True)
    nb = nbformat.read(NOTEBOOKS / NAMES[0], as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=60, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env={**os.environ, "BABYGPT_QUICK": "1", "OMP_NUM_THREADS": "1"})
