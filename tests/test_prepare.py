"""Tests for data/prepare.py: a tiny fixture, the committed files, bad input."""

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PREPARE = DATA / "prepare.py"


def load_prepare():
    """Import data/prepare.py by path (data/ is not a package)."""
    spec = importlib.util.spec_from_file_location("prepare", PREPARE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["prepare"] = module  # the usual importlib recipe
    spec.loader.exec_module(module)
    return module


prepare = load_prepare()


def ci(rhythmic, *paragraphs):
    return {"author": "某", "rhythmic": rhythmic, "paragraphs": list(paragraphs)}


# File name -> its ci. The numbers are chosen so that a string sort
# (0, 1000, 200, 2019y) and the numeric sort (0, 200, 1000, 2019y) differ.
CI_FILES = {
    "ci.song.0.json": [
        ci("甲调", "一一。", "二二。"),
        ci("缺字", "有□字。"),  # dropped: lost character
    ],
    "ci.song.1000.json": [
        ci("丙调・别名", "三三。"),  # U+30FB in a 词牌 is kept
        ci("乱码", "乱\ufffd码。"),  # dropped: replacement character
    ],
    "ci.song.200.json": [
        ci("乙调", "四四。", "", "五五。"),  # the empty paragraph is skipped
        ci("俄文", "一ь杨柳。"),  # dropped: Cyrillic
    ],
    "ci.song.2019y.json": [ci("丁调", "六六。")],
}
NANTANG = [ci("南唐", "七七。")]
SONGCI300 = [ci("三百", "八八。"), ci("缺字", "□。")]

EXPECTED_SONGCI = (
    "甲调\n一一。\n二二。\n\n"
    "乙调\n四四。\n五五。\n\n"
    "丙调・别名\n三三。\n\n"
    "丁调\n六六。\n\n"
    "南唐\n七七。\n"
)
EXPECTED_SONGCI300 = "三百\n八八。\n"


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def make_fixture(base, songci_dir, wudai_dir):
    for name, cis in CI_FILES.items():
        write_json(base / songci_dir / name, cis)
    write_json(base / songci_dir / "author.song.json", [{"name": "某"}])
    write_json(base / songci_dir / "宋词三百首.json", SONGCI300)
    write_json(base / wudai_dir / "nantang" / "poetrys.json", NANTANG)


@pytest.mark.parametrize(
    "subdir, songci_dir, wudai_dir",
    [
        ("", "songci", "wudaishici"),  # like /work/shared/chinese-poetry
        ("package/dist", "songci", "wudaishici"),  # unpacked npm pack
        ("", "宋词", "五代诗词"),  # git clone of chinese-poetry
    ],
)
def test_builds_exact_text(tmp_path, capsys, subdir, songci_dir, wudai_dir):
    source = tmp_path / "source"
    make_fixture(source / subdir, songci_dir, wudai_dir)
    out = tmp_path / "out"

    prepare.main(["--source", str(source), "--out-dir", str(out)])

    assert (out / "songci.txt").read_bytes() == EXPECTED_SONGCI.encode("utf-8")
    assert (out / "songci300.txt").read_bytes() == EXPECTED_SONGCI300.encode("utf-8")
    printed = capsys.readouterr().out
    assert "songci.txt: kept 5 ci, dropped 3" in printed
    assert "songci300.txt: kept 1 ci, dropped 1" in printed


def test_ci_files_sort_numerically():
    names = ["ci.song.2019y.json", "ci.song.1000.json", "ci.song.200.json",
             "ci.song.0.json", "ci.song.10000.json", "ci.song.2000.json"]
    ordered = sorted((Path(n) for n in names), key=prepare.ci_file_sort_key)
    assert [p.name for p in ordered] == [
        "ci.song.0.json", "ci.song.200.json", "ci.song.1000.json",
        "ci.song.2000.json", "ci.song.2019y.json", "ci.song.10000.json",
    ]


def readme_hashes():
    """SHA-256 per file, from the table in data/README.md (one source of truth)."""
    hashes = {}
    for line in (DATA / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if cells[0] in ("songci.txt", "songci300.txt"):
            hashes[cells[0]] = cells[-1]
    return hashes


@pytest.mark.parametrize("name", ["songci.txt", "songci300.txt"])
def test_committed_file_matches_readme(name):
    raw = (DATA / name).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == readme_hashes()[name]
    text = raw.decode("utf-8")  # raises if not UTF-8
    assert "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_bad_source_exits_2_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(PREPARE), "--source", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "looked for" in result.stderr
