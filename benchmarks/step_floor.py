"""The floor of v4's default training step on this CPU: the whole step and one evaluation, before
and after the allocator is told to keep freed memory (plumbing.keep_freed_memory), then the step's
unavoidable parts timed alone.

The whole step is bench_train.py's textbook step (a batch, forward, backward, fused AdamW, the
cosine schedule) on v4 at its defaults and the full corpus; one evaluation is the scripts' own
estimate_loss. Before and after run in this one process, one after the other: the allocator
setting cannot be undone. The parts: the output layer's three matmuls (forward, the gradient of
its input, the gradient of its weight) for 512 positions x 64 channels x 5,985 characters, and
the cross-entropy's forward and backward on the 512 x 5,985 logits. Medians, by
torch.utils.benchmark. docs/performance.md compares their sum with the whole step.

    python -m benchmarks.step_floor        # about a minute, from the repository root
"""

import torch
from torch.nn import functional as F

import babygpt_v4_multihead_attention as v4
import plumbing
from benchmarks.bench_train import textbook_setup, textbook_step, timed_ms

B, T, C, V = 16, 32, 64, 5985  # the default batch, block, embedding; the full corpus's vocabulary


def whole_step_and_evaluation():
    """Median ms of v4's whole training step (over about 4 s: some 300 steps) and of one
    evaluation, as the allocator is now."""
    config = v4.Config(data=str(plumbing.HERE / "data" / "songci.txt"))
    model, optimizer, schedule, splits = textbook_setup(v4, config, "cpu")

    def step():
        textbook_step(model, optimizer, schedule, splits, config, "cpu")

    def evaluation():
        v4.estimate_loss(model, splits, config)

    return timed_ms(step, seconds=4), timed_ms(evaluation, seconds=2)


def main():
    torch.manual_seed(0)
    step_before, evaluation_before = whole_step_and_evaluation()
    plumbing.keep_freed_memory()
    step_after, evaluation_after = whole_step_and_evaluation()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"whole step: {step_before:.2f} ms, after keep_freed_memory {step_after:.2f} ms")
    print(f"one evaluation: {evaluation_before:.0f} ms, after keep_freed_memory {evaluation_after:.0f} ms")

    x, weight, bias = torch.randn(B * T, C), torch.randn(V, C), torch.randn(V)  # (BT, C), (V, C), (V,)
    grad = torch.randn(B * T, V)  # (BT, V): the logits' gradient
    targets = torch.randint(V, (B * T,))
    logits = torch.randn(B * T, V, requires_grad=True)
    flops = 2 * B * T * C * V

    def cross_entropy():
        F.cross_entropy(logits, targets).backward()

    parts = {
        "output layer forward (addmm, with its bias)": lambda: torch.addmm(bias, x, weight.t()),
        "gradient of its input (mm)": lambda: grad @ weight,
        "gradient of its weight (mm)": lambda: grad.t() @ x,
        "cross-entropy forward and backward": cross_entropy,
    }
    times = {name: timed_ms(work, seconds=1) for name, work in parts.items()}
    for name, ms in times.items():
        rate = f", {flops / ms / 1e6:.0f} GFLOP/s" if "cross" not in name else ""
        print(f"{name}: {ms:.2f} ms{rate}")
    print(f"sum of the parts: {sum(times.values()):.2f} ms; the rest of the step (embeddings, "
          f"heads, AdamW, the batch), by difference: {step_after - sum(times.values()):.2f} ms")


if __name__ == "__main__":
    main()
