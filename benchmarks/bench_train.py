"""Training speed: the project's harness against the textbook training loop, side by side.

For each setting and version, two loops train the same model (imported from the four scripts) on
the same data, in this one process, taking turns so that load on the machine hits both alike:

  harness   the scripts' own train(): batches drawn on the device by index arithmetic, few host
            syncs, evaluation in a few large forward passes, fused AdamW; checkpoints, metrics and
            the loss plot included (written to a temporary folder, never into the repo).
  textbook  the lecture-style loop (below): batches stacked from Python slices on the CPU, then
            copied to the device; loss.item() every step; an evaluation that calls .item() per batch.

Measured: median milliseconds per training step after warm-up (chunks of steps timed in turns, the
device synchronised only at chunk ends), tokens per second, peak memory, and the end-to-end wall time of a
fixed run with all its evaluations (the same steps and the same number of evaluated sequences). The
ratios are medians over the repeats of each repeat's own ratio (its two runs are back to back).

    python benchmarks/bench_train.py --quick                       # under a minute on a laptop CPU
    python benchmarks/bench_train.py --settings textbook --versions v4 --repeat 3
    python benchmarks/bench_train.py --device cuda --settings default,textbook,gpu --dtype bfloat16 --compile
"""

import argparse
import contextlib
import dataclasses
import importlib
import io
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VERSIONS = {
    "v1": "babygpt_v1_bigram",
    "v2": "babygpt_v2_selfattention",
    "v3": "babygpt_v3_head",
    "v4": "babygpt_v4_multihead_attention",
}
SETTINGS = {
    "default": {},  # the scripts' own Config defaults
    # The setting of the well-known lecture: a small model, and evaluation as costly as training.
    "textbook": dict(batch_size=32, block_size=8, n_embd=32, n_head=4, max_iters=5000,
                     eval_interval=500, eval_iters=200, learning_rate=1e-2),
    # GPU preset: chosen by reasoning, NOT yet measured on a GPU (see README, Performance).
    "gpu": dict(batch_size=256, block_size=64, n_embd=256, n_head=8, max_iters=3000,
                eval_interval=250, eval_iters=10, learning_rate=3e-3),
}
QUICK = dict(max_iters=100, eval_interval=50, eval_iters=10, data="data/songci300.txt")
TIMING = {"full": (20, 10, 20), "quick": (5, 5, 10)}  # warm-up steps, timed chunks, steps per chunk


# ----------------------------------------------------------------------------------------------
# The textbook loop: the lecture-style baseline, written the way the well-known lecture code does it
# ----------------------------------------------------------------------------------------------

def textbook_get_batch(data, batch_size, block_size, device):
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in ix])  # Python slices, stacked on the CPU
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    return x.to(device), y.to(device)  # then copied to the device, every step


@torch.no_grad()
def textbook_estimate_loss(model, splits, config, device):
    out = {}
    model.eval()
    for name, data in splits.items():
        losses = torch.zeros(config.eval_iters)
        for k in range(config.eval_iters):
            _, loss = model(*textbook_get_batch(data, config.batch_size, config.block_size, device))
            losses[k] = loss.item()  # one host sync per batch
        out[name] = losses.mean().item()
    model.train()
    return out


def textbook_setup(module, config, device):
    text = Path(config.data).read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)  # stays on the CPU
    n = int(0.9 * len(data))
    torch.manual_seed(config.seed)
    model = module.BabyGPT(config, len(chars)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    return model, optimizer, {"train": data[:n], "val": data[n:]}


def textbook_step(model, optimizer, splits, config, device):
    xb, yb = textbook_get_batch(splits["train"], config.batch_size, config.block_size, device)
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()  # every step: the host waits for the device


def textbook_train(module, config, device):
    model, optimizer, splits = textbook_setup(module, config, device)
    losses = None
    for it in range(config.max_iters):  # evaluates at 0, eval_interval, ... and the last step
        if it % config.eval_interval == 0 or it == config.max_iters - 1:
            losses = textbook_estimate_loss(model, splits, config, device)
        textbook_step(model, optimizer, splits, config, device)
    return losses["val"]


# ----------------------------------------------------------------------------------------------
# The harness: its own train() end to end; for step timing, its training step as train() runs it
# ----------------------------------------------------------------------------------------------

def harness_train(module, config, device):
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):  # silence the progress bar
        _, _, history = module.train(dataclasses.replace(config, device=device, out_dir=tmp))
    return history[-1]["val_loss"]


