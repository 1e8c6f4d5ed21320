"""BabyGPT v4: multi-head attention.

The one concept this version adds to v3: instead of one attention head of size n_embd, run
n_head smaller heads side by side (each of size n_embd // n_head) and concatenate their outputs.
Each head has its own query, key and value, so each can learn to look at different earlier
characters, for the same number of parameters as v3's one big head. The rest is v3's model:
token + position embeddings -> attention -> next-character logits.

Run it:
    python babygpt_v4_multihead_attention.py            # train on data/songci.txt, then write ci
    python babygpt_v4_multihead_attention.py --help     # every hyperparameter is a flag
    diff babygpt_v3_head.py babygpt_v4_multihead_attention.py   # exactly what this version adds
"""

import argparse
import contextlib
import ctypes
import io
import json
import math
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

if __name__ == "__main__":  # plumbing: a Ctrl-C while torch loads ends the run, no traceback
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import torch
import torch.nn as nn
from matplotlib.figure import Figure
from torch.nn import functional as F
from tqdm import tqdm

VERSION = "v4"
CONCEPT = "multi-head attention"


def option(default, help, choices=None, largest=2**31 - 1):
    """A Config field with its --help text and, where only some values make sense, the choices
    or the largest value (every size and count is checked against it before training)."""
    return field(default=default, metadata={"help": help, "choices": choices, "largest": largest})


@dataclass
class Hyperparameters:
    """The numbers that shape the model and its training: the same defaults in every version."""
    batch_size: int = option(16, "sequences per training step (B)")
    block_size: int = option(32, "context length in characters (T)")
    n_embd: int = option(64, "embedding size (C)")
    n_head: int = option(4, "attention heads; must divide n_embd", largest=100)
    learning_rate: float = option(5e-3, "AdamW's learning rate, decayed along a cosine to a tenth",
                                  largest=1e30)  # beyond it, float32 weights overflow
    max_iters: int = option(5000, "training steps")
    eval_interval: int = option(500, "steps between evaluations")
    eval_iters: int = option(50, "batches per split in each evaluation")


@dataclass
class Config(Hyperparameters):
    """The hyperparameters, plus where the data comes from and what to do with the results."""
    data: str = option("data/songci.txt", "UTF-8 corpus; also looked for beside this script")
    device: str = option("auto", "auto: cuda, then mps, then cpu", ["auto", "cuda", "mps", "cpu"])
    seed: int = option(1337, "random seed for weights, batches and sampling")
    prompt: tuple[str, ...] = option(("春江", "明月", "往事"), "a sample's opening (repeat)")
    max_new_tokens: int = option(100, "characters to generate after each prompt")
    temperature: float = option(1.0, "over 0.001; below 1: safer choices, above 1: wilder ones")
    top_k: int | None = option(None, "sample only from the k likeliest characters")
    out_dir: str = option("", "for ckpt.pt, metrics.json, loss.png, samples.txt; '': runs/<script>")
    sample_only: bool = option(False, "skip training: load ckpt.pt from --out-dir and generate")
    dtype: str = option("float32", "tf32: faster CUDA matmuls; bfloat16: autocast",
                        ["float32", "tf32", "bfloat16"])
    compile: bool = option(False, "torch.compile the model, for CUDA or a CPU with a C++ compiler "
                           "(not mps): a slow first step, then faster ones")


