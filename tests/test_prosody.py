"""tools/prosody.py: where a tune rhymes and which tones it fixes, measured on the corpus; the
rhyme and tone scores; and writing to them (tools/sampling.py, tools/write_poem.py)."""

import json
import re
from collections import Counter

import pytest
import torch
from pypinyin import Style, lazy_pinyin

from conftest import ROOT
from test_sampling import Uniform
from tools import corpus, poetry_form, prosody, sampling
from tools.versions import BY_VERSION

# 晏殊's 浣溪沙: its rhymes 杯 台 回 来 徊 (one group in 平水韵, 十灰) fall in two 十三辙 groups
YANSHU = ("一曲新词酒一杯。", "去年天气旧亭台。", "夕阳西下几时回。", "无可奈何花落去，似曾相识燕归来。",
          "小园香径独徘徊。")


@pytest.fixture(scope="module")
def songci():
    cis = corpus.split_ci(corpus.read(ROOT / "data" / "songci.txt"))
    return cis, poetry_form.templates(cis)


def test_a_characters_tone_and_rhyme_group_are_its_modern_reading():
    assert [prosody.level(ch) for ch in "春风好雨，"] == ["平", "平", "仄", "仄", None]
    assert [prosody.rhyme_group(ch) for ch in "杯台回来徊"] == ["灰堆", "怀来", "灰堆", "怀来", "怀来"]
    groups = [{"灰堆"}, {"怀来"}, {"灰堆"}, {"人辰"}, {"怀来"}, {"怀来"}]
    assert prosody.rhyming(groups) == [True, True, True, False, True, True]


def test_huanxisha_rhymes_where_readers_know_it_does(songci):
    """The ends of its first, second, third, fifth and sixth clauses; the fourth, ending in ，,
    does not rhyme."""
    cis, templates = songci
    measured = prosody.measure(cis, templates["浣溪沙"])
    assert measured.rhymes == (0, 1, 2, 4, 5)
    assert str(measured) == "7。韵/7。韵/7。韵/7，7。韵/7。韵"
    assert prosody.rhyme_score(YANSHU, measured) == 1.0  # 杯 台 回 来 徊: each shares a neighbour's group


def places_by_hand(cis, template):
    """{(clause, place): 平 or 仄} where at least 80% of the tune's ci in its commonest form agree,
    computed here with pypinyin alone."""
    ping, known = Counter(), Counter()
    for ci in cis:
        if ci.tune != template.tune or poetry_form.form_of(ci.lines) != template.form:
            continue
        written = [c for line in ci.lines for c, _ in corpus.CLAUSE.findall(line)]
        for k, clause in enumerate(written):
            for place, ch in enumerate(clause):
                tone = lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0][-1]
                if tone in "1234":
                    known[k, place] += 1
                    ping[k, place] += tone in "12"
    return {key: "平" if ping[key] / known[key] >= 0.8 else "仄" for key in known
            if not 0.2 < ping[key] / known[key] < 0.8}


def test_a_huanxisha_written_with_rhyme_and_tones_rhymes_everywhere_and_meets_every_fixed_tone(songci):
    """Written by a model that likes every character alike: only the rules shape it. Its rhyme
    positions share one final class, and every fixed tone, found here from the corpus by hand, is
    met."""
    cis, templates = songci
    template = templates["浣溪沙"]
    tokenizer = BY_VERSION["v1"].Tokenizer("".join(ci.text for ci in cis) + "\n")
    measured = prosody.measure(cis, template)
    rules = dict(measured=measured, rhyme="", tones=True)
    assert sampling.check_writable(tokenizer, template, **rules) == []
    writing = sampling.write_in_form(Uniform(len(tokenizer.chars)), tokenizer, template, seed=5, **rules)
    lines = corpus.ci_lines(writing.written)
    written = [c for line in lines for c, _ in corpus.CLAUSE.findall(line)]
    finals = [lazy_pinyin(written[k][-1], style=Style.FINALS)[0] for k in (0, 1, 2, 4, 5)]
    assert len({prosody.GROUP_OF_FINAL[final] for final in finals}) == 1, finals
    fixed = places_by_hand(cis, template)
    assert fixed and all(prosody.level(written[k][place]) == tone for (k, place), tone in fixed.items())
    assert (prosody.rhyme_score(lines, measured), prosody.tone_score(lines, measured)) == (1.0, 1.0)


def test_a_rhyme_group_the_vocabulary_cannot_meet_is_named(songci):
    cis, templates = songci
    measured = prosody.measure(cis, templates["浣溪沙"])
    tokenizer = BY_VERSION["v1"].Tokenizer("浣溪沙春风\n，。")
    problems = sampling.check_writable(tokenizer, templates["浣溪沙"], measured=measured, rhyme="江阳")
    assert problems == ["no character of the model's vocabulary is in the rhyme group 江阳"]
    problems = sampling.check_writable(tokenizer, templates["浣溪沙"], measured=measured, rhyme="阳")
    assert problems[0].startswith("阳 is not a rhyme group; the 13: 发花")


