"""tools/corpus.py: the corpus's ci, its clauses and its split, as the scripts split it."""

from conftest import ROOT
from tools import corpus


def test_a_tunes_other_name_counts_as_the_tune():
    assert corpus.tune_name("木兰花・玉楼春") == "玉楼春"
    assert corpus.tune_name("浣溪沙") == "浣溪沙"
    cis = corpus.split_ci("木兰花・玉楼春\n一二三四五六七。\n\n玉楼春\n一二三四五六七。\n")
    assert [ci.tune for ci in cis] == ["玉楼春", "玉楼春"]
    assert cis[0].text == "木兰花・玉楼春\n一二三四五六七。"


def test_validation_ci_start_after_the_split():
    text = (ROOT / "data" / "songci.txt").read_text(encoding="utf-8")
    held_out = corpus.validation_ci(text)
    assert len(held_out) > 2000
    assert "\n".join(held_out[-1].lines) in text[int(0.9 * len(text)):]
    assert corpus.training_text(text) + corpus.validation_text(text) == text


def test_a_clause_is_its_characters_and_its_mark():
    text = "沁园春\n明月几时有，把酒问青天。\n春江、花月夜？"  # the title ends at a line break
    assert corpus.CLAUSE.findall(text) == [("明月几时有", "，"), ("把酒问青天", "。"),
                                           ("春江", "、"), ("花月夜", "？")]
    assert corpus.CLAUSE.findall("春风，，") == [("春风", "，"), ("", "，")]


def test_the_lines_of_a_written_ci_end_at_its_first_blank_line():
    assert corpus.ci_lines("春风十里。\n明月。\n\n浣溪沙\n") == ("春风十里。", "明月。")
    assert corpus.ci_lines("\n\n") == ()


def test_a_corpus_without_the_scripts_prompt_characters_is_read(tmp_path):
    """The tools have no --prompt: a corpus without 春江, 明月 or 往事 is theirs to read (issue 36:
    the explorer named --prompt, a flag it does not have)."""
    path = tmp_path / "c.txt"
    path.write_text("调\n一二三。\n\n" * 50, encoding="utf-8")
    assert corpus.read(path).startswith("调\n一二三。")
