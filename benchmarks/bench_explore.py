"""The explorer's response times, as the page sees them: each request over HTTP to a running
tools/explore.py server (in this process, on 127.0.0.1), JSON included.

  score      a 200-character text scored by every version found (the side-by-side view)
  attention  one head's weights on the first block_size characters (v7, layer 3, head 0)
  write      a free writing of 100 characters by v7: the time per step is the total / 100

Medians and maxima over --repeat requests, after one unmeasured request of each kind (warm-up).
--busy N keeps N other processes computing (torch matrix products, one thread each, as a training
run would) from after the explorer has chosen its threads until the last request: the explorer as
a learner uses it while something else trains. From the repository root:

    python -m benchmarks.bench_explore                     # runs/compare, else each script's runs/
    python -m benchmarks.bench_explore --runs runs/notebooks/08_compare_versions --repeat 50
    python -m benchmarks.bench_explore --busy 2 --threads 1   # both cores busy; one torch thread
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

import plumbing
from tools import explore

ROOT = Path(__file__).resolve().parents[1]


def timed_request(address, path, body):
    """Milliseconds from sending the request to the parsed answer, and the answer. Timed by hand,
    not with torch.utils.benchmark: what the page waits for is each request, --repeat of them, and
    Timer times blocks of calls for a set time."""
    connection = http.client.HTTPConnection(*address, timeout=120)
    start = time.perf_counter()
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    elapsed = (time.perf_counter() - start) * 1000
    connection.close()
    if response.status != 200:
        raise SystemExit(f"error: {path} answered {response.status}: {answer['error']}")
    return elapsed, answer


def timings_ms(address, path, body, repeat):
    """(median, max) milliseconds of repeat requests."""
    timed_request(address, path, body)  # warm-up: first calls allocate
    times = [timed_request(address, path, body)[0] for _ in range(repeat)]
    return statistics.median(times), max(times)


def keep_busy():
    """Another process's work: matrix products on one thread, without end."""
    torch.set_num_threads(1)
    a = torch.randn(512, 512)
    while True:
        a @ a


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(ROOT / "runs" / "compare"), help="folder of <version>/ckpt.pt")
    parser.add_argument("--data", default=str(ROOT / "data" / "songci.txt"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--length", type=int, default=200, help="characters of the scored text")
    parser.add_argument("--threads", type=int, default=1, help="the explorer's --threads (0: timed)")
    parser.add_argument("--busy", type=int, default=0, help="other processes computing meanwhile")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.length < 1 or args.threads < 0 or args.busy < 0:
        raise SystemExit("error: --repeat and --length must be at least 1, --threads and --busy "
                         "at least 0")
    try:  # a corpus or checkpoint it cannot use is one line
        explorer = explore.Explorer(args.runs, args.data, args.threads)
    except plumbing.BabyGPTError as err:
        raise SystemExit(f"error: {err}") from None
    if "v7" not in explorer.models:
        raise SystemExit(f"error: no v7 checkpoint in {args.runs}; train: {explore.TRAIN_COMMAND}")
    server = explore.ExplorerServer(("127.0.0.1", 0), explorer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = server.server_address[:2]

    text = "\n\n".join(explorer.samples)[:args.length]  # real validation ci, cut to length
    heads = explore.attention_heads(explorer.models["v7"][1])
    last_layer = max(layer for layer, _ in heads)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of this one's threads
    busy = [spawn.Process(target=keep_busy, daemon=True) for _ in range(args.busy)]
    for process in busy:
        process.start()
    try:
        score = timings_ms(address, "/api/score", {"text": text}, args.repeat)
        attention = timings_ms(address, "/api/attention",
                               {"text": text, "version": "v7", "layer": last_layer, "head": 0},
                               args.repeat)
        write = timings_ms(address, "/api/write",
                           {"version": "v7", "prompt": "\n\n浣溪沙\n", "length": 100},
                           max(3, args.repeat // 5))
    finally:
        for process in busy:
            process.terminate()
        server.shutdown()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, Python {platform.python_version()}")
    print(f"the models' CPU threads: {explorer.threads}; other processes computing: {args.busy}")
    print(f"versions: {', '.join(explorer.models)}; median and max of {args.repeat} requests over "
          f"HTTP ({max(3, args.repeat // 5)} for writing)")
    print("| request | median ms | max ms |")
    print("|---|---:|---:|")
    print(f"| score {len(text)} characters × {len(explorer.models)} versions | {score[0]:.1f} | "
          f"{score[1]:.1f} |")
    print(f"| attention, v7 layer {last_layer} head 0 | {attention[0]:.1f} | {attention[1]:.1f} |")
    print(f"| write 100 characters, v7 | {write[0]:.1f} | {write[1]:.1f} |")
    print(f"| one writing step, v7 | {write[0] / 100:.2f} | {write[1] / 100:.2f} |")


if __name__ == "__main__":
    main()
