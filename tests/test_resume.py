"""--resume: a run carried on from its ckpt.pt ends exactly as if it had never stopped, and what
cannot be carried on is refused in one line. Also --preset, the other new way to set the flags.

The lesson block (train()) is one text in every script (tools/sync_lesson.py), so exactness is
shown once, through v8: its dropout draws from the same random state as the batches. A real
Ctrl-C, then --resume, is in test_nothing_lost.py (test_ctrl_c_or_sigterm_...).
"""

import dataclasses

import pytest
import torch

import plumbing
from conftest import load_script, tiny_config
from test_bad_input import BASE, assert_one_line

V8 = load_script("babygpt_v8_dropout")


class StopAfter:
    """Stands in for plumbing.stop_requested: "set" from its n-th question on, as if Ctrl-C came
    during step n - 1. clear() is main()'s; train() never calls it."""

    def __init__(self, n):
        self.n, self.asked = n, 0

    def is_set(self):
        self.asked += 1
        return self.asked >= self.n

    def clear(self):
        pass


def losses(history):
    """What must match exactly: each evaluation's step and losses (not its wall time)."""
    return [(h["step"], h["train_loss"], h["val_loss"]) for h in history]


def test_an_interrupted_run_resumed_ends_exactly_as_one_that_never_stopped(tmp_path, capsys, monkeypatch):
    whole_model, _, whole = V8.train(tiny_config(V8, tmp_path / "whole", max_iters=20, eval_interval=5))

    config = tiny_config(V8, tmp_path / "parts", max_iters=20, eval_interval=5)
    monkeypatch.setattr(plumbing, "stop_requested", StopAfter(10))  # stops after 10 updates
    _, _, first = V8.train(config)
    assert [h["step"] for h in first] == [0, 5, 10]
    monkeypatch.undo()
    model, _, resumed = V8.train(dataclasses.replace(config, resume=True))
    assert "resuming from step 10 of 20" in capsys.readouterr().out
    assert losses(resumed) == losses(whole)  # bit for bit: the same batches, dropout and updates
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), whole_model.parameters()))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A v8 run of BASE's 20 steps, finished: its --out-dir."""
    out_dir = tmp_path_factory.mktemp("resume") / "run"
    assert plumbing.main(V8, [*BASE, "--out-dir", str(out_dir)]) == 0
    return out_dir


def test_resume_with_other_settings_is_refused_in_one_line_naming_them(finished_run, capsys):
    before = (finished_run / "ckpt.pt").read_bytes()
    argv = [*BASE, "--out-dir", str(finished_run), "--resume", "--n-embd", "32", "--max-iters", "40"]
    assert plumbing.main(V8, argv) == 2
    assert_one_line(capsys.readouterr().err, f"--resume: {finished_run / 'ckpt.pt'} was trained with",
                    "--n-embd 16, not 32", "give the same settings")
    assert (finished_run / "ckpt.pt").read_bytes() == before  # untouched


def test_resume_of_a_finished_run_has_nothing_to_do(finished_run, capsys):
    assert plumbing.main(V8, [*BASE, "--out-dir", str(finished_run), "--resume"]) == 0
    output = capsys.readouterr()
    assert f"--resume: the run in {finished_run} has already finished all 20 steps; nothing to do" in output.out
    assert output.err == ""


def test_resume_without_a_checkpoint_or_with_sample_only_is_one_line(tmp_path, capsys):
    assert plumbing.main(V8, [*BASE, "--out-dir", str(tmp_path / "empty"), "--resume"]) == 2
    assert_one_line(capsys.readouterr().err, f"--resume: no checkpoint at {tmp_path / 'empty' / 'ckpt.pt'}")
    assert plumbing.main(V8, [*BASE, "--out-dir", str(tmp_path / "empty"), "--resume", "--sample-only"]) == 2
    assert_one_line(capsys.readouterr().err, "--resume trains and --sample-only does not")


def test_a_preset_sets_the_defaults_and_a_flag_given_still_wins():
    laptop = plumbing.parse_config(V8, ["--preset", "laptop"])
    assert {name: getattr(laptop, name) for name in V8.PRESETS["laptop"]} == V8.PRESETS["laptop"]
    assert laptop.preset == "laptop" and laptop.seed == V8.Config.seed  # the rest: the defaults
    assert plumbing.parse_config(V8, ["--preset", "laptop", "--max-iters", "7"]).max_iters == 7
    assert plumbing.parse_config(V8, []).max_iters == V8.Config.max_iters  # no preset, no change
    for name in V8.PRESETS:  # every preset names real flags, at sizes the model can be built with
        plumbing.check_hyperparameters(V8, plumbing.parse_config(V8, ["--preset", name]))
