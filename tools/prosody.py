"""格律: where a tune rhymes and which tones it fixes, measured on its ci in the corpus, and the
rhyme and tone scores of a written ci.

    python -m tools.prosody --tune 浣溪沙     # its rhyme positions and tones, clause by clause
    python -m tools.prosody --baseline       # real unseen ci: the scores' ceilings; and chance
    python -m tools.prosody --readings       # modern Mandarin against 平水韵, side by side
    python -m tools.prosody --versions --runs runs/compare3 --json FILE   # every version, its seeds

A reader of ci checks three things first: the form (tools/poetry_form.py), the rhyme (韵脚, the
last character of the clauses where the tune rhymes) and the tones (平仄, at the places where the
tune fixes them). Here both are read in modern Mandarin, by pypinyin:
- a character's tone: 平 (level) for the first and second tones, 仄 (oblique) for the third and
  fourth. Song-dynasty 平仄 differs where Mandarin lost the entering tone (入声): 入声
  characters were all 仄, and some read 平 today.
- its rhyme group: one of the 十三辙 (thirteen rhyme classes of modern northern verse), from its
  final. 杯 (ei) and 台 (ai), which rhyme in 平水韵, fall in two groups here.
The other reading, 平水韵 (data/pingshui.tsv), is here to be compared with (--readings): it has
the entering tone, but lacks some characters and splits its groups by tone. Measured, modern
Mandarin agrees better with real ci (docs/writing_in_form.md), and the course uses it.

What a model expects (expected): at the places where a ci has its tune's rhyme and tones, the
model's own probability of them; on a ci written with the rules, what each rule let it keep, so
-log of it is the rule's cost there, in nats: notebook 09 measures the form's mask the same way.

Rhyme positions, from the corpus: in each ci written in the tune's commonest form, a clause end
rhymes when its group is shared by the ci's commonest group among its clause ends or by another
clause end at most two clauses away (a tune that changes its rhyme, 换韵, as 菩萨蛮 does every two
lines, still rhymes). A tune's rhyme positions are the clause ends that rhyme in most (over
RHYMES_IN) of its ci. Fixed tones: the places of the form where at least FIXED of the ci with a
known tone there have 平, or at most 1 - FIXED.
"""

import argparse
import json
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from pypinyin import Style, lazy_pinyin
from torch.nn import functional as F

import plumbing
from tools import corpus, poetry_form

# 十三辙: the thirteen rhyme groups of modern northern verse, by pypinyin's finals (v is ü)
TRACKS = {
    "发花": "a ia ua", "梭波": "o e uo", "乜斜": "ie ve", "一七": "i v er", "姑苏": "u",
    "怀来": "ai uai", "灰堆": "ei uei", "遥条": "ao iao", "油求": "ou iou",
    "言前": "an ian uan van", "人辰": "en in uen vn", "江阳": "ang iang uang",
    "中东": "eng ing ong iong ueng",
}
GROUP_OF_FINAL = {final: group for group, finals in TRACKS.items() for final in finals.split()}
RHYMES_IN = 0.5  # a clause end is a rhyme position when it rhymes in more than this share of ci
FIXED = 0.8  # a place's tone is fixed when at least this share of ci agree on it
NEAR = 2  # a clause end rhymes with another at most this many clauses away


# ---- One character: its tone and rhyme group, in modern Mandarin

@lru_cache(maxsize=None)
def level(ch):
    """平 or 仄 for a Chinese character (its commonest reading), None for anything else or a
    neutral tone."""
    if not ch.isalpha():
        return None
    reading = lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda _: [""])
    tone = reading[0][-1:] if reading and reading[0] else ""
    return {"1": "平", "2": "平", "3": "仄", "4": "仄"}.get(tone)


@lru_cache(maxsize=None)
def rhyme_group(ch):
    """The 十三辙 group of a Chinese character's final, or None."""
    if not ch.isalpha():
        return None
    final = lazy_pinyin(ch, style=Style.FINALS, strict=True, errors=lambda _: [""])
    return GROUP_OF_FINAL.get(final[0] if final else "")


