"""Task 09: the forget gate's bias, and how long the LSTM remembers.

At initialisation the forget gate is ``f = sigmoid(b_f + ...)``. Its bias sets how much
of the cell state, and of the gradient through it, survives each step: ``f^lag`` of it
after ``lag`` steps. A bias of 0 gives f near 0.5 and a memory of a few steps; a larger
bias keeps the gate open. Search for the smallest bias that keeps the gradient alive.

Check: ``python -m exercises check 09``
"""

import numpy as np

from lstm import LSTM
from lstm.analysis import gradient_flow


def gradient_at_lag(bias, lag, hidden_size, seed):
    """How much of the gradient survives ``lag`` steps back in an LSTM at
    initialisation: ``norms[0] / norms[lag]``, where ``norms = gradient_flow(layer, xs)``
    (``lstm.analysis.gradient_flow``: ``||dL/dh_t||`` with the loss on the last step),
    ``layer = LSTM(1, hidden_size, forget_bias=bias, rng=np.random.default_rng(seed))``
    and ``xs`` of shape ``(lag + 1, 1, 1)`` drawn by
    ``np.random.default_rng(seed + 1).normal(size=(lag + 1, 1, 1))``."""
    layer = LSTM(1, hidden_size, forget_bias=bias, rng=np.random.default_rng(seed))
    xs = np.random.default_rng(seed + 1).normal(size=(lag + 1, 1, 1))
    norms = gradient_flow(layer, xs)
    return float(norms[0] / norms[lag])


def smallest_bias(biases, lag, threshold, hidden_size, seed):
    """The smallest of ``biases`` (in any order) for which ``gradient_at_lag`` stays
    above ``threshold``; None if none does. Measure, do not guess: the answer changes
    with the lag, the threshold and the seed.

    Hint: try the biases from the smallest up, and stop at the first that passes.
    """
    for bias in sorted(biases):
        if gradient_at_lag(bias, lag, hidden_size, seed) > threshold:
            return bias
    return None
