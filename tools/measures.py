"""The poems' measures of a trained version, and what the corpus's own text scores on them.

    poems = Poems(text)                                   # prepared once from the corpus
    clause_lengths(generated_text(model, tokenizer, config))   # then length_distance to the corpus
    poems.measure(model, tokenizer, config)               # form, rhyme and tone scores, copy check
    poems.score(model, tokenizer, config)                 # loss by kind of character
    poems.floors()                                        # the noise floor of each measure

- Clause-length distance: how far the lengths of the clauses a version writes are from the
  corpus's (total-variation distance of the two distributions).
- Form score, rhyme and tone scores and copy check (tools/poetry_form.py, tools/prosody.py,
  tools/copy_check.py) of ci written after the commonest tunes' names, with nothing forced.
- Loss by kind of character (tools/scoring.py) on the validation split's ci.

Used by tools/compare_versions.py and notebooks 08 and 09.
"""

import random
import statistics
from collections import Counter

import torch

from tools import corpus, poetry_form, prosody, scoring
from tools.copy_check import CopyCheck, mean_check

GENERATED_CHARACTERS, STREAMS = 10_000, 20  # how much text each version writes for the measure
TUNES, CI_PER_TUNE = 20, 3  # the form score: the 20 commonest tunes, 3 ci written after each name
FLOOR_DRAWS = 200  # samples of the corpus's own text for the clause-length distance's floor
SCORED_CI = 300  # the validation ci every version is scored on, character by character
SHOWCASE_TUNE = "浣溪沙"  # the first validation ci of this tune is shown coloured, version by version


class Poems:
    """The poems' measures, prepared once from the corpus: its clause lengths (validation split),
    the templates of its TUNES commonest tunes and the copy check's index of the training split."""

    def __init__(self, text):
        self.corpus_lengths = clause_lengths(corpus.validation_text(text))
        cis = corpus.split_ci(text)
        self.templates = list(poetry_form.templates(cis).values())[:TUNES]
        # where each tune rhymes and which tones it fixes, measured on its ci
        self.prosody = prosody.prosodies(cis, {t.tune: t for t in self.templates})
        self.copy = CopyCheck(corpus.training_text(text))
        self.validation_ci = corpus.validation_ci(text)
        self.scored = "\n\n".join(ci.text for ci in self.validation_ci[:SCORED_CI])
        tune_ci = [ci for ci in self.validation_ci if ci.tune == SHOWCASE_TUNE]
        tune_ci = tune_ci or self.validation_ci[:1]
        self.showcase = tune_ci[0].text if tune_ci else ""

    def score(self, model, tokenizer, config):
        """The loss on the SCORED_CI validation ci by kind of character ({kind: mean loss}), and
        the showcase ci with the probability the model gave each of its characters after the
        first. Characters outside the model's vocabulary (another corpus) are left out."""
        known = "".join(ch for ch in self.scored if ch in tokenizer.stoi)
        logprobs = scoring.character_logprobs(model, tokenizer.encode(known))
        kinds = scoring.character_kinds(known, config.block_size)
        by_kind = scoring.loss_by_kind(logprobs, kinds)
        shown = "".join(ch for ch in self.showcase if ch in tokenizer.stoi)
        probs = []
        if shown:
            probs = scoring.character_logprobs(model, tokenizer.encode(shown)).exp().tolist()
        return {kind: loss for kind, (loss, _) in by_kind.items()}, {"text": shown, "probs": probs}

    @torch.no_grad()
    def measure(self, model, tokenizer, config):
        """Form score and copy check of unconstrained writing: CI_PER_TUNE ci written after each
        tune's name (seeded, the run's sampling settings), each up to twice its template's
        length."""
        device = next(model.parameters()).device
        torch.manual_seed(config.seed)
        model.eval()
        scores, checks, written, rhymes, tones = [], [], [], [], []
        for template in self.templates:
            if any(ch not in tokenizer.stoi for ch in template.tune + "\n"):
                continue  # a small corpus may lack a tune's characters
            prompt = tokenizer.encode(f"\n\n{template.tune}\n")
            start = torch.tensor([prompt] * CI_PER_TUNE, device=device)  # (S, prompt)
            length = 2 * sum(n + len(punctuation) for n, punctuation in template.form)
            with torch.compiler.set_stance("force_eager"):  # as write_samples
                # (S, prompt + length)
                out = model.generate(start, length, config.temperature, config.top_k)
            for row in out[:, start.size(1):].tolist():
                lines = corpus.ci_lines(tokenizer.decode(row))
                scores.append(poetry_form.form_score(lines, template))
                rhymes.append(prosody.rhyme_score(lines, self.prosody[template.tune]))
                tones.append(prosody.tone_score(lines, self.prosody[template.tune]))
                checks.append(self.copy.check(lines))
                written.append(f"{template.tune}\n" + "\n".join(lines))
        copy = mean_check(checks)
        return {"form_score": mean(scores), "rhyme_score": prosody.mean_known(rhymes),
                "tone_score": prosody.mean_known(tones), "4-gram": copy["4-gram"],
                "8-gram": copy["8-gram"], "longest": copy["longest"], "ci": written}

    def floors(self, seed=1337):
        """What the corpus's own text scores: the noise floor of each measure. The clause-length
        distance of FLOOR_DRAWS stretches of validation text as long as a version writes (their
        mean and 90% range); the form score of the validation ci of the TUNES tunes; their copy
        check."""
        text = "\n\n".join(ci.text for ci in self.validation_ci)
        stream = GENERATED_CHARACTERS // STREAMS
        draw = random.Random(seed)
        distances = []
        for _ in range(FLOOR_DRAWS):  # STREAMS stretches, as a version writes STREAMS streams
            starts = [draw.randrange(max(1, len(text) - stream)) for _ in range(STREAMS)]
            sample = "\n".join(text[start:start + stream] for start in starts)
            distances.append(length_distance(clause_lengths(sample), self.corpus_lengths))
        distances.sort()
        tunes = {template.tune: template for template in self.templates}
        real = [ci for ci in self.validation_ci if ci.tune in tunes]
        copy = mean_check([self.copy.check(ci.lines) for ci in real])
        low, high = distances[int(0.05 * FLOOR_DRAWS)], distances[int(0.95 * FLOOR_DRAWS) - 1]
        return {
            "clause_distance": statistics.mean(distances),
            "clause_distance_90": (low, high),
            "form_score": mean([poetry_form.form_score(ci.lines, tunes[ci.tune]) for ci in real]),
            "rhyme_score": prosody.mean_known(
                [prosody.rhyme_score(ci.lines, self.prosody[ci.tune]) for ci in real]),
            "tone_score": prosody.mean_known(
                [prosody.tone_score(ci.lines, self.prosody[ci.tune]) for ci in real]),
            "ci": len(real), **{key: copy[key] for key in ("4-gram", "8-gram", "longest")},
        }


