"""tools/schematics.py: the data-flow figures carry the shapes of the config they are given."""

from conftest import load_script
from tools import schematics


def texts(figure):
    return " ".join(t.get_text() for ax in figure.axes for t in ax.texts)


def test_the_figures_show_the_configs_shapes():
    config = load_script("babygpt_v7_transformer").Config(batch_size=8, block_size=16, n_embd=32, n_head=2, n_layer=3)
    heads = texts(schematics.multihead_attention(config, vocab_size=100))
    assert "Head 1" in heads and "Head 2" not in heads and "(8, 16, 16)" in heads and "(8, 16, 100)" in heads
    block = texts(schematics.transformer_block(config, vocab_size=100))
    assert "Block × 3" in block and "Linear 32→128" in block and "(8, 16, 32)" in block


def test_a_notebook_shows_the_figures_as_pictures():
    """Notebooks 04 and 07 display() the figures: Jupyter shows a picture only if they have one."""
    config = load_script("babygpt_v7_transformer").Config(batch_size=8, block_size=16, n_embd=32, n_head=2, n_layer=3)
    for draw in (schematics.multihead_attention, schematics.transformer_block):
        assert draw(config, vocab_size=100)._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
