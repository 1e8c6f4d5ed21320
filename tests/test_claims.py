"""No number that can go stale: the READMEs' results tables and the notebooks' prose.

- Each README's results table is the one docs/results.json gives (tools/readme_results.py).
- Every decimal figure in a notebook's markdown appears in that notebook's own outputs (or, for
  the comparison's figures, in the results tables), apart from the short list ALLOWED.
Each check is also shown to fail on a deliberately stale number.
"""

import json
import re

import nbformat
import pytest

from conftest import ROOT
from tools import readme_results

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A decimal figure: "4.9522", "0.8%", "-0.0112"; not part of a version ("2.13.0"), a section
# ("§4.4") or a word ("v2.0").
DECIMAL = re.compile(r"(?<![\w.§])\d+\.\d+(?!\.?\d)")
# Figures that are not measurements of a run, each with why it may stand in prose.
ALLOWED = {
}


def decimals(text):
    return set(DECIMAL.findall(text))


def output_text(notebook):
    """Everything the notebook's code cells printed or displayed, as text."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for kind in ("text/plain", "text/markdown", "text/html"):
                parts.append(output.get("data", {}).get(kind, ""))
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


def results_text():
    results = readme_results.read_results()
    return "\n".join(readme_results.render(results, language) for language in readme_results.READMES)


def unsupported(notebook, name, extra=""):
    """The decimal figures of the notebook's markdown that no output (nor extra) shows."""
    shown = decimals(output_text(notebook)) | decimals(extra)
    allowed = ALLOWED.get(name, {})
    return sorted((i, figure) for i, cell in enumerate(notebook.cells)
                  if cell.cell_type == "markdown"
                  for figure in decimals(cell.source) - shown if figure not in allowed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_prose_cites_only_its_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    missing = unsupported(notebook, path.name, results_text())
    assert not missing, (f"{path.name}: figures in markdown (cell, figure) that no output shows: "
                         f"{missing}")


def test_a_stale_figure_in_prose_is_caught():
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("The loss fell to 9.8765 nats."))
    assert unsupported(notebook, NOTEBOOKS[0].name) == [(len(notebook.cells) - 1, "9.8765")]


def test_decimal_pattern():
    assert decimals("v1 5.2469 ± 0.0326, 14.4%, −0.0112; torch 2.13.0, §4.4, 1,878,214") == {
        "5.2469", "0.0326", "14.4", "0.0112"}


def test_readmes_tables_are_the_results_files():
    results = readme_results.read_results()
    assert readme_results.stale_readmes(results) == [], (
        "a README's results table disagrees with docs/results.json: "
        "run python -m tools.readme_results")


def test_a_stale_readme_table_is_caught(tmp_path):
    results = readme_results.read_results()
    copies = {}
    for language, path in readme_results.READMES.items():
        copies[language] = tmp_path / path.name
        copies[language].write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    first = next(iter(results["versions"].values()))[0]
    first["val_loss"] += 0.01  # the results move on; the README's copy does not
    assert readme_results.stale_readmes(results, copies) == list(copies.values())


def test_results_file_is_a_comparison():
    results = json.loads(readme_results.RESULTS.read_text(encoding="utf-8"))
    assert len(next(iter(results["versions"].values()))) >= 3, "the README's table needs 3 seeds"
