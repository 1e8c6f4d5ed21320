"""BabyGPT v2: causal self-attention.

The one concept this version adds to v1: each position looks back. Its output is a
softmax-weighted average of its own embedding and the embeddings of every position before it;
future positions are masked out with a lower-triangular matrix, because when writing a poem the
next character is not yet known. The weights (affinities) come straight from the embeddings,
x . x^T / sqrt(C): characters with similar embeddings attend to each other. There is nothing
new to learn in the attention itself (v3 adds learned projections). Position embeddings are
added to the token embeddings so that the model knows where in the window each character sits.

Run it:
    python babygpt_v2_selfattention.py            # train on data/songci.txt, then write ci
    python babygpt_v2_selfattention.py --help     # every hyperparameter is a flag
    diff babygpt_v1_bigram.py babygpt_v2_selfattention.py   # exactly what this version adds
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
from matplotlib.figure import Figure
from torch.nn import functional as F
from tqdm import tqdm

VERSION = "v2"
CONCEPT = "causal self-attention"


# ----------------------------------------------------------------------------------------------
# The concept: hyperparameters and the model
# ----------------------------------------------------------------------------------------------

@dataclass
class Config:
    # Model and training. The same defaults in every version, so that comparisons are fair.
    batch_size: int = field(default=16, metadata={"help": "sequences per training step"})
    block_size: int = field(default=32, metadata={"help": "context length in characters"})
    max_iters: int = field(default=5000, metadata={"help": "training steps"})
    eval_interval: int = field(default=500, metadata={"help": "steps between evaluations"})
    eval_iters: int = field(default=50, metadata={"help": "batches per split in each evaluation"})
    learning_rate: float = field(default=1e-2, metadata={"help": "AdamW learning rate"})
    n_embd: int = field(default=64, metadata={"help": "embedding size C"})
    # Running: where the data comes from, where results go, what to write at the end.
    data: str = field(default="data/songci.txt", metadata={"help": "UTF-8 corpus (a relative path is also looked up next to this script)"})
    device: str = field(default="auto", metadata={"help": "auto picks cuda, then mps, then cpu", "choices": ["auto", "cuda", "mps", "cpu"]})
    seed: int = field(default=1337, metadata={"help": "random seed for weights, batches and sampling"})
    prompt: list[str] = field(default_factory=lambda: ["春江", "明月", "往事"], metadata={"help": "opening characters of a sample; repeat the flag for several"})
    max_new_tokens: int = field(default=100, metadata={"help": "characters to generate after each prompt"})
    temperature: float = field(default=1.0, metadata={"help": "below 1: safer choices; above 1: wilder ones"})
    top_k: int | None = field(default=None, metadata={"help": "sample only from the k likeliest characters"})
    out_dir: str = field(default="", metadata={"help": "where ckpt.pt, metrics.json, loss.png, samples.txt go (default: runs/<script name> next to the script)"})
    sample_only: bool = field(default=False, metadata={"help": "skip training: load ckpt.pt from --out-dir and generate"})
    dtype: str = field(default="float32", metadata={"help": "float32: exact; tf32: faster CUDA matmuls, rounded inputs; bfloat16: autocast to bf16 (GPU)", "choices": ["float32", "tf32", "bfloat16"]})
    compile: bool = field(default=False, metadata={"help": "torch.compile the model: a slow first step, then faster steps (GPU)"})


class SelfAttention(nn.Module):
    """Causal self-attention with no parameters: affinities are dot products of the inputs."""

    def __init__(self, block_size):
        super().__init__()
        # tril is not a parameter: a buffer moves with .to(device) and is saved, but never trained.
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x, return_weights=False):
        B, T, C = x.shape
        # Scale by 1/sqrt(C) so the scores keep unit variance and softmax stays soft.
        wei = x @ x.transpose(-2, -1) * C**-0.5  # (B, T, C) @ (B, C, T) -> (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # (B, T, T): no peeking ahead
        wei = F.softmax(wei, dim=-1)  # (B, T, T): each row sums to 1
        out = wei @ x  # (B, T, T) @ (B, T, C) -> (B, T, C)
        return (out, wei) if return_weights else out


class BabyGPT(nn.Module):
    """Token + position embeddings -> causal self-attention -> next-character logits."""

    def __init__(self, config, vocab_size):
        super().__init__()
        self.block_size = config.block_size
        self.token_embedding = nn.Embedding(vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.attention = SelfAttention(config.block_size)
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
            idx_cond = idx[:, -self.block_size:]  # (B, <=block_size): the model sees no further back
            logits, _ = self(idx_cond)  # (B, T, vocab_size)
            logits = logits[:, -1, :] / temperature  # (B, vocab_size): the last position predicts
            if top_k is not None:
                kth_best = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]  # (B, 1)
                logits = logits.masked_fill(logits < kth_best, float("-inf"))  # (B, vocab_size)
            probs = F.softmax(logits, dim=-1)  # (B, vocab_size)
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T + 1)
        return idx


# ----------------------------------------------------------------------------------------------
# Training harness: the same text in every version (tests/test_harness_identity.py checks it)
# ----------------------------------------------------------------------------------------------

SAMPLE_SEPARATOR = "\n" + "=" * 40 + "\n"  # between samples in samples.txt (a sample may hold blank lines)


class BabyGPTError(ValueError):
    """Bad input: main() prints the message as one line and exits with status 2."""


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number."""


