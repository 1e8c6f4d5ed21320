"""Shared fixtures: the scripts imported as modules, and the small corpus."""

import contextlib
import importlib
import io
import os
from pathlib import Path

import pytest
import torch

import plumbing

ROOT = Path(__file__).resolve().parents[1]  # on the import path through pytest.ini's pythonpath
SCRIPTS = list(plumbing.SCRIPTS.values())  # v1, v2, ..., as module names
SMALL_CORPUS = ROOT / "data" / "songci300.txt"

# One thread, fixed, not the scripts' timed choice (plumbing.choose_threads): the thread count can
# change a loss's last digits (sums added in another order), and tests compare runs of different
# processes bit for bit (--resume, torchrun).
# The timed choice has its own tests (test_threads.py). Subprocesses inherit the variable.
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def load_script(name):
    return importlib.import_module(name)


@pytest.fixture(params=SCRIPTS, ids=lambda name: name.split("_")[1])
def script(request):
    """Each of the scripts, imported (importing has no side effects)."""
    return load_script(request.param)


@pytest.fixture(scope="session")
def small_text():
    return SMALL_CORPUS.read_text(encoding="utf-8")


def tiny_config(module, tmp_path, **overrides):
    """A budget of seconds, on the small corpus: for tests only."""
    settings = dict(
        data=str(SMALL_CORPUS), batch_size=4, block_size=8, max_iters=20, eval_interval=10,
        eval_iters=2, n_embd=16, device="cpu", out_dir=str(tmp_path / "run"), max_new_tokens=10,
    )
    settings.update(overrides)
    return module.Config(**settings)


TINY_COMPARE = [
    "--data", str(SMALL_CORPUS), "--batch-size", "4", "--block-size", "8", "--max-iters", "20",
    "--eval-interval", "10", "--eval-iters", "2", "--n-embd", "16", "--device", "cpu", "--max-new-tokens", "10",
]


@pytest.fixture(scope="session")
def tiny_comparison(tmp_path_factory):
    """A comparison of every version at two seeds, on a budget of seconds: (exit status, what it printed,
    its folder). Its checkpoints serve the tools that load them (tools/write_poem.py, the explorer)."""
    from tools import compare_versions

    out_dir = tmp_path_factory.mktemp("compare")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = compare_versions.main(TINY_COMPARE + ["--seeds", "2", "--out-dir", str(out_dir),
                                                        "--versions", *plumbing.SCRIPTS])  # v9 too
    return status, printed.getvalue(), out_dir