# ---- The other reading, for comparison: 平水韵, the rhyme book of Song-dynasty verse

PINGSHUI = plumbing.HERE / "data" / "pingshui.tsv"  # built by data/pingshui.py


@lru_cache(maxsize=1)
def pingshui_table():
    """{simplified character: (its tones, its groups)} of data/pingshui.tsv."""
    try:
        lines = PINGSHUI.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise plumbing.BabyGPTError(f"cannot read {PINGSHUI}: {err.strerror}; build it: python "
                                    "data/pingshui.py") from None
    table = {}
    for line in lines:
        if not line.startswith("#"):
            ch, tones, groups = line.split("\t")
            table[ch] = (tones, frozenset(groups.split()))
    return table


def pingshui_level(ch):
    """平 or 仄 in 平水韵; None where the book does not have the character or has it in both."""
    tones, _ = pingshui_table().get(ch, ("", frozenset()))
    return tones if tones in ("平", "仄") else None


def pingshui_groups(ch):
    """The 平水韵 groups the book puts the character in (none if it lacks it)."""
    return pingshui_table().get(ch, ("", frozenset()))[1]


def modern_groups(ch):
    group = rhyme_group(ch)
    return frozenset([group]) if group else frozenset()


# Each reading: a character's level (平, 仄 or None) and its rhyme groups (a set, maybe empty)
READINGS = {"modern": (level, modern_groups), "pingshui": (pingshui_level, pingshui_groups)}


# ---- One ci: its clauses, which of their ends rhyme, its tones

def clauses(lines):
    """The text of each clause of a ci, in the order of poetry_form.form_of."""
    found = []
    for line in lines:
        end = 0
        for clause in corpus.CLAUSE.finditer(line):
            found.append(clause.group(1))
            end = clause.end()
        if line[end:]:
            found.append(line[end:])
    return found


def rhyming(groups, near=NEAR):
    """For each clause end's rhyme groups (a set: empty where unknown, several where a reading
    puts the character in several), whether it rhymes in its ci: it is in the ci's commonest
    group, or shares a group with another clause end at most near clauses away."""
    known = Counter(group for each in groups for group in each)
    commonest = known.most_common(1)[0][0] if known else None
    rhymes = []
    for k, each in enumerate(groups):
        around = set().union(*groups[max(0, k - near):k], *groups[k + 1:k + 1 + near])
        rhymes.append(commonest in each or bool(each & around))
    return rhymes


# ---- A tune: measured on its ci

@dataclass(frozen=True)
class Prosody:
    """Where a tune rhymes and which tones it fixes, measured on the ci in its commonest form."""
    template: poetry_form.Template
    rhymes: tuple  # the clauses (0-based) whose last character rhymes
    rhyme_shares: tuple  # per clause: the share of the ci in which its end rhymes
    tones: tuple  # per clause: a string, 平 or 仄 where the tone is fixed, · where it is free
    ci: int  # the ci measured: those in the template's form
    reading: str = "modern"  # whose tones and rhymes (READINGS)

    def __str__(self):
        """The form with the rhymes marked: 7。韵/7。韵/7。韵/7，7。韵/7。韵"""
        return poetry_form.show_form(tuple(
            (length, mark.replace(mark.rstrip("\n"), mark.rstrip("\n") + "韵", 1)
             if k in self.rhymes else mark)
            for k, (length, mark) in enumerate(self.template.form)))

    def pattern(self):
        """The tones clause by clause, a rhyme marked: 平平仄仄仄平平（韵）。"""
        return " ".join(tones + ("（韵）" if k in self.rhymes else "")
                        for k, tones in enumerate(self.tones))


