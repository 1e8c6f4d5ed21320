"""词牌 forms drawn from the corpus, and the form score of a text against its tune's form.

    python -m tools.poetry_form --list-tunes   # tunes with at least 20 ci: count, modal form and
                                               # its rhymes (tools/prosody.py), share
    python -m tools.poetry_form --tune 浣溪沙   # one tune: its commonest forms and their shares
    python -m tools.poetry_form --baseline     # real unseen ci: both measures' baselines

A ci (词) is written to a tune (词牌), and the tune fixes its form: how many clauses, how long each
is, which mark ends it and where the lines break. Used by tools/write_poem.py, the comparison's
measures (tools/measures.py), notebook 09 and the explorer.

How a form is written here: each clause as its length and the mark after it, "/" where a line
ends. 浣溪沙's commonest form is 7。/7。/7。/7，7。/7。: six clauses of seven characters; the
fourth line holds two of them because that is where the data breaks its lines.
"""

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass

import plumbing
from tools import corpus
from tools.copy_check import CopyCheck, mean_check

MIN_CI = 20  # a tune gets a template only with at least this many ci


# ---- Forms and templates

def form_of(lines):
    """The form of a ci's lines: one (length, punctuation) pair per clause, where punctuation is
    the clause's mark, followed by "\\n" when the line ends there (a line that ends without a
    mark ends in a clause whose punctuation is "\\n" alone)."""
    form = []
    for line in lines:
        end = 0  # where the line's last clause ends
        for clause in corpus.CLAUSE.finditer(line):
            characters, mark = clause.groups()
            form.append((len(characters), mark))
            end = clause.end()
        rest = line[end:]
        if rest:
            form.append((len(rest), "\n"))
        elif form:
            form[-1] = (form[-1][0], form[-1][1] + "\n")
    return tuple(form)


def show_form(form):
    """7。/7。/7，7。: each clause's length and mark, "/" at each line end."""
    shown = "".join(f"{length}{punctuation}" for length, punctuation in form)
    return shown.replace("\n", "/").rstrip("/")


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
    """For each tune (not corpus.LOST_TUNE): a Counter of its ci's forms."""
    forms = defaultdict(Counter)
    for ci in cis:
        if ci.tune != corpus.LOST_TUNE:
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


# ---- The form score

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
    return [i is not None for i in clause_alignment(lines, template)]


def clause_alignment(lines, template):
    """For each of the template's clauses, the index of the written clause (in form_of's order)
    that reproduces it in one best alignment, or None."""
    written, wanted = form_of(lines), template.form
    # matched[i][j]: the most clauses matched between written[:i] and wanted[:j]
    matched = [[0] * (len(wanted) + 1) for _ in range(len(written) + 1)]
    for i, clause in enumerate(written, 1):
        for j, target in enumerate(wanted, 1):
            if clause == target:
                matched[i][j] = matched[i - 1][j - 1] + 1
            else:
                matched[i][j] = max(matched[i - 1][j], matched[i][j - 1])
    found = [None] * len(wanted)
    i, j = len(written), len(wanted)
    while i and j:  # walk back through the table along one best alignment
        if written[i - 1] == wanted[j - 1] and matched[i][j] == matched[i - 1][j - 1] + 1:
            found[j - 1] = i - 1
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


# ---- The command line

def print_baseline(text, found):
    """The validation split's real ci, which no version trains on, through both measures."""
    held_out = corpus.validation_ci(text)
    scores = [form_score(ci.lines, found[ci.tune]) for ci in held_out if ci.tune in found]
    print(f"{len(held_out)} ci in the validation split; {len(scores)} of them have a template")
    if scores:
        print(f"  form score {sum(scores) / len(scores):.3f} on average, "
              f"{sum(score == 1 for score in scores) / len(scores):.0%} exactly 1")
    check = CopyCheck(corpus.training_text(text))  # the index, built once
    copy = mean_check([check.check(ci.lines) for ci in held_out])
    print(f"  found in the training split: {copy['4-gram']:.1%} of 4-grams, "
          f"{copy['8-gram']:.1%} of 8-grams, longest run {copy['longest']:.1f} characters on "
          "average")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(plumbing.HERE / "data" / "songci.txt"),
                        help="the corpus")
    parser.add_argument("--list-tunes", action="store_true", help="every tune with a template")
    parser.add_argument("--tune", help="one tune's commonest forms")
    parser.add_argument("--min-ci", type=int, default=MIN_CI,
                        help="ci a tune needs for a template")
    parser.add_argument("--baseline", action="store_true", help="what real ci of the validation "
                        "split score: the form score's ceiling and the copy check's baseline")
    args = parser.parse_args(argv)
    try:
        text = corpus.read(args.data)
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    cis = corpus.split_ci(text)
    if args.baseline:
        print_baseline(text, templates(cis, args.min_ci))
        return 0
    if args.tune:
        forms = tune_forms(cis).get(corpus.tune_name(args.tune))
        if not forms:
            print(f"error: no ci of {args.tune} in {args.data}", file=sys.stderr)
            return 2
        total = sum(forms.values())
        print(f"{corpus.tune_name(args.tune)}: {total} ci in {len(forms)} forms; the commonest:")
        for form, n in forms.most_common(5):
            print(f"  {n / total:6.1%}  {n:4d}  {show_form(form)}")
        return 0
    from tools import prosody  # here: prosody reads this module

    found = templates(cis, args.min_ci)
    measured = prosody.prosodies(cis, found)
    print(f"{len(found)} tunes with at least {args.min_ci} ci in {args.data} ({len(cis)} ci):")
    print(f"{'tune':<8}{'ci':>6}{'share':>8}  commonest form (韵: where it rhymes, "
          "python -m tools.prosody --tune <tune>)")
    for template in found.values():
        print(f"{template.tune:<8}{template.count:>6}{template.share:>8.0%}  "
              f"{measured[template.tune]}")
    return 0


if __name__ == "__main__":
    plumbing.run_command(main)
