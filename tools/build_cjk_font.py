"""Build tools/fonts/BabyGPTSansSC-Regular.otf: the characters BabyGPT draws, from Noto Sans CJK SC.

Figures show Chinese: poem text in heat-maps and samples, and the labels the notebooks and tools
write. Noto Sans CJK SC (Regular, SIL Open Font License 1.1, tools/fonts/OFL.txt) has every such
character, but the whole collection is 19 MB. This keeps only the glyphs used here: every
character of the two corpora, every CJK character in the notebooks and tools/, and printable
ASCII. Rebuild it after a notebook or tool starts writing a character the font lacks
(tests/test_cjk_font.py says which):

    apt-get install fonts-noto-cjk && pip install fonttools      # Debian/Ubuntu; or any copy of
    python -m tools.build_cjk_font                               # NotoSansCJK-Regular.ttc: --source

The OFL lets a modified font be shared under the same licence, under a name of its own, and
"Noto" is Google's trademark: the subset is named "BabyGPT Sans SC".
"""

import argparse
import io

from fontTools import subset
from fontTools.ttLib import TTCollection

import plumbing
from tools.cjk_font import CJK, FAMILY, FONT as OUT

ROOT = plumbing.HERE  # the repository


def characters():
    """Every character the project may draw: the corpora, and the CJK in notebooks and tools
    (the explorer's page too)."""
    chars = set(map(chr, range(0x20, 0x7F)))
    for corpus in sorted((ROOT / "data").glob("*.txt")):
        chars |= set(corpus.read_text(encoding="utf-8"))
    for source in [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "tools").glob("*.py"),
                   *(ROOT / "tools" / "explorer").glob("*.[hj]*")]:
        chars |= set(CJK.findall(source.read_text(encoding="utf-8")))
    return {c for c in chars if c.isprintable()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source",
                        default="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                        help="Noto Sans CJK Regular collection (.ttc) holding the SC face")
    args = parser.parse_args(argv)
    collection = TTCollection(args.source)
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    options = subset.Options()
    options.name_IDs = ["*"]  # keep copyright, licence and version records
    options.notdef_outline = True
    options.layout_features = []  # no alternates (vertical, traditional forms): horizontal SC only
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters()])
    subsetter.subset(font)
    for record in font["name"].names:  # a new name: the OFL reserves "Noto" for the original
        if record.nameID in (1, 3, 4, 6, 16):
            text = record.toUnicode().replace("Noto Sans CJK SC", FAMILY)
            record.string = text.replace("NotoSansCJKsc", "BabyGPTSansSC")
    saved = io.BytesIO()
    font.save(saved)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    plumbing.write_file(OUT, saved.getvalue())
    print(f"{OUT.relative_to(ROOT)}: {len(font.getGlyphOrder()):,} glyphs, "
          f"{OUT.stat().st_size / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
