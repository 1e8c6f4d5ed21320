"""The floor of v4's default training step on this machine: its unavoidable parts, timed alone.

The output layer's three matmuls (forward, the gradient of its input, the gradient of its
weight) for 512 positions x 64 channels x 5,985 characters, and the cross-entropy's forward and
backward on the 512 x 5,985 logits: medians of 100 calls each, after the allocator is told to
keep freed memory as the scripts tell it (keep_freed_memory). docs/performance.md compares their
sum with the measured step.

    python benchmarks/step_floor.py
"""

import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import babygpt_v4_multihead_attention as v4  # noqa: E402

B, T, C, V = 16, 32, 64, 5985  # the default batch, block, embedding; the full corpus's vocabulary


def median_ms(work, repeat=100):
    for _ in range(10):  # warm-up
        work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    v4.keep_freed_memory()
    torch.manual_seed(0)
    x, weight, bias = torch.randn(B * T, C), torch.randn(V, C), torch.randn(V)  # (BT, C), (V, C), (V,)
    grad = torch.randn(B * T, V)  # (BT, V): the logits' gradient
    targets = torch.randint(V, (B * T,))
    logits = torch.randn(B * T, V, requires_grad=True)
    flops = 2 * B * T * C * V

    def cross_entropy():
        F.cross_entropy(logits, targets).backward()

    parts = {
        "output layer forward (addmm, with its bias)": median_ms(lambda: torch.addmm(bias, x, weight.t())),
        "gradient of its input (mm)": median_ms(lambda: grad @ weight),
        "gradient of its weight (mm)": median_ms(lambda: grad.t() @ x),
        "cross-entropy forward and backward": median_ms(cross_entropy),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name, ms in parts.items():
        rate = f", {flops / ms / 1e6:.0f} GFLOP/s" if "cross" not in name else ""
        print(f"{name}: {ms:.2f} ms{rate}")
    print(f"sum: {sum(parts.values()):.2f} ms")


if __name__ == "__main__":
    main()
