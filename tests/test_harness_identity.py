"""Each script reads as one lesson, and its harness is the same text in every version.

The layout: docstring, hyperparameters, the model, then the shared text: training and generation
(the lesson), and below a banner the plumbing a learner may skip. A diff of two neighbours shows
only their concept.
"""

import ast
import sys

from conftest import ROOT, SCRIPTS

CONCEPT_NAMES = {"Hyperparameters", "BabyGPT"}  # per-version by design; everything else shared must match
# A class that a version's own concept changes: v5 projects attention back into the residual
# stream (W_O), v7 puts LayerNorms into the Block.
CHANGED_BY = {"babygpt_v5_residual": {"MultiHeadAttention"}, "babygpt_v7_transformer": {"Block"}}
MARKER = "# ---- Training and generation"  # where the shared text starts
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


def test_harness_text_is_identical():
    harnesses = [source(name)[source(name).index(MARKER):] for name in SCRIPTS]
    assert all(h == harnesses[0] for h in harnesses)
    assert {"Tokenizer", "get_batch", "estimate_loss", "train", "write_samples", "main"} <= {
        node.name for node in ast.parse(harnesses[0]).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def test_sizes_and_line_lengths():
    for name in SCRIPTS:
        lines = source(name).splitlines()
        assert max(len(line) for line in lines) <= 100, name
        assert len(source(name)[source(name).index(MARKER):].splitlines()) <= 325, f"{name}: harness"
    assert len(source("babygpt_v4_multihead_attention").splitlines()) <= 475


def test_hyperparameters_come_first_and_apart_from_run_options():
    for name in SCRIPTS:
        tree = ast.parse(source(name))
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assert [c.name for c in classes[:2]] == ["Hyperparameters", "Config"]
        assert [base.id for base in classes[1].bases] == ["Hyperparameters"]
        numbers = {stmt.target.id for stmt in classes[0].body if isinstance(stmt, ast.AnnAssign)}
        assert numbers <= {"batch_size", "block_size", "n_embd", "n_head", "n_layer", "learning_rate",
                           "max_iters", "eval_interval", "eval_iters"}


def test_the_five_steps_of_training_sit_in_one_loop_body_before_any_plumbing():
    for name in SCRIPTS:
        text = source(name)
        assert text.count("loss.backward()") == 1
        train = next(node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef) and node.name == "train")
        loops = [node for node in ast.walk(train) if isinstance(node, ast.For)]
        body = "\n".join(ast.get_source_segment(text, stmt) for stmt in loops[0].body)
        order = [body.index(step) for step in
                 ("get_batch(", "model(xb, yb)", "optimizer.zero_grad(", "loss.backward()", "optimizer.step()")]
        assert order == sorted(order), name
        assert text.index("loss.backward()") < text.index(PLUMBING)
        for lesson in ("class Tokenizer", "def get_batch", "def estimate_loss", "def train", "def write_samples"):
            assert text.index(lesson) < text.index(PLUMBING), f"{name}: {lesson} after the plumbing banner"


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
