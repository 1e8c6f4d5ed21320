"""Data parallelism (v9, issue 34): torchrun with N processes on the CPU (gloo) is one model with the
whole batch, and the plumbing keeps its promises under it: one save, one set of samples, one line for a
bad setting, Ctrl-C and SIGTERM stop every rank.

Each case starts torchrun for real, with 2 processes of a tiny model on data/songci300.txt.
"""

import importlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

import plumbing
from conftest import ROOT, SMALL_CORPUS
from tools import checkpoints

SCRIPT = str(ROOT / "babygpt_v9_ddp.py")
TINY = [
    "--data", str(SMALL_CORPUS), "--batch-size", "8", "--block-size", "16", "--n-embd", "32",
    "--n-layer", "2", "--max-iters", "6", "--eval-interval", "3", "--eval-iters", "4", "--device", "cpu",
    "--max-new-tokens", "8", "--dropout", "0",
]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
STOPPED = [*TINY, "--max-iters", "600", "--eval-interval", "200"]  # stopped after a second or so
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


def run(*args, timeout=120):
    return subprocess.run([*args], capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=ENV,
                          timeout=timeout)


def torchrun(nproc, *flags, timeout=120):
    return run(*TORCHRUN, "--nproc_per_node", str(nproc), SCRIPT, *flags, timeout=timeout)


def test_two_processes_end_with_the_weights_of_one_process_with_the_whole_batch(tmp_path):
    """The lesson's claim: DDP is one model with a bigger batch. 2 processes of 4 windows each end where
    one process with the same 8 windows ends, and evaluate the same held-out windows to the same loss."""
    two, one = tmp_path / "two", tmp_path / "one"
    result = torchrun(2, *TINY, "--out-dir", str(two))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("samples.txt saved in") == 1 and result.stdout.count("step      6 |") == 1
    result = run(sys.executable, SCRIPT, *TINY, "--out-dir", str(one))
    assert result.returncode == 0, result.stderr[-3000:]
    ddp, alone = (torch.load(path / "ckpt.pt", weights_only=True) for path in (two, one))
    assert ddp["model"].keys() == alone["model"].keys()  # saved without DDP's "module." prefix
    for name, weight in alone["model"].items():
        torch.testing.assert_close(ddp["model"][name], weight, rtol=0, atol=1e-5, msg=lambda m: f"{name}: {m}")
    for ddp_eval, alone_eval in zip(ddp["history"], alone["history"], strict=True):
        assert ddp_eval["val_loss"] == pytest.approx(alone_eval["val_loss"], abs=1e-5)
    assert sorted(p.name for p in two.iterdir()) == [".lock", "ckpt.pt", "loss.png", "metrics.json",
                                                      "samples.txt"]  # saved once, nothing moved aside

    # A checkpoint saved under torchrun is a plain one: one process samples from it, and the tools
    # (the explorer, write_poem) load it.
    result = run(sys.executable, SCRIPT, *TINY, "--out-dir", str(two), "--sample-only")
    assert result.returncode == 0 and "loaded step 6" in result.stdout, result.stderr[-3000:]
    model, _ = checkpoints.load("v9", two)
    torch.testing.assert_close(model.state_dict(), ddp["model"])


def test_a_bad_setting_under_torchrun_is_one_line_from_rank_0_and_exit_2_for_all(tmp_path):
    result = torchrun(3, *TINY, "--out-dir", str(tmp_path / "run"))  # 8 windows, 3 processes
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "--batch-size 8 cannot be split over 3 processes" in errors[0], result.stderr
    assert re.search(r"exitcode\s*:\s*2\b", result.stderr), result.stderr[-3000:]  # torchrun's report
    assert not (tmp_path / "run" / "ckpt.pt").exists()


@pytest.mark.parametrize("script, flags, cuda_gpus, phrase", [
    ("babygpt_v9_ddp", ["--batch-size", "6"], 0, "--batch-size 6 cannot be split over 4 processes"),
    ("babygpt_v9_ddp", ["--backend", "nccl"], 0, "--backend nccl needs CUDA GPUs"),
    ("babygpt_v9_ddp", ["--device", "cuda"], 2, "torchrun starts 4 processes on this machine, but it has 2"),
    ("babygpt_v8_dropout", [], 0, "v8 trains in one process"),
], ids=["batch", "nccl-on-cpu", "too-few-gpus", "v8"])
def test_what_torchrun_refuses(script, flags, cuda_gpus, phrase, monkeypatch):
    """The checks every rank makes before it trains (plumbing.check_torchrun), with torchrun's
    environment for 4 processes on one machine, and as many CUDA GPUs as the case says."""
    module = importlib.import_module(script)
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_gpus)
    config = plumbing.parse_config(module, [*TINY, "--batch-size", "8", *flags])
    with pytest.raises(plumbing.BabyGPTError, match=re.escape(phrase)):
        plumbing.check_torchrun(module, config)


@posix_only
@pytest.mark.parametrize("signum, to_group", [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["ctrl-c-in-a-terminal", "sigterm-to-torchrun"])
def test_a_stop_under_torchrun_stops_every_rank_after_the_same_step_and_saves_once(signum, to_group, tmp_path):
    """Ctrl-C in a terminal reaches torchrun and every rank (then torchrun sends it on to each rank);
    a cluster's SIGTERM reaches torchrun, which sends it on. Either way: every process ends, in seconds,
    and rank 0 saves the step they all stopped after."""
    out_dir = tmp_path / "run"
    proc = subprocess.Popen([*TORCHRUN, "--nproc_per_node", "2", SCRIPT, *STOPPED, "--out-dir", str(out_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            cwd=ROOT, env=ENV, start_new_session=True)  # its own group, as in a terminal
    try:
        lines = []
        while not any(line.startswith("step      0 |") for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines) + proc.stderr.read()[-3000:]
            lines.append(line)
        time.sleep(1)  # some training steps
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
    stdout = "".join(lines) + stdout
    assert stdout.count(f"{signal.Signals(signum).name}: every process finishes this step") == 1, stdout + stderr
    saved = torch.load(out_dir / "ckpt.pt", weights_only=True)
    assert 0 < saved["step"] < 600 and saved["history"][-1]["step"] == saved["step"]
    assert stdout.count("samples.txt saved in") == 1
    assert subprocess.run(["pgrep", "-f", str(out_dir)], capture_output=True).stdout == b""  # no rank left
    if not to_group:  # and torchrun with --resume carries the run on, every rank from the saved step
        result = torchrun(2, *STOPPED, "--out-dir", str(out_dir), "--resume")
        assert result.returncode == 0 and f"resuming from step {saved['step']} of 600" in result.stdout, result.stderr
        resumed = torch.load(out_dir / "ckpt.pt", weights_only=True)
        evaluations = [(h["step"], h["val_loss"]) for h in saved["history"]]
        assert resumed["step"] == 600
        assert [(h["step"], h["val_loss"]) for h in resumed["history"]][:len(evaluations)] == evaluations
