"""Task 04: the VJPs of concat and split.

``concat([x (B, p), h (B, q)], axis=-1)`` gives ``X (B, p+q)``, the first line of every
cell in this project; ``split(Z (B, 4q), 4)`` cuts an LSTM's four gates apart. Going
back, concat's gradient is cut apart the same way, and split's is glued back together.

Check: ``python -m exercises check 04``
"""

import numpy as np

import minigrad as mg


def concat_forward(*xs, axis):
    """The arrays ``xs`` joined along ``axis`` (they agree on every other axis)."""
    raise NotImplementedError  # your code here


def concat_vjp(k, g, y, *xs, axis):
    """The gradient with respect to ``xs[k]``: the part of ``g`` (shaped like ``y``) where
    ``xs[k]`` sits along ``axis``.

    Hint: ``xs[k]`` starts after the sizes of ``xs[:k]`` along ``axis`` (which may be
    negative: -1 is the last axis); index ``g`` with a slice there and ``:`` elsewhere.
    """
    raise NotImplementedError  # your code here


def split_vjp(gs, x, sections, axis):
    """The gradient with respect to ``x``, where ``np.split(x, sections, axis)`` made the
    pieces and ``gs[i]`` is the gradient of piece i (None for a piece the loss does not
    use: its gradient is zero). ``sections``: a number of equal pieces, or the points to
    cut at, as for ``np.split``.
    """
    raise NotImplementedError  # your code here


# given: concat as a primitive (try concat(a, b, axis=0) on Tensors)
concat = mg.Primitive("concat", concat_forward, vjp_each=concat_vjp)
