"""Task 06: the tanh RNN cell, from minigrad's primitives, in the project's layout.

``h' = tanh([x, h] @ W + b)``: the input and the state side by side, one matrix product,
a bias, a tanh. The LSTM (task 07) is the same first line with four blocks of columns.

Check: ``python -m exercises check 06``
"""

import minigrad as mg


def rnn_cell(x, h, W, b):
    """One step: ``x (B, p)``, ``h (B, q)``, ``W (p+q, q)``, ``b (1, q)``, all Tensors,
    to ``h' (B, q)``, built from ``mg.concat``, ``@``, ``+`` and ``mg.tanh``."""
    return mg.tanh(mg.concat([x, h], axis=-1) @ W + b)


def rnn_unroll(xs, h0, W, b):
    """Every step over ``xs (T, B, p)`` from ``h0 (B, q)``: the list ``[h_1, ..., h_T]``.

    Hint: ``xs[t]`` is step t's input, ``(B, p)``.
    """
    hs, h = [], h0
    for t in range(xs.shape[0]):
        h = rnn_cell(xs[t], h, W, b)
        hs.append(h)
    return hs
