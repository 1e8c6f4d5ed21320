#!/usr/bin/env bash
# One script's default run, end to end, at an earlier commit and in this working tree, taking
# turns (old new, new old, ...), REPEAT times each: the medians and their ratio, and whether the
# two wrote the same losses (the same seed must give the same numbers: a speed-up changes no math).
#
#   bash benchmarks/paired_e2e.sh a09c876                      # v4, 3 repeats each
#   SCRIPT=babygpt_v7_transformer.py REPEAT=5 bash benchmarks/paired_e2e.sh a09c876
#
# Time nothing else meanwhile: two torch processes on a small machine slow each other many times.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: paired_e2e.sh COMMIT}
script=${SCRIPT:-babygpt_v4_multihead_attention.py}
repeat=${REPEAT:-3}
python=${PYTHON:-python}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --quiet --detach "$work/old" "$rev"

run() {  # run SIDE N: one default run; prints its wall seconds
    local dir=$1 side=$2 n=$3 start end
    start=$EPOCHREALTIME
    (cd "$dir" && $python "$script" --out-dir "$work/$side-$n" >/dev/null 2>&1)
    end=$EPOCHREALTIME
    awk "BEGIN { printf \"%.2f\", $end - $start }"
}

old=() new=()
for n in $(seq "$repeat"); do
    if [ $((n % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
    for side in $order; do
        if [ "$side" = old ]; then dir="$work/old"; else dir="$PWD"; fi
        seconds=$(run "$dir" "$side" "$n")
        echo "run $n $side: $seconds s"
        if [ "$side" = old ]; then old+=("$seconds"); else new+=("$seconds"); fi
    done
done

$python - "$work" "$repeat" "${old[@]}" "${new[@]}" <<'EOF'
import json, statistics, sys
work, repeat = sys.argv[1], int(sys.argv[2])
old, new = [float(x) for x in sys.argv[3:3 + repeat]], [float(x) for x in sys.argv[3 + repeat:]]
ratios = [o / n for o, n in zip(old, new)]
print(f"old median {statistics.median(old):.1f} s, new median {statistics.median(new):.1f} s; "
      f"old/new per pair {', '.join(f'{r:.2f}' for r in ratios)}, median {statistics.median(ratios):.2f}x")
histories = {side: [json.load(open(f"{work}/{side}-{n}/metrics.json"))["history"] for n in range(1, repeat + 1)]
             for side in ("old", "new")}
for side, runs in histories.items():  # each interval: its steps and the evaluation that ends it
    per_step = [statistics.median((b["elapsed"] - a["elapsed"]) * 1e3 / (b["step"] - a["step"])
                                  for a, b in zip(history, history[1:])) for history in runs]
    print(f"{side}: ms per step, evaluations included (median over each run's intervals): "
          f"{', '.join(f'{ms:.2f}' for ms in per_step)}")
losses = {side: [[(h["train_loss"], h["val_loss"]) for h in history] for history in runs]
          for side, runs in histories.items()}
same = all(run == losses["old"][0] for side in losses for run in losses[side])
print("losses: identical in every run" if same else "losses: DIFFER between runs")
EOF
