"""Each script reads as one lesson, the lesson block is the same text in every version, and the
plumbing is one module beside them that imports none of them."""

import ast
import sys

from conftest import ROOT, SCRIPTS
from tools import sync_lesson


def source(name):
    return (ROOT / f"{name}.py").read_text(encoding="utf-8")


def test_the_lesson_block_is_v1s_text_in_every_script():
    assert sync_lesson.out_of_sync() == [], "edit the lesson block in v1, then run python -m tools.sync_lesson"
    block = source(SCRIPTS[0])[source(SCRIPTS[0]).index(sync_lesson.LESSON_START):]
    defined = {node.name for node in ast.parse(block).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert defined == {"Tokenizer", "get_batch", "estimate_loss", "choose_device", "train", "write_samples"}


def test_the_sync_tool_writes_v1s_block_and_keeps_each_versions_own_text(tmp_path):
    files = [tmp_path / f"{name}.py" for name in SCRIPTS]
    for name, path in zip(SCRIPTS, files):
        path.write_text(source(name), encoding="utf-8")
    v3 = files[2]
    own = source(SCRIPTS[2])[: source(SCRIPTS[2]).index(sync_lesson.LESSON_START)]
    v3.write_text(own + sync_lesson.LESSON_START + " (an edit made in v3 by mistake)\n", encoding="utf-8")
    assert sync_lesson.out_of_sync(files) == [v3]
    assert sync_lesson.main(["--check"]) == 0  # the repository's own scripts are in step
    assert sync_lesson.sync(files) == [v3]
    assert v3.read_text(encoding="utf-8") == source(SCRIPTS[2]) and sync_lesson.out_of_sync(files) == []


def test_lines_fit_in_100_characters():
    for name in [*SCRIPTS, "plumbing"]:
        assert max(len(line) for line in source(name).splitlines()) <= 100, name


def test_settings_then_model_then_lesson_then_a_short_main_guard():
    for name in SCRIPTS:
        tree = ast.parse(source(name))
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assert [c.name for c in classes[:2]] == ["Hyperparameters", "Config"]
        assert [base.id for base in classes[1].bases] == ["Hyperparameters"]
        numbers = {stmt.target.id for stmt in classes[0].body if isinstance(stmt, ast.AnnAssign)}
        assert numbers <= {"batch_size", "block_size", "n_embd", "n_head", "n_layer", "learning_rate",
                           "max_iters", "eval_interval", "eval_iters"}
        guard = tree.body[-1]
        assert isinstance(guard, ast.If) and len(guard.body) == 1, f"{name}: the main guard is one statement"


def test_train_is_the_lecture_loop_with_only_the_log_and_the_stop_flag_around_it():
    for name in SCRIPTS:
        text = source(name)
        train = next(node for node in ast.parse(text).body if getattr(node, "name", None) == "train")
        loop = next(node for node in ast.walk(train) if isinstance(node, ast.For))
        body = "\n".join(ast.get_source_segment(text, stmt) for stmt in loop.body)
        order = [body.index(step) for step in
                 ("get_batch(", "model(xb, yb)", "optimizer.zero_grad(", "loss.backward()", "optimizer.step()")]
        assert order == sorted(order), name
        from_plumbing = {ast.unparse(node) for node in ast.walk(train)
                         if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "plumbing"}
        assert from_plumbing == {"plumbing.read_corpus", "plumbing.TrainingLog", "plumbing.stop_requested"}, name


def imported_roots(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module.split(".")[0]


def test_scripts_import_torch_tqdm_and_the_plumbing_and_the_plumbing_imports_no_script():
    allowed = set(sys.stdlib_module_names) | {"torch", "tqdm", "plumbing"}
    for name in SCRIPTS:
        assert set(imported_roots(ast.parse(source(name)))) <= allowed, name
    assert not set(imported_roots(ast.parse(source("plumbing")))) & set(SCRIPTS)


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
