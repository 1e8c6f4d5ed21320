"""tools/write_poem.py: a ci in a tune's form from each version's checkpoint; bad input is one
line."""

import pytest

import plumbing
from conftest import ROOT
from tools import checkpoints, corpus, poetry_form, write_poem
from tools.versions import BY_VERSION


@pytest.mark.slow
def test_each_version_writes_a_form_exact_acrostic_ci(tiny_comparison, capsys):
    *_, runs = tiny_comparison
    songci = (ROOT / "data" / "songci.txt").read_text(encoding="utf-8")
    template = poetry_form.templates(corpus.split_ci(songci))["浣溪沙"]
    for version in BY_VERSION:
        status = write_poem.main(["--version", version, "--tune", "浣溪沙", "--acrostic", "春江花月",
                                  "--top-p", "0.95", "--runs", str(runs)])
        out = capsys.readouterr().out
        assert status == 0, version
        ci = out.split("\n\n")[1].split("\n")
        assert ci[0] == "浣溪沙"
        assert poetry_form.form_score(ci[1:], template) == 1.0
        clauses = "".join(ci[1:]).replace("。", "，").split("，")
        assert "".join(clause[0] for clause in clauses[:4]) == "春江花月"
        assert "form score 1.00" in out and "copy check" in out and "mean log-probability" in out
    # The 格律 too: rhyme and tones imposed (tests/test_prosody.py checks them by hand).
    assert write_poem.main(["--version", "v7", "--rhyme", "--tones", "--runs", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "rhyme score 1.00; its" in out and "tone score 1.00; its" in out
    assert "rhyme: at its 4 places the rule kept" in out and "tone: at its 30 places" in out  # 浣溪沙


@pytest.mark.slow
@pytest.mark.parametrize("bad, message", [
    (["--tune", "无此调"], "no template for 无此调"),
    (["--acrostic", "春江花月夜好风"], "the acrostic has 7 characters and 浣溪沙 has 6 clauses"),
    (["--acrostic", "春，"], "Chinese characters only"),
    (["--acrostic", "龘"], "not in the model's vocabulary: '龘'"),
    (["--rhyme", "阳"], "阳 is not a rhyme group; the 13: 发花"),
    (["--version", "v99"], "invalid choice: 'v99'"),
    (["--top-p", "0"], "--top-p must be over 0"),
    (["--top-p", "1e-50"], "--top-p must be over 0 (in float32) and at most 1, not 1e-50"),  # issue 36
    (["--seed", str(2**64)], "--seed must be between 0 and 2**64 - 1"),
    (["--threads", "-1"], "--threads must be between 0 (timed) and 1024"),
    (["--temperature", "0"], "--temperature must be over 0.001"),
    (["--runs", "{tmp}/none", "--version", "v3"], "no v3 checkpoint"),
    (["--data", "{tmp}/none.txt"], "cannot read the corpus"),
])
def test_bad_input_is_one_line_and_exit_2(tiny_comparison, tmp_path, monkeypatch, capsys, bad,
                                          message):
    *_, runs = tiny_comparison
    # no fallback to the repository's own runs/
    monkeypatch.setattr(checkpoints, "SCRIPT_RUNS", tmp_path)
    args = ["--version", "v2", "--tune", "浣溪沙", "--runs", str(runs)]
    try:
        status = write_poem.main(args + [a.format(tmp=tmp_path) for a in bad])
    except SystemExit as exit:  # argparse's own refusals (here: an unknown --version)
        status = exit.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_it_reads_checkpoints_from_a_folder_it_cannot_write_to(tiny_comparison, monkeypatch, capsys):
    """write_poem writes nothing: on a read-only runs folder it said "cannot write to --out-dir", a
    flag it does not have (issue 36). As root every folder is writable, so the check is replaced."""
    def unwritable(out_dir):
        raise plumbing.BabyGPTError(f"cannot write to --out-dir {out_dir}")

    monkeypatch.setattr(plumbing, "check_out_dir", unwritable)
    *_, runs = tiny_comparison
    assert write_poem.main(["--version", "v2", "--tune", "浣溪沙", "--runs", str(runs)]) == 0
    assert "form score" in capsys.readouterr().out
