"""What data parallelism costs on this machine: v9 in one process against torchrun's 2 processes.

Each run trains v9 for --steps steps on the full corpus, with the same global batch: one process
with 1 thread, one process with 2 threads, and `torchrun --standalone --nproc_per_node 2` with
1 thread per process (each takes half of every batch). The time per step is read from the run's
metrics.json: from the end of the evaluation at step 0 to the end of the last one, over the steps
(the evaluations use --eval-iters 1, so they take almost nothing). Starting the processes and
importing torch are not counted.

Two settings: the shared defaults, and --preset laptop (the payoff's size). The three runs of a
setting take turns, --repeat times, and each figure is their median. On a CPU the processes share
its cores: what N processes buy on N GPUs cannot be read from here. Name the machine with the
figures; nothing else may run meanwhile.

    python -m benchmarks.ddp_cost               # about 5 minutes, from the repository root
    python -m benchmarks.ddp_cost --repeat 1 --steps 20 --preset-steps 0 --data data/songci300.txt
                                                 # a smoke test: seconds, no figure to keep
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import plumbing
from tools.report import machine

SCRIPT = plumbing.HERE / "babygpt_v9_ddp.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
WAYS = {  # name: (the command before the script's path, OMP_NUM_THREADS)
    "1 process, 1 thread": ([sys.executable], "1"),
    "1 process, 2 threads": ([sys.executable], "2"),
    "torchrun, 2 processes of 1 thread": (TORCHRUN, "1"),
}


def ms_per_step(way, flags, out_dir):
    """Train once the way named; the milliseconds per training step, from its metrics.json."""
    launcher, threads = WAYS[way]
    env = {**os.environ, "OMP_NUM_THREADS": threads}
    result = subprocess.run([*launcher, str(SCRIPT), *flags, "--out-dir", str(out_dir)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode:
        sys.exit(f"{way} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    history = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))["history"]
    first, last = history[0], history[-1]
    return 1000 * (last["elapsed"] - first["elapsed"]) / (last["step"] - first["step"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps at the shared defaults")
    parser.add_argument("--preset-steps", type=int, default=30,
                        help="steps at --preset laptop; 0: the shared defaults only")
    parser.add_argument("--data", default="data/songci.txt", help="the corpus (the figures: the full one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way, taking turns")
    args = parser.parse_args(argv)
    settings = {"shared defaults (batch 16)": ["--max-iters", str(args.steps)]}
    if args.preset_steps:
        settings["--preset laptop (batch 32)"] = ["--preset", "laptop", "--max-iters",
                                                  str(args.preset_steps)]
    about = {key: value for key, value in machine().items() if key != "threads"}  # each way its own
    print(f"v9, the same global batch every way | {json.dumps(about)}")
    with tempfile.TemporaryDirectory() as tmp:
        for setting, flags in settings.items():
            steps = int(flags[-1])
            flags = [*flags, "--eval-interval", str(steps), "--eval-iters", "1", "--device", "cpu",
                     "--max-new-tokens", "1", "--data", args.data]
            times = {way: [] for way in WAYS}
            for repeat in range(args.repeat):
                for way in WAYS:
                    out_dir = Path(tmp) / f"{len(times[way])}-{way.replace(' ', '_')}"
                    times[way].append(ms_per_step(way, flags, out_dir))
            print(f"\n{setting}, {steps} steps, median of {args.repeat}:")
            alone = statistics.median(times["1 process, 1 thread"])
            for way, runs in times.items():
                median = statistics.median(runs)
                print(f"  {way:36} {median:8.1f} ms/step  {median / alone:5.2f}x the first"
                      f"  (runs: {', '.join(f'{t:.1f}' for t in runs)})")


if __name__ == "__main__":
    main()
