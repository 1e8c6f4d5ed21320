"""tools/compare_versions.py: the seven versions, one budget, one report (tiny budget)."""

import pytest
import torch

from conftest import SMALL_CORPUS
from tools import compare_versions

TINY = [
    "--data", str(SMALL_CORPUS), "--batch-size", "4", "--block-size", "8", "--max-iters", "20",
    "--eval-interval", "10", "--eval-iters", "2", "--n-embd", "16", "--device", "cpu", "--max-new-tokens", "10",
]


@pytest.mark.slow
def test_compare_writes_figure_table_and_samples(tmp_path, capsys):
    copy = tmp_path / "docs" / "compare.png"
    code = compare_versions.main(TINY + ["--out-dir", str(tmp_path / "cmp"), "--png-copy", str(copy)])
    assert code == 0
    out = capsys.readouterr().out
    assert "| version | concept | parameters |" in out and "| v7 | transformer |" in out
    assert "clause-length distance |" in out
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG" and copy.is_file()
    report = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert "![validation loss](compare.png)" in report
    for version in ("v1", "v2", "v3", "v4", "v5", "v6", "v7"):
        assert f"| {version} |" in report
        assert (tmp_path / "cmp" / version / "metrics.json").is_file()
        assert (tmp_path / "cmp" / version / "samples.txt").read_text(encoding="utf-8").startswith("春江")
    for prompt in ("春江", "明月", "往事"):
        assert f"**{prompt}**" in report


@pytest.mark.parametrize("bad, message", [
    (["--n-embd", "30"], "divisible by n_head"),  # v4 on: refused before v1 trains
    (["--max-iters", "0"], "--max-iters must be"),
    (["--data", "no/such/corpus.txt"], "cannot read the corpus"),
    (["--data", "{tmp}/one_line.txt"], "has no line breaks"),  # issue 19: the measure needs both
    (["--data", "{tmp}/no_clauses.txt"], "has no clause marks"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, bad, message):
    (tmp_path / "one_line.txt").write_text("春江花月夜，明月何时照我还。往事知多少。" * 50, encoding="utf-8")
    (tmp_path / "no_clauses.txt").write_text("春江花月夜 明月何时照我还\n往事知多少\n" * 50, encoding="utf-8")
    bad = [arg.format(tmp=tmp_path) for arg in bad]
    assert compare_versions.main(TINY + bad + ["--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "v1" / "metrics.json").exists()


def test_sample_only_does_not_apply(tmp_path, capsys):
    assert compare_versions.main(TINY + ["--sample-only", "--out-dir", str(tmp_path)]) == 2
    assert "--sample-only does not apply" in capsys.readouterr().err


def test_clause_lengths_and_their_distance_on_a_known_text():
    text = "沁园春\n明月几时有，把酒问青天。\n春江、花月夜？\n"  # the title ends at a line break: no clause
    assert compare_versions.clause_lengths(text) == [5, 5, 2, 3]
    assert compare_versions.length_distance([5, 5, 2, 3], [5, 5, 2, 3]) == 0
    assert compare_versions.length_distance([4, 4], [7]) == 1  # no length in common
    # {5: 1/2, 7: 1/2} against {5: 1}: half of (1/2 + 1/2)
    assert compare_versions.length_distance([5, 7], [5, 5]) == 0.5


def test_the_measure_reads_the_generated_text_it_promises(small_text):
    """GENERATED_CHARACTERS characters in STREAMS lines, each written after a line break."""
    v1 = compare_versions.VERSIONS[0]
    tokenizer = v1.Tokenizer(small_text)
    torch.manual_seed(0)
    model = v1.BabyGPT(v1.Config(n_embd=8), tokenizer.vocab_size)
    text = compare_versions.generated_text(model, tokenizer, v1.Config())
    streams = text.split("\n")  # the streams, joined by a line break; each may hold line breaks of its own
    assert len(text) == compare_versions.GENERATED_CHARACTERS + compare_versions.STREAMS - 1
    assert len(streams) >= compare_versions.STREAMS


@pytest.mark.parametrize("error, status, message", [
    (KeyboardInterrupt(), 130, "interrupted: the versions trained so far keep their files"),
    (MemoryError(), 1, "error: out of memory"),
], ids=["ctrl-c", "out-of-memory"])
def test_ctrl_c_and_out_of_memory_while_training_are_one_line(tmp_path, capsys, monkeypatch, error, status, message):
    def fails(config):
        raise error

    monkeypatch.setattr(compare_versions.VERSIONS[0], "train", fails)
    assert compare_versions.main(TINY + ["--out-dir", str(tmp_path)]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_rerun_keeps_the_earlier_report(tmp_path, capsys):
    """compare.md and compare.png of an earlier comparison move to earlier/, like each version's run."""
    (tmp_path / "compare.md").write_text("the earlier report\n", encoding="utf-8")
    (tmp_path / "compare.png").write_bytes(b"the earlier figure")
    final = {"train_loss": 5.0, "val_loss": 5.1, "wall_seconds": 1.0, "tokens_per_second": 100.0}
    result = {"version": "v1", "concept": "bigram", "history": [{"step": 0, "val_loss": 8.7}, {"step": 10, "val_loss": 5.1}],
              "final": final, "parameters": 10, "prompts": ["春江"], "samples": ["春江水"], "clause_distance": 0.5}
    settings = {**compare_versions.default_settings(), "prompt": ("春江",)}
    compare_versions.write_report([result], settings, tmp_path)
    [aside] = (tmp_path / "earlier").iterdir()
    assert (aside / "compare.md").read_text(encoding="utf-8") == "the earlier report\n"
    assert (aside / "compare.png").read_bytes() == b"the earlier figure"
    assert "![validation loss](compare.png)" in (tmp_path / "compare.md").read_text(encoding="utf-8")
    assert f"compare.png, compare.md moved to {aside}" in capsys.readouterr().out
