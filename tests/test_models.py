"""The concept parts: tokenizer, batches, every version's model, generation, training."""

import math

import pytest
import torch
from torch import nn

from conftest import load_script, tiny_config


def test_tokenizer_round_trip(script, small_text):
    tokenizer = script.Tokenizer(small_text)
    line = small_text.splitlines()[1]
    ids = tokenizer.encode(line)
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == line
    assert tokenizer.vocab_size == len(set(small_text))


def test_get_batch_cuts_contiguous_windows_and_shifted_targets(script):
    torch.manual_seed(0)
    data = torch.arange(100) * 3  # data[i] == 3i: a value says where it was cut from
    x, y = script.get_batch(data, batch_size=200, block_size=7)
    assert x.shape == y.shape == (200, 7)
    starts = x[:, 0] // 3
    assert torch.equal(x, (starts[:, None] + torch.arange(7)) * 3)  # each row one contiguous window
    assert torch.equal(y, x + 3)  # the targets: the same window, one character later
    assert starts.min() >= 0 and starts.max() <= 100 - 7 - 1  # the last target is still in data
    assert len(starts.unique()) > 50  # random starts, spread over the data


def test_logits_shape_and_initial_loss(script, small_text):
    torch.manual_seed(0)
    vocab_size = len(set(small_text))
    config = script.Config(block_size=8, n_embd=32)
    model = script.BabyGPT(config, vocab_size)
    idx = torch.randint(vocab_size, (4, 8))
    logits, loss = model(idx, torch.randint(vocab_size, (4, 8)))
    assert logits.shape == (4, 8, vocab_size)
    assert abs(loss.item() - math.log(vocab_size)) < 0.3  # an untrained model guesses uniformly
    assert model(idx)[1] is None


def test_causal_future_tokens_do_not_change_the_past(script):
    torch.manual_seed(0)
    model = script.BabyGPT(script.Config(block_size=8, n_embd=16), vocab_size=50).eval()  # eval(): no dropout (v8)
    idx = torch.randint(50, (2, 8))
    t = 4
    changed = idx.clone()
    changed[:, t + 1:] = (changed[:, t + 1:] + 1) % 50
    before, _ = model(idx)
    after, _ = model(changed)
    assert torch.allclose(before[:, : t + 1], after[:, : t + 1], atol=1e-6)
    assert not torch.allclose(before[:, t + 1:], after[:, t + 1:])


def test_multihead_is_the_concatenation_of_its_heads():
    v4 = load_script("babygpt_v4_multihead_attention")
    torch.manual_seed(0)
    mha = v4.MultiHeadAttention(num_heads=4, n_embd=32, head_size=8, block_size=8)
    assert isinstance(mha.heads, nn.ModuleList) and len(mha.heads) == 4
    x = torch.randn(2, 8, 32)
    expected = torch.cat([head(x) for head in mha.heads], dim=-1)
    assert torch.equal(mha(x), expected)
    assert sum(p.numel() for p in mha.parameters()) == 4 * 3 * 32 * 8


def test_from_v5_on_attention_is_projected_back_into_the_residual_stream():
    v5 = load_script("babygpt_v5_residual")
    torch.manual_seed(0)
    mha = v5.MultiHeadAttention(num_heads=4, n_embd=32, head_size=8, block_size=8)
    x = torch.randn(2, 8, 32)
    assert torch.allclose(mha(x), mha.proj(torch.cat([head(x) for head in mha.heads], dim=-1)))


