"""The one way minigrad reports the size of an array: its L2 norm computed in float64.

A float32 gradient of 6e-26 has every entry nonzero, but ``np.linalg.norm`` in float32
squares them to below float32's smallest number and reports 0.0. Every norm shown to a
reader (gradient-flow tables, pictures, the explorer, clipping) goes through :func:`l2`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def l2(array: Any) -> float:
    """The L2 norm of ``array`` (a NumPy array, a Tensor's data, or a lazy gradient made
    dense), computed in float64.

    Example::

        >>> l2(np.full(4, 3e-26, dtype=np.float32)) > 0
        True
    """
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64).ravel()))
