"""tools/copy_check.py: how much of a text the training text already holds."""

import math

from tools.copy_check import CopyCheck, mean_check


def test_the_copy_check_finds_a_copied_line_and_not_a_new_one():
    training = "浣溪沙\n一曲新词酒一杯。\n去年天气旧亭台。\n"
    check = CopyCheck(training)
    copied = check.check(["一曲新词酒一杯。"])
    assert copied == {"4-gram": 1.0, "8-gram": 1.0, "longest": "一曲新词酒一杯。"}
    mixed = check.check(["今夜新词酒一杯。"])  # the last 6 characters are copied
    assert mixed["longest"] == "新词酒一杯。" and mixed["4-gram"] == 3 / 5
    assert mixed["8-gram"] == 0.0
    fresh = check.check(["春江花月夜"])
    assert fresh["4-gram"] == 0.0 and math.isnan(fresh["8-gram"]) and len(fresh["longest"]) <= 3
    assert not check.occurs("酒一杯。\n去")  # never across a line break
    means = mean_check([copied, mixed, fresh])
    assert means["8-gram"] == 0.5  # NaN (no 8-gram) is left out of the mean
    assert means["longest"] == (8 + 6 + len(fresh["longest"])) / 3
