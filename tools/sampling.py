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
from functools import lru_cache

import torch
from torch.nn import functional as F

from tools import prosody


# Why a character has no chance at a step: the form's mask, the sampler's top-k or top-p, or a rule
# that forces another character. A cut (V,) tensor holds an index into this, 0 for a chance.
CUTS = (None, "form", "top-k", "top-p", "rule")


def drawing_probs(logits, temperature=1.0, top_k=None, top_p=None, allowed=None):
    """The probabilities the characters are drawn with (V,), after the knobs, and why each one
    with none has none (V,): an index into CUTS, 0 where it has a chance.
    allowed (V,) bool: only these may be drawn (the form's mask). top_k: only the k likeliest
    allowed ones. top_p (nucleus): only the likeliest allowed ones whose probabilities add up to p."""
    logits = logits.float().cpu() / temperature  # (V,): on the CPU, the same on every device
    cut = torch.zeros(logits.shape, dtype=torch.long)  # (V,)
    if allowed is not None:
        cut[~allowed.cpu()] = CUTS.index("form")
        logits = logits.masked_fill(~allowed.cpu(), float("-inf"))  # a masked id gets probability 0
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]  # the k-th highest logit
        cut[(logits < kth) & (cut == 0)] = CUTS.index("top-k")
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)  # (V,)
    if top_p is not None:
        sorted_probs, order = torch.sort(probs, descending=True)  # (V,) each
        # (V,): the probability ranked above each
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs
        dropped = order[before >= top_p]  # every id once the kept ones reach p (the first is kept)
        cut[dropped[cut[dropped] == 0]] = CUTS.index("top-p")
        probs[dropped] = 0.0
        probs = probs / probs.sum()
    return probs, cut


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, allowed=None, generator=None):
    """One character id drawn from logits (V,), and the probabilities it was drawn from (V,)
    (drawing_probs: the knobs and the mask)."""
    probs, _ = drawing_probs(logits, temperature, top_k, top_p, allowed)
    chosen = int(torch.multinomial(probs, 1, generator=generator))  # an id with probability > 0
    return chosen, probs


@dataclass
class Step:
    """One character written: what it is, and what the model thought of it."""
    char: str
    logprob: float  # the model's own log-probability of it (temperature 1, nothing masked)
    forced: bool  # set by the rules (a mark, a line break, an acrostic character), not sampled
    drawn: float  # the probability it was drawn with, after the knobs and the mask (1 if forced)
    # The model's ten likeliest characters there: (char, the model's probability, the probability
    # it was drawn with, why it had no chance: None, or "form", "top-k", "top-p", "rule").
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


def check_writable(tokenizer, template, acrostic="", measured=None, rhyme=None, tones=False):
    """The reasons (a list of lines, empty when none) why this model cannot write this ci (with
    measured, rhyme and tones as write_in_form takes them)."""
    problems = []
    if rhyme and not prosody_mask(tokenizer, "rhyme", rhyme).any():
        problems.append(f"no character of the model's vocabulary is in the rhyme group {rhyme}"
                        if rhyme in prosody.TRACKS else f"{rhyme} is not a rhyme group; the 13: "
                        + " ".join(prosody.TRACKS))
    if rhyme == "" and measured.rhymes and not prosody_mask(tokenizer, "rhyme", None).any():
        problems.append("no character of the model's vocabulary has a rhyme group")
    needed = {tone for clause in measured.tones for tone in clause} - {"·"} if tones else set()
    for tone in sorted(needed):
        if not prosody_mask(tokenizer, "tone", tone).any():
            problems.append(f"no character of the model's vocabulary has the tone {tone}")
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
                  seed=1337, measured=None, rhyme=None, tones=False):
    """A ci written by the model in the template's form: after the tune's name, clause by clause,
    the characters of a clause are sampled with every mark and line break masked, the template's
    mark (and line break) is forced at its end, and with acrostic each clause opens with the next
    of its characters (藏头: a clause is a 句 of the ci; the data's line breaks are not a unit, as
    浣溪沙's six 句 on five lines show). With measured (the tune's tools.prosody.Prosody), the 格律
    too: tones=True masks every character of the other tone at the places where the tune fixes
    one; rhyme masks, at the rhyme positions, every character outside one rhyme group: the given
    group, or with rhyme="" the group of the first rhyme the model writes. An acrostic character
    is written whatever its tone. Returns a Writing; check_writable first."""
    letters = torch.tensor([ch.isalpha() for ch in tokenizer.chars])  # (V,): may stand in a clause
    rules = []  # per character to write: a character forced, a (V,) mask, or None for letters
    rhyme_step = None  # the step whose character chooses the rhyme group (rhyme == "")
    for clause, (length, punctuation) in enumerate(template.form):
        characters = [None] * length  # sampled, but an acrostic's character opens the clause
        if tones:
            for place, tone in enumerate(measured.tones[clause]):
                if tone != "·":
                    characters[place] = letters & prosody_mask(tokenizer, "tone", tone)
        if rhyme is not None and clause in measured.rhymes and length:
            end = letters if characters[-1] is None else characters[-1]
            if rhyme:  # a group given
                characters[-1] = end & prosody_mask(tokenizer, "rhyme", rhyme)
            elif rhyme_step is None:  # the first rhyme chooses: any character with a group
                rhyme_step = len(rules) + length - 1
                characters[-1] = end & prosody_mask(tokenizer, "rhyme", None)
            else:
                characters[-1] = rhyming_with(tokenizer, rhyme_step, end)
        if clause < len(acrostic) and length:
            characters[0] = acrostic[clause]
        rules += characters + list(punctuation)  # then the mark, and "\n" where the line ends
    return write_by_rules(model, tokenizer, f"\n\n{template.tune}\n", rules, letters, temperature,
                          top_k, top_p, seed)


