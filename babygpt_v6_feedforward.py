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

import sys
from dataclasses import dataclass

import plumbing  # the run around the lesson: flags, checks, saving, Ctrl-C (plumbing.py, beside)
from plumbing import setting

import torch
import torch.nn as nn
from torch.nn import functional as F
from tqdm import tqdm

VERSION = "v6"
CONCEPT = "feed-forward network"


@dataclass
class Hyperparameters:
    """The numbers that shape the model and its training: the same defaults in every version."""
    batch_size: int = setting(16, "sequences per training step (B)")
    block_size: int = setting(32, "context length in characters (T)")
    n_embd: int = setting(64, "embedding size (C)")
    n_head: int = setting(4, "attention heads; must divide n_embd", largest=100)
    learning_rate: float = setting(5e-3, "AdamW's learning rate, decayed along a cosine to a tenth",
                                   largest=1e30)  # beyond it, float32 weights overflow
    max_iters: int = setting(5000, "training steps")
    eval_interval: int = setting(500, "steps between evaluations")
    eval_iters: int = setting(50, "batches per split in each evaluation")


@dataclass
class Config(Hyperparameters):
    """The hyperparameters, plus where the data comes from and what to do with the results."""
    data: str = setting("data/songci.txt", "UTF-8 corpus; also looked for beside this script")
    device: str = setting("auto", "auto: cuda, then mps, then cpu", ["auto", "cuda", "mps", "cpu"])
    seed: int = setting(1337, "random seed for weights, batches and sampling")
    prompt: tuple[str, ...] = setting(("春江", "明月", "往事"), "a sample's opening (repeat)")
    max_new_tokens: int = setting(100, "characters to generate after each prompt")
    temperature: float = setting(1.0, "over 0.001; below 1: safer choices, above 1: wilder ones")
    top_k: int | None = setting(None, "sample only from the k likeliest characters")
    out_dir: str = setting("", "for ckpt.pt, metrics.json, loss.png, samples.txt; "
                           "'': runs/<script>")
    sample_only: bool = setting(False, "skip training: load ckpt.pt from --out-dir and generate")
    resume: bool = setting(False, "carry on training from ckpt.pt in --out-dir, exactly where it "
                           "stopped (same settings)")
    dtype: str = setting("float32", "tf32: faster CUDA matmuls; bfloat16: autocast",
                         ["float32", "tf32", "bfloat16"])
    compile: bool = setting(False, "torch.compile the model, for CUDA or a CPU with a C++ compiler "
                            "(not mps): a slow first step, then faster ones")
    threads: int = setting(0, "CPU threads for torch; 0: time a few steps at 1, 2, 4... and keep "
                           "the fastest")


class Head(nn.Module):
    """One head of causal self-attention with learned query, key and value projections."""

    def __init__(self, n_embd, head_size, block_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        # tril is not a parameter: a buffer moves with .to(device) and is saved, but never trained.
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        k = self.key(x)  # (B, T, head_size): what each position offers
        q = self.query(x)  # (B, T, head_size): what each position looks for
        v = self.value(x)  # (B, T, head_size): what each position passes on
        # 1/sqrt(head_size): the scores' spread does not grow with head_size; softmax stays soft.
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, hs) @ (B, hs, T) -> (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))  # (B, T, T): no peeking ahead
        wei = F.softmax(wei, dim=-1)  # (B, T, T): each row sums to 1
        out = wei @ v  # (B, T, T) @ (B, T, hs) -> (B, T, hs)
        return out


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
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head "
                             f"({config.n_head}): each head gets n_embd // n_head channels")
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
            if top_k is not None:  # only the k likeliest characters stay candidates
                logits, candidates = torch.topk(logits, min(top_k, logits.size(-1)))  # (B, k) each
            probs = F.softmax(logits, dim=-1)  # (B, vocab_size), or (B, k) with top_k
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1): a position in probs
            if top_k is not None:
                idx_next = candidates.gather(-1, idx_next)  # (B, 1): the candidate's character id
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T + 1)
        return idx


# ---- Training and generation: the same text in every version (tools/sync_lesson.py)

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


EVAL_SEED = 0  # picks the evaluation's windows; independent of --seed, which picks the model's


@torch.no_grad()
def estimate_loss(model, splits, config):
    """The mean loss over eval_iters batches of each split. The batches come from a generator
    with a seed of its own, EVAL_SEED: every evaluation of every version, at every --seed, scores
    the same held-out characters, so two losses differ only because the models do."""
    model.eval()
    out = {}
    for name, data in splits.items():
        generator = torch.Generator(device=data.device).manual_seed(EVAL_SEED)
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
    """Train a BabyGPT on config.data (--resume: carry one on). Returns (model, tokenizer, the
    evaluations)."""
    text = plumbing.read_corpus(config)  # the corpus: all its ci in one string, checked
    tokenizer = Tokenizer(text)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)  # (N,): every character's id
    # The corpus lists its ci in a random order (data/prepare.py), so the last 10% are whole ci
    # like the others, never trained on: the loss there measures generalisation.
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
    # The log prints each evaluation and saves the model, its losses and their plot in --out-dir,
    # with the optimizer and the schedule: --resume loads them all back and starts at first_step.
    with plumbing.TrainingLog(config, model, optimizer, schedule, tokenizer, device, VERSION,
                              CONCEPT) as log:
        for step in tqdm(range(log.first_step, config.max_iters), desc=VERSION, disable=None):
            if step % config.eval_interval == 0:
                log.evaluation(step, estimate_loss(model, splits, config))  # print; save ckpt.pt
            xb, yb = get_batch(splits["train"], config.batch_size, config.block_size)  # 1. a batch
            with autocast:
                _, loss = model(xb, yb)  # 2. forward: the mean cross-entropy, a scalar
            optimizer.zero_grad(set_to_none=True)  # 3. clear the previous step's gradients
            loss.backward()  # 4. backward: the loss's gradient for every parameter
            optimizer.step()  # 5. step: AdamW moves every parameter against its gradient
            schedule.step()  # the learning rate for the next step
            if plumbing.stop_requested.is_set():  # Ctrl-C or SIGTERM: stop after this step, save
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


if __name__ == "__main__":  # as a command: flags in; checkpoints, samples and one-line errors out
    sys.exit(plumbing.main(sys.modules[__name__]))  # sys.modules[__name__]: this script itself