class Head(nn.Module):
    """One head of causal self-attention with learned query, key and value projections."""

    def __init__(self, n_embd, head_size, block_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        # tril is not a parameter: a buffer moves with .to(device) and is saved, but never trained.
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, return_weights=False):
        B, T, C = x.shape
        k = self.key(x)  # (B, T, head_size): what each position offers
        q = self.query(x)  # (B, T, head_size): what each position looks for
        v = self.value(x)  # (B, T, head_size): what each position passes on
        # 1/sqrt(head_size): the scores' spread does not grow with head_size; softmax stays soft.
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, hs) @ (B, hs, T) -> (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # (B, T, T): no peeking ahead
        wei = F.softmax(wei, dim=-1)  # (B, T, T): each row sums to 1
        out = wei @ v  # (B, T, T) @ (B, T, hs) -> (B, T, hs)
        return (out, wei) if return_weights else out


class MultiHeadAttention(nn.Module):
    """Several heads in parallel, their outputs concatenated along the channel dimension."""

    def __init__(self, num_heads, n_embd, head_size, block_size):
        super().__init__()
        # A ModuleList (not a Python list) registers each head's parameters with the model.
        self.heads = nn.ModuleList(Head(n_embd, head_size, block_size) for _ in range(num_heads))

    def forward(self, x):
        return torch.cat([h(x) for h in self.heads], dim=-1)  # num_heads x (B, T, hs) -> (B, T, C)


class BabyGPT(nn.Module):
    """Token + position embeddings -> multi-head self-attention -> next-character logits."""

    def __init__(self, config, vocab_size):
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head "
                             f"({config.n_head}): each head gets n_embd // n_head channels")
        self.block_size = config.block_size
        self.token_embedding = nn.Embedding(vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        head_size = config.n_embd // config.n_head
        self.attention = MultiHeadAttention(config.n_head, config.n_embd, head_size,
                                            config.block_size)
        self.lm_head = nn.Linear(config.n_embd, vocab_size)
        # Small output weights: the untrained model gives every character about the same
        # score, so its first loss is close to ln(vocab_size), the loss of a uniform guess.
        nn.init.normal_(self.lm_head.weight, std=0.02)
        nn.init.zeros_(self.lm_head.bias)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding(idx)  # (B, T, C)
        pos_emb = self.position_embedding(torch.arange(T, device=idx.device))  # (T, C)
        x = tok_emb + pos_emb  # (B, T, C): what each character is, and where it is
        x = self.attention(x)  # (B, T, C)
        logits = self.lm_head(x)  # (B, T, vocab_size)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Extend idx (B, T) by max_new_tokens characters, one sampled at a time."""
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.block_size:]  # (B, <=block_size): it sees no further back
            logits, _ = self(idx_cond)  # (B, T, vocab_size)
            logits = logits[:, -1, :] / temperature  # (B, vocab_size): the last position predicts
            if top_k is not None:  # only the k likeliest characters stay candidates
                logits, candidates = torch.topk(logits, min(top_k, logits.size(-1)))  # (B, k) each
            probs = F.softmax(logits, dim=-1)  # (B, vocab_size), or (B, k) with top_k
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1): a position in probs
            if top_k is not None:
                idx_next = candidates.gather(-1, idx_next)  # (B, 1): the candidate's character id
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T + 1)
        return idx


# ---- Training and generation: the same text in every version (written by tools/sync_harness.py)

