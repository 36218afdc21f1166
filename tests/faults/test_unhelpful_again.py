"""Unhelpful failures found by the second outside pass (issue #19, items 13-18), each
pinned by a test that failed before its fix."""

import json
import re
import zipfile

import numpy as np
import pytest

import minigrad as mg
from lstm import GRUCell, LSTMCell, RNNCell
from lstm.cli import main
from lstm.memory import check_fits, needed_bytes
from minigrad.nn import Module, Parameter
from minigrad.serialization import CheckpointError


def small_graph(name, scope):
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x" + name)
    for t in range(2):
        with mg.scope(f"t={t}"), mg.scope(scope):
            x = mg.tanh(x * 2).named("h" + name)
    return x.sum()


# ---- 13. the explorer's embedded JSON -------------------------------------------------------

@pytest.mark.parametrize("hostile", ["<!--<script>", "</script><b>", "a&b>c", "<!--"])
def test_no_name_or_scope_can_break_out_of_the_explorer_s_script(hostile):
    page = mg.viz.explore(small_graph(hostile, hostile)).html
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    assert scripts
    for body in scripts:
        assert "<!--" not in body and "<script" not in body.lower()
    data = next(re.search(r"\{\"vertices\".*", body, re.S).group() for body in scripts
                if '{"vertices"' in body)
    names = [v["name"] for v in json.JSONDecoder().raw_decode(data)[0]["vertices"]]
    assert "h" + hostile in names  # escaped, not lost


# ---- 14. one sanitizer for both pictures ----------------------------------------------------

@pytest.mark.parametrize("scope", ["ends\\", "\t", "a\x01b", "a\ud800b", "\x7f"])
def test_any_scope_or_name_draws_in_both_pictures(tmp_path, scope):
    loss = small_graph(scope, scope)
    mg.viz.draw_graph(loss).pipe("svg")
    path = mg.viz.explore(loss).save(tmp_path / "page.html")
    assert path.read_text(encoding="utf-8")


# ---- 15. the command line: sizes that cannot fit, and bad numbers ---------------------------

@pytest.mark.parametrize("argv, asked", [
    (["train", "--hidden", "400000"], "--hidden 400000"),
    (["train", "--T", "1000000000"], "--T 1000000000"),
    (["graph", "--hidden", "100000"], "--hidden 100000"),
    (["explore", "--hidden", "1000000"], "--hidden 1000000"),
    (["gradflow", "--steps", "100000000"], "--steps 100000000"),
])
def test_sizes_that_cannot_fit_are_refused_in_one_line_before_any_work(capsys, argv, asked):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert asked in err and "needs about" in err and "available" in err
    assert "Traceback" not in err and "MemoryError" not in err


def test_the_estimate_refuses_only_what_is_far_too_large():
    check_fits("x", needed_bytes("lstm", 2, 32, 100, 32), available=10 ** 9)
    with pytest.raises(ValueError, match="needs about 2.0 GB of memory, and this machine has "
                                         "1.0 GB available"):
        check_fits("x", 2 * 10 ** 9, available=10 ** 9)


