"""Nothing a learner made is lost, and what ends a run ends it in one line (issue 19).

Each case is reproduced for real where a test can: a second run in the same folder, two processes at
once, a file-size limit (RLIMIT_FSIZE: writes fail as on a full disk), a memory limit (RLIMIT_AS),
a FIFO, real signals. The plumbing is one module (plumbing.py), so the scripts' cases run through v4.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import plumbing
from conftest import ROOT, SMALL_CORPUS, load_script
from test_bad_input import BASE, ENV, HARNESS, assert_one_line, run_script, write_checkpoint

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX signals, resource limits and FIFOs")
LONG_RUN = ["--max-iters", "1000000", "--eval-interval", "1000000"]  # trains until it is stopped
STOPPED_RUN = ["--max-iters", "1000", "--eval-interval", "500"]  # stopped after a few steps, then resumed


@contextlib.contextmanager
def start_script(*args, **env):
    """The v4 script as a learner starts it, its output unbuffered so that a test can follow it. On
    leaving the block its pipes are closed, and a run that a failed test left going is killed."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / f"{HARNESS}.py"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", cwd=ROOT, env={**ENV, "PYTHONUNBUFFERED": "1", **env},
    )
    with proc:
        try:
            yield proc
        finally:
            proc.kill()  # harmless once it has ended


def read_until(proc, start):
    """stdout's lines up to the first that starts with `start`."""
    lines = []
    while not lines or not lines[-1].startswith(start):
        line = proc.stdout.readline()
        assert line, f"the run ended before {start!r}: {''.join(lines)}{proc.stderr.read()[-2000:]}"
        lines.append(line)
    return "".join(lines)


def limited(resource_name, limit):
    """For subprocess's preexec_fn: a resource limit in the child only. Past RLIMIT_FSIZE a write fails
    with EFBIG, as one fails with ENOSPC on a full disk, once the signal that would kill it is ignored."""
    def apply():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource_name, (limit, limit))
    return apply


def test_a_second_run_moves_the_trained_model_aside_instead_of_overwriting_it(tmp_path, capsys):
    module, out_dir = load_script(HARNESS), tmp_path / "run"
    assert plumbing.main(module, [*BASE, "--out-dir", str(out_dir)]) == 0
    run_files = ["ckpt.pt", "metrics.json", "loss.png", "samples.txt"]
    first = {name: (out_dir / name).read_bytes() for name in run_files}

    assert plumbing.main(module, [*BASE, "--out-dir", str(out_dir), "--learning-rate", "1e20"]) == 1  # diverges
    output = capsys.readouterr()
    [aside] = (out_dir / "earlier").iterdir()
    assert f"an earlier run's ckpt.pt, metrics.json, loss.png, samples.txt moved to {aside}" in output.out
    assert {name: (aside / name).read_bytes() for name in run_files} == first
    # The message names the checkpoint that really is good: the second run's own, from before it diverged.
    saved = torch.load(out_dir / "ckpt.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in saved["model"].values())
    assert f"the last good checkpoint is {out_dir / 'ckpt.pt'} (step {saved['step']})" in output.err


def test_a_run_that_diverges_before_saving_names_no_checkpoint(tmp_path, capsys, monkeypatch):
    module = load_script(HARNESS)
    monkeypatch.setattr(module, "estimate_loss", lambda *args: {"train": float("nan"), "val": float("nan")})
    assert plumbing.main(module, [*BASE, "--out-dir", str(tmp_path / "run")]) == 1
    assert_one_line(capsys.readouterr().err, "the loss became nan by step 0", "no checkpoint was saved")


@posix_only
def test_a_second_run_in_a_folder_in_use_is_refused_and_the_first_is_untouched(tmp_path):
    out_dir = tmp_path / "run"
    with start_script(*BASE, *LONG_RUN, "--out-dir", str(out_dir)) as first:
        read_until(first, "step      0 |")  # it holds the folder and has saved
        second = run_script(HARNESS, *BASE, "--out-dir", str(out_dir))
        assert second.returncode == 2
        assert_one_line(second.stderr, f"another run is writing to {out_dir}", "--out-dir")
        assert not (out_dir / "earlier").exists()  # the first run's files were not moved
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    assert torch.load(out_dir / "ckpt.pt", weights_only=True)["step"] > 0  # whole, and the first run's


@posix_only
def test_a_full_disk_is_one_line_and_keeps_what_was_there(tmp_path):
    """In-process, the write itself: the file as it was, and no temporary file left behind."""
    import resource
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"the trained model")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:
        with pytest.raises(plumbing.BabyGPTError, match="cannot write .*ckpt.pt: File too large; the previous ckpt.pt"):
            plumbing.write_file(path, bytes(5000))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert path.read_bytes() == b"the trained model"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