class Tokenizer:
    """Character level: every distinct character of the corpus is one token id."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        self.vocab_size = len(self.chars)

    def encode(self, s):
        return [self.stoi[ch] for ch in s]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def get_batch(data, batch_size, block_size, generator=None):
    """batch_size random windows of data, and the same windows one character later."""
    starts = torch.randint(len(data) - block_size, (batch_size, 1), generator=generator,
                           device=data.device)  # (B, 1)
    idx = starts + torch.arange(block_size, device=data.device)  # (B, T): positions of the inputs
    return data[idx], data[idx + 1]  # inputs (B, T) and targets (B, T): the next characters


@torch.no_grad()
def estimate_loss(model, splits, config):
    """The mean loss over eval_iters batches of each split. The batches come from a generator
    seeded the same way at every evaluation: two evaluations differ only because the model did."""
    model.eval()
    out = {}
    for name, data in splits.items():
        generator = torch.Generator(device=data.device).manual_seed(config.seed)
        losses = torch.zeros(config.eval_iters, device=data.device)
        for k in range(config.eval_iters):
            xb, yb = get_batch(data, config.batch_size, config.block_size, generator)
            _, loss = model(xb, yb)
            losses[k] = loss  # stays on the device: no waiting for the GPU batch by batch
        out[name] = losses.mean().item()
    model.train()
    return out


def choose_device(name):
    """--device auto: an NVIDIA GPU (cuda) if there is one, else Apple's GPU (mps), else the CPU."""
    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def train(config):
    """Train a fresh BabyGPT on config.data. Returns (model, tokenizer, the evaluations)."""
    check_config(config)  # plumbing: refuse impossible settings before any time is spent
    keep_freed_memory()  # plumbing: on Linux, a faster step on the CPU (see its docstring)
    text = read_corpus(config)  # the corpus: all its ci in one string (plumbing: checked)
    tokenizer = Tokenizer(text)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)  # (N,): every character's id
    n = int(0.9 * len(data))  # the first 90% to train on, the last 10% to check generalisation
    device = choose_device(config.device)
    splits = {"train": data[:n].to(device), "val": data[n:].to(device)}  # batches are cut there

    torch.manual_seed(config.seed)
    model = BabyGPT(config, tokenizer.vocab_size).to(device)
    if config.compile:
        model.compile()  # in place: the state_dict keeps its names, so checkpoints stay plain
    # fused: the whole AdamW update in one kernel per step, not a dozen passes over every tensor.
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, fused=True)
    # Cosine decay to a tenth of the learning rate: big steps early, small ones to settle.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, config.max_iters, eta_min=config.learning_rate / 10)
    # --dtype bfloat16: the forward pass in bfloat16 where torch deems it safe. --dtype tf32:
    # CUDA matmuls round their inputs to 10 bits, for this run only (put back below).
    autocast = torch.autocast(device, torch.bfloat16, enabled=config.dtype == "bfloat16")
    users_precision = torch.get_float32_matmul_precision()
    if config.dtype == "tf32":
        torch.set_float32_matmul_precision("high")
    # Plumbing: the log prints each evaluation and saves it in --out-dir, held till the end.
    with TrainingLog(config, model, tokenizer, device, VERSION, CONCEPT) as log:
        for step in tqdm(range(config.max_iters), desc=VERSION, disable=None):  # a bar in terminals
            if step % config.eval_interval == 0:
                log.evaluation(step, estimate_loss(model, splits, config))  # print; save ckpt.pt
            xb, yb = get_batch(splits["train"], config.batch_size, config.block_size)  # 1. a batch
            with autocast:
                _, loss = model(xb, yb)  # 2. forward: the mean cross-entropy, a scalar
            optimizer.zero_grad(set_to_none=True)  # 3. clear the previous step's gradients
            loss.backward()  # 4. backward: the loss's gradient for every parameter
            optimizer.step()  # 5. step: AdamW moves every parameter against its gradient
            schedule.step()  # the learning rate for the next step
            if stop_requested.is_set():  # plumbing: Ctrl-C or SIGTERM; stop after this step, save
                break
        log.evaluation(step + 1, estimate_loss(model, splits, config))  # after step + 1 updates
    torch.set_float32_matmul_precision(users_precision)
    return model, tokenizer, log.history


def write_samples(model, tokenizer, config):
    """One sample per prompt; each starts with its prompt. Seeded, so reruns match."""
    device = next(model.parameters()).device
    torch.manual_seed(config.seed)
    model.eval()
    samples = []
    for prompt in config.prompt:
        idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)  # (1, T)
        # --compile is for training: here the context grows a character at a time, and each new
        # length would be compiled anew, for longer than sampling takes.
        with torch.compiler.set_stance("force_eager"):
            out = model.generate(idx, config.max_new_tokens, config.temperature, config.top_k)
        samples.append(tokenizer.decode(out[0].tolist()))  # out: (1, T + max_new_tokens)
    return samples


