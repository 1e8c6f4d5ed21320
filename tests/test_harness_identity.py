"""The training harness is the same text in every version, so a diff shows only the concept."""

import ast

from conftest import ROOT, SCRIPTS

CONCEPT_NAMES = {"Config", "BabyGPT"}  # per-version by design; everything else shared must match
MARKER = "# Training harness"


def top_level_definitions(name):
    source = (ROOT / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    return {
        node.name: ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }


def test_shared_functions_and_classes_are_identical():
    definitions = {name: top_level_definitions(name) for name in SCRIPTS}
    for a, b in zip(SCRIPTS, SCRIPTS[1:]):
        for shared in (definitions[a].keys() & definitions[b].keys()) - CONCEPT_NAMES:
            assert definitions[a][shared] == definitions[b][shared], f"{shared} differs between {a} and {b}"


def test_every_version_has_the_whole_harness():
    harness_names = []
    for name in SCRIPTS:
        source = (ROOT / f"{name}.py").read_text(encoding="utf-8")
        harness = source[source.index(MARKER):]
        harness_names.append(sorted(top_level_definitions(name).keys() & {
            node.name for node in ast.parse(harness).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        }))
    assert all(names == harness_names[0] for names in harness_names)
    assert {"Tokenizer", "load_text", "get_batch", "estimate_loss", "train", "main"} <= set(harness_names[0])


def test_harness_text_is_identical():
    texts = [(ROOT / f"{name}.py").read_text(encoding="utf-8") for name in SCRIPTS]
    harnesses = [text[text.index(MARKER):] for text in texts]
    assert all(h == harnesses[0] for h in harnesses)


def test_scripts_import_only_stdlib_torch_tqdm_matplotlib():
    import sys

    allowed = set(sys.stdlib_module_names) | {"torch", "tqdm", "matplotlib"}
    for name in SCRIPTS:
        tree = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [node.module.split(".")[0]]
            else:
                continue
            assert set(roots) <= allowed, f"{name} imports {roots}"


def test_no_class_reads_a_module_global():
    """Sizes reach classes as arguments or through Config, never from module-level names."""
    for name in SCRIPTS:
        tree = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
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
