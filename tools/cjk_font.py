"""Chinese characters in matplotlib figures, the same on every machine.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: it draws boxes and warns
"Glyph ... missing from font". use_cjk_font() registers the font committed in tools/fonts/:
BabyGPT Sans SC, the Regular weight of Noto Sans CJK SC cut down to the characters this
project draws (tools/build_cjk_font.py; SIL Open Font License 1.1, tools/fonts/OFL.txt).

DejaVu Sans stays first in the list, so Latin letters and digits look as usual; for each
Chinese character matplotlib falls back, glyph by glyph, to the CJK font.
"""

import re
from pathlib import Path

import matplotlib
from matplotlib import font_manager

FONT = Path(__file__).resolve().parent / "fonts" / "BabyGPTSansSC-Regular.otf"
FAMILY = "BabyGPT Sans SC"
# What counts as Chinese in the notebooks' and tools' labels: CJK punctuation, ideographs, full
# width.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def use_cjk_font():
    """Make matplotlib draw Chinese with BabyGPT Sans SC; returns the family's name."""
    if FAMILY not in {entry.name for entry in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(FONT)
    # Name both families (not the generic "sans-serif"): matplotlib falls back only along a list
    # of names.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", FAMILY]
    return FAMILY
