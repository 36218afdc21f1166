"""Recurrent cells written only with public minigrad operations: the tanh RNN, the LSTM
(with and without forget gate) and the GRU.

The seed's convention: inputs ``x: (B, p)``, hidden state ``h: (B, q)``, the cell
concatenates them, ``X = concat([x, h]) : (B, p+q)``, and computes ``Z = X @ W + b``
with ``W: (p+q, m)`` and ``b: (1, m)``; ``m`` is ``q`` for the RNN and ``4q`` (or ``3q``)
for the LSTM. Every intermediate gets a name so the pictures can label it.

Initialisation (both cells): every entry of ``W`` and ``b`` uniform in ``±1/sqrt(q)``,
as PyTorch initialises ``nn.RNNCell`` and ``nn.LSTMCell``; the LSTM's forget-gate
block of ``b`` is then set to ``forget_bias`` (default 1.0) so that the cell starts by
remembering; pass ``forget_bias=None`` to keep PyTorch's init exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad.checks import positive_int
from minigrad.nn import Module, Parameter
from minigrad.nn.linear import uniform_init

State = tuple[mg.Tensor, mg.Tensor]


def check_state_kind(who: str, state: Any, pair: bool) -> None:
    """An LSTM's state is a pair ``(h, c)``; an RNN's (and a GRU's) is one tensor ``h``.
    TypeError, saying which was expected, for the other kind."""
    is_pair = isinstance(state, (tuple, list))
    if pair and not (is_pair and len(state) == 2):
        got = (f"a {type(state).__name__} of {len(state)}" if is_pair
               else f"a single {type(state).__name__}")
        raise TypeError(f"{who}: the state must be a pair (h, c) or None, got {got}")
    if not pair and is_pair:
        raise TypeError(f"{who}: the state must be one tensor h or None, got a "
                        f"{type(state).__name__} of {len(state)} (an LSTM's (h, c)?)")


def _check_sizes(cell: str, x: Any, states: tuple, input_size: int,
                 hidden_size: int) -> None:
    """``x: (B, input_size)`` and each state ``(B, hidden_size)``, else a ValueError
    naming what is wrong."""
    x_shape = x.shape if isinstance(x, mg.Tensor) else np.shape(x)
    if len(x_shape) != 2 or x_shape[1] != input_size:
        raise ValueError(f"{cell}: x must have shape (B, {input_size}) (input_size="
                         f"{input_size}), got {x_shape}")
    for what, state in zip("hc", states):
        if state.shape != (x_shape[0], hidden_size):
            raise ValueError(f"{cell}: {what} must have shape ({x_shape[0]}, {hidden_size}) "
                             f"(batch {x_shape[0]}, hidden_size={hidden_size}), got "
                             f"{state.shape}")


class _StateCell(Module):
    """What every cell shares: checked sizes, its scope name, zero states."""

    kind = "cell"
    dtype: np.dtype  # the parameters' dtype, a property of each cell

    def _set_sizes(self, input_size: int, hidden_size: int) -> None:
        who = type(self).__name__
        self.input_size = positive_int(who, "input_size", input_size)
        self.hidden_size = positive_int(who, "hidden_size", hidden_size)
        self.scope_name = self.kind

    def _batch_of(self, x: Any) -> int:
        """B of an input ``x: (B, input_size)``, checked before any state is made from it."""
        who = type(self).__name__
        if not isinstance(x, (mg.Tensor, np.ndarray, list, tuple)):
            raise TypeError(f"{who}: x must be a Tensor or an array of shape (B, "
                            f"{self.input_size}), got {type(x).__name__} {x!r:.40}")
        _check_sizes(who, x, (), self.input_size, self.hidden_size)
        return np.shape(x)[0]

    def zeros(self, batch: int, name: str = "h0") -> mg.Tensor:
        """A zero state ``(batch, hidden_size)`` in the parameters' dtype."""
        return mg.tensor(np.zeros((batch, self.hidden_size), self.dtype), name=name)


class _Cell(_StateCell):
    """The RNN's and LSTM's: ``W: (p+q, m)``, ``b: (1, m)``, ``Z = concat([x, h]) @ W + b``."""

    def __init__(self, input_size: int, hidden_size: int, gates: int, bias: bool,
                 dtype: Any, rng: np.random.Generator | None) -> None:
        self._set_sizes(input_size, hidden_size)
        bound = 1.0 / np.sqrt(self.hidden_size)
        m = gates * self.hidden_size
        self.W = Parameter(uniform_init((self.input_size + self.hidden_size, m), bound, dtype,
                                        rng), name="W")
        self.b = Parameter(uniform_init((1, m), bound, dtype, rng), name="b") if bias else None

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    def _preactivation(self, x: Any, h: mg.Tensor) -> mg.Tensor:
        """``Z = concat([x, h]) @ W + b``: ``(B, p) , (B, q) -> (B, m)``."""
        X = mg.concat([x, h], axis=-1).named("X")
        Z = X @ self.W
        return (Z + self.b if self.b is not None else Z).named("Z")


class RNNCell(_Cell):
    """``h_new = tanh(concat([x, h]) @ W + b)``; ``W: (p+q, q)``, ``b: (1, q)``.

    Args:
        input_size: p, the size of ``x``.
        hidden_size: q, the size of ``h``.
        nonlinearity: "tanh" or "relu".
        bias: whether to add ``b``, as for :class:`minigrad.nn.Linear`.
        dtype: the parameters' dtype (float64 by default).
        rng: a ``numpy.random.Generator`` for reproducible initialisation.

    Example::

        cell = RNNCell(2, 8)
        h = cell(x, None)        # x: (B, 2) -> h: (B, 8), from a zero state
    """

    kind = "rnn"

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, 1, bias, dtype, rng)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, h: mg.Tensor | None = None) -> mg.Tensor:
        """``x: (B, p)``, ``h: (B, q)`` or None for zeros ``-> h_new: (B, q)``."""
        check_state_kind("RNNCell", h, pair=False)
        h = self.zeros(self._batch_of(x)) if h is None else h
        _check_sizes("RNNCell", x, (h,), self.input_size, self.hidden_size)
        with mg.scope(self.scope_name):
            Z = self._preactivation(x, h)
            act = mg.tanh(Z) if self.nonlinearity == "tanh" else mg.relu(Z)
            return act.named("h")


