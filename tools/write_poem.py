"""Write a ci in a tune's form with a trained BabyGPT: what decoding can impose and the model cannot.

    python tools/write_ci.py --version v7 --tune 浣溪沙
    python tools/write_ci.py --version v7 --tune 浣溪沙 --acrostic 春江花月夜好   # 藏头: each 句 opens so
    python tools/write_ci.py --version v4 --tune 菩萨蛮 --temperature 0.8 --top-p 0.9 --seed 7

The model writes the tune's name, then clause by clause: inside a clause every mark and line
break is masked, so it can only choose characters; at the clause's end the template's mark (and
line break) is forced; with --acrostic each clause (句) opens with the next given character. The
form is then exact by construction. What the rules cannot give is sense: the model's own mean
log-probability of what it wrote, against writing freely from the same start, says how hard the
rules pushed it. The copy check says whether it wrote or copied.

Checkpoints: <--runs>/<version>/ckpt.pt (the comparison's layout, default runs/compare), else the
script's own runs/<script>/ckpt.pt.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import poetry_form  # noqa: E402
from tools.compare_versions import VERSIONS  # noqa: E402

SCRIPTS = {module.VERSION: module for module in VERSIONS}
SCRIPT_RUNS = ROOT / "runs"  # where each script writes its own run: runs/<script>/


def checkpoint_folder(version, runs):
    """Where version's ckpt.pt is: runs/<version>/, else the script's own runs/<script>/."""
    module = SCRIPTS[version]
    for folder in (Path(runs) / version, SCRIPT_RUNS / Path(module.__file__).stem):
        if (folder / "ckpt.pt").is_file():
            return folder
    return None


def build_parser():
    parser = VERSIONS[0].OneLineErrorParser(description=__doc__.splitlines()[0],
                                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--version", default="v7", choices=list(SCRIPTS), help="which BabyGPT writes")
    parser.add_argument("--tune", default="浣溪沙", help="the 词牌 (python tools/poetry_form.py lists them)")
    parser.add_argument("--acrostic", default="", help="characters that open the clauses (句), in order (藏头)")
    parser.add_argument("--temperature", type=float, default=1.0, help="over 0.001; below 1: safer choices")
    parser.add_argument("--top-k", type=int, help="sample only from the k likeliest allowed characters")
    parser.add_argument("--top-p", type=float, help="sample only from the likeliest characters whose "
                        "probabilities add up to p (nucleus sampling), 0 < p <= 1")
    parser.add_argument("--seed", type=int, default=1337, help="the same seed writes the same ci")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "compare"), help="folder of <version>/ckpt.pt")
    parser.add_argument("--data", default=str(ROOT / "data" / "songci.txt"),
                        help="the corpus the model trained on: the tunes' forms and the copy check")
    return parser


def check_arguments(args):
    """One line for the first thing wrong with the command line, or None."""
    if not args.temperature > 0.001:
        return "--temperature must be over 0.001"
    if args.top_k is not None and args.top_k < 1:
        return "--top-k must be at least 1"
    if args.top_p is not None and not 0 < args.top_p <= 1:
        return "--top-p must be over 0 and at most 1"
    return None


def main(argv=None):
    args = build_parser().parse_args(argv)
    problem = check_arguments(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    module = SCRIPTS[args.version]
    try:
        corpus = module.read_corpus(module.Config(data=args.data))
    except module.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    templates = poetry_form.templates(poetry_form.split_ci(corpus))
    template = templates.get(poetry_form.tune_name(args.tune))
    if template is None:
        print(f"error: no template for {args.tune}: the corpus has fewer than {poetry_form.MIN_CI} ci of "
              f"it; python tools/poetry_form.py lists the {len(templates)} tunes", file=sys.stderr)
        return 2
    folder = checkpoint_folder(args.version, args.runs)
    if folder is None:
        print(f"error: no {args.version} checkpoint in {Path(args.runs) / args.version} or runs/"
              f"{Path(module.__file__).stem}; train it: python {Path(module.__file__).name}", file=sys.stderr)
        return 2
    try:
        model, tokenizer = module.load_checkpoint(module.Config(out_dir=str(folder), device="cpu"))
    except module.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    problems = poetry_form.check_writable(tokenizer, template, args.acrostic)
    if problems:
        print(f"error: cannot write {template.tune}: {'; '.join(problems)}", file=sys.stderr)
        return 2

    knobs = dict(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    writing = poetry_form.write_in_form(model, tokenizer, template, args.acrostic, **knobs)
    free = poetry_form.write_free(model, tokenizer, writing.prompt, len(writing.steps), **knobs)
    lines = poetry_form.ci_lines(writing)
    copy = poetry_form.CopyCheck(poetry_form.training_text(corpus))
    mine = copy.check(lines)
    unseen = [ci for ci in poetry_form.validation_ci(corpus) if ci.tune == template.tune]
    real = poetry_form.mean_check([copy.check(ci.lines) for ci in unseen])

    print(f"\n{template.tune}\n" + "\n".join(lines) + "\n")
    print(f"form score {poetry_form.form_score(lines, template):.2f} against {template} "
          f"(the form of {template.share:.0%} of the corpus's {template.count} {template.tune})")
    longest = mine["longest"]
    run = f"{longest} ({len(longest)} characters)" if len(longest) >= 4 else "none of 4 characters or more"
    print(f"copy check: 4-grams found in the training text {mine['4-gram']:.0%}, 8-grams "
          f"{mine['8-gram']:.0%}, longest copied run {run}")
    print(f"  the {len(unseen)} real {template.tune} of the validation split (unseen in training), for "
          f"comparison: {real['4-gram']:.0%}, {real['8-gram']:.0%}, {real['longest']:.1f} characters on average")
    print(f"the model's mean log-probability per character: {writing.mean_logprob:.2f} in form, "
          f"{free.mean_logprob:.2f} writing freely from the same start (how hard the rules pushed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
