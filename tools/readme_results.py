"""The READMEs' results tables, written from one committed results file, never by hand.

    python -m tools.readme_results --from runs/notebooks/08_compare_versions/compare.json
        # copy a comparison's numbers to docs/results.json, then rewrite both READMEs' tables
    python -m tools.readme_results --add runs/compare/compare.json
        # add the versions of a later comparison of some versions only (python -m
        # tools.compare_versions --versions v7 v8 --seeds 3) to docs/results.json, then the tables
    python -m tools.readme_results            # rewrite the tables from docs/results.json
    python -m tools.readme_results --check    # exit 1 if a README's table disagrees with it

The tables sit between the lines RESULTS_BEGIN and RESULTS_END of README.md and README.zh-CN.md;
everything else in the READMEs is left as it is. docs/results.json is the compare.json that
`python -m tools.compare_versions --seeds 3` or notebook 08's full run writes (tools/report.py).

--add keeps every number already in docs/results.json and takes only the versions it lacks, and
only from a comparison that proves it measured alike: the same shared settings, the same seeds,
and, for each version in both files (at least one: include the version before the new one),
exactly the same val loss at every seed. results["added"] records which versions came from which
run, and the tables say so under the table. tests/test_claims.py fails when a README and the
results file disagree; tests/test_readme_results.py tests --add.
"""

import argparse
import json
import sys
from pathlib import Path

import plumbing
from tools import report

RESULTS = plumbing.HERE / "docs" / "results.json"
READMES = {"en": plumbing.HERE / "README.md", "zh": plumbing.HERE / "README.zh-CN.md"}
RESULTS_BEGIN = "<!-- results:begin -->"  # the table below is written by this tool
RESULTS_END = "<!-- results:end -->"

WORDS = {
    "en": {
        "head": ("script", "parameters", "val loss", "change from the version before, paired by "
                 "seed", "clause-length distance", "form score"),
        "prosody_head": ("rhyme score", "tone score"),
        "prosody_note": (
            "Rhyme and tone scores (tools/prosody.py, read in modern Mandarin; higher is better): "
            "of the same unforced ci as the form score; the last row's are the ceilings, and "
            "what chance scores is in docs/writing_in_form.md."),
        "other_way": "{k} of {n} seeds the other way",
        "corpus": "real unseen ci (the validation split, no model)",
        "form_floor": "{score:.2f} (its {ci} ci of the {tunes} tunes)",
        "measured": (
            "Measured by the comparison as notebook 08 runs it (tools/compare_versions.py) with each "
            "script's defaults ({budget}), at seeds {seeds}, on {cpu} ({cores} cores; torch "
            "{torch}, torch threads: {threads}), {date}. Val "
            "loss: mean ± standard deviation over the seeds, every run scored on the same "
            "held-out windows. The change: at each seed, this version's val loss minus the one "
            "before's, as mean ± standard deviation, and how many seeds point the other way. "
            "Lower is better in the first three columns of figures, higher in form score. Speed is "
            "not in this table: a benchmark measures it (docs/performance.md)."),
        "added": (
            "{versions}: added from a later comparison of {run}, which gave the same val loss at "
            "every seed for {shared} as the run above, on {cpu} ({cores} cores; torch {torch}, "
            "torch threads: {threads}), {date}."),
    },
    "zh": {
        "head": ("脚本", "参数量", "验证损失", "与上一版本之差（同种子配对）", "句长距离", "格式分"),
        "prosody_head": ("押韵分", "平仄分"),
        "prosody_note": (
            "押韵分与平仄分（tools/prosody.py，按现代普通话读；越高越好）：与格式分是同一批没有任何强制的词；"
            "最后一行是上限，随机的字得多少分见 docs/writing_in_form.md。"),
        "other_way": "{n} 个种子中 {k} 个方向相反",
        "corpus": "真实的未见过的词（验证集，没有模型）",
        "form_floor": "{score:.2f}（{tunes} 个词牌下的 {ci} 首词）",
        "measured": (
            "由笔记本 08 所运行的对比（tools/compare_versions.py）测得：每个脚本的默认设置（{budget}），"
            "种子 {seeds}，机器为 {cpu}（{cores} 核；torch {torch}，torch 线程数：{threads}），{date}。验证损失：各种子的"
            "均值 ± 标准差，所有运行都在同一组固定的验证窗口上计算。差值：同一种子下本版本"
            "减上一版本的验证损失，给出均值 ± 标准差，以及有几个种子方向相反。前三列数字"
            "越低越好，格式分越高越好。速度不在此表中："
            "由基准测试衡量（docs/performance.md）。"),
        "added": (
            "{versions}：来自之后对 {run} 的一次对比，其中 {shared} 在每个种子上的"
            "验证损失与上面那次完全相同；机器为 {cpu}（{cores} 核；torch {torch}，"
            "torch 线程数：{threads}），{date}。"),
    },
}


