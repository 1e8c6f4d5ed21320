"""python -m benchmarks.bench_train --quick runs end to end and prints its table and the speedup line."""

import math
import os
import re
import subprocess
import sys
import time

from benchmarks import bench_train
from conftest import ROOT


def test_quick_benchmark_prints_table_and_speedup():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_train", "--quick", "--device", "cpu"],
        capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0].startswith("| setting | version | loop | ms/step")
    assert [row.split("|")[3].strip() for row in table[2:]] == ["harness", "textbook"]
    assert all(math.isfinite(float(row.split("|")[4])) for row in table[2:])  # each loop's ms/step
    assert re.fullmatch(r"v4 textbook-setting speedup: \d+\.\d\d×", lines[-1])


def test_bad_setting_is_one_line_error():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_train", "--settings", "nope"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) <= 2 and "Traceback" not in done.stderr


def test_speedup_is_the_median_of_paired_ratios():
    # Repeat 2 ran on a machine twice as slow and still says 1.5; the median of 1.5, 1.5, 1.05 is 1.5.
    # The ratio of the medians, 21 / 20, would set a slow run of one loop against a fast run of the other.
    results = {"harness": [{"wall": 10.0}, {"wall": 20.0}, {"wall": 20.0}],
               "textbook": [{"wall": 15.0}, {"wall": 30.0}, {"wall": 21.0}]}
    assert bench_train.paired_ratio(results, "wall") == 1.5


def test_step_time_is_the_median_of_the_stretches_after_the_first():
    # (steps, seconds): the first stretch warms up; the last, one step long, is one of three.
    stretches = [(50, 5.0), (50, 0.5), (50, 0.6), (1, 0.5)]
    assert bench_train.ms_per_step(stretches) == 12.0  # the median of 10, 12 and 500 ms per step
    assert math.isnan(bench_train.ms_per_step(stretches[:1]))


def test_timed_ms_is_the_median_time_of_a_call():
    # A sleep of 10 ms takes at least 10 ms; how much longer depends on the machine's load.
    assert 9.9 < bench_train.timed_ms(lambda: time.sleep(0.01), seconds=0.2) < 1000  # ms, not s


def test_a_missing_corpus_is_one_line_before_anything_is_measured(monkeypatch, capsys):
    monkeypatch.setitem(bench_train.QUICK, "data", "data/no_such_corpus.txt")
    assert bench_train.main(["--quick", "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "cannot read the corpus" in captured.err and "no_such_corpus" in captured.err
    assert "ms/step" not in captured.out  # nothing was measured


def test_peak_memory_where_there_is_no_proc(monkeypatch):
    """Linux reads the RSS from /proc; macOS (no /proc) falls back to getrusage's peak so far."""
    rss = bench_train.rss_now()
    assert bench_train.memory_reader("cpu")[1] == "RSS" and rss > 10
    monkeypatch.setattr(bench_train, "PROC_STATM", ROOT / "no" / "statm")
    read, measures = bench_train.memory_reader("cpu")
    assert measures == "max RSS so far" and read() >= rss - 1  # the peak so far, at least now's
    with bench_train.PeakMemory("cpu") as memory:
        pass
    assert memory.peak > 10