# ==============================================================================================
# Plumbing: you may skip from here on. One-line errors, checkpoints, metrics, the loss plot,
# Ctrl-C and the command line: none of it changes what the model learns.
# ==============================================================================================

SAMPLE_SEPARATOR = "\n" + "=" * 40 + "\n"  # between samples in samples.txt (a ci has blank lines)
RUN_FILES = ("ckpt.pt", "metrics.json", "loss.png", "samples.txt")  # what a run writes in out_dir
# Set by main()'s handler for Ctrl-C (SIGINT) and SIGTERM; train() reads it after every step.
stop_requested = threading.Event()


class BabyGPTError(Exception):
    """A problem the user can fix: main() prints it as one line and exits with status 2 or 1."""

    def __init__(self, message, status=2):  # 2: bad input; 1: the run failed
        super().__init__(message)
        self.status = status


def require(ok, message, status=2):
    if not ok:
        raise BabyGPTError(message, status)


def flag(name):
    """The command-line flag of a Config field: block_size -> --block-size."""
    return "--" + name.replace("_", "-")


def resolve_out_dir(config):
    """--out-dir, or runs/<this script's name> beside this script."""
    if config.out_dir:
        return Path(config.out_dir).expanduser()
    here = Path(__file__).resolve()
    return here.parent / "runs" / here.stem


# ---- Checking the settings, the paths, the corpus and the device

def check_config(config):
    """Refuse settings that cannot work, each with a one-line reason, before any time is spent."""
    check_hyperparameters(config)
    require(0 <= config.seed < 2**64, f"--seed must be between 0 and 2**64 - 1, not {config.seed}")
    require(0 < config.max_new_tokens < 2**31,
            f"--max-new-tokens must be between 1 and 2**31 - 1, not {config.max_new_tokens}")
    # logits / temperature must not overflow: below 0.001 the scores leave float32's range.
    require(1e-3 < config.temperature < math.inf,
            f"--temperature must be finite and greater than 0.001, not {config.temperature}")
    require(config.top_k is None or config.top_k > 0,
            f"--top-k must be greater than 0, not {config.top_k}")
    require(config.prompt and all(config.prompt), "--prompt must not be empty")
    check_path(config.data, "--data")
    check_path(config.out_dir, "--out-dir")
    check_device(config)
    check_out_dir(config)


def check_hyperparameters(config):
    """Sizes and counts from 1 to their largest, a learning rate that float32 can take, and sizes
    the model can be built with (for flags, and for the settings a checkpoint holds)."""
    for hyperparameter in fields(Hyperparameters):
        name, value = flag(hyperparameter.name), getattr(config, hyperparameter.name)
        require(0 < value < math.inf, f"{name} must be finite and greater than 0, not {value}")
        largest = hyperparameter.metadata["largest"]
        require(value <= largest, f"{name} {value} is too large: at most {largest}")
    check_model_sizes(config)


def check_model_sizes(config):
    """Can BabyGPT be built at these sizes? Asked on the meta device, which allocates nothing. The
    model raises ValueError for sizes it cannot use (from v4 on: n_head must divide n_embd), torch
    RuntimeError for a tensor with more elements than it can count."""
    try:
        with torch.device("meta"):
            BabyGPT(config, vocab_size=1)
    except (ValueError, RuntimeError) as err:
        raise BabyGPTError(f"{err}; choose other sizes (see --help)") from None


