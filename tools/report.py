"""The comparison's report: the figure, the tables and the files, from train_all's results.

    png, md = write_report(results, settings, "runs/compare")   # compare.png, .md and .json
    table_markdown(results)      # one table, or any part of the report, on its own (notebook 08)

Each result is one version's, as tools/compare_versions.py's train_all returns it: its first
seed's run (curves, samples) and every seed's measures (tools/measures.py).
"""

import datetime
import json
import math
import os
import platform
import statistics
from pathlib import Path

import torch

from matplotlib.figure import Figure

import plumbing
from tools import poetry_form, scoring
from tools.cjk_font import use_cjk_font
from tools.measures import CI_PER_TUNE, SCORED_CI, TUNES

MEASURES = (  # the table's measures of each version: key, heading, format
    ("val_loss", "val loss", ".4f"), ("clause_distance", "clause-length distance", ".3f"),
    ("form_score", "form score", ".2f"), ("rhyme_score", "rhyme score", ".2f"),
    ("tone_score", "tone score", ".2f"), ("4-gram", "4-grams copied", ".1%"),
    ("8-gram", "8-grams copied", ".1%"), ("longest", "longest copy (chars)", ".1f"),
)


def plot_val_losses(results):
    """Validation loss against training step, one line per version."""
    use_cjk_font()
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in results:
        steps = [h["step"] for h in r["history"]]
        ax.plot(steps, [h["val_loss"] for h in r["history"]], marker=".",
                label=f"{r['version']} {r['concept']}")
    ax.set(title="各版本的验证集损失 validation loss of each version",
           xlabel="训练步数 training step", ylabel="验证损失 val loss (nats)")
    # Zoom in on where the versions differ: the untrained loss at step 0 (about ln V) stays off
    # the top.
    later = [h["val_loss"] for r in results for h in r["history"][1:]]
    if later:
        margin = 0.05 * (max(later) - min(later)) + 0.01
        ax.set_ylim(min(later) - margin, max(later) + margin)
        first = results[0]["history"][0]["val_loss"]
        ax.text(0.02, 0.03, f"step 0: {first:.2f} (off the top)", transform=ax.transAxes,
                color="0.4")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


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


def paired_steps(results):
    """Each step of the ladder judged pair by pair: at each seed, the new version's val loss
    minus the old one's (both trained from that seed, both scored on the same held-out
    windows). Returns one dict per step: the differences, their mean and standard deviation,
    and how many seeds point the other way from the mean."""
    steps = []
    for old, new in zip(results, results[1:]):
        before = {s["seed"]: s["val_loss"] for s in old["seeds"]}
        differences = [s["val_loss"] - before[s["seed"]] for s in new["seeds"]
                       if s["seed"] in before]
        mean = statistics.mean(differences)
        steps.append({"step": f"{old['version']} → {new['version']}",
                      "differences": differences, "mean": mean,
                      "sd": statistics.stdev(differences) if len(differences) > 1 else math.nan,
                      "against": sum(1 for d in differences if d * mean <= 0)})
    return steps


def steps_markdown(results):
    """The paired steps as a table: mean ± sd of the per-seed differences, and each seed's."""
    if len(results[0]["seeds"]) < 2:
        return "One seed: no spread to judge the steps against (use --seeds 3)."
    lines = ["| step | val loss change, paired by seed (mean ± sd) | seeds pointing the other way "
             "| each seed's change |", "| --- | ---: | ---: | --- |"]
    for step in paired_steps(results):
        each = ", ".join(f"{d:+.4f}" for d in step["differences"])
        lines.append(f"| {step['step']} | {step['mean']:+.4f} ± {step['sd']:.4f} | "
                     f"{step['against']} of {len(step['differences'])} | {each} |")
    return "\n".join(lines)


def floors_markdown(floors):
    low, high = floors["clause_distance_90"]
    lines = [f"What the corpus's own text scores (its validation split, no model): clause-length "
             f"distance {floors['clause_distance']:.3f} (90% of draws {low:.3f}–{high:.3f}) for "
             "text as long as each version writes: below that, a difference in distance means "
             "nothing."]
    if floors["ci"]:
        lines.append(f"Form score {floors['form_score']:.2f} for its {floors['ci']} ci of the "
                     f"{TUNES} tunes (the ceiling: real ci vary in form); rhyme score "
                     f"{floors['rhyme_score']:.2f}, tone score {floors['tone_score']:.2f} "
                     "(their ceilings: tools/prosody.py reads modern Mandarin's tones and rhymes, "
                     "and a rhyme position or fixed tone is what most ci do). Copied from the "
                     f"training split: {floors['4-gram']:.1%} of 4-grams, {floors['8-gram']:.1%} of "
                     f"8-grams, longest run {floors['longest']:.1f} characters on average: real, "
                     "unseen writing.")
    else:
        lines.append(f"No tune has {poetry_form.MIN_CI} ci in this corpus: no form score or copy "
                     "baseline.")
    return " ".join(lines)


