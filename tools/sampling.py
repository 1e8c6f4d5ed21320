"""The tools' sampler: one character at a time, what the model thought of each, and writing in a
tune's form by constrained decoding (masks and forced characters).

    writing = write_in_form(model, tokenizer, template, acrostic="春江花", top_p=0.9, seed=7)
    writing.text, writing.steps[0].candidates, writing.mean_logprob
    write_free(model, tokenizer, writing.prompt, len(writing.steps), seed=7)   # nothing forced

The scripts' generate() draws whole batches on the model's device; this draws one character at
a time on the CPU, so that a rule can mask or force each one and a seed writes the same ci on
every device. Used by tools/write_poem.py, notebook 09 and the explorer.
"""

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, allowed=None, generator=None):
    """One character id drawn from logits (V,), and the probabilities it was drawn from (V,).
    allowed (V,) bool: only these may be drawn. top_k: only the k likeliest allowed ones.
    top_p (nucleus): only the likeliest allowed ones whose probabilities add up to p."""
    logits = logits.float().cpu() / temperature  # (V,): on the CPU, the same on every device
    if allowed is not None:
        logits = logits.masked_fill(~allowed.cpu(), float("-inf"))  # a masked id gets probability 0
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]  # the k-th highest logit
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)  # (V,)
    if top_p is not None:
        sorted_probs, order = torch.sort(probs, descending=True)  # (V,) each
        # (V,): the probability ranked above each
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs
        dropped = order[before >= top_p]  # every id once the kept ones reach p (the first is kept)
        probs[dropped] = 0.0
        probs = probs / probs.sum()
    chosen = int(torch.multinomial(probs, 1, generator=generator))  # an id with probability > 0
    return chosen, probs


@dataclass
class Step:
    """One character written: what it is, and what the model thought of it."""
    char: str
    logprob: float  # the model's own log-probability of it (temperature 1, nothing masked)
    forced: bool  # set by the rules (a mark, a line break, an acrostic character), not sampled
    # the model's ten likeliest characters there: (char, probability, could be drawn)
    candidates: list


@dataclass
class Writing:
    """What a model wrote after a prompt, step by step."""
    prompt: str
    steps: list

    @property
    def written(self):
        """The characters written after the prompt."""
        return "".join(step.char for step in self.steps)

    @property
    def text(self):
        return self.prompt + self.written

    @property
    def mean_logprob(self):
        return sum(step.logprob for step in self.steps) / len(self.steps)


def check_writable(tokenizer, template, acrostic=""):
    """The reasons (a list of lines, empty when none) why this model cannot write this ci."""
    problems = []
    forced = "".join(punctuation for _, punctuation in template.form)  # every mark the rules write
    needed = template.tune + acrostic + forced + "\n"
    outside = sorted({ch for ch in needed if ch not in tokenizer.stoi})
    if outside:
        problems.append(f"not in the model's vocabulary: {' '.join(repr(ch) for ch in outside)}")
    if len(acrostic) > len(template.form):
        problems.append(f"the acrostic has {len(acrostic)} characters and {template.tune} has "
                        f"{len(template.form)} clauses ({template})")
    if any(not ch.isalpha() for ch in acrostic):
        problems.append("an acrostic is Chinese characters only, with no marks or spaces")
    return problems


@torch.no_grad()
def write_in_form(model, tokenizer, template, acrostic="", temperature=1.0, top_k=None, top_p=None,
                  seed=1337):
    """A ci written by the model in the template's form: after the tune's name, clause by clause,
    the characters of a clause are sampled with every mark and line break masked, the template's
    mark (and line break) is forced at its end, and with acrostic each clause opens with the next
    of its characters (藏头: a clause is a 句 of the ci; the data's line breaks are not a unit, as
    浣溪沙's six 句 on five lines show). Returns a Writing; check_writable first."""
    letters = torch.tensor([ch.isalpha() for ch in tokenizer.chars])  # (V,): may stand in a clause
    rules = []  # per character to write: the character the rules force, or None to sample
    for clause, (length, punctuation) in enumerate(template.form):
        characters = [None] * length  # sampled, but an acrostic's character opens the clause
        if clause < len(acrostic) and length:
            characters[0] = acrostic[clause]
        rules += characters + list(punctuation)  # then the mark, and "\n" where the line ends
    return write_by_rules(model, tokenizer, f"\n\n{template.tune}\n", rules, letters, temperature,
                          top_k, top_p, seed)


@torch.no_grad()
def write_free(model, tokenizer, prompt, length, temperature=1.0, top_k=None, top_p=None,
               seed=1337):
    """length characters written after prompt with nothing masked or forced: the same sampler."""
    return write_by_rules(model, tokenizer, prompt, [None] * length, None, temperature, top_k,
                          top_p, seed)


def write_by_rules(model, tokenizer, prompt, rules, allowed, temperature, top_k, top_p, seed):
    """One character per rule after prompt: a rule's character is forced, a None is sampled
    (only from the allowed ids, when allowed is given). Returns a Writing."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    ids = tokenizer.encode(prompt)
    steps = []
    for forced in rules:
        context = torch.tensor([ids[-model.block_size:]], device=device)  # (1, <=block_size)
        logits, _ = model(context)  # (1, T, V)
        logits = logits[0, -1].float().cpu()  # (V,): the last position predicts
        logprobs = F.log_softmax(logits, dim=-1)  # (V,): the model's own view
        if forced is None:
            # drawn_from (V,): the probabilities it was drawn from
            chosen, drawn_from = sample_next(logits, temperature, top_k, top_p, allowed, generator)
        else:
            chosen = tokenizer.stoi[forced]
            # (V,): the rule left one choice
            drawn_from = F.one_hot(torch.tensor(chosen), len(logits))
        top = torch.topk(logprobs, min(10, logprobs.numel()))
        # Each: the model's own probability (temperature 1), and whether the mask, top-k and top-p
        # left it a chance at this step.
        candidates = [(tokenizer.chars[i], math.exp(lp), bool(drawn_from[i] > 0))
                      for lp, i in zip(top.values.tolist(), top.indices.tolist())]
        steps.append(Step(tokenizer.chars[chosen], float(logprobs[chosen]), forced is not None,
                          candidates))
        ids.append(chosen)
    return Writing(prompt, steps)
