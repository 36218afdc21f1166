"""Gradients the backward sweep keeps unevaluated until it must.

Some VJP results are cheaper to accumulate than to compute:

- :class:`Scattered`, the gradient of ``x[index]``: ``g`` at ``index`` in zeros. Added
  straight into the slice of the accumulated gradient, it is never padded with zeros;
  slices that tile the array (an LSTM's four gate slices of ``Z``) are joined in one
  pass.
- :class:`Product`, the gradient of a 2-D matmul, ``a @ b``. A consumer that only
  selects columns (``concat``'s VJP) computes only those columns: an LSTM never
  computes the gradient of its input ``x`` when ``x`` needs none.
- :class:`ProductSum`, products that add up to one gradient (a weight used at every
  time step), multiplied a chunk of steps at a time as one larger GEMM.

Only the plain backward pass (arrays) produces them; ``create_graph`` works on Tensors.
"""

from __future__ import annotations

import math
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
    """A sum of pieces, each ``values`` placed at ``index`` in an array of zeros of
    ``shape``: the gradient of one or more ``x[index]``."""

    __slots__ = ("pieces", "shape", "dtype", "size")

    def __init__(self, index: Any, values: np.ndarray, shape: tuple[int, ...]) -> None:
        self.pieces = [(index, values, is_basic_index(index))]
        self.shape, self.dtype = shape, values.dtype
        self.size = math.prod(shape)

    def plus(self, other: Scattered) -> Scattered:
        """The sum of both, still unevaluated (an LSTM's four gate slices of ``Z``)."""
        both = Scattered.__new__(Scattered)
        both.pieces = self.pieces + other.pieces
        both.shape, both.size = self.shape, self.size
        both.dtype = (self.dtype if self.dtype == other.dtype
                      else np.result_type(self.dtype, other.dtype))
        return both

    def add_to(self, out: np.ndarray) -> np.ndarray:
        """``out[index] += values`` for each piece (repeated integer indices each add),
        in place."""
        for index, values, basic in self.pieces:
            if basic:
                out[index] += values
            else:
                np.add.at(out, index, values)
        return out

    def dense(self, dtype: np.dtype) -> np.ndarray:
        """A new array holding the value: the pieces joined when they tile the array
        along one axis (one pass), else added into zeros."""
        # checking for tiles costs ~2 us of Python: more than the pass it saves on
        # arrays smaller than this
        tiles = _tiles(self.pieces, self.shape) if self.size >= 4096 else None
        if tiles is None:
            return self.add_to(np.zeros(self.shape, dtype))
        axis, values = tiles
        out = np.concatenate(values, axis=axis)
        return out if out.dtype == dtype else out.astype(dtype)


def _tiles(pieces: list, shape: tuple[int, ...]) -> tuple[int, list] | None:
    """``(axis, values in order)`` if every piece slices the same axis with step 1,
    keeps the axes before it whole, and together they cover that axis exactly once;
    else None."""
    spans = []
    axis = len(pieces[0][0]) - 1 if type(pieces[0][0]) is tuple else 0
    if axis >= len(shape):
        return None
    for k, (index, _, _) in enumerate(pieces):
        if type(index) is not tuple:
            index = (index,)
        cut = index[-1]
        if (len(index) != axis + 1 or type(cut) is not slice
                or index.count(_WHOLE) - (cut == _WHOLE) != axis):
            return None
        start, stop, step = cut.indices(shape[axis])
        if step != 1:
            return None
        spans.append((start, stop, k))
    spans.sort()
    end = 0
    for start, stop, _ in spans:
        if start != end:
            return None
        end = stop
    return (axis, [pieces[k][1] for _, _, k in spans]) if end == shape[axis] else None


_WHOLE = slice(None)


class Product:
    """``a @ b`` for 2-D ``a: (m, k)``, ``b: (k, n)``, not yet multiplied."""

    __slots__ = ("a", "b", "shape", "dtype")

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b
        self.shape = (a.shape[0], b.shape[1])
        self.dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)

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


class ProductSum:
    """A sum of products ``a_t @ b_t`` of one shape: the gradient of a weight that every
    time step multiplies (``X_t.T @ dZ_t``). The pairs are multiplied in chunks, each as
    one GEMM ``[a_1 .. a_K] @ [b_1; ..; b_K]``: fewer, larger GEMMs and no temporary
    product per step to add. A chunk ends when its ``b``s reach ``CHUNK_BYTES``, so the
    pairs it keeps alive stay small."""

    CHUNK_BYTES = 8 << 20
    __slots__ = ("pairs", "pending_bytes", "total", "shape", "dtype")

    def __init__(self, first: Product) -> None:
        self.pairs = [(first.a, first.b)]
        self.pending_bytes = first.b.nbytes
        self.total: np.ndarray | None = None
        self.shape, self.dtype = first.shape, first.dtype

    def plus(self, other: Product) -> ProductSum:
        """Add ``other`` (in place: a ProductSum is only ever a pending gradient)."""
        self.pairs.append((other.a, other.b))
        self.pending_bytes += other.b.nbytes
        if other.dtype != self.dtype:
            self.dtype = np.result_type(self.dtype, other.dtype)
        if self.pending_bytes >= self.CHUNK_BYTES:
            self._multiply_pending()
        return self

    def _multiply_pending(self) -> None:
        if not self.pairs:
            return
        # hstack of the a's, built by stacking their transposes (contiguous for X_t.T)
        a = np.concatenate([a.T for a, _ in self.pairs], axis=0).T
        b = np.concatenate([b for _, b in self.pairs], axis=0)
        if self.total is None:
            self.total = a @ b
        else:
            self.total += a @ b
        self.pairs, self.pending_bytes = [], 0

    def add_to(self, out: np.ndarray) -> np.ndarray:
        self._multiply_pending()
        out += self.total
        return out

    def dense(self, dtype: np.dtype) -> np.ndarray:
        self._multiply_pending()
        return self.total if self.total.dtype == dtype else self.total.astype(dtype)


LAZY = (Scattered, Product, ProductSum)
