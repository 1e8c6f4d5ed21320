"""Bad input, Ctrl-C and checkpoints: one clear line on stderr, never a traceback, never lost training.

The plumbing is one module (plumbing.py) that every script hands itself to, so each behaviour is
tested once, through v4 (the first with --n-head). Every case runs in-process (fast); a few also run as a
learner runs them, in a subprocess (about 2 s each, mostly importing torch), to cover the command
line's own path: exit status, stderr, no traceback.
"""

import contextlib
import io
import os
import re
import subprocess
import sys

import pytest
import torch

import plumbing
from conftest import ROOT, SCRIPTS, SMALL_CORPUS, load_script

V1, V3, V4 = SCRIPTS[0], SCRIPTS[2], SCRIPTS[3]
HARNESS = V4  # the script every plumbing behaviour is tested through
BASE = [  # tiny settings; each case appends the flags it is about (the last value of a flag wins)
    "--data", str(SMALL_CORPUS), "--batch-size", "4", "--block-size", "8", "--n-embd", "16",
    "--max-iters", "20", "--eval-interval", "10", "--eval-iters", "2", "--device", "cpu", "--max-new-tokens", "8",
]
# One torch thread: for tensors this small it is the fastest, and it does not stall when the machine is busy.
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def write_checkpoint(module, out_dir, text):
    """A real checkpoint, written by module.train on text (a one-step run)."""
    data = write(out_dir.parent / f"{out_dir.name}-corpus.txt", text)
    config = module.Config(data=data, block_size=8, n_embd=16, batch_size=2, max_iters=1,
                           eval_iters=1, device="cpu", out_dir=str(out_dir), prompt=(text[:1],))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        module.train(config)
    return out_dir / "ckpt.pt"


