"""Loss curves of finished runs (their metrics.json), read two ways for the Performance section.

  agree         do two runs of the same config (CPU and GPU, float32 and bfloat16) give the same
                curve? Every evaluation's train and val loss, side by side, and the largest gap.
  time-to-loss  how fast does a run get good? Each run's val loss at given seconds, and the first
                second at which it reached a target.

From the repository root:

    python -m benchmarks.curves agree runs/cpu/metrics.json runs/gpu/metrics.json --tolerance 0.05
    python -m benchmarks.curves agree runs/fp32/metrics.json runs/bf16/metrics.json --tolerance 0.02 --final-only
    python -m benchmarks.curves time-to-loss runs/preset-*/metrics.json --target 4.8 --seconds 10,20,30,40,50,60

Exit status: 0 when the runs agree (agree) or every run reached the target (time-to-loss), 1 when
not, 2 on bad input. Seconds are the `elapsed` of each evaluation: from just before the first
evaluation, so a run's evaluations and a compiled model's first slow steps are counted.
"""

import argparse
import json
import sys
from pathlib import Path

import plumbing


def load_run(path):
    try:
        metrics = json.loads(Path(path).read_text(encoding="utf-8"))
        history = metrics["history"]
        if not history or not all({"step", "train_loss", "val_loss", "elapsed"} <= h.keys() for h in history):
            raise KeyError("history")
    except OSError as err:
        raise plumbing.BabyGPTError(f"cannot read {path}: {err.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise plumbing.BabyGPTError(f"{path} is not a metrics.json that a BabyGPT script wrote") from None
    return metrics


def describe(metrics):
    c = metrics.get("config", {})
    heads = f", {c['n_head']} heads" if "n_head" in c else ""
    return (f"{metrics.get('version', '?')} on {metrics.get('device', '?')}, {c.get('dtype', '?')}"
            f"{', compile' if c.get('compile') else ''}: batch {c.get('batch_size')}, block {c.get('block_size')}, "
            f"n_embd {c.get('n_embd')}{heads}, lr {c.get('learning_rate')}")


def agree(paths, tolerance, final_only):
    """Print both curves and their gaps; True when every compared gap is within tolerance."""
    a, b = load_run(paths[0]), load_run(paths[1])
    steps_a, steps_b = [h["step"] for h in a["history"]], [h["step"] for h in b["history"]]
    if steps_a != steps_b:
        raise plumbing.BabyGPTError(f"the runs evaluated at different steps ({len(steps_a)} and {len(steps_b)} evaluations): "
                         "compare runs of the same --max-iters and --eval-interval")
    print(f"A: {paths[0]} ({describe(a)})\nB: {paths[1]} ({describe(b)})\n")
    print("| step | A train | B train | A val | B val | largest gap |\n|---|---|---|---|---|---|")
    gaps = []
    for ha, hb in zip(a["history"], b["history"]):
        gap = max(abs(ha["train_loss"] - hb["train_loss"]), abs(ha["val_loss"] - hb["val_loss"]))
        gaps.append((gap, ha["step"]))
        print(f"| {ha['step']} | {ha['train_loss']:.4f} | {hb['train_loss']:.4f} | {ha['val_loss']:.4f} | "
              f"{hb['val_loss']:.4f} | {gap:.4f} |")
    final_gap = abs(a["history"][-1]["val_loss"] - b["history"][-1]["val_loss"])
    worst, at = max(gaps)
    ok = final_gap <= tolerance if final_only else worst <= tolerance
    measured = (f"final val loss gap {final_gap:.4f} nats" if final_only
                else f"largest gap {worst:.4f} nats (step {at})")
    print(f"\n{measured}, tolerance {tolerance:g}: {'agree' if ok else 'DO NOT agree'}")
    return ok


def time_to_loss(paths, target, seconds):
    """Print each run's val loss at the given seconds; True when every run reached the target."""
    print("| run | " + " | ".join(f"{s:g} s" for s in seconds) + f" | val ≤ {target:g} at |")
    print("|---|" + "---|" * (len(seconds) + 1))
    all_reached = True
    for path in paths:
        metrics = load_run(path)
        history = metrics["history"]
        # The best val loss known by each second: the last evaluation that had finished by then.
        cells = [next((f"{h['val_loss']:.3f}" for h in reversed(history) if h["elapsed"] <= s), "–") for s in seconds]
        reached = next((h for h in history if h["val_loss"] <= target), None)
        if reached is None:
            all_reached = False
        when = f"{reached['elapsed']:.1f} s (step {reached['step']})" if reached else "not reached"
        print(f"| {describe(metrics)} | " + " | ".join(cells) + f" | {when} |")
    return all_reached


def seconds_list(value):
    try:
        seconds = [float(s) for s in value.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds separated by commas, like 10,20,30, not {value!r}") from None
    if not seconds:
        raise argparse.ArgumentTypeError("give at least one number of seconds")
    return seconds


def main(argv=None):
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=plumbing.OneLineErrorParser)
    p_agree = commands.add_parser("agree", help="do two runs give the same loss curve?")
    p_agree.add_argument("runs", nargs=2, metavar="METRICS_JSON")
    p_agree.add_argument("--tolerance", type=float, required=True, help="largest allowed gap, in nats")
    p_agree.add_argument("--final-only", action="store_true", help="compare only the final val loss")
    p_time = commands.add_parser("time-to-loss", help="val loss against wall time")
    p_time.add_argument("runs", nargs="+", metavar="METRICS_JSON")
    p_time.add_argument("--target", type=float, required=True, help="the val loss to reach")
    p_time.add_argument("--seconds", type=seconds_list, default=[10, 20, 30, 40, 50, 60], help="columns (default 10,...,60)")
    args = parser.parse_args(argv)
    try:
        if args.command == "agree":
            ok = agree(args.runs, args.tolerance, args.final_only)
        else:
            ok = time_to_loss(args.runs, args.target, args.seconds)
    except plumbing.BabyGPTError as err:  # bad input
        print(f"error: {err}", file=sys.stderr)
        return err.status
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
