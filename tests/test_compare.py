"""tools/compare_versions.py: every version, one budget, one report (tiny budget); its
measures (tools/measures.py) and its report (tools/report.py)."""

import json

import pytest
import torch

from conftest import TINY_COMPARE as TINY
from tools import compare_versions, measures, report
from tools.versions import BY_VERSION

# One version's result, as train_all gives it: for the report's tests without training.
MEASURES = {"seed": 1337, "val_loss": 5.1, "train_loss": 5.0, "clause_distance": 0.5, "wall_seconds": 1.0,
            "tokens_per_second": 100.0,
            "form_score": 0.5, "rhyme_score": 0.6, "tone_score": 0.7, "4-gram": 0.1, "8-gram": 0.0, "longest": 4.0, "loss_by_kind": {"other": 5.0}}
FLOORS = {"clause_distance": 0.02, "clause_distance_90": (0.01, 0.03), "form_score": 0.8, "rhyme_score": 0.85,
          "tone_score": 0.86, "ci": 10,
          "4-gram": 0.1, "8-gram": 0.01, "longest": 5.0}
RESULT = {"version": "v1", "concept": "bigram", "history": [{"step": 0, "val_loss": 8.7}, {"step": 10, "val_loss": 5.1}],
          "final": {"train_loss": 5.0, "val_loss": 5.1, "wall_seconds": 1.0, "tokens_per_second": 100.0},
          "parameters": 10, "prompts": ["春江"], "samples": ["春江水"], "clause_distance": 0.5,
          "seeds": [MEASURES], "floors": FLOORS}


@pytest.mark.slow
def test_compare_writes_figure_table_samples_and_each_seed(tiny_comparison):
    status, out, folder = tiny_comparison
    assert status == 0
    assert "| version | concept | parameters |" in out and "| v7 | transformer |" in out
    assert "clause-length distance |" in out and "form score |" in out and " ± " in out
    assert "rhyme score |" in out and "tone score |" in out  # the 格律 (tools/prosody.py)
    assert "| v7 → v8 |" in out and "seeds pointing the other way" in out  # the paired steps
    assert (folder / "compare.png").read_bytes()[:4] == b"\x89PNG"
    report = (folder / "compare.md").read_text(encoding="utf-8")
    assert "![validation loss](compare.png)" in report and "seeds 1337, 1338" in report
    assert "## Noise floors" in report and "| v1 → v2 |" in report
    numbers = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    assert list(numbers["versions"]) == list(BY_VERSION)  # every version, in the course's order
    for version in BY_VERSION:
        assert f"| {version} |" in report
        assert [s["seed"] for s in numbers["versions"][version]] == [1337, 1338]
        for run in (folder / version, folder / "seeds" / "1338" / version):
            assert (run / "metrics.json").is_file() and (run / "ckpt.pt").is_file()
        assert (folder / version / "samples.txt").read_text(encoding="utf-8").startswith("春江")
    for prompt in ("春江", "明月", "往事"):
        assert f"**{prompt}**" in report


def test_steps_are_paired_by_seed():
    """Each step is the new version's val loss minus the old one's at the same seed."""
    def result(version, losses):
        return {"version": version, "seeds": [{"seed": seed, "val_loss": loss}
                                              for seed, loss in zip((1, 2, 3), losses)]}
    # The seeds differ by far more than the step: only a difference at the same seed sees it.
    old, new = result("v1", [5.0, 5.3, 5.6]), result("v2", [4.99, 5.28, 5.61])
    (step,) = report.paired_steps([old, new])
    assert step["step"] == "v1 → v2" and step["against"] == 1
    assert step["differences"] == pytest.approx([-0.01, -0.02, 0.01])
    assert step["mean"] == pytest.approx(-0.02 / 3)
    assert "| v1 → v2 | -0.0067 ± 0.0153 | 1 of 3 | -0.0100, -0.0200, +0.0100 |" in (
        report.steps_markdown([old, new]))


def test_png_copy(tmp_path, monkeypatch):
    """--png-copy: the figure also goes where the README shows it (training replaced by a stub)."""
    def trained(settings, out_root, seeds, versions, progress):
        (tmp_path / "cmp").mkdir()  # as training would
        return [RESULT]

    monkeypatch.setattr(compare_versions, "train_all", trained)
    copy = tmp_path / "docs" / "compare.png"
    assert compare_versions.main(TINY + ["--out-dir", str(tmp_path / "cmp"), "--png-copy", str(copy)]) == 0
    assert copy.read_bytes() == (tmp_path / "cmp" / "compare.png").read_bytes()


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


