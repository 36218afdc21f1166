"""The least a Python autograd must do per op: W1 on a bare tape of array ops.

Only ``x * a``, ``x + b``, ``tanh`` and ``sum`` of arrays, for one input. No dtype,
shape or broadcasting checks, no constants, no graph pictures, no error messages: what
remains is one object per op recording its inputs and what its VJP needs, and a sweep
newest-first. Its time per op is a floor for any engine that records a graph per
operation in Python (minigrad included), measured beside the hand-written NumPy.
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count

import numpy as np

_next = count().__next__


class Var:
    __slots__ = ("data", "parent", "vjp", "saved", "seq")

    def __init__(self, data, parent=None, vjp=None, saved=None):
        self.data, self.parent, self.vjp, self.saved = data, parent, vjp, saved
        self.seq = _next()

    def __mul__(self, a: np.ndarray) -> Var:
        return Var(self.data * a, self, np.multiply, a)

    def __add__(self, b: np.ndarray) -> Var:
        return Var(self.data + b, self, None, None)

    def tanh(self) -> Var:
        y = np.tanh(self.data)
        return Var(y, self, _tanh_vjp, y)


def _tanh_vjp(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g - g * y * y


def grad_of_sum(root: Var, leaf: Var) -> np.ndarray:
    """d(sum(root))/d(leaf), sweeping the recorded ops newest first."""
    grads = {root: np.ones_like(root.data)}
    pending = [(-root.seq, root)]
    while pending:
        v = heappop(pending)[1]
        g = grads.pop(v)
        if v is leaf:
            return g
        p = v.parent
        g = g if v.vjp is None else v.vjp(g, v.saved)
        if p in grads:
            grads[p] += g
        else:
            grads[p] = g
            heappush(pending, (-p.seq, p))
    raise ValueError("leaf not reached")


def chain_grads(x: np.ndarray, a: np.ndarray, b: np.ndarray, n_ops: int) -> np.ndarray:
    """W1: ``n_ops`` ops cycling ``x*a``, ``x+b``, ``tanh(x)``, then d(sum)/dx."""
    leaf = y = Var(x)
    for k in range(n_ops):
        kind = k % 3
        y = y * a if kind == 0 else (y + b if kind == 1 else y.tanh())
    return grad_of_sum(y, leaf)