def measure(cis, template, reading="modern"):
    """The Prosody of template's tune, from those of cis written in exactly its form, in one of
    READINGS."""
    level_of, groups_of = READINGS[reading]
    same = [ci.lines for ci in cis
            if ci.tune == template.tune and poetry_form.form_of(ci.lines) == template.form]
    rhymed = Counter()
    ping, known = Counter(), Counter()  # (clause, place): ci with 平 there, ci with a tone there
    for lines in same:
        texts = clauses(lines)
        for k, rhymes in enumerate(rhyming([groups_of(text[-1]) for text in texts])):
            rhymed[k] += rhymes
        for k, text in enumerate(texts):
            for place, ch in enumerate(text):
                tone = level_of(ch)
                known[k, place] += tone is not None
                ping[k, place] += tone == "平"
    shares = tuple(rhymed[k] / len(same) if same else 0.0 for k in range(len(template.form)))
    tones = []
    for k, (length, _) in enumerate(template.form):
        marks = ""
        for place in range(length):
            share = ping[k, place] / known[k, place] if known[k, place] else 0.5
            marks += "平" if share >= FIXED else "仄" if share <= 1 - FIXED else "·"
        tones.append(marks)
    rhymes = tuple(k for k, share in enumerate(shares) if share > RHYMES_IN)
    return Prosody(template, rhymes, shares, tuple(tones), len(same), reading)


def prosodies(cis, templates, reading="modern"):
    """{tune: Prosody} for every template."""
    by_tune = {}
    for ci in cis:
        by_tune.setdefault(ci.tune, []).append(ci)
    return {tune: measure(by_tune[tune], template, reading) for tune, template in templates.items()}


# ---- The scores of a written ci

def aligned(lines, prosody):
    """For each of the template's clauses, the written clause the form score matched to it, or
    None."""
    written = clauses(lines)
    return [written[i] if i is not None else None
            for i in poetry_form.clause_alignment(lines, prosody.template)]


def rhyme_score(lines, prosody):
    """The share of the tune's rhyme positions that rhyme (among the rhyme positions, as rhyming
    says) in the written clauses the form matched; an unmatched clause does not rhyme. None for a
    tune without rhyme positions."""
    if not prosody.rhymes:
        return None
    _, groups_of = READINGS[prosody.reading]
    matched = aligned(lines, prosody)
    groups = [groups_of(matched[k][-1]) if matched[k] else frozenset() for k in prosody.rhymes]
    return sum(rhyming(groups)) / len(prosody.rhymes)


def tone_score(lines, prosody):
    """The share of the tune's fixed tones that the written characters match, in the clauses the
    form matched. None for a tune without fixed tones."""
    fixed = [(k, place, tone) for k, tones in enumerate(prosody.tones)
             for place, tone in enumerate(tones) if tone != "·"]
    if not fixed:
        return None
    level_of, _ = READINGS[prosody.reading]
    matched = aligned(lines, prosody)
    return sum(matched[k] is not None and level_of(matched[k][place]) == tone
               for k, place, tone in fixed) / len(fixed)


# ---- What a model expects: its own probability of the rhyme and the tones where a ci has them

