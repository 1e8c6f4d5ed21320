"""Train the seven BabyGPT versions with the same budget and seed, and compare them.

    python tools/compare_versions.py                  # the scripts' own defaults (about 12 minutes on a 2-core CPU)
    python tools/compare_versions.py --max-iters 500  # a quicker look
    python tools/compare_versions.py --help           # every flag

Writes, in --out-dir (default runs/compare):
    compare.png   validation-loss curves of the seven versions, overlaid
    compare.md    the table (parameters, final losses, wall time, tokens/s, clause-length distance)
                  and the samples side by side
    v1/ ... v7/   each version's own run files (ckpt.pt, metrics.json, loss.png, samples.txt)
and prints the table. notebooks/08_compare_versions.ipynb uses the same functions.
"""

import argparse
import dataclasses
import json
import re
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

from tools.cjk_font import use_cjk_font  # noqa: E402

VERSIONS = [
    babygpt_v1_bigram, babygpt_v2_selfattention, babygpt_v3_head, babygpt_v4_multihead_attention,
    babygpt_v5_residual, babygpt_v6_feedforward, babygpt_v7_transformer,
]
NOT_SHARED = ("out_dir", "sample_only")  # per-version settings, not part of the shared budget
CLAUSE_MARKS = "，。、；：？！"
# A clause: the characters before one of the marks, back to the previous mark or line break. A
# stretch that ends at a line break instead (a 词牌 title) is not a clause.
CLAUSE = re.compile(f"([^{CLAUSE_MARKS}\\s]+)[{CLAUSE_MARKS}]")
GENERATED_CHARACTERS, STREAMS = 10_000, 20  # how much text each version writes for the measure


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
    VERSIONS[0].require(clause_lengths(validation_text(text)), f"the validation split of {settings['data']} "
                        f"has no clause marks ({CLAUSE_MARKS}): the clause-length measure needs clauses")
    return text


def train_all(settings, out_root):
    """Train each version on the same settings; returns one result dict per version."""
    corpus = clause_lengths(validation_text(check_all(settings, out_root)))  # measured once
    results = []
    for module in VERSIONS:
        config = make_config(module, settings, out_root)
        model, tokenizer, history = module.train(config)
        samples = module.write_samples(model, tokenizer, config)
        lengths = clause_lengths(generated_text(model, tokenizer, config))
        out_dir = Path(config.out_dir)
        module.write_text(out_dir / "samples.txt", module.SAMPLE_SEPARATOR.join(samples) + "\n")
        metrics = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
        results.append({
            "version": module.VERSION, "concept": module.CONCEPT, "history": history,
            "parameters": metrics["parameters"], "final": metrics["final"],
            "prompts": list(config.prompt), "samples": samples, "clause_lengths": lengths,
            "corpus_clause_lengths": corpus, "clause_distance": length_distance(lengths, corpus),
        })
    return results


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


def validation_text(text):
    """The last 10% of the corpus, as the scripts split it: text no version trained on."""
    return text[int(0.9 * len(text)):]


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


def table_markdown(results):
    lines = [
        "| version | concept | parameters | train loss | val loss | wall time (s) | tokens/s | "
        "clause-length distance |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        f = r["final"]
        lines.append(
            f"| {r['version']} | {r['concept']} | {r['parameters']:,} | {f['train_loss']:.4f} | "
            f"{f['val_loss']:.4f} | {f['wall_seconds']:.1f} | {f['tokens_per_second']:,.0f} | "
            f"{r['clause_distance']:.3f} |"
        )
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
    png, md = out_root / "compare.png", out_root / "compare.md"
    module = VERSIONS[0]  # the harness is the same in every script
    module.move_earlier_run_aside(out_root, (png.name, md.name))  # an earlier report is kept too
    module.write_file(png, module.png_bytes(plot_val_losses(results)))
    report = (
        f"# BabyGPT: the seven versions compared\n\nSame budget and seed for all: {budget_line(settings)}.\n\n"
        f"![validation loss](compare.png)\n\n{table_markdown(results)}\n\n"
        f"## Samples (temperature {settings['temperature']})\n\n{samples_markdown(results)}\n"
    )
    module.write_text(md, report)
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
    return parser


def main(argv=None):
    args = vars(build_parser().parse_args(argv))
    out_root, png_copy = args.pop("out_dir"), args.pop("png_copy")
    if args.pop("sample_only"):
        print("error: --sample-only does not apply: the comparison trains every version", file=sys.stderr)
        return 2
    args.setdefault("prompt", VERSIONS[0].Config().prompt)
    try:
        results = train_all(args, out_root)
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
