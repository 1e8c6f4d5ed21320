"""Training speed: the project's harness against the textbook training loop, side by side.

For each setting and version, two loops train the same model (imported from the scripts) on
the same data, in this one process, one run after the other:

  harness   the scripts' own train(), called whole: batches drawn on the device by index
            arithmetic, few host syncs (an evaluation's losses stay on the device until their
            mean); checkpoints, metrics and the loss plot included (written to a temporary folder).
  textbook  the lecture-style loop (below): batches stacked from Python slices on the CPU, then
            copied to the device; loss.item() every step; an evaluation that calls .item() per batch.
            It uses the scripts' optimizer (fused AdamW) and cosine schedule, not the lecture's
            plain AdamW at a fixed rate: the two differ in the loop alone.

The textbook loop times each stretch of training steps between two evaluations. train() is not
changed for the benchmark: its stretches come from the `elapsed` that each evaluation records
(history in metrics.json), less the cost of one evaluation with its saving, measured on the
trained model afterwards with torch.utils.benchmark. Measured: the median milliseconds per step
over the stretches (the first left out: it warms up), tokens per second, peak memory, and the
run's end-to-end wall time with all its evaluations. Each repeat runs the two loops back to back,
in alternating order; the ratios are medians over the repeats of each repeat's own ratio.

From the repository root:

    python -m benchmarks.bench_train --quick                       # under a minute on a laptop CPU
    python -m benchmarks.bench_train --settings textbook --versions v4 --repeat 3
    python -m benchmarks.bench_train --device cuda --settings default,textbook,gpu --dtype bfloat16 --compile
"""

import argparse
import contextlib
import dataclasses
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
from torch.utils import benchmark

import plumbing
from tools.versions import BY_VERSION

SETTINGS = {
    "default": {},  # the scripts' own Config defaults
    # The setting of the well-known lecture: a small model, and evaluation as costly as training.
    "textbook": dict(batch_size=32, block_size=8, n_embd=32, n_head=4, max_iters=5000,
                     eval_interval=500, eval_iters=200, learning_rate=1e-2),
    # GPU preset: chosen by reasoning, NOT yet measured on a GPU (see README, Performance).
    "gpu": dict(batch_size=256, block_size=64, n_embd=256, n_head=8, n_layer=6, max_iters=3000,
                eval_interval=250, eval_iters=10, learning_rate=3e-3),
}
QUICK = dict(max_iters=100, eval_interval=50, eval_iters=10, data="data/songci300.txt")


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
    if device == "cpu":  # the threads the scripts' train() would choose (timed once a process)
        plumbing.choose_threads(config, model, len(chars))
    # The scripts' optimizer and schedule (the lecture's is a plain AdamW at a fixed rate): the two
    # loops then differ only in how they feed, evaluate and sync, and their losses are comparable.
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, fused=True)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.max_iters,
                                                          eta_min=config.learning_rate / 10)
    return model, optimizer, schedule, {"train": data[:n], "val": data[n:]}


def textbook_step(model, optimizer, schedule, splits, config, device):
    xb, yb = textbook_get_batch(splits["train"], config.batch_size, config.block_size, device)
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    schedule.step()
    return loss.item()  # every step: the host waits for the device


def textbook_train(module, config, device):
    """The whole run. Returns the final val loss and the stretches between two evaluations, each as
    (steps, seconds)."""
    model, optimizer, schedule, splits = textbook_setup(module, config, device)
    stretches = []
    for it in range(config.max_iters):  # evaluates at 0, eval_interval, ... and the last step
        if it % config.eval_interval == 0 or it == config.max_iters - 1:
            # The steps since the last evaluation, timed by hand: they are a real run's, not one
            # statement timed again and again, and loss.item() made the host wait for each of them.
            if it > 0:
                stretches.append((it - first, time.perf_counter() - start))
            losses = textbook_estimate_loss(model, splits, config, device)
            first, start = it, time.perf_counter()
        textbook_step(model, optimizer, schedule, splits, config, device)
    return losses["val"], stretches


# ----------------------------------------------------------------------------------------------
# The harness: the scripts' own train(), whole
# ----------------------------------------------------------------------------------------------