def truncated_checkpoint(module, tmp):
    path = write_checkpoint(module, tmp / "ckpt", SMALL_CORPUS.read_text(encoding="utf-8"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return ["--sample-only", "--out-dir", str(path.parent)]


def not_a_checkpoint(module, tmp):
    write(tmp / "ckpt" / "ckpt.pt", "hello " * 100)
    return ["--sample-only", "--out-dir", str(tmp / "ckpt")]


def other_versions_checkpoint(module, tmp):
    other = load_script(SCRIPTS[(SCRIPTS.index(module.__name__) + 1) % len(SCRIPTS)])
    write_checkpoint(other, tmp / "ckpt", SMALL_CORPUS.read_text(encoding="utf-8"))
    return ["--sample-only", "--out-dir", str(tmp / "ckpt")]


def other_vocabularys_checkpoint(module, tmp):
    write_checkpoint(module, tmp / "ckpt", "春江花月夜" * 20)
    return ["--sample-only", "--out-dir", str(tmp / "ckpt")]


def out_dir_inside_a_file(module, tmp):
    write(tmp / "a_file", "not a folder")
    return ["--out-dir", str(tmp / "a_file" / "run")]


def data_named_in_gbk(module, tmp):
    """春.txt as a zip made on a Chinese Windows names it: GBK bytes, which Linux hands over as they are."""
    path = os.fsencode(tmp) + b"/" + "春".encode("gbk") + b".txt"
    with open(path, "wb") as file:
        file.write(SMALL_CORPUS.read_bytes())
    return ["--data", os.fsdecode(path)]  # what sys.argv holds: the bytes as lone surrogates


def edited_checkpoint(edit):
    """A real checkpoint, then changed by edit(state) as a hand edit or a damaged copy would."""
    def make(module, tmp):
        path = write_checkpoint(module, tmp / "ckpt", SMALL_CORPUS.read_text(encoding="utf-8"))
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)
        return ["--sample-only", "--out-dir", str(path.parent)]
    return make


def nan_weight(state):
    next(iter(state["model"].values())).view(-1)[0] = float("nan")


def sizes_that_cannot_build(state):
    state["config"]["n_embd"] = 15  # not divisible by n_head 4


def no_step(state):
    del state["step"]


def infinite_step(state):
    state["step"] = float("inf")


# case -> (extra flags, built in a tmp folder; phrases the one line on stderr must hold). Numbers follow issue 5.
CASES = {
    "1-data-missing": (lambda m, tmp: ["--data", str(tmp / "missing.txt")], ["cannot read the corpus", "missing.txt"]),
    "1-data-directory": (lambda m, tmp: ["--data", str(tmp)], ["is not a file"]),
    "1-data-empty": (lambda m, tmp: ["--data", write(tmp / "c.txt", b"")], ["is empty"]),
    "1-data-not-utf8": (  # 明月 is 6 bytes of UTF-8, "caf" 3 more: the Latin-1 é (0xe9) sits at offset 9
        lambda m, tmp: ["--data", write(tmp / "c.txt", "明月".encode() + "café".encode("latin-1"))],
        ["not UTF-8", "0xe9", "offset 9"],
    ),
    "2-corpus-too-short": (
        lambda m, tmp: ["--data", write(tmp / "c.txt", "春江花月夜"), "--prompt", "春江"], ["too few", "--block-size 8"],
    ),
    "2-split-too-small": (  # 60 characters: 54 to train on, but the val split (6) is shorter than a block
        lambda m, tmp: ["--data", write(tmp / "c.txt", "春江花月夜" * 12), "--prompt", "春江"], ["val split has 6 characters"],
    ),
    "3-prompt-not-in-vocabulary": (
        lambda m, tmp: ["--prompt", "明月", "--prompt", "明月AB"], ["--prompt '明月AB'", "'A' (U+0041), 'B' (U+0042)", "corpus never uses"],
    ),
    "4-n-embd-not-divisible-by-n-head": (lambda m, tmp: ["--n-embd", "16", "--n-head", "3"], ["must be divisible by n_head (3)"]),
    "5-batch-size-zero": (lambda m, tmp: ["--batch-size", "0"], ["--batch-size must be", "not 0"]),
    "5-max-iters-negative": (lambda m, tmp: ["--max-iters", "-5"], ["--max-iters must be", "not -5"]),
    "5-learning-rate-zero": (lambda m, tmp: ["--learning-rate", "0"], ["--learning-rate must be", "not 0.0"]),
    "5-learning-rate-infinite": (lambda m, tmp: ["--learning-rate", "inf"], ["--learning-rate must be finite"]),
    "5-learning-rate-overflows": (lambda m, tmp: ["--learning-rate", "1e35"], ["--learning-rate 1e+35 is too large: at most 1e+30"]),
    "5-temperature-negative": (lambda m, tmp: ["--temperature", "-1"], ["--temperature must be", "not -1.0"]),
    "5-top-k-zero": (lambda m, tmp: ["--top-k", "0"], ["--top-k must be", "greater than 0, not 0"]),
    "5-threads-negative": (lambda m, tmp: ["--threads", "-1"], ["--threads must be between 0 (timed) and 1024, not -1"]),
    "6-no-cuda": (lambda m, tmp: ["--device", "cuda"], ["--device cuda", "no CUDA GPU"]),
    "6-no-mps": (lambda m, tmp: ["--device", "mps"], ["--device mps", "not available"]),
    "7-sample-only-without-checkpoint": (lambda m, tmp: ["--sample-only", "--out-dir", str(tmp / "empty")], ["no checkpoint at"]),
    "8-truncated-checkpoint": (truncated_checkpoint, ["corrupt or truncated"]),
    "8-not-a-checkpoint": (not_a_checkpoint, ["corrupt or truncated"]),
    "9-checkpoint-of-another-version": (other_versions_checkpoint, ["is not a BabyGPT v", "written by v"]),
    "9-checkpoint-of-another-vocabulary": (other_vocabularys_checkpoint, ["another vocabulary", "--data"]),
    "10-out-dir-not-writable": (out_dir_inside_a_file, ["cannot write to --out-dir", "a_file"]),
    # Issue 19: names, extreme numbers and damaged checkpoints.
    "11-data-name-not-utf8": (data_named_in_gbk, ["--data", "\\xb4\\xba.txt", "not UTF-8", "rename it"]),
    "11-out-dir-of-an-unknown-user": (lambda m, tmp: ["--out-dir", "~no_such_user_babygpt/run"], ["cannot expand ~"]),
    "12-seed-beyond-64-bits": (lambda m, tmp: ["--seed", str(2**70)], ["--seed must be between 0 and 2**64 - 1"]),
    "12-size-near-2**63": (lambda m, tmp: ["--batch-size", str(2**63 - 1)], ["--batch-size 9223372036854775807 is too large: at most 2147483647"]),
    "12-more-heads-than-can-be-built-soon": (lambda m, tmp: ["--n-head", "1000", "--n-embd", "1000"], ["--n-head 1000 is too large: at most 100"]),
    "12-sizes-whose-product-overflows": (lambda m, tmp: ["--block-size", str(2**31 - 1)], ["overflowed", "choose other sizes"]),
    "13-checkpoint-with-a-nan-weight": (edited_checkpoint(nan_weight), ["NaN or infinite", "train again"]),
    "13-checkpoint-whose-sizes-cannot-build": (edited_checkpoint(sizes_that_cannot_build), ["settings this script refuses", "divisible"]),
    "13-checkpoint-without-its-step": (edited_checkpoint(no_step), ["does not fit", "KeyError('step')"]),
    "13-checkpoint-whose-step-is-infinite": (edited_checkpoint(infinite_step), ["holds step inf, which is no count of steps"]),
}
# As a command too: a bad corpus, a bad size, a bad checkpoint.
SUBPROCESS_CASES = ["1-data-not-utf8", "4-n-embd-not-divisible-by-n-head", "8-truncated-checkpoint"]


def skip_if_the_device_exists(case):
    if case == "6-no-cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is not an error here")
    if case == "6-no-mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS: --device mps is not an error here")