def expected(model, tokenizer, lines, measured, frequency):
    """How much a model expects the 格律 of a ci written exactly in its tune's form, read after
    the tune's name as the model reads its own writing:
    - at each rhyme position after the first, the rhyme group of the character written there;
    - at each fixed place, the tone the tune fixes there.
    For each, the share of the model's probability (among the characters that may stand in a
    clause) that falls in that group or tone, and the same share under frequency (V,), the
    training text's character counts: what a model knowing only how often each character is
    written would expect. On a ci written with --rhyme or --tones, the share is what the rule let
    the model keep, and -log(share) the rule's cost there in nats (the first rhyme is left out:
    it chose the group). Returns {"rhyme": [(share, frequency's share)], "tone": [...]}, or None
    for a ci in another form or with a character outside the model's vocabulary."""
    from tools import sampling  # here: the measures above need no model

    prompt = f"\n\n{measured.template.tune}\n"
    text = prompt + "".join(line + "\n" for line in lines)
    if (poetry_form.form_of(lines) != measured.template.form
            or any(ch not in tokenizer.stoi for ch in text)):
        return None
    wanted = []  # (kind, index in text of the character, the (V,) mask of what is expected there)
    starts = poetry_form.clause_offsets(measured.template)  # from the tune's name, after "\n\n"
    for k, (start, (length, _)) in enumerate(zip(starts, measured.template.form)):
        first = len("\n\n") + start  # the clause's first character in text
        for place, tone in enumerate(measured.tones[k]):
            if tone != "·":
                tone_mask = sampling.prosody_mask(tokenizer, "tone", tone)
                wanted.append(("tone", first + place, tone_mask))
        end = first + length - 1  # its last character
        if k in measured.rhymes[1:] and rhyme_group(text[end]):
            group = sampling.prosody_mask(tokenizer, "rhyme", rhyme_group(text[end]))
            wanted.append(("rhyme", end, group))
    letters = torch.tensor([ch.isalpha() for ch in tokenizer.chars])  # (V,)
    probs = predictions(model, tokenizer.encode(text), [at for _, at, _ in wanted])  # (N, V)
    found = {"rhyme": [], "tone": []}
    for (kind, _, mask), p in zip(wanted, probs):
        share = float(p[mask & letters].sum() / p[letters].sum())
        by_frequency = float(frequency[mask & letters].sum() / frequency[letters].sum())
        found[kind].append((share, by_frequency))
    return found


@torch.no_grad()
def predictions(model, ids, targets):
    """The model's probabilities (len(targets), V) for the character at each index of targets
    in ids, each read from the block_size characters before it, as the sampler reads them."""
    model.eval()
    block = model.block_size
    device = next(model.parameters()).device
    ids = torch.tensor(ids, device=device)  # (T,)
    opening = model(ids[:block][None])[0][0]  # (<=block, V): position t predicts character t + 1
    later = [i for i in targets if i > block]  # those with a whole block of context before them
    last = {}  # index -> (V,): read from the block before it
    if later:
        windows = torch.stack([ids[i - block:i] for i in later])  # (L, block)
        last = dict(zip(later, model(windows)[0][:, -1]))  # each window's last position predicts
    rows = [last[i] if i in last else opening[i - 1] for i in targets]
    return F.softmax(torch.stack(rows).float().cpu(), dim=-1)  # (len(targets), V)


def frequencies(tokenizer, text):
    """(V,): how often each character of the vocabulary is in the training split of text."""
    counts = Counter(corpus.training_text(text))
    return torch.tensor([counts[ch] for ch in tokenizer.chars], dtype=torch.float64)


# ---- The two readings side by side

def print_readings(text, cis, templates, tunes=20):
    """How modern Mandarin and 平水韵 differ: on the tones of the corpus's characters, on the
    rhyme positions and fixed tones of the commonest tunes, and on real unseen ci's scores."""
    letters = [ch for ch in text if ch.isalpha()]
    both = [(level(ch), pingshui_level(ch)) for ch in letters]
    single = [(a, b) for a, b in both if a and b]
    print(f"the corpus's {len(letters):,} Chinese characters: a single tone in modern Mandarin for "
          f"{sum(1 for a, _ in both if a) / len(both):.1%}, in 平水韵 for "
          f"{sum(1 for _, b in both if b) / len(both):.1%}; where both have one, they agree on "
          f"{sum(a == b for a, b in single) / len(single):.1%} "
          f"(平水韵 仄 read 平 today: {sum(a == '平' and b == '仄' for a, b in single) / len(single):.1%})")
    commonest = dict(list(templates.items())[:tunes])
    found = {reading: prosodies(cis, commonest, reading) for reading in READINGS}
    print(f"\nthe {tunes} commonest tunes: rhyme positions (韵) and fixed tones in each reading")
    print("| tune | modern | 平水韵 | fixed places, modern | 平水韵 | places fixed differently |")
    print("|---|---|---|---:|---:|---:|")
    same_rhymes = 0
    for tune in commonest:
        modern, book = found["modern"][tune], found["pingshui"][tune]
        same_rhymes += modern.rhymes == book.rhymes
        places = [(a, b) for x, y in zip(modern.tones, book.tones) for a, b in zip(x, y)]
        fixed = [sum(t != "·" for t in side) for side in zip(*places)]
        print(f"| {tune} | {modern} | {book} | {fixed[0]} | {fixed[1]} | "
              f"{sum(a != b for a, b in places)} |")
    print(f"the same rhyme positions in both readings: {same_rhymes} of {tunes} tunes")
    held_out = [ci for ci in corpus.validation_ci(text) if ci.tune in commonest]
    print(f"\nreal unseen ci of these tunes ({len(held_out)}), scored in each reading:")
    for reading, measured in found.items():
        rhyme = mean_known([rhyme_score(ci.lines, measured[ci.tune]) for ci in held_out])
        tone = mean_known([tone_score(ci.lines, measured[ci.tune]) for ci in held_out])
        print(f"  {reading}: rhyme score {rhyme:.3f}, tone score {tone:.3f}")


