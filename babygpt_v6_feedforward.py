"""BabyGPT v6: a feed-forward network, in a Block.

The one concept this version adds to v5: after attention, a small network applied to each
position on its own: Linear (n_embd -> 4 * n_embd) -> ReLU -> Linear (back to n_embd), with its
own residual. Attention is communication: each character gathers from the earlier ones. The
feed-forward network is computation: each position then works on what it gathered, alone. The
two, each added to x, make a `Block`, the unit that v7 stacks. v5's attention had only linear
maps and one softmax between the embeddings and the logits; the ReLU lets the model compute
functions of what it gathered that no linear map can.

Run it:
    python babygpt_v6_feedforward.py            # train on data/songci.txt, then write ci
    python babygpt_v6_feedforward.py --help     # every hyperparameter is a flag
    diff babygpt_v5_residual.py babygpt_v6_feedforward.py   # exactly what this version adds
"""

import argparse
import contextlib
import dataclasses
import inspect
import json
import math
import pickle
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
import torch.nn as nn
from matplotlib.figure import Figure
from torch.nn import functional as F
from tqdm import tqdm

VERSION = "v6"
CONCEPT = "feed-forward network"


@dataclasses.dataclass
class Hyperparameters:
    """The numbers that shape the model and its training: the same defaults in every version."""
    batch_size: int = 16  # sequences per training step (B)
    block_size: int = 32  # context length in characters (T)
    n_embd: int = 64  # embedding size (C)
    n_head: int = 4  # attention heads; must divide n_embd
    learning_rate: float = 5e-3  # AdamW's learning rate, decayed along a cosine to a tenth
    max_iters: int = 5000  # training steps
    eval_interval: int = 500  # steps between evaluations
    eval_iters: int = 50  # batches per split in each evaluation


@dataclasses.dataclass
class Config(Hyperparameters):
    """The hyperparameters, plus where the data comes from and what to do with the results."""
    data: str = "data/songci.txt"  # UTF-8 corpus; a relative path is also tried beside the script
    device: str = "auto"  # auto picks cuda, then mps, then cpu
    seed: int = 1337  # random seed for weights, batches and sampling
    prompt: tuple[str, ...] = ("春江", "明月", "往事")  # a sample's opening; repeat for more
    max_new_tokens: int = 100  # characters to generate after each prompt
    temperature: float = 1.0  # below 1: safer choices, above 1: wilder ones (at least 0.001)
    top_k: int | None = None  # sample only from the k likeliest characters
    out_dir: str = ""  # for ckpt.pt, metrics.json, loss.png, samples.txt; "" means runs/<script>
    sample_only: bool = False  # skip training: load ckpt.pt from --out-dir and generate
    dtype: str = "float32"  # tf32: faster CUDA matmuls, rounded inputs; bfloat16: autocast (GPU)
    compile: bool = False  # torch.compile the model: a slow first step, then faster ones (GPU)


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
    """Several heads in parallel, concatenated, then projected: what attention adds to x."""

    def __init__(self, num_heads, n_embd, head_size, block_size):
        super().__init__()
        # A ModuleList (not a Python list) registers each head's parameters with the model.
        self.heads = nn.ModuleList(Head(n_embd, head_size, block_size) for _ in range(num_heads))
        self.proj = nn.Linear(head_size * num_heads, n_embd)  # W_O: back into the residual stream

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)  # num_heads x (B, T, hs) -> (B, T, C)
        return self.proj(out)  # (B, T, C)


class FeedForward(nn.Module):
    """The same small MLP at every position: each character works alone on what it gathered."""

    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),  # (B, T, C) -> (B, T, 4C): wider, room to compute
            nn.ReLU(),  # (B, T, 4C): the nonlinearity; without it two Linears are one
            nn.Linear(4 * n_embd, n_embd),  # (B, T, 4C) -> (B, T, C): back to x's channels
        )

    def forward(self, x):
        return self.net(x)  # (B, T, C)


