"""Train the BabyGPT versions with the same budget and seed, and compare them.

    python -m tools.compare_versions                  # the scripts' defaults (about 12 minutes
                                                      # on a 2-core CPU)
    python -m tools.compare_versions --seeds 3        # each version at 3 seeds: mean and spread
    python -m tools.compare_versions --max-iters 500  # a quicker look
    python -m tools.compare_versions --versions v7 v8 # some of the versions only
    python -m tools.compare_versions --help           # every flag

Writes, in --out-dir (default runs/compare):
    compare.png   validation-loss curves of the versions, overlaid (the first seed)
    compare.md    the table (parameters, losses, wall time, tokens/s, and the poems' measures:
                  clause-length distance, form score, copy check), as mean ± standard deviation
                  over the seeds (time and speed: the median, robust to one disturbed run); each
                  step's val loss change paired by seed; the noise floors; the loss by kind of
                  character; the samples side by side
    compare.json  every number of the table, per version and seed
    v1/ ... v8/   each version's own run files (ckpt.pt, metrics.json, loss.png, samples.txt)
    seeds/<seed>/v1/ ... v8/   the same for each further seed
and prints the table and the paired steps (python -m tools.readme_results copies compare.json
to docs/results.json and writes the READMEs' tables from it). Here: the shared settings, the training and the command line; the poems'
measures are tools/measures.py, the figure and the tables tools/report.py. Notebook 08 uses the
same functions.
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import plumbing
from tools import corpus, measures, report
from tools.versions import VERSIONS

NOT_SHARED = ("out_dir", "sample_only", "resume", "preset")  # not part of the shared budget


def shared_fields():
    """Every Config field of any version (n_head from v4 on, n_layer from v7, dropout in v8), in
    order, once."""
    fields = {}
    for module in VERSIONS:
        for f in dataclasses.fields(module.Config):
            if f.name not in NOT_SHARED:
                fields.setdefault(f.name, f)
    return list(fields.values())


def field_default(f):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def default_settings():
    """The shared settings at the scripts' own defaults: a dict to adjust and pass to train_all."""
    return {f.name: field_default(f) for f in shared_fields()}


def make_config(module, settings, out_root):
    """module's Config with the shared settings it knows, writing to out_root/<version>."""
    known = {f.name for f in dataclasses.fields(module.Config)}
    return module.Config(**{k: v for k, v in settings.items() if k in known},
                         out_dir=str(Path(out_root) / module.VERSION))


def check_all(settings, out_root, versions=VERSIONS):
    """Refuse bad settings before any training, not after three versions have trained.
    Returns the corpus text (the same for every version)."""
    for module in versions:  # v4 on: n_embd % n_head
        plumbing.check_config(module, make_config(module, settings, out_root))
    text = plumbing.read_corpus(make_config(VERSIONS[0], settings, out_root))
    # The clause measure starts each generated stream at a line break and counts clauses.
    plumbing.require("\n" in text, f"{settings['data']} has no line breaks: the clause-length "
                     "measure starts each sample at one; use a corpus with one line per verse")
    plumbing.require(measures.clause_lengths(corpus.validation_text(text)),
                     f"the validation split of {settings['data']} has no clause marks "
                     f"({corpus.CLAUSE_MARKS}): the clause-length measure needs clauses")
    return text


def train_all(settings, out_root, seeds=1, versions=VERSIONS, progress=None):
    """Train each of versions (modules; all by default) on the same settings, at seeds
    settings["seed"], +1, ... (every version at one seed before the next, so an interrupted
    comparison still compares). Returns one result dict per version: the first seed's run (curves,
    samples) and every seed's measures. progress, a dict, is kept up to date: the runs "done" and
    the one "training", for an interrupted comparison to say what it left."""
    progress = {} if progress is None else progress
    progress.update(done=[], training=None)
    text = check_all(settings, out_root, versions)
    # The last comparison's report goes to earlier/ before anything trains: it never sits beside
    # the checkpoints of another run, even if this one is interrupted.
    plumbing.move_earlier_run_aside(Path(out_root), report.REPORT_FILES)
    plumbing.keep_freed_memory()  # on Linux, a faster step on the CPU (see its docstring)
    # Measured once: the corpus's clause lengths, tunes and training n-grams.
    poems = measures.Poems(text)
    runs = {module.VERSION: [] for module in versions}
    for k in range(seeds):
        seed = settings["seed"] + k
        seed_root = Path(out_root) if k == 0 else Path(out_root) / "seeds" / str(seed)
        for module in versions:
            config = make_config(module, {**settings, "seed": seed}, seed_root)
            progress["training"] = f"{module.VERSION} (seed {seed}, in {config.out_dir})"
            runs[module.VERSION].append(train_and_measure(module, config, poems))
            progress["done"].append(f"{module.VERSION} (seed {seed})")
            progress["training"] = None
    floors = poems.floors()
    results = []
    for module in versions:
        first, *_ = runs[module.VERSION]
        seed_measures = [run["measures"] for run in runs[module.VERSION]]
        results.append({**first, "seeds": seed_measures,
                        "corpus_clause_lengths": poems.corpus_lengths, "floors": floors})
    return results