def harness_train(module, config, device):
    """train() whole; returns its final val loss, its stretches between two evaluations as
    (steps, seconds), and its wall time."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):  # silence the progress bar
        config = dataclasses.replace(config, device=device, out_dir=tmp)
        plumbing.check_config(module, config)  # as the scripts' main() does before train()
        start = time.perf_counter()  # by hand: one whole run, timed once
        model, tokenizer, history = module.train(config)  # its last evaluation's .item() synced
        wall = time.perf_counter() - start
        evaluation = evaluation_seconds(module, model, tokenizer, config)
    # Each interval's time, less the evaluation that ends it.
    stretches = [(b["step"] - a["step"], b["elapsed"] - a["elapsed"] - evaluation)
                 for a, b in zip(history, history[1:])]
    return history[-1]["val_loss"], stretches, wall


def evaluation_seconds(module, model, tokenizer, config):
    """What one of train()'s evaluations costs: estimate_loss, then the log's line and files."""
    data = torch.tensor(tokenizer.encode(plumbing.read_corpus(config)), dtype=torch.long)
    n = int(0.9 * len(data))
    device = module.choose_device(config.device)
    splits = {"train": data[:n].to(device), "val": data[n:].to(device)}  # as train() splits it
    # ckpt.pt holds the optimizer's moments too (for --resume): one step at learning rate 0 makes
    # them, as training has, and leaves the weights as they are.
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.max_iters)
    log = plumbing.TrainingLog(config, model, optimizer, schedule, tokenizer, device, module.VERSION,
                               module.CONCEPT)

    def evaluation():
        log.evaluation(config.max_iters, module.estimate_loss(model, splits, config))

    return timed_ms(evaluation, seconds=2) / 1e3


def ms_per_step(stretches):
    """Median over the stretches (steps, seconds) of the time per step, the first stretch left
    out: it warms up."""
    per_step = [seconds * 1e3 / steps for steps, seconds in stretches[1:]]
    return statistics.median(per_step) if per_step else float("nan")


# ----------------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------------

def timed_ms(work, seconds):
    """The median milliseconds of work(), called again and again for about `seconds` after a
    warm-up, by torch.utils.benchmark (which waits for a GPU to finish before each reading). At
    the number of threads torch uses now: Timer's own default is one."""
    timer = benchmark.Timer("work()", globals={"work": work}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=seconds).median * 1e3


PROC_STATM = Path("/proc/self/statm")  # Linux: the process's memory, in pages


def rss_now():
    """The process's resident memory now, in MB (Linux)."""
    return int(PROC_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def max_rss_so_far():
    """The process's largest resident memory so far, in MB (macOS, and Unix without /proc):
    getrusage's ru_maxrss counts bytes on macOS, kilobytes elsewhere."""
    import resource  # not on Windows
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def mps_allocated():
    return torch.mps.driver_allocated_memory() / 2**20


def not_measured():
    return float("nan")


def memory_reader(device):
    """How this platform can tell the memory in use: (a function giving MB, what it measures)."""
    if device == "cuda":
        return None, "allocated"  # the allocator's own peak, read once at the end
    if device == "mps":
        return mps_allocated, "MPS driver"
    if PROC_STATM.exists():
        return rss_now, "RSS"
    if os.name == "posix":
        return max_rss_so_far, "max RSS so far"  # a peak since the process began, not per run
    return not_measured, "not measured"  # Windows: no way without a new dependency


class PeakMemory:
    """Peak memory of a block, in MB: CUDA's allocator peak; else memory_reader's measure,
    sampled every 10 ms."""

    def __init__(self, device):
        self.device, self.peak, self.running = device, 0.0, False
        self.read, self.measures = memory_reader(device)

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.read())
            time.sleep(0.01)

    def __enter__(self):
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        else:
            self.running, self.peak = True, self.read()
            self.thread = threading.Thread(target=self.sample, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.device == "cuda":
            self.peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            self.running = False
            self.thread.join()


def run_end_to_end(loop, module, config, device):
    """A full run, its evaluations included: step time, wall seconds, final val loss, peak memory.
    Both loops end on a value read from the device (.item()), so the device has finished."""
    with PeakMemory(device) as memory:
        if loop == "harness":
            val, stretches, wall = harness_train(module, config, device)
        else:
            start = time.perf_counter()  # by hand: one whole run, timed once
            val, stretches = textbook_train(module, config, device)
            wall = time.perf_counter() - start
    return {"ms": ms_per_step(stretches), "wall": wall, "val": val, "peak": memory.peak}


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
    config = module.Config(**{k: v for k, v in overrides.items() if k in fields})  # n_head: v4 on; n_layer: v7 on
    return dataclasses.replace(config, data=str(plumbing.HERE / config.data))  # absolute stays absolute


def comma_list(choices):
    def parse(value):
        items = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}, not {value!r}")
        return items
    return parse


