"""Task 07: the LSTM cell from primitives, and the 1997 cell without a forget gate.

The same first line as the RNN, ``Z = [x, h] @ W + b``, now with four blocks of q
columns, one per gate, in the order i, f, g, o:

    i, f, o = sigmoid(Z_i), sigmoid(Z_f), sigmoid(Z_o)    g = tanh(Z_g)
    c' = f * c + i * g                                     h' = o * tanh(c')

The cell state ``c`` is the LSTM's memory: going back one step through it multiplies the
gradient by ``f`` alone (``notebooks/00_bptt_by_hand.ipynb``, part 5). Hochreiter and
Schmidhuber's first LSTM (1997) had no forget gate: three blocks i, g, o and
``c' = c + i * g``, a memory that only adds.

Check: ``python -m exercises check 07``
"""

import minigrad as mg


def lstm_cell(x, h, c, W, b):
    """One step: ``x (B, p)``, ``h (B, q)``, ``c (B, q)``, ``W (p+q, 4q)``, ``b (1, 4q)``,
    all Tensors, to ``(h', c')``, each ``(B, q)``.

    Hint: ``mg.split(Z, 4, axis=-1)`` cuts Z into its four blocks, in the order i, f, g, o.
    """
    Z = mg.concat([x, h], axis=-1) @ W + b
    zi, zf, zg, zo = mg.split(Z, 4, axis=-1)
    i, f, g, o = mg.sigmoid(zi), mg.sigmoid(zf), mg.tanh(zg), mg.sigmoid(zo)
    c_new = f * c + i * g
    return o * mg.tanh(c_new), c_new


def lstm_1997_cell(x, h, c, W, b):
    """The cell without a forget gate: ``W (p+q, 3q)``, ``b (1, 3q)``, blocks i, g, o, and
    ``c' = c + i * g``. Returns ``(h', c')``."""
    zi, zg, zo = mg.split(mg.concat([x, h], axis=-1) @ W + b, 3, axis=-1)
    c_new = c + mg.sigmoid(zi) * mg.tanh(zg)
    return mg.sigmoid(zo) * mg.tanh(c_new), c_new
