"""Re-execute chapter notebooks in place and store their outputs (``make notebooks``).

The stored outputs are what nbval compares against in ``make test``, so this runs with the same
kernel (the .venv's python) and a fixed working directory (the notebook's folder).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    # record_timing=False: no per-cell timestamps, so re-running changes only what really changed
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)
    print(f"executed and saved {path}")


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        sys.exit("usage: python tools/run_notebooks.py NOTEBOOK.ipynb ...")
    for p in paths:
        run(p)
