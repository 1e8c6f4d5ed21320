"""tools/scoring.py: each character's probability, its kind, and every head's attention weights,
each against the model's own modules called by hand."""

import pytest
import torch
from torch.nn import functional as F

from tools import scoring
from tools.versions import BY_VERSION


def tiny_model(version, vocab_size, **sizes):
    module = BY_VERSION[version]
    torch.manual_seed(0)
    config = module.Config(**{"n_embd": 16, "block_size": 8, **sizes})
    return module.BabyGPT(config, vocab_size).eval()


def test_each_character_is_scored_from_the_block_size_characters_before_it(small_text):
    """scoring.character_logprobs against one forward pass per character, context cut by hand."""
    tokenizer = BY_VERSION["v7"].Tokenizer(small_text)
    model = tiny_model("v7", tokenizer.vocab_size, n_layer=2)
    ids = tokenizer.encode(small_text[:20])
    by_hand = []
    for i in range(1, len(ids)):
        logits, _ = model(torch.tensor([ids[max(0, i - 8):i]]))  # (1, t, V)
        by_hand.append(torch.log_softmax(logits[0, -1], dim=-1)[ids[i]])
    logprobs = scoring.character_logprobs(model, ids, chunk=5)
    assert torch.allclose(logprobs, torch.stack(by_hand), atol=1e-5)


def test_kinds_of_character():
    kinds = scoring.character_kinds("浣溪沙\n春风春，月\n\n点绛唇\n花", block_size=32)
    assert kinds == ["tune name", "tune name", "mark or line end", "clause opening", "other",
                     "repeated", "mark or line end", "clause opening", "mark or line end",
                     "mark or line end", "tune name", "tune name", "tune name",
                     "mark or line end", "clause opening"]


def attention_by_hand(model, version, ids, layer, head):
    """The weights of one head, computed here from its input: the model's embeddings and the
    blocks before it, called one by one; then softmax(causal mask(q·kᵀ / √hs)), or for v2's
    parameter-free attention softmax(causal mask(x·xᵀ / √C))."""
    x = model.token_embedding(ids) + model.position_embedding(torch.arange(ids.shape[1]))
    if version in ("v7", "v8"):
        for block in model.blocks[:layer]:
            x = block(x)
        x = model.blocks[layer].ln1(x)  # (1, t, C): what the layer's heads read
        attention = model.blocks[layer].attention
    else:
        attention = model.attention
    if version == "v2":
        scores = x @ x.transpose(-2, -1) * x.shape[-1] ** -0.5  # (1, t, t)
    else:
        module = attention.heads[head] if version in ("v4", "v7", "v8") else attention
        q, k = module.query(x), module.key(x)  # (1, t, hs) each
        scores = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (1, t, t)
    t = ids.shape[1]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
    return F.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)[0]  # (t, t)


@pytest.mark.parametrize("version, heads", [
    ("v1", []), ("v2", [(0, 0)]), ("v3", [(0, 0)]), ("v4", [(0, h) for h in range(4)]),
    ("v7", [(layer, h) for layer in range(2) for h in range(4)]),
    ("v8", [(layer, h) for layer in range(2) for h in range(4)]),  # dropout follows each softmax
])
@torch.no_grad()
def test_attention_weights_are_each_heads_own(version, heads):
    """Every head's weights, as attention_weights records them while the model reads the first
    block_size ids, against the head computed by hand; v1 has none."""
    sizes = {"v7": {"n_layer": 2}, "v8": {"n_layer": 2, "dropout": 0.5, "tie_weights": True}}
    model = tiny_model(version, vocab_size=30, **sizes.get(version, {})).train()  # eval()'d by the tool
    ids = list(range(3, 13))  # longer than the block: only the first 8 are read
    weights = scoring.attention_weights(model, ids)
    assert sorted(weights) == heads
    for layer, head in heads:
        by_hand = attention_by_hand(model, version, torch.tensor([ids[:8]]), layer, head)
        assert weights[(layer, head)].shape == (8, 8)
        assert torch.allclose(weights[(layer, head)], by_hand, atol=1e-6)