class LSTMCell(_Cell):
    """The LSTM cell, with (Gers et al., 2000) or without (Hochreiter & Schmidhuber,
    1997) a forget gate.

    ``Z = concat([x, h]) @ W + b`` is split into gate blocks ``[i, f, g, o]`` (PyTorch's
    order) or ``[i, g, o]`` without forget gate; then ``i, f, o = sigmoid(.)``,
    ``g = tanh(.)``, ``c_new = f * c + i * g`` (``c + i * g`` without forget gate) and
    ``h_new = o * tanh(c_new)``.

    Args:
        input_size: p, the size of ``x``.
        hidden_size: q, the size of ``h``.
        forget_gate: True for ``W: (p+q, 4q)``, False for ``W: (p+q, 3q)``.
        forget_bias: initial value of the forget gate's bias block (None: keep the
            uniform init). 1.0 by default: a cell that starts out remembering learns
            long lags much more easily.
        bias: whether to add ``b``, as for :class:`minigrad.nn.Linear`.
        dtype: the parameters' dtype (float64 by default).
        rng: a ``numpy.random.Generator`` for reproducible initialisation.

    Example::

        cell = LSTMCell(2, 8)
        h, c = cell(x, None)     # x: (B, 2) -> h, c: (B, 8)
    """

    kind = "lstm"

    def __init__(self, input_size: int, hidden_size: int, forget_gate: bool = True,
                 bias: bool = True, dtype: Any = None, rng: np.random.Generator | None = None,
                 forget_bias: float | None = 1.0) -> None:
        super().__init__(input_size, hidden_size, 4 if forget_gate else 3, bias, dtype, rng)
        self.forget_gate = forget_gate
        if forget_gate and bias and forget_bias is not None:
            self.b.data[:, hidden_size:2 * hidden_size] = forget_bias

    def zero_state(self, batch: int) -> State:
        """``(h, c)`` of zeros, each ``(batch, hidden_size)``."""
        return self.zeros(batch, "h0"), self.zeros(batch, "c0")

    def forward(self, x: Any, state: State | None = None) -> State:
        """``x: (B, p)``, ``state = (h, c)`` each ``(B, q)`` or None for zeros
        ``-> (h_new, c_new)``, each ``(B, q)``."""
        if state is not None:
            check_state_kind("LSTMCell", state, pair=True)
        h, c = self.zero_state(self._batch_of(x)) if state is None else state
        _check_sizes("LSTMCell", x, (h, c), self.input_size, self.hidden_size)
        with mg.scope(self.scope_name):
            Z = self._preactivation(x, h)
            if self.forget_gate:
                zi, zf, zg, zo = mg.split(Z, 4, axis=-1)
                f = mg.sigmoid(zf).named("f")
            else:
                zi, zg, zo = mg.split(Z, 3, axis=-1)
            i = mg.sigmoid(zi).named("i")
            g = mg.tanh(zg).named("g")
            o = mg.sigmoid(zo).named("o")
            c_new = (f * c + i * g if self.forget_gate else c + i * g).named("c")
            h_new = (o * mg.tanh(c_new)).named("h")
        return h_new, c_new


