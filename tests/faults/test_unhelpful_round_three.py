"""Unhelpful failures and a permission leak found by the third outside pass (issue #30),
each pinned by a test that failed before its fix."""

import os
import stat

import numpy as np
import pytest

import minigrad as mg
from lstm.cli import main
from minigrad.files import atomic_write, staged_folder
from minigrad.nn import Linear

# ---- atomic writes keep the mode of the file they replace -----------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_replacing_a_file_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "model.npz"
    mg.save(Linear(3, 2), path)
    os.chmod(path, mode)
    mg.save(Linear(3, 2), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    page = tmp_path / "page.html"
    page.write_text("old")
    os.chmod(page, mode)
    atomic_write(page, "new")
    assert stat.S_IMODE(page.stat().st_mode) == mode and page.read_text() == "new"


def test_a_new_file_gets_the_umask_s_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


# ---- output folders given as "." and the like -------------------------------------------------

@pytest.mark.parametrize("form", [".", "./", "sub/..", "sub/../."])
def test_the_current_folder_can_be_the_output_folder(tmp_path, monkeypatch, form):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "keep.txt").write_text("mine")
    with staged_folder(form) as folder:
        (folder / "results.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "results.json", "sub"]


def test_a_failure_leaves_the_current_folder_as_it_was(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results.json").write_text("the previous run")
    with pytest.raises(RuntimeError), staged_folder(".") as folder:
        (folder / "results.json").write_text("half")
        raise RuntimeError("training broke")
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert (tmp_path / "results.json").read_text() == "the previous run"


def test_demo_accepts_dot_as_its_output_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def run(settings, out_dir):
        with staged_folder(out_dir) as folder:
            (folder / "results.json").write_text("{}")

    monkeypatch.setattr("lstm.demo.run", run)
    assert main(["demo", "--quick", "--out", "."]) == 0
    assert (tmp_path / "results.json").read_text() == "{}"


# ---- running out of memory is one line --------------------------------------------------------

@pytest.mark.parametrize("argv, target", [
    (["train", "--T", "3", "--steps", "2"], "lstm.training.train"),
    (["gradflow", "--steps", "3"], "lstm.gradflow.measure"),
])
def test_running_out_of_memory_is_one_line_and_exit_1(argv, target, monkeypatch, capsys):
    def exhausted(*args, **kwargs):
        np.empty(1)  # something ran
        raise MemoryError

    monkeypatch.setattr(target, exhausted)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"python -m lstm {argv[0]}: error: out of memory; try smaller sizes "
                        f"(--hidden, --batch, --T, --steps, --test-size)\n")
    assert "Traceback" not in err


# ---- the memory estimate is within 2x of what a run takes -------------------------------------

@pytest.mark.parametrize("size, eager", [
    (("rnn", 3000, 1, 1, 10), False),  # long and tiny: the graph's bookkeeping dominates
    (("lstm", 3000, 1, 1, 10), True),
    (("lstm", 100, 512, 64, 100), False),  # short and large: the arrays dominate
    (("lstm", 50, 256, 32, 1000), True),
])
def test_the_memory_estimate_is_within_2x_of_peak_rss(size, eager):
    from benchmarks.memory_estimate import measure

    measured, estimate = measure(*size, eager=eager)
    assert 0.5 < measured / estimate < 2, (measured / 1e6, estimate / 1e6)
