"""Build BabyGPT's training text from the chinese-poetry JSON data.

Usage, from the repository root:
    python -m data.prepare --source DIR [--out-dir DIR]

DIR is any one of:
  * a clone of https://github.com/chinese-poetry/chinese-poetry
    (folders 宋词/ and 五代诗词/nantang/),
  * an unpacked `npm pack chinese-poetry@2.0.1` tarball (package/dist/songci/,
    package/dist/wudaishici/nantang/),
  * a folder laid out like that dist/ folder (songci/, wudaishici/nantang/).

It writes two plain-text files (UTF-8, "\\n" line ends, final newline), each
replaced whole or not at all. It refuses to replace a file with one that kept
no ci, or fewer than half as many as the file has, unless given --force.

  songci.txt     全宋词 (every songci/ci.song.*.json) and 南唐二主词
                 (wudaishici/nantang/poetrys.json)
  songci300.txt  宋词三百首 (songci/宋词三百首.json)

Each file lists its ci in one fixed random order (SHUFFLE_SEED), not in the
collection's order. The scripts train on the first 90% of the text and
validate on the last 10%: shuffled, those are whole ci drawn at random, like
the ones trained on. In the collection's order they would be its end
(anonymous birthday ci, 南唐二主词): a different kind of text.

Each ci (词) becomes one block: its 词牌 (`rhythmic`) on the first line, then
each entry of `paragraphs` on its own line. Blocks are separated by one blank
line. The text is kept exactly as it is in the JSON; the only change is that
a ci is dropped WHOLE when its text shows lost or garbled characters (see
DROP_RULES), or when it has no text at all. The script prints what it dropped
and a table of the results. A source file that is not UTF-8 JSON of ci, or
that spells half a surrogate pair, is refused in one line.

Besides the standard library it uses only the project's plumbing (its one
atomic write and its error), and the output is byte-identical on every rebuild
from the same input.
"""

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import plumbing

# Folder names: the npm package uses pinyin, the GitHub repository Chinese.
SONGCI_DIRS = ("songci", "宋词")
WUDAI_DIRS = ("wudaishici", "五代诗词")
# Where the data may sit inside --source.
CANDIDATE_ROOTS = (".", "dist", "package", "package/dist")

CI_GLOB = "ci.song.*.json"  # 全宋词, in about 22 files of 1000 ci each
SONGCI300_NAME = "宋词三百首.json"
NANTANG_PATH = Path("nantang") / "poetrys.json"  # 南唐二主词, under WUDAI_DIRS

# A ci is dropped when any line of it (词牌 or paragraph) matches one of these
# patterns. The first matching rule names the reason. Apart from the lost-
# character placeholder, these are mojibake: characters from the symbol rows
# of the GBK code table (Cyrillic, kana, box drawing, ...) that turn up in the
# middle of a verse where a rare Chinese character once stood.
DROP_RULES = (
    ("lost character □ (U+25A1)", re.compile("\u25a1")),
    ("replacement character (U+FFFD)", re.compile("\ufffd")),
    ("Cyrillic letter (U+0400-04FF)", re.compile("[\u0400-\u04ff]")),
    # Kana letters. U+30FB KATAKANA MIDDLE DOT "・" is NOT mojibake here: the
    # data uses it in 2,377 词牌 as a separator, e.g. "木兰花・玉楼春".
    (
        "kana (U+3040-309F, U+30A0-30FF except U+30FB, U+FF66-FF9F)",
        re.compile("[\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\uff66-\uff9f]"),
    ),
    ("box drawing (U+2500-257F)", re.compile("[\u2500-\u257f]")),
    # The same kind of mojibake, found when checking the 2.0.1 data, e.g.
    # "能ㄋ嗽", "金Ι月涩", "ō任馀庆", "骑鸾ⅶ鹤", "风﹀雨︽".
    (
        "other GBK symbol (Latin, Greek, Bopomofo, Roman numeral, vertical form)",
        re.compile(
            "[A-Za-z\u00c0-\u024f"  # Latin letters, incl. pinyin with accents
            "\u0370-\u03ff"  # Greek
            "\u3100-\u312f"  # Bopomofo
            "\u2150-\u218f"  # Roman numerals
            "\ufe30-\ufe4f]"  # CJK vertical presentation forms
        ),
    ),
)

NO_TEXT = "no text (its paragraphs are empty)"
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
EXAMPLES_PER_REASON = 3
SHUFFLE_SEED = 0  # the one random order of the ci in both files: the same on every rebuild


