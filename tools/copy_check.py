"""Is a model writing, or copying? How much of a text the training text already holds.

    check = CopyCheck(corpus.training_text(text))   # the index, built once (a few seconds)
    check.check(lines)      # {"4-gram": share found, "8-gram": share found, "longest": run}
    mean_check([check.check(ci.lines) for ci in cis])

Used by the comparison's measures (tools/measures.py), tools/poetry_form.py --baseline,
tools/write_poem.py, notebook 09 and the explorer. The standard library only.
"""

import math


class CopyCheck:
    """How much of a text the training text already holds: the share of the text's 4-grams and
    8-grams (runs of 4 and 8 characters, punctuation included, within a line) found in it, and
    the longest run of the text found in it."""

    def __init__(self, training):
        self.training = training
        lines = training.split("\n")
        self.grams = {n: {line[i:i + n] for line in lines for i in range(len(line) - n + 1)}
                      for n in (4, 8)}  # about 1 million 4-grams and 0.5 million 8-grams

    def occurs(self, run):
        """Whether the training text holds run (a string without line breaks). A run shorter than
        4 counts as held: any text shares nearly all its pairs and triples with the corpus."""
        for n in (4, 8):  # the sets answer most runs without searching the whole text
            grams = (run[i:i + n] for i in range(len(run) - n + 1))
            if len(run) >= n and any(gram not in self.grams[n] for gram in grams):
                return False
        return len(run) <= 4 or run in self.training

    def longest_run(self, lines):
        """The longest stretch of any line that the training text holds (3 characters or fewer
        when it holds no 4-gram of the lines)."""
        best = ""
        for line in lines:
            start = 0
            # The longest held run that ends at end starts at start.
            for end in range(1, len(line) + 1):
                while start < end and not self.occurs(line[start:end]):
                    start += 1
                if end - start > len(best):
                    best = line[start:end]
        return best

    def check(self, lines):
        """{"4-gram": share found, "8-gram": share found, "longest": the longest copied run}
        for a ci's lines (or any lines); a share is NaN when the lines have no n-gram of that
        size."""
        result = {}
        for n in (4, 8):
            grams = [line[i:i + n] for line in lines for i in range(len(line) - n + 1)]
            found = sum(gram in self.grams[n] for gram in grams)
            result[f"{n}-gram"] = found / len(grams) if grams else math.nan
        result["longest"] = self.longest_run(lines)
        return result


def mean_check(checks):
    """The mean shares and mean longest-run length of several copy checks."""
    means = {}
    for key in ("4-gram", "8-gram"):
        values = [c[key] for c in checks if not math.isnan(c[key])]
        means[key] = sum(values) / len(values) if values else math.nan
    means["longest"] = sum(len(c["longest"]) for c in checks) / len(checks) if checks else math.nan
    return means