class Block(nn.Module):
    """Communication, then computation: attention, then the feed-forward network, each added."""

    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        head_size = n_embd // n_head
        self.attention = MultiHeadAttention(n_head, n_embd, head_size, block_size)
        self.feed_forward = FeedForward(n_embd)

    def forward(self, x):
        x = x + self.attention(x)  # (B, T, C): gather from the earlier characters
        x = x + self.feed_forward(x)  # (B, T, C): then think about it, position by position
        return x


class BabyGPT(nn.Module):
    """Token + position embeddings -> a Block (attention, feed-forward) -> next-character logits."""

    def __init__(self, config, vocab_size):
        super().__init__()
        assert config.n_embd % config.n_head == 0, "each head gets n_embd // n_head channels"
        self.block_size = config.block_size
        self.token_embedding = nn.Embedding(vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.block = Block(config.n_embd, config.n_head, config.block_size)
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
        x = self.block(x)  # (B, T, C): attention and feed-forward, each added to x
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
            if top_k is not None:
                kth_best = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]  # (B, 1)
                logits = logits.masked_fill(logits < kth_best, float("-inf"))  # (B, vocab_size)
            probs = F.softmax(logits, dim=-1)  # (B, vocab_size)
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T + 1)
        return idx


# ---- Training and generation: the same text in every version (tests/test_harness_identity.py)

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
    """Mean loss on the same (seeded) eval_iters * batch_size windows of each split, in chunks."""
    model.eval()
    means = {}
    for name, data in splits.items():
        chunk = max(1, (128 if data.device.type == "cpu" else 16384) // config.block_size)
        generator = torch.Generator(device=data.device).manual_seed(config.seed)
        x, y = get_batch(data, config.eval_iters * config.batch_size, config.block_size, generator)
        total = sum(model(xc, yc)[1] * len(xc) for xc, yc in zip(x.split(chunk), y.split(chunk)))
        means[name] = total / len(x)  # (): left on the device; .item() below waits for it once
    model.train()
    return {name: mean.item() for name, mean in means.items()}


def train(config, should_stop=lambda: False):
    """Train a fresh BabyGPT on config.data. Returns (model, tokenizer, the evaluations)."""
    device, text = check_config(config)  # plumbing: the corpus, and --device auto resolved
    tokenizer = Tokenizer(text)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long, device=device)  # (N,)
    n = int(0.9 * len(data))  # the first 90% to train on, the last 10% to check generalisation
    splits = {"train": data[:n], "val": data[n:]}

    torch.manual_seed(config.seed)
    model = BabyGPT(config, tokenizer.vocab_size).to(device)
    # fused: the whole AdamW update in one kernel per step, not a dozen passes over every tensor.
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, fused=True)
    # Cosine decay to a tenth of the learning rate: big steps early, small ones to settle.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, config.max_iters, eta_min=config.learning_rate / 10)
    run = Run(config, model, tokenizer, len(text), VERSION, CONCEPT)  # plumbing: --dtype, saving

    with run:  # at the end, also on an error: closes the progress bar, undoes --dtype tf32
        for step in range(config.max_iters + 1):  # step: the number of updates made so far
            done = step == config.max_iters or should_stop()  # should_stop: Ctrl-C was pressed
            if step % config.eval_interval == 0 or done:
                with run.autocast:  # evaluation: print the losses, save the run's files
                    run.evaluation(step, estimate_loss(model, splits, config))
            if done:
                break
            xb, yb = get_batch(splits["train"], config.batch_size, config.block_size)  # 1. batch
            with run.autocast:  # bfloat16 arithmetic with --dtype bfloat16; otherwise no change
                _, loss = model(xb, yb)  # 2. forward: the mean cross-entropy, a scalar
            optimizer.zero_grad(set_to_none=True)  # 3. clear the previous step's gradients
            loss.backward()  # 4. backward: the loss's gradient for every parameter
            optimizer.step()  # 5. step: AdamW moves every parameter against its gradient
            schedule.step()  # the learning rate for the next step
            run.bar.update()
    return model, tokenizer, run.history