class GRUCell(_StateCell):
    """The gated recurrent unit (Cho et al., 2014), in PyTorch's layout, blocks ``[r, z, n]``:

    ``r = sigmoid(x W_xr + b_xr + h W_hr + b_hr)``, ``z`` likewise,
    ``n = tanh(x W_xn + b_xn + r * (h W_hn + b_hn))``, ``h_new = (1 - z) * n + z * h``.

    The reset gate ``r`` scales only the hidden part of the candidate ``n``, so the GRU
    cannot use one ``concat([x, h]) @ W``: it keeps ``W_x: (p, 3q)``, ``W_h: (q, 3q)``,
    ``b_x, b_h: (1, 3q)``. With PyTorch's weights, ``W_x = weight_ih.T``,
    ``W_h = weight_hh.T``, ``b_x = bias_ih``, ``b_h = bias_hh``. Initialisation: every entry
    uniform in ``±1/sqrt(q)``, as ``torch.nn.GRUCell``.

    Args:
        input_size: p, the size of ``x``.
        hidden_size: q, the size of ``h``.
        bias: whether to add ``b``, as for :class:`minigrad.nn.Linear`.
        dtype: the parameters' dtype (float64 by default).
        rng: a ``numpy.random.Generator`` for reproducible initialisation.

    Example::

        cell = GRUCell(2, 8)
        h = cell(x, None)        # x: (B, 2) -> h: (B, 8), from a zero state
    """

    kind = "gru"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None,
                 rng: np.random.Generator | None = None) -> None:
        self._set_sizes(input_size, hidden_size)
        p, q = self.input_size, self.hidden_size
        bound, m = 1.0 / np.sqrt(q), 3 * q
        self.W_x = Parameter(uniform_init((p, m), bound, dtype, rng), name="W_x")
        self.W_h = Parameter(uniform_init((q, m), bound, dtype, rng), name="W_h")
        self.b_x = Parameter(uniform_init((1, m), bound, dtype, rng), name="b_x") if bias else None
        self.b_h = Parameter(uniform_init((1, m), bound, dtype, rng), name="b_h") if bias else None

    @property
    def dtype(self) -> np.dtype:
        return self.W_x.dtype

    def forward(self, x: Any, h: mg.Tensor | None = None) -> mg.Tensor:
        """``x: (B, p)``, ``h: (B, q)`` or None for zeros ``-> h_new: (B, q)``."""
        check_state_kind("GRUCell", h, pair=False)
        h = self.zeros(self._batch_of(x)) if h is None else h
        _check_sizes("GRUCell", x, (h,), self.input_size, self.hidden_size)
        with mg.scope(self.scope_name):
            gx = mg.matmul(x, self.W_x)
            gh = mg.matmul(h, self.W_h)
            if self.b_x is not None:
                gx, gh = gx + self.b_x, gh + self.b_h
            xr, xz, xn = mg.split(gx.named("Gx"), 3, axis=-1)
            hr, hz, hn = mg.split(gh.named("Gh"), 3, axis=-1)
            r = mg.sigmoid(xr + hr).named("r")
            z = mg.sigmoid(xz + hz).named("z")
            n = mg.tanh(xn + r * hn).named("n")
            return ((1.0 - z) * n + z * h).named("h")
