"""lstm: shapes, layouts, names, scopes, errors, tasks, gradient flow."""

import numpy as np
import pytest

import minigrad as mg
from lstm import LSTM, RNN, LSTMCell, RNNCell
from lstm.analysis import decay_per_step, gradient_flow, relative_norms
from lstm.models import SequenceModel
from lstm.tasks import ADDING_BASELINE_MSE, adding_problem, recall_first

RNG = np.random.default_rng


def test_parameter_layouts_follow_the_spec():
    assert RNNCell(3, 5).W.shape == (8, 5) and RNNCell(3, 5).b.shape == (1, 5)
    assert LSTMCell(3, 5).W.shape == (8, 20) and LSTMCell(3, 5).b.shape == (1, 20)
    cell = LSTMCell(3, 5, forget_gate=False)
    assert cell.W.shape == (8, 15) and cell.b.shape == (1, 15)
    assert RNNCell(3, 5, bias=False).b is None and len(RNNCell(3, 5, bias=False).parameters()) == 1


def test_default_init_is_uniform_and_forget_bias_is_set():
    cell = LSTMCell(3, 16, rng=RNG(0))
    bound = 1 / np.sqrt(16)
    assert np.abs(cell.W.data).max() <= bound
    np.testing.assert_array_equal(cell.b.data[:, 16:32], 1.0)
    assert np.abs(cell.b.data[:, :16]).max() <= bound
    assert np.abs(LSTMCell(3, 16, forget_bias=None).b.data).max() <= bound
    np.testing.assert_array_equal(LSTMCell(3, 16, forget_bias=4.0).b.data[:, 16:32], 4.0)


def test_cells_are_reproducible_from_rng():
    first, second = LSTMCell(2, 3, rng=RNG(5)), LSTMCell(2, 3, rng=RNG(5))
    np.testing.assert_array_equal(first.W.data, second.W.data)


def test_lstm_cell_names_every_gate_and_state():
    cell = LSTMCell(2, 3)
    h0 = mg.tensor(np.zeros((4, 3)), requires_grad=True)
    h, c = cell(np.ones((4, 2)), (h0, h0))
    assert (h.name, c.name, h.shape, c.shape) == ("h", "c", (4, 3), (4, 3))
    names = {t.name for t in mg.topological_order([h]) if t.name}
    assert {"i", "f", "g", "o", "c", "h", "X", "Z"} <= names


def test_layer_runs_each_step_inside_its_scope():
    lstm = LSTM(2, 3, num_layers=2)
    hs, _ = lstm.unroll(np.ones((3, 1, 2)))
    assert [h.scope for h in hs] == ["t=0/lstm1", "t=1/lstm1", "t=2/lstm1"]
    assert lstm.cells[0].scope_name == "lstm0"


@pytest.mark.parametrize("layer, layers", [(RNN, 1), (RNN, 3), (LSTM, 1), (LSTM, 2)])
def test_layer_shapes_and_state_layout(layer, layers):
    model = layer(4, 6, num_layers=layers, rng=RNG(0))
    xs = RNG(1).standard_normal((5, 2, 4))
    ys, state = model(xs)
    assert ys.shape == (5, 2, 6)
    finals = state if isinstance(state, tuple) else (state,)
    assert all(s.shape == (layers, 2, 6) for s in finals)
    np.testing.assert_allclose(ys.data[-1], finals[0].data[-1])
    # the final state continues the sequence: running 5 then 0 steps equals running 5
    ys2, _ = model(xs[:3])
    _, state2 = model(xs[3:], state=_state_after(model, xs[:3]))
    np.testing.assert_allclose((state2[0] if isinstance(state2, tuple) else state2).data,
                               finals[0].data, atol=1e-12)
    assert len(model.cells) == layers


def _state_after(model, xs):
    return model(xs)[1]


