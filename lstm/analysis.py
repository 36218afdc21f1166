"""How the gradient of a loss on the last output reaches earlier hidden states."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad.norms import l2

from .layers import LSTM, RNN
from .models import SequenceModel


def gradient_flow(model: SequenceModel | RNN | LSTM, xs: Any, targets: Any = None) -> np.ndarray:
    """``||dL/dh_t||`` (Frobenius norm over the batch) for every step t.

    The loss is on the last output only: the MSE of ``model(xs)`` against ``targets``
    for a :class:`SequenceModel` (the sum of its outputs without targets), or the sum of
    the last hidden state for a bare RNN/LSTM layer. So ``norms[-1]`` is the gradient
    where the loss enters and ``norms[T-1-k]`` what is left of it k steps back.

    Args:
        model: a SequenceModel, RNN or LSTM.
        xs: (T, B, p) inputs.
        targets: (B, output_size), optional.

    Returns:
        norms: (T,) float64.

    Example::

        >>> from lstm import RNN
        >>> norms = gradient_flow(RNN(2, 8), np.ones((20, 4, 2)))   # (T, B, p)
        >>> norms.shape
        (20,)
    """
    recurrent = model.recurrent if isinstance(model, SequenceModel) else model
    hs, _ = recurrent.unroll(xs)
    if isinstance(model, SequenceModel):
        out = model.readout(hs[-1])
        loss = mg.nn.functional.mse_loss(out, targets) if targets is not None else out.sum()
    else:
        loss = hs[-1].sum()
    grads = mg.grad(loss, hs, allow_unused=True)
    return np.array([0.0 if g is None else l2(g.data) for g in grads])


def decay_per_step(norms: np.ndarray, max_lag: int | None = None) -> float:
    """The factor by which ``||dL/dh||`` shrinks per step back in time: ``exp(slope)``
    of a least-squares line through ``log norm`` against the lag, over the lags up to
    ``max_lag`` where the norm has not underflowed to 0.

    Example::

        >>> round(decay_per_step(0.5 ** np.arange(10)[::-1]), 3)
        0.5
    """
    lags = np.arange(len(norms))
    values = np.asarray(norms, dtype=np.float64)[::-1]  # values[k]: k steps back
    usable = values > 1e-300
    if max_lag is not None:
        usable &= lags <= max_lag
    if usable.sum() < 2:
        return float("nan")
    slope = np.polyfit(lags[usable], np.log(values[usable]), 1)[0]
    return float(np.exp(slope))


def relative_norms(norms: np.ndarray, lags: list[int]) -> dict[int, float]:
    """``norms[T-1-lag] / norms[T-1]`` for each lag: what fraction of the gradient
    survives ``lag`` steps back.

    Example::

        >>> relative_norms(np.array([0.01, 0.1, 1.0]), [1, 2])
        {1: 0.1, 2: 0.01}
    """
    final = norms[-1]
    return {lag: float(norms[len(norms) - 1 - lag] / final) for lag in lags if lag < len(norms)}