def harness_stepper(module, config, device):
    """The training step of module.train(), with its optimizer, dtype and compile options."""
    text = module.load_text(module.resolve_input(config.data))
    data = torch.tensor(module.Tokenizer(text).encode(text), dtype=torch.long, device=device)
    torch.manual_seed(config.seed)
    model = module.BabyGPT(config, len(set(text))).to(device)
    optimizer, schedule, autocast, forward = module.setup_training(model, config, device)
    train_data = data[: int(0.9 * len(data))]

    def step():
        xb, yb = module.get_batch(train_data, config.batch_size, config.block_size)
        module.train_step(forward, optimizer, schedule, autocast, xb, yb)
    return step


# ----------------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------------

def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


class PeakMemory:
    """Peak memory of a block, in MB: CUDA's allocator peak, else the process RSS sampled every 10 ms."""

    def __init__(self, device):
        self.device, self.peak, self.running = device, 0.0, False

    @staticmethod
    def rss():
        try:
            return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return float("nan")

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)

    def __enter__(self):
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        else:
            self.running, self.peak = True, self.rss()
            self.thread = threading.Thread(target=self.sample, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.device == "cuda":
            self.peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            self.running = False
            self.thread.join()


def make_step(loop, module, config, device):
    if loop == "harness":
        return harness_stepper(module, config, device)
    model, optimizer, splits = textbook_setup(module, config, device)
    return lambda: textbook_step(model, optimizer, splits, config, device)


def time_steps(steps, device, quick):
    """Median milliseconds per step of each loop: chunks of steps timed in turns, after a warm-up."""
    warmup_steps, timed_chunks, chunk_steps = TIMING["quick" if quick else "full"]
    per_step = {loop: [] for loop in steps}
    for step in steps.values():
        for _ in range(warmup_steps):
            step()
    sync(device)
    for _ in range(timed_chunks):
        for loop, step in steps.items():  # take turns, chunk by chunk: load hits both alike
            start = time.perf_counter()
            for _ in range(chunk_steps):
                step()
            sync(device)
            per_step[loop].append((time.perf_counter() - start) * 1e3 / chunk_steps)
    return {loop: statistics.median(ms) for loop, ms in per_step.items()}


def run_end_to_end(loop, module, config, device):
    """A full run, its evaluations included: wall seconds, final val loss, peak memory."""
    with PeakMemory(device) as memory:
        sync(device)
        start = time.perf_counter()
        val = (harness_train if loop == "harness" else textbook_train)(module, config, device)
        sync(device)
        wall = time.perf_counter() - start
    return {"wall": wall, "val": val, "peak": memory.peak}


def paired_ratio(results, key):
    """Median over the repeats of textbook / harness for one measure.

    The two loops of a repeat ran back to back, so a machine that slows down for a minute slows
    both sides of that repeat's ratio alike; a ratio of medians would mix slow and fast minutes.
    """
    return statistics.median(t[key] / h[key] for h, t in zip(results["harness"], results["textbook"]))


def build_config(module, setting, args):
    fields = {f.name for f in dataclasses.fields(module.Config)}
    overrides = {**SETTINGS[setting], **(QUICK if args.quick else {})}
    overrides.update(dtype=args.dtype, compile=args.compile, device=args.device)
    config = module.Config(**{k: v for k, v in overrides.items() if k in fields})  # v1-v3 have no n_head
    return dataclasses.replace(config, data=str(module.resolve_input(config.data).resolve()))


def comma_list(choices):
    def parse(value):
        items = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}, not {value!r}")
        return items
    return parse


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None):
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"])
    parser.add_argument("--quick", action="store_true", help="a small run: 100 steps on data/songci300.txt, v4, textbook setting")
    parser.add_argument("--settings", type=comma_list(list(SETTINGS)), action="append",
                        help="default, textbook, gpu; repeat or comma-separate (default: default,textbook; gpu too on CUDA)")
    parser.add_argument("--versions", type=comma_list(list(VERSIONS)), action="append", help="v1..v4 (default: all; v4 with --quick)")
    parser.add_argument("--repeat", type=int, default=None, help="measurements of each loop; medians are reported (default 3; 1 with --quick)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "tf32", "bfloat16"], help="the harness's --dtype")
    parser.add_argument("--compile", action="store_true", help="the harness's --compile")
    args = parser.parse_args(argv)
    try:
        args.device = importlib.import_module(VERSIONS["v4"]).pick_device(args.device)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.repeat is not None and args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    settings = [s for group in args.settings for s in group] if args.settings else (
        ["textbook"] if args.quick else ["default", "textbook"] + (["gpu"] if args.device == "cuda" else []))
    versions = [v for group in args.versions for v in group] if args.versions else (["v4"] if args.quick else list(VERSIONS))
    repeat = args.repeat or (1 if args.quick else 3)
    settings, versions = list(dict.fromkeys(settings)), list(dict.fromkeys(versions))

    machine = torch.cuda.get_device_name() if args.device == "cuda" else f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"# bench_train {date.today()} | device {args.device} ({machine}{load}) | torch {torch.__version__} | "
          f"harness dtype {args.dtype}{', compile' if args.compile else ''}{' | QUICK' if args.quick else ''}", flush=True)
    rows, speedups = [], {}
    for setting in settings:
        for version in versions:
            module = importlib.import_module(VERSIONS[version])
            config = build_config(module, setting, args)
            results = {"harness": [], "textbook": []}
            for r in range(repeat):
                order = ["harness", "textbook"] if r % 2 == 0 else ["textbook", "harness"]  # take turns
                ms = time_steps({loop: make_step(loop, module, config, args.device) for loop in order}, args.device, args.quick)
                for loop in order:
                    results[loop].append({"ms": ms[loop], **run_end_to_end(loop, module, config, args.device)})
                    m = results[loop][-1]
                    print(f"  {setting:8} {version} {loop:8} run {r + 1}/{repeat}: {m['ms']:.2f} ms/step, "
                          f"{m['wall']:.1f} s end to end, val {m['val']:.4f}", flush=True)
            med = {loop: {k: statistics.median(m[k] for m in ms) for k in ("ms", "wall", "val", "peak")}
                   for loop, ms in results.items()}
            step_ratio, wall_ratio = paired_ratio(results, "ms"), paired_ratio(results, "wall")
            print(f"  {setting:8} {version} end to end, textbook/harness in each run: "
                  + ", ".join(f"{t['wall'] / h['wall']:.2f}×" for h, t in zip(results["harness"], results["textbook"])), flush=True)
            speedups[setting, version] = wall_ratio
            tokens = config.batch_size * config.block_size
            for loop in ("harness", "textbook"):
                m = med[loop]
                rows.append([setting, version, loop, f"{m['ms']:.2f}", f"{tokens / m['ms'] * 1e3:,.0f}",
                             f"{m['peak']:.0f}", f"{m['wall']:.1f}", f"{m['val']:.4f}",
                             f"{step_ratio:.2f}×" if loop == "harness" else "1.00×",
                             f"{wall_ratio:.2f}×" if loop == "harness" else "1.00×"])

    print()
    peak = "peak MB (allocated)" if args.device == "cuda" else "peak MB (RSS)"
    header = ["setting", "version", "loop", "ms/step (median)", "tokens/s", peak, "end-to-end s",
              "final val loss", "steps/s vs textbook", "end-to-end vs textbook"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if ("textbook", "v4") in speedups:
        print(f"\nv4 textbook-setting speedup: {speedups['textbook', 'v4']:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
