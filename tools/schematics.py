"""Data-flow pictures of v4's multi-head attention and v7's Block, with the shapes of a Config.

    python -m tools.schematics    # writes docs/multihead_attention.png, docs/transformer_block.png

Notebooks 04 and 07 draw the same figures from their own config: the shapes printed on the
arrows are the scripts' (B batch, T block_size, C n_embd, heads of C // n_head channels).
"""

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

import plumbing
from tools.cjk_font import use_cjk_font
from tools.versions import BY_VERSION

VOCAB = 5985  # characters of data/songci.txt: the output layer's width


class Schematic(Figure):
    """A Figure that a notebook shows: Jupyter draws what a cell displays through its _repr_png_,
    and a Figure made without pyplot has no other way to become a picture there."""

    def _repr_png_(self):
        return plumbing.png_bytes(self)


def box(ax, x, y, text, width=2.6, height=0.7, colour="#dbe9f6"):
    """A rounded box centred at (x, y) holding text."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05", facecolor=colour, edgecolor="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)


def arrow(ax, start, end, label=""):
    """An arrow from start to end, with the shape that travels along it."""
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "0.3"})
    if not label:
        return
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    if abs(end[1] - start[1]) > abs(end[0] - start[0]):  # mostly vertical: the label to its right
        ax.text(middle[0] + 0.08, middle[1], label, fontsize=7.5, color="0.25", va="center")
    else:  # mostly horizontal: the label under it, clear of the line
        ax.text(middle[0], middle[1] - 0.12, label, fontsize=7.5, color="0.25", ha="center", va="top")


def multihead_attention(config, vocab_size=VOCAB):
    """v4: token + position embeddings, n_head Heads side by side, concatenated, then the logits."""
    use_cjk_font()
    B, T, C, n = config.batch_size, config.block_size, config.n_embd, config.n_head
    hs = C // n
    fig = Schematic(figsize=(10, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set(xlim=(0, 12), ylim=(-0.2, n + 1.4))
    ax.axis("off")
    middle = (n + 1) / 2
    box(ax, 1.4, middle, f"tok_emb + pos_emb\nx ({B}, {T}, {C})", colour="#eeeeee")
    for i in range(n):
        y = n - i
        box(ax, 5.2, y, f"Head {i}: q, k, v = Linear({C}→{hs})(x)\n"
                        f"wei = softmax(causal mask(q·kᵀ/√{hs}))  ({B}, {T}, {T})\n"
                        f"out = wei @ v  ({B}, {T}, {hs})", width=4.4, height=0.8)
        arrow(ax, (2.7, middle), (3.0, y))
        arrow(ax, (7.4, y), (8.2, middle))
    box(ax, 9.0, middle, f"torch.cat(dim=-1)\n({B}, {T}, {n}×{hs} = {C})", width=1.7,
        colour="#fde9c9")
    box(ax, 9.0, middle - 1.6 if n > 1 else 0.2, f"lm_head\nlogits ({B}, {T}, {vocab_size:,})",
        width=1.7, colour="#eeeeee")
    arrow(ax, (9.0, middle - 0.4), (9.0, (middle - 1.6 if n > 1 else 0.2) + 0.4))
    ax.set_title(f"v4 多头注意力 multi-head attention: {n} heads of {hs} channels, side by side")
    return fig


def transformer_block(config, vocab_size=VOCAB):
    """v7: the residual stream through one pre-norm Block (attention, then feed-forward),
    n_layer times."""
    use_cjk_font()
    B, T, C, n = config.batch_size, config.block_size, config.n_embd, config.n_head
    shape = f"({B}, {T}, {C})"
    fig = Schematic(figsize=(7.5, 7.2), layout="constrained")
    ax = fig.add_subplot()
    ax.set(xlim=(0, 10), ylim=(0, 11))
    ax.axis("off")
    stream = 2.0  # the residual stream's column
    box(ax, stream, 10.2, f"tok_emb + pos_emb\nx {shape}", colour="#eeeeee")
    ax.add_patch(FancyBboxPatch((0.4, 2.6), 9.2, 6.8, boxstyle="round,pad=0.1", facecolor="none",
                                edgecolor="0.5", linestyle="--"))
    ax.text(9.5, 9.2, f"Block × {config.n_layer}", ha="right", fontsize=10, color="0.3")
    for y_add, y_norm, y_layer, layer, colour in (
            (7.0, 8.4, 7.7, f"MultiHeadAttention\n{n} heads × {C // n}, then proj {C}→{C}",
             "#fde9c9"),
            (3.6, 5.6, 4.6, f"FeedForward\nLinear {C}→{4 * C}, ReLU, Linear {4 * C}→{C}",
             "#d9f0d3")):
        box(ax, 5.0, y_norm, "LayerNorm", width=1.8, height=0.55)
        box(ax, 7.6, y_layer, layer, width=3.4, height=0.8, colour=colour)
        ax.text(stream, y_add, "+", ha="center", va="center", fontsize=16,
                bbox={"boxstyle": "circle", "facecolor": "white", "edgecolor": "0.3"})
        arrow(ax, (stream, y_norm), (4.1, y_norm))
        arrow(ax, (5.9, y_norm), (7.6, y_layer + 0.4))
        arrow(ax, (7.6, y_layer - 0.4), (stream + 0.25, y_add), shape)
    arrow(ax, (stream, 9.85), (stream, 7.3), f"x {shape}")
    arrow(ax, (stream, 6.7), (stream, 3.9), "x + attention(ln1(x))")
    arrow(ax, (stream, 3.3), (stream, 1.75))
    # Inside the Block's border (its bottom edge is at y = 2.5): the Block's output, before it
    # leaves for the next Block or the final LayerNorm.
    ax.text(stream + 0.08, 2.9, "x + feed_forward(ln2(x))", fontsize=7.5, color="0.25",
            va="center")
    box(ax, stream, 1.4, "final LayerNorm, lm_head", colour="#eeeeee")
    ax.text(stream, 0.55, f"logits ({B}, {T}, {vocab_size:,})", ha="center", fontsize=8.5)
    ax.set_title("v7 的一个 Block: pre-norm, the residual stream untouched")
    return fig


def main():
    config = BY_VERSION["v7"].Config()  # the defaults: the same in every version
    docs = plumbing.HERE / "docs"
    for name, figure in (("multihead_attention.png", multihead_attention(config)),
                         ("transformer_block.png", transformer_block(config))):
        plumbing.write_file(docs / name, plumbing.png_bytes(figure))
        print(f"wrote {docs / name}")


if __name__ == "__main__":
    main()