@dataclass
class Sources:
    """The JSON files found under --source."""

    ci_files: list[Path]  # ci.song.*.json, in corpus order
    nantang: Path  # 南唐二主词
    songci300: Path  # 宋词三百首


@dataclass
class Corpus:
    """One output text plus what was dropped while building it."""

    text: str
    poems: int
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    examples: dict = field(default_factory=dict)  # reason -> list of str


def ci_file_sort_key(path: Path) -> tuple[int, str]:
    """Sort ci.song.N.json numerically: 0, 1000, 2000, 2019y, 3000, ...

    The numbers are not zero-padded, so a plain string sort would put 10000
    before 2000. One file is called ci.song.2019y.json; we sort by the integer
    of the leading digits and then by the full name, which puts it right after
    ci.song.2000.json.
    """
    number = path.name[len("ci.song.") : -len(".json")]
    digits = re.match(r"\d*", number).group()
    return (int(digits) if digits else -1, path.name)


def find_sources(source: Path) -> Sources:
    """Find the JSON files under `source`, whichever layout it uses."""
    for root in CANDIDATE_ROOTS:
        base = source / root
        for songci_name in SONGCI_DIRS:
            songci = base / songci_name
            ci_files = sorted(songci.glob(CI_GLOB), key=ci_file_sort_key)
            songci300 = songci / SONGCI300_NAME
            if not ci_files or not songci300.is_file():
                continue
            for wudai_name in WUDAI_DIRS:
                nantang = base / wudai_name / NANTANG_PATH
                if nantang.is_file():
                    return Sources(ci_files, nantang, songci300)
    raise plumbing.BabyGPTError(
        f"no chinese-poetry data in {source}: looked for "
        f"{{{','.join(SONGCI_DIRS)}}}/{CI_GLOB}, "
        f"{{{','.join(SONGCI_DIRS)}}}/{SONGCI300_NAME} and "
        f"{{{','.join(WUDAI_DIRS)}}}/{NANTANG_PATH.as_posix()} "
        f"under {', '.join(CANDIDATE_ROOTS)}"
    )


