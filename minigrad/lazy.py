"""Gradients the backward sweep keeps unevaluated until it must.

Two VJP results are cheaper to accumulate than to compute:

- :class:`Scattered`, the gradient of ``x[index]``: ``g`` at ``index`` in zeros. Added
  straight into the slice of the accumulated gradient, it is never padded with zeros
  (an LSTM's four gate slices write into one buffer).
- :class:`Product`, the gradient of a 2-D matmul: a sum of ``a @ b``. A consumer that
  only selects columns (``concat``'s VJP) computes only those columns: an LSTM never
  computes the gradient of its input ``x`` when ``x`` needs none.

Only the plain backward pass (arrays) produces them; ``create_graph`` works on Tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only (no integer or boolean arrays)."""
    for i in index if type(index) is tuple else (index,):
        if not (type(i) is slice or isinstance(i, (int, np.integer)) or i is None
                or i is Ellipsis):
            return False
    return True


class Scattered:
    """``values`` placed at ``index`` in an array of zeros of ``shape``."""

    __slots__ = ("index", "values", "shape", "dtype", "basic")

    def __init__(self, index: Any, values: np.ndarray, shape: tuple[int, ...]) -> None:
        self.index, self.values, self.shape = index, values, shape
        self.dtype = values.dtype
        self.basic = is_basic_index(index)

    def add_to(self, out: np.ndarray) -> np.ndarray:
        """``out[index] += values`` (repeated integer indices each add), in place."""
        if self.basic:
            out[self.index] += self.values
        else:
            np.add.at(out, self.index, self.values)
        return out

    def dense(self, dtype: np.dtype) -> np.ndarray:
        """A new array holding the value."""
        return self.add_to(np.zeros(self.shape, dtype))


class Product:
    """``a @ b`` for 2-D ``a: (m, k)``, ``b: (k, n)``, not yet multiplied."""

    __slots__ = ("a", "b", "shape", "dtype")

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b
        self.shape = (a.shape[0], b.shape[1])
        self.dtype = np.result_type(a, b)

    @property
    def ndim(self) -> int:
        return 2

    def __getitem__(self, index: Any) -> Any:
        """Slices of rows and columns stay a product (``(a @ b)[r, c] = a[r] @ b[:, c]``);
        any other index evaluates the product first."""
        items = index if isinstance(index, tuple) else (index,)
        if len(items) <= 2 and all(isinstance(i, slice) for i in items):
            rows, columns = (*items, slice(None))[:2]
            return Product(self.a[rows], self.b[:, columns])
        return (self.a @ self.b)[index]

    def add_to(self, out: np.ndarray) -> np.ndarray:
        out += self.a @ self.b
        return out

    def dense(self, dtype: np.dtype) -> np.ndarray:
        out = self.a @ self.b
        return out if out.dtype == dtype else out.astype(dtype)


LAZY = (Scattered, Product)
