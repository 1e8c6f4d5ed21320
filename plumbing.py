"""The plumbing of the BabyGPT scripts: you may skip this file. It changes nothing the model learns.

Each script (babygpt_v1_bigram.py ... babygpt_v9_ddp.py) is one lesson: its settings, its
model, train() and write_samples(). What a real run needs around them is here, written once:

- setting(): a Config field with its --help text; the command line is built from the fields;
- the checks that refuse bad settings, corpora and checkpoints in one line, before a run starts;
- TrainingLog: what train() prints and saves at each evaluation, never over another run's files,
  and --resume: a run carried on from its ckpt.pt exactly as if it had never stopped;
- --preset: a script's PRESETS, a named set of defaults for its flags;
- Ctrl-C and SIGTERM: stop after this step, save, then sample;
- on the CPU, torch's thread count: timed, not guessed (choose_threads);
- under torchrun (v9): the same, with rank 0 alone printing, saving and sampling;
- main(script): the command line, the one-line errors and the exit status (0; 2: bad input; 1: the
  run failed; 130: stopped by Ctrl-C).

The dependency runs one way: this module never imports a script. A script hands itself to it
(plumbing.main(script) gets the script's module: its Config, BabyGPT, Tokenizer, train and
write_samples). The tools import it by name for the same errors, atomic writes and the list of the
SCRIPTS.
"""

import argparse
import contextlib
import copy
import ctypes
import io
import json
import math
import os
import pickle
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, field, fields
from pathlib import Path

# The scripts, in the course's order: each version's module, in the folder of this file.
SCRIPTS = {
    "v1": "babygpt_v1_bigram",
    "v2": "babygpt_v2_selfattention",
    "v3": "babygpt_v3_head",
    "v4": "babygpt_v4_multihead_attention",
    "v5": "babygpt_v5_residual",
    "v6": "babygpt_v6_feedforward",
    "v7": "babygpt_v7_transformer",
    "v8": "babygpt_v8_dropout",
    "v9": "babygpt_v9_ddp",
}
HERE = Path(__file__).resolve().parent  # the scripts' folder: data/ and runs/ are found from it

# A Ctrl-C while torch loads (the import below, a second or more) ends a script's run at once,
# without a traceback. Only when the program is one of the scripts: in a notebook or a tool that
# imports this module, Ctrl-C is left as it was. main() puts Python's usual handler back.
if Path(sys.argv[0]).name.removesuffix(".py") in SCRIPTS.values():
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import torch  # noqa: E402 (after the handler above)
from matplotlib.figure import Figure  # noqa: E402
from tqdm import tqdm  # noqa: E402

SAMPLE_SEPARATOR = "\n" + "=" * 40 + "\n"  # between samples in samples.txt (a ci has blank lines)
RUN_FILES = ("ckpt.pt", "metrics.json", "loss.png", "samples.txt")  # what a run writes in out_dir
# Config fields that do not change what training computes: --resume may give them anew.
NOT_TRAINING = {"data", "device", "compile", "prompt", "max_new_tokens", "temperature", "top_k",
                "out_dir", "sample_only", "resume", "preset", "threads"}
# Set by main()'s handler for Ctrl-C (SIGINT) and SIGTERM; train() reads it after every step.
stop_requested = threading.Event()
stop_requested_at = math.inf  # when (time.monotonic()); an evaluation gets STOP_GRACE more seconds
STOP_GRACE = 1.0


class EvaluationDropped(Exception):
    """Raised in an evaluation still running STOP_GRACE seconds after a stop: TrainingLog saves
    the steps done instead, without their losses."""


class BabyGPTError(Exception):
    """A problem the user can fix: main() prints it as one line and exits with status 2 or 1."""

    def __init__(self, message, status=2):  # 2: bad input; 1: the run failed
        super().__init__(message)
        self.status = status


def run_command(main):
    """sys.exit(main()) for a tool whose output may be piped (| head): a closed pipe ends it
    quietly, the reader having what it wanted."""
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)


def require(ok, message, status=2):
    if not ok:
        raise BabyGPTError(message, status)


def setting(default, help, choices=None, largest=2**31 - 1):
    """A Config field with its --help text and, where only some values make sense, the choices
    or the largest value (every size and count is checked against it before training)."""
    return field(default=default, metadata={"help": help, "choices": choices, "largest": largest})


def flag(name):
    """The command-line flag of a Config field: block_size -> --block-size."""
    return "--" + name.replace("_", "-")


def resolve_out_dir(config, version):
    """--out-dir, or runs/<the script's name> beside the scripts (runs/<version> for a version of
    your own that is not in SCRIPTS)."""
    if config.out_dir:
        return Path(config.out_dir).expanduser()
    return HERE / "runs" / SCRIPTS.get(version, version)


# ---- Checking the settings, the paths, the corpus and the device

