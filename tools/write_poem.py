"""Write a ci to a tune with a trained BabyGPT: what decoding can impose and the model cannot.

    python -m tools.write_poem --version v7 --tune 浣溪沙
    python -m tools.write_poem --version v7 --tune 浣溪沙 --acrostic 春江花月夜好   # 藏头: each 句
    python -m tools.write_poem --version v4 --tune 菩萨蛮 --temperature 0.8 --top-p 0.9 --seed 7
    python -m tools.write_poem --version v8   # after python babygpt_v8_dropout.py --preset laptop

A ci (词) is a poem written to a tune (词牌). The model writes the tune's name, then clause by
clause: inside a clause every mark and line break is masked, so it can only choose characters; at
the clause's end the template's mark (and line break) is forced; with --acrostic each clause (句)
opens with the next given character. The form is then exact by construction. What the rules
cannot give is sense: the model's own mean log-probability of what it wrote, against writing
freely from the same start, says how hard the rules pushed it; with --rhyme and --tones, the
share of the model's probability each rule kept where it acted says what that rule cost. The copy
check says whether it wrote or copied.

Checkpoints: <--runs>/<version>/ckpt.pt (the comparison's layout, default runs/compare), else the
script's own runs/<script>/ckpt.pt.
"""

import argparse
import math
import sys
from pathlib import Path

import torch

import plumbing
from tools import checkpoints, corpus, poetry_form, prosody, sampling
from tools.copy_check import CopyCheck, mean_check
from tools.versions import BY_VERSION


def build_parser():
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0],
                                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--version", default="v7", choices=list(BY_VERSION),
                        help="which BabyGPT writes")
    parser.add_argument("--tune", default="浣溪沙",
                        help="the 词牌 (python -m tools.poetry_form lists them)")
    parser.add_argument("--acrostic", default="",
                        help="characters that open the clauses (句), in order (藏头)")
    parser.add_argument("--rhyme", nargs="?", const="", default=None, metavar="GROUP",
                        help="rhyme at the tune's rhyme positions: in GROUP (a 十三辙 name, "
                        "python -m tools.prosody lists them), or alone in the group of the "
                        "first rhyme written")
    parser.add_argument("--tones", action="store_true",
                        help="平 or 仄 at the places where the tune fixes the tone")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="over 0.001; below 1: safer choices")
    parser.add_argument("--top-k", type=int,
                        help="sample only from the k likeliest allowed characters")
    parser.add_argument("--top-p", type=float, help="sample only from the likeliest characters "
                        "whose probabilities add up to p (nucleus sampling), 0 < p <= 1")
    parser.add_argument("--seed", type=int, default=1337, help="the same seed writes the same ci")
    parser.add_argument("--runs", default=str(plumbing.HERE / "runs" / "compare"),
                        help="folder of <version>/ckpt.pt")
    parser.add_argument("--data", default=str(plumbing.HERE / "data" / "songci.txt"),
                        help="the corpus the model trained on: the tunes' forms and the copy check")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch; 0: time "
                        "a writing step at 1, 2, 4... and keep the fastest")
    return parser


def check_arguments(args):
    """One line for the first thing wrong with the command line, or None."""
    if not args.temperature > 0.001:
        return "--temperature must be over 0.001"
    if args.top_k is not None and args.top_k < 1:
        return "--top-k must be at least 1"
    # Sampling computes in float32: a p below its smallest number would be 0 there, and keep nothing.
    if args.top_p is not None and not (0 < args.top_p <= 1 and torch.tensor(args.top_p).item() > 0):
        return f"--top-p must be over 0 (in float32) and at most 1, not {args.top_p}"
    if not 0 <= args.seed < 2**64:
        return f"--seed must be between 0 and 2**64 - 1, not {args.seed}"
    return None


