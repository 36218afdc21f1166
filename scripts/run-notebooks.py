"""Run every notebook in notebooks/ top to bottom and save it with its outputs
(`make notebooks`). With --quick, run them as the test suite does (MINIGRAD_QUICK=1)
and save nothing. Prints each notebook's time and size."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(path: Path, quick: bool) -> nbformat.NotebookNode:
    """The notebook at ``path``, executed in its folder (quick: MINIGRAD_QUICK=1)."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["MINIGRAD_QUICK"] = "1" if quick else "0"
    NotebookClient(notebook, timeout=900, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes of the test suite, no save")
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    paths = [NOTEBOOKS / n for n in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        start = time.perf_counter()
        notebook = run(path, args.quick)
        seconds = time.perf_counter() - start
        if not args.quick:
            nbformat.write(notebook, path)
        print(f"{path.name}: {seconds:.0f} s, {path.stat().st_size / 1e6:.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