def check_path(name, option):
    """A path from the command line must be printable and storable (UTF-8), and a ~ must expand."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # on Linux, bytes that are not UTF-8 arrive as lone surrogates
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise BabyGPTError(f"{option} {shown}: the name is not UTF-8 (from a zip made on a GBK "
                           "system?); rename it with UTF-8 characters") from None
    try:
        Path(name).expanduser()
    except RuntimeError:  # ~someone, and no such user
        raise BabyGPTError(f"{option} {name}: cannot expand ~ (no such user)") from None


def check_device(config):
    device = choose_device(config.device)
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


def check_out_dir(config):
    out_dir = resolve_out_dir(config)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()  # can this process write there?
    except OSError as err:
        raise BabyGPTError(f"cannot write to --out-dir {out_dir}: {err.strerror}") from None


def read_corpus(config):
    """The text of --data, checked: a readable file, UTF-8, not empty, long enough for --block-size,
    and using every --prompt character. A relative path is tried from the working directory, then
    beside this script, so the script finds data/songci.txt wherever it is run from."""
    path = Path(config.data).expanduser()
    beside_script = Path(__file__).parent / config.data
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
                           "comes with the project; data/prepare.py rebuilds it)") from None
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
    in again: a v4 step took 17.6 ms on a 2-core CPU, with this 12.6 (benchmarks/step_floor.py).
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
    earlier run's files are first moved to earlier/, so that no trained model is overwritten."""

    def __init__(self, config, model, tokenizer, device, version, concept):
        self.config, self.model, self.chars = config, model, "".join(tokenizer.chars)
        self.out_dir = resolve_out_dir(config)
        self.title = f"BabyGPT {version}: {concept}"
        self.history = []
        self.start = time.perf_counter()
        n_params = sum(p.numel() for p in model.parameters())
        self.about = {"version": version, "config": asdict(config), "device": device,
                      "torch": str(torch.__version__), "parameters": n_params}
        print(f"{self.title} | device {device} | torch {torch.__version__}")
        print(f"corpus {config.data}: vocabulary {tokenizer.vocab_size:,} | "
              f"parameters {n_params:,}")
        print(f"ckpt.pt, metrics.json, loss.png go to {self.out_dir}")

    def __enter__(self):
        self.lock = lock_folder(self.out_dir)
        try:
            move_earlier_run_aside(self.out_dir)
        except BabyGPTError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exception):
        if self.lock:
            self.lock.close()  # closing the lock file releases the lock

    def evaluation(self, step, losses):
        """Print the losses after `step` updates; save the model, the history and the plot."""
        lr = self.config.learning_rate
        saved = (f"the last good checkpoint is {self.out_dir / 'ckpt.pt'} (step "
                 f"{self.history[-1]['step']})" if self.history else "no checkpoint was saved")
        require(math.isfinite(losses["train"]) and math.isfinite(losses["val"]),
                f"the loss became {losses['train']} by step {step}: the learning rate ({lr:g}) "
                f"is probably too high; try --learning-rate {lr / 10:g}; {saved}", status=1)
        elapsed = time.perf_counter() - self.start
        tqdm.write(f"step {step:>6} | train {losses['train']:.4f} | val {losses['val']:.4f} | "
                   f"{elapsed:7.1f}s")
        self.history.append({"step": step, "train_loss": losses["train"],
                             "val_loss": losses["val"], "elapsed": elapsed})
        checkpoint = {**self.about, "step": step, "chars": self.chars,
                      "model": self.model.state_dict()}  # tensors and plain types only
        write_file(self.out_dir / "ckpt.pt", torch_bytes(checkpoint))
        tokens = step * self.config.batch_size * self.config.block_size
        final = {**self.history[-1], "wall_seconds": elapsed, "tokens_per_second": tokens / elapsed,
                 "interrupted": step < self.config.max_iters}
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

