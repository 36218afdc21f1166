"""The products pass (``fuse={"products"}``): the gradient of a 2-D matmul's left operand,
``g @ W.T``, computed in one call where it is needed, and only the columns that are.

The eager sweep keeps that gradient lazy (:class:`~minigrad.lazy.Product`) so that
``concat``'s VJP, which selects a block of its columns, multiplies only that block: an
LSTM's ``X_t = concat([x_t, h])`` never computes ``x_t``'s gradient when ``x_t`` needs
none. A replay of the eager sweep pays for that in calls: the matmul's VJP makes the lazy
product, concat's VJP slices it, and the step of ``h`` makes it dense, three Python calls
and two objects for one GEMM. With the probe's view of the sweep known at plan time, the
plan makes the GEMM of the block itself, ``dh = dZ @ W[p:].T``, at the step of the node
that selects it, and a product that is made dense anyway at once, ``g @ W.T``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .passes import Decisions
    from .plan import Plan, _Group


class Selection:
    """What the probe gives a selecting VJP (``concat``'s) in place of a lazy product, to
    learn the index it takes: ``g[index]`` returns ``index``."""

    __slots__ = ("shape", "ndim")

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape, self.ndim = shape, len(shape)

    def __getitem__(self, index: Any) -> Any:
        return index


def products_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """Which matmul VJPs (for the left operand ``X``, the only gradient ``X`` receives)
    become one GEMM: at the step of ``X``'s node when that node only selects blocks of
    its gradient (``decided.blocks``: ``X -> the VJP``), or at once when ``X``'s gradient
    is made dense anyway (``decided.direct``); ``decided.dense_now`` holds the values
    whose gradient is then an array already, and ``decided.transposed`` the blocks of
    ``W.T`` that several steps multiply by, each copied once, contiguous."""
    received = Counter(target for step in group.sweep for _, target in step[5])
    uses: Counter = Counter()  # (W, columns) -> how many blocks multiply by it
    step_of = {step[0]: index for index, step in enumerate(group.sweep)}
    for index, (_, name, _, _, _, passes, _) in enumerate(group.sweep):
        if name != "matmul":
            continue
        for p, (_, target) in enumerate(passes):
            found = seen[index, p]
            if not (group.positions[index, p] == 0 and found.product and found.exact
                    and received[target] == 1 and target not in group.outputs):
                continue
            at = step_of.get(target)
            if at is None or decided.made_dense[at]:
                decided.direct.add((index, p))
                decided.dense_now.add(target)
                continue
            selecting = group.sweep[at][5]
            taken = [seen[at, k] for k in range(len(selecting))]
            if taken and all(t.selected is not None and t.product and t.exact
                             for t in taken):
                decided.blocks[target] = (index, p)
                decided.dense_now |= {t for _, t in selecting if received[t] == 1}
                for t in taken:
                    uses[group.sweep[index][3][1], _columns(t.selected)] += 1
    decided.transposed = {key for key, count in uses.items()
                          if count > 1 and _block_bytes(plan, *key) <= TRANSPOSED_BYTES}
    return decided


#: The largest block of ``W.T`` copied contiguous. At B=32, q=128 (a 256 KiB block) the
#: copy, 65 us once, saved 8 us a step; at B=64, q=512 (4 MiB) it took 2.2 ms and a
#: fresh 4 MiB array's page faults, and the step measured no faster (182-194 against
#: 182-188 ms).
TRANSPOSED_BYTES = 1 << 20


def _block_bytes(plan: Plan, weight: int, columns: tuple) -> int:
    """The size of ``W[columns]``: rows of ``W`` (the columns of ``W.T``)."""
    w = plan.values[weight % plan.size]
    return len(range(*slice(*columns).indices(w.shape[0]))) * w.nbytes // w.shape[0]


def _rows_and_columns(index: Any) -> tuple[slice, slice]:
    """The rows and columns of the product a selecting VJP's index of at most two slices
    takes."""
    index = index if isinstance(index, tuple) else (index,)
    return (*index, slice(None), slice(None))[:2]


def _columns(index: Any) -> tuple:
    """The columns a block index takes, as a hashable ``(start, stop, step)``."""
    columns = _rows_and_columns(index)[1]
    return columns.start, columns.stop, columns.step


def block_plan(index: Any, weight: int, transposed: set) -> tuple[Any, tuple | None]:
    """The step function for the block ``index`` of ``g @ W.T`` (``weight``: W's entry),
    ``(g[rows], W) -> g[rows] @ W[columns].T``, and where that block of ``W.T`` is used
    at several steps (``transposed``), the key of its contiguous copy, which the function
    then takes in place of ``W``."""
    rows, columns = _rows_and_columns(index)
    key = (weight, _columns(index))
    copied = key in transposed
    if rows == slice(None):
        return (np.matmul if copied else lambda g, w: np.matmul(g, w[columns].T)), (
            key if copied else None)
    if copied:
        return (lambda g, wt: np.matmul(g[rows], wt)), key
    return (lambda g, w: np.matmul(g[rows], w[columns].T)), None


def transposed_block(columns: tuple, w: np.ndarray) -> np.ndarray:
    """``W[columns].T`` as a contiguous array: a GEMM with it runs 15-20% faster than with
    the transposed view (OpenBLAS, 2 cores: 38.6 against 46.7 us at (32, 512) @ (512, 128)),
    so a block used at every step is copied once per backward."""
    return np.ascontiguousarray(w[slice(*columns)].T)


def left_gradient(g: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``g @ w.T``: a matmul's gradient for its left operand."""
    return np.matmul(g, w.T)
