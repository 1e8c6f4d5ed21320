"""CPU threads against wall time: does the scripts' timed choice run as fast as the best fixed count?

Each job runs whole, as a learner runs it, once per setting: with OMP_NUM_THREADS=1, 2, 4, ... (up
to the cores this process may use) and without it, where the scripts time a few steps and choose
(plumbing.choose_threads). The settings take turns, round after round, so that a slow minute of
the machine falls on all of them alike. Printed: the median wall time of each setting, its ratio to
the fastest fixed count, and the choice the scripts made (their header line).

    python -m benchmarks.threads                         # v4 and v7 at the defaults, notebook 08 quick: ~40 min on 2 cores
    python -m benchmarks.threads --jobs v4 --rounds 1 --max-iters 500   # a quick look
    python -m benchmarks.threads --json docs/measured/threads.json      # also keep the figures
    python -m benchmarks.threads --cost        # what the timing itself costs: about a minute

--cost runs v4 and v7 for 40 and 5,000 steps, three fresh processes each, and reads the seconds
the timing took from their header line ("timed in 1.8 s"); each is stopped right after it.
nb08 trains into notebook 08's own runs/notebooks/08_compare_versions (a run there moves to its
earlier/ first, as always); the scripts write into a temporary folder.

Run it alone: a second torch process on the same cores changes every figure.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import plumbing
from tools import report

JOBS = ("v4", "v7", "nb08")  # scripts by version; nb08: notebook 08 in quick mode (BABYGPT_QUICK)
NOTEBOOK_08 = plumbing.HERE / "notebooks" / "08_compare_versions.ipynb"
CHOICE = re.compile(r"^CPU threads: (.*)$", re.MULTILINE)
COST = re.compile(r"timed in ([0-9.]+) s")


def command(job, out_dir, max_iters):
    """The command line of one job, writing under out_dir."""
    if job == "nb08":
        return [sys.executable, "-m", "tools.run_notebooks", "--out-dir", str(out_dir),
                str(NOTEBOOK_08)]
    flags = ["--max-iters", str(max_iters)] if max_iters else []
    return [sys.executable, str(plumbing.HERE / f"{plumbing.SCRIPTS[job]}.py"), *flags,
            "--out-dir", str(out_dir)]


def run(job, threads, out_dir, max_iters):
    """(wall seconds, the script's "CPU threads:" line or None) of one job at one setting:
    threads a count, or None for the scripts' own timed choice."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    if job == "nb08":
        env["BABYGPT_QUICK"] = "1"
    start = time.perf_counter()
    result = subprocess.run(command(job, out_dir, max_iters), env=env, cwd=plumbing.HERE,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    plumbing.require(result.returncode == 0, f"{job} with OMP_NUM_THREADS={threads} failed: "
                     f"{result.stderr.strip().splitlines()[-1:]}", status=1)
    choice = CHOICE.search(result.stdout)
    return seconds, choice.group(1) if choice else None


def measure(jobs, rounds, max_iters):
    """({job: {setting: [wall seconds per round]}}, {job: [the timed runs' header lines]})."""
    settings = [*plumbing.candidate_threads(), None]  # None: no OMP_NUM_THREADS, timed choice
    times = {job: {str(s or "timed"): [] for s in settings} for job in jobs}
    choices = {job: [] for job in jobs}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(rounds):
            for job in jobs:
                for threads in settings:
                    out_dir = Path(scratch) / f"{job}-{threads}-{round_}"
                    seconds, choice = run(job, threads, out_dir, max_iters)
                    times[job][str(threads or "timed")].append(seconds)
                    if threads is None and choice:
                        choices[job].append(choice)
                    print(f"round {round_ + 1}/{rounds} {job:>4} threads {threads or 'timed':>5}:"
                          f" {seconds:7.1f} s", flush=True)
    return times, choices


def timing_cost(repeats=3):
    """{"v4, 40 steps": [seconds the timing took], ...}: each from a fresh process's header, the
    process killed once it has printed it."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    costs = {}
    with tempfile.TemporaryDirectory() as scratch:
        for version in ("v4", "v7"):
            for steps in (40, 5000):
                key = f"{version}, {steps} steps"
                costs[key] = []
                for k in range(repeats):
                    script = plumbing.HERE / f"{plumbing.SCRIPTS[version]}.py"
                    out_dir = Path(scratch) / f"{version}-{steps}-{k}"
                    with subprocess.Popen([sys.executable, str(script), "--max-iters", str(steps),
                                           "--out-dir", str(out_dir)], env=env, text=True,
                                          stdout=subprocess.PIPE, cwd=plumbing.HERE) as proc:
                        header = next(line for line in proc.stdout if line.startswith("CPU"))
                        proc.kill()
                    costs[key].append(float(COST.search(header).group(1)))
                print(f"{key}: the timing took {', '.join(f'{c:.1f}' for c in costs[key])} s",
                      flush=True)
    return costs


def table(times, choices):
    """Markdown: each job's median wall time per setting, and its ratio to the fastest fixed."""
    settings = list(next(iter(times.values())))
    lines = ["| job | " + " | ".join(f"{s} thread(s)" if s != "timed" else "timed choice"
                                      for s in settings) + " | timed / fastest fixed |",
             "| --- |" + " ---: |" * (len(settings) + 1)]
    for job, by_setting in times.items():
        medians = {s: statistics.median(t) for s, t in by_setting.items()}
        fastest = min(m for s, m in medians.items() if s != "timed")
        cells = [f"{m:.1f} s" for m in medians.values()]
        lines.append(f"| {job} | " + " | ".join(cells) + f" | {medians['timed'] / fastest:.2f} |")
    lines += ["", *(f"- {job}'s choice: {'; '.join(sorted(set(c)))}" for job, c in choices.items()
                    if c)]
    return "\n".join(lines)


def main(argv=None):
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(JOBS))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each job at each setting")
    parser.add_argument("--max-iters", type=int, default=0, help="the scripts' steps; 0: their "
                        "default (5,000)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cost", action="store_true", help="only what the timing itself costs")
    args = parser.parse_args(argv)
    try:
        plumbing.require(args.rounds > 0, "--rounds must be at least 1")
        about = {**report.machine(), "command": "python -m benchmarks.threads " +
                 " ".join(argv if argv is not None else sys.argv[1:])}
        about.pop("threads")  # each setting has its own
        print(", ".join(f"{k} {v}" for k, v in about.items()), flush=True)
        if args.cost:
            figures = {"machine": about, "timing_seconds": timing_cost()}
        else:
            times, choices = measure(args.jobs, args.rounds, args.max_iters)
            print("\n" + table(times, choices))
            figures = {"machine": about, "wall_seconds": times, "choices": choices}
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    if args.json:
        plumbing.write_text(args.json, json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