def check_config(script, config):
    """Refuse settings that cannot work, each with a one-line reason, before any time is spent."""
    check_hyperparameters(script, config)
    require(0 <= config.seed < 2**64, f"--seed must be between 0 and 2**64 - 1, not {config.seed}")
    require(0 < config.max_new_tokens < 2**31,
            f"--max-new-tokens must be between 1 and 2**31 - 1, not {config.max_new_tokens}")
    # logits / temperature must not overflow: below 0.001 the scores leave float32's range.
    require(1e-3 < config.temperature < math.inf,
            f"--temperature must be finite and greater than 0.001, not {config.temperature}")
    require(config.top_k is None or config.top_k > 0,
            f"--top-k must be greater than 0, not {config.top_k}")
    require(config.prompt and all(config.prompt), "--prompt must not be empty")
    check_threads(config.threads)
    check_path(config.data, "--data")
    check_path(config.out_dir, "--out-dir")
    check_device(script, config)
    check_torchrun(script, config)
    check_out_dir(resolve_out_dir(config, script.VERSION))


def check_hyperparameters(script, config):
    """Sizes and counts from 1 to their largest, a learning rate that float32 can take, and sizes
    the model can be built with (for flags, and for the settings a checkpoint holds)."""
    for hyperparameter in fields(script.Hyperparameters):
        name, value = flag(hyperparameter.name), getattr(config, hyperparameter.name)
        require(0 < value < math.inf, f"{name} must be finite and greater than 0, not {value}")
        largest = hyperparameter.metadata["largest"]
        require(value <= largest, f"{name} {value} is too large: at most {largest}")
    check_model_sizes(script, config)


def check_model_sizes(script, config):
    """Can BabyGPT be built at these sizes? Asked on the meta device, which allocates nothing. The
    model raises ValueError for sizes it cannot use (from v4 on: n_head must divide n_embd), torch
    RuntimeError for a tensor with more elements than it can count."""
    try:
        with torch.device("meta"):
            script.BabyGPT(config, vocab_size=1)
    except (ValueError, RuntimeError) as err:
        raise BabyGPTError(f"{err}; choose other sizes (see --help)") from None


def check_threads(threads):
    """--threads, in the scripts and the tools: 0 (timed: choose_threads), or a count."""
    require(0 <= threads <= 1024, f"--threads must be between 0 (timed) and 1024, not {threads}")


