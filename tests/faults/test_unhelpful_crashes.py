"""Faults that crashed unhelpfully (issue #10, items 10-13): each error now says what is
wrong in terms of the call the user made."""

import copy
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.exceptions import AxisError

import minigrad as mg
from lstm import LSTM, RNN, LSTMCell, RNNCell
from lstm.cli import main
from minigrad import serialization
from minigrad.nn import Linear, Parameter

# subprocesses import this checkout's packages, whatever is installed
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def t(*shape):
    return mg.tensor(np.ones(shape), requires_grad=True)


# ---- 10. what goes into DOT, and a dot that fails ----------------------------------------

@pytest.mark.parametrize("name, shown", [
    ("", "&quot;&quot;"), ("a\x00b", r"a\x00b"), ("a\x01b\x1f", r"a\x01b\x1f"),
    ("\x7f", r"\x7f"), ("a\ud800b", "a\ufffdb"), ("<b>&", "&lt;b&gt;&amp;"),
])
def test_any_name_renders(name, shown):
    x = mg.tensor([1.0], requires_grad=True, name=name)
    y = (x * 2).named(name).sum()
    picture = mg.viz.draw_graph(y, values=True, grads=True)
    assert f"<b>{shown}</b>" in picture.source
    assert picture.pipe(format="svg").startswith(b"<?xml")


@pytest.mark.parametrize("scope, clusters", [
    ("t/", ["t"]), ("a//b", ["a", "b"]), ("/x", ["x"]), ("\x00", [r"\x00"]),
    ("a/ /b", ["a", " ", "b"]),
])
@pytest.mark.parametrize("depth", [None, 1, 2])
def test_any_scope_renders(scope, clusters, depth):
    x = mg.tensor([1.0], requires_grad=True)
    with mg.scope(scope):
        y = (x * 2).sum()
    picture = mg.viz.draw_graph(y, depth=depth)
    assert picture.pipe(format="svg").startswith(b"<?xml")
    shown = clusters[:depth] if depth else clusters
    for part in shown:  # a cluster's label, or a collapsed scope's box in bold
        assert re.search(rf"(label=<|<b>){re.escape(part)}(>|</b>)", picture.source), part


def broken_picture():
    picture = mg.viz.draw_graph((t(2) * 2).sum())
    picture.body.append("\tv0 -> [[[\n")  # what dot cannot read, as it cannot lay out 150 steps
    return picture


def test_a_failing_dot_is_one_clear_error(tmp_path, capfd):
    picture = broken_picture()
    for render in (lambda: picture.pipe(format="svg"), lambda: mg.viz.save(picture, tmp_path
                                                                           / "g.svg"),
                   lambda: picture.render(tmp_path / "g", format="svg")):
        with pytest.raises(mg.viz.RenderError, match=r"^Graphviz's dot could not draw this "
                                                     r"graph of \d+ nodes \(it said: Error: .*"
                                                     r"\); draw fewer time steps, or collapse "
                                                     r"each step into one box with depth=1"):
            render()
    assert capfd.readouterr().err == ""  # dot's own lines are not echoed
    assert not (tmp_path / "g.svg").exists()


def test_the_graph_command_says_in_one_line_that_dot_failed(tmp_path, monkeypatch, capfd):
    picture = broken_picture()
    monkeypatch.setattr("minigrad.viz.draw_graph", lambda *a, **k: picture)
    assert main(["graph", "--steps", "30", "-o", str(tmp_path / "g.svg")]) == 1
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m lstm graph: error: Graphviz's dot could not draw")
    assert "--depth 1" in err and not (tmp_path / "g.svg").exists()


# ---- 11. loading what is not a checkpoint ----------------------------------------------