def assert_one_line(stderr, *phrases):
    assert "Traceback" not in stderr, stderr
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), f"expected one line on stderr, got {stderr!r}"
    for phrase in phrases:
        assert phrase in lines[0], f"{phrase!r} not in {lines[0]!r}"


def run_script(name, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / f"{name}.py"), *args],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=ENV, timeout=120,
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_input_in_process(case, tmp_path, capsys):
    skip_if_the_device_exists(case)
    module = load_script(HARNESS)
    make_args, phrases = CASES[case]
    assert plumbing.main(module, [*BASE, "--out-dir", str(tmp_path / "run"), *make_args(module, tmp_path)]) == 2
    captured = capsys.readouterr()
    assert_one_line(captured.err, "error: ", *phrases)
    assert not (tmp_path / "run" / "ckpt.pt").exists()  # refused before any training


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_bad_input_as_a_command(case, tmp_path):
    make_args, phrases = CASES[case]
    result = run_script(HARNESS, *BASE, "--out-dir", str(tmp_path / "run"), *make_args(load_script(HARNESS), tmp_path))
    assert result.returncode == 2, result.stderr[-2000:]
    assert_one_line(result.stderr, "error: ", *phrases)


def test_unknown_flag_is_one_line():
    result = run_script(V1, "--n-head", "4")  # the bigram model has no heads
    assert result.returncode == 2
    assert_one_line(result.stderr, "unrecognized arguments: --n-head 4", "--help")


