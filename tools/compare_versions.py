"""Train the seven BabyGPT versions with the same budget and seed, and compare them.

    python tools/compare_versions.py                  # the scripts' own defaults (about 12 minutes on a 2-core CPU)
    python tools/compare_versions.py --seeds 3        # each version at 3 seeds: mean and spread
    python tools/compare_versions.py --max-iters 500  # a quicker look
    python tools/compare_versions.py --help           # every flag

Writes, in --out-dir (default runs/compare):
    compare.png   validation-loss curves of the seven versions, overlaid (the first seed)
    compare.md    the table (parameters, losses, wall time, tokens/s, and the poems' measures:
                  clause-length distance, form score, copy check), as mean ± standard deviation
                  over the seeds (time and speed: the median, robust to one disturbed run); the
                  noise floors; the loss by kind of character; the samples side by side
    compare.json  every number of the table, per version and seed
    v1/ ... v7/   each version's own run files (ckpt.pt, metrics.json, loss.png, samples.txt)
    seeds/<seed>/v1/ ... v7/   the same for each further seed
and prints the table. notebooks/08_compare_versions.ipynb uses the same functions.
"""

import argparse
import dataclasses
import json
import math
import random
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import babygpt_v1_bigram  # noqa: E402 (the scripts live at the repository root)
import babygpt_v2_selfattention  # noqa: E402
import babygpt_v3_head  # noqa: E402
import babygpt_v4_multihead_attention  # noqa: E402
import babygpt_v5_residual  # noqa: E402
import babygpt_v6_feedforward  # noqa: E402
import babygpt_v7_transformer  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tools import poetry_form, scoring  # noqa: E402
from tools.cjk_font import use_cjk_font  # noqa: E402

VERSIONS = [
    babygpt_v1_bigram, babygpt_v2_selfattention, babygpt_v3_head, babygpt_v4_multihead_attention,
    babygpt_v5_residual, babygpt_v6_feedforward, babygpt_v7_transformer,
]
NOT_SHARED = ("out_dir", "sample_only")  # per-version settings, not part of the shared budget
CLAUSE_MARKS = poetry_form.CLAUSE_MARKS
# A clause: the characters before one of the marks, back to the previous mark or line break. A
# stretch that ends at a line break instead (a 词牌 title) is not a clause.
CLAUSE = re.compile(f"([^{CLAUSE_MARKS}\\s]+)[{CLAUSE_MARKS}]")
GENERATED_CHARACTERS, STREAMS = 10_000, 20  # how much text each version writes for the measure
TUNES, CI_PER_TUNE = 20, 3  # the form score: the 20 commonest tunes, 3 ci written after each name
FLOOR_DRAWS = 200  # samples of the corpus's own text for the clause-length distance's floor
SCORED_CI = 300  # the validation ci every version is scored on, character by character
SHOWCASE_TUNE = "浣溪沙"  # the first validation ci of this tune is shown coloured, version by version


def shared_fields():
    """Every Config field of any version (n_head from v4 on, n_layer in v7 only), in order, once."""
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
    return module.Config(**{k: v for k, v in settings.items() if k in known}, out_dir=str(Path(out_root) / module.VERSION))


def check_all(settings, out_root):
    """Refuse bad settings before any training, not after three versions have trained.
    Returns the corpus text (the same for every version)."""
    for module in VERSIONS:
        module.check_config(make_config(module, settings, out_root))  # v4 on: n_embd % n_head
    text = VERSIONS[0].read_corpus(make_config(VERSIONS[0], settings, out_root))
    # The clause measure starts each generated stream at a line break and counts clauses.
    VERSIONS[0].require("\n" in text, f"{settings['data']} has no line breaks: the clause-length measure "
                        "starts each sample at one; use a corpus with one line per verse")
    VERSIONS[0].require(clause_lengths(poetry_form.validation_text(text)), f"the validation split of {settings['data']} "
                        f"has no clause marks ({CLAUSE_MARKS}): the clause-length measure needs clauses")
    return text


