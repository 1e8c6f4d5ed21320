"""Tests for data/prepare.py (python -m data.prepare): a tiny fixture, the committed files, bad input."""

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from data import prepare

DATA = ROOT / "data"


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

# The kept ci in the collection's order; the file lists them in SHUFFLE_SEED's random order.
COLLECTION_ORDER = ["甲调\n一一。\n二二。", "乙调\n四四。\n五五。", "丙调・别名\n三三。",
                    "丁调\n六六。", "南唐\n七七。"]
SHUFFLED = list(COLLECTION_ORDER)
random.Random(prepare.SHUFFLE_SEED).shuffle(SHUFFLED)
EXPECTED_SONGCI = "\n\n".join(SHUFFLED) + "\n"
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
    assert SHUFFLED != COLLECTION_ORDER  # the order really is shuffled
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
        [sys.executable, "-m", "data.prepare", "--source", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "looked for" in result.stderr


def run_prepare(capsys, source, out, *flags):
    """prepare's command line, in this process: (exit status, stderr). The command itself, as a
    learner runs it, is test_bad_source_exits_2_with_one_line's."""
    try:
        prepare.main(["--source", str(source), "--out-dir", str(out), *flags])
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


def empty_files(source):
    for path in [*(source / "songci" / name for name in CI_FILES), source / "songci" / "宋词三百首.json",
                 source / "wudaishici" / "nantang" / "poetrys.json"]:
        write_json(path, [])


def tune_names_without_text(source):
    """Issue 36: such a source kept 21,001 "ci" of names alone and replaced songci.txt with them."""
    make_fixture(source, "songci", "wudaishici")
    for name, cis in CI_FILES.items():
        write_json(source / "songci" / name, [ci(c["rhythmic"]) for c in cis])
    write_json(source / "songci" / "宋词三百首.json", [ci("三百")])
    write_json(source / "wudaishici" / "nantang" / "poetrys.json", [ci("南唐", "")])


@pytest.mark.parametrize("make_source", [empty_files, tune_names_without_text])
def test_a_source_that_keeps_no_ci_replaces_nothing(tmp_path, capsys, make_source):
    """The layout is right but the files hold no ci with text: the shipped corpus stays (issue 19)."""
    source, out = tmp_path / "source", tmp_path / "out"
    make_source(source)
    out.mkdir()
    (out / "songci.txt").write_text(EXPECTED_SONGCI, encoding="utf-8")
    status, stderr = run_prepare(capsys, source, out)
    assert status == 1
    assert stderr.splitlines() == ["prepare.py: error: songci.txt: no ci kept from --source; nothing written"]
    assert (out / "songci.txt").read_text(encoding="utf-8") == EXPECTED_SONGCI
    assert sorted(p.name for p in out.iterdir()) == ["songci.txt"]


def test_a_corpus_is_not_replaced_by_one_with_far_fewer_ci_without_force(tmp_path, capsys):
    source, out = tmp_path / "source", tmp_path / "out"
    make_fixture(source, "songci", "wudaishici")
    out.mkdir()
    bigger = "\n\n".join(f"调\n第{i}首。" for i in range(11)) + "\n"  # 11 ci; the fixture keeps 5
    (out / "songci.txt").write_text(bigger, encoding="utf-8")

    status, stderr = run_prepare(capsys, source, out)
    assert status == 1
    assert len(stderr.splitlines()) == 1
    assert "holds 11 ci and would be replaced by 5" in stderr and "--force" in stderr
    assert (out / "songci.txt").read_text(encoding="utf-8") == bigger
    assert not (out / "songci300.txt").exists()  # a refusal writes neither file

    status, stderr = run_prepare(capsys, source, out, "--force")
    assert status == 0, stderr
    assert (out / "songci.txt").read_text(encoding="utf-8") == EXPECTED_SONGCI
    assert sorted(p.name for p in out.iterdir()) == ["songci.txt", "songci300.txt"]  # no temporary files


@pytest.mark.parametrize("content, message", [
    (b'[{"rhythmic": "\xe7\x94\xb2', "is not valid JSON"),  # cut off in the middle
    (b'{"rhythmic": "x"}', "is not a chinese-poetry list of ci"),
    (b"\xff\xfe[]", "is not UTF-8"),
])
def test_a_damaged_source_file_is_one_line(tmp_path, capsys, content, message):
    source = tmp_path / "source"
    make_fixture(source, "songci", "wudaishici")
    (source / "songci" / "ci.song.200.json").write_bytes(content)
    status, stderr = run_prepare(capsys, source, tmp_path / "out")
    assert status == 2
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    assert "ci.song.200.json" in stderr and message in stderr
    assert not (tmp_path / "out").exists()


def test_half_a_surrogate_pair_is_one_line(tmp_path, capsys):
    source = tmp_path / "source"
    make_fixture(source, "songci", "wudaishici")
    (source / "songci" / "ci.song.200.json").write_text(
        '[{"rhythmic": "乙调", "paragraphs": ["四\\ud841四。"]}]', encoding="utf-8")
    status, stderr = run_prepare(capsys, source, tmp_path / "out")
    assert status == 2
    assert stderr.splitlines() == [f"prepare.py: error: {source / 'songci' / 'ci.song.200.json'}: ci 1 "
                                   "holds half a surrogate pair (\\ud841), which is no character; "
                                   "the file is damaged: download it again"]
    assert not (tmp_path / "out").exists()
