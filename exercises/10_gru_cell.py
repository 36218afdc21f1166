"""Task 10: the GRU cell from primitives, in PyTorch's layout.

The GRU (Cho et al., 2014) has no separate cell state. Its update gate z mixes the old
state and a candidate n: ``h' = (1 - z) * n + z * h``, so ``z`` near 1 keeps the memory,
as the LSTM's forget gate does. Its reset gate r scales only the hidden part of the
candidate, which is why the GRU keeps the input's and the state's weights apart:
``W_x (p, 3q)``, ``W_h (q, 3q)``, ``b_x, b_h (1, 3q)``, each in three blocks r, z, n:

    r = sigmoid(x W_xr + b_xr + h W_hr + b_hr)      z likewise
    n = tanh(x W_xn + b_xn + r * (h W_hn + b_hn))    h' = (1 - z) * n + z * h

Check: ``python -m exercises check 10``
"""

import minigrad as mg


def gru_cell(x, h, W_x, W_h, b_x, b_h):
    """One step: ``x (B, p)``, ``h (B, q)`` and the weights above, all Tensors, to
    ``h' (B, q)``.

    Hint: the reset gate multiplies ``h W_hn + b_hn``, the hidden part, bias included.
    """
    raise NotImplementedError  # your code here