def test_bad_flag_value_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        plumbing.main(load_script(HARNESS), ["--max-iters", "ten"])
    assert exit_info.value.code == 2
    assert_one_line(capsys.readouterr().err, "--max-iters", "invalid int value: 'ten'")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    # AdamW moves every weight by about lr per step: at 1e20 the logits overflow float32 within two steps.
    out_dir = tmp_path / "run"
    args = [*BASE, "--learning-rate", "1e20", "--max-iters", "1000", "--eval-interval", "1", "--out-dir", str(out_dir)]
    assert plumbing.main(load_script(HARNESS), args) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    last = stderr.rstrip("\n").split("\n")[-1]  # above it: the progress bar, closed
    assert re.search(r"^error: the loss became \S+ (at|by) step [12]: the learning rate \(1e\+20\) is probably too high", last), last
    assert "--learning-rate 1e+19" in last and str(out_dir / "ckpt.pt") in last
    state = torch.load(out_dir / "ckpt.pt", weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["model"].values())


class Payload:
    """Pickles as "call exec(code)": unpickling it runs code, here creating the file marker."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def test_a_checkpoint_that_runs_code_is_refused(tmp_path, capsys):
    name = HARNESS
    marker = tmp_path / "payload_ran"
    out_dir = tmp_path / "downloaded"
    out_dir.mkdir()
    torch.save({"version": load_script(name).VERSION, "model": Payload(marker)}, out_dir / "ckpt.pt")
    torch.load(out_dir / "ckpt.pt", weights_only=False)  # the payload is live: an unsafe load runs it
    assert marker.exists()
    marker.unlink()

    assert plumbing.main(load_script(name), [*BASE, "--sample-only", "--out-dir", str(out_dir)]) == 2
    assert not marker.exists()
    assert_one_line(capsys.readouterr().err, "refused", "arbitrary code")


def test_a_temperature_too_small_to_sample_from_is_refused(tmp_path):
    result = run_script(HARNESS, *BASE, "--temperature", "1e-50", "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 2
    assert_one_line(result.stderr, "--temperature must be", "greater than 0.001", "1e-50")


CPU_ALLOCATOR_FAILURE = (  # what torch 2.13's CPU allocator raised for torch.empty(10**13) on this machine
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
    "allocate 40000000000000 bytes. Error code 12 (Cannot allocate memory)")


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
                                   RuntimeError(CPU_ALLOCATOR_FAILURE)], ids=["gpu", "cpu"])
def test_out_of_memory_is_one_line_and_exit_1(error, tmp_path, monkeypatch, capsys):
    """Where memory runs out first: the evaluation's logits. Raised as torch raises it, not allocated."""
    module = load_script(HARNESS)

    def out_of_memory(*args):
        raise error

    monkeypatch.setattr(module, "estimate_loss", out_of_memory)
    assert plumbing.main(module, [*BASE, "--out-dir", str(tmp_path / "run")]) == 1
    assert_one_line(capsys.readouterr().err, "error: out of memory", "--batch-size")


