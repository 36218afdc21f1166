"""A recurrent layer with a linear readout of its last hidden state."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad.nn import Linear, Module

from .layers import GRU, LSTM, RNN

#: The cells the command line and the demo compare.
CELLS = ("rnn", "lstm", "lstm-no-forget", "gru")


def make_recurrent(cell: str, input_size: int, hidden_size: int, dtype: Any = None,
                   rng: np.random.Generator | None = None, num_layers: int = 1,
                   forget_bias: float | None = 1.0) -> RNN | LSTM | GRU:
    """``"rnn"``: tanh RNN; ``"lstm"``: LSTM with forget gate; ``"lstm-no-forget"``: the
    1997 LSTM; ``"gru"``: the GRU (``forget_bias`` applies to the LSTM only)."""
    if cell == "rnn":
        return RNN(input_size, hidden_size, num_layers, dtype=dtype, rng=rng)
    if cell == "gru":
        return GRU(input_size, hidden_size, num_layers, dtype=dtype, rng=rng)
    if cell in ("lstm", "lstm-no-forget"):
        return LSTM(input_size, hidden_size, num_layers, forget_gate=cell == "lstm",
                    dtype=dtype, rng=rng, forget_bias=forget_bias)
    raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")


class SequenceModel(Module):
    """``xs: (T, B, p) -> (B, output_size)``: a recurrent layer read out at the last step."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int,
                 dtype: Any = None, rng: np.random.Generator | None = None,
                 forget_bias: float | None = 1.0) -> None:
        rng = np.random.default_rng() if rng is None else rng
        self.cell = cell
        self.recurrent = make_recurrent(cell, input_size, hidden_size, dtype, rng,
                                        forget_bias=forget_bias)
        with mg.scope("readout"):  # its W and b are drawn apart from the recurrent ones
            self.readout = Linear(hidden_size, output_size, dtype=dtype, rng=rng)

    def forward(self, xs: Any, state: Any = None) -> mg.Tensor:
        """``xs: (T, B, p) -> (B, output_size)``, from ``state`` (None: zeros)."""
        hs, _ = self.recurrent.unroll(xs, state)
        with mg.scope("readout"):
            return self.readout(hs[-1])