def train_all(settings, out_root, seeds=1):
    """Train each version on the same settings, at seeds settings["seed"], +1, ... (all seven at
    one seed before the next, so an interrupted comparison still compares). Returns one result
    dict per version: the first seed's run (curves, samples) and every seed's measures."""
    text = check_all(settings, out_root)
    poems = Poems(text)  # measured once: the corpus's clause lengths, tunes and training n-grams
    runs = {module.VERSION: [] for module in VERSIONS}
    for k in range(seeds):
        seed_root = Path(out_root) if k == 0 else Path(out_root) / "seeds" / str(settings["seed"] + k)
        for module in VERSIONS:
            config = make_config(module, {**settings, "seed": settings["seed"] + k}, seed_root)
            runs[module.VERSION].append(train_and_measure(module, config, poems))
    floors = poems.floors()
    results = []
    for module in VERSIONS:
        first, *_ = runs[module.VERSION]
        measures = [run["measures"] for run in runs[module.VERSION]]
        results.append({**first, "seeds": measures, "corpus_clause_lengths": poems.corpus_lengths,
                        "floors": floors})
    return results


def train_and_measure(module, config, poems):
    """One version at one seed: trained, its samples written, its writing measured."""
    model, tokenizer, history = module.train(config)
    samples = module.write_samples(model, tokenizer, config)
    out_dir = Path(config.out_dir)
    module.write_text(out_dir / "samples.txt", module.SAMPLE_SEPARATOR.join(samples) + "\n")
    metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    lengths = clause_lengths(generated_text(model, tokenizer, config))
    distance = length_distance(lengths, poems.corpus_lengths)
    in_form = poems.measure(model, tokenizer, config)
    by_kind, showcase = poems.score(model, tokenizer, config)
    return {
        "version": module.VERSION, "concept": module.CONCEPT, "history": history,
        "parameters": metrics["parameters"], "final": metrics["final"], "prompts": list(config.prompt),
        "samples": samples, "clause_lengths": lengths, "clause_distance": distance,
        "tune_samples": in_form.pop("ci"), "showcase": showcase,
        "measures": {"seed": config.seed, "val_loss": metrics["final"]["val_loss"],
                     "train_loss": metrics["final"]["train_loss"], "clause_distance": distance,
                     "wall_seconds": metrics["final"]["wall_seconds"],
                     "tokens_per_second": metrics["final"]["tokens_per_second"], **in_form, "loss_by_kind": by_kind},
    }


class Poems:
    """The poems' measures, prepared once from the corpus: its clause lengths (validation split),
    the templates of its TUNES commonest tunes and the copy check's index of the training split."""

    def __init__(self, text):
        self.corpus_lengths = clause_lengths(poetry_form.validation_text(text))
        self.templates = list(poetry_form.templates(poetry_form.split_ci(text)).values())[:TUNES]
        self.copy = poetry_form.CopyCheck(poetry_form.training_text(text))
        self.validation_ci = poetry_form.validation_ci(text)
        self.scored = "\n\n".join(ci.text for ci in self.validation_ci[:SCORED_CI])
        tune_ci = [ci for ci in self.validation_ci if ci.tune == SHOWCASE_TUNE] or self.validation_ci[:1]
        self.showcase = tune_ci[0].text if tune_ci else ""

    def score(self, model, tokenizer, config):
        """The loss on the SCORED_CI validation ci by kind of character ({kind: mean loss}), and the
        showcase ci with the probability the model gave each of its characters after the first.
        Characters outside the model's vocabulary (another corpus) are left out."""
        known = "".join(ch for ch in self.scored if ch in tokenizer.stoi)
        logprobs = scoring.character_logprobs(model, tokenizer.encode(known))
        by_kind = scoring.loss_by_kind(logprobs, scoring.character_kinds(known, config.block_size))
        shown = "".join(ch for ch in self.showcase if ch in tokenizer.stoi)
        probs = scoring.character_logprobs(model, tokenizer.encode(shown)).exp().tolist() if shown else []
        return {kind: loss for kind, (loss, _) in by_kind.items()}, {"text": shown, "probs": probs}

    @torch.no_grad()
    def measure(self, model, tokenizer, config):
        """Form score and copy check of unconstrained writing: CI_PER_TUNE ci written after each
        tune's name (seeded, the run's sampling settings), each up to twice its template's length."""
        device = next(model.parameters()).device
        torch.manual_seed(config.seed)
        model.eval()
        scores, checks, written = [], [], []
        for template in self.templates:
            if any(ch not in tokenizer.stoi for ch in template.tune + "\n"):
                continue  # a small corpus may lack a tune's characters
            start = torch.tensor([tokenizer.encode(f"\n\n{template.tune}\n")] * CI_PER_TUNE, device=device)
            length = 2 * sum(n + len(punctuation) for n, punctuation in template.form)
            with torch.compiler.set_stance("force_eager"):  # as write_samples
                out = model.generate(start, length, config.temperature, config.top_k)  # (S, prompt + length)
            for row in out[:, start.size(1):].tolist():
                lines = poetry_form.first_ci(tokenizer.decode(row))
                scores.append(poetry_form.form_score(lines, template))
                checks.append(self.copy.check(lines))
                written.append(f"{template.tune}\n" + "\n".join(lines))
        copy = poetry_form.mean_check(checks)
        return {"form_score": mean(scores), "4-gram": copy["4-gram"], "8-gram": copy["8-gram"],
                "longest": copy["longest"], "ci": written}

    def floors(self, seed=1337):
        """What the corpus's own text scores: the noise floor of each measure. The clause-length
        distance of FLOOR_DRAWS stretches of validation text as long as a version writes (their
        mean and 90% range); the form score of the validation ci of the TUNES tunes; their copy check."""
        text = "\n\n".join(ci.text for ci in self.validation_ci)
        stream = GENERATED_CHARACTERS // STREAMS
        draw = random.Random(seed)
        distances = []
        for _ in range(FLOOR_DRAWS):  # STREAMS stretches of the text, as a version writes STREAMS streams
            starts = [draw.randrange(max(1, len(text) - stream)) for _ in range(STREAMS)]
            sample = "\n".join(text[start:start + stream] for start in starts)
            distances.append(length_distance(clause_lengths(sample), self.corpus_lengths))
        distances.sort()
        tunes = {template.tune: template for template in self.templates}
        real = [ci for ci in self.validation_ci if ci.tune in tunes]
        copy = poetry_form.mean_check([self.copy.check(ci.lines) for ci in real])
        return {
            "clause_distance": statistics.mean(distances),
            "clause_distance_90": (distances[int(0.05 * FLOOR_DRAWS)], distances[int(0.95 * FLOOR_DRAWS) - 1]),
            "form_score": mean([poetry_form.form_score(ci.lines, tunes[ci.tune]) for ci in real]),
            "ci": len(real), **{key: copy[key] for key in ("4-gram", "8-gram", "longest")},
        }


