"""词牌 forms drawn from the corpus, a form score, a copy check, and writing in a form.

    python tools/poetry_form.py --list-tunes      # tunes with at least 20 ci: count, modal form, share
    python tools/poetry_form.py --tune 浣溪沙      # one tune: its commonest forms and their shares
    python tools/poetry_form.py --baseline        # real unseen ci: the form score's ceiling, the copy baseline

A ci (词) is written to a tune (词牌), and the tune fixes its form: how many clauses, how long each
is, which mark ends it and where the lines break. In data/songci.txt every ci is a block: the
tune's name on its first line, then the ci's lines; a blank line separates blocks.

One module, one API, for tools/write_ci.py, tools/compare_versions.py, notebook 09 and the
explorer. The standard library and torch only.

How a form is written here: each clause as its length and the mark after it, "/" where a line
ends. 浣溪沙's commonest form is 7。/7。/7。/7，7。/7。: six clauses of seven characters; the
fourth line holds two of them because that is where the data breaks its lines.
"""

import argparse
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
CLAUSE_MARKS = "，。、；：？！"
CLAUSE = re.compile(f"([^{CLAUSE_MARKS}]*)([{CLAUSE_MARKS}])")  # a clause's characters, its mark
LOST_TUNE = "失调名"  # "tune name lost": 363 ci of many forms, not one tune
MIN_CI = 20  # a tune gets a template only with at least this many ci


# ---- Ci and their forms

@dataclass(frozen=True)
class Ci:
    title: str  # the tune's name as the data writes it
    lines: tuple  # the ci's lines, without the title

    @property
    def tune(self):
        return tune_name(self.title)

    @property
    def text(self):
        """The ci as the corpus writes it: the title, then its lines."""
        return "\n".join((self.title, *self.lines))


def tune_name(title):
    """The data writes a tune known by two names as "name used・standard name": 木兰花・玉楼春 is a
    玉楼春 written under its other name. The standard name, after the dot, is the tune."""
    return title.split("・")[-1].strip()


def split_ci(text):
    """Every ci of a corpus text, in order. A block with no line after its title is skipped."""
    cis = []
    for block in text.split("\n\n"):
        title, *lines = block.strip("\n").split("\n")
        if title and lines:
            cis.append(Ci(title, tuple(lines)))
    return cis


def form_of(lines):
    """The form of a ci's lines: one (length, punctuation) pair per clause, where punctuation is
    the clause's mark, followed by "\\n" when the line ends there (a line that ends without a
    mark ends in a clause whose punctuation is "\\n" alone)."""
    form = []
    for line in lines:
        clauses = CLAUSE.findall(line)
        rest = line[sum(len(chars) + 1 for chars, _ in clauses):]
        form += [(len(chars), mark) for chars, mark in clauses]
        if rest:
            form.append((len(rest), "\n"))
        elif form:
            form[-1] = (form[-1][0], form[-1][1] + "\n")
    return tuple(form)


def show_form(form):
    """7。/7。/7，7。: each clause's length and mark, "/" at each line end."""
    return "".join(f"{length}{punctuation}" for length, punctuation in form).replace("\n", "/").rstrip("/")


@dataclass(frozen=True)
class Template:
    """A tune's commonest form in the corpus, and how many of its ci are written in it."""
    tune: str
    form: tuple  # (length, punctuation) per clause, as form_of gives
    count: int  # ci of this tune in the corpus
    share: float  # the share of them written in exactly this form


    def __str__(self):
        return show_form(self.form)


def tune_forms(cis):
    """For each tune (not LOST_TUNE): a Counter of its ci's forms."""
    forms = defaultdict(Counter)
    for ci in cis:
        if ci.tune != LOST_TUNE:
            forms[ci.tune][form_of(ci.lines)] += 1
    return forms


def templates(cis, min_ci=MIN_CI):
    """Each tune with at least min_ci ci: its Template, the commonest tunes first."""
    found = []
    for tune, forms in tune_forms(cis).items():
        count = sum(forms.values())
        if count >= min_ci:
            form, n = forms.most_common(1)[0]
            found.append(Template(tune, form, count, n / count))
    found.sort(key=lambda template: -template.count)
    return {template.tune: template for template in found}


def form_score(lines, template):
    """How much of the template's form the lines reproduce, from 0 to 1: the clauses that match
    (same length and punctuation) in the template's order, found by aligning the two clause
    sequences (a longest common subsequence, so one missing clause does not zero the rest),
    divided by the longer of the two sequences (so a clause too many costs as one too few)."""
    written = form_of(lines)
    if not written:
        return 0.0
    return sum(clause_matches(lines, template)) / max(len(written), len(template.form))


