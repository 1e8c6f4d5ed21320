"""Chinese in figures renders as glyphs, not boxes, with the fonts requirements.txt installs."""

import io
import logging
import warnings

from matplotlib.figure import Figure

from tools.cjk_font import packaged_font_file, use_cjk_font


def test_requirements_install_the_fallback_cjk_font():
    path = packaged_font_file()
    assert path is not None and path.is_file()


def test_chinese_labels_draw_without_missing_glyphs(caplog):
    assert use_cjk_font() is not None
    fig = Figure(figsize=(3, 2.5))
    ax = fig.add_subplot()
    ax.imshow([[1.0, 0.0], [0.5, 0.5]])
    ax.set_xticks([0, 1], ["明", "月"])
    ax.set_yticks([0, 1], ["春", "江"])
    ax.set(title="注意力权重 attention −1", xlabel="键 key", ylabel="查询 query")
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        fig.savefig(io.BytesIO(), format="png")
    assert not [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()]