def not_checkpoints(folder):
    (folder / "empty.npz").write_bytes(b"")
    (folder / "text.npz").write_text("W = [1, 2, 3]\n")
    np.save(folder / "array.npy", np.ones(3))
    mg.save(Linear(3, 2), folder / "good.npz")
    good = (folder / "good.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(folder / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    return {"empty.npz": "the file is empty", "text.npz": r"it is not an \.npz \(zip\) archive",
            "array.npy": r"it holds a single \.npy array, not an \.npz archive of parameters",
            "truncated.npz": r"it is truncated or damaged \(BadZipFile",
            "other.zip": r"its member 'readme.txt' is not a \.npy array"}


@pytest.mark.parametrize("name", ["empty.npz", "text.npz", "array.npy", "truncated.npz",
                                  "other.zip"])
def test_loading_what_is_not_a_checkpoint_says_so(tmp_path, name):
    reasons = not_checkpoints(tmp_path)
    path = tmp_path / name
    if not name.endswith(".npz"):  # load adds .npz as save does: name the file as it is
        path = path.rename(tmp_path / (name + ".npz"))
    with pytest.raises(serialization.CheckpointError,
                       match=rf"^load: {re.escape(str(path))} is not a minigrad checkpoint: "
                             rf"{reasons[name]}"):
        mg.load(Linear(3, 2), path)


def test_pickled_objects_are_refused_naming_the_file(tmp_path):
    np.savez(tmp_path / "evil.npz", W=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=rf"^load: {re.escape(str(tmp_path))}/evil.npz holds "
                                         r"pickled objects, which minigrad never loads "
                                         r"\(allow_pickle=False\)"):
        mg.load(Linear(3, 2), tmp_path / "evil.npz")


# ---- 12. errors in terms of the call -------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: LSTM(2, 3)(np.ones((0, 4, 2))), ValueError,
     r"^LSTM: xs has no time steps \(shape \(0, 4, 2\)\); a sequence needs T >= 1 steps$"),
    (lambda: RNN(2, 3)(np.ones((0, 4, 2))), ValueError, "^RNN: xs has no time steps"),
    (lambda: RNN(2, 3)(np.ones((5, 4, 2)), (t(1, 4, 3), t(1, 4, 3))), TypeError,
     r"^RNN: the state must be one tensor h or None, got a tuple of 2 \(an LSTM's \(h, c\)\?\)$"),
    (lambda: RNNCell(2, 3)(np.ones((4, 2)), (t(4, 3), t(4, 3))), TypeError,
     r"^RNNCell: the state must be one tensor h or None, got a tuple of 2"),
    (lambda: LSTM(2, 3, num_layers=2)(np.ones((5, 2, 2)), t(2, 2, 3)), TypeError,
     r"^LSTM: the state must be a pair \(h, c\) or None, got a single Tensor$"),
    (lambda: LSTMCell(2, 3)(np.ones((2, 2)), t(2, 3)), TypeError,
     r"^LSTMCell: the state must be a pair \(h, c\) or None, got a single Tensor$"),
    (lambda: LSTMCell(2, 3)(np.ones((2, 2)), (t(2, 3),) * 3), TypeError,
     r"^LSTMCell: the state must be a pair \(h, c\) or None, got a tuple of 3$"),
    (lambda: RNNCell(None, 4), TypeError, "^RNNCell: input_size must be a positive integer, "
                                       "got None$"),
    (lambda: LSTMCell(2, 2.5), TypeError, "^LSTMCell: hidden_size must be a positive integer"),
    (lambda: Linear(0, 2), ValueError, "^Linear: in_features must be a positive integer, "
                                       "got 0$"),
    (lambda: RNN(2, 3, num_layers=None), TypeError, "^RNN: num_layers must be a positive"),
])
def test_errors_say_what_is_wrong_with_the_call(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_gradient_of_the_wrong_shape_is_refused_where_it_is_set():
    w = Parameter(np.ones(3), name="w")
    with pytest.raises(ValueError, match=r"^grad: cannot set a gradient of shape \(7,\) on "
                                         r"tensor 'w' of shape \(3,\); it must have the "
                                         r"tensor's shape$"):
        w.grad = np.ones(7)
    with pytest.raises(ValueError, match=r"gradient of shape \(1,\)"):
        w.grad = np.ones(1)  # would broadcast silently in an optimizer step
    with pytest.raises(TypeError, match="^grad: a gradient must be a floating-point array"):
        w.grad = np.ones(3, dtype=int)
    w.grad = np.ones(3, np.float32)  # cast to the tensor's dtype
    assert w.grad.dtype == np.float64


@pytest.mark.parametrize("call, message", [
    (lambda: mg.concat([t(2, 3), t(2, 3)], axis=5), r"^concat: axis 5 is out of bounds for "
                                                    r"array of dimension 2"),
    (lambda: mg.concat([t(2, 3), t(2, 3)], axis=-3), "^concat: axis -3 is out of bounds"),
    (lambda: mg.split(t(4), 2, axis=1), "^split: axis 1 is out of bounds"),
    (lambda: mg.sum(t(2), axis=1), "^sum: axis 1 is out of bounds"),
    (lambda: mg.mean(t(2), axis=(0, 1)), "is out of bounds"),
    (lambda: mg.log_softmax(t(2), axis=-2), "^log_softmax: axis -2 is out of bounds"),
    (lambda: mg.stack([t(2), t(2)], axis=2), "^stack: axis 2 is out of bounds"),
    (lambda: mg.transpose(t(2, 3), (0, 3)), "^transpose: axis 3 is out of bounds"),
])
def test_an_axis_out_of_range_is_numpys_axis_error(call, message):
    with pytest.raises(AxisError, match=message) as caught:
        call()
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, IndexError)