def mean(values):
    return statistics.mean(values) if values else float("nan")


def clause_lengths(text):
    """The length in characters of every clause of text (corpus.CLAUSE), in order; where two
    marks meet, the second ends no clause."""
    return [len(characters) for characters, _ in corpus.CLAUSE.findall(text) if characters]


def length_distance(a, b):
    """Total-variation distance between two lists' distributions of lengths: half the summed
    absolute difference of their frequencies. 0: the same distribution; 1: no length in common.
    NaN when a list is empty (a model that wrote no clause has no distribution to compare)."""
    if not a or not b:
        return float("nan")
    count_a, count_b = Counter(a), Counter(b)
    lengths = count_a.keys() | count_b.keys()
    return 0.5 * sum(abs(count_a[n] / len(a) - count_b[n] / len(b)) for n in lengths)


@torch.no_grad()
def generated_text(model, tokenizer, config):
    """GENERATED_CHARACTERS characters in STREAMS samples written side by side, each started at a
    line break, with the run's seed and sampling settings: the text the measure reads."""
    device = next(model.parameters()).device
    torch.manual_seed(config.seed)
    model.eval()
    newline = tokenizer.stoi["\n"]
    start = torch.full((STREAMS, 1), newline, dtype=torch.long, device=device)  # (S, 1)
    with torch.compiler.set_stance("force_eager"):  # as write_samples: no compiling per length
        out = model.generate(start, GENERATED_CHARACTERS // STREAMS, config.temperature,
                             config.top_k)  # (S, 1 + n)
    return "\n".join(tokenizer.decode(row[1:].tolist()) for row in out)