def clause_matches(lines, template):
    """For each of the template's clauses, whether the lines reproduce it in the alignment
    form_score counts (a list of bools, one per template clause)."""
    written, wanted = form_of(lines), template.form
    # matched[i][j]: the most clauses matched between written[:i] and wanted[:j]
    matched = [[0] * (len(wanted) + 1) for _ in range(len(written) + 1)]
    for i, clause in enumerate(written, 1):
        for j, target in enumerate(wanted, 1):
            if clause == target:
                matched[i][j] = matched[i - 1][j - 1] + 1
            else:
                matched[i][j] = max(matched[i - 1][j], matched[i][j - 1])
    found = [False] * len(wanted)
    i, j = len(written), len(wanted)
    while i and j:  # walk back through the table along one best alignment
        if written[i - 1] == wanted[j - 1] and matched[i][j] == matched[i - 1][j - 1] + 1:
            found[j - 1] = True
            i, j = i - 1, j - 1
        elif matched[i - 1][j] >= matched[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return found


def clause_offsets(template):
    """Where each of the template's clauses starts, in characters from the start of the tune's
    name (the name, its line break, then every clause with its punctuation)."""
    offsets, at = [], len(template.tune) + 1
    for length, punctuation in template.form:
        offsets.append(at)
        at += length + len(punctuation)
    return offsets


def first_ci(text):
    """The lines of text up to its first blank line: the ci a model wrote after a tune's name."""
    return tuple(text.split("\n\n")[0].strip("\n").split("\n")) if text.strip() else ()


# ---- The corpus split as the scripts split it

def training_text(text):
    """The first 90% of the corpus: the text every version trains on."""
    return text[:int(0.9 * len(text))]


def validation_text(text):
    """The last 10% of the corpus: the text no version trains on."""
    return text[int(0.9 * len(text)):]


def validation_ci(text):
    """The ci wholly inside the last 10% of the corpus (the first, cut by the split, is dropped)."""
    rest = validation_text(text)
    return split_ci(rest[rest.find("\n\n") + 2:])


# ---- Is it writing, or copying?

class CopyCheck:
    """How much of a text the training text already holds: the share of the text's 4-grams and
    8-grams (runs of 4 and 8 characters, punctuation included, within a line) found in it, and
    the longest run of the text found in it."""

    def __init__(self, training):
        self.training = training
        lines = training.split("\n")
        self.grams = {n: {line[i:i + n] for line in lines for i in range(len(line) - n + 1)}
                      for n in (4, 8)}  # about 1 million 4-grams and 0.5 million 8-grams

    def occurs(self, run):
        """Whether the training text holds run (a string without line breaks). A run shorter than
        4 counts as held: any text shares nearly all its pairs and triples with the corpus."""
        for n in (4, 8):  # the sets answer most runs without searching the whole text
            if len(run) >= n and any(run[i:i + n] not in self.grams[n] for i in range(len(run) - n + 1)):
                return False
        return len(run) <= 4 or run in self.training

    def longest_run(self, lines):
        """The longest stretch of any line that the training text holds (3 characters or fewer
        when it holds no 4-gram of the lines)."""
        best = ""
        for line in lines:
            start = 0
            for end in range(1, len(line) + 1):  # the longest held run ending at end starts at start
                while start < end and not self.occurs(line[start:end]):
                    start += 1
                if end - start > len(best):
                    best = line[start:end]
        return best

    def check(self, lines):
        """{"4-gram": share found, "8-gram": share found, "longest": the longest copied run}
        for a ci's lines (or any lines); a share is NaN when the lines have no n-gram of that size."""
        result = {}
        for n in (4, 8):
            grams = [line[i:i + n] for line in lines for i in range(len(line) - n + 1)]
            found = sum(gram in self.grams[n] for gram in grams)
            result[f"{n}-gram"] = found / len(grams) if grams else math.nan
        result["longest"] = self.longest_run(lines)
        return result


def mean_check(checks):
    """The mean shares and mean longest-run length of several copy checks."""
    means = {}
    for key in ("4-gram", "8-gram"):
        values = [c[key] for c in checks if not math.isnan(c[key])]
        means[key] = sum(values) / len(values) if values else math.nan
    means["longest"] = sum(len(c["longest"]) for c in checks) / len(checks) if checks else math.nan
    return means


# ---- Sampling and writing in a form

def sample_next(logits, temperature=1.0, top_k=None, top_p=None, allowed=None, generator=None):
    """One character id drawn from logits (V,), and the probabilities it was drawn from (V,).
    allowed (V,) bool: only these may be drawn. top_k: only the k likeliest allowed ones.
    top_p (nucleus): only the likeliest allowed ones whose probabilities add up to p."""
    logits = logits.float().cpu() / temperature  # (V,): sampled on the CPU, the same on every device
    if allowed is not None:
        logits = logits.masked_fill(~allowed.cpu(), float("-inf"))  # a masked id gets probability 0
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]  # the k-th highest logit
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)  # (V,)
    if top_p is not None:
        sorted_probs, order = torch.sort(probs, descending=True)  # (V,) each
        before = torch.cumsum(sorted_probs, dim=0) - sorted_probs  # (V,): the mass ranked above each
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
    candidates: list  # the model's ten likeliest characters there: (char, probability, could be drawn)