def write_samples(model, tokenizer, config):
    """One sample per prompt; each starts with its prompt. Seeded, so reruns match."""
    device = next(model.parameters()).device
    torch.manual_seed(config.seed)
    model.eval()
    samples = []
    for prompt in config.prompt:
        idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)  # (1, T)
        out = model.generate(idx, config.max_new_tokens, config.temperature, config.top_k)
        samples.append(tokenizer.decode(out[0].tolist()))  # out: (1, T + max_new_tokens)
    return samples


# ==============================================================================================
# Plumbing: you may skip from here on. One-line errors, checkpoints, metrics, the loss plot,
# Ctrl-C and the command line: none of it changes what the model learns.
# ==============================================================================================

CHOICES = {"device": ["auto", "cuda", "mps", "cpu"], "dtype": ["float32", "tf32", "bfloat16"]}
SAMPLE_SEPARATOR = "\n" + "=" * 40 + "\n"  # between samples in samples.txt (a ci has blank lines)


class BabyGPTError(Exception):
    """A problem the user can fix: main() prints it as one line and exits with status 2 or 1."""

    def __init__(self, message, status=2):  # 2: bad input; 1: the run failed
        super().__init__(message)
        self.status = status


def require(ok, message, status=2):
    if not ok:
        raise BabyGPTError(message, status)


def resolve_out_dir(config):
    here = Path(__file__).resolve()
    return Path(config.out_dir).expanduser() if config.out_dir else here.parent / "runs" / here.stem


def check_config(config):
    """Refuse what cannot work, before any time is spent. Returns (device, corpus text); the
    text is None for --sample-only without --data, since ckpt.pt holds the vocabulary."""
    for f in dataclasses.fields(config):  # temperature: logits / temperature must not overflow
        value, low = getattr(config, f.name), 1e-3 if f.name == "temperature" else 0
        require(f.type not in (int, float, int | None) or f.name == "seed" or value is None
                or low < value < math.inf, f"--{f.name.replace('_', '-')} must be finite and "
                f"greater than {low:g}, not {value}")
    lr, n_head = config.learning_rate, getattr(config, "n_head", 1)
    require(lr <= 1e30, f"--learning-rate {lr:g} overflows float32 weights; try 5e-3")
    require(config.n_embd % n_head == 0, f"n_embd ({config.n_embd}) must be divisible by n_head "
            f"({n_head}): each head gets n_embd // n_head channels; try --n-embd {16 * n_head}")
    require(config.prompt and all(config.prompt), "--prompt must not be empty")
    if config.sample_only and config.data == Config.data:
        return check_device(config), None
    # The corpus: a relative path is tried from the working directory, then beside this script.
    path, beside_script = Path(config.data).expanduser(), Path(__file__).parent / config.data
    path = beside_script if not path.exists() and beside_script.exists() else path
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as err:  # missing, a directory, not readable
        raise BabyGPTError(f"cannot read the corpus --data {path}: {err.strerror} (the corpus "
                           "comes with the project; data/prepare.py rebuilds it)") from None
    except UnicodeDecodeError as err:
        raise BabyGPTError(f"{path} is not UTF-8: the byte 0x{raw[err.start]:02x} at offset "
                           f"{err.start} cannot be decoded; save the file as UTF-8") from None
    require(text, f"{path} is empty: a corpus needs text to learn from")
    check_prompts(config, text)
    n_val = len(text) - int(0.9 * len(text))  # the smaller split, as train() makes it
    require(n_val > config.block_size, f"the val split has {n_val} characters, too few for "
            f"--block-size {config.block_size}; use a longer corpus or a smaller block")
    return check_device(config), text


def check_prompts(config, vocabulary):
    """Every prompt character must be in the vocabulary: the corpus's, or a checkpoint's."""
    for prompt in config.prompt:
        unknown = [f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(prompt) if c not in vocabulary]
        require(not unknown, f"--prompt {prompt!r}: not in the vocabulary, the corpus never uses: "
                f"{', '.join(unknown)}; choose characters from the corpus")