# ---- Each version written to the tunes: what it does alone, and what imposing costs

RULES = {"form": {}, "+ rhyme": {"rhyme": ""}, "+ tones": {"tones": True}}  # write_poem's flags


def write_to_tunes(model, tokenizer, measured, ci_per_tune, seed, frequency):
    """The ci written to every tune of measured (ci_per_tune each, seeds seed, seed + 1, ...;
    temperature 1, nothing cut) with only the form imposed: their mean rhyme and tone scores;
    and with rhyme, then tones, imposed too: the mean cost of the rule at each place where it
    acts (expected: -log of the share it let the model keep), and of the same rule to a model
    that knows only the characters' frequencies."""
    from tools import sampling  # here: the measures above need no model

    scores = {"rhyme": [], "tone": []}
    costs = {"rhyme": [], "tone": []}  # (the model's, by frequency) per place a rule acted on
    for tune in measured.values():
        for name, rules in RULES.items():
            if sampling.check_writable(tokenizer, tune.template, measured=tune, **rules):
                continue  # a tune's characters outside the model's vocabulary
            for k in range(ci_per_tune):
                writing = sampling.write_in_form(model, tokenizer, tune.template, seed=seed + k,
                                                 measured=tune, **rules)
                lines = corpus.ci_lines(writing.written)
                if name == "form":
                    scores["rhyme"].append(rhyme_score(lines, tune))
                    scores["tone"].append(tone_score(lines, tune))
                    continue
                kind = "rhyme" if "rhyme" in rules else "tone"
                kept = expected(model, tokenizer, lines, tune, frequency)  # in form: never None
                costs[kind] += [(-math.log(share), -math.log(by_frequency))
                                for share, by_frequency in kept[kind]]
    found = {f"{kind} score": mean_known(values) for kind, values in scores.items()}
    for kind, values in costs.items():
        found[f"cost of {kind}"] = mean_known([model_cost for model_cost, _ in values])
        found[f"cost of {kind} by frequency"] = mean_known([cost for _, cost in values])
    return found


def expected_in(model, tokenizer, held_out, measured, frequency):
    """expected() over real ci (held_out: the validation split's, of the tunes in measured): the
    mean share of the rhyme group at the rhyme positions and of the tune's tone at the fixed
    places, the model's and by frequency."""
    found = {"rhyme": [], "tone": []}
    for ci in held_out:
        shares = expected(model, tokenizer, ci.lines, measured[ci.tune], frequency)
        for kind, pairs in (shares or {}).items():
            found[kind] += pairs
    means = {}
    for kind, pairs in found.items():
        means[f"expects {kind}"] = mean_known([share for share, _ in pairs])
        means[f"expects {kind} by frequency"] = mean_known([share for _, share in pairs])
    return means


def mean_known(values):
    """The mean of the values that are not None (a tune with no rhyme position has no rhyme
    score): NaN when none is."""
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else float("nan")