def train_and_measure(module, config, poems):
    """One version at one seed: trained, its samples written, its writing measured."""
    plumbing.check_config(module, config)
    model, tokenizer, history = module.train(config)
    samples = module.write_samples(model, tokenizer, config)
    out_dir = Path(config.out_dir)
    plumbing.write_text(out_dir / "samples.txt", plumbing.SAMPLE_SEPARATOR.join(samples) + "\n")
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    final = metrics["final"]
    lengths = measures.clause_lengths(measures.generated_text(model, tokenizer, config))
    distance = measures.length_distance(lengths, poems.corpus_lengths)
    in_form = poems.measure(model, tokenizer, config)
    by_kind, showcase = poems.score(model, tokenizer, config)
    return {
        "version": module.VERSION, "concept": module.CONCEPT, "history": history,
        "parameters": metrics["parameters"], "final": final, "prompts": list(config.prompt),
        "samples": samples, "clause_lengths": lengths, "clause_distance": distance,
        "tune_samples": in_form.pop("ci"), "showcase": showcase,
        "measures": {"seed": config.seed, "val_loss": final["val_loss"],
                     "train_loss": final["train_loss"], "clause_distance": distance,
                     "wall_seconds": final["wall_seconds"],
                     "tokens_per_second": final["tokens_per_second"],
                     "threads": metrics.get("threads"), **in_form,
                     "loss_by_kind": by_kind},
    }


# ---- The command line

def build_parser():
    """The scripts' own flags, with their defaults (the last version's parser: its Config has
    every field), plus where the comparison goes. --n-head applies from v4 on, --n-layer from v7,
    --dropout and --tie-weights to v8."""
    parser = plumbing.OneLineErrorParser(  # a bad flag is one line, as in the scripts
        description=__doc__.splitlines()[0], parents=[plumbing.build_parser(VERSIONS[-1])],
        add_help=False, conflict_handler="resolve",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("-h", "--help", action="help", help="show this help message and exit")
    parser.add_argument("--out-dir", default=str(plumbing.HERE / "runs" / "compare"),
                        help="where the comparison goes")
    parser.add_argument("--png-copy", metavar="PATH",
                        help="also copy compare.png here (e.g. docs/compare.png for the README)")
    # v9 in one process trains exactly as v8 (its concept is torchrun's several processes): it
    # would only repeat v8's row, so it is trained only when named.
    parser.add_argument("--versions", nargs="+", choices=list(plumbing.SCRIPTS),
                        default=[v for v in plumbing.SCRIPTS if v != "v9"],
                        help="the versions to train and compare")
    parser.add_argument("--seeds", type=int, default=1, help="train each version at this many "
                        "seeds: --seed, --seed + 1, ...; the table gives mean ± standard deviation")
    return parser


def interrupted(progress, out_root):
    """The one line a Ctrl-C ends with: what was finished, what was training, what is left."""
    if not progress.get("training") and not progress.get("done"):
        return "interrupted before any version trained: nothing was written"
    stopped = (f"{progress['training']} was training: its folder keeps its last evaluation's "
               "checkpoint" if progress.get("training") else "no version was training")
    return (f"interrupted: {stopped}; finished: {', '.join(progress['done']) or 'none'}. No report "
            f"was written, and {out_root} now mixes this run with any earlier one (the explorer "
            "names what it mixes): run the comparison again to compare")


def main(argv=None):
    args = vars(build_parser().parse_args(argv))
    out_root, png_copy, seeds = args.pop("out_dir"), args.pop("png_copy"), args.pop("seeds")
    chosen = args.pop("versions")  # popped once: the rest of args is the shared settings
    versions = [module for module in VERSIONS if module.VERSION in chosen]  # the course's order
    if not 1 <= seeds <= 100:
        print("error: --seeds must be from 1 to 100", file=sys.stderr)
        return 2
    for name in ("sample_only", "resume", "preset"):
        if args.pop(name):
            print(f"error: {plumbing.flag(name)} does not apply: the comparison trains every "
                  "version afresh at the same settings", file=sys.stderr)
            return 2
    args.setdefault("prompt", VERSIONS[0].Config().prompt)
    progress = {}
    try:
        results = train_all(args, out_root, seeds, versions, progress)
        png, md = report.write_report(results, args, out_root)
        if png_copy:
            Path(png_copy).parent.mkdir(parents=True, exist_ok=True)
            plumbing.write_file(Path(png_copy), png.read_bytes())
    except plumbing.BabyGPTError as err:  # bad input, or a diverged run
        print(f"error: {err}", file=sys.stderr)
        return err.status
    except (RuntimeError, MemoryError) as err:
        if not (isinstance(err, MemoryError) or plumbing.is_out_of_memory(err)):
            raise  # a bug: keep its traceback
        print("error: out of memory: use a smaller --batch-size or --block-size", file=sys.stderr)
        return 1
    except OSError as err:  # e.g. an unwritable --png-copy
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupted(progress, out_root), file=sys.stderr)
        return 130
    print("\n" + report.table_markdown(results) + "\n\n" + report.steps_markdown(results))
    print(f"\nwrote {png} and {md}" + (f"; copied the figure to {png_copy}" if png_copy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
