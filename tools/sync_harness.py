"""Copy the shared harness of babygpt_v1_bigram.py into the six other scripts.

From the line that starts with HARNESS_START to the end of the file, the seven scripts hold the
same text: training, generation and the plumbing. Edit it in v1 only, then:

    python tools/sync_harness.py           # write v1's harness into v2 ... v7
    python tools/sync_harness.py --check   # only list the scripts whose harness differs (exit 1)

Everything above that line (the docstring, the hyperparameters and the model) is each version's
own and is left as it is. tests/test_harness_identity.py runs the check.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [
    "babygpt_v1_bigram.py",
    "babygpt_v2_selfattention.py",
    "babygpt_v3_head.py",
    "babygpt_v4_multihead_attention.py",
    "babygpt_v5_residual.py",
    "babygpt_v6_feedforward.py",
    "babygpt_v7_transformer.py",
]
HARNESS_START = "# ---- Training and generation"


def split(path):
    """(the version's own text, the harness) of one script."""
    text = path.read_text(encoding="utf-8")
    if text.count(HARNESS_START) != 1:
        sys.exit(f"error: {path.name} must hold the line {HARNESS_START!r} exactly once")
    start = text.index(HARNESS_START)
    return text[:start], text[start:]


def out_of_sync(root=ROOT):
    """The scripts (v2 ... v7) whose harness is not v1's, by file name."""
    _, harness = split(root / SCRIPTS[0])
    return [name for name in SCRIPTS[1:] if split(root / name)[1] != harness]


def sync(root=ROOT):
    """Write v1's harness into every script that differs; returns their names."""
    _, harness = split(root / SCRIPTS[0])
    written = out_of_sync(root)
    for name in written:
        own, _ = split(root / name)
        tmp = root / f".{name}.tmp"
        tmp.write_text(own + harness, encoding="utf-8")
        os.replace(tmp, root / name)  # a script is never left half-written
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any differ")
    args = parser.parse_args(argv)
    if args.check:
        differ = out_of_sync()
        for name in differ:
            print(f"{name}: its harness differs from {SCRIPTS[0]}'s; run tools/sync_harness.py")
        return 1 if differ else 0
    written = sync()
    print(f"wrote the harness of {SCRIPTS[0]} into {', '.join(written)}" if written
          else "all seven scripts already share v1's harness")
    return 0


if __name__ == "__main__":
    sys.exit(main())