def test_a_genuine_runtime_error_keeps_its_traceback(tmp_path, monkeypatch):
    module = load_script(HARNESS)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not a resource limit")

    monkeypatch.setattr(module, "estimate_loss", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        plumbing.main(module, [*BASE, "--out-dir", str(tmp_path / "run")])


@pytest.mark.parametrize("dtype", ["float32", "tf32"])
def test_a_run_leaves_torchs_matmul_precision_as_it_found_it(dtype, tmp_path, monkeypatch):
    module, during = load_script(HARNESS), []
    estimate_loss = module.estimate_loss

    def recording(*args):  # what the precision is while the model trains and evaluates
        during.append(torch.get_float32_matmul_precision())
        return estimate_loss(*args)

    monkeypatch.setattr(module, "estimate_loss", recording)
    previous = torch.get_float32_matmul_precision()
    try:
        for users_choice in ("high", "highest"):
            torch.set_float32_matmul_precision(users_choice)
            assert plumbing.main(module, [*BASE, "--dtype", dtype, "--out-dir", str(tmp_path / "run")]) == 0
            assert torch.get_float32_matmul_precision() == users_choice  # readable, and as it was
            assert set(during) == {"high" if dtype == "tf32" else users_choice}
            during.clear()
    finally:
        torch.set_float32_matmul_precision(previous)


@pytest.mark.parametrize("is_bf16_supported", [
    "lambda including_emulation=True: False",  # no bfloat16 at all
    "lambda including_emulation=True: including_emulation",  # emulated only: a T4, as torch 2.13 reports it
], ids=["none", "emulated"])
def test_bfloat16_on_a_gpu_without_it_is_refused_up_front(tmp_path, is_bf16_supported):
    """As on a GPU older than NVIDIA's Ampere: torch sees CUDA, but no bfloat16 arithmetic."""
    code = ("import runpy, sys, torch; torch.cuda.is_available = lambda: True; "
            f"torch.cuda.is_bf16_supported = {is_bf16_supported}; "
            "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / f"{V4}.py"), *BASE, "--device", "cuda", "--dtype", "bfloat16",
         "--out-dir", str(tmp_path / "run")], capture_output=True, text=True, encoding="utf-8", env=ENV, timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert_one_line(result.stderr, "error: --dtype bfloat16", "does not compute in bfloat16", "--dtype float32")
    assert not (tmp_path / "run" / "ckpt.pt").exists()


@pytest.mark.parametrize("flags, phrases", [
    (["--dtype", "bfloat16"], ["error: --dtype bfloat16", "macOS 14", "--dtype float32"]),
    (["--compile"], ["error: --compile", "without --compile"]),
], ids=["bfloat16", "compile"])
def test_on_apples_gpu_what_cannot_run_is_refused_up_front(tmp_path, monkeypatch, capsys, flags, phrases):
    """As on a Mac before macOS 14: torch sees MPS, which has no bfloat16 there; and torch.compile
    for MPS is a prototype, refused on any macOS."""
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_macos_or_newer", lambda major, minor: False)
    module = load_script(V4)
    assert plumbing.main(module, [*BASE, "--device", "mps", *flags, "--out-dir", str(tmp_path / "run")]) == 2
    assert_one_line(capsys.readouterr().err, *phrases)
    assert not (tmp_path / "run" / "ckpt.pt").exists()


def test_sample_only_needs_only_the_checkpoint(tmp_path):
    """A shared ckpt.pt, and the script copied with plumbing.py alone: no corpus anywhere, no --data."""
    name = V3
    write_checkpoint(load_script(name), tmp_path / "shared", SMALL_CORPUS.read_text(encoding="utf-8"))
    alone = tmp_path / "alone"
    alone.mkdir()
    for file_name in (f"{name}.py", "plumbing.py"):
        (alone / file_name).write_bytes((ROOT / file_name).read_bytes())
    result = subprocess.run(
        [sys.executable, f"{name}.py", "--sample-only", "--out-dir", str(tmp_path / "shared"), "--device", "cpu",
         "--prompt", "明月", "--max-new-tokens", "8"], capture_output=True, text=True, encoding="utf-8",
        cwd=alone, env=ENV, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loaded step 1 from" in result.stdout
    assert (tmp_path / "shared" / "samples.txt").read_text(encoding="utf-8").startswith("明月")
    # A prompt outside the checkpoint's vocabulary is still one line.
    result = run_script(name, "--sample-only", "--out-dir", str(tmp_path / "shared"), "--prompt", "明月Q")
    assert result.returncode == 2
    assert_one_line(result.stderr, "--prompt '明月Q'", "not in the vocabulary")


def test_logs_that_are_not_a_terminal_get_no_progress_bar(tmp_path):
    result = run_script(V1, *BASE, "--max-iters", "200", "--eval-interval", "100", "--out-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # the bar draws only on a terminal; the evaluation lines say where training is
    assert [line.split("|")[0].strip() for line in result.stdout.splitlines() if line.startswith("step")] == [
        "step      0", "step    100", "step    200"]