@posix_only
def test_a_full_disk_during_training_is_one_line_and_exit_1(tmp_path):
    """As a command: torch.save's checkpoint is larger than the limit (about 290 kB at these sizes)."""
    out_dir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, str(ROOT / f"{HARNESS}.py"), *BASE, "--out-dir", str(out_dir)], capture_output=True,
        text=True, encoding="utf-8", cwd=ROOT, env=ENV, timeout=120,
        preexec_fn=limited(__import__("resource").RLIMIT_FSIZE, 100_000),
    )
    assert result.returncode == 1
    assert_one_line(result.stderr, f"error: cannot write {out_dir / 'ckpt.pt'}: File too large")
    assert [p.name for p in out_dir.iterdir()] == [".lock"]  # nothing half-written


@posix_only
def test_a_corpus_larger_than_memory_is_one_line(tmp_path):
    corpus = tmp_path / "huge.txt"
    with open(corpus, "wb") as file:
        file.truncate(3 * 2**30)  # 3 GB of zeros, sparse: it takes no disk space
    result = subprocess.run(
        [sys.executable, str(ROOT / f"{HARNESS}.py"), *BASE, "--data", str(corpus),
         "--out-dir", str(tmp_path / "run")], capture_output=True, text=True, encoding="utf-8", env=ENV,
        timeout=120, preexec_fn=limited(__import__("resource").RLIMIT_AS, 2 * 2**30),  # torch takes about 0.7 GB
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert_one_line(result.stderr, "huge.txt (3,221,225,472 bytes) does not fit in memory")


@posix_only
def test_a_fifo_as_the_corpus_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    result = run_script(HARNESS, *BASE, "--data", str(tmp_path / "fifo"), "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 2
    assert_one_line(result.stderr, "fifo is not a file", "a pipe")


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_then_samples_and_exits_130_and_resume_finishes_the_run(signum, tmp_path, capsys):
    out_dir = tmp_path / "run"
    argv = [*BASE, *STOPPED_RUN, "--prompt", "明月", "--out-dir", str(out_dir)]
    with start_script(*argv) as proc:
        stdout = read_until(proc, "step      0 |")
        time.sleep(0.3)  # a few training steps
        proc.send_signal(signum)
        rest, stderr = proc.communicate(timeout=60)
    stdout += rest
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and f"{signal.Signals(signum).name}: finishing this step" in stdout
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["final"]["interrupted"] is True and metrics["final"]["step"] == metrics["history"][-1]["step"] > 0
    assert torch.load(out_dir / "ckpt.pt", weights_only=True)["step"] == metrics["final"]["step"]
    assert f"ckpt.pt, metrics.json, loss.png go to {out_dir}" in stdout
    assert "\n明月" in stdout  # a sample from what was learned, starting with the prompt
    assert (out_dir / "samples.txt").read_text(encoding="utf-8").startswith("明月")

    # --resume (in-process: the command line's own path is the run above) carries on from the saved step
    # to the end, keeping the evaluations made before the stop.
    stopped_at = metrics["final"]["step"]
    assert plumbing.main(load_script(HARNESS), [*argv, "--resume"]) == 0
    assert f"resuming from step {stopped_at} of 1000" in capsys.readouterr().out
    resumed = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert resumed["final"]["step"] == 1000 and resumed["final"]["interrupted"] is False
    kept = [(h["step"], h["train_loss"], h["val_loss"]) for h in metrics["history"]]
    assert [(h["step"], h["train_loss"], h["val_loss"]) for h in resumed["history"]][:len(kept)] == kept
    assert torch.load(out_dir / "ckpt.pt", weights_only=True)["step"] == 1000
    assert not (out_dir / "earlier").exists()  # carried on in place, not moved aside


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads /proc/<pid>/maps (Linux)")
def test_ctrl_c_while_torch_loads_ends_quietly(tmp_path):
    with start_script(*BASE, "--out-dir", str(tmp_path / "run")) as proc:
        maps = Path(f"/proc/{proc.pid}/maps")
        deadline = time.monotonic() + 60
        while "libtorch" not in maps.read_text():  # torch's library is mapped: `import torch` has begun
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGINT and stderr == ""  # a shell reports it as status 130


@posix_only
def test_the_first_ctrl_c_while_sampling_stops_it(tmp_path):
    out_dir = tmp_path / "run"
    write_checkpoint(load_script(HARNESS), out_dir, SMALL_CORPUS.read_text(encoding="utf-8"))
    with start_script("--sample-only", "--out-dir", str(out_dir), "--device", "cpu", "--prompt", "明月",
                      "--max-new-tokens", "10000000") as proc:
        read_until(proc, "BabyGPT v4: multi-head attention | loaded step")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert_one_line(stderr, "error: interrupted")
    assert not (out_dir / "samples.txt").exists()


@posix_only
def test_a_closed_output_stops_the_run_with_one_line(tmp_path):
    """`python babygpt_v4_multihead_attention.py | head -n 1`: the pipe closes after the first line."""
    with start_script(*BASE, "--max-iters", "2000", "--eval-interval", "20", "--out-dir", str(tmp_path / "run")) as proc:
        proc.stdout.readline()
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    assert proc.returncode == 1
    assert_one_line(stderr, "error: the output was closed")


@pytest.mark.slow
def test_compile_without_a_cpp_compiler_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / f"{HARNESS}.py"), *BASE, "--compile", "--out-dir", str(tmp_path / "run")],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env={**ENV, "CXX": "/nonexistent/g++"},
        timeout=300,
    )
    assert result.returncode == 1
    assert_one_line(result.stderr, "error: --compile failed", "C++ compiler", "without --compile")


