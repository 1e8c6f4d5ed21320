"""The corpus as the tools read it: its ci, its clauses, and its split as the scripts split it.

In data/songci.txt every ci is a block: the tune's name (词牌) on its first line, then the ci's
lines; a blank line separates blocks. A clause (句) ends at one of CLAUSE_MARKS.

    text = corpus.read("data/songci.txt")       # checked as the scripts check it
    cis = corpus.split_ci(text)                 # [Ci(title, lines), ...]
    corpus.validation_ci(text)                  # the ci no version trains on
"""

import re
from dataclasses import dataclass

import plumbing
from tools.versions import VERSIONS

CLAUSE_MARKS = "，。、；：？！"
# A clause: its characters and the mark that ends it. The characters run back to the previous
# mark, line break or space, and are none where two marks meet. A stretch that ends at a line
# break instead (a tune's name, a line without a closing mark) is not a clause. The corpus's two
# ideographic spaces (U+3000) stand where a character was lost: the clause starts after them.
CLAUSE = re.compile(f"([^{CLAUSE_MARKS}\\s]*)([{CLAUSE_MARKS}])")
LOST_TUNE = "失调名"  # "tune name lost": 363 ci of many forms, not one tune


def read(path):
    """The corpus at path, read and checked as the scripts read it (plumbing.read_corpus, with
    the scripts' block size; the tools have no --prompt to check). A problem is a
    plumbing.BabyGPTError."""
    return plumbing.read_corpus(VERSIONS[0].Config(data=str(path), prompt=()))


@dataclass(frozen=True)
class Ci:
    title: str  # the tune's name as the data writes it
    lines: tuple  # the ci's lines, without the title

    @property
    def tune(self):
        return tune_name(self.title)

    @property
    def text(self):
        """The ci as the corpus writes it: the title, then its lines."""
        return "\n".join((self.title, *self.lines))


def tune_name(title):
    """The data writes a tune known by two names as "name used・standard name": 木兰花・玉楼春 is a
    玉楼春 written under its other name. The standard name, after the dot, is the tune."""
    return title.split("・")[-1].strip()


def split_ci(text):
    """Every ci of a corpus text, in order. A block with no line after its title is skipped."""
    cis = []
    for block in text.split("\n\n"):
        title, *lines = block.strip("\n").split("\n")
        if title and lines:
            cis.append(Ci(title, tuple(lines)))
    return cis


def ci_lines(written):
    """The lines of the ci a model wrote after a tune's name's line: written up to its first
    blank line (where the model started the next ci)."""
    return tuple(written.split("\n\n")[0].strip("\n").split("\n")) if written.strip() else ()


# ---- The corpus split as the scripts split it

def training_text(text):
    """The first 90% of the corpus: the text every version trains on."""
    return text[:int(0.9 * len(text))]


def validation_text(text):
    """The last 10% of the corpus: the text no version trains on."""
    return text[int(0.9 * len(text)):]


def validation_ci(text):
    """The ci wholly inside the last 10% of the corpus (the first, cut by the split, is dropped)."""
    rest = validation_text(text)
    return split_ci(rest[rest.find("\n\n") + 2:])
