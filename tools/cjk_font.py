"""Chinese characters in matplotlib figures, on any machine.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: it draws boxes and warns
"Glyph ... missing from font". use_cjk_font() picks a font that has them:

1. a CJK font already installed on the system (matplotlib sees it), if there is one;
2. else Noto Sans CJK SC from the PyPI package manimgx-fonts-cjk (in requirements.txt),
   licensed under the SIL Open Font License 1.1.

DejaVu Sans stays first in the list, so Latin letters and digits look as usual; for each
Chinese character matplotlib falls back, glyph by glyph, to the CJK font.
"""

import dataclasses
import warnings
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# Families with simplified Chinese, best first: Linux (Noto, Source Han, WenQuanYi), macOS, Windows.
SYSTEM_CJK_FAMILIES = [
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "PingFang SC", "Hiragino Sans GB",
    "Heiti SC", "STHeiti", "Microsoft YaHei", "SimHei", "Noto Sans CJK JP", "Arial Unicode MS",
]
PACKAGED_FAMILY = "Noto Sans CJK SC"  # one of the faces in the package's .ttc collection


def packaged_font_file():
    """The font file that manimgx-fonts-cjk installs, or None if the package is missing."""
    try:
        import manimgx_fonts_cjk
    except ImportError:
        return None
    files = sorted(Path(manimgx_fonts_cjk.__file__).parent.glob("*.tt[cf]"))
    return files[0] if files else None


def use_cjk_font():
    """Make matplotlib draw Chinese; returns the CJK family it uses (None if there is none)."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    family = next((name for name in SYSTEM_CJK_FAMILIES if name in installed), None)
    if family is None:
        path = packaged_font_file()
        if path is None:
            warnings.warn(
                "no CJK font found, Chinese will show as boxes: pip install -r requirements.txt "
                "(it installs manimgx-fonts-cjk)", stacklevel=2,
            )
            return None
        font_manager.fontManager.addfont(path)  # registers every face of the collection (JP, KR, SC, ...)
        # The file is a variable font that reports its default instance (Thin, weight 100) and
        # matplotlib cannot choose another, so let it stand for normal weight too: this silences
        # "findfont: Failed to find font weight normal" without changing what is drawn.
        entries = font_manager.fontManager.ttflist
        for i, entry in enumerate(entries):
            if Path(entry.fname) == path:
                entries[i] = dataclasses.replace(entry, weight=400)
        faces = [entry.name for entry in entries if Path(entry.fname) == path]
        family = PACKAGED_FAMILY if PACKAGED_FAMILY in faces else faces[0]  # an older matplotlib sees face 0 only
    # Name both families (not the generic "sans-serif"): matplotlib falls back only along a list of names.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    return family