class Tokenizer:
    """Character level: every distinct character of the corpus is one token id."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, s):
        unknown = [ch for ch in dict.fromkeys(s) if ch not in self.stoi]
        if unknown:
            named = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in unknown)
            raise BabyGPTError(f"not in the vocabulary, the corpus never uses: {named}")
        return [self.stoi[ch] for ch in s]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def script_dir():
    return Path(__file__).resolve().parent


def resolve_input(path_str):
    """A relative path is tried from the working directory, then next to this script."""
    path = Path(path_str).expanduser()
    if path.is_absolute() or path.exists():
        return path
    beside_script = script_dir() / path
    return beside_script if beside_script.exists() else path


def resolve_out_dir(config):
    return Path(config.out_dir).expanduser() if config.out_dir else script_dir() / "runs" / Path(__file__).stem


def load_text(path):
    path = Path(path)
    if not path.exists():
        raise BabyGPTError(f"corpus not found: {path} (build it with data/prepare.py, or pass --data FILE)")
    if path.is_dir():
        raise BabyGPTError(f"--data must be a text file, but {path} is a directory")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BabyGPTError(f"cannot read --data {path}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BabyGPTError(
            f"{path} is not UTF-8: the byte 0x{raw[err.start]:02x} at offset {err.start} cannot be decoded; "
            "save the file as UTF-8"
        ) from None
    if not text:
        raise BabyGPTError(f"{path} is empty: a corpus needs text to learn from")
    return text


def pick_device(name):
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise BabyGPTError(
            f"--device cuda, but this torch ({torch.__version__}) sees no CUDA GPU; "
            "install a CUDA build (README, GPU notes) or use --device auto"
        )
    if name == "mps" and not torch.backends.mps.is_available():
        raise BabyGPTError("--device mps, but Apple's MPS backend is not available here; use --device auto")
    return name


def check_config(config):
    """Refuse settings that cannot train, before any time is spent."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.type in (int, float) and f.name != "seed" and not 0 < value < math.inf:
            raise BabyGPTError(f"--{f.name.replace('_', '-')} must be finite and greater than 0, not {value}")
    if config.learning_rate > 1e30:  # AdamW's first update is about 10 x lr, and must fit in a float32
        raise BabyGPTError(f"--learning-rate {config.learning_rate:g} overflows float32 weights; try 1e-2")
    if config.top_k is not None and config.top_k < 1:
        raise BabyGPTError(f"--top-k must be at least 1, not {config.top_k}")
    if not config.prompt or not all(config.prompt):
        raise BabyGPTError("--prompt must not be empty: give the opening characters of a poem")


def check_prompts(prompts, tokenizer):
    """Fail now, not after training: every prompt character must be in the vocabulary."""
    for prompt in prompts:
        try:
            tokenizer.encode(prompt)
        except BabyGPTError as err:
            raise BabyGPTError(f"--prompt {prompt!r}: {err}; choose characters from the corpus") from None


def get_batch(data, batch_size, block_size, generator=None):
    """Random windows of the corpus, drawn on data's device by index arithmetic (no Python loop)."""
    starts = torch.randint(len(data) - block_size, (batch_size, 1), device=data.device, generator=generator)  # (B, 1)
    idx = starts + torch.arange(block_size, device=data.device)  # (B, T): positions of the inputs
    return data[idx], data[idx + 1]  # inputs (B, T) and targets (B, T), shifted by one


