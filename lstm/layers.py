"""Multi-layer recurrent layers: cells unrolled over time, one scope per step."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad.checks import positive_int
from minigrad.nn import Module

from .cells import GRUCell, LSTMCell, RNNCell, check_state_kind


def _check_inputs(layer: str, xs: Any, input_size: int) -> tuple[int, int]:
    shape = np.shape(xs.data if isinstance(xs, mg.Tensor) else xs)
    if len(shape) != 3 or shape[2] != input_size:
        raise ValueError(f"{layer}: xs must have shape (T, B, {input_size}) (input_size="
                         f"{input_size}), got {shape}")
    if shape[0] == 0:
        raise ValueError(f"{layer}: xs has no time steps (shape {shape}); a sequence needs "
                         f"T >= 1 steps")
    return shape[0], shape[1]


def _check_state(layer: str, state: Any, num_layers: int, batch: int, hidden: int) -> None:
    if state.shape != (num_layers, batch, hidden):
        raise ValueError(f"{layer}: the state must have shape (num_layers, B, hidden_size) = "
                         f"({num_layers}, {batch}, {hidden}), got {state.shape}")


def _layer_state(state: Any, k: int, name: str) -> Any:
    """Layer ``k``'s slice of an initial state ``(num_layers, B, hidden)``, named as the
    cell's equations call it (``h0``), so pictures show that rather than the slicing op."""
    part = state[k]
    return part.named(name) if isinstance(part, mg.Tensor) else part


def step_input(xs: Any, t: int, dtype: np.dtype) -> mg.Tensor:
    """``xs[t]`` as a tensor named "x": a slice of ``xs`` when it is a Tensor (so its
    gradient flows back), else a new leaf in the parameters' dtype."""
    if isinstance(xs, mg.Tensor):
        return xs[t].named("x")
    return mg.tensor(xs[t], dtype=dtype, name="x")


class _Recurrent(Module):
    """Shared by RNN, GRU and LSTM: the stack of cells and the loop over time."""

    def __init__(self, cells: list, name: str) -> None:
        self.cells = cells
        if len(cells) > 1:
            for k, cell in enumerate(cells):
                cell.scope_name = f"{name}{k}"
        self.input_size = cells[0].input_size
        self.hidden_size = cells[0].hidden_size
        self.num_layers = len(cells)

    def forward(self, xs: Any, state: Any = None) -> tuple[mg.Tensor, Any]:
        """``xs: (T, B, p) -> ys: (T, B, q)`` and the final state (see the subclass)."""
        hs, final = self.unroll(xs, state)
        return mg.stack(hs, axis=0), final

    def unroll(self, xs: Any, state: Any = None) -> tuple[list[mg.Tensor], Any]:
        """Like ``forward`` but returns the top layer's outputs as a list of T tensors
        ``(B, q)``, so each step's hidden state can be inspected (gradient flow). This is
        the loop of the cells whose state is one tensor (RNN, GRU); the LSTM has its own."""
        who = type(self).__name__
        T, batch = _check_inputs(who, xs, self.input_size)
        check_state_kind(who, state, pair=False)
        if state is None:
            hs = [cell.zeros(batch) for cell in self.cells]
        else:
            _check_state(who, state, self.num_layers, batch, self.hidden_size)
            hs = [_layer_state(state, k, "h0") for k in range(self.num_layers)]
        outputs = []
        for t in range(T):
            with mg.scope(f"t={t}"):
                inp = step_input(xs, t, self.cells[0].dtype)
                for k, cell in enumerate(self.cells):
                    hs[k] = inp = cell(inp, hs[k])
            outputs.append(inp)
        return outputs, mg.stack(hs, axis=0)


class RNN(_Recurrent):
    """A stack of ``num_layers`` :class:`RNNCell`; layer k feeds layer k+1.

    ``ys, h_n = rnn(xs, h_0)`` with ``xs: (T, B, p)``, ``ys: (T, B, q)`` and
    ``h_0, h_n: (num_layers, B, q)`` (``h_0=None`` means zeros). Step t runs inside
    ``mg.scope(f"t={t}")``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", dtype: Any = None,
                 rng: np.random.Generator | None = None, bias: bool = True) -> None:
        num_layers = positive_int(type(self).__name__, "num_layers", num_layers)
        rng = np.random.default_rng() if rng is None else rng
        super().__init__([RNNCell(input_size if k == 0 else hidden_size, hidden_size,
                                  nonlinearity, bias, dtype, rng)
                          for k in range(num_layers)], "rnn")

class GRU(_Recurrent):
    """A stack of ``num_layers`` :class:`GRUCell`; layer k's ``h`` feeds layer k+1.

    ``ys, h_n = gru(xs, h_0)`` with ``xs: (T, B, p)``, ``ys: (T, B, q)`` and
    ``h_0, h_n: (num_layers, B, q)`` (``h_0=None`` means zeros). Step t runs inside
    ``mg.scope(f"t={t}")``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 dtype: Any = None, rng: np.random.Generator | None = None,
                 bias: bool = True) -> None:
        num_layers = positive_int("GRU", "num_layers", num_layers)
        rng = np.random.default_rng() if rng is None else rng
        super().__init__([GRUCell(input_size if k == 0 else hidden_size, hidden_size, bias,
                                  dtype, rng) for k in range(num_layers)], "gru")


class LSTM(_Recurrent):
    """A stack of ``num_layers`` :class:`LSTMCell`; layer k's ``h`` feeds layer k+1.

    ``ys, (h_n, c_n) = lstm(xs, (h_0, c_0))`` with ``xs: (T, B, p)``, ``ys: (T, B, q)``
    and every state ``(num_layers, B, q)`` (``None`` means zeros). Step t runs inside
    ``mg.scope(f"t={t}")``. ``forget_gate`` and ``forget_bias`` as for :class:`LSTMCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 forget_gate: bool = True, dtype: Any = None,
                 rng: np.random.Generator | None = None, bias: bool = True,
                 forget_bias: float | None = 1.0) -> None:
        num_layers = positive_int("LSTM", "num_layers", num_layers)
        rng = np.random.default_rng() if rng is None else rng
        super().__init__([LSTMCell(input_size if k == 0 else hidden_size, hidden_size,
                                   forget_gate, bias, dtype, rng, forget_bias)
                          for k in range(num_layers)], "lstm")
        self.forget_gate = forget_gate

    def unroll(self, xs: Any, state: Any = None) -> tuple[list[mg.Tensor], tuple]:
        T, batch = _check_inputs("LSTM", xs, self.input_size)
        if state is None:
            states = [cell.zero_state(batch) for cell in self.cells]
        else:
            check_state_kind("LSTM", state, pair=True)
            h0, c0 = state
            _check_state("LSTM", h0, self.num_layers, batch, self.hidden_size)
            _check_state("LSTM", c0, self.num_layers, batch, self.hidden_size)
            states = [(_layer_state(h0, k, "h0"), _layer_state(c0, k, "c0"))
                      for k in range(self.num_layers)]
        outputs = []
        for t in range(T):
            with mg.scope(f"t={t}"):
                inp = step_input(xs, t, self.cells[0].dtype)
                for k, cell in enumerate(self.cells):
                    states[k] = cell(inp, states[k])
                    inp = states[k][0]
            outputs.append(inp)
        h_n = mg.stack([h for h, _ in states], axis=0)
        c_n = mg.stack([c for _, c in states], axis=0)
        return outputs, (h_n, c_n)
