"""tools/sampling.py: the sampler's knobs, and writing in a tune's form by constrained decoding."""

import math

import pytest
import torch

from tools import corpus, poetry_form, sampling
from tools.versions import BY_VERSION

Tokenizer = BY_VERSION["v1"].Tokenizer  # a character's id: its place in the sorted characters

# 晏殊's 浣溪沙, in its tune's commonest form: 7。/7。/7。/7，7。/7。
YANSHU = ["一曲新词酒一杯。", "去年天气旧亭台。", "夕阳西下几时回。", "无可奈何花落去，似曾相识燕归来。",
          "小园香径独徘徊。"]
HUANXISHA = poetry_form.Template("浣溪沙", poetry_form.form_of(YANSHU), count=800, share=0.95)
# 满江红's form has a 、 among its marks
MANJIANGHONG = poetry_form.Template("满江红", poetry_form.form_of(["怒发冲冠，凭栏处、潇潇雨歇。"]),
                                    count=20, share=1.0)


class Uniform(torch.nn.Module):
    """A model that gives every character the same score: the rules alone shape what it writes."""
    block_size = 8

    def __init__(self, vocab_size):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(vocab_size))

    def forward(self, idx):
        return self.weight.expand(*idx.shape, -1), None


def test_writing_in_form_obeys_the_template_and_the_acrostic():
    tokenizer = Tokenizer("浣溪沙春江花月夜好风\n，。、")
    writing = sampling.write_in_form(Uniform(len(tokenizer.chars)), tokenizer, HUANXISHA,
                                     acrostic="春江花", top_k=5, top_p=0.9, seed=3)
    lines = corpus.ci_lines(writing.written)
    assert poetry_form.form_score(lines, HUANXISHA) == 1.0
    clauses = "".join(lines).replace("。", "，").split("，")
    assert [clause[0] for clause in clauses[:3]] == list("春江花")
    assert writing.text == "\n\n浣溪沙\n" + writing.written
    assert all(step.forced for step in writing.steps if not step.char.isalpha())
    assert writing.mean_logprob == pytest.approx(-math.log(len(tokenizer.chars)))


def test_the_same_seed_writes_the_same_text():
    tokenizer = Tokenizer("春江花月夜好风\n，。")
    model = Uniform(len(tokenizer.chars))
    first, again, other = (sampling.write_free(model, tokenizer, "春", 20, seed=seed)
                           for seed in (7, 7, 8))
    assert first.text == again.text != other.text
    assert not any(step.forced for step in first.steps)


def test_sampling_never_returns_a_masked_or_cut_character():
    logits = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])
    allowed = torch.tensor([False, True, True, True, True])
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        chosen, probs = sampling.sample_next(logits, top_k=2, allowed=allowed, generator=generator)
        assert chosen in (1, 2) and probs[0] == 0
        chosen, _ = sampling.sample_next(logits, top_p=0.5, generator=generator)
        assert chosen == 0  # the likeliest alone holds 0.64 > 0.5 of the probability


def test_each_cut_character_is_labelled_with_what_cut_it():
    """The form's mask, top-k and top-p, told apart: the explorer shows which one it was."""
    logits = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    allowed = torch.tensor([False, True, True, True, True, True])
    probs, cut = sampling.drawing_probs(logits, top_k=4, top_p=0.8, allowed=allowed)
    assert [sampling.CUTS[c] for c in cut] == ["form", None, None, "top-p", "top-p", "top-k"]
    kept = torch.softmax(logits[1:3], dim=-1)  # what is left, renormalised
    assert torch.allclose(probs, torch.tensor([0, *kept, 0, 0, 0]))


def test_check_writable_names_each_problem():
    tokenizer = Tokenizer("浣溪沙春\n，。")
    assert sampling.check_writable(tokenizer, HUANXISHA, "春") == []
    problems = sampling.check_writable(tokenizer, HUANXISHA, "春江花月夜好风")
    assert any("'江'" in p for p in problems)
    assert any("7 characters and 浣溪沙 has 6 clauses" in p for p in problems)
    # every mark the template forces must be writable
    problems = sampling.check_writable(Tokenizer("满江红\n，。"), MANJIANGHONG)
    assert any("'、'" in p for p in problems)
