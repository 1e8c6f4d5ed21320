"""Where the time of a payoff step goes: v8 at --preset laptop, its training step taken apart.

The whole step is bench_train.py's textbook step (a batch, forward, backward, fused AdamW, the
cosine schedule) on v8 at the preset's sizes and the full corpus. Then its parts, each timed
alone at the same shapes, with the same threads:

- the output layer: its three matmuls (forward, the gradient of its input, the gradient of its
  weight) for batch x block positions x n_embd channels x the vocabulary, and the cross-entropy's
  forward and backward on those logits;
- one Block's forward and backward (attention and feed-forward, with dropout), times n_layer;
- AdamW's fused update of every parameter.

Each part timed alone is a share of the whole step, not a slice of it: alone, a part may run
slower than inside the step, so the parts can sum to more than the whole (the embeddings, the
final LayerNorm and the batch are not timed apart).

Medians, by torch.utils.benchmark (benchmarks/bench_train.timed_ms). Name the machine with the
figures: they differ twofold between CPUs.

    python -m benchmarks.payoff_step          # about a minute, from the repository root
"""

import torch
from torch.nn import functional as F

import babygpt_v8_dropout as v8
import plumbing
from benchmarks.bench_train import textbook_setup, textbook_step, timed_ms


def main():
    plumbing.keep_freed_memory()  # as the scripts do
    config = v8.Config(**v8.PRESETS["laptop"], data=str(plumbing.HERE / "data" / "songci.txt"))
    model, optimizer, schedule, splits = textbook_setup(v8, config, "cpu")
    B, T, C = config.batch_size, config.block_size, config.n_embd
    V = model.lm_head.out_features

    def step():
        textbook_step(model, optimizer, schedule, splits, config, "cpu")

    whole = timed_ms(step, seconds=8)

    x, weight, bias = torch.randn(B * T, C), torch.randn(V, C), torch.randn(V)  # (BT, C), (V, C), (V,)
    grad = torch.randn(B * T, V)  # (BT, V): the logits' gradient
    targets = torch.randint(V, (B * T,))
    logits = torch.randn(B * T, V, requires_grad=True)

    def cross_entropy():
        F.cross_entropy(logits, targets).backward()

    block = model.blocks[0]
    stream = torch.randn(B, T, C, requires_grad=True)  # (B, T, C): what a Block reads

    def one_block():
        block(stream).sum().backward()

    for p in model.parameters():  # AdamW's update needs a gradient for every parameter
        p.grad = torch.randn_like(p)

    parts = {
        "output layer forward (addmm)": timed_ms(lambda: torch.addmm(bias, x, weight.t()), seconds=2),
        "output layer: gradient of its input (mm)": timed_ms(lambda: grad @ weight, seconds=2),
        "output layer: gradient of its weight (mm)": timed_ms(lambda: grad.t() @ x, seconds=2),
        "cross-entropy forward and backward": timed_ms(cross_entropy, seconds=2),
        f"{config.n_layer} Blocks forward and backward": config.n_layer * timed_ms(one_block, seconds=4),
        "AdamW (fused) update": timed_ms(optimizer.step, seconds=2),
    }
    print(f"v8 at --preset laptop: B {B}, T {T}, C {C}, {config.n_layer} Blocks, vocabulary {V:,}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"whole step: {whole:.1f} ms")
    for name, ms in parts.items():
        print(f"  {name:45} {ms:7.1f} ms  {ms / whole:5.1%}")
    # Not a difference: alone, the parts have summed to more than the whole step (a 2-core EPYC at
    # one thread), so what is left for the embeddings, ln_f and the batch cannot be read off.
    total = sum(parts.values())
    print(f"  {'the parts above, each timed alone, together':45} {total:7.1f} ms  {total / whole:5.1%}")


if __name__ == "__main__":
    main()
