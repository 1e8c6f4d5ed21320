"""Each script reads as one lesson, and its harness is the same text in every version.

The layout: docstring, hyperparameters, the model, then the shared text: training and generation
(the lesson), and below a banner the plumbing a learner may skip. A diff of two neighbours shows
only their concept.
"""

import ast
import sys

from conftest import ROOT, SCRIPTS
from tools import sync_harness

CONCEPT_NAMES = {"Hyperparameters", "BabyGPT"}  # per-version by design; everything else shared must match
# A class that a version's own concept changes: v5 projects attention back into the residual
# stream (W_O), v7 puts LayerNorms into the Block (and its Config a switch to leave them out: the
# ablation that shows what they buy).
CHANGED_BY = {"babygpt_v5_residual": {"MultiHeadAttention"}, "babygpt_v7_transformer": {"Block", "Config"}}
MARKER = sync_harness.HARNESS_START  # where the shared text starts
PLUMBING = "# Plumbing: you may skip from here on"


def source(name):
    return (ROOT / f"{name}.py").read_text(encoding="utf-8")


def top_level_definitions(name):
    text = source(name)
    return {
        node.name: ast.get_source_segment(text, node)
        for node in ast.parse(text).body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def test_shared_functions_and_classes_are_identical():
    definitions = {name: top_level_definitions(name) for name in SCRIPTS}
    for a, b in zip(SCRIPTS, SCRIPTS[1:]):
        for shared in (definitions[a].keys() & definitions[b].keys()) - CONCEPT_NAMES - CHANGED_BY.get(b, set()):
            assert definitions[a][shared] == definitions[b][shared], f"{shared} differs between {a} and {b}"


def test_harness_text_is_identical_and_written_by_the_sync_tool():
    assert sync_harness.out_of_sync() == [], "edit the harness in v1, then run tools/sync_harness.py"
    harnesses = [source(name)[source(name).index(MARKER):] for name in SCRIPTS]
    assert all(h == harnesses[0] for h in harnesses)
    assert {"Tokenizer", "get_batch", "estimate_loss", "train", "write_samples", "main"} <= {
        node.name for node in ast.parse(harnesses[0]).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def test_the_sync_tool_writes_v1s_harness_and_keeps_each_versions_own_text(tmp_path):
    for name in sync_harness.SCRIPTS:
        (tmp_path / name).write_text(source(name[:-3]), encoding="utf-8")
    v3 = tmp_path / sync_harness.SCRIPTS[2]
    own = source(SCRIPTS[2])[: source(SCRIPTS[2]).index(MARKER)]
    v3.write_text(own + MARKER + " (an edit made in v3 by mistake)\n", encoding="utf-8")
    assert sync_harness.out_of_sync(tmp_path) == [v3.name]
    assert sync_harness.sync(tmp_path) == [v3.name]
    assert v3.read_text(encoding="utf-8") == source(SCRIPTS[2]) and sync_harness.out_of_sync(tmp_path) == []


def test_lines_fit_in_100_characters():
    for name in SCRIPTS:
        assert max(len(line) for line in source(name).splitlines()) <= 100, name


def test_no_clever_plumbing():
    """The harness is plain: no source scraping, no reflection on annotation types, no monkeypatching,
    no version difference hidden in a getattr default, no lambdas."""
    harness = source(SCRIPTS[0])[source(SCRIPTS[0]).index(MARKER):]
    for construct in ("inspect", "getsource", "re.findall", ".type", "getattr(config, \"", "parser.error =", "lambda"):
        assert construct not in harness, construct


def test_hyperparameters_come_first_and_apart_from_run_options():
    for name in SCRIPTS:
        tree = ast.parse(source(name))
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assert [c.name for c in classes[:2]] == ["Hyperparameters", "Config"]
        assert [base.id for base in classes[1].bases] == ["Hyperparameters"]
        numbers = {stmt.target.id for stmt in classes[0].body if isinstance(stmt, ast.AnnAssign)}
        assert numbers <= {"batch_size", "block_size", "n_embd", "n_head", "n_layer", "learning_rate",
                           "max_iters", "eval_interval", "eval_iters"}


def training_loop(text):
    train = next(node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef) and node.name == "train")
    return train, next(node for node in ast.walk(train) if isinstance(node, ast.For))  # inside `with TrainingLog`


def test_train_reads_like_the_lecture_five_steps_and_at_most_two_plumbing_calls_in_its_loop():
    lesson = {"get_batch", "model", "autocast", "optimizer.zero_grad", "loss.backward", "optimizer.step",
              "schedule.step", "estimate_loss"}
    for name in SCRIPTS:
        text = source(name)
        assert text.count("loss.backward()") == 1
        train, loop = training_loop(text)
        body = "\n".join(ast.get_source_segment(text, stmt) for stmt in loop.body)
        order = [body.index(step) for step in
                 ("get_batch(", "model(xb, yb)", "optimizer.zero_grad(", "loss.backward()", "optimizer.step()")]
        assert order == sorted(order), name
        # The learner sees the corpus read and the device chosen, before the loop.
        before_loop = ast.get_source_segment(text, train)[: ast.get_source_segment(text, train).index("for step")]
        assert "read_corpus(config)" in before_loop and "choose_device(config.device)" in before_loop
        calls = {ast.unparse(node.func) for stmt in loop.body for node in ast.walk(stmt) if isinstance(node, ast.Call)}
        calls |= {ast.unparse(item.context_expr) for stmt in loop.body for node in ast.walk(stmt)
                  if isinstance(node, ast.With) for item in node.items}
        assert len(calls - lesson) <= 2, f"{name}: plumbing in the loop: {calls - lesson}"
        assert "should_stop" not in text and "clock" not in ast.get_source_segment(text, train)
        assert text.index("loss.backward()") < text.index(PLUMBING)
        for part in ("class Tokenizer", "def get_batch", "def estimate_loss", "def train", "def write_samples"):
            assert text.index(part) < text.index(PLUMBING), f"{name}: {part} after the plumbing banner"


def test_estimate_loss_is_a_plain_loop_over_eval_iters_batches():
    text = source(SCRIPTS[0])
    function = next(node for node in ast.parse(text).body if getattr(node, "name", None) == "estimate_loss")
    code = ast.get_source_segment(text, function)
    assert "for k in range(config.eval_iters)" in code and "losses.mean()" in code
    assert "split(" not in code and "16384" not in code


def test_scripts_import_only_stdlib_torch_tqdm_matplotlib():
    allowed = set(sys.stdlib_module_names) | {"torch", "tqdm", "matplotlib"}
    for name in SCRIPTS:
        for node in ast.walk(ast.parse(source(name))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{name} imports {roots}"


def test_no_class_reads_a_module_global():
    """Sizes and names reach classes as arguments or through Config, never from module globals."""
    for name in SCRIPTS:
        tree = ast.parse(source(name))
        module_globals = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
            read = {n.id for n in ast.walk(cls) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            assert not (read & module_globals), f"{name}.{cls.name} reads {read & module_globals}"