def check_device(config):
    """Can this process write to --out-dir, and use --device and --dtype? Returns the device."""
    try:
        (out_dir := resolve_out_dir(config)).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()  # can this process write there?
    except OSError as err:
        raise BabyGPTError(f"cannot write to --out-dir {out_dir}: {err.strerror}") from None
    found = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": 1}
    device = next(d for d in found if found[d]) if config.device == "auto" else config.device
    require(found[device], f"--device {device} is not available: this torch ({torch.__version__}) "
            f"sees no {'CUDA GPU' if device == 'cuda' else 'Apple MPS'} here; use --device auto")
    require(config.dtype != "bfloat16" or device != "cuda" or torch.cuda.is_bf16_supported(),
            "--dtype bfloat16: this GPU does not support bfloat16; use --dtype float32 or tf32")
    return device


class Run(contextlib.AbstractContextManager):
    """For train(): --dtype, --compile, a progress bar (in terminals), each evaluation's output."""

    def __init__(self, config, model, tokenizer, n_chars, version, concept):
        self.config, self.model, self.chars = config, model, "".join(tokenizer.chars)
        self.title = f"BabyGPT {version}: {concept}"
        self.out_dir, self.history, self.start = resolve_out_dir(config), [], time.perf_counter()
        device = next(model.parameters()).device.type
        if config.dtype == "tf32":  # only when asked, until __exit__: TF32 (10-bit) matmul inputs
            self.precision = torch.get_float32_matmul_precision()
            torch.set_float32_matmul_precision("high")
        self.autocast = torch.autocast(device, torch.bfloat16, enabled=config.dtype == "bfloat16")
        if config.compile:
            model.compile()  # in place: the state_dict keeps its names, so checkpoints stay plain
        n_params = sum(p.numel() for p in model.parameters())
        self.about = {"version": version, "config": dataclasses.asdict(config), "device": device,
                      "torch": str(torch.__version__), "parameters": n_params}
        print(f"{self.title} | device {device} | torch {torch.__version__}\ncorpus "
              f"{config.data}: {n_chars:,} characters, vocabulary {tokenizer.vocab_size:,} | "
              f"parameters {n_params:,}\nckpt.pt, metrics.json, loss.png go to {self.out_dir}")
        self.bar = tqdm(total=config.max_iters, desc=version, unit="step", disable=None)

    def __exit__(self, *exc):
        self.bar.close()
        if self.config.dtype == "tf32":
            torch.set_float32_matmul_precision(self.precision)

    def evaluation(self, step, losses):
        lr, ckpt = self.config.learning_rate, self.out_dir / "ckpt.pt"
        require(all(math.isfinite(loss) for loss in losses.values()), f"the loss became "
                f"{losses['train']} by step {step}: the learning rate ({lr:g}) is probably too "
                f"high; try --learning-rate {lr / 10:g}. The last good checkpoint is {ckpt}", 1)
        wall = time.perf_counter() - self.start
        tqdm.write(f"step {step:>6} | train {losses['train']:.4f} | val {losses['val']:.4f} | "
                   f"{wall:7.1f}s")
        self.history.append({"step": step, "train_loss": losses["train"],
                             "val_loss": losses["val"], "elapsed": wall})
        state = {**self.about, "step": step, "chars": self.chars, "model": self.model.state_dict()}
        atomic_write(ckpt, lambda tmp: torch.save(state, tmp))  # tensors and plain types only
        tokens = step * self.config.batch_size * self.config.block_size
        final = {**self.history[-1], "wall_seconds": wall, "tokens_per_second": tokens / wall,
                 "interrupted": step < self.config.max_iters}
        metrics = {**self.about, "history": self.history, "final": final}
        text = json.dumps(metrics, ensure_ascii=False, indent=2) + "\n"
        atomic_write(self.out_dir / "metrics.json", lambda tmp: tmp.write_text(text, "utf-8"))
        fig = Figure(figsize=(7, 4), layout="constrained")  # not pyplot: no GUI, no global state
        ax = fig.add_subplot(title=self.title, xlabel="step", ylabel="cross-entropy loss (nats)")
        ax.plot([h["step"] for h in self.history], [(h["train_loss"], h["val_loss"])
                for h in self.history], marker=".", label=["train", "val"])
        ax.legend()
        atomic_write(self.out_dir / "loss.png", lambda tmp: fig.savefig(tmp, format="png", dpi=150))