@pytest.mark.slow
def test_versions_table_has_every_version_at_every_seed(tiny_comparison, capsys, tmp_path):
    *_, runs = tiny_comparison
    saved = tmp_path / "versions.json"
    argv = ["--versions", "--runs", str(runs), "--tunes", "1", "--ci-per-tune", "1", "--json", str(saved)]
    assert prosody.main(argv) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if re.match(r"\| v\d", line)]
    assert [row.split(" | ")[0][2:] for row in rows] == list(BY_VERSION)
    assert all(row.split(" | ")[1] == "2" for row in rows)  # seeds 1337 and 1338
    found = json.loads(saved.read_text(encoding="utf-8"))
    assert [[row["seed"] for row in rows] for rows in found["versions"].values()] == [[1337, 1338]] * len(BY_VERSION)
    assert prosody.main(argv) == 2  # the file is there: never written over
    assert capsys.readouterr().err == f"error: {saved} exists: move it away or name a new file\n"


def test_versions_without_checkpoints_is_one_line(tmp_path, capsys):
    assert prosody.main(["--versions", "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: no checkpoint in {tmp_path}; train: python -m tools.compare_versions --seeds 3\n"


def test_pingshui_reads_the_entering_tone_that_mandarin_lost(songci):
    """白 and 国 were 入声, always 仄; Mandarin reads them 平. data/pingshui.tsv (data/pingshui.py)
    has them; both readings find 浣溪沙's rhyme positions."""
    assert [prosody.level(ch) for ch in "白国"] == ["平", "平"]
    assert [prosody.pingshui_level(ch) for ch in "白国"] == ["仄", "仄"]
    assert "上平十灰" in prosody.pingshui_groups("杯") & prosody.pingshui_groups("台")  # one group
    cis, templates = songci
    assert prosody.measure(cis, templates["浣溪沙"], "pingshui").rhymes == (0, 1, 2, 4, 5)


class Bigram(torch.nn.Module):
    """A model whose scores for the next character depend on the last one only, drawn at random:
    which context each place is read from shows in what it expects."""
    block_size = 8

    def __init__(self, vocab_size):
        super().__init__()
        self.table = torch.nn.Parameter(torch.randn(vocab_size, vocab_size, generator=torch.Generator().manual_seed(0)))

    def forward(self, idx):
        return self.table[idx], None  # (B, T, V)


def test_what_a_model_expects_is_read_at_the_rhyme_positions_and_fixed_places(songci):
    """晏殊's 浣溪沙 read by a random bigram: at each rhyme position after the first (the ends of
    clauses 2, 3, 5, 6: 台 回 来 徊) its share of the group of the character there, and at each
    fixed place its share of the tune's tone, computed here from the table by hand; frequency's
    shares the same way."""
    cis, templates = songci
    measured = prosody.measure(cis, templates["浣溪沙"])
    tokenizer = BY_VERSION["v1"].Tokenizer("".join(ci.text for ci in cis) + "\n")
    model = Bigram(len(tokenizer.chars))
    frequency = torch.rand(len(tokenizer.chars), generator=torch.Generator().manual_seed(1),
                           dtype=torch.float64)
    letters = torch.tensor([ch.isalpha() for ch in tokenizer.chars])

    def shares(before, mask):
        probs = model.table[tokenizer.stoi[before]].detach().softmax(-1)
        return (float(probs[mask & letters].sum() / probs[letters].sum()),
                float(frequency[mask & letters].sum() / frequency[letters].sum()))

    written = [c for line in YANSHU for c, _ in corpus.CLAUSE.findall(line)]
    text = "\n\n浣溪沙\n" + "".join(line + "\n" for line in YANSHU)
    rhymes = []
    for k in (1, 2, 4, 5):
        end = written[k][-1]
        group = torch.tensor([prosody.rhyme_group(ch) == prosody.rhyme_group(end) for ch in tokenizer.chars])
        rhymes.append(shares(text[text.index(written[k]) + len(written[k]) - 2], group))
    tones = []
    for k, clause in enumerate(written):
        for place, tone in enumerate(measured.tones[k]):
            if tone != "·":
                at = text.index(clause) + place
                tones.append(shares(text[at - 1], torch.tensor([prosody.level(ch) == tone for ch in tokenizer.chars])))
    found = prosody.expected(model, tokenizer, YANSHU, measured, frequency)
    assert len(found["rhyme"]) == 4 and len(tones) == 30
    assert found["rhyme"] == pytest.approx(rhymes) and found["tone"] == pytest.approx(tones)
    assert prosody.expected(model, tokenizer, YANSHU[:-1], measured, frequency) is None  # another form


def test_expected_reads_each_place_from_the_context_the_sampler_wrote_it_in(songci):
    """A transformer (random weights, block 8) writes a 浣溪沙 with the rhyme imposed; read back,
    its probability of each character written equals the one it had while writing."""
    cis, templates = songci
    measured = prosody.measure(cis, templates["浣溪沙"])
    v7 = BY_VERSION["v7"]
    tokenizer = v7.Tokenizer("".join(ci.text for ci in cis) + "\n")
    torch.manual_seed(0)
    model = v7.BabyGPT(v7.Config(block_size=8, n_embd=16), tokenizer.vocab_size)
    writing = sampling.write_in_form(model, tokenizer, measured.template, measured=measured, rhyme="")
    ids = tokenizer.encode(writing.text)
    targets = list(range(len(writing.prompt), len(ids)))  # every character written
    probs = prosody.predictions(model, ids, targets)  # (N, V)
    read_back = [float(p[ids[i]].log()) for p, i in zip(probs, targets)]
    assert read_back == pytest.approx([step.logprob for step in writing.steps], abs=1e-4)