def main(argv=None):
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "mps", "cpu"])
    parser.add_argument("--quick", action="store_true", help="a small run: 100 steps on data/songci300.txt, v4, textbook setting")
    parser.add_argument("--settings", type=comma_list(list(SETTINGS)), action="append",
                        help="default, textbook, gpu; repeat or comma-separate (default: default,textbook; gpu too on CUDA)")
    parser.add_argument("--versions", type=comma_list(list(plumbing.SCRIPTS)), action="append", help=f"{','.join(plumbing.SCRIPTS)} (default: all; v4 with --quick)")
    parser.add_argument("--repeat", type=int, default=None, help="measurements of each loop; medians are reported (default 3; 1 with --quick)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "tf32", "bfloat16"], help="the harness's --dtype")
    parser.add_argument("--compile", action="store_true", help="the harness's --compile")
    args = parser.parse_args(argv)
    found = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    args.device = next(d for d in found if found[d]) if args.device == "auto" else args.device
    if not found[args.device]:
        print(f"error: --device {args.device} is not available here", file=sys.stderr)
        return 2
    if args.repeat is not None and args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    settings = [s for group in args.settings for s in group] if args.settings else (
        ["textbook"] if args.quick else ["default", "textbook"] + (["gpu"] if args.device == "cuda" else []))
    versions = [v for group in args.versions for v in group] if args.versions else (["v4"] if args.quick else list(plumbing.SCRIPTS))
    repeat = args.repeat or (1 if args.quick else 3)
    settings, versions = list(dict.fromkeys(settings)), list(dict.fromkeys(versions))

    try:
        for setting in settings:  # every setting checked, and the corpus read, before measuring
            for version in versions:
                module = BY_VERSION[version]
                config = build_config(module, setting, args)
                plumbing.check_config(module, config)
                plumbing.read_corpus(config)
        plumbing.keep_freed_memory()  # as the scripts' main() does: a faster step, for both loops
        measure(settings, versions, repeat, args)
    except plumbing.BabyGPTError as err:  # bad input (2); a run diverged, or a write failed (1)
        print(f"error: {err}", file=sys.stderr)
        return err.status
    except (RuntimeError, MemoryError) as err:
        if not (isinstance(err, MemoryError) or plumbing.is_out_of_memory(err)):
            raise  # a bug: keep its traceback
        print("error: out of memory: choose a smaller setting or fewer --versions", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the measurements printed so far are all there is", file=sys.stderr)
        return 130
    return 0


def measure(settings, versions, repeat, args):
    """Each setting and version: the two loops, `repeat` times in alternating order; then the table."""
    machine = torch.cuda.get_device_name() if args.device == "cuda" else f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"# bench_train {date.today()} | device {args.device} ({machine}{load}) | torch {torch.__version__} | "
          f"harness dtype {args.dtype}{', compile' if args.compile else ''}{' | QUICK' if args.quick else ''}", flush=True)
    rows, speedups = [], {}
    for setting in settings:
        for version in versions:
            module = BY_VERSION[version]
            config = build_config(module, setting, args)
            results = {"harness": [], "textbook": []}
            for r in range(repeat):
                order = ["harness", "textbook"] if r % 2 == 0 else ["textbook", "harness"]  # take turns
                for loop in order:
                    results[loop].append(run_end_to_end(loop, module, config, args.device))
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
    peak = f"peak MB ({memory_reader(args.device)[1]})"
    header = ["setting", "version", "loop", "ms/step (median)", "tokens/s", peak, "end-to-end s",
              "final val loss", "steps/s vs textbook", "end-to-end vs textbook"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if ("textbook", "v4") in speedups:
        print(f"\nv4 textbook-setting speedup: {speedups['textbook', 'v4']:.2f}×")


if __name__ == "__main__":
    sys.exit(main())
