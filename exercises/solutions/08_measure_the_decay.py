"""Task 08: measure how the gradient fades with the lag, for the RNN and the LSTM.

Put a loss on the last hidden state of an unrolled layer, ``L = sum(h_T)``, and measure
``||dL/dh_t||`` at every step t. Then fit the factor by which it shrinks per step back:
a straight line through ``log ||dL/dh_t||`` against the lag ``T - 1 - t``, whose slope
is the log of the factor. For an RNN at initialisation it is well below 1; for an LSTM,
whose cell state carries the gradient, much closer to 1.

Check: ``python -m exercises check 08``
"""

import numpy as np

import minigrad as mg
from lstm import LSTM, RNN


def gradient_norms(layer, xs):
    """``||dL/dh_t||`` for t = 0 .. T-1, as a float64 array ``(T,)``, where ``layer`` is an
    ``lstm.RNN`` or ``lstm.LSTM``, ``xs (T, B, p)`` its input and ``L = sum(h_T)``, the sum
    of the last hidden state (over the batch and the units). The norm is over the whole
    ``(B, q)`` gradient.

    Hint: ``hs, _ = layer.unroll(xs)`` gives the list of the T hidden states;
    ``mg.grad(L, hs)`` gives every dL/dh_t at once.
    """
    hs, _ = layer.unroll(xs)
    grads = mg.grad(hs[-1].sum(), hs)
    return np.array([np.sqrt(np.sum(np.square(g.data, dtype=np.float64))) for g in grads])


def decay_per_step(norms):
    """The factor by which ``norms`` (``||dL/dh_t||`` for t = 0 .. T-1, all above 0)
    shrink per step back: ``exp(slope)`` of the least-squares line through
    ``log(norms[T-1-k])`` against the lag k = 0 .. T-1.

    Hint: ``np.polyfit(lags, logs, 1)`` fits a line; its first number is the slope.
    """
    norms = np.asarray(norms, dtype=np.float64)
    lags = np.arange(len(norms))
    slope = np.polyfit(lags, np.log(norms[::-1]), 1)[0]
    return float(np.exp(slope))


def measured_decays(xs, hidden_size, seed):
    """The fitted factor per step of an ``RNN`` and an ``LSTM`` at initialisation, on the
    input ``xs (T, B, p)``: ``{"rnn": factor, "lstm": factor}``. Make each layer with
    ``rng=np.random.default_rng(seed)`` (the LSTM's forget bias as it comes: 1)."""
    p = xs.shape[-1]
    return {name: decay_per_step(gradient_norms(
        kind(p, hidden_size, rng=np.random.default_rng(seed)), xs))
        for name, kind in (("rnn", RNN), ("lstm", LSTM))}
