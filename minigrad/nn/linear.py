"""The affine layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import positive_int
from ..tensor import Tensor
from .module import Module, Parameter


def uniform_init(shape: tuple[int, ...], bound: float, dtype: Any,
                 rng: np.random.Generator | None) -> np.ndarray:
    """Uniform(-bound, bound) samples, as PyTorch initialises Linear and LSTM weights."""
    rng = np.random.default_rng() if rng is None else rng
    return rng.uniform(-bound, bound, size=shape).astype(dtype or np.float64)


class Linear(Module):
    """``y = x @ W + b`` with ``W: (in_features, out_features)``, ``b: (1, out_features)``.

    The same layout as the recurrent cells (inputs times weights, no transpose).
    Initialisation as PyTorch's: both uniform in ``±1/sqrt(in_features)``.

    Args:
        in_features: the size of ``x: (..., in_features)``.
        out_features: the size of ``y: (..., out_features)``.
        bias: whether to add ``b``.
        dtype: parameter dtype (float64 by default).
        rng: a ``numpy.random.Generator`` for reproducible initialisation.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, rng: np.random.Generator | None = None) -> None:
        in_features = positive_int("Linear", "in_features", in_features)
        out_features = positive_int("Linear", "out_features", out_features)
        bound = 1.0 / np.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.W = Parameter(uniform_init((in_features, out_features), bound, dtype, rng),
                           name="W")
        self.b = Parameter(uniform_init((1, out_features), bound, dtype, rng),
                           name="b") if bias else None

    def forward(self, x: Any) -> Tensor:
        """``x: (..., in_features) -> (..., out_features)``."""
        y = x @ self.W if isinstance(x, Tensor) else self.W.__rmatmul__(x)
        return y + self.b if self.b is not None else y