@torch.no_grad()
def estimate_loss(model, splits, batch_size, block_size, eval_iters, seed=0):
    """Mean loss over eval_iters * batch_size random windows of each split; one host sync for all of it.

    The windows come from their own generator, seeded the same every time: every evaluation (and
    every version, with the same seed) is scored on the same text, so the curves show the model
    changing, not the sample.

    The windows go through the model in chunks, not necessarily eval_iters batches: the same text
    and the same mean. A GPU is fastest with few, large calls (every call costs kernel launches); a
    CPU when the logits of one call stay in its cache (measured on 2 cores: 128 tokens a call beat 512 by 1.3-1.4x).
    """
    model.eval()
    means = {}
    for name, data in splits.items():
        chunk = max(1, (128 if data.device.type == "cpu" else 16384) // block_size)  # sequences per call
        generator = torch.Generator(device=data.device).manual_seed(seed)
        x, y = get_batch(data, eval_iters * batch_size, block_size, generator)  # (eval_iters * B, T) each
        total = sum(model(xc, yc)[1] * len(xc) for xc, yc in zip(x.split(chunk), y.split(chunk)))
        means[name] = total / len(x)  # every window has T targets, so this is the mean over all of them
    model.train()
    return {name: mean.item() for name, mean in means.items()}


def atomic_write(path, write):
    """write(tmp_path) then rename over path, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(path, model, tokenizer, config, step):
    state = {
        "version": VERSION,
        "step": step,
        "config": dataclasses.asdict(config),
        "chars": "".join(tokenizer.chars),
        "model": model.state_dict(),
    }  # tensors and plain types only: loadable with weights_only=True
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(config, tokenizer, device):
    """Rebuild the model saved in --out-dir; refuse files that are unsafe, broken or not ours."""
    path = resolve_out_dir(config) / "ckpt.pt"
    if not path.is_file():
        raise BabyGPTError(f"--sample-only: no checkpoint at {path}; train first, or point --out-dir at a run")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about some files it then refuses; our message says enough
            state = torch.load(path, map_location=device, weights_only=True)  # unpickles tensors and plain types only
    except Exception as err:  # torch raises several types for unsafe, truncated or non-torch files
        if "weights_only" in str(err) or "Unsupported global" in str(err):
            raise BabyGPTError(
                f"{path} refused: it holds more than tensors and plain types, and loading it could run arbitrary code; "
                "use only checkpoints this project wrote"
            ) from None
        raise BabyGPTError(f"{path} is corrupt or truncated ({type(err).__name__}); delete it and train again") from None
    if not isinstance(state, dict) or "version" not in state:
        raise BabyGPTError(f"{path} is not a BabyGPT checkpoint; point --out-dir at a folder this script trained into")
    if state["version"] != VERSION:
        raise BabyGPTError(f"{path} was written by BabyGPT {state['version']}, not by this script ({VERSION}); use another --out-dir")
    if state.get("chars") != "".join(tokenizer.chars):
        raise BabyGPTError(f"{path} was trained on a corpus with another vocabulary than {config.data}; pass the --data it was trained on")
    try:
        saved = Config(**state["config"])
        model = BabyGPT(saved, tokenizer.vocab_size).to(device)
        model.load_state_dict(state["model"])
        return model, saved, state["step"]
    except (KeyError, TypeError, RuntimeError) as err:  # keys, config fields or tensor shapes that this script lacks
        raise BabyGPTError(f"{path} does not fit this script's model ({type(err).__name__}); delete it and train again") from None


def plot_losses(history, path, title):
    fig = Figure(figsize=(7, 4), layout="constrained")  # no pyplot: no GUI backend, no global state
    ax = fig.add_subplot()
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["train_loss"] for h in history], marker=".", label="train")
    ax.plot(steps, [h["val_loss"] for h in history], marker=".", label="val")
    ax.set(title=title, xlabel="step", ylabel="cross-entropy loss (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))


def write_samples(model, tokenizer, config, device):
    """One sample per prompt; each starts with its prompt. Seeded, so reruns match."""
    torch.manual_seed(config.seed)
    model.eval()
    samples = []
    for prompt in config.prompt:
        idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)  # (1, T)
        out = model.generate(idx, config.max_new_tokens, config.temperature, config.top_k)  # (1, T + new)
        samples.append(tokenizer.decode(out[0].tolist()))
    return samples


class StopOnCtrlC:
    """The first Ctrl-C asks training to stop after the current step; a second one aborts."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Ctrl-C: finishing this step, then saving (press Ctrl-C again to abort at once)")

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def __call__(self):
        return self.requested