def check_path(name, flag_name):
    """A path from the command line must be printable and storable (UTF-8), and a ~ must expand."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # on Linux, bytes that are not UTF-8 arrive as lone surrogates
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise BabyGPTError(f"{flag_name} {shown}: the name is not UTF-8 (from a zip made on a GBK "
                           "system?); rename it with UTF-8 characters") from None
    try:
        Path(name).expanduser()
    except RuntimeError:  # ~someone, and no such user
        raise BabyGPTError(f"{flag_name} {name}: cannot expand ~ (no such user)") from None


def check_device(script, config):
    device = script.choose_device(config.device)
    if device == "cuda":
        require(torch.cuda.is_available(), f"--device cuda is not available: this torch "
                f"({torch.__version__}) sees no CUDA GPU here; use --device auto")
        # Without emulation: GPUs before NVIDIA's Ampere (Colab's T4) only emulate bfloat16, slower
        # than float32.
        bfloat16 = torch.cuda.is_bf16_supported(including_emulation=False)
        require(config.dtype != "bfloat16" or bfloat16, "--dtype bfloat16: this GPU does not "
                "compute in bfloat16 (before NVIDIA's Ampere it is only emulated); use --dtype "
                "float32")
    if device == "mps":
        require(torch.backends.mps.is_available(), f"--device mps is not available: this torch "
                f"({torch.__version__}) sees no Apple MPS here; use --device auto")
        # Apple's GPU has bfloat16 from macOS 14 on; before, the first step would fail mid-run.
        require(config.dtype != "bfloat16" or torch.backends.mps.is_macos_or_newer(14, 0),
                "--dtype bfloat16: Apple's GPU computes in bfloat16 from macOS 14 on; use "
                "--dtype float32")
        # torch.compile for Apple's GPU is a prototype in this torch: refused here, not mid-run.
        require(not config.compile, "--compile is for NVIDIA GPUs (and CPUs with a C++ compiler); "
                "on Apple's GPU (mps) run without --compile")


def rank():
    """This process's place among torchrun's processes (RANK, set by torchrun); 0 when run alone."""
    return int(os.environ.get("RANK", 0))


def check_torchrun(script, config):
    """Under torchrun (v9 on): settings every process can run with. Each process checks the same
    settings and finds the same, so all of them stop, and rank 0 alone says why."""
    if "RANK" not in os.environ:
        return
    require(hasattr(config, "backend"), f"{script.VERSION} trains in one process: under torchrun "
            "each process would train its own copy; run it with python, or torchrun "
            "babygpt_v9_ddp.py")
    world_size, local_size = int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_WORLD_SIZE"])
    require(config.batch_size % world_size == 0, f"--batch-size {config.batch_size} cannot be "
            f"split over {world_size} processes: give a multiple of {world_size} (each process "
            "takes batch_size / N windows), or fewer processes (--nproc_per_node)")
    device = script.choose_device(config.device)
    require(device in ("cuda", "cpu"), f"--device {device}: under torchrun each process needs "
            "its own CUDA GPU, or the CPU; use --device cpu")
    require(config.backend != "nccl" or device == "cuda", "--backend nccl needs CUDA GPUs, one "
            "per process; on the CPU use --backend gloo (or auto)")
    gpus = torch.cuda.device_count()
    require(device != "cuda" or local_size <= gpus, f"torchrun starts {local_size} processes "
            f"on this machine, but it has {gpus} CUDA GPU(s), one per process: give "
            f"--nproc_per_node {gpus} or fewer, or --device cpu")


def check_out_dir(out_dir):
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()  # can this process write there?
    except OSError as err:
        raise BabyGPTError(f"cannot write to --out-dir {out_dir}: {err.strerror}") from None


def read_corpus(config):
    """The text of --data, checked: a readable file, UTF-8, not empty, long enough for --block-size,
    and using every --prompt character. A relative path is tried from the working directory, then
    beside the scripts, so a script finds data/songci.txt wherever it is run from."""
    path = Path(config.data).expanduser()
    beside_script = HERE / config.data
    if not path.exists() and beside_script.exists():
        path = beside_script
    try:
        size = path.stat().st_size
        require(path.is_file(), f"the corpus --data {path} is not a file (a folder, a pipe or a "
                "device?); give a UTF-8 text file")  # a pipe would make read_bytes wait forever
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as err:  # missing, not readable
        raise BabyGPTError(f"cannot read the corpus --data {path}: {err.strerror} (the corpus "
                           "comes with the project; python -m data.prepare rebuilds it)") from None
    except MemoryError:
        raise BabyGPTError(f"the corpus --data {path} ({size:,} bytes) does not fit in memory; "
                           "use a smaller corpus", status=1) from None
    except UnicodeDecodeError as err:
        raise BabyGPTError(f"{path} is not UTF-8: the byte 0x{raw[err.start]:02x} at offset "
                           f"{err.start} cannot be decoded; save the file as UTF-8") from None
    require(text, f"{path} is empty: a corpus needs text to learn from")
    check_prompts(config, text)
    n_val = len(text) - int(0.9 * len(text))  # the smaller split, as train() makes it
    require(n_val > config.block_size, f"the val split has {n_val} characters, too few for "
            f"--block-size {config.block_size}; use a longer corpus or a smaller block")
    return text


def check_prompts(config, vocabulary):
    """Every prompt character must be in the vocabulary: the corpus's, or a checkpoint's."""
    for prompt in config.prompt:
        unknown = [f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(prompt) if c not in vocabulary]
        require(not unknown, f"--prompt {prompt!r}: not in the vocabulary, the corpus never uses: "
                f"{', '.join(unknown)}; choose characters from the corpus")


# ---- Speed on a CPU: the memory a step frees, kept for the next

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # mallopt settings (glibc malloc.h)


def keep_freed_memory():
    """Ask the C library's allocator (glibc, on Linux) to keep the memory a training step frees
    for the next step. Left as it is, it hands big freed buffers (in v4 at the defaults, the 12 MB
    logits and their gradient) back to the system, and the next step faults every page of them
    in again (benchmarks/step_floor.py times a step without and with this; docs/performance.md).
    The same as the MALLOC_*_ environment variables, set from inside. Elsewhere, nothing."""
    if sys.platform != "linux":
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # a C library other than glibc (musl: Alpine)
        return
    mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # buffers up to 32 MB come from the heap, not mmap
    mallopt(M_TRIM_THRESHOLD, 2**30)  # up to 1 GB freed at the heap's top stays in the process
    mallopt(M_TOP_PAD, 64 * 2**20)  # the heap grows 64 MB at a time


# ---- What a run writes: each evaluation's line and files, never over another run's

class TrainingLog:
    """train()'s records: a header, then at each evaluation a line on the terminal and, in
    --out-dir, the model (ckpt.pt), every evaluation so far (metrics.json) and their plot.
    As a `with` block it holds --out-dir for this run alone: a second run there is refused, and an
    earlier run's files are first moved to earlier/, so that no trained model is overwritten.

    ckpt.pt also holds what --resume needs to carry on exactly: the optimizer's moments, the
    schedule's position, the step and the state of the random numbers that pick the batches (and
    dropout's zeros). With --resume, entering the block loads them all back, and first_step is
    the step to go on from; without it, first_step is 0.

    Under torchrun (v9) every rank makes one: rank 0 alone prints, holds the folder and saves;
    every rank loads what --resume needs; a refusal on any rank stops them all."""

    def __init__(self, config, model, optimizer, schedule, tokenizer, device, version, concept):
        self.config, self.model, self.chars = config, model, "".join(tokenizer.chars)
        self.optimizer, self.schedule, self.device = optimizer, schedule, device
        self.version = version
        self.is_main = rank() == 0  # the one that prints and saves
        self.out_dir = resolve_out_dir(config, version)
        self.title = f"BabyGPT {version}: {concept}"
        self.history = []
        self.first_step = 0
        self.hooks = []  # removed on leaving the with block
        threads = choose_threads(config, model, tokenizer.vocab_size) if device == "cpu" else ""
        self.start = time.perf_counter()
        n_params = sum(p.numel() for p in model.parameters())
        self.about = {"version": version, "config": asdict(config), "device": device,
                      "torch": str(torch.__version__), "parameters": n_params,
                      "threads": torch.get_num_threads()}
        if not self.is_main:
            return
        processes = (f" | {torch.distributed.get_world_size()} processes "
                     f"({torch.distributed.get_backend()})" if torch.distributed.is_initialized()
                     else "")
        print(f"{self.title} | device {device}{processes} | torch {torch.__version__}")
        if threads:
            print(f"CPU threads: {threads}")
        print(f"corpus {config.data}: vocabulary {tokenizer.vocab_size:,} | "
              f"parameters {n_params:,}")
        print(f"ckpt.pt, metrics.json, loss.png go to {self.out_dir}")

    def __enter__(self):
        self.lock, failure = None, None
        try:
            if self.is_main:
                check_out_dir(self.out_dir)  # made if need be, and writable
                self.lock = lock_folder(self.out_dir)
            if self.config.resume:
                self.resume()
            elif self.is_main:
                move_earlier_run_aside(self.out_dir)
        except BabyGPTError as err:
            failure = err
        failure = on_every_rank(failure, self.device)
        if failure:
            self.__exit__()
            raise failure
        # Counted by the optimizer, not by the loop: a stop in the middle of an evaluation saves
        # the steps done. Under torchrun every rank must evaluate alike: no evaluation is dropped.
        self.steps_done = self.first_step
        self.hooks.append(self.optimizer.register_step_post_hook(self.count_step))
        if not (self.config.compile or torch.distributed.is_initialized()):
            self.hooks.append(self.model.register_forward_pre_hook(self.drop_late_evaluation))
        return self

    def __exit__(self, kind=None, error=None, traceback=None):
        for hook in self.hooks:
            hook.remove()
        dropped = kind is EvaluationDropped
        if dropped and self.is_main and self.history and self.steps_done > self.history[-1]["step"]:
            elapsed = time.perf_counter() - self.start
            tqdm.write(f"step {self.steps_done:>6} | not evaluated: stopped | {elapsed:7.1f}s")
            self.save(self.steps_done, elapsed)
        if self.lock:
            self.lock.close()  # closing the lock file releases the lock
        return dropped  # swallowed: train() returns what it has, and main() samples from it

    def count_step(self, optimizer, args, kwargs):
        self.steps_done += 1

    def drop_late_evaluation(self, model, inputs):
        """Before every forward pass: one in evaluation (model.eval()) more than STOP_GRACE seconds
        after Ctrl-C or SIGTERM ends the evaluation. A training step always finishes."""
        if not model.training and time.monotonic() - stop_requested_at > STOP_GRACE:
            raise EvaluationDropped

    def resume(self):
        """--resume: the model, the optimizer, the schedule, the history and the random state back
        from ckpt.pt, which must come from the same settings; first_step is its step."""
        path = self.out_dir / "ckpt.pt"
        require(path.is_file(), f"--resume: no checkpoint at {path}; train without --resume "
                "first, or give the --out-dir of the run to carry on")
        state = read_checkpoint(path, self.version, self.device)
        require("optimizer" in state, f"--resume: {path} holds the model only (it was saved "
                "before checkpoints held the optimizer); train afresh without --resume")
        differences = [f"{flag(name)} {saved!r}, not {getattr(self.config, name)!r}"
                       for name, saved in state["config"].items()
                       if name not in NOT_TRAINING and saved != getattr(self.config, name, saved)]
        require(not differences, f"--resume: {path} was trained with {', '.join(differences)}; "
                "give the same settings, or train afresh in another --out-dir")
        require(state["chars"] == self.chars, f"--resume: {path} was trained on another corpus "
                f"than {self.config.data} (its vocabulary differs)")
        require(state["step"] < self.config.max_iters, f"--resume: {path} has already finished "
                f"all {self.config.max_iters} steps")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng_state"])
        if "cuda_rng_state" in state and self.device == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng_state"])
        self.history = state["history"]
        self.first_step = state["step"]
        self.start -= self.history[-1]["elapsed"]  # the clock goes on from the saved run's time
        if self.is_main:
            print(f"resuming from step {self.first_step} of {self.config.max_iters}: {path}")

    def evaluation(self, step, losses):
        """Print the losses after `step` updates; save the model, the history and the plot."""
        lr = self.config.learning_rate
        saved = (f"the last good checkpoint is {self.out_dir / 'ckpt.pt'} (step "
                 f"{self.history[-1]['step']})" if self.history else "no checkpoint was saved")
        require(math.isfinite(losses["train"]) and math.isfinite(losses["val"]),
                f"the loss became {losses['train']} by step {step}: the learning rate ({lr:g}) "
                f"is probably too high; try --learning-rate {lr / 10:g}; {saved}", status=1)
        elapsed = time.perf_counter() - self.start
        if self.history and self.history[-1]["step"] == step:  # resumed where it was evaluated
            self.history.pop()
        self.history.append({"step": step, "train_loss": losses["train"],
                             "val_loss": losses["val"], "elapsed": elapsed})
        if not self.is_main:
            return
        tqdm.write(f"step {step:>6} | train {losses['train']:.4f} | val {losses['val']:.4f} | "
                   f"{elapsed:7.1f}s")
        self.save(step, elapsed)

    def save(self, step, elapsed):
        """ckpt.pt, metrics.json and loss.png: the model after `step` steps, and the evaluations
        so far."""
        checkpoint = {**self.about, "step": step, "chars": self.chars,  # tensors and plain types
                      "model": self.model.state_dict(), "history": self.history,
                      "optimizer": self.optimizer.state_dict(),  # the rest is for --resume
                      "schedule": self.schedule.state_dict(), "rng_state": torch.get_rng_state()}
        if self.device == "cuda":
            checkpoint["cuda_rng_state"] = torch.cuda.get_rng_state()
        write_file(self.out_dir / "ckpt.pt", torch_bytes(checkpoint))
        tokens = step * self.config.batch_size * self.config.block_size
        final = {**self.history[-1], "wall_seconds": elapsed, "tokens_per_second": tokens / elapsed,
                 "interrupted": step < self.config.max_iters, "steps_trained": step}
        metrics = {**self.about, "history": self.history, "final": final}
        text = json.dumps(metrics, ensure_ascii=False, indent=2) + "\n"
        write_text(self.out_dir / "metrics.json", text)
        write_file(self.out_dir / "loss.png", png_bytes(self.plot()))

    def plot(self):
        """Train and val loss against step. A Figure, not pyplot: no window, no global state."""
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot(title=self.title, xlabel="step", ylabel="cross-entropy loss (nats)")
        steps = [h["step"] for h in self.history]
        ax.plot(steps, [h["train_loss"] for h in self.history], marker=".", label="train")
        ax.plot(steps, [h["val_loss"] for h in self.history], marker=".", label="val")
        ax.legend()
        return fig


# ---- CPU threads: timed, not guessed
# The lesson's tensors are small: an operation is a few microseconds of work, and splitting it over
# threads can cost more than it saves, or not, depending on the CPU. So before training, a few steps
# of the run's own model are timed at 1, 2, 4, ... threads, and the run keeps the fastest.

THREADS_AT_IMPORT = torch.get_num_threads()  # torch's own choice (or the user's, made before)
timed_threads = {}  # timed in this process: {what: (threads, {threads: seconds}, timing's seconds)}


def candidate_threads():
    """1, 2, 4, ... and the number of cores this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        cores = os.cpu_count() or 1
    return sorted({1, cores} | {2**k for k in range(1, cores.bit_length()) if 2**k < cores})


