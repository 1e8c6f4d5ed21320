"""Keep the lesson block that every script shares in step: v1's text, copied into the others.

From the line that starts with LESSON_START to the end of the file, every script holds the
same text: the tokenizer, the batches, the evaluation, train(), write_samples() and the main guard.
A learner reads it in each script, as the lecture copies its loop from bigram.py into gpt.py, and
`diff` of two neighbouring scripts shows only the concept between them. Edit it in v1, then:

    python -m tools.sync_lesson           # write v1's lesson block into v2, v3, ...
    python -m tools.sync_lesson --check   # write nothing; list the scripts that differ (exit 1)

Everything above that line (the docstring, the settings and the model) is each version's own and
is left as it is. A version whose concept is in the training itself (v9: data parallelism) also
writes some of the block's functions for itself (OWN_FUNCTIONS); the rest of its block is v1's.
The tests run the check.
"""

import argparse
import ast
import sys

import plumbing

SCRIPT_FILES = [plumbing.HERE / f"{name}.py" for name in plumbing.SCRIPTS.values()]
LESSON_START = "# ---- Training and generation"
# The lesson block's functions that a version writes for itself, by script.
OWN_FUNCTIONS = {"babygpt_v9_ddp": ("estimate_loss", "train")}


def split(path):
    """(the version's own text, the lesson block) of one script."""
    text = path.read_text(encoding="utf-8")
    plumbing.require(text.count(LESSON_START) == 1,
                     f"{path.name} must hold the line {LESSON_START!r} exactly once")
    start = text.index(LESSON_START)
    return text[:start], text[start:]


def lesson_for(path, lesson):
    """The lesson block that path should hold: v1's, with path's own OWN_FUNCTIONS kept."""
    own_names = OWN_FUNCTIONS.get(path.stem, ())
    if not own_names:
        return lesson
    _, block = split(path)
    for name in own_names:
        lesson = replace_function(lesson, name, function_source(block, name))
    return lesson


def function_source(block, name):
    """The text of block's top-level function `name`, from its first decorator to its end."""
    tree = ast.parse(block)
    lines = block.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            first = (node.decorator_list[0] if node.decorator_list else node).lineno - 1
            return "".join(lines[first:node.end_lineno])
    raise plumbing.BabyGPTError(f"the lesson block has no function {name}()")


def replace_function(block, name, source):
    """block with its function `name` replaced by source."""
    old = function_source(block, name)
    return block.replace(old, source, 1)


def out_of_sync(files=SCRIPT_FILES):
    """The scripts (v2 on) whose lesson block is not v1's (but for their OWN_FUNCTIONS)."""
    _, lesson = split(files[0])
    return [path for path in files[1:] if split(path)[1] != lesson_for(path, lesson)]


def sync(files=SCRIPT_FILES):
    """Write v1's lesson block into every script that differs; returns those scripts."""
    _, lesson = split(files[0])
    written = out_of_sync(files)
    for path in written:
        own, _ = split(path)
        plumbing.write_text(path, own + lesson_for(path, lesson))  # never left half-written
    return written


def main(argv=None):
    parser = plumbing.OneLineErrorParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any differ")
    args = parser.parse_args(argv)
    first = SCRIPT_FILES[0].name
    try:
        if args.check:
            differ = out_of_sync()
            for path in differ:
                print(f"{path.name}: its lesson block differs from {first}'s; run "
                      "python -m tools.sync_lesson")
            return 1 if differ else 0
        written = sync()
    except plumbing.BabyGPTError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    print(f"wrote the lesson block of {first} into {', '.join(p.name for p in written)}"
          if written else f"all {len(SCRIPT_FILES)} scripts already share v1's lesson block")
    return 0


if __name__ == "__main__":
    sys.exit(main())
