"""The scripts' CPU threads: timed on the run's own model, the user's choice respected, the
losses untouched by the timing (issue 38). Speed itself is measured in benchmarks/threads.py."""

import contextlib
import io

import pytest
import torch

import plumbing
from conftest import load_script, tiny_config


@pytest.fixture
def no_users_threads(monkeypatch):
    """As on a learner's machine: no OMP_NUM_THREADS, torch at its own count, nothing timed yet."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(plumbing, "timed_threads", {})
    before = torch.get_num_threads()
    torch.set_num_threads(plumbing.THREADS_AT_IMPORT)
    yield
    torch.set_num_threads(before)


def train_printing(module, config):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        _, _, history = module.train(config)
    return history, printed.getvalue()


def test_a_run_times_its_threads_and_trains_as_it_would_at_that_count(no_users_threads, tmp_path):
    v8 = load_script("babygpt_v8_dropout")  # dropout draws random numbers too
    timed, printed = train_printing(v8, tiny_config(v8, tmp_path / "timed", n_layer=2))
    header = next(line for line in printed.splitlines() if line.startswith("CPU threads: "))
    chosen = int(header.split()[2].rstrip(","))
    assert chosen in plumbing.candidate_threads() and "the fastest here" in header, header
    assert torch.get_num_threads() == chosen
    # The timing drew its random batches and dropout on a copy and a forked generator: the run
    # with the count given outright trains to the same losses, bit for bit.
    fixed, printed = train_printing(v8, tiny_config(v8, tmp_path / "fixed", n_layer=2,
                                                    threads=chosen))
    assert f"CPU threads: {chosen} (--threads)" in printed
    assert [(h["train_loss"], h["val_loss"]) for h in timed] == \
        [(h["train_loss"], h["val_loss"]) for h in fixed]


def test_the_users_count_is_kept_and_named(no_users_threads, monkeypatch):
    def never():
        raise AssertionError("timed although the user chose")

    assert plumbing.use_threads(1, "key", never) == "1 (--threads)"
    torch.set_num_threads(plumbing.THREADS_AT_IMPORT + 1)  # as a notebook's cell might
    assert plumbing.use_threads(0, "key", never) == \
        f"{plumbing.THREADS_AT_IMPORT + 1} (set by torch.set_num_threads)"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert plumbing.use_threads(0, "key", never).endswith("(OMP_NUM_THREADS=3)")


def test_the_fewest_threads_within_5_percent_of_the_fastest_win(monkeypatch):
    """With a clock that the work itself advances: 1 thread 10 ms, 2 threads 5 ms, 4 threads
    4.9 ms. Four threads are fastest, but two are within 5% and leave cores free."""
    clock = [0.0]
    cost = {1: 0.010, 2: 0.005, 4: 0.0049}
    monkeypatch.setattr(plumbing, "candidate_threads", lambda: [1, 2, 4])
    monkeypatch.setattr(plumbing.time, "perf_counter", lambda: clock[0])

    def work():
        clock[0] += cost[torch.get_num_threads()]

    before = torch.get_num_threads()
    try:
        threads, medians = plumbing.fastest_threads(work)
    finally:
        torch.set_num_threads(before)
    assert threads == 2
    assert medians == pytest.approx(cost)


def test_candidates_are_powers_of_two_and_the_cores(monkeypatch):
    monkeypatch.setattr(plumbing.os, "sched_getaffinity", lambda pid: set(range(12)),
                        raising=False)
    assert plumbing.candidate_threads() == [1, 2, 4, 8, 12]
