"""Every character of a text scored by a model: the probability it gave the true next character.

    logprobs = character_logprobs(model, tokenizer.encode(text))   # (len(text) - 1,)
    kinds = character_kinds(text)                                   # one kind per scored character

Each character is predicted from the block_size characters before it (fewer at the text's
start), exactly as the model reads during training. Used by tools/compare_versions.py, notebook
08 and the explorer: one definition of "the model's probability of this character".
"""

import torch
from torch.nn import functional as F

# What a character is, in a ci: the first of these that applies.
KINDS = ("mark or line end", "tune name", "clause opening", "repeated", "other")


@torch.no_grad()
def character_logprobs(model, ids, chunk=256):
    """log p(ids[i] | the up to block_size ids before it) for i = 1 .. len(ids) - 1: (N - 1,)."""
    model.eval()
    device = next(model.parameters()).device
    ids = torch.as_tensor(ids, device=device)  # (N,)
    T = model.block_size
    opening = ids[:T]  # the first T: one window, each position predicting the next
    logits, _ = model(opening[None])  # (1, t, V)
    scores = [F.log_softmax(logits[0, :-1].float(), dim=-1).gather(-1, opening[1:, None])[:, 0]]  # (t - 1,)
    if len(ids) > T:
        windows = ids.unfold(0, T, 1)[:-1]  # (N - T, T): the T ids before each id from position T on
        targets = ids[T:]  # (N - T,)
        for start in range(0, len(windows), chunk):
            logits, _ = model(windows[start:start + chunk])  # (c, T, V)
            last = F.log_softmax(logits[:, -1].float(), dim=-1)  # (c, V): each window's last position predicts
            scores.append(last.gather(-1, targets[start:start + chunk, None])[:, 0])  # (c,)
    return torch.cat(scores).cpu()


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