def mean(values):
    return statistics.mean(values) if values else float("nan")


def clause_lengths(text):
    """The length in characters of every clause of text, in order."""
    return [len(clause) for clause in CLAUSE.findall(text)]


def length_distance(a, b):
    """Total-variation distance between two lists' distributions of lengths: half the summed
    absolute difference of their frequencies. 0: the same distribution; 1: no length in common.
    NaN when a list is empty (a model that wrote no clause has no distribution to compare)."""
    if not a or not b:
        return float("nan")
    count_a, count_b = Counter(a), Counter(b)
    return 0.5 * sum(abs(count_a[n] / len(a) - count_b[n] / len(b)) for n in count_a.keys() | count_b.keys())


@torch.no_grad()
def generated_text(model, tokenizer, config):
    """GENERATED_CHARACTERS characters in STREAMS samples written side by side, each started at a
    line break, with the run's seed and sampling settings: the text the measure reads."""
    device = next(model.parameters()).device
    torch.manual_seed(config.seed)
    model.eval()
    start = torch.full((STREAMS, 1), tokenizer.stoi["\n"], dtype=torch.long, device=device)  # (S, 1)
    with torch.compiler.set_stance("force_eager"):  # as write_samples: no compiling for each length
        out = model.generate(start, GENERATED_CHARACTERS // STREAMS, config.temperature, config.top_k)
    return "\n".join(tokenizer.decode(row[1:].tolist()) for row in out)  # out: (S, 1 + n)


def plot_val_losses(results):
    """Validation loss against training step, one line per version."""
    use_cjk_font()
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in results:
        steps = [h["step"] for h in r["history"]]
        ax.plot(steps, [h["val_loss"] for h in r["history"]], marker=".", label=f"{r['version']} {r['concept']}")
    ax.set(title="七个版本的验证集损失 validation loss of the seven versions",
           xlabel="训练步数 training step", ylabel="验证损失 val loss (nats)")
    # Zoom in on where the versions differ: the untrained loss at step 0 (about ln V) stays off the top.
    later = [h["val_loss"] for r in results for h in r["history"][1:]]
    if later:
        margin = 0.05 * (max(later) - min(later)) + 0.01
        ax.set_ylim(min(later) - margin, max(later) + margin)
        first = results[0]["history"][0]["val_loss"]
        ax.text(0.02, 0.03, f"step 0: {first:.2f} (off the top)", transform=ax.transAxes, color="0.4")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


MEASURES = (  # the table's measures of each version: key, heading, format
    ("val_loss", "val loss", ".4f"), ("clause_distance", "clause-length distance", ".3f"),
    ("form_score", "form score", ".2f"), ("4-gram", "4-grams copied", ".1%"),
    ("8-gram", "8-grams copied", ".1%"), ("longest", "longest copy (chars)", ".1f"),
)


def spread(values, fmt):
    """mean ± standard deviation over the seeds (the value alone for one seed)."""
    if any(math.isnan(value) for value in values):
        return "n/a"  # e.g. no tune of the corpus written in the model's vocabulary
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}"


