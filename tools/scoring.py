"""Every character of a text scored by a model: the probability it gave the true next character.

    logprobs = character_logprobs(model, tokenizer.encode(text))   # (len(text) - 1,)
    kinds = character_kinds(text)                                   # one kind per scored character
    weights = attention_weights(model, tokenizer.encode(text))      # {(layer, head): (T, T)}

Each character is predicted from the block_size characters before it (fewer at the text's
start), exactly as the model reads during training. Used by the comparison's measures
(tools/measures.py), notebook 08 and the explorer (tools/explore.py): one definition of "the
model's probability of this character", computed by the scripts' own model classes.
"""

import contextlib

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

# What a character is, in a ci: the first of these that applies.
KINDS = ("mark or line end", "tune name", "clause opening", "repeated", "other")


@torch.no_grad()
def next_logprobs(model, ids, chunk=256):
    """log p(. | the up to block_size ids before position i) for i = 1 .. N - 1: (N - 1, V), on
    the CPU."""
    model.eval()
    device = next(model.parameters()).device
    ids = torch.as_tensor(ids, device=device)  # (N,)
    T = model.block_size
    logits, _ = model(ids[None, :T])  # (1, t, V): the first T, one window, each position predicting
    rows = [F.log_softmax(logits[0, :-1].float(), dim=-1).cpu()]  # (t - 1, V)
    if len(ids) > T:
        # (N - T, T): the T ids before each id from position T on
        windows = ids.unfold(0, T, 1)[:-1]
        with last_position_only(model):
            for start in range(0, len(windows), chunk):
                # (c, 1, V): each window's last position
                logits, _ = model(windows[start:start + chunk])
                rows.append(F.log_softmax(logits[:, -1].float(), dim=-1).cpu())  # (c, V)
    return torch.cat(rows)


@contextlib.contextmanager
def last_position_only(model):
    """Inside this block the output layer (every version's lm_head) is given only the last
    position of each window: a window of T positions is read to score one character, and the
    (c, T, V) logits of every position would be T times the work (and memory) of the (c, 1, V)."""
    handle = model.lm_head.register_forward_pre_hook(keep_last_position)
    try:
        yield
    finally:
        handle.remove()


def keep_last_position(module, inputs):
    x, = inputs  # (c, T, C)
    return (x[:, -1:],)  # (c, 1, C): what lm_head is given instead


def character_logprobs(model, ids, chunk=256):
    """log p(ids[i] | the up to block_size ids before it) for i = 1 .. len(ids) - 1: (N - 1,)."""
    targets = torch.as_tensor(ids)[1:, None].cpu()  # (N - 1, 1)
    return next_logprobs(model, ids, chunk).gather(-1, targets)[:, 0]


@torch.no_grad()
def attention_weights(model, ids):
    """The attention weights of every head as the model reads ids[:block_size]:
    {(layer, head): (t, t) tensor}, row i the weights position i gives positions 0 .. i. Empty for
    v1, which has no attention. Each attention module's input is caught on its way in (a forward
    pre-hook, PyTorch's way of watching a module); the module is then given it again, and its
    one softmax, the weights, is recorded as it runs (SoftmaxRecorder). The weights are the
    module's own: the tools compute no attention of their own."""
    model.eval()
    device = next(model.parameters()).device
    inputs = {}  # attention module -> (1, t, C): what it read

    def catch_input(module, args):
        inputs[module] = args[0]

    attention = {name: module for name, module in model.named_modules() if is_attention(module)}
    handles = [module.register_forward_pre_hook(catch_input) for module in attention.values()]
    try:
        model(torch.as_tensor(ids[:model.block_size], device=device)[None])
    finally:
        for handle in handles:
            handle.remove()
    weights = {}
    for name, module in attention.items():
        _, wei = output_and_weights(module, inputs[module])  # (1, t, t)
        weights[layer_and_head(name)] = wei[0].float().cpu()
    return weights


def output_and_weights(attention, x):
    """What one attention module (v2's SelfAttention, or a Head) returns for x, and the weights
    it used: (out, wei), wei (B, T, T). The module computes one softmax, its weights, and
    SoftmaxRecorder keeps it as the module runs: the weights are the module's own."""
    with SoftmaxRecorder() as recorder:
        out = attention(x)
    wei, = recorder.results
    return out, wei


class SoftmaxRecorder(TorchFunctionMode):
    """Inside `with SoftmaxRecorder() as recorder:`, the result of every F.softmax call is kept
    in recorder.results, in order. A TorchFunctionMode sees each torch function called while it
    is active; this one lets each run as usual and keeps what softmax returns."""

    def __init__(self):
        super().__init__()
        self.results = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if func is F.softmax:
            self.results.append(result)
        return result


def is_attention(module):
    """A module that computes attention weights: v2's SelfAttention, every later Head."""
    return type(module).__name__ in ("SelfAttention", "Head")


def layer_and_head(name):
    """(layer, head) from a module's name: blocks.2.attention.heads.1 -> (2, 1); attention ->
    (0, 0)."""
    parts = name.split(".")
    layer = int(parts[parts.index("blocks") + 1]) if "blocks" in parts else 0
    head = int(parts[parts.index("heads") + 1]) if "heads" in parts else 0
    return layer, head


def character_kinds(text, block_size=32):
    """The kind (one of KINDS) of text[1], text[2], ...: the characters character_logprobs scores.
    A tune name is a line after a blank line (or the text's first line); a clause opening is the
    first character of a line or after a mark; repeated: the character occurs in the block_size
    characters before it."""
    kinds = []
    title = True  # the text starts with a ci: its first line is the tune's name
    for i in range(1, len(text)):
        ch, before = text[i], text[i - 1]
        if before == "\n":
            title = i >= 2 and text[i - 2] == "\n"
        if not ch.isalpha():
            kinds.append(KINDS[0])
        elif title:
            kinds.append(KINDS[1])
        elif not before.isalpha():
            kinds.append(KINDS[2])
        elif ch in text[max(0, i - block_size):i]:
            kinds.append(KINDS[3])
        else:
            kinds.append(KINDS[4])
    return kinds


def loss_by_kind(logprobs, kinds):
    """Mean loss (nats, -log p) of the characters of each kind: {kind: (loss, count)}."""
    found = {}
    for kind in KINDS:
        picked = [-float(lp) for lp, k in zip(logprobs, kinds) if k == kind]
        if picked:
            found[kind] = (sum(picked) / len(picked), len(picked))
    return found