def render(results, language):
    """The text between the markers: the table and the line that says how it was measured."""
    words = WORDS[language]
    versions = results["versions"]
    steps = {step["step"].split(" → ")[1]: step for step in report.paired_steps(
        [{"version": v, "seeds": seeds} for v, seeds in versions.items()])}
    # The rhyme and tone scores (tools/prosody.py), in a results file that has them
    prosody = all("rhyme_score" in s for seeds in versions.values() for s in seeds)
    head = words["head"] + (words["prosody_head"] if prosody else ())
    lines = ["| " + " | ".join(head) + " |", "| --- | " + " | ".join("---:" for _ in head[1:]) + " |"]
    for version, seeds in versions.items():
        if version in steps:
            step = steps[version]
            change = (f"{step['mean']:+.4f} ± {step['sd']:.4f} ("
                      + words["other_way"].format(k=step["against"], n=len(step["differences"]))
                      + ")")
        else:
            change = "—"  # the first version: nothing before it
        lines.append(
            f"| `{plumbing.SCRIPTS[version]}.py` | {results['parameters'][version]:,} | "
            f"{report.spread([s['val_loss'] for s in seeds], '.4f')} | {change} | "
            f"{report.spread([s['clause_distance'] for s in seeds], '.3f')} | "
            f"{report.spread([s['form_score'] for s in seeds], '.2f')} |"
            + (f" {report.spread([s['rhyme_score'] for s in seeds], '.2f')} | "
               f"{report.spread([s['tone_score'] for s in seeds], '.2f')} |" if prosody else ""))
    floors = results["floors"]
    low, high = floors["clause_distance_90"]
    form = (words["form_floor"].format(score=floors["form_score"], ci=floors["ci"],
                                       tunes=report.TUNES) if floors["ci"] else "")
    ceilings = (f" {floors['rhyme_score']:.2f} | {floors['tone_score']:.2f} |"
                if prosody and floors["ci"] else " | |" if prosody else "")
    lines.append(f"| {words['corpus']} | | | | {floors['clause_distance']:.3f} "
                 f"({low:.3f}–{high:.3f}) | {form} |{ceilings}")
    machine = results["machine"]
    seeds = ", ".join(str(s["seed"]) for s in next(iter(versions.values())))
    lines += ["", words["measured"].format(
        budget=report.budget_line(results["settings"]), seeds=seeds, **machine)]
    if prosody:
        lines[-1] += " " + words["prosody_note"]
    for added in results.get("added", []):  # versions measured by a later run (--add)
        lines += ["", words["added"].format(versions=", ".join(added["versions"]),
                                            run=", ".join(added["run"]),
                                            shared=", ".join(added["shared"]), **added["machine"])]
    return "\n".join(lines)


IGNORED_SETTINGS = {"out_dir", "device"}  # where a run wrote and ran: not what it measured


