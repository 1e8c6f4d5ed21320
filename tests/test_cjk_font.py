"""Chinese in figures renders as glyphs, not boxes, in the committed regular-weight font."""

import io
import logging
import warnings

from matplotlib import ft2font
from matplotlib.figure import Figure

from conftest import ROOT
from tools.cjk_font import CJK, FONT, use_cjk_font


def test_the_font_is_regular_weight_and_covers_every_label_and_the_frequent_corpus_characters():
    font = ft2font.FT2Font(str(FONT))
    assert (font.family_name, font.style_name) == ("BabyGPT Sans SC", "Regular")
    covered = set(map(chr, font.get_charmap()))
    labels = set()
    for source in [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "tools").glob("*.py"),
                   *(ROOT / "tools" / "explorer").glob("*.[hj]*")]:
        labels |= set(CJK.findall(source.read_text(encoding="utf-8")))
    assert not labels - covered, f"rebuild with tools/build_cjk_font.py: {sorted(labels - covered)}"
    corpus = (ROOT / "data" / "songci.txt").read_text(encoding="utf-8")
    missing = {c for c in set(corpus) if c.isprintable() and c not in covered}
    assert all(ord(c) > 0xFFFF for c in missing)  # only rare extension-B characters Noto lacks too


def test_chinese_labels_draw_without_missing_glyphs(caplog):
    assert use_cjk_font() == "BabyGPT Sans SC"
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