def seed_folders(runs, version):
    """(seed, folder) of each of version's checkpoints in a comparison's folder: runs/<version>/
    at its seed, runs/seeds/<seed>/<version>/ at the others (tools/compare_versions.py)."""
    found = []
    for folder in [Path(runs) / version, *sorted(Path(runs).glob(f"seeds/*/{version}"))]:
        if (folder / "ckpt.pt").is_file():
            try:
                metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
                seed = metrics["config"]["seed"]
            except (OSError, ValueError, KeyError, TypeError):
                raise plumbing.BabyGPTError(f"{folder}/metrics.json is missing or unreadable: "
                                            "which seed trained it is unknown") from None
            found.append((seed, folder))
    return found


def print_versions(text, cis, templates, runs, tunes, ci_per_tune):
    """The table of each version's scores written to the tunes, what imposing rhyme and tones
    costs it, and how much it expects them on real unseen ci."""
    from tools import checkpoints
    from tools.versions import VERSIONS

    measured = prosodies(cis, dict(list(templates.items())[:tunes]))
    held_out = [ci for ci in corpus.validation_ci(text) if ci.tune in measured]
    plumbing.require(any(seed_folders(runs, module.VERSION) for module in VERSIONS),
                     f"no checkpoint in {runs}; train: python -m tools.compare_versions --seeds 3")
    print(f"each version written to the {tunes} commonest tunes, {ci_per_tune} ci each "
          f"(temperature 1), and reading their {len(held_out)} real unseen ci; mean over the "
          "seeds found, each seed's in brackets")
    columns = ["rhyme score", "tone score", "cost of rhyme", "cost of tone", "expects rhyme",
               "expects tone"]
    print("| version | seeds | rhyme score in form | tone score in form | cost of rhyme, nats "
          "per rhyme | cost of tones, nats per fixed place | P(rhyme group), real ci | "
          "P(tone), real ci |")
    print("|---|---|" + "---:|" * len(columns))
    found = {}  # version -> one row per seed
    for module in VERSIONS:
        rows = []
        for seed, folder in seed_folders(runs, module.VERSION):
            model, tokenizer = checkpoints.load(module.VERSION, folder)
            frequency = frequencies(tokenizer, text)
            row = {"seed": seed, **write_to_tunes(model, tokenizer, measured, ci_per_tune, seed,
                                                  frequency)}
            row.update(expected_in(model, tokenizer, held_out, measured, frequency))
            rows.append(row)
        if not rows:
            continue
        found[module.VERSION] = rows
        cells = []
        for key in columns:
            values = [row[key] for row in rows]
            each = " (" + ", ".join(f"{v:.2f}" for v in values) + ")" if len(values) > 1 else ""
            cells.append(f"{sum(values) / len(values):.2f}{each}")
        print(f"| {module.VERSION} | {len(rows)} | " + " | ".join(cells) + " |", flush=True)
    every = [row for rows in found.values() for row in rows]
    by_frequency = {key: sum(row[key] for row in every) / len(every)
                    for key in every[0] if "by frequency" in key}
    print(f"| by frequency | | | | {by_frequency['cost of rhyme by frequency']:.2f} | "
          f"{by_frequency['cost of tone by frequency']:.2f} | "
          f"{by_frequency['expects rhyme by frequency']:.2f} | "
          f"{by_frequency['expects tone by frequency']:.2f} |")
    print("Scores: of the ci written with only the form imposed. A cost: at each place where the "
          "rule acts (the rhyme positions after the first, which chooses the group; the fixed "
          "places), -log of the share of the model's probability among the characters that the "
          "rule lets it keep, in ci written with that rule. P: the model's probability, among "
          "the characters, of the rhyme group of the real character at each rhyme position "
          "after the first, and of the tune's tone at each fixed place, in the real ci. By "
          "frequency: the same for a model that knows only how often each character is written "
          "(the costs at the places of every version and seed, on average).")
    return {"tunes": tunes, "ci_per_tune": ci_per_tune, "real_ci": len(held_out),
            "versions": found, "by_frequency": by_frequency}


# ---- The command line