def table_markdown(results):
    lines = [
        "| version | concept | parameters | train loss | " + " | ".join(h for _, h, _ in MEASURES)
        + " | wall time (s) | tokens/s |",
        "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in MEASURES) + " | ---: | ---: |",
    ]
    for r in results:
        seeds = r["seeds"]
        cells = [spread([s[key] for s in seeds], fmt) for key, _, fmt in MEASURES]
        lines.append(
            f"| {r['version']} | {r['concept']} | {r['parameters']:,} | "
            f"{spread([s['train_loss'] for s in seeds], '.4f')} | " + " | ".join(cells) + " | "
            f"{statistics.median(s['wall_seconds'] for s in seeds):.1f} | "
            f"{statistics.median(s['tokens_per_second'] for s in seeds):,.0f} |"
        )
    return "\n".join(lines)


def steps_markdown(results):
    """Each step of the ladder: the change in mean val loss, and whether it stands clear of the
    seeds' noise (every seed of the new version below, or above, every seed of the old)."""
    if len(results[0]["seeds"]) < 2:
        return "One seed: no spread to judge the steps against (use --seeds 3)."
    lines = ["| step | val loss change | clear of the seeds' spread? |", "| --- | ---: | --- |"]
    for old, new in zip(results, results[1:]):
        before, after = [s["val_loss"] for s in old["seeds"]], [s["val_loss"] for s in new["seeds"]]
        change = statistics.mean(after) - statistics.mean(before)
        clear = max(after) < min(before) or min(after) > max(before)
        lines.append(f"| {old['version']} → {new['version']} | {change:+.4f} | "
                     f"{'yes' if clear else 'no: the seeds overlap'} |")
    return "\n".join(lines)


def floors_markdown(floors):
    low, high = floors["clause_distance_90"]
    lines = [f"What the corpus's own text scores (its validation split, no model): clause-length distance "
             f"{floors['clause_distance']:.3f} (90% of draws {low:.3f}–{high:.3f}) for text as long as "
             f"each version writes: below that, a difference in distance means nothing."]
    if floors["ci"]:
        lines.append(f"Form score {floors['form_score']:.2f} for its {floors['ci']} ci of the {TUNES} tunes "
                     f"(the ceiling: real ci vary in form). Copied from the training split: "
                     f"{floors['4-gram']:.1%} of 4-grams, {floors['8-gram']:.1%} of 8-grams, longest run "
                     f"{floors['longest']:.1f} characters on average: real, unseen writing.")
    else:
        lines.append(f"No tune has {poetry_form.MIN_CI} ci in this corpus: no form score or copy baseline.")
    return " ".join(lines)


