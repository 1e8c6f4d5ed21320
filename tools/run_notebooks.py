"""Re-run the notebooks and save their outputs in place, as they are committed.

From the repository root:

    python -m tools.run_notebooks                            # all eight, full budget (about an hour on a CPU)
    python -m tools.run_notebooks notebooks/03_head.ipynb    # one
    BABYGPT_QUICK=1 python -m tools.run_notebooks --out-dir runs/quick   # the tests' tiny budget, elsewhere

Needs requirements-dev.txt (nbclient, ipykernel). Progress bars are reduced to their final
state and timing metadata is dropped, so that the files stay small and diffs stay readable.
Each notebook is written only when every cell ran, and then whole (plumbing.write_text: a
temporary file renamed over it). With BABYGPT_QUICK=1 the outputs come from a tiny budget: they
are never written over the committed full-run outputs, only into --out-dir.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from jupyter_client.kernelspec import NoSuchKernel

import plumbing

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PROGRESS_BAR = re.compile(r".*\|.*\| *\d+/\d+ \[")  # a tqdm line: "v1 training:  40%|####  | 400/1000 [..."


def final_state(text):
    """What a terminal would show: each line's text after its last carriage return, blank lines dropped."""
    return "\n".join(s for line in text.split("\n") if (s := line.rsplit("\r", 1)[-1]).strip())


def tidy(outputs):
    """Progress bars reduced to the last one of the cell, in its final state; everything else kept."""
    bars = [i for i, o in enumerate(outputs) if o.output_type == "stream" and o.name == "stderr"
            and all(PROGRESS_BAR.match(line) for line in final_state(o.text).split("\n"))]
    kept = []
    for i, out in enumerate(outputs):
        if out.output_type == "stream" and out.name == "stderr":
            if i in bars[:-1] or not final_state(out.text):
                continue
            out.text = final_state(out.text) + "\n"
        kept.append(out)
    return kept


def read_notebook(path):
    """The notebook at path, checked before an hour of running begins."""
    try:
        return nbformat.read(path, as_version=4)
    except OSError as err:
        raise plumbing.BabyGPTError(f"cannot read {path}: {err.strerror}") from None
    except Exception as err:  # nbformat raises several types for a file that is not a notebook
        raise plumbing.BabyGPTError(f"{path} is not a notebook ({type(err).__name__}); restore it "
                                    "with git") from None


def run(path, nb, target):
    """Execute nb (read from path, run from its folder) and write it to target, whole."""
    # timeout is per cell: 08 trains every version at three seeds in one cell (v1 ... v7 took about
    # 40 minutes on a 2-core CPU)
    client = NotebookClient(nb, kernel_name="python3", timeout=4 * 3600, resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log (a TCP warning) is not ours to print
    except CellExecutionError as err:
        raise plumbing.BabyGPTError(f"{path}: a cell failed ({err.ename}: {err.evalue}); the file is "
                                    "unchanged", 1) from None
    except DeadKernelError:
        raise plumbing.BabyGPTError(f"{path}: the kernel died (out of memory?); the file is unchanged", 1) from None
    except NoSuchKernel:
        raise plumbing.BabyGPTError("no python3 Jupyter kernel: pip install -r requirements-dev.txt",
                                    1) from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = tidy(cell.outputs)
    plumbing.write_text(target, nbformat.writes(nb) + "\n")
    print(f"ran {path}" + (f" into {target}" if target != path else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all of notebooks/, in order")
    parser.add_argument("--out-dir", type=Path, help="write the executed notebooks here, not in place")
    args = parser.parse_args(argv)
    quick = os.environ.get("BABYGPT_QUICK") == "1"
    try:
        if quick and args.out_dir is None:
            raise plumbing.BabyGPTError("BABYGPT_QUICK=1 would write tiny-budget outputs over the "
                                        "committed full-run ones; add --out-dir DIR to write the "
                                        "quick notebooks there")
        paths = [path.resolve() for path in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))]
        for path in paths:
            target = (args.out_dir / path.name if args.out_dir else path).resolve()  # links followed
            if quick and target.parent == NOTEBOOKS.resolve():
                raise plumbing.BabyGPTError(f"BABYGPT_QUICK=1 would write tiny-budget outputs over "
                                            f"the committed {target}; give an --out-dir outside "
                                            f"{NOTEBOOKS}")
        notebooks = [read_notebook(path) for path in paths]
        if args.out_dir:
            args.out_dir.mkdir(parents=True, exist_ok=True)
        for path, nb in zip(paths, notebooks):
            run(path, nb, args.out_dir / path.name if args.out_dir else path)
    except plumbing.BabyGPTError as err:  # 2: bad input; 1: a notebook failed
        print(f"run_notebooks.py: error: {err}", file=sys.stderr)
        return err.status
    except OSError as err:  # --out-dir cannot be created
        print(f"run_notebooks.py: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("run_notebooks.py: interrupted; the notebook being run is unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