@lru_cache(maxsize=64)
def prosody_mask(tokenizer, kind, value):
    """(V,) bool: the characters of the vocabulary with this tone (kind "tone": 平 or 仄), in this
    rhyme group (kind "rhyme": a 十三辙 name), or in any rhyme group (kind "rhyme", value None)."""
    if kind == "tone":
        return torch.tensor([prosody.level(ch) == value for ch in tokenizer.chars])
    return torch.tensor([prosody.rhyme_group(ch) is not None
                         and value in (None, prosody.rhyme_group(ch)) for ch in tokenizer.chars])


def rhyming_with(tokenizer, step, end):
    """A rule for a later rhyme position: the characters of end (V,) in the rhyme group of the
    character written at step; where none of them is (the tone's mask and the group's meet
    nowhere), the group alone: the rhyme comes first."""
    def allowed(steps):
        group = prosody_mask(tokenizer, "rhyme", prosody.rhyme_group(steps[step].char))
        return end & group if (end & group).any() else group

    return allowed


@torch.no_grad()
def write_free(model, tokenizer, prompt, length, temperature=1.0, top_k=None, top_p=None,
               seed=1337):
    """length characters written after prompt with nothing masked or forced: the same sampler."""
    return write_by_rules(model, tokenizer, prompt, [None] * length, None, temperature, top_k,
                          top_p, seed)


def write_by_rules(model, tokenizer, prompt, rules, allowed, temperature, top_k, top_p, seed):
    """One character per rule after prompt: a rule's character is forced, a (V,) mask is sampled
    from, a function of the steps so far gives the mask, a None is sampled (only from the allowed
    ids, when allowed is given). Returns a Writing."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    ids = tokenizer.encode(prompt)
    steps = []
    for rule in rules:
        forced = rule if isinstance(rule, str) else None
        mask = rule(steps) if callable(rule) else allowed if rule is None else rule  # (V,) or None
        context = torch.tensor([ids[-model.block_size:]], device=device)  # (1, <=block_size)
        logits, _ = model(context)  # (1, T, V)
        logits = logits[0, -1].float().cpu()  # (V,): the last position predicts
        logprobs = F.log_softmax(logits, dim=-1)  # (V,): the model's own view
        if forced is None:
            drawn_from, cut = drawing_probs(logits, temperature, top_k, top_p, mask)  # (V,) each
            chosen = int(torch.multinomial(drawn_from, 1, generator=generator))
        else:  # the rule leaves one choice
            chosen = tokenizer.stoi[forced]
            drawn_from = F.one_hot(torch.tensor(chosen), len(logits)).float()  # (V,)
            cut = (1 - drawn_from).long() * CUTS.index("rule")  # (V,): every other one, by the rule
        top = torch.topk(logprobs, min(10, logprobs.numel())).indices.tolist()
        candidates = [(tokenizer.chars[i], float(logprobs[i].exp()), float(drawn_from[i]),
                       CUTS[int(cut[i])]) for i in top]
        steps.append(Step(tokenizer.chars[chosen], float(logprobs[chosen]), forced is not None,
                          float(drawn_from[chosen]), candidates))
        ids.append(chosen)
    return Writing(prompt, steps)
