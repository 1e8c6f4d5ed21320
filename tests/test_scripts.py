"""Every script end to end, as a learner runs it: in a subprocess, with a tiny budget."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, SCRIPTS, SMALL_CORPUS, load_script

SEPARATOR = load_script(SCRIPTS[0]).SAMPLE_SEPARATOR
TINY = [
    "--data", str(SMALL_CORPUS), "--batch-size", "4", "--block-size", "8", "--n-embd", "16",
    "--max-iters", "20", "--eval-interval", "10", "--eval-iters", "2", "--device", "cpu",
    "--prompt", "明月", "--prompt", "春风", "--max-new-tokens", "12",
]


def run(script_name, *args, cwd=ROOT):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, str(ROOT / f"{script_name}.py"), *args],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=120,
    )


@pytest.mark.parametrize("name", SCRIPTS, ids=lambda name: name.split("_")[1])
def test_train_then_sample_only(name, tmp_path):
    out_dir = tmp_path / "run"
    trained = run(name, *TINY, "--out-dir", str(out_dir), cwd=tmp_path)  # cwd elsewhere: paths still resolve
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert sorted(p.name for p in out_dir.iterdir()) == ["ckpt.pt", "loss.png", "metrics.json", "samples.txt"]
    samples = (out_dir / "samples.txt").read_text(encoding="utf-8")[:-1].split(SEPARATOR)
    assert [s[:2] for s in samples] == ["明月", "春风"]
    assert all(len(s) == 2 + 12 for s in samples)
    assert samples[0] in trained.stdout

    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert [h["step"] for h in metrics["history"]] == [0, 10, 20]
    assert set(metrics["final"]) >= {"train_loss", "val_loss", "wall_seconds", "tokens_per_second"}
    assert metrics["device"] == "cpu" and metrics["torch"] == torch.__version__
    assert metrics["config"]["block_size"] == 8

    state = torch.load(out_dir / "ckpt.pt", weights_only=True)
    assert state["step"] == 20

    # --sample-only rebuilds the model from ckpt.pt (its sizes, not the flags') and writes the same text.
    resampled = run(name, "--sample-only", "--data", str(SMALL_CORPUS), "--out-dir", str(out_dir),
                    "--prompt", "明月", "--prompt", "春风", "--max-new-tokens", "12", "--device", "cpu")
    assert resampled.returncode == 0, resampled.stderr[-2000:]
    assert (out_dir / "samples.txt").read_text(encoding="utf-8")[:-1].split(SEPARATOR) == samples


@pytest.mark.parametrize("name", SCRIPTS, ids=lambda name: name.split("_")[1])
def test_help_lists_every_flag_with_its_default(name):
    module = load_script(name)
    text = module.build_parser().format_help()
    for f in dataclasses.fields(module.Config):
        assert "--" + f.name.replace("_", "-") in text
    assert "(default: 32)" in text  # block_size
    assert "{auto,cuda,mps,cpu}" in text


def test_help_runs_as_a_command():
    result = run(SCRIPTS[-1], "--help")
    assert result.returncode == 0 and "--n-head" in result.stdout


def test_importing_a_script_has_no_side_effects(tmp_path):
    code = "import babygpt_v4_multihead_attention as m; print(m.VERSION)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout == "v4\n" and result.stderr == ""


def test_script_runs_when_copied_alone_next_to_a_corpus(tmp_path):
    name = SCRIPTS[-1]
    (tmp_path / f"{name}.py").write_bytes((ROOT / f"{name}.py").read_bytes())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "songci.txt").write_bytes(SMALL_CORPUS.read_bytes())
    args = [a for a in TINY if a != str(SMALL_CORPUS) and a != "--data"]
    result = subprocess.run(
        [sys.executable, f"{name}.py", *args], capture_output=True, text=True, encoding="utf-8",
        cwd=tmp_path, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "runs" / name / "ckpt.pt").is_file()  # default out-dir: runs/<script name>


@pytest.mark.parametrize("flags", [["--dtype", "bfloat16"], ["--compile", "--n-layer", "1"]], ids=["bfloat16", "compile"])
def test_dtype_and_compile_train_and_the_checkpoint_loads_plain(flags, tmp_path):
    """The GPU options also run on a CPU. A compiled run's ckpt.pt loads into the plain model (one
    Block: compiling takes longer for every Block more)."""
    name = SCRIPTS[-1]
    trained = run(name, *TINY, *flags, "--out-dir", str(tmp_path))
    assert trained.returncode == 0, trained.stderr[-2000:]
    config = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))["config"]
    assert config["dtype"] == "bfloat16" or config["compile"]
    resampled = run(name, "--sample-only", "--data", str(SMALL_CORPUS), "--out-dir", str(tmp_path), "--device", "cpu")
    assert resampled.returncode == 0, resampled.stderr[-2000:]