def load_checkpoint(config):
    """The model saved in --out-dir, checked as input from outside. Returns (model, tokenizer)."""
    check_config(config)
    path = resolve_out_dir(config) / "ckpt.pt"
    require(path.is_file(), f"--sample-only: no checkpoint at {path}; train first or set --out-dir")
    device = choose_device(config.device)
    try:
        state = torch.load(path, map_location=device, weights_only=True)  # never runs code
    except pickle.UnpicklingError:  # how weights_only refuses anything but tensors and plain types
        raise BabyGPTError(f"{path} refused: loading it could run arbitrary code; use only "
                           "checkpoints this project wrote") from None
    except Exception as err:  # truncated, corrupt or not a torch file: torch raises several types
        raise BabyGPTError(f"{path} is corrupt or truncated ({type(err).__name__})") from None
    version = state.get("version") if isinstance(state, dict) else None
    require(version == VERSION, f"{path} is not a BabyGPT {VERSION} checkpoint (it was written by "
            f"{version or 'another program'}); use another --out-dir")
    if config.data != Config.data:  # a corpus given on purpose must be the one it learned from
        corpus_chars = "".join(Tokenizer(read_corpus(config)).chars)
        require(state.get("chars") == corpus_chars, f"{path} was trained on another vocabulary "
                f"than {config.data}; give no --data, or the one it used")
    try:  # a hand-edited or damaged file may lack any field, or hold any value in it
        saved = Config(**state["config"])
        check_hyperparameters(saved)
        tokenizer = Tokenizer(state["chars"])  # the vocabulary it was trained with, as saved
        model = BabyGPT(saved, tokenizer.vocab_size).to(device)
        model.load_state_dict(state["model"])
        step = int(state["step"])
    except BabyGPTError as err:
        raise BabyGPTError(f"{path} holds settings this script refuses: {err}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:  # fields, types or shapes
        raise BabyGPTError(f"{path} does not fit this script's model ({err!r:.80})") from None
    require(all(p.isfinite().all() for p in model.parameters()), f"{path} holds weights that are "
            "NaN or infinite, which cannot be sampled from; train again")
    check_prompts(config, tokenizer.chars)
    print(f"BabyGPT {VERSION}: {CONCEPT} | loaded step {step} from {path}")
    return model, tokenizer


# ---- The command line

class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (argparse's own also prints the usage)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser():
    """One flag per Config field, with the field's help and default: block_size -> --block-size."""
    parser = OneLineErrorParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for option in fields(Config):
        name, default, text = flag(option.name), option.default, option.metadata["help"]
        if option.name == "prompt":  # repeatable; when absent, Config's default (not None)
            parser.add_argument(name, action="append", default=argparse.SUPPRESS,
                                help=f"{text} (default: {' '.join(default)})")
        elif option.name == "top_k":  # an int, or None for no limit
            parser.add_argument(name, type=int, default=None, help=text)
        elif isinstance(default, bool):  # a switch: off unless given
            parser.add_argument(name, action="store_true", help=text)
        else:  # parsed as the type of its default: int, float or str
            parser.add_argument(name, type=type(default), default=default, help=text,
                                choices=option.metadata["choices"])
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
    signal.signal(signum, signal.default_int_handler)  # a second one interrupts at once
    stop_requested.set()
    tqdm.write(f"{signal.Signals(signum).name}: finishing this step, then saving (send it again "
               "to stop at once)")


def is_out_of_memory(err):
    """CUDA and MPS raise torch.OutOfMemoryError; the CPU allocator raises a plain RuntimeError
    whose words are the only sign."""
    return isinstance(err, torch.OutOfMemoryError) or "can't allocate memory" in str(err)


def is_compile_failure(err):
    """--compile: torch.compile's own modules raise it (no C++ compiler, an unsupported device)."""
    return type(err).__module__.startswith(("torch._dynamo", "torch._inductor"))


def main(argv=None):
    config = Config(**vars(build_parser().parse_args(argv)))
    stop_requested.clear()  # not set by an earlier call in this process
    try:
        if config.sample_only:
            model, tokenizer = load_checkpoint(config)
        else:
            with stop_on_signals():
                model, tokenizer, _ = train(config)
        samples = write_samples(model, tokenizer, config)
        out_dir = resolve_out_dir(config)
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
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # torch is loaded: Ctrl-C as usual
    sys.exit(main())