def add(results, later):
    """results with the versions it lacks taken from later, a comparison of some versions (all
    at the same settings and seeds). Refused in one line unless later measured exactly as results
    did: the shared settings equal, the same seeds, and identical val losses, seed by seed, for
    every version in both. Returns a new dict; results is unchanged."""
    settings, later_settings = results["settings"], later["settings"]
    differ = sorted(k for k in (settings.keys() & later_settings.keys()) - IGNORED_SETTINGS
                    if settings[k] != later_settings[k])
    plumbing.require(not differ, "--add: the comparison's settings differ from the results "
                     "file's: " + ", ".join(f"{k} {later_settings[k]!r}, not {settings[k]!r}"
                                            for k in differ))

    def seeds_of(versions):
        return {tuple(s["seed"] for s in seeds) for seeds in versions.values()}

    plumbing.require(seeds_of(later["versions"]) == seeds_of(results["versions"]), "--add: the "
                     f"comparison's seeds {sorted(seeds_of(later['versions']))} are not the "
                     f"results file's {sorted(seeds_of(results['versions']))}")
    shared = [v for v in later["versions"] if v in results["versions"]]
    plumbing.require(shared, "--add: the comparison shares no version with the results file, so "
                     "nothing shows that it measured alike; train the version before too "
                     "(python -m tools.compare_versions --versions v7 v8)")
    for version in shared:
        old = [s["val_loss"] for s in results["versions"][version]]
        new = [s["val_loss"] for s in later["versions"][version]]
        plumbing.require(old == new, f"--add: {version}'s val losses differ from the results "
                         f"file's ({new} against {old}): another machine, thread count (--threads), "
                         "torch or code measured it, so its numbers cannot stand in one table "
                         "with them")
    new_versions = [v for v in later["versions"] if v not in results["versions"]]
    plumbing.require(new_versions, "--add: the results file already has every version of the "
                     "comparison: nothing to add")
    merged_versions = {**results["versions"], **{v: later["versions"][v] for v in new_versions}}
    merged_parameters = {**results["parameters"],
                         **{v: later["parameters"][v] for v in new_versions}}
    order = list(plumbing.SCRIPTS)  # the course's order; a version of your own goes last

    def place(version):
        return order.index(version) if version in order else len(order)

    ranked = sorted(merged_versions, key=place)
    added = {"versions": new_versions, "run": list(later["versions"]), "shared": shared,
             "machine": later["machine"],
             "settings": {k: v for k, v in later_settings.items() if k not in settings}}
    return {**results, "versions": {v: merged_versions[v] for v in ranked},
            "parameters": {v: merged_parameters[v] for v in ranked},
            "added": [*results.get("added", []), added]}


def with_results(text, block, name):
    """text with the part between the markers replaced by block."""
    plumbing.require(text.count(RESULTS_BEGIN) == 1 and text.count(RESULTS_END) == 1,
                     f"{name} needs one line {RESULTS_BEGIN!r} and one {RESULTS_END!r}")
    head, rest = text.split(RESULTS_BEGIN)
    _, tail = rest.split(RESULTS_END)
    return f"{head}{RESULTS_BEGIN}\n{block}\n{RESULTS_END}{tail}"


def read_results(path=RESULTS):
    try:
        results = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise plumbing.BabyGPTError(f"cannot read the results file {path}: {err}") from None
    plumbing.require(isinstance(results, dict) and {"settings", "machine", "floors", "parameters",
                                                    "versions"} <= results.keys(),
                     f"{path} is not a comparison's compare.json (tools/report.py)")
    return results


def stale_readmes(results, readmes=READMES):
    """The READMEs whose table is not the one the results file gives."""
    return [path for language, path in readmes.items()
            if (text := path.read_text(encoding="utf-8"))
            != with_results(text, render(results, language), path.name)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", metavar="COMPARE_JSON",
                        help="a comparison's compare.json: copied to the results file "
                        "(docs/results.json) first")
    parser.add_argument("--add", metavar="COMPARE_JSON",
                        help="a comparison of some versions: the versions the results file "
                        "lacks are added to it, if the settings and seeds are its own and every "
                        "version in both has exactly its val losses")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a README disagrees with the results file")
    args = parser.parse_args(argv)
    try:
        if args.source:
            results = read_results(args.source)
            plumbing.write_text(RESULTS, json.dumps(results, ensure_ascii=False, indent=1) + "\n")
            print(f"copied {args.source} to {RESULTS}")
        if args.add:
            results = add(read_results(RESULTS), read_results(args.add))
            plumbing.write_text(RESULTS, json.dumps(results, ensure_ascii=False, indent=1) + "\n")
            print(f"added {', '.join(results['added'][-1]['versions'])} from {args.add} to "
                  f"{RESULTS}")
        results = read_results(RESULTS)
        if args.check:
            stale = stale_readmes(results, READMES)
            for path in stale:
                print(f"{path.name}: its results table is not the one {RESULTS.name} gives; "
                      "run python -m tools.readme_results", file=sys.stderr)
            return 1 if stale else 0
        for language, path in READMES.items():
            text = path.read_text(encoding="utf-8")
            plumbing.write_text(path, with_results(text, render(results, language), path.name))
            print(f"wrote the results table of {path.name}")
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
