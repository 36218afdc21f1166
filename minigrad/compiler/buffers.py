"""The buffers pass (``fuse={"buffers"}``): a plan's large results are written (``out=``)
into arrays it hands out again within a schedule, instead of new ones.

A new array above malloc's mmap threshold is mapped fresh each time and faults in every
page on its first touch: an LSTM step at B=64, q=512 made 15,900 page faults a step,
one 512 KiB pre-activation ``Z_t`` after another. A :class:`Pool` keeps a plan's arrays
by shape and dtype while a schedule runs, so that values whose lifetimes do not overlap
(each step's ``Z_t``, the chunks of the input projections, the weights pass's stacks)
share a few arrays. An array is reused only when nothing but the pool holds it (its
reference count says so): an output, an array the backward still reads, a view of it
anywhere, each makes the pool hand out a new array instead, so nothing is ever
overwritten that someone can still see. The pool lets its arrays go at the end of each
schedule (:meth:`Pool.clear`): kept between calls, they would add to the memory of the
next call's peak, when every saved array is alive.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

import numpy as np

#: Results at least this large are written into pooled arrays: below it, malloc reuses
#: freed memory on its own and a pool would only hold memory between calls.
POOLED_BYTES = 1 << 18
#: At most this many arrays of one shape and dtype are kept while a schedule runs.
KEPT = 2


class Pool:
    """A plan's reusable arrays, by shape and dtype. Replays of one plan in two threads
    share it: an array is looked at and handed out under a lock, so that two threads
    never both find it free."""

    __slots__ = ("arrays", "lock")

    def __init__(self) -> None:
        self.arrays: dict[tuple, list[np.ndarray]] = {}
        self.lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` that no one else holds: a kept one, or a
        new one (kept if fewer than ``KEPT`` are)."""
        with self.lock:
            kept = self.arrays.setdefault((shape, dtype), [])
            for array in kept:
                # the list's reference, this loop's and getrefcount's own: nobody else's
                if sys.getrefcount(array) == 3:
                    return array
            array = np.empty(shape, dtype)
            if len(kept) < KEPT:
                kept.append(array)
            return array

    def clear(self) -> None:
        """Let every array go (those in use stay with their users)."""
        with self.lock:
            self.arrays.clear()


class Into:
    """A step that writes its result into a pooled array: ``Into(pool, write, shape,
    dtype)(*args)`` is ``write(*args, out=pool.take(shape, dtype))``."""

    __slots__ = ("pool", "write", "shape", "dtype")

    def __init__(self, pool: Pool, write: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.pool, self.write, self.shape, self.dtype = pool, write, shape, dtype

    def __call__(self, *args: Any) -> np.ndarray:
        return self.write(*args, out=self.pool.take(self.shape, self.dtype))


def matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.matmul(a, b, out=out)


def concat_into(*arrays: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    return np.concatenate(arrays, axis=axis, out=out)


def matmul_add_into(a: np.ndarray, b: np.ndarray, c: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.matmul(a, b, out=out)
    out += c
    return out


#: The primitives whose forward can write into a given array, by name (``matmul_add``:
#: the input-projection pass's step).
WRITERS = {"matmul": matmul_into, "concat": concat_into, "add": np.add,
           "sub": np.subtract, "mul": np.multiply, "matmul_add": matmul_add_into}


def stacked_gemm(*arrays: np.ndarray) -> np.ndarray:
    """``sum_t X_t^T @ G_t`` as one GEMM: the first half of ``arrays`` are the ``X_t``,
    the second half the ``G_t``, in the same order (the weights pass's step)."""
    half = len(arrays) // 2
    return np.concatenate(arrays[:half]).T @ np.concatenate(arrays[half:])


def stacked_gemm_into(pool: Pool, *arrays: np.ndarray) -> np.ndarray:
    """:func:`stacked_gemm`, its two stacks written into pooled arrays."""
    half = len(arrays) // 2
    xs, gs = arrays[:half], arrays[half:]
    if half == 1:  # one step held (a large one): nothing to stack
        return xs[0].T @ gs[0]
    stacks = []
    for part in (xs, gs):
        rows = sum(a.shape[0] for a in part)
        shape = (rows, part[0].shape[1])
        stacks.append(np.concatenate(part, out=pool.take(shape, part[0].dtype))
                      if part[0].dtype.itemsize * rows * shape[1] >= POOLED_BYTES
                      else np.concatenate(part))
    return stacks[0].T @ stacks[1]


def buffers_pass(plan: Any) -> Pool:
    """The pool a plan's lowering writes its large results into (see the module)."""
    return Pool()


def pooled(pool: Pool | None, name: str, params: dict | None, shape: tuple[int, ...],
           dtype: np.dtype, input_dtypes: list[np.dtype]) -> Into | None:
    """A step writing op ``name``'s result of ``shape`` into ``pool``, if there is a pool,
    the result is large, the op can write into an array and its inputs have the result's
    dtype (so ``out=`` changes no rounding); else None."""
    write = WRITERS.get(name)
    if (pool is None or write is None or not shape
            or np.dtype(dtype).itemsize * int(np.prod(shape)) < POOLED_BYTES
            or any(d != dtype for d in input_dtypes)):
        return None
    return Into(pool, functools.partial(write, **params) if params else write, shape, dtype)