def kinds_markdown(results):
    """Validation loss by kind of character (scoring.KINDS): where each step of the ladder gains."""
    kinds = [k for k in scoring.KINDS if k in results[0]["seeds"][0]["loss_by_kind"]]
    lines = ["| version | " + " | ".join(kinds) + " |", "| --- | " + " | ".join("---:" for _ in kinds) + " |"]
    for r in results:
        cells = [spread([s["loss_by_kind"].get(k, float("nan")) for s in r["seeds"]], ".3f") for k in kinds]
        lines.append(f"| {r['version']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def samples_markdown(results):
    """One table per prompt: the versions' samples side by side."""
    head = "| " + " | ".join(r["version"] for r in results) + " |"
    rule = "| " + " | ".join("---" for _ in results) + " |"
    parts = []
    for i, prompt in enumerate(results[0]["prompts"]):
        cells = [r["samples"][i].replace("|", "\\|").replace("\n", "<br>") for r in results]
        parts.append(f"**{prompt}**\n\n{head}\n{rule}\n| " + " | ".join(cells) + " |")
    return "\n\n".join(parts)


def budget_line(settings):
    keys = ("data", "max_iters", "batch_size", "block_size", "learning_rate", "n_embd", "seed")
    return ", ".join(f"{k} {settings[k]}" for k in keys)


def write_report(results, settings, out_root):
    out_root = Path(out_root)
    png, md, js = out_root / "compare.png", out_root / "compare.md", out_root / "compare.json"
    module = VERSIONS[0]  # the harness is the same in every script
    module.move_earlier_run_aside(out_root, (png.name, md.name, js.name))  # an earlier report is kept too
    module.write_file(png, module.png_bytes(plot_val_losses(results)))
    seeds = ", ".join(str(s["seed"]) for s in results[0]["seeds"])
    report = (
        f"# BabyGPT: the seven versions compared\n\nSame budget for all: {budget_line(settings)}; "
        f"seeds {seeds}.\n\n![validation loss](compare.png)\n\n{table_markdown(results)}\n\n"
        f"Form score: {CI_PER_TUNE} ci written after each of the {TUNES} commonest tunes' names, scored "
        f"against the tune's commonest form (0 to 1). Copied: the share of their 4- and 8-grams found "
        f"in the training split, and their longest run found there.\n\n"
        f"## Noise floors\n\n{floors_markdown(results[0]['floors'])}\n\n{steps_markdown(results)}\n\n"
        f"## Where each version gains: loss by kind of character\n\nThe first {SCORED_CI} ci of the "
        f"validation split, every character scored (nats, lower is better); a tune name's characters, "
        f"the first character of a clause, a character already in the context, the rest.\n\n"
        f"{kinds_markdown(results)}\n\n"
        f"## Samples (temperature {settings['temperature']})\n\n{samples_markdown(results)}\n"
    )
    module.write_text(md, report)
    numbers = {"settings": {k: v for k, v in settings.items() if k != "prompt"}, "floors": results[0]["floors"],
               "versions": {r["version"]: r["seeds"] for r in results}}
    module.write_text(js, json.dumps(numbers, ensure_ascii=False, indent=1) + "\n")
    return png, md


def build_parser():
    """The scripts' own flags, with their defaults (v7's parser: its Config has every field), plus
    where the comparison goes. --n-head applies from v4 on, --n-layer to v7 only."""
    parser = VERSIONS[-1].OneLineErrorParser(  # a bad flag is one line, as in the scripts
        description=__doc__.splitlines()[0], parents=[VERSIONS[-1].build_parser()], add_help=False,
        conflict_handler="resolve", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("-h", "--help", action="help", help="show this help message and exit")
    parser.add_argument("--out-dir", default=str(ROOT / "runs" / "compare"), help="where the comparison goes")
    parser.add_argument("--png-copy", metavar="PATH", help="also copy compare.png here (e.g. docs/compare.png for the README)")
    parser.add_argument("--seeds", type=int, default=1, help="train each version at this many seeds: "
                        "--seed, --seed + 1, ...; the table gives mean ± standard deviation")
    return parser


def main(argv=None):
    args = vars(build_parser().parse_args(argv))
    out_root, png_copy, seeds = args.pop("out_dir"), args.pop("png_copy"), args.pop("seeds")
    if not 1 <= seeds <= 100:
        print("error: --seeds must be from 1 to 100", file=sys.stderr)
        return 2
    if args.pop("sample_only"):
        print("error: --sample-only does not apply: the comparison trains every version", file=sys.stderr)
        return 2
    args.setdefault("prompt", VERSIONS[0].Config().prompt)
    try:
        results = train_all(args, out_root, seeds)
        png, md = write_report(results, args, out_root)
        if png_copy:
            Path(png_copy).parent.mkdir(parents=True, exist_ok=True)
            VERSIONS[0].write_file(Path(png_copy), png.read_bytes())
    except tuple(module.BabyGPTError for module in VERSIONS) as err:  # bad input, or a diverged run
        print(f"error: {err}", file=sys.stderr)
        return err.status
    except (RuntimeError, MemoryError) as err:
        if not (isinstance(err, MemoryError) or VERSIONS[0].is_out_of_memory(err)):
            raise  # a bug: keep its traceback
        print("error: out of memory: use a smaller --batch-size or --block-size", file=sys.stderr)
        return 1
    except OSError as err:  # e.g. an unwritable --png-copy
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the versions trained so far keep their files in their run folders", file=sys.stderr)
        return 130
    print("\n" + table_markdown(results))
    print(f"\nwrote {png} and {md}" + (f"; copied the figure to {png_copy}" if png_copy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