def main(argv=None):
    args = build_parser().parse_args(argv)
    problem = check_arguments(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        return write(args)
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status


def write(args):
    """Write the ci the arguments ask for and print it with its measures; 0, or 2 with one line
    on stderr. An unusable corpus or checkpoint is a plumbing.BabyGPTError."""
    plumbing.check_threads(args.threads)
    text = corpus.read(args.data)
    cis = corpus.split_ci(text)
    templates = poetry_form.templates(cis)
    template = templates.get(corpus.tune_name(args.tune))
    if template is None:
        print(f"error: no template for {args.tune}: the corpus has fewer than "
              f"{poetry_form.MIN_CI} ci of it; python -m tools.poetry_form lists the "
              f"{len(templates)} tunes", file=sys.stderr)
        return 2
    folder = checkpoints.checkpoint_folder(args.version, args.runs)
    if folder is None:
        script = plumbing.SCRIPTS[args.version]
        print(f"error: no {args.version} checkpoint in {Path(args.runs) / args.version} or "
              f"runs/{script}; train it: python {script}.py", file=sys.stderr)
        return 2
    model, tokenizer = checkpoints.load(args.version, folder)
    threads = plumbing.choose_writing_threads(args.threads, model)
    measured = prosody.measure(cis, template)  # where the tune rhymes, which tones it fixes
    rules = dict(measured=measured, rhyme=args.rhyme, tones=args.tones)
    problems = sampling.check_writable(tokenizer, template, args.acrostic, **rules)
    if problems:
        print(f"error: cannot write {template.tune}: {'; '.join(problems)}", file=sys.stderr)
        return 2

    knobs = dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    writing = sampling.write_in_form(model, tokenizer, template, args.acrostic, **knobs, **rules)
    free = sampling.write_free(model, tokenizer, writing.prompt, len(writing.steps), **knobs)
    lines = corpus.ci_lines(writing.written)
    copy = CopyCheck(corpus.training_text(text))
    mine = copy.check(lines)
    unseen = [ci for ci in corpus.validation_ci(text) if ci.tune == template.tune]
    real = mean_check([copy.check(ci.lines) for ci in unseen])

    print(f"CPU threads: {threads}")
    print(f"\n{template.tune}\n" + "\n".join(lines) + "\n")
    print(f"form score {poetry_form.form_score(lines, template):.2f} against {template} "
          f"(the form of {template.share:.0%} of the corpus's {template.count} {template.tune})")
    for name, score in (("rhyme", prosody.rhyme_score), ("tone", prosody.tone_score)):
        written = score(lines, measured)  # None: the tune has no rhyme position (or fixed tone)
        ceiling = prosody.mean_known([score(ci.lines, measured) for ci in unseen])
        print(f"{name} score {'—' if written is None else f'{written:.2f}'}"
              + ("" if math.isnan(ceiling) else
                 f"; its {len(unseen)} real unseen ci: {ceiling:.2f} on average"))
    print(f"  {template.tune} {measured} (韵: rhyme positions); tones {measured.pattern()}")
    if not args.acrostic:  # what the rules took, where they acted (an acrostic's places aside)
        frequency = prosody.frequencies(tokenizer, text)
        kept = prosody.expected(model, tokenizer, lines, measured, frequency)
        for kind, imposed in (("rhyme", args.rhyme is not None), ("tone", args.tones)):
            if imposed and kept and kept[kind]:
                shares, chance = zip(*kept[kind])
                print(f"  {kind}: at its {len(shares)} places the rule kept "
                      f"{sum(shares) / len(shares):.2f} of the model's probability on average "
                      f"(character frequencies alone: {sum(chance) / len(chance):.2f}), a cost of "
                      f"{sum(-math.log(x) for x in shares) / len(shares):.2f} nats per place")
    longest = mine["longest"]
    run = (f"{longest} ({len(longest)} characters)" if len(longest) >= 4
           else "none of 4 characters or more")
    print(f"copy check: 4-grams found in the training text {mine['4-gram']:.0%}, 8-grams "
          f"{mine['8-gram']:.0%}, longest copied run {run}")
    print(f"  the {len(unseen)} real {template.tune} of the validation split (unseen in "
          f"training), for comparison: {real['4-gram']:.0%}, {real['8-gram']:.0%}, "
          f"{real['longest']:.1f} characters on average")
    print(f"the model's mean log-probability per character: {writing.mean_logprob:.2f} in form, "
          f"{free.mean_logprob:.2f} writing freely from the same start (how hard the rules "
          "pushed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