def fastest_threads(work, rounds=15, seconds=1.0):
    """Time work() at each candidate thread count, in turn, round after round: two rounds to warm
    up, then at least 3 and at most `rounds`, until about `seconds` have passed. Returns (the fewest
    threads within 5% of the fastest median, {threads: median seconds per call})."""
    counts = candidate_threads()
    times = {n: [] for n in counts}
    start = time.perf_counter()
    for round_ in range(2 + max(3, rounds)):
        for n in counts:
            torch.set_num_threads(n)
            begin = time.perf_counter()
            work()
            if round_ >= 2:  # the first calls at a new count are slow: caches, threads starting
                times[n].append(time.perf_counter() - begin)
        if round_ >= 2 + 3 - 1 and time.perf_counter() - start > seconds:
            break
    medians = {n: statistics.median(t) for n, t in times.items()}
    fastest = min(medians.values())
    return min(n for n, s in medians.items() if s <= 1.05 * fastest), medians


def use_threads(requested, what, make_work, rounds=15):
    """Set torch's CPU threads for `what` (a key: the shapes the work computes) and say why:
    --threads N (requested) when given; else the user's OMP_NUM_THREADS or torch.set_num_threads;
    else the fastest count for make_work()'s work, timed once per process (fastest_threads: at
    most `rounds` rounds). make_work is called only then. Returns the header's words."""
    if requested:
        torch.set_num_threads(requested)
        return f"{requested} (--threads)"
    if "OMP_NUM_THREADS" in os.environ:  # torchrun sets it too: 1 unless given
        return f"{torch.get_num_threads()} (OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']})"
    ours = {THREADS_AT_IMPORT} | {threads for threads, *_ in timed_threads.values()}
    if torch.get_num_threads() not in ours:
        return f"{torch.get_num_threads()} (set by torch.set_num_threads)"
    if make_work is None:
        return f"{torch.get_num_threads()} (torch's own choice, not timed)"
    if what not in timed_threads:
        start = time.perf_counter()
        timed_threads[what] = (*fastest_threads(make_work(), rounds), time.perf_counter() - start)
    threads, times, cost = timed_threads[what]
    torch.set_num_threads(threads)
    timings = ", ".join(f"{s * 1000:.1f} ms on {n}" for n, s in times.items())
    return (f"{threads}, the fastest here: a step took {timings}; timed in {cost:.1f} s "
            "(--threads N to choose)")


