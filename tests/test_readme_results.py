"""tools/readme_results.py --add: a later comparison of some versions joins the results file only
when it proves it measured alike (small made-up results; nothing trained). The READMEs' tables
against docs/results.json are tests/test_claims.py's."""

import json

import pytest

import plumbing
from tools import readme_results

FLOORS = {"clause_distance": 0.04, "clause_distance_90": [0.02, 0.07], "form_score": 0.96, "ci": 9}
SETTINGS = {"data": "data/songci.txt", "max_iters": 5000, "batch_size": 16, "block_size": 32,
            "learning_rate": 0.005, "n_embd": 64, "seed": 1337, "device": "auto", "n_layer": 4}
MACHINE = {"cpu": "a CPU", "cores": 2, "torch": "2.13.0+cpu", "threads": 1, "cuda": None,
           "date": "2026-12-03"}


def seeds(*val_losses):
    return [{"seed": 1337 + k, "val_loss": loss, "clause_distance": 0.1, "form_score": 0.2}
            for k, loss in enumerate(val_losses)]


def committed():
    """The results file: v1 and v7 of one run (two versions are enough here)."""
    return {"settings": SETTINGS, "machine": MACHINE, "floors": FLOORS,
            "parameters": {"v1": 100, "v7": 700},
            "versions": {"v1": seeds(5.0, 5.1), "v7": seeds(4.5, 4.6)}}


def later():
    """`--versions v7 v8` on another day and device name: v7 gives the committed numbers."""
    return {"settings": {**SETTINGS, "device": "cpu", "dropout": 0.1},
            "machine": {**MACHINE, "date": "2026-12-04"}, "floors": FLOORS,
            "parameters": {"v7": 700, "v8": 800},
            "versions": {"v8": seeds(4.4, 4.45), "v7": seeds(4.5, 4.6)}}


def test_add_takes_the_new_versions_in_the_course_order_and_says_where_they_came_from():
    results = committed()
    merged = readme_results.add(results, later())
    assert results == committed()  # unchanged
    assert list(merged["versions"]) == list(merged["parameters"]) == ["v1", "v7", "v8"]
    assert merged["versions"]["v8"] == seeds(4.4, 4.45) and merged["parameters"]["v8"] == 800
    assert merged["versions"]["v7"] is results["versions"]["v7"]  # the committed numbers stay
    assert merged["added"] == [{"versions": ["v8"], "run": ["v8", "v7"], "shared": ["v7"],
                                "machine": later()["machine"], "settings": {"dropout": 0.1}}]
    english, chinese = (readme_results.render(merged, language) for language in ("en", "zh"))
    assert english.splitlines()[-1] == (
        "v8: added from a later comparison of v8, v7, which gave the same val loss at every seed "
        "for v7 as the run above, on a CPU (2 cores; torch 2.13.0+cpu, torch threads: 1), "
        "2026-12-04.")
    assert "| `babygpt_v8_dropout.py` | 800 |" in english and "v8：来自之后" in chinese
    assert "2026-12-04" not in readme_results.render(results, "en")  # no line without --add


@pytest.mark.parametrize("change, message", [
    (lambda r: r["settings"].update(max_iters=500), "settings differ from the results file's: "
                                                    "max_iters 500, not 5000"),
    (lambda r: r["versions"].update(v7=seeds(4.5, 4.6, 4.7), v8=seeds(4.4, 4.45, 4.5)),
     "seeds [(1337, 1338, 1339)] are not the results file's [(1337, 1338)]"),
    (lambda r: r["versions"]["v7"][1].update(val_loss=4.6001), "v7's val losses differ"),
    (lambda r: r["versions"].pop("v7"), "shares no version with the results file"),
    (lambda r: r["versions"].pop("v8"), "nothing to add"),
])
def test_add_refuses_a_comparison_that_did_not_measure_alike(change, message):
    comparison = later()
    change(comparison)
    with pytest.raises(plumbing.BabyGPTError, match="^--add: ") as refused:
        readme_results.add(committed(), comparison)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_add_writes_the_results_file_and_both_tables(tmp_path, monkeypatch, capsys):
    results_file = tmp_path / "results.json"
    results_file.write_text(json.dumps(committed()), encoding="utf-8")
    comparison = tmp_path / "compare.json"
    comparison.write_text(json.dumps(later()), encoding="utf-8")
    readmes = {language: tmp_path / f"README.{language}.md" for language in ("en", "zh")}
    for path in readmes.values():
        path.write_text(f"intro\n{readme_results.RESULTS_BEGIN}\nold\n{readme_results.RESULTS_END}\n",
                        encoding="utf-8")
    monkeypatch.setattr(readme_results, "RESULTS", results_file)
    monkeypatch.setattr(readme_results, "READMES", readmes)
    assert readme_results.main(["--add", str(comparison)]) == 0
    assert f"added v8 from {comparison}" in capsys.readouterr().out
    written = readme_results.read_results(results_file)
    assert written == readme_results.add(committed(), later())
    assert readme_results.stale_readmes(written, readmes) == []
    assert readme_results.main(["--add", str(comparison)]) == 2  # a second time: nothing to add
    assert "nothing to add" in capsys.readouterr().err
    assert readme_results.read_results(results_file) == written  # unchanged


def test_a_results_file_with_rhyme_and_tone_scores_gets_their_columns_and_ceilings():
    """A comparison since tools/prosody.py scores rhyme and tones; an older one has no columns
    for them (the committed table stays as it is)."""
    results = committed()
    assert "rhyme score" not in readme_results.render(results, "en")
    for version in results["versions"].values():
        for seed in version:
            seed.update(rhyme_score=0.4, tone_score=0.5)
    results["floors"] = {**FLOORS, "rhyme_score": 0.854, "tone_score": 0.858}
    table = readme_results.render(results, "en").splitlines()
    assert table[0].endswith("| form score | rhyme score | tone score |")
    assert table[2].endswith("| 0.20 ± 0.00 | 0.40 ± 0.00 | 0.50 ± 0.00 |")
    assert table[4].endswith("| 0.85 | 0.86 |")  # the real ci's: the ceilings
    assert "押韵分 | 平仄分 |" in readme_results.render(results, "zh")
