"""python -m tools.run_notebooks: quick outputs never replace the committed ones; failures are one line."""

import nbformat
import pytest

from conftest import ROOT
from tools import run_notebooks

NOTEBOOK = ROOT / "notebooks" / "01_bigram.ipynb"


def run_in_process(capsys, monkeypatch, *args, quick=False):
    """The tool's command line in this process (its notebooks run in kernels of their own):
    (exit status, stderr)."""
    monkeypatch.delenv("BABYGPT_QUICK", raising=False)
    if quick:
        monkeypatch.setenv("BABYGPT_QUICK", "1")
    status = run_notebooks.main([str(arg) for arg in args])
    return status, capsys.readouterr().err


def assert_one_line(stderr, *phrases):
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    for phrase in phrases:
        assert phrase in stderr, stderr


def test_quick_mode_refuses_to_write_over_the_committed_notebooks(capsys, monkeypatch):
    before = NOTEBOOK.read_bytes()
    status, stderr = run_in_process(capsys, monkeypatch, NOTEBOOK, quick=True)
    assert status == 2
    assert_one_line(stderr, "BABYGPT_QUICK=1", "committed full-run", "--out-dir")
    assert NOTEBOOK.read_bytes() == before


@pytest.mark.parametrize("out_dir", ["notebooks", "link"], ids=["the-notebooks-folder", "a-link-to-it"])
def test_quick_mode_refuses_an_out_dir_that_is_the_committed_notebooks(tmp_path, capsys, monkeypatch, out_dir):
    """BABYGPT_QUICK=1 with --out-dir notebooks, or a symlink to it, wrote over the full-run outputs
    (issue 36)."""
    (tmp_path / "link").symlink_to(NOTEBOOK.parent, target_is_directory=True)
    before = NOTEBOOK.read_bytes()
    target = NOTEBOOK.parent if out_dir == "notebooks" else tmp_path / "link"
    status, stderr = run_in_process(capsys, monkeypatch, "--out-dir", target, NOTEBOOK, quick=True)
    assert status == 2
    assert_one_line(stderr, "BABYGPT_QUICK=1 would write tiny-budget outputs over the committed",
                    "01_bigram.ipynb", "give an --out-dir outside")
    assert NOTEBOOK.read_bytes() == before


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "missing.ipynb", "cannot read"),
    (lambda tmp: (tmp / "broken.ipynb").write_text('{"cells": [', encoding="utf-8") and tmp / "broken.ipynb",
     "is not a notebook"),
])
def test_a_missing_or_broken_notebook_is_one_line_before_anything_runs(tmp_path, capsys, monkeypatch, make, message):
    status, stderr = run_in_process(capsys, monkeypatch, NOTEBOOK, make(tmp_path), "--out-dir", tmp_path / "out")
    assert status == 2
    assert_one_line(stderr, message)
    assert not (tmp_path / "out").exists()  # 01 was not run either


def test_a_notebook_is_written_whole_and_a_failing_one_not_at_all(tmp_path, capsys, monkeypatch):
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    for path, code in ((good, "print('ran')"), (bad, "1 / 0")):
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    bad_before = bad.read_bytes()
    status, stderr = run_in_process(capsys, monkeypatch, good, bad, "--out-dir", tmp_path / "out", quick=True)
    assert status == 1
    assert_one_line(stderr, "bad.ipynb: a cell failed (ZeroDivisionError: division by zero)", "unchanged")
    assert nbformat.read(tmp_path / "out" / "good.ipynb", as_version=4).cells[0].outputs[0]["text"] == "ran\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.ipynb"]  # nothing of bad, no temp file
    assert bad.read_bytes() == bad_before