@dataclass
class Writing:
    prompt: str
    steps: list

    @property
    def text(self):
        return self.prompt + "".join(step.char for step in self.steps)

    @property
    def mean_logprob(self):
        return sum(step.logprob for step in self.steps) / len(self.steps)


def check_writable(tokenizer, template, acrostic=""):
    """The reasons (a list of lines, empty when none) why this model cannot write this ci."""
    problems = []
    forced = "".join(punctuation for _, punctuation in template.form)  # every mark the rules write
    outside = sorted({ch for ch in template.tune + acrostic + forced + "\n" if ch not in tokenizer.stoi})
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
        characters = [None] * length  # sampled, except an acrostic's character at the clause's start
        if clause < len(acrostic) and length:
            characters[0] = acrostic[clause]
        rules += characters + list(punctuation)  # then the mark, and "\n" where the line ends
    return _write(model, tokenizer, f"\n\n{template.tune}\n", rules, letters, temperature, top_k,
                  top_p, seed)


@torch.no_grad()
def write_free(model, tokenizer, prompt, length, temperature=1.0, top_k=None, top_p=None, seed=1337):
    """length characters written after prompt with nothing masked or forced: the same sampler."""
    return _write(model, tokenizer, prompt, [None] * length, None, temperature, top_k, top_p, seed)


def _write(model, tokenizer, prompt, rules, allowed, temperature, top_k, top_p, seed):
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
            chosen, drawn_from = sample_next(logits, temperature, top_k, top_p, allowed, generator)  # (V,)
        else:
            chosen = tokenizer.stoi[forced]
            drawn_from = F.one_hot(torch.tensor(chosen), len(logits))  # (V,): the rule left one choice
        top = torch.topk(logprobs, min(10, logprobs.numel()))
        # Each: the model's own probability (temperature 1), and whether the mask, top-k and top-p
        # left it a chance at this step.
        candidates = [(tokenizer.chars[i], math.exp(lp), bool(drawn_from[i] > 0))
                      for lp, i in zip(top.values.tolist(), top.indices.tolist())]
        steps.append(Step(tokenizer.chars[chosen], float(logprobs[chosen]), forced is not None, candidates))
        ids.append(chosen)
    return Writing(prompt, steps)


def ci_lines(writing):
    """The ci's lines of a Writing, without the tune's name."""
    return first_ci(writing.text.strip("\n").split("\n", 1)[-1])


# ---- The command line

def read_corpus(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SystemExit(f"error: cannot read {path}: {err}") from None


def print_baseline(text, found):
    """The validation split's real ci, which no version trains on, through both measures."""
    held_out = validation_ci(text)
    scores = [form_score(ci.lines, found[ci.tune]) for ci in held_out if ci.tune in found]
    print(f"{len(held_out)} ci in the validation split; {len(scores)} of them have a template")
    if scores:
        print(f"  form score {sum(scores) / len(scores):.3f} on average, "
              f"{sum(score == 1 for score in scores) / len(scores):.0%} exactly 1")
    check = CopyCheck(training_text(text))  # the index, built once
    copy = mean_check([check.check(ci.lines) for ci in held_out])
    print(f"  found in the training split: {copy['4-gram']:.1%} of 4-grams, {copy['8-gram']:.1%} of "
          f"8-grams, longest run {copy['longest']:.1f} characters on average")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "songci.txt"), help="the corpus")
    parser.add_argument("--list-tunes", action="store_true", help="every tune with a template")
    parser.add_argument("--tune", help="one tune's commonest forms")
    parser.add_argument("--min-ci", type=int, default=MIN_CI, help="ci a tune needs for a template")
    parser.add_argument("--baseline", action="store_true", help="what real ci of the validation split "
                        "score: the form score's ceiling and the copy check's baseline")
    args = parser.parse_args(argv)
    text = read_corpus(args.data)
    cis = split_ci(text)
    if args.baseline:
        print_baseline(text, templates(cis, args.min_ci))
        return 0
    if args.tune:
        forms = tune_forms(cis).get(tune_name(args.tune))
        if not forms:
            print(f"error: no ci of {args.tune} in {args.data}", file=sys.stderr)
            return 2
        total = sum(forms.values())
        print(f"{tune_name(args.tune)}: {total} ci in {len(forms)} forms; the commonest:")
        for form, n in forms.most_common(5):
            print(f"  {n / total:6.1%}  {n:4d}  {show_form(form)}")
        return 0
    found = templates(cis, args.min_ci)
    print(f"{len(found)} tunes with at least {args.min_ci} ci in {args.data} ({len(cis)} ci):")
    print(f"{'tune':<8}{'ci':>6}{'share':>8}  commonest form")
    for template in found.values():
        print(f"{template.tune:<8}{template.count:>6}{template.share:>8.0%}  {template}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. | head: the reader has what it wanted
        sys.stderr.close()
        sys.exit(0)