def setup_training(model, config, device):
    """The optimizer, its schedule, and what --dtype and --compile ask for; train() and the benchmark use these."""
    # fused: the whole AdamW update in one kernel per step, not a dozen passes over every tensor.
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, fused=True)
    # Cosine decay to a tenth of the learning rate: big steps early, small ones to settle at the end.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.max_iters, eta_min=config.learning_rate / 10)
    torch.backends.cuda.matmul.allow_tf32 = config.dtype == "tf32"  # float32 matmuls with 10-bit mantissas
    autocast = torch.autocast(device, torch.bfloat16, enabled=config.dtype == "bfloat16")
    forward = torch.compile(model) if config.compile else model  # model itself stays plain for saving
    return optimizer, schedule, autocast, forward


def train_step(forward, optimizer, schedule, autocast, xb, yb):
    """One update on the batch (xb, yb). Returns the loss, left on the device: reading it would sync."""
    with autocast:
        _, loss = forward(xb, yb)  # scalar
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # a gradient for every parameter
    optimizer.step()
    schedule.step()
    return loss


def train(config, should_stop=lambda: False):
    """Train a fresh BabyGPT on config.data. Returns (model, tokenizer, history).

    Every evaluation appends {step, train_loss, val_loss, elapsed} to history and rewrites
    ckpt.pt and metrics.json in the out dir, so a run that stops early keeps what it learned.
    """
    check_config(config)
    device = pick_device(config.device)
    text = load_text(resolve_input(config.data))
    tokenizer = Tokenizer(text)
    check_prompts(config.prompt, tokenizer)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long, device=device)  # (N,)
    n = int(0.9 * len(data))  # first 90% to train on, last 10% to check generalisation
    splits = {"train": data[:n], "val": data[n:]}
    for name, split in splits.items():
        if len(split) <= config.block_size:
            raise BabyGPTError(
                f"the {name} split has {len(split)} characters, too few for --block-size {config.block_size}; "
                "use a longer corpus or a smaller --block-size"
            )
    out_dir = resolve_out_dir(config)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()
    except OSError as err:
        raise BabyGPTError(f"cannot write to --out-dir {out_dir}: {err.strerror}; choose another folder") from None

    torch.manual_seed(config.seed)
    model = BabyGPT(config, tokenizer.vocab_size).to(device)
    optimizer, schedule, autocast, forward = setup_training(model, config, device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"BabyGPT {VERSION}: {CONCEPT} | device {device} | torch {torch.__version__}")
    print(f"corpus {config.data}: {len(text):,} characters, vocabulary {tokenizer.vocab_size:,} | parameters {n_params:,}")

    history = []
    start = time.perf_counter()
    ckpt_path, metrics_path = out_dir / "ckpt.pt", out_dir / "metrics.json"

    def evaluate(step):
        with autocast:
            losses = estimate_loss(forward, splits, config.batch_size, config.block_size, config.eval_iters, config.seed)
        if not all(math.isfinite(v) for v in losses.values()):
            raise TrainingDiverged(
                f"the loss became {losses['train']} by step {step}: the learning rate "
                f"({config.learning_rate:g}) is probably too high; try --learning-rate {config.learning_rate / 10:g}. "
                f"The last good checkpoint is {ckpt_path}"
            )
        history.append({"step": step, **{f"{k}_loss": v for k, v in losses.items()}, "elapsed": time.perf_counter() - start})
        tqdm.write(f"step {step:>6} | train {losses['train']:.4f} | val {losses['val']:.4f} | {history[-1]['elapsed']:7.1f}s")
        save_checkpoint(ckpt_path, model, tokenizer, config, step)
        write_metrics(metrics_path, config, history, device, n_params, step, start, interrupted=False)

    evaluate(0)
    step, last_log = 0, time.perf_counter()
    bar = tqdm(total=config.max_iters, desc=f"{VERSION} training", unit="step", dynamic_ncols=True)
    try:  # finally: close the bar, so that an error message starts on a line of its own
        for step in range(1, config.max_iters + 1):
            xb, yb = get_batch(splits["train"], config.batch_size, config.block_size)  # (B, T), (B, T)
            loss = train_step(forward, optimizer, schedule, autocast, xb, yb)
            bar.update()
            # Reading loss.item() makes the host wait for the device, so do it twice a second, not every step.
            if time.perf_counter() - last_log > 0.5:
                last_log = time.perf_counter()
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    raise TrainingDiverged(
                        f"the loss became {loss_value} at step {step}: the learning rate ({config.learning_rate:g}) "
                        f"is probably too high; try --learning-rate {config.learning_rate / 10:g}. The last good checkpoint is {ckpt_path}"
                    )
                bar.set_postfix(loss=f"{loss_value:.3f}")
            if step % config.eval_interval == 0 or step == config.max_iters or should_stop():
                evaluate(step)
            if should_stop():
                break
    finally:
        bar.close()

    interrupted = step < config.max_iters
    wall = write_metrics(metrics_path, config, history, device, n_params, step, start, interrupted)
    plot_losses(history, out_dir / "loss.png", f"BabyGPT {VERSION}: {CONCEPT}")
    final = history[-1]
    print(
        f"{'stopped early' if interrupted else 'done'} at step {step}: train {final['train_loss']:.4f} | "
        f"val {final['val_loss']:.4f} | {wall:.1f}s | {step * config.batch_size * config.block_size / wall:,.0f} tokens/s"
    )
    print(f"saved {ckpt_path}, {metrics_path} and {out_dir / 'loss.png'}")
    return model, tokenizer, history


