"""benchmarks.curves: agreement of two loss curves, and time to a target loss."""

import json
import os
import subprocess

import pytest

from benchmarks import curves
from conftest import ROOT


def write_run(path, vals, elapsed, device="cpu", dtype="float32"):
    """A metrics.json as the scripts write it, with evaluations every 100 steps."""
    history = [{"step": 100 * i, "train_loss": v - 0.1, "val_loss": v, "elapsed": e}
               for i, (v, e) in enumerate(zip(vals, elapsed))]
    config = {"batch_size": 16, "block_size": 32, "n_embd": 64, "n_head": 4, "learning_rate": 0.01,
              "dtype": dtype, "compile": False}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "v4", "device": device, "config": config, "history": history}), encoding="utf-8")
    return str(path)


def test_curves_within_tolerance_agree(tmp_path, capsys):
    a = write_run(tmp_path / "cpu" / "metrics.json", [8.7, 6.0, 5.5], [0, 10, 20])
    b = write_run(tmp_path / "gpu" / "metrics.json", [8.7, 6.03, 5.49], [0, 1, 2], device="cuda")
    assert curves.main(["agree", a, b, "--tolerance", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "| 100 | 5.9000 | 5.9300 | 6.0000 | 6.0300 | 0.0300 |" in out
    assert out.strip().endswith("largest gap 0.0300 nats (step 100), tolerance 0.05: agree")


def test_curves_beyond_tolerance_fail_and_final_only_looks_at_the_end(tmp_path, capsys):
    a = write_run(tmp_path / "a.json", [8.7, 6.0, 5.50], [0, 10, 20])
    b = write_run(tmp_path / "b.json", [8.7, 6.5, 5.51], [0, 10, 20], dtype="bfloat16")
    assert curves.main(["agree", a, b, "--tolerance", "0.02"]) == 1
    assert "DO NOT agree" in capsys.readouterr().out
    assert curves.main(["agree", a, b, "--tolerance", "0.02", "--final-only"]) == 0
    assert "final val loss gap 0.0100 nats, tolerance 0.02: agree" in capsys.readouterr().out


def test_time_to_loss_reads_the_last_finished_evaluation(tmp_path, capsys):
    fast = write_run(tmp_path / "fast" / "metrics.json", [8.7, 5.0, 4.7], [0.5, 15, 35])
    slow = write_run(tmp_path / "slow" / "metrics.json", [8.7, 5.5, 4.9], [0.5, 30, 61])
    assert curves.main(["time-to-loss", fast, slow, "--target", "4.8", "--seconds", "10,40,60"]) == 1
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| v4")]
    assert rows[0].endswith("| 8.700 | 4.700 | 4.700 | 35.0 s (step 200) |")
    assert rows[1].endswith("| 8.700 | 5.500 | 5.500 | not reached |")
    assert curves.main(["time-to-loss", fast, "--target", "4.8"]) == 0


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"history": []}', '{"history": [{"step": 0}]}'])
def test_bad_metrics_file_is_one_line_error(tmp_path, capsys, content):
    bad = tmp_path / "metrics.json"
    bad.write_text(content, encoding="utf-8")
    good = write_run(tmp_path / "good.json", [8.7], [0])
    assert curves.main(["agree", str(bad), good, "--tolerance", "0.05"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "not a metrics.json" in err


def test_missing_file_and_different_steps_are_one_line_errors(tmp_path, capsys):
    a = write_run(tmp_path / "a.json", [8.7, 6.0], [0, 10])
    b = write_run(tmp_path / "b.json", [8.7, 6.0, 5.5], [0, 10, 20])
    assert curves.main(["agree", a, str(tmp_path / "nope.json"), "--tolerance", "0.05"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert curves.main(["agree", a, b, "--tolerance", "0.05"]) == 2
    assert "different steps" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        curves.main(["time-to-loss", a, "--target", "4.8", "--seconds", "ten"])
    assert exit_info.value.code == 2


def test_gpu_checks_script_runs_its_accuracy_stage_on_a_cpu(tmp_path):
    """benchmarks/gpu_checks.sh has never met a GPU here; its plumbing is checked with tiny CPU runs."""
    env = {**os.environ, "DEVICE": "cpu", "RUNS": str(tmp_path / "runs"), "OUT": str(tmp_path / "out"),
           "EXTRA": "--max-iters 4 --eval-interval 2 --eval-iters 2 --data data/songci300.txt --max-new-tokens 5"}
    script = str(ROOT / "benchmarks" / "gpu_checks.sh")
    done = subprocess.run(["bash", script, "accuracy"], capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.count(": agree") == 2
    assert (tmp_path / "out" / "gpu_checks.log").read_text(encoding="utf-8").count(": agree") == 2
    bad = subprocess.run(["bash", script, "nope"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "error: unknown stage nope" in bad.stdout + bad.stderr


def test_gpu_checks_kills_a_hung_command_and_exits_1_naming_its_stage(tmp_path):
    """A command that hangs (here a fake python that sleeps) is killed after COMMAND_SECONDS, and its
    stage counts as failed: the script exits 1 instead of holding the GPU machine."""
    hang = tmp_path / "python"
    hang.write_text("#!/bin/sh\nsleep 60\n")
    hang.chmod(0o755)
    env = {**os.environ, "PYTHON": str(hang), "COMMAND_SECONDS": "1", "RUNS": str(tmp_path / "runs"),
           "OUT": str(tmp_path / "out")}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_checks.sh"), "headline"], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=60)
    assert done.returncode == 1
    last = done.stdout.strip().splitlines()[-1]  # the script sends stderr through tee to stdout and its log
    assert last == "error: these stages failed or were killed: headline (their output is above)"
