"""tools/poetry_form.py: tune templates from the corpus, the form score and the copy check."""

import math

import pytest
import torch

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
def corpus():
    return (pf.ROOT / "data" / "songci.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def templates(corpus):
    return pf.templates(pf.split_ci(corpus))


def test_hand_counted_ci_have_their_tunes_commonest_form(corpus, templates):
    for tune, (text, form) in HAND_COUNTED.items():
        assert f"{tune}\n{text}\n" in corpus  # the real ci, as the corpus writes it
        assert pf.show_form(pf.form_of(text.split("\n"))) == form
        assert str(templates[tune]) == form
        assert pf.form_score(text.split("\n"), templates[tune]) == 1.0
    assert str(templates["水调歌头"]) == SHUIDIAO


def test_the_twenty_commonest_tunes_and_their_shares(templates):
    top = list(templates.values())[:20]
    assert [t.tune for t in top[:4]] == ["浣溪沙", "水调歌头", "鹧鸪天", "菩萨蛮"]
    assert pf.LOST_TUNE not in templates  # "tune name lost" is not a tune
    assert templates["浣溪沙"].count == 800 and round(templates["浣溪沙"].share, 2) == 0.95
    assert len(templates["水调歌头"].form) == 19  # clauses
    assert all(t.count >= pf.MIN_CI for t in templates.values())


def test_a_tunes_other_name_counts_as_the_tune():
    assert pf.tune_name("木兰花・玉楼春") == "玉楼春"
    assert pf.tune_name("浣溪沙") == "浣溪沙"
    cis = pf.split_ci("木兰花・玉楼春\n一二三四五六七。\n\n玉楼春\n一二三四五六七。\n")
    assert [ci.tune for ci in cis] == ["玉楼春", "玉楼春"]


def test_the_form_score_aligns_so_one_missing_clause_does_not_zero_the_rest(templates):
    lines = SU_SHI.split("\n")
    assert pf.form_score(lines, templates["水调歌头"]) == pytest.approx(17 / 19)  # 2 of 19 differ
    assert pf.form_score(lines[1:], templates["水调歌头"]) == pytest.approx(15 / 19)  # a line less
    assert pf.form_score(lines[1:] + lines[:1], templates["水调歌头"]) < 17 / 19  # lines shuffled
    assert pf.form_score([], templates["水调歌头"]) == 0.0
    text = HAND_COUNTED["鹧鸪天"][0].split("\n")
    assert pf.form_score(text + ["多一句。"], templates["鹧鸪天"]) == pytest.approx(9 / 10)  # 9 clauses and one more


def test_a_line_without_a_closing_mark_is_a_clause_of_its_own():
    assert pf.form_of(["春风，秋月", "花"]) == ((2, "，"), (2, "\n"), (1, "\n"))


def test_the_copy_check_finds_a_copied_line_and_not_a_new_one():
    training = "浣溪沙\n一曲新词酒一杯。\n去年天气旧亭台。\n"
    check = pf.CopyCheck(training)
    copied = check.check(["一曲新词酒一杯。"])
    assert copied == {"4-gram": 1.0, "8-gram": 1.0, "longest": "一曲新词酒一杯。"}
    mixed = check.check(["今夜新词酒一杯。"])  # the last 6 characters are copied
    assert mixed["longest"] == "新词酒一杯。" and mixed["4-gram"] == 3 / 5 and mixed["8-gram"] == 0.0
    fresh = check.check(["春江花月夜"])
    assert fresh["4-gram"] == 0.0 and math.isnan(fresh["8-gram"]) and len(fresh["longest"]) <= 3
    assert not check.occurs("酒一杯。\n去")  # never across a line break


def test_validation_ci_start_after_the_split(corpus):
    held_out = pf.validation_ci(corpus)
    assert len(held_out) > 2000
    assert "\n".join(held_out[-1].lines) in corpus[int(0.9 * len(corpus)):]


class Uniform(torch.nn.Module):
    """A model that gives every character the same score: the rules alone shape what it writes."""
    block_size = 8

    def __init__(self, vocab_size):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(vocab_size))

    def forward(self, idx):
        return self.weight.expand(*idx.shape, -1), None


class Chars:
    def __init__(self, text):
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, s):
        return [self.stoi[ch] for ch in s]


def test_writing_in_form_obeys_the_template_and_the_acrostic(templates):
    tokenizer = Chars("浣溪沙春江花月夜好风\n，。、")
    template = templates["浣溪沙"]
    writing = pf.write_in_form(Uniform(len(tokenizer.chars)), tokenizer, template, acrostic="春江花",
                               top_k=5, top_p=0.9, seed=3)
    lines = pf.ci_lines(writing)
    assert pf.form_score(lines, template) == 1.0
    clauses = "".join(lines).replace("。", "，").split("，")
    assert [clause[0] for clause in clauses[:3]] == list("春江花")
    assert writing.text.startswith("\n\n浣溪沙\n")
    assert all(step.forced for step in writing.steps if not step.char.isalpha())
    assert writing.mean_logprob == pytest.approx(-math.log(len(tokenizer.chars)))


def test_sampling_never_returns_a_masked_or_cut_character():
    logits = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])
    allowed = torch.tensor([False, True, True, True, True])
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        chosen, probs = pf.sample_next(logits, top_k=2, allowed=allowed, generator=generator)
        assert chosen in (1, 2) and probs[0] == 0
        chosen, _ = pf.sample_next(logits, top_p=0.5, generator=generator)
        assert chosen == 0  # the likeliest alone holds 0.64 > 0.5 of the probability


def test_check_writable_names_each_problem(templates):
    tokenizer = Chars("浣溪沙春\n，。")
    template = templates["浣溪沙"]
    assert pf.check_writable(tokenizer, template, "春") == []
    problems = pf.check_writable(tokenizer, template, "春江花月夜好风")
    assert any("'江'" in p for p in problems) and any("7 characters and 浣溪沙 has 6 clauses" in p for p in problems)
    # every mark the template forces must be writable: 满江红's form has 、
    assert any("'、'" in p for p in pf.check_writable(Chars("满江红\n，。"), templates["满江红"]))


def test_the_baseline_of_real_unseen_ci(capsys):
    small = str(pf.ROOT / "data" / "songci300.txt")
    assert pf.main(["--baseline", "--data", small, "--min-ci", "1"]) == 0
    out = capsys.readouterr().out
    assert "ci in the validation split" in out and "form score" in out and "of 8-grams" in out


def test_list_tunes_prints_the_commonest_tunes(capsys):
    assert pf.main(["--list-tunes"]) == 0
    out = capsys.readouterr().out
    assert "浣溪沙" in out and "7。/7。/7。/7，7。/7。" in out and "95%" in out
    assert pf.main(["--tune", "无此调"]) == 2


def test_clause_matches_mark_the_template_clauses_reproduced(templates):
    lines = SU_SHI.split("\n")
    matches = pf.clause_matches(lines, templates["水调歌头"])
    assert len(matches) == 19 and sum(matches) == 17
    assert matches[12:14] == [False, False]  # 6，5。 of the sixth line: 苏轼 wrote 4，7。
    offsets = pf.clause_offsets(templates["浣溪沙"])
    assert offsets == [4, 4 + 9, 4 + 18, 4 + 27, 4 + 35, 4 + 44]  # "浣溪沙\n", then 7 + "。\n" each (7 + "，" once)