def atomic_write(path, write):
    """write(tmp) then rename tmp over path, so a crash never leaves a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(config):
    """For --sample-only: the model saved in --out-dir, checked. Returns (model, tokenizer)."""
    device, text = check_config(config)  # text: None unless --data was given
    path = resolve_out_dir(config) / "ckpt.pt"
    require(path.is_file(), f"--sample-only: no checkpoint at {path}; train first or set --out-dir")
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
    require(text is None or state.get("chars") == "".join(Tokenizer(text).chars), f"{path} was "
            f"trained on another vocabulary than {config.data}; give no --data, or the one it used")
    try:
        tokenizer = Tokenizer(state["chars"])  # the vocabulary it was trained with, as saved
        model = BabyGPT(Config(**state["config"]), tokenizer.vocab_size).to(device)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError) as err:  # fields, keys or shapes this model lacks
        raise BabyGPTError(f"{path} does not fit this script's model ({err!r:.80})") from None
    check_prompts(config, tokenizer.chars)
    print(f"BabyGPT {VERSION}: {CONCEPT} | loaded step {state['step']} from {path}")
    return model, tokenizer


def build_parser():
    """One flag per Config field; its help is the field's comment, so it is written only once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.error = lambda message: parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")
    source = "".join(inspect.getsource(c) for c in Config.__mro__ if dataclasses.is_dataclass(c))
    helps = dict(re.findall(r"^ +(\w+):[^#\n]*# *(.+)$", source, re.MULTILINE))
    for f in dataclasses.fields(Config):
        kwargs = {"help": helps[f.name], "default": f.default}
        if f.type is bool:
            kwargs["action"] = "store_true"
        elif f.name == "prompt":  # repeatable; when absent, Config's default (SUPPRESS: not None)
            kwargs.update(action="append", default=argparse.SUPPRESS,
                          help=f"{helps[f.name]} (default: {' '.join(f.default)})")
        else:
            kwargs.update(type=int if f.name == "top_k" else f.type, choices=CHOICES.get(f.name))
        parser.add_argument("--" + f.name.replace("_", "-"), **kwargs)
    return parser


def main(argv=None):
    config = Config(**vars(build_parser().parse_args(argv)))
    out_dir, stop = resolve_out_dir(config), threading.Event()

    def on_ctrl_c(signum, frame):  # stop training after this step; a second Ctrl-C aborts at once
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop.set()
        tqdm.write("Ctrl-C: finishing this step, then saving (press Ctrl-C again to abort at once)")
    previous_handler = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        if config.sample_only:
            model, tokenizer = load_checkpoint(config)
        else:
            model, tokenizer, _ = train(config, should_stop=stop.is_set)
        samples = write_samples(model, tokenizer, config)
        text = SAMPLE_SEPARATOR.join(samples) + "\n"
        atomic_write(out_dir / "samples.txt", lambda tmp: tmp.write_text(text, "utf-8"))
        print("".join(f"\n{sample}\n" for sample in samples) + f"\nsamples.txt saved in {out_dir}")
        return 130 if stop.is_set() else 0
    except BabyGPTError as err:
        message, status = err, err.status
    except RuntimeError as err:  # torch.OutOfMemoryError on CUDA; on a CPU only the words say it
        if "out of memory" not in str(err) and "can't allocate memory" not in str(err):
            raise  # a bug: keep its traceback
        message, status = ("out of memory: use smaller --batch-size, --block-size or --eval-iters "
                           "(the logits alone hold batch x block x vocabulary numbers)", 1)
    except OSError as err:  # e.g. the disk filled up while saving
        message, status = f"{err}; check the free space and permissions of --out-dir", 1
    except KeyboardInterrupt:  # a second Ctrl-C, or one while sampling: what was saved stays saved
        message, status = f"interrupted; the last checkpoint is in {out_dir}", 130
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