def test_v5_with_attention_zeroed_sees_only_the_character_at_t():
    """The residual path alone: what reaches the logits at t is the character at t (and t itself)."""
    v5 = load_script("babygpt_v5_residual")
    torch.manual_seed(0)
    model = v5.BabyGPT(v5.Config(block_size=8, n_embd=16), vocab_size=50)
    nn.init.zeros_(model.attention.proj.weight)
    nn.init.zeros_(model.attention.proj.bias)  # attention now adds nothing
    idx = torch.randint(50, (2, 8))
    others = (idx + 1 + torch.arange(8)) % 50  # every character different
    before, _ = model(idx)
    for t in range(8):
        changed = others.clone()
        changed[:, t] = idx[:, t]  # the same character at t only
        assert torch.allclose(model(changed)[0][:, t], before[:, t], atol=1e-6)
        assert not torch.allclose(model(others)[0][:, t], before[:, t])
    # v4, zeroed the same way, has nothing left: every position gives the same logits.
    v4 = load_script("babygpt_v4_multihead_attention")
    model = v4.BabyGPT(v4.Config(block_size=8, n_embd=16), vocab_size=50)
    for head in model.attention.heads:
        nn.init.zeros_(head.value.weight)
    logits, _ = model(idx)
    assert torch.allclose(logits, logits[:1, :1].expand_as(logits))


def test_v6_block_adds_attention_then_feed_forward():
    v6 = load_script("babygpt_v6_feedforward")
    torch.manual_seed(0)
    block = v6.Block(n_embd=16, n_head=4, block_size=8)
    x = torch.randn(2, 8, 16)
    after_attention = x + block.attention(x)
    assert torch.allclose(block(x), after_attention + block.feed_forward(after_attention))
    widths = [m.out_features for m in block.feed_forward.net if isinstance(m, nn.Linear)]
    assert widths == [64, 16]  # 4x wide, then back


def test_v7_stacks_n_layer_pre_norm_blocks_and_a_final_layernorm():
    v7 = load_script("babygpt_v7_transformer")
    for n_layer in (1, 3):
        model = v7.BabyGPT(v7.Config(block_size=8, n_embd=16, n_layer=n_layer), vocab_size=50)
        assert len(model.blocks) == n_layer and all(isinstance(b, v7.Block) for b in model.blocks)
        assert sum(isinstance(m, nn.LayerNorm) for m in model.modules()) == 2 * n_layer + 1
    block = model.blocks[0]
    x = torch.randn(2, 8, 16)
    after_attention = x + block.attention(block.ln1(x))
    assert torch.allclose(block(x), after_attention + block.feed_forward(block.ln2(after_attention)))
    no_norm = v7.BabyGPT(v7.Config(block_size=8, n_embd=16, n_layer=3, no_layer_norm=True), vocab_size=50)
    assert not any(isinstance(m, nn.LayerNorm) for m in no_norm.modules())  # --no-layer-norm: none at all
    assert sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in no_norm.parameters()) == 7 * 2 * 16


def test_v8_drops_out_only_in_training_and_can_tie_the_output_layer_to_the_embedding():
    v8 = load_script("babygpt_v8_dropout")
    torch.manual_seed(0)
    model = v8.BabyGPT(v8.Config(block_size=8, n_embd=16, n_layer=2, dropout=0.5), vocab_size=50)
    idx = torch.randint(50, (2, 8))
    assert not torch.equal(model(idx)[0], model(idx)[0])  # model.train(): new zeros every call
    model.eval()
    assert torch.equal(model(idx)[0], model(idx)[0])  # model.eval(): dropout is off
    tied = v8.BabyGPT(v8.Config(block_size=8, n_embd=16, n_layer=2, tie_weights=True), vocab_size=50)
    assert tied.lm_head.weight is tied.token_embedding.weight
    assert sum(p.numel() for p in model.parameters()) - sum(p.numel() for p in tied.parameters()) == 50 * 16


def test_v4_refuses_heads_that_do_not_divide_n_embd():
    v4 = load_script("babygpt_v4_multihead_attention")
    with pytest.raises(ValueError, match=r"n_embd \(30\) must be divisible by n_head \(4\)"):
        v4.BabyGPT(v4.Config(n_embd=30, n_head=4), vocab_size=10)