def test_an_index_out_of_range_names_the_op():
    with pytest.raises(IndexError, match=r"^getitem: index 5 is out of bounds for axis 0 "
                                         r"with size 3"):
        t(3)[5]


def test_anomaly_in_the_forward_pass_names_the_scope():
    x = mg.tensor([-1.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(invalid="ignore"), mg.scope("t=4"):
        with pytest.raises(FloatingPointError, match=r"^log: the forward pass produced NaN or "
                                                     r"inf \(scope t=4\)$"):
            mg.log(x)


def test_anomaly_in_a_create_graph_backward_says_backward():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.scope("t=2"):
        y = (x ** 0.5).sum()
    with mg.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(FloatingPointError, match=r"^pow: the backward pass produced NaN "
                                                     r"or inf while computing the gradient of "
                                                     r"pow \(scope t=2\)$"):
            mg.grad(y, x, create_graph=True)
        # and afterwards a forward op is a forward op again
        with pytest.raises(FloatingPointError, match="^log: the forward pass"):
            mg.log(mg.tensor([-1.0]))


def test_the_seed_flag_is_named(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--seed", "-1"])
    assert "argument --seed: must be a non-negative integer, got -1" in capsys.readouterr().err


def test_deep_copy_of_a_100k_op_graph():
    x = mg.tensor([0.5, -0.25], requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    loss = (y * y).sum()
    twin = copy.deepcopy(loss)
    (twin_x,) = [v for v in mg.topological_order([twin]) if v.name == "x"]
    assert twin_x is not x and twin.item() == loss.item()
    twin.backward()
    assert x.grad is None  # the copy has its own leaves
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    np.testing.assert_array_equal(twin_x.grad, x.grad)


# ---- 13. import lstm gives its submodules ------------------------------------------------

def test_import_lstm_makes_the_submodules_available():
    script = ("import numpy as np, lstm\n"
              "xs, ys = lstm.tasks.adding_problem(4, 6, np.random.default_rng(0))\n"
              "print(lstm.analysis.gradient_flow(lstm.RNN(2, 3), xs).shape)\n"
              "print(all(hasattr(lstm, m) for m in ('cells', 'layers', 'models', 'training', "
              "'gradflow', 'pictures', 'demo', 'cli')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=CHECKOUT_ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "(6,)\nTrue\n"