def choose_threads(config, model, vocab_size):
    """On the CPU, before training: the thread count for config's run, set and described. The
    steps are timed on a copy of the model with random characters, and leave the random numbers
    as they were: the run trains exactly as it would have with these threads and no timing."""
    def make_step():  # the loop's steps 2-5 on a copy, at the run's shapes, on random characters
        scratch = copy.deepcopy(model)
        optimizer = torch.optim.AdamW(scratch.parameters(), fused=True)

        def step():
            xb = torch.randint(vocab_size, (config.batch_size, config.block_size))
            _, loss = scratch(xb, xb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        return step

    what = ("train", type(model).__module__, sum(p.numel() for p in model.parameters()),
            config.batch_size, config.block_size)
    if config.compile:  # the copy would be compiled anew, for longer than timing could save
        make_step = None
    # A short run gets a short timing: a hundredth of its steps in rounds (at least 3, at most 15),
    # and about a second at most.
    rounds = config.max_iters // 100
    with torch.random.fork_rng(devices=[]):  # the run's random numbers stay as they were
        return use_threads(config.threads, what, make_step, rounds)


def choose_writing_threads(requested, model):
    """The same for writing (--sample-only, write_poem, the explorer's --threads 0): timed on one
    character's logits from a full context, without gradients, as generation computes them."""
    context = torch.zeros(1, model.block_size, dtype=torch.long)  # (1, T): any ids will do

    @torch.no_grad()
    def step():
        model(context)

    what = ("write", type(model).__module__, sum(p.numel() for p in model.parameters()),
            model.block_size)
    return use_threads(requested, what, lambda: step)


def on_every_rank(failure, device):
    """Under torchrun: a BabyGPTError on any rank, raised on every rank (the others would wait for
    it forever in the next all_reduce). Every rank must call it. Alone: failure, as it is."""
    if not torch.distributed.is_initialized():
        return failure
    failed = torch.tensor(int(failure is not None), device=device)
    torch.distributed.all_reduce(failed, op=torch.distributed.ReduceOp.MAX)
    if failed and failure is None:
        failure = BabyGPTError("another process stopped; rank 0 says why")
    return failure


def lock_folder(folder):
    """An exclusive lock on folder/.lock, or one line saying that another run holds it. The system
    drops the lock when the file closes or the process ends, however it ends: no stale locks.
    Where no lock can be had (a file system without locks, another user's .lock), the run goes on
    without one. Returns the open lock file, or None."""
    try:
        lock = open(folder / ".lock", "a+b")
    except OSError:
        return None
    try:
        if os.name == "nt":
            import msvcrt
            msvcrt.locking(lock.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # held by another process (POSIX; Windows)
        lock.close()
        raise BabyGPTError(f"another run is writing to {folder}; wait for it to end, or give this "
                           "one another --out-dir") from None
    except OSError:  # this file system has no locks
        pass
    return lock


def move_earlier_run_aside(out_dir, names=RUN_FILES):
    """An earlier run's files go to out_dir/earlier/<when they were saved>/, and one line says so:
    a new run never overwrites a trained model. Delete what you no longer want."""
    found = [out_dir / name for name in names if (out_dir / name).exists()]
    if not found:
        return
    saved_at = time.localtime(max(path.stat().st_mtime for path in found))
    stamp = time.strftime("%Y-%m-%d_%H%M%S", saved_at)
    aside, n = out_dir / "earlier" / stamp, 1
    while aside.exists():  # two earlier runs saved in the same second
        n += 1
        aside = out_dir / "earlier" / f"{stamp}_{n}"
    try:
        aside.mkdir(parents=True)
        for path in found:
            os.replace(path, aside / path.name)
    except OSError as err:
        raise BabyGPTError(f"cannot move the earlier run's files to {aside}: {err.strerror}; "
                           "give this run another --out-dir") from None
    print(f"an earlier run's {', '.join(path.name for path in found)} moved to {aside}")


def write_file(path, data):
    """data (bytes) into path, atomically: written to a temporary file of its own beside path, then
    renamed over path. A crash, a full disk or another process never leaves path half-written;
    after a failed write, path is as it was, and one line says why."""
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")  # unique to this write
    try:
        with open(tmp, "xb") as file:
            file.write(data)
        os.replace(tmp, path)
    except OSError as err:
        raise BabyGPTError(f"cannot write {path}: {err.strerror}; the previous {path.name}, if "
                           "any, is unchanged (is the disk full?)", status=1) from None
    finally:
        tmp.unlink(missing_ok=True)  # after a failed write; a moved file is already gone


def write_text(path, text):
    write_file(path, text.encode("utf-8"))


def torch_bytes(obj):
    """torch.save into memory: a full disk then fails in write_file, with the OSError it raises
    (torch.save straight to a file reports it as an unclear RuntimeError)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def png_bytes(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    return buffer.getvalue()


# ---- --sample-only: the model back from ckpt.pt

def read_checkpoint(path, version, device):
    """The dict in ckpt.pt, loaded safely, if a BabyGPT `version` wrote it."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)  # never runs code
    except pickle.UnpicklingError:  # how weights_only refuses anything but tensors and plain types
        raise BabyGPTError(f"{path} refused: loading it could run arbitrary code; use only "
                           "checkpoints this project wrote") from None
    except Exception as err:  # truncated, corrupt or not a torch file: torch raises several types
        raise BabyGPTError(f"{path} is corrupt or truncated ({type(err).__name__})") from None
    written_by = state.get("version") if isinstance(state, dict) else None
    require(written_by == version, f"{path} is not a BabyGPT {version} checkpoint (it was written "
            f"by {written_by or 'another program'}); use another --out-dir")
    step = state.get("step", 0)  # a missing step is for load_checkpoint to name
    require(type(step) is int and step >= 0, f"{path} holds step {step!r}, which is no count of "
            "steps: the file is damaged; use the one in earlier/, or train again")
    return state


def load_checkpoint(script, config, sampling=True):
    """The script's model saved in --out-dir, checked as input from outside.
    Returns (model, tokenizer). sampling: for the script's --sample-only, which writes samples.txt
    there from its --prompt; a tool (the explorer, write_poem) only reads the folder, has no
    --prompt."""
    if sampling:
        check_config(script, config)
    path = resolve_out_dir(config, script.VERSION) / "ckpt.pt"
    require(path.is_file(), f"--sample-only: no checkpoint at {path}; train first or set --out-dir")
    device = script.choose_device(config.device)
    state = read_checkpoint(path, script.VERSION, device)
    if config.data != script.Config.data:  # a corpus given on purpose must be the one it learned
        corpus_chars = "".join(script.Tokenizer(read_corpus(config)).chars)
        require(state.get("chars") == corpus_chars, f"{path} was trained on another vocabulary "
                f"than {config.data}; give no --data, or the one it used")
    try:  # a hand-edited or damaged file may lack any field, or hold any value in it
        saved = script.Config(**state["config"])
        check_hyperparameters(script, saved)
        tokenizer = script.Tokenizer(state["chars"])  # the vocabulary it was trained with, as saved
        model = script.BabyGPT(saved, tokenizer.vocab_size).to(device)
        model.load_state_dict(state["model"])
        step = state["step"]
    except BabyGPTError as err:
        raise BabyGPTError(f"{path} holds settings this script refuses: {err}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:  # fields, types or shapes
        raise BabyGPTError(f"{path} does not fit this script's model ({err!r:.80})") from None
    require(all(p.isfinite().all() for p in model.parameters()), f"{path} holds weights that are "
            "NaN or infinite, which cannot be sampled from; train again")
    if sampling:
        check_prompts(config, tokenizer.chars)
    print(f"BabyGPT {script.VERSION}: {script.CONCEPT} | loaded step {step} from {path}")
    return model, tokenizer


# ---- The command line

class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (argparse's own also prints the usage)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_config(script, argv=None):
    """The script's Config from the command line. With --preset NAME, the script's PRESETS[NAME]
    replaces the defaults of its flags; a flag given on the command line still wins."""
    parser = build_parser(script)
    args = parser.parse_args(argv)
    if getattr(args, "preset", ""):
        parser.set_defaults(**script.PRESETS[args.preset])
        args = parser.parse_args(argv)
    return script.Config(**vars(args))


def build_parser(script):
    """One flag per field of the script's Config, with the field's help and default:
    block_size -> --block-size."""
    parser = OneLineErrorParser(description=script.__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for field_ in fields(script.Config):
        name, default, text = flag(field_.name), field_.default, field_.metadata["help"]
        if field_.name == "prompt":  # repeatable; when absent, Config's default (not None)
            parser.add_argument(name, action="append", default=argparse.SUPPRESS,
                                help=f"{text} (default: {' '.join(default)})")
        elif field_.name == "top_k":  # an int, or None for no limit
            parser.add_argument(name, type=int, default=None, help=text)
        elif isinstance(default, bool):  # a switch: off unless given
            parser.add_argument(name, action="store_true", help=text)
        else:  # parsed as the type of its default: int, float or str
            parser.add_argument(name, type=type(default), default=default, help=text,
                                choices=field_.metadata["choices"])
    return parser


@contextlib.contextmanager
def stop_on_signals():
    """While training: the first Ctrl-C (SIGINT) or SIGTERM (a closed Colab tab, a cluster's time
    limit) asks train() to stop after this step and save. Afterwards, Ctrl-C interrupts at once."""
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def on_stop(signum, frame):
    global stop_requested_at
    stop_requested.set()
    stop_requested_at = time.monotonic()
    name = signal.Signals(signum).name
    if "RANK" in os.environ:  # torchrun passes each signal on to every rank: a terminal's Ctrl-C
        if rank() == 0:  # comes twice. torchrun itself kills them all if they take too long.
            tqdm.write(f"{name}: every process finishes this step, then rank 0 saves (torchrun "
                       "ends them all if they take too long)")
        return
    signal.signal(signum, signal.default_int_handler)  # a second one interrupts at once
    tqdm.write(f"{name}: finishing this step, then saving (send it again to stop at once)")


def is_out_of_memory(err):
    """CUDA and MPS raise torch.OutOfMemoryError; the CPU allocator raises a plain RuntimeError
    whose words are the only sign."""
    return isinstance(err, torch.OutOfMemoryError) or "can't allocate memory" in str(err)


def is_compile_failure(err):
    """--compile: torch.compile's own modules raise it (no C++ compiler, an unsupported device)."""
    return type(err).__module__.startswith(("torch._dynamo", "torch._inductor"))


def has_finished(script, config):
    """--resume of a run whose ckpt.pt has reached --max-iters: there is nothing to carry on."""
    path = resolve_out_dir(config, script.VERSION) / "ckpt.pt"
    if not path.is_file():
        return False  # TrainingLog.resume says so, in its own words
    state = read_checkpoint(path, script.VERSION, "cpu")
    return state.get("step") == config.max_iters == state.get("config", {}).get("max_iters")


def main(script, argv=None):
    """Run a script as a command: `python babygpt_v4_multihead_attention.py [flags]` calls
    main(the script's module). Trains (or loads, with --sample-only), writes samples, and returns
    the exit status; every problem a user can fix is one line on stderr."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_DFL:  # set at import: torch is loaded now
        signal.signal(signal.SIGINT, signal.default_int_handler)  # so Ctrl-C as usual
    global stop_requested_at
    config = parse_config(script, argv)
    stop_requested.clear()  # not set by an earlier call in this process
    stop_requested_at = math.inf
    try:
        require(not (config.resume and config.sample_only), "--resume trains and --sample-only "
                "does not: give one of them")
        if config.sample_only:
            model, tokenizer = load_checkpoint(script, config)
            if next(model.parameters()).device.type == "cpu":
                print(f"CPU threads: {choose_writing_threads(config.threads, model)}")
        else:
            check_config(script, config)  # before any time is spent
            if config.resume and has_finished(script, config):
                print(f"--resume: the run in {resolve_out_dir(config, script.VERSION)} has "
                      f"already finished all {config.max_iters} steps; nothing to do "
                      "(--sample-only writes from it)")
                return 0
            keep_freed_memory()  # on Linux, a faster step on the CPU (see its docstring)
            with stop_on_signals():
                model, tokenizer, _ = script.train(config)
        if rank() != 0:  # under torchrun, rank 0 writes the samples
            return 130 if stop_requested.is_set() else 0
        samples = script.write_samples(model, tokenizer, config)
        out_dir = resolve_out_dir(config, script.VERSION)
        write_text(out_dir / "samples.txt", SAMPLE_SEPARATOR.join(samples) + "\n")
        print("".join(f"\n{sample}\n" for sample in samples) + f"\nsamples.txt saved in {out_dir}")
        sys.stdout.flush()  # a closed pipe shows here, not after main() has returned
        return 130 if stop_requested.is_set() else 0
    except BabyGPTError as err:
        message, status = err, err.status
    except (RuntimeError, MemoryError) as err:
        if is_out_of_memory(err) or isinstance(err, MemoryError):
            message, status = ("out of memory: use a smaller --batch-size or --block-size (the "
                               "logits alone hold batch x block x vocabulary numbers), or a "
                               "smaller corpus", 1)
        elif config.compile and is_compile_failure(err):
            message, status = (f"--compile failed ({str(err).strip().splitlines()[0]:.120}); run "
                               "without --compile (on a CPU it needs a C++ compiler)", 1)
        else:
            raise  # a bug: keep its traceback
    except BrokenPipeError:  # stdout was closed, e.g. by `| head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        message, status = "the output was closed (by | head?), so the run stopped", 1
    except KeyboardInterrupt:  # a second Ctrl-C, or one while sampling: what was saved stays saved
        message, status = "interrupted; what was saved stays saved", 130
    if rank() == 0:  # under torchrun every rank stops, and one says why
        print(f"error: {message}", file=sys.stderr)
    return status

