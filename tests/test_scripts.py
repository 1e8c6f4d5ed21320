"""Every script end to end, as a learner runs it: in a subprocess, with a tiny budget."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

import plumbing
from conftest import ROOT, SCRIPTS, SMALL_CORPUS, load_script, tiny_config

SEPARATOR = plumbing.SAMPLE_SEPARATOR
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
def test_train_then_sample_only(name, tmp_path, capsys):
    out_dir = tmp_path / "run"
    trained = run(name, *TINY, "--out-dir", str(out_dir), cwd=tmp_path)  # cwd elsewhere: paths still resolve
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert sorted(p.name for p in out_dir.iterdir()) == [".lock", "ckpt.pt", "loss.png", "metrics.json", "samples.txt"]
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

    # --sample-only rebuilds the model from ckpt.pt (its sizes, not the flags') and writes the same text
    # (in process: the command line's own path is the training run above).
    assert plumbing.main(load_script(name), ["--sample-only", "--data", str(SMALL_CORPUS), "--out-dir", str(out_dir),
                                             "--prompt", "明月", "--prompt", "春风", "--max-new-tokens", "12",
                                             "--device", "cpu"]) == 0
    assert (out_dir / "samples.txt").read_text(encoding="utf-8")[:-1].split(SEPARATOR) == samples


def test_help_lists_every_flag_with_its_help_and_default():
    module = load_script(SCRIPTS[-1])  # the last version: its Config has every field
    text = " ".join(plumbing.build_parser(module).format_help().split())  # argparse wraps lines
    for field in dataclasses.fields(module.Config):
        assert "--" + field.name.replace("_", "-") in text
        assert " ".join(field.metadata["help"].split()) in text
    assert "(default: 32)" in text  # block_size
    assert "{auto,cuda,mps,cpu}" in text and "{float32,tf32,bfloat16}" in text


def test_help_runs_as_a_command():
    result = run(SCRIPTS[-1], "--help")
    assert result.returncode == 0 and "--n-head" in result.stdout


def test_importing_a_script_has_no_side_effects(tmp_path):
    """No output, and no file written: not in the working directory, not beside the scripts."""
    def files():
        return {p for p in ROOT.rglob("*") if "__pycache__" not in p.parts and ".git" not in p.parts}

    before = files()
    code = "import babygpt_v4_multihead_attention as m; print(m.VERSION)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.stdout == "v4\n" and result.stderr == ""
    assert list(tmp_path.iterdir()) == [] and files() == before


def test_script_runs_when_copied_with_the_plumbing_next_to_a_corpus(tmp_path):
    name = SCRIPTS[-1]
    for file_name in (f"{name}.py", "plumbing.py"):
        (tmp_path / file_name).write_bytes((ROOT / file_name).read_bytes())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "songci.txt").write_bytes(SMALL_CORPUS.read_bytes())
    args = [a for a in TINY if a != str(SMALL_CORPUS) and a != "--data"]
    result = subprocess.run(
        [sys.executable, f"{name}.py", *args], capture_output=True, text=True, encoding="utf-8",
        cwd=tmp_path, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "runs" / name / "ckpt.pt").is_file()  # default out-dir: runs/<script name>


def linear_output_dtypes(module, config):
    """train(config), recording the dtype of every nn.Linear output, and whether torch.compile was
    tracing when it was made. Returns (the model, the set of (dtype, compiling) seen)."""
    seen = set()

    def record(layer, inputs, output):
        if isinstance(layer, torch.nn.Linear):
            seen.add((output.dtype, torch.compiler.is_compiling()))

    handle = torch.nn.modules.module.register_module_forward_hook(record)  # every module's forward
    try:
        model, _, _ = module.train(config)
    finally:
        handle.remove()
    return model, seen


def test_bfloat16_runs_the_forward_pass_in_bfloat16(tmp_path, capsys):
    module = load_script(SCRIPTS[-1])
    _, seen = linear_output_dtypes(module, tiny_config(module, tmp_path, dtype="bfloat16", n_layer=1))
    assert (torch.bfloat16, False) in seen  # the training steps, under autocast
    assert (torch.float32, False) in seen  # the evaluations: float32, comparable across --dtype
    _, seen = linear_output_dtypes(module, tiny_config(module, tmp_path, n_layer=1))
    assert seen == {(torch.float32, False)}  # the default changes nothing


@pytest.mark.slow
def test_compile_compiles_twice_and_its_checkpoint_loads_into_the_plain_model(tmp_path, capsys):
    """--compile runs the model through torch.compile (one Block: compiling takes longer for each)
    twice: for training and for evaluation (the train and eval modes); sampling runs eagerly. ckpt.pt
    keeps the plain parameter names, so --sample-only loads it without compiling."""
    from torch._dynamo.utils import counters  # what torch.compile counts: its graphs, among others

    module = load_script(SCRIPTS[-1])
    config = tiny_config(module, tmp_path, compile=True, n_layer=1, max_iters=4, eval_interval=4)
    torch._dynamo.reset()
    counters.clear()
    model, tokenizer, _ = module.train(config)
    assert counters["stats"]["unique_graphs"] == 2  # compiled: once for each mode
    module.write_samples(model, tokenizer, config)
    assert counters["stats"]["unique_graphs"] == 2  # sampling's growing lengths added none
    state = torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)
    assert not any("_orig_mod" in key for key in state["model"])
    model, _ = plumbing.load_checkpoint(module, dataclasses.replace(config, compile=False, sample_only=True))
    assert all(torch.equal(model.state_dict()[key], value) for key, value in state["model"].items())


def test_keeping_freed_memory_sets_glibc_and_leaves_others_alone(monkeypatch):
    """On Linux, mallopt's three settings; macOS, Windows and a Linux without glibc (musl) untouched."""
    calls = []

    class FakeGlibc:
        def mallopt(self, setting, value):
            calls.append((setting, value))

    def no_glibc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(plumbing.sys, "platform", "linux")
    monkeypatch.setattr(plumbing.ctypes, "CDLL", lambda name: FakeGlibc())
    plumbing.keep_freed_memory()
    assert calls == [(-3, 32 * 2**20), (-1, 2**30), (-2, 64 * 2**20)]  # mmap, trim, top pad
    monkeypatch.setattr(plumbing.ctypes, "CDLL", no_glibc)
    plumbing.keep_freed_memory()  # musl: nothing to call, no error
    monkeypatch.setattr(plumbing.ctypes, "CDLL", lambda name: FakeGlibc())
    monkeypatch.setattr(plumbing.sys, "platform", "darwin")
    plumbing.keep_freed_memory()
    assert len(calls) == 3  # nothing more
