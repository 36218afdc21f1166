"""Parity with torch.nn (float64, 1e-10) using committed reference numbers
(tests/fixtures/make_torch_reference.py regenerates them), and the 1997 LSTM without
forget gate against a hand-written NumPy forward and backward."""

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lstm import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

REFERENCE = Path(__file__).parent / "fixtures" / "torch_reference.npz"
GRU_REFERENCE = Path(__file__).parent / "fixtures" / "torch_gru_reference.npz"
GRU_PARAMETERS = ("W_x", "W_h", "b_x", "b_h")
TOL = {"rtol": 0, "atol": 1e-10}


def _load(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def ref():
    return _load(REFERENCE)


@pytest.fixture(scope="module")
def gru_ref():
    return _load(GRU_REFERENCE)


def leaf(array):
    return mg.tensor(array, requires_grad=True)


def load_weights(cells, ref, case, names=("W", "b")):
    for k, cell in enumerate(cells):
        cell.load_state_dict({name: ref[f"{case}/{name}{k}"] for name in names})


def assert_weight_grads(cells, ref, case, names=("W", "b")):
    for k, cell in enumerate(cells):
        for name in names:
            np.testing.assert_allclose(getattr(cell, name).grad, ref[f"{case}/d{name}{k}"],
                                       **TOL, err_msg=f"{name} of layer {k}")


def test_reference_was_made_by_the_pinned_torch(ref):
    assert str(ref["torch_version"]).startswith("2.13.0")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch(ref, nonlinearity):
    case = f"rnn_cell_{nonlinearity}"
    cell = RNNCell(3, 4, nonlinearity=nonlinearity)
    load_weights([cell], ref, case)
    x, h = leaf(ref[f"{case}/x"]), leaf(ref[f"{case}/h"])
    out = cell(x, h)
    np.testing.assert_allclose(out.data, ref[f"{case}/out_h"], **TOL)
    (out * ref[f"{case}/Rh"]).sum().backward()
    np.testing.assert_allclose(x.grad, ref[f"{case}/dx"], **TOL)
    np.testing.assert_allclose(h.grad, ref[f"{case}/dh"], **TOL)
    assert_weight_grads([cell], ref, case)


def test_lstm_cell_matches_torch(ref):
    case = "lstm_cell"
    cell = LSTMCell(3, 4)
    load_weights([cell], ref, case)
    x, h, c = (leaf(ref[f"{case}/{k}"]) for k in "xhc")
    h_new, c_new = cell(x, (h, c))
    np.testing.assert_allclose(h_new.data, ref[f"{case}/out_h"], **TOL)
    np.testing.assert_allclose(c_new.data, ref[f"{case}/out_c"], **TOL)
    ((h_new * ref[f"{case}/Rh"]).sum() + (c_new * ref[f"{case}/Rc"]).sum()).backward()
    for name, t in zip("xhc", (x, h, c)):
        np.testing.assert_allclose(t.grad, ref[f"{case}/d{name}"], **TOL)
    assert_weight_grads([cell], ref, case)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_rnn_and_gru_layers_match_torch(request, kind, layers):
    """The layers whose state is one tensor: ys and h_n, and every gradient."""
    ref = request.getfixturevalue("ref" if kind == "rnn" else "gru_ref")
    layer_class, names = (RNN, ("W", "b")) if kind == "rnn" else (GRU, GRU_PARAMETERS)
    case = f"{kind}_l{layers}"
    layer = layer_class(3, 4, num_layers=layers)
    load_weights(layer.cells, ref, case, names)
    xs, h0 = leaf(ref[f"{case}/xs"]), leaf(ref[f"{case}/h0"])
    ys, hn = layer(xs, h0)
    np.testing.assert_allclose(ys.data, ref[f"{case}/out_ys"], **TOL)
    np.testing.assert_allclose(hn.data, ref[f"{case}/out_hn"], **TOL)
    ((ys * ref[f"{case}/Rys"]).sum() + (hn * ref[f"{case}/Rhn"]).sum()).backward()
    np.testing.assert_allclose(xs.grad, ref[f"{case}/dxs"], **TOL)
    np.testing.assert_allclose(h0.grad, ref[f"{case}/dh0"], **TOL)
    assert_weight_grads(layer.cells, ref, case, names)


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_layer_matches_torch(ref, layers):
    case = f"lstm_l{layers}"
    lstm = LSTM(3, 4, num_layers=layers)
    load_weights(lstm.cells, ref, case)
    xs, h0, c0 = (leaf(ref[f"{case}/{k}"]) for k in ("xs", "h0", "c0"))
    ys, (hn, cn) = lstm(xs, (h0, c0))
    for name, out in (("ys", ys), ("hn", hn), ("cn", cn)):
        np.testing.assert_allclose(out.data, ref[f"{case}/out_{name}"], **TOL)
    loss = sum(((out * ref[f"{case}/R{name}"]).sum()
                for name, out in (("ys", ys), ("hn", hn), ("cn", cn))), start=0)
    loss.backward()
    for name, t in (("xs", xs), ("h0", h0), ("c0", c0)):
        np.testing.assert_allclose(t.grad, ref[f"{case}/d{name}"], **TOL)
    assert_weight_grads(lstm.cells, ref, case)


# ---- the LSTM without forget gate against hand-written NumPy ------------------------------

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def vanilla_lstm_step(x, h, c, W, b):
    """Forward and hand-derived backward of c' = c + i*g, h' = o*tanh(c')."""
    q = h.shape[1]
    X = np.concatenate([x, h], axis=1)
    Z = X @ W + b
    i, g, o = sigmoid(Z[:, :q]), np.tanh(Z[:, q:2 * q]), sigmoid(Z[:, 2 * q:])
    c_new = c + i * g
    h_new = o * np.tanh(c_new)

    def backward(dh_new, dc_new):
        tanh_c = np.tanh(c_new)
        dc = dc_new + dh_new * o * (1 - tanh_c ** 2)
        dZ = np.concatenate([dc * g * i * (1 - i), dc * i * (1 - g ** 2),
                             dh_new * tanh_c * o * (1 - o)], axis=1)
        dX = dZ @ W.T
        return dX[:, :x.shape[1]], dX[:, x.shape[1]:], dc, X.T @ dZ, dZ.sum(0, keepdims=True)

    return h_new, c_new, backward


def test_lstm_without_forget_gate_matches_numpy():
    rng = np.random.default_rng(0)
    cell = LSTMCell(3, 4, forget_gate=False, rng=rng)
    assert cell.W.shape == (7, 12) and cell.b.shape == (1, 12)
    x, h, c = (rng.standard_normal((2, n)) for n in (3, 4, 4))
    dh_new, dc_new = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    h_ref, c_ref, backward = vanilla_lstm_step(x, h, c, cell.W.data, cell.b.data)
    tx, th, tc = leaf(x), leaf(h), leaf(c)
    h_new, c_new = cell(tx, (th, tc))
    np.testing.assert_allclose(h_new.data, h_ref, **TOL)
    np.testing.assert_allclose(c_new.data, c_ref, **TOL)
    ((h_new * dh_new).sum() + (c_new * dc_new).sum()).backward()
    dx, dh, dc, dW, db = backward(dh_new, dc_new)
    for got, expected in ((tx.grad, dx), (th.grad, dh), (tc.grad, dc), (cell.W.grad, dW),
                          (cell.b.grad, db)):
        np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize("make", [lambda rng: LSTMCell(2, 3, rng=rng),
                                  lambda rng: LSTMCell(2, 3, forget_gate=False, rng=rng),
                                  lambda rng: RNNCell(2, 3, rng=rng)])
def test_cells_pass_gradcheck(make):
    rng = np.random.default_rng(1)
    cell = make(rng)
    x, h, c = (leaf(rng.standard_normal((2, n))) for n in (2, 3, 3))
    if isinstance(cell, LSTMCell):
        assert mg.gradcheck(lambda x, h, c, W, b: cell_with(cell, W, b)(x, (h, c)),
                            x, h, c, cell.W, cell.b)
    else:
        assert mg.gradcheck(lambda x, h, W, b: cell_with(cell, W, b)(x, h), x, h, cell.W, cell.b)


def cell_with(cell, W, b):
    cell.W, cell.b = W, b  # gradcheck hands in float64 copies of the parameters
    return cell


@pytest.mark.parametrize("layer", [RNN, LSTM])
def test_float32_layers_stay_float32(layer):
    model = layer(3, 4, num_layers=2, dtype=np.float32, rng=np.random.default_rng(0))
    xs = np.random.default_rng(1).standard_normal((5, 2, 3)).astype(np.float32)
    ys, _ = model(xs)
    ys.sum().backward()
    assert ys.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


# ---- the GRU: torch.nn.GRUCell and torch.nn.GRU, PyTorch's layout -------------------------

def test_gru_reference_was_made_by_the_pinned_torch(gru_ref):
    assert str(gru_ref["torch_version"]).startswith("2.13.0")


def test_gru_cell_matches_torch(gru_ref):
    cell = GRUCell(3, 4)
    load_weights([cell], gru_ref, "gru_cell", GRU_PARAMETERS)
    x, h = leaf(gru_ref["gru_cell/x"]), leaf(gru_ref["gru_cell/h"])
    out = cell(x, h)
    np.testing.assert_allclose(out.data, gru_ref["gru_cell/out_h"], **TOL)
    (out * gru_ref["gru_cell/Rh"]).sum().backward()
    np.testing.assert_allclose(x.grad, gru_ref["gru_cell/dx"], **TOL)
    np.testing.assert_allclose(h.grad, gru_ref["gru_cell/dh"], **TOL)
    assert_weight_grads([cell], gru_ref, "gru_cell", GRU_PARAMETERS)


def test_gru_layout_init_names_and_scopes():
    cell = GRUCell(3, 5, rng=np.random.default_rng(0))
    assert [p.shape for p in cell.parameters()] == [(3, 15), (5, 15), (1, 15), (1, 15)]
    assert max(np.abs(p.data).max() for p in cell.parameters()) <= 1 / np.sqrt(5)
    assert len(GRUCell(3, 5, bias=False).parameters()) == 2
    h = cell(np.ones((2, 3)), None)
    names = {v.name for v in mg.topological_order([h], only_requiring_grad=False) if v.name}
    assert {"r", "z", "n", "h"} <= names and h.scope == "gru"
    hs, _ = GRU(3, 5).unroll(np.ones((4, 2, 3)))
    assert [h.scope for h in hs] == ["t=0/gru", "t=1/gru", "t=2/gru", "t=3/gru"]
