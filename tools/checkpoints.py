"""Where the tools find a version's trained model, and how they load it.

    folder = checkpoint_folder("v7", "runs/compare")   # runs/compare/v7/, else runs/<script>/
    model, tokenizer = load("v7", folder)              # on the CPU, checked as --sample-only is

A comparison (python -m tools.compare_versions) writes <--runs>/<version>/ckpt.pt; a script run
alone writes its own runs/<script>/ckpt.pt. Used by tools/write_poem.py and the explorer.
"""

from pathlib import Path

import plumbing
from tools.versions import BY_VERSION

SCRIPT_RUNS = plumbing.HERE / "runs"  # where each script writes its own run: runs/<script>/


def checkpoint_folder(version, runs):
    """Where version's ckpt.pt is: runs/<version>/, else the script's own runs/<script>/, else
    None."""
    for folder in (Path(runs) / version, SCRIPT_RUNS / plumbing.SCRIPTS[version]):
        if (folder / "ckpt.pt").is_file():
            return folder
    return None


def load(version, folder):
    """(model, tokenizer) of the version's ckpt.pt in folder, on the CPU, read only: the folder
    need not be writable. A checkpoint that cannot be used is a plumbing.BabyGPTError."""
    module = BY_VERSION[version]
    return plumbing.load_checkpoint(module, module.Config(out_dir=str(folder), device="cpu"),
                                    sampling=False)