def kinds_markdown(results):
    """Validation loss by kind of character (scoring.KINDS): where each step of the ladder gains."""
    kinds = [k for k in scoring.KINDS if k in results[0]["seeds"][0]["loss_by_kind"]]
    lines = ["| version | " + " | ".join(kinds) + " |",
             "| --- | " + " | ".join("---:" for _ in kinds) + " |"]
    for r in results:
        cells = [spread([s["loss_by_kind"].get(k, float("nan")) for s in r["seeds"]], ".3f")
                 for k in kinds]
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


def machine():
    """Where the numbers were measured: the CPU's name, its cores, torch and its threads, the day."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():  # Linux names the CPU here; platform.processor() often does not
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
        names = [line.split(":", 1)[1].strip() for line in text.splitlines()
                 if line.startswith("model name")]
        cpu = (names[0] if names else cpu) + (" with AVX-512" if " avx512f" in text
                                              else " without AVX-512")
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "date": datetime.date.today().isoformat()}


def threads_used(results):
    """The CPU threads the runs trained with: one number when all used the same, else each
    version's (each script times its own model: plumbing.choose_threads)."""
    by_version = {r["version"]: sorted({s.get("threads") for s in r["seeds"]}, key=str)
                  for r in results}
    counts = {n for used in by_version.values() for n in used}
    if len(counts) == 1:
        return counts.pop()
    return ", ".join(f"{v} {'/'.join(map(str, used))}" for v, used in by_version.items())


def budget_line(settings):
    keys = ("data", "max_iters", "batch_size", "block_size", "learning_rate", "n_embd", "seed")
    return ", ".join(f"{k} {settings[k]}" for k in keys)


REPORT_FILES = ("compare.png", "compare.md", "compare.json")


def write_report(results, settings, out_root):
    """compare.png, compare.md and compare.json in out_root (an earlier report's moved aside).
    Returns the paths of the figure and the report."""
    out_root = Path(out_root)
    png, md, js = (out_root / name for name in REPORT_FILES)
    plumbing.move_earlier_run_aside(out_root, REPORT_FILES)
    plumbing.write_file(png, plumbing.png_bytes(plot_val_losses(results)))
    seeds = ", ".join(str(s["seed"]) for s in results[0]["seeds"])
    report = (
        f"# BabyGPT: the versions compared\n\nSame budget for all: {budget_line(settings)}; "
        f"seeds {seeds}.\n\n![validation loss](compare.png)\n\n{table_markdown(results)}\n\n"
        f"Form score: {CI_PER_TUNE} ci written after each of the {TUNES} commonest tunes' names, "
        "scored against the tune's commonest form (0 to 1). Copied: the share of their 4- and "
        "8-grams found in the training split, and their longest run found there.\n\n"
        f"## Noise floors\n\n{floors_markdown(results[0]['floors'])}\n\n"
        f"{steps_markdown(results)}\n\n"
        f"## Where each version gains: loss by kind of character\n\nThe first {SCORED_CI} ci of "
        "the validation split, every character scored (nats, lower is better); a tune name's "
        "characters, the first character of a clause, a character already in the context, the "
        f"rest.\n\n{kinds_markdown(results)}\n\n"
        f"## Samples (temperature {settings['temperature']})\n\n{samples_markdown(results)}\n"
    )
    plumbing.write_text(md, report)
    numbers = {"settings": {k: v for k, v in settings.items() if k != "prompt"},
               "machine": {**machine(), "threads": threads_used(results)},
               "floors": results[0]["floors"],
               "parameters": {r["version"]: r["parameters"] for r in results},
               "versions": {r["version"]: r["seeds"] for r in results}}
    plumbing.write_text(js, json.dumps(numbers, ensure_ascii=False, indent=1) + "\n")
    return png, md