@posix_only
def test_a_stop_in_a_long_evaluation_saves_the_steps_done_within_a_second(tmp_path, capsys, monkeypatch):
    """SIGTERM in the middle of an evaluation (issue 36): after plumbing.STOP_GRACE the evaluation
    is dropped, the model after the steps done is saved, samples are written, and the run exits 130.
    --resume then ends exactly where an uninterrupted run ends."""
    v4 = load_script(HARNESS)
    argv = [*BASE, "--max-iters", "40", "--eval-interval", "20", "--out-dir", str(tmp_path / "run")]
    real_estimate_loss, calls, evaluating, sent = v4.estimate_loss, [], threading.Event(), []

    def long_evaluation(model, splits, config):  # the second one, at step 20, runs on and on
        calls.append(1)
        if len(calls) == 2:
            evaluating.set()
            model.eval()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                model(torch.zeros(1, 1, dtype=torch.long))  # one more batch's forward pass
            raise AssertionError("the evaluation was not dropped")
        return real_estimate_loss(model, splits, config)

    def send_sigterm():
        evaluating.wait(60)
        time.sleep(0.2)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(v4, "estimate_loss", long_evaluation)
    threading.Thread(target=send_sigterm, daemon=True).start()
    assert plumbing.main(v4, argv) == 130
    assert time.monotonic() - sent[0] < 10  # STOP_GRACE, then one forward pass; not 30 s
    out = capsys.readouterr().out
    assert "step     20 | not evaluated: stopped" in out and "samples.txt saved in" in out
    assert torch.load(tmp_path / "run" / "ckpt.pt", weights_only=True)["step"] == 20
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["final"]["steps_trained"] == 20 and metrics["history"][-1]["step"] == 0

    monkeypatch.setattr(v4, "estimate_loss", real_estimate_loss)
    assert plumbing.main(v4, [*argv, "--resume"]) == 0
    assert plumbing.main(v4, [*BASE, "--max-iters", "40", "--eval-interval", "20",
                              "--out-dir", str(tmp_path / "whole")]) == 0
    resumed, whole = (json.loads((tmp_path / name / "metrics.json").read_text(encoding="utf-8"))["final"]
                      for name in ("run", "whole"))
    assert (resumed["step"], resumed["val_loss"]) == (whole["step"], whole["val_loss"]) == (40, whole["val_loss"])
