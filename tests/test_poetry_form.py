"""tools/poetry_form.py: tune templates from the corpus, the form score, and its command line."""

import pytest

from conftest import ROOT, SMALL_CORPUS
from tools import corpus
from tools import poetry_form as pf

# Real ci from data/songci.txt, their forms counted by hand (clause lengths, marks, line ends).
HAND_COUNTED = {
    "浣溪沙": ("一曲新词酒一杯。\n去年天气旧亭台。\n夕阳西下几时回。\n无可奈何花落去，似曾相识燕归来。\n"
            "小园香径独徘徊。", "7。/7。/7。/7，7。/7。"),
    "鹧鸪天": ("镇日无心扫黛眉。\n临行愁见理征衣。\n尊前只恐伤郎意，阁泪汪汪不敢垂。\n停宝马，捧瑶卮。\n"
            "相斟相劝忍分离。\n不如饮待奴先醉，图得不知郎去时。", "7。/7。/7，7。/3，3。/7。/7，7。"),
    "菩萨蛮": ("忆郎还上层楼曲。\n楼前芳草年年绿。\n绿似去时袍。\n回头风袖飘。\n郎袍应已旧。\n颜色非长久。\n"
            "惜恐镜中春。\n不如花草新。", "7。/7。/5。/5。/5。/5。/5。/5。"),
    "西江月": ("凤额绣帘高卷，兽环朱户频摇。\n两竿红日上花梢。\n春睡厌厌难觉。\n好梦狂随飞絮，闲愁浓胜香醪。\n"
            "不成雨暮与云朝。\n又是韶光过了。", "6，6。/7。/6。/6，6。/7。/6。"),
}
# 苏轼's 水调歌头 (明月几时有) differs from the tune's commonest form in one line: 4，7。 for 6，5。
SU_SHI = ("明月几时有，把酒问青天。\n不知天上宫阙，今夕是何年。\n我欲乘风归去，又恐琼楼玉宇，高处不胜寒。\n"
          "起舞弄清影，何似在人间。\n转朱阁，低绮户，照无眠。\n不应有恨，何事长向别时圆。\n"
          "人有悲欢离合，月有阴晴圆缺，此事古难全。\n但愿人长久，千里共婵娟。")
SHUIDIAO = "5，5。/6，5。/6，6，5。/5，5。/3，3，3。/6，5。/6，6，5。/5，5。"


@pytest.fixture(scope="module")
def songci():
    return (ROOT / "data" / "songci.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def templates(songci):
    return pf.templates(corpus.split_ci(songci))


def test_hand_counted_ci_have_their_tunes_commonest_form(songci, templates):
    for tune, (text, form) in HAND_COUNTED.items():
        assert f"{tune}\n{text}\n" in songci  # the real ci, as the corpus writes it
        assert pf.show_form(pf.form_of(text.split("\n"))) == form
        assert str(templates[tune]) == form
        assert pf.form_score(text.split("\n"), templates[tune]) == 1.0
    assert str(templates["水调歌头"]) == SHUIDIAO


def test_the_twenty_commonest_tunes_and_their_shares(templates):
    top = list(templates.values())[:20]
    assert [t.tune for t in top[:4]] == ["浣溪沙", "水调歌头", "鹧鸪天", "菩萨蛮"]
    assert corpus.LOST_TUNE not in templates  # "tune name lost" is not a tune
    assert templates["浣溪沙"].count == 800 and round(templates["浣溪沙"].share, 2) == 0.95
    assert len(templates["水调歌头"].form) == 19  # clauses
    assert all(t.count >= pf.MIN_CI for t in templates.values())


def test_the_form_score_aligns_so_one_missing_clause_does_not_zero_the_rest(templates):
    lines = SU_SHI.split("\n")
    assert pf.form_score(lines, templates["水调歌头"]) == pytest.approx(17 / 19)  # 2 of 19 differ
    assert pf.form_score(lines[1:], templates["水调歌头"]) == pytest.approx(15 / 19)  # a line less
    assert pf.form_score(lines[1:] + lines[:1], templates["水调歌头"]) < 17 / 19  # lines shuffled
    assert pf.form_score([], templates["水调歌头"]) == 0.0
    text = HAND_COUNTED["鹧鸪天"][0].split("\n")
    # its 9 clauses and one more
    assert pf.form_score(text + ["多一句。"], templates["鹧鸪天"]) == pytest.approx(9 / 10)


def test_a_line_without_a_closing_mark_is_a_clause_of_its_own():
    assert pf.form_of(["春风，秋月", "花"]) == ((2, "，"), (2, "\n"), (1, "\n"))


def test_a_form_counts_the_clauses_the_comparison_measures():
    """One definition of a clause (corpus.CLAUSE): where two marks meet the second ends a clause
    of no characters; a lost character (　) starts the clause after it."""
    assert pf.form_of(["春风，，秋月。"]) == ((2, "，"), (0, "，"), (2, "。\n"))
    assert pf.form_of(["尽把师　归美。"]) == ((2, "。\n"),)


def test_the_baseline_of_real_unseen_ci(capsys):
    assert pf.main(["--baseline", "--data", str(SMALL_CORPUS), "--min-ci", "1"]) == 0
    out = capsys.readouterr().out
    assert "ci in the validation split" in out and "form score" in out and "of 8-grams" in out


def test_list_tunes_prints_the_commonest_tunes(capsys):
    assert pf.main(["--list-tunes"]) == 0
    out = capsys.readouterr().out
    # the form with its rhyme positions (tools/prosody.py): 韵 after each clause that rhymes
    assert "浣溪沙" in out and "7。韵/7。韵/7。韵/7，7。韵/7。韵" in out and "95%" in out
    assert pf.main(["--tune", "无此调"]) == 2


def test_an_unreadable_corpus_is_one_line(tmp_path, capsys):
    assert pf.main(["--data", str(tmp_path / "none.txt")]) == 2
    err = capsys.readouterr().err
    assert "cannot read the corpus" in err and err.count("\n") == 1


def test_clause_matches_mark_the_template_clauses_reproduced(templates):
    lines = SU_SHI.split("\n")
    matches = pf.clause_matches(lines, templates["水调歌头"])
    assert len(matches) == 19 and sum(matches) == 17
    assert matches[12:14] == [False, False]  # 6，5。 of the sixth line: 苏轼 wrote 4，7。
    offsets = pf.clause_offsets(templates["浣溪沙"])
    # "浣溪沙\n", then 7 + "。\n" each (7 + "，" once)
    assert offsets == [4, 4 + 9, 4 + 18, 4 + 27, 4 + 35, 4 + 44]