def write_metrics(path, config, history, device, n_params, step, start, interrupted):
    """Write metrics.json for the run so far; returns the wall time it recorded."""
    wall = time.perf_counter() - start
    metrics = {
        "version": VERSION,
        "concept": CONCEPT,
        "config": dataclasses.asdict(config),
        "history": history,
        "final": {
            "step": step,
            "train_loss": history[-1]["train_loss"],
            "val_loss": history[-1]["val_loss"],
            "wall_seconds": wall,
            "tokens_per_second": step * config.batch_size * config.block_size / wall,
            "interrupted": interrupted,
        },
        "parameters": n_params,
        "device": device,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"))
    return wall


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser():
    """One --kebab-case flag per Config field, its default shown in --help."""
    parser = OneLineParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        kwargs = {"help": f.metadata["help"], "default": default}
        if f.type is bool:
            kwargs["action"] = "store_true"
        elif f.type == list[str]:
            # SUPPRESS: no "(default: None)" in --help, and Config's default list when the flag is absent
            kwargs.update(action="append", default=argparse.SUPPRESS, help=f"{f.metadata['help']} (default: {' '.join(default)})")
        else:
            kwargs.update(type=int if f.type == (int | None) else f.type, choices=f.metadata.get("choices"))
        parser.add_argument(flag, **kwargs)
    return parser


def parse_config(argv=None):
    args = vars(build_parser().parse_args(argv))
    return Config(**{k: v for k, v in args.items() if v is not None or k == "top_k"})


def main(argv=None):
    config = parse_config(argv)
    stop = StopOnCtrlC()
    try:
        if config.sample_only:
            check_config(config)
            device = pick_device(config.device)
            tokenizer = Tokenizer(load_text(resolve_input(config.data)))
            model, _, step = load_checkpoint(config, tokenizer, device)
            check_prompts(config.prompt, tokenizer)
            print(f"BabyGPT {VERSION}: {CONCEPT} | loaded step {step} from {resolve_out_dir(config) / 'ckpt.pt'}")
        else:
            with stop:
                model, tokenizer, _ = train(config, should_stop=stop)
            device = next(model.parameters()).device
        samples = write_samples(model, tokenizer, config, device)
        out_path = resolve_out_dir(config) / "samples.txt"
        atomic_write(out_path, lambda tmp: tmp.write_text(SAMPLE_SEPARATOR.join(samples) + "\n", encoding="utf-8"))
    except ValueError as err:  # BabyGPTError, and the model's own checks (e.g. n_embd % n_head)
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except torch.OutOfMemoryError:
        print("error: out of memory on the device; try a smaller --batch-size or --block-size", file=sys.stderr)
        return 1
    except OSError as err:  # e.g. the disk filled up while saving
        print(f"error: {err}; check the free space and permissions of --out-dir", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C, or one while sampling: what was saved stays saved
        print(f"error: interrupted; the last checkpoint is in {resolve_out_dir(config)}", file=sys.stderr)
        return 130
    for sample in samples:
        print("\n" + sample)
    print(f"\nsamples saved to {out_path}")
    return 130 if stop.requested else 0


if __name__ == "__main__":
    sys.exit(main())