def load_ci(path: Path) -> list[dict]:
    """Read one JSON file: a list of ci with `rhythmic` and `paragraphs`, checked."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise plumbing.BabyGPTError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise plumbing.BabyGPTError(
            f"{path} is not UTF-8 (byte offset {error.start})"
        ) from None
    except json.JSONDecodeError as error:
        raise plumbing.BabyGPTError(
            f"{path} is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}); download it again"
        ) from None
    if not (isinstance(data, list) and all(map(is_ci, data))):
        raise plumbing.BabyGPTError(
            f"{path} is not a chinese-poetry list of ci (objects with a "
            "'rhythmic' string and a 'paragraphs' list of strings)"
        )
    for number, ci in enumerate(data, 1):
        # JSON can spell half of a UTF-16 surrogate pair (\ud841): not a character, and no
        # UTF-8 file can hold it.
        for line in ci_lines(ci):
            half = LONE_SURROGATE.search(line)
            if half:
                raise plumbing.BabyGPTError(
                    f"{path}: ci {number} holds half a surrogate pair "
                    f"({ascii(half.group())[1:-1]}), which is no character; the file is "
                    "damaged: download it again"
                )
    return data


def is_ci(ci) -> bool:
    return (
        isinstance(ci, dict)
        and isinstance(ci.get("rhythmic"), str)
        and isinstance(ci.get("paragraphs"), list)
        and all(isinstance(line, str) for line in ci["paragraphs"])
    )


def ci_lines(ci: dict) -> list[str]:
    """The lines of text we keep from a ci: 词牌, then the paragraphs.

    Empty paragraphs are skipped so that blank lines only ever separate ci
    (chinese-poetry 2.0.1 has none, but this keeps the format safe).
    """
    return [ci["rhythmic"]] + [line for line in ci["paragraphs"] if line]


def reason_to_drop(ci: dict) -> str | None:
    """Return why this ci should be dropped, or None to keep it. A ci with a tune name and no
    text is no ci: counted, it would let a source of names alone pass for a corpus."""
    if len(ci_lines(ci)) == 1:
        return NO_TEXT
    for reason, pattern in DROP_RULES:
        if any(pattern.search(line) for line in ci_lines(ci)):
            return reason
    return None


def offending_line(ci: dict, reason: str) -> str:
    """The line that got ci dropped for reason."""
    if reason == NO_TEXT:
        return "(no paragraphs)"
    pattern = dict(DROP_RULES)[reason]
    return next(line for line in ci_lines(ci) if pattern.search(line))


def format_ci(ci: dict) -> str:
    """One ci as a block of lines (no trailing newline)."""
    return "\n".join(ci_lines(ci))


def build_corpus(files: list[Path]) -> Corpus:
    """Turn JSON files into one text: the kept ci in a fixed random order, one blank line
    between them."""
    blocks = []
    dropped = Counter()
    examples = {}
    for path in files:
        for ci in load_ci(path):
            reason = reason_to_drop(ci)
            if reason is None:
                blocks.append(format_ci(ci))
                continue
            dropped[reason] += 1
            shown = examples.setdefault(reason, [])
            if len(shown) < EXAMPLES_PER_REASON:
                shown.append(f"{path.name} {ci['rhythmic']}: {offending_line(ci, reason)}")
    random.Random(SHUFFLE_SEED).shuffle(blocks)  # whole ci move; each keeps its lines
    return Corpus("\n\n".join(blocks) + "\n", len(blocks), dropped, examples)


def count_ci(text: str) -> int:
    """How many ci a corpus text holds: blocks separated by one blank line."""
    return text.count("\n\n") + 1 if text.strip() else 0


def check_replacement(path: Path, corpus: Corpus, force: bool) -> None:
    """Refuse to write a corpus that kept no ci, or (without --force) to replace
    a file with one that keeps fewer than half of its ci: a wrong --source must
    not silently destroy the corpus that is there."""
    if corpus.poems == 0:
        raise plumbing.BabyGPTError(
            f"{path.name}: no ci kept from --source; nothing written", 1
        )
    if force or not path.is_file():
        return
    try:
        before = count_ci(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return  # unreadable: nothing worth keeping there
    if corpus.poems < before / 2:
        raise plumbing.BabyGPTError(
            f"{path} holds {before:,} ci and would be replaced by {corpus.poems:,}; "
            "nothing written. Check --source, or add --force to replace it", 1
        )


def report_dropped(name: str, corpus: Corpus) -> None:
    total = sum(corpus.dropped.values())
    print(f"{name}: kept {corpus.poems} ci, dropped {total}")
    for reason in [NO_TEXT, *dict(DROP_RULES)]:
        if corpus.dropped[reason]:
            print(f"  {corpus.dropped[reason]:5d}  {reason}")
            for example in corpus.examples[reason]:
                print(f"           e.g. {example}")


def table_row(name: str, corpus: Corpus) -> str:
    """One markdown table row: file, poems, characters, distinct, SHA-256."""
    sha = hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()
    chars = len(corpus.text)
    distinct = len(set(corpus.text))
    return f"| {name} | {corpus.poems:,} | {chars:,} | {distinct:,} | {sha} |"


def prepare(source: Path, out_dir: Path, force: bool) -> dict[str, Corpus]:
    """Build both corpora, check them against what --out-dir holds, then write
    them: a refusal writes neither."""
    sources = find_sources(source)
    outputs = {
        "songci.txt": build_corpus(sources.ci_files + [sources.nantang]),
        "songci300.txt": build_corpus([sources.songci300]),
    }
    for name, corpus in outputs.items():
        check_replacement(out_dir / name, corpus, force)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise plumbing.BabyGPTError(
            f"cannot create --out-dir {out_dir}: {error.strerror}"
        ) from None
    for name, corpus in outputs.items():
        # UTF-8 bytes, so line ends stay "\n" on every OS; whole, or the old file stays.
        plumbing.write_text(out_dir / name, corpus.text)
        report_dropped(name, corpus)
    return outputs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help="chinese-poetry git clone, unpacked npm package, or its dist/ folder",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="where to write songci.txt and songci300.txt (default: %(default)s)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a corpus even by one with far fewer ci",
    )
    args = parser.parse_args(argv)

    try:
        outputs = prepare(args.source, args.out_dir, args.force)
    except plumbing.BabyGPTError as error:
        print(f"prepare.py: error: {error}", file=sys.stderr)
        sys.exit(error.status)
    except KeyboardInterrupt:
        print("prepare.py: interrupted; each corpus file is whole, old or new", file=sys.stderr)
        sys.exit(130)

    print()
    print("| file | poems | characters | distinct characters | SHA-256 |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, corpus in outputs.items():
        print(table_row(name, corpus))


if __name__ == "__main__":
    main()