@pytest.mark.parametrize("flag", [["--sample-only"], ["--resume"], ["--preset", "laptop"]], ids=lambda f: f[0])
def test_sample_only_resume_and_preset_do_not_apply(tmp_path, capsys, flag):
    assert compare_versions.main(TINY + flag + ["--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} does not apply" in err and err.count("\n") == 1


def test_versions_picks_the_versions_to_train_in_the_course_order(tmp_path, monkeypatch):
    asked = []

    def trained(settings, out_root, seeds, versions, progress):
        asked.extend(module.VERSION for module in versions)
        return [{**RESULT, "version": version} for version in asked]

    monkeypatch.setattr(compare_versions, "train_all", trained)
    assert compare_versions.main(TINY + ["--versions", "v8", "v7", "--out-dir", str(tmp_path)]) == 0
    assert asked == ["v7", "v8"]


def test_clause_lengths_and_their_distance_on_a_known_text():
    text = "沁园春\n明月几时有，把酒问青天。\n春江、花月夜？\n"  # the title ends at a line break
    assert measures.clause_lengths(text) == [5, 5, 2, 3]
    assert measures.clause_lengths("春风，，秋月。") == [2, 2]  # the second mark ends no clause
    assert measures.length_distance([5, 5, 2, 3], [5, 5, 2, 3]) == 0
    assert measures.length_distance([4, 4], [7]) == 1  # no length in common
    # {5: 1/2, 7: 1/2} against {5: 1}: half of (1/2 + 1/2)
    assert measures.length_distance([5, 7], [5, 5]) == 0.5


def test_the_measure_reads_the_generated_text_it_promises(small_text):
    """GENERATED_CHARACTERS characters in STREAMS lines, each written after a line break."""
    v1 = BY_VERSION["v1"]
    tokenizer = v1.Tokenizer(small_text)
    torch.manual_seed(0)
    model = v1.BabyGPT(v1.Config(n_embd=8), tokenizer.vocab_size)
    text = measures.generated_text(model, tokenizer, v1.Config())
    streams = text.split("\n")  # the streams, joined by line breaks; each may hold its own
    assert len(text) == measures.GENERATED_CHARACTERS + measures.STREAMS - 1
    assert len(streams) >= measures.STREAMS


@pytest.mark.parametrize("error, status, message", [
    (KeyboardInterrupt(), 130, "interrupted: v1 (seed 1337, in "),
    (MemoryError(), 1, "error: out of memory"),
], ids=["ctrl-c", "out-of-memory"])
def test_ctrl_c_and_out_of_memory_while_training_are_one_line(tmp_path, capsys, monkeypatch, error, status, message):
    def fails(config):
        raise error

    monkeypatch.setattr(BY_VERSION["v1"], "train", fails)
    assert compare_versions.main(TINY + ["--out-dir", str(tmp_path)]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_rerun_keeps_the_earlier_report(tmp_path, capsys):
    """compare.md and compare.png of an earlier comparison move to earlier/, like each version's run."""
    (tmp_path / "compare.md").write_text("the earlier report\n", encoding="utf-8")
    (tmp_path / "compare.png").write_bytes(b"the earlier figure")
    settings = {**compare_versions.default_settings(), "prompt": ("春江",)}
    report.write_report([RESULT], settings, tmp_path)
    [aside] = (tmp_path / "earlier").iterdir()
    assert (aside / "compare.md").read_text(encoding="utf-8") == "the earlier report\n"
    assert (aside / "compare.png").read_bytes() == b"the earlier figure"
    assert "![validation loss](compare.png)" in (tmp_path / "compare.md").read_text(encoding="utf-8")
    assert f"compare.png, compare.md moved to {aside}" in capsys.readouterr().out
    assert not (aside / "compare.json").exists()  # there was none: nothing to move


@pytest.mark.slow
def test_an_interrupted_comparison_says_what_it_finished_and_leaves_no_report_beside_it(tmp_path, capsys, monkeypatch):
    """Ctrl-C in v3 (issue 36): the line names v3 and the versions finished; the earlier report
    went to earlier/ before anything trained, so no compare.md sits beside a mix of runs."""
    (tmp_path / "compare.md").write_text("the earlier report\n", encoding="utf-8")
    real = compare_versions.train_and_measure

    def ctrl_c_in_v3(module, config, poems):
        if module.VERSION == "v3":
            raise KeyboardInterrupt
        return real(module, config, poems)

    monkeypatch.setattr(compare_versions, "train_and_measure", ctrl_c_in_v3)
    assert compare_versions.main(TINY + ["--out-dir", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"interrupted: v3 (seed 1337, in {tmp_path / 'v3'}) was training" in err
    assert "finished: v1 (seed 1337), v2 (seed 1337)." in err and "run the comparison again" in err
    assert not (tmp_path / "compare.md").exists()
    [aside] = (tmp_path / "earlier").iterdir()
    assert (aside / "compare.md").read_text(encoding="utf-8") == "the earlier report\n"