def print_baseline(text, found, tunes=20, seed=0):
    """The validation split's real ci, which no version trains on: both scores' ceilings; and the
    same ci with every character replaced by one drawn at random by the corpus's character
    frequencies (marks and line breaks kept): what chance scores. For every tune with a template,
    and for the tunes commonest ones (those the comparison and --versions write to)."""
    letters = [ch for ch in corpus.training_text(text) if ch.isalpha()]
    commonest = list(found)[:tunes]
    for title, kept in (("every tune with a template", list(found)),
                        (f"the {tunes} commonest tunes", commonest)):
        held_out = [ci for ci in corpus.validation_ci(text) if ci.tune in kept]
        draw = random.Random(seed)
        shuffled = [tuple("".join(draw.choice(letters) if ch.isalpha() else ch for ch in line)
                          for line in ci.lines) for ci in held_out]
        print(f"{title}: {len(held_out)} ci of the validation split")
        for name, texts in (("real unseen ci", [ci.lines for ci in held_out]),
                            ("random characters in their forms (chance)", shuffled)):
            rhyme = mean_known([rhyme_score(lines, found[ci.tune])
                                for lines, ci in zip(texts, held_out)])
            tone = mean_known([tone_score(lines, found[ci.tune])
                               for lines, ci in zip(texts, held_out)])
            print(f"  {name}: rhyme score {rhyme:.3f}, tone score {tone:.3f} on average")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(plumbing.HERE / "data" / "songci.txt"),
                        help="the corpus")
    parser.add_argument("--tune", help="one tune: its rhyme positions and tones")
    parser.add_argument("--baseline", action="store_true",
                        help="real unseen ci: the ceilings of the rhyme and tone scores")
    parser.add_argument("--readings", action="store_true",
                        help="modern Mandarin and 平水韵 side by side (data/pingshui.tsv)")
    parser.add_argument("--versions", action="store_true", help="each version in --runs written "
                        "to the tunes: its scores, and what imposing rhyme and tones costs")
    parser.add_argument("--runs", default=str(plumbing.HERE / "runs" / "compare"),
                        help="a comparison's folder (python -m tools.compare_versions --seeds 3)")
    parser.add_argument("--tunes", type=int, default=20, help="--versions: the commonest tunes")
    parser.add_argument("--ci-per-tune", type=int, default=3, help="--versions: ci per tune")
    parser.add_argument("--json", help="--versions: also write every seed's numbers to this new "
                        "file (notebook 09 reads docs/measured/prosody_versions.json)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except plumbing.BabyGPTError as err:  # bad input, no data/pingshui.tsv, no usable checkpoint
        print(f"error: {err}", file=sys.stderr)
        return err.status


def run(args):
    """What main's flags ask for. A problem the user can fix is a plumbing.BabyGPTError."""
    plumbing.require(args.tunes >= 1 and args.ci_per_tune >= 1,
                     "--tunes and --ci-per-tune must be at least 1")
    plumbing.require(not (args.json and Path(args.json).exists()),
                     f"{args.json} exists: move it away or name a new file")
    text = corpus.read(args.data)
    cis = corpus.split_ci(text)
    templates = poetry_form.templates(cis)
    if args.baseline:
        print_baseline(text, prosodies(cis, templates))
    elif args.readings:
        print_readings(text, cis, templates)
    elif args.versions:
        found = print_versions(text, cis, templates, args.runs, args.tunes, args.ci_per_tune)
        if args.json:
            plumbing.write_text(Path(args.json), json.dumps(found, indent=1) + "\n")
    else:
        tune = corpus.tune_name(args.tune or "浣溪沙")
        plumbing.require(tune in templates,
                         f"no template for {tune}: fewer than {poetry_form.MIN_CI} ci of it")
        found = measure(cis, templates[tune])
        print(f"{tune} {found} ({found.ci} ci in this form)")
        print("rhymes in: " + " ".join(f"{share:.2f}" for share in found.rhyme_shares))
        print(f"tones (平/仄 fixed, · free): {found.pattern()}")
    return 0


if __name__ == "__main__":
    plumbing.run_command(main)