def test_generate_length_crop_and_decodable(script, small_text):
    torch.manual_seed(0)
    tokenizer = script.Tokenizer(small_text)
    model = script.BabyGPT(script.Config(block_size=8, n_embd=16), tokenizer.vocab_size)
    prompt = torch.tensor([tokenizer.encode("明月几时有")])
    out = model.generate(prompt, max_new_tokens=20, top_k=5)  # grows past block_size = 8
    assert out.shape == (1, 5 + 20)
    assert torch.equal(out[:, :5], prompt)
    assert tokenizer.decode(out[0].tolist()).startswith("明月几时有")


def test_top_k_samples_only_among_the_k_likeliest(script, small_text, monkeypatch):
    """Even a sampler that returns an index of probability 0 (torch.multinomial on Apple's MPS can,
    issue 20) stays among the k likeliest: only they are offered to it."""
    torch.manual_seed(0)
    tokenizer = script.Tokenizer(small_text)
    model = script.BabyGPT(script.Config(block_size=8, n_embd=16), tokenizer.vocab_size).eval()
    prompt = torch.tensor([tokenizer.encode("明月几时有")])
    monkeypatch.setattr(torch, "multinomial", lambda probs, num_samples: probs.argmin(dim=-1, keepdim=True))
    out = model.generate(prompt, max_new_tokens=1, top_k=5)
    with torch.no_grad():
        likeliest = torch.topk(model(prompt)[0][0, -1], 5).indices
    assert out[0, -1].item() in likeliest.tolist()


def test_one_batch_overfits(script, small_text):
    """Trained again and again on one batch, a model memorises it: the loss falls far below its start."""
    torch.manual_seed(0)
    tokenizer = script.Tokenizer(small_text)
    data = torch.tensor(tokenizer.encode(small_text))
    x, y = script.get_batch(data, batch_size=4, block_size=8)
    model = script.BabyGPT(script.Config(block_size=8, n_embd=32), tokenizer.vocab_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    first = None
    for _ in range(200):
        _, loss = model(x, y)
        first = first or loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 4


def test_same_seed_same_history_and_samples(script, tmp_path):
    runs = []
    for name in ("a", "b"):
        config = tiny_config(script, tmp_path / name)
        model, tokenizer, history = script.train(config)
        losses = [(h["step"], h["train_loss"], h["val_loss"]) for h in history]
        runs.append((losses, script.write_samples(model, tokenizer, config)))
    assert runs[0] == runs[1]
    assert [step for step, _, _ in runs[0][0]] == [0, 10, 20]


def test_v2_attention_collapses_onto_the_diagonal_at_init(small_text):
    """x_i . x_i usually beats x_i . x_j: parameter-free attention looks at the character itself."""
    v2 = load_script("babygpt_v2_selfattention")
    torch.manual_seed(0)
    tokenizer = v2.Tokenizer(small_text)
    model = v2.BabyGPT(v2.Config(), tokenizer.vocab_size)  # the default sizes: C = 64, T = 32
    data = torch.tensor(tokenizer.encode(small_text))
    xb, _ = v2.get_batch(data, batch_size=64, block_size=32)
    x = model.token_embedding(xb) + model.position_embedding(torch.arange(32))  # (B, T, C)
    # The numbers in v2's comment: after 1/sqrt(C), the diagonal averages about 2 * sqrt(C) = 16
    # (token plus position embedding: variance 2 per channel), the other scores about 0 +- 2.
    scores = x @ x.transpose(-2, -1) * 64 ** -0.5  # (B, T, T)
    diagonal = torch.eye(32, dtype=torch.bool)
    assert abs(scores[:, diagonal].mean().item() - 16) < 1
    assert abs(scores[:, ~diagonal].mean().item()) < 0.2 and abs(scores[:, ~diagonal].std().item() - 2) < 0.2
    wei = scores.masked_fill(torch.ones(32, 32).tril() == 0, float("-inf")).softmax(-1)  # (B, T, T)
    assert torch.allclose(model.attention(x), wei @ x, atol=1e-5)  # the weights the model uses
    assert wei.diagonal(dim1=-2, dim2=-1)[:, 1:].mean() > 0.99  # row 0 can only look at itself