@pytest.mark.parametrize("flag", ["--T", "--hidden", "--steps"])
def test_a_non_number_names_the_flag_and_what_it_takes(capsys, flag):
    with pytest.raises(SystemExit) as stopped:
        main(["train", flag, "abc"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be a positive integer, got 'abc'" in err
    assert "_positive" not in err


# ---- 16. checkpoints: names that cannot be stored, members that lie -------------------------

class Named(Module):
    def __init__(self, names):
        super().__init__()
        self.p = {n: Parameter(np.ones(2)) for n in names}


@pytest.mark.parametrize("name, why", [("x" * 70000, "bytes long"), ("a\0b", "NUL"),
                                       ("a\ud800", "lone surrogate")])
def test_names_a_checkpoint_cannot_hold_are_refused_at_save(tmp_path, name, why):
    with pytest.raises(ValueError, match=why):
        mg.save(Named([name]), tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


def _archive(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy_header(shape, dtype="<f8"):
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def test_a_member_declaring_an_absurd_shape_is_refused_naming_the_path(tmp_path):
    path = tmp_path / "absurd.npz"
    _archive(path, {"p.a.npy": _npy_header((10 ** 6, 10 ** 6)) + b"\0" * 16})
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + r".*declares shape"):
        mg.load(Named(["a"]), path)


def test_a_compressed_bomb_in_an_unexpected_member_is_never_decompressed(tmp_path):
    path = tmp_path / "bomb.npz"
    bomb = _npy_header((2 ** 25,)) + b"\0" * (2 ** 28)  # 256 MiB of zeros, 250 KB packed
    _archive(path, {"p.a.npy": _npy_header((2,)) + np.ones(2).tobytes(), "extra.npy": bomb},
             compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + r".*unexpected key "
                                                                      r"'extra'"):
        mg.load(Named(["a"]), path)


def test_wrong_shapes_are_found_from_the_headers(tmp_path):
    path = tmp_path / "wrong.npz"
    np.savez(path, **{"p.a": np.ones(3)})
    with pytest.raises(CheckpointError, match=r"'p.a' has shape \(3,\), the parameter \(2,\)"):
        mg.load(Named(["a"]), path)


# ---- 17. cells called on what is not an input -----------------------------------------------

@pytest.mark.parametrize("cell", [RNNCell(2, 3), LSTMCell(2, 3), GRUCell(2, 3)])
@pytest.mark.parametrize("x", [1.0, "abc", None])
def test_a_cell_called_on_a_non_tensor_says_what_it_needs(cell, x):
    with pytest.raises(TypeError, match=rf"{type(cell).__name__}: x must be a Tensor or an "
                                        rf"array of shape \(B, 2\)"):
        cell(x)


# ---- 18. NumPy's functions on tensors -------------------------------------------------------

@pytest.mark.parametrize("fn, expected", [
    (np.sum, lambda d: d.sum()), (np.mean, lambda d: d.mean()), (np.max, lambda d: d.max()),
    (np.min, lambda d: d.min()), (np.var, lambda d: d.var()), (np.std, lambda d: d.std()),
    (np.amax, lambda d: d.max()), (lambda t: np.clip(t, 0.5, 2.0), lambda d: d.clip(0.5, 2)),
])
def test_numpy_reductions_on_a_tensor_give_a_differentiable_tensor(fn, expected):
    data = np.array([[1.0, 2.0], [3.0, 0.25]])
    t = mg.tensor(data, requires_grad=True)
    y = fn(t)
    assert isinstance(y, mg.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, expected(data))


@pytest.mark.parametrize("call, why", [
    (lambda t: np.sum(t, out=np.zeros(())), "out= is not supported"),
    (lambda t: np.mean(t, dtype=np.float32), r"dtype= is not supported.*astype"),
    (lambda t: t.max(out=np.zeros(())), "out= is not supported"),
])
def test_numpy_keywords_a_tensor_cannot_honour_are_refused_saying_why(call, why):
    with pytest.raises(TypeError, match=why):
        call(mg.tensor([1.0, 2.0], requires_grad=True))


def test_einsum_with_two_ellipses_in_one_operand_raises_as_numpy_does():
    a = mg.tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError) as numpy_error:
        np.einsum("...i...->i", a.data)
    with pytest.raises(ValueError, match="not part of one ellipsis"):
        mg.einsum("...i...->i", a)
    assert "ellipsis" in str(numpy_error.value)


def test_pad_of_a_0d_tensor_returns_it_as_numpy_pad_does():
    x = mg.tensor(3.0, requires_grad=True)
    y = mg.pad(x, 2)
    np.testing.assert_array_equal(y.data, np.pad(np.array(3.0), 2))
    y.backward()
    assert x.grad == 1.0