@pytest.mark.parametrize("call, message", [
    (lambda: LSTMCell(3, 4)(np.ones((2, 5)), None),
     r"^LSTMCell: x must have shape \(B, 3\) \(input_size=3\), got \(2, 5\)$"),
    (lambda: LSTMCell(3, 4)(np.ones((2, 3)), (mg.tensor(np.ones((2, 4))),
                                              mg.tensor(np.ones((2, 5))))),
     r"^LSTMCell: c must have shape \(2, 4\) \(batch 2, hidden_size=4\), got \(2, 5\)$"),
    (lambda: RNNCell(3, 4)(np.ones((2, 3)), mg.tensor(np.ones((3, 4)))),
     r"^RNNCell: h must have shape \(2, 4\) \(batch 2, hidden_size=4\), got \(3, 4\)$"),
    (lambda: RNNCell(3, 4, nonlinearity="sigmoid"), "^RNNCell: nonlinearity must be"),
    (lambda: RNNCell(0, 4), "^RNNCell: input_size must be a positive integer, got 0$"),
    (lambda: RNN(3, 4)(np.ones((2, 3))), r"^RNN: xs must have shape \(T, B, 3\)"),
    (lambda: LSTM(3, 4, num_layers=2)(np.ones((5, 2, 3)), (mg.tensor(np.ones((1, 2, 4))),) * 2),
     r"^LSTM: the state must have shape \(num_layers, B, hidden_size\) = \(2, 2, 4\), got "
     r"\(1, 2, 4\)$"),
    (lambda: LSTM(3, 4, num_layers=0), "^LSTM: num_layers must be a positive integer, got 0$"),
    (lambda: adding_problem(4, 1, RNG(0)), "^adding_problem: T must be at least 2, got 1$"),
])
def test_errors_name_the_sizes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_adding_problem_layout_and_baseline():
    xs, ys = adding_problem(5000, 20, RNG(0))
    assert xs.shape == (20, 5000, 2) and ys.shape == (5000, 1)
    markers = xs[:, :, 1]
    assert (markers.sum(0) == 2).all()
    assert (markers[:10].sum(0) == 1).all() and (markers[10:].sum(0) == 1).all()
    np.testing.assert_allclose(ys[:, 0], (xs[:, :, 0] * markers).sum(0))
    assert ((xs[:, :, 0] >= 0) & (xs[:, :, 0] <= 1)).all()
    assert abs(np.mean((ys - 1.0) ** 2) - ADDING_BASELINE_MSE) < 0.01
    again, _ = adding_problem(5000, 20, RNG(0))
    np.testing.assert_array_equal(xs, again)
    assert adding_problem(2, 5, RNG(0), dtype=np.float32)[0].dtype == np.float32


def test_recall_first_layout():
    xs, ys = recall_first(1000, 7, RNG(0), symbols=4)
    assert xs.shape == (7, 1000, 5) and ys.shape == (1000,)
    np.testing.assert_array_equal(xs[0, :, :4].argmax(1), ys)
    assert (xs[0, :, 4] == 0).all() and (xs[1:, :, 4] == 1).all()
    assert (xs[:, :, :4].sum(-1) == 1).all()
    assert abs(np.bincount(ys).min() / 1000 - 0.25) < 0.05


def test_gradient_flow_shows_the_rnn_forgetting_and_the_lstm_remembering():
    T, rng = 40, RNG(0)
    xs, ys = adding_problem(16, T, rng)
    rnn = gradient_flow(SequenceModel("rnn", 2, 16, 1, rng=RNG(1)), xs, ys)
    lstm = gradient_flow(SequenceModel("lstm-no-forget", 2, 16, 1, rng=RNG(1)), xs, ys)
    assert rnn.shape == (T,) and (rnn > 0).all()
    assert decay_per_step(rnn, max_lag=20) < 0.75
    assert relative_norms(rnn, [30])[30] < 1e-4
    assert decay_per_step(lstm) > 0.9
    assert relative_norms(lstm, [39])[39] > 1e-2


def test_gradient_flow_of_a_bare_layer_and_decay_fit():
    norms = gradient_flow(RNN(2, 8, rng=RNG(0)), RNG(1).standard_normal((12, 3, 2)))
    assert norms.shape == (12,)
    assert decay_per_step(0.5 ** np.arange(20)[::-1]) == pytest.approx(0.5)
