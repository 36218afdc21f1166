"""Every notebook runs top to bottom (in its quick mode, MINIGRAD_QUICK=1) without an
error, and the committed ones carry their outputs and stay small."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_the_four_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["00_bptt_by_hand", "01_autodiff_from_scratch",
                                           "02_why_lstm", "03_build_your_own_cell"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_QUICK", "1")
    notebook = nbformat.read(path, as_version=4)
    # runs in a scratch folder; any error in any cell fails the test with that cell's output
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(out.get("text", "") for cell in notebook.cells
                      for out in cell.get("outputs", ()))
    assert "claim" in printed or "matches" in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_committed_notebook_reads_well_without_running(path):
    assert path.stat().st_size < 2_000_000
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert notebook.cells[0].cell_type == "markdown" and "question" in notebook.cells[0].source
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), "run `make notebooks` to save the outputs"
    assert all(len(cell.source.splitlines()) <= 15 for cell in code)
    assert not any(out.get("output_type") == "error" for cell in code for out in cell.outputs)
