"""The merge pass (``fuse={"merge"}``): one elementwise op on a block where the traced
graph applies it to adjacent slices of that block, in the forward and, since it rewrites
the graph the backward is swept over, in the VJPs.

An LSTM step takes the sigmoid of ``Z[:, 0:q]`` (the input gate) and of ``Z[:, q:2q]``
(the forget gate): two calls, each of several NumPy passes over ``q`` columns, and two
VJPs. Merged, it is ``s = sigmoid(Z[:, 0:2q])``, with ``i = s[:, 0:q]`` and ``f =
s[:, q:2q]`` views: one call forward and, once the join pass has joined ``di`` and
``df`` into ``ds``, one VJP. Nothing here knows what a gate is. The pattern: the same
unary elementwise primitive (:data:`ELEMENTWISE`) on views of one array that slice the
same axis with step 1, keep the other axes whole and leave no gap between them. A gap,
another op or another dtype ends a run; runs of one, and blocks larger than
:data:`MERGED_BYTES`, are left as they are. The views the merged ops read are dropped
when nothing else reads them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..ops import _exp_p, _getitem, _log, _neg, _relu, _sigmoid, _tanh
from ..primitive import Primitive
from . import text as plan_text
from .projection import Graph

#: The largest block merged. The backward joins the slices' gradients into the block's
#: (one copy of it) before the one VJP: on small blocks the calls saved pay for the copy
#: (an LSTM step at B=1, q=32: 2.9 -> 2.8 ms), on large ones the copy costs more than the
#: calls (at B=64, q=512, a 256 KiB block: 185 -> 196 ms).
MERGED_BYTES = 64 << 10
#: The unary primitives that act on each element alone and take no parameters: on a
#: block they give the blocks of their results on its slices.
ELEMENTWISE = frozenset({_sigmoid, _tanh, _exp_p, _log, _neg, _relu})


class _Run(NamedTuple):
    """Ops to merge: ``prim`` on views of ``source`` along ``axis``, ``(op index, start,
    stop)`` each, by start."""

    prim: Primitive
    source: int
    axis: int
    ops: list[tuple[int, int, int]]


def merge_pass(graph: Graph) -> list[tuple]:
    """The graph's ops with each run of one elementwise op on adjacent slices of one
    array made one op on their block, its results views of the merged result."""
    runs = _runs(graph)
    if not runs:
        return graph.ops
    first_of = {min(k for k, _, _ in run.ops): run for run in runs}
    merged = {k for run in runs for k, _, _ in run.ops}
    out_ops: list[tuple] = []
    for k, op in enumerate(graph.ops):
        if k in first_of:
            out_ops += _merged_ops(graph, first_of[k])
        elif k not in merged:
            out_ops.append(op)
    return _without_unread_views(out_ops, graph.outputs)


def _runs(graph: Graph) -> list[_Run]:
    """The runs to merge."""
    ops, values = graph.ops, graph.values
    views = {out: (inputs[0], params["index"]) for prim, inputs, params, out in ops
             if prim is _getitem}
    found: dict[tuple, list[tuple[int, int, int]]] = {}
    for k, (prim, inputs, params, out) in enumerate(ops):
        if prim not in ELEMENTWISE or params or inputs[0] not in views:
            continue
        source, index = views[inputs[0]]
        span = _span(index, values[source].shape)
        if span is not None and values[out].dtype == values[source].dtype:
            axis, start, stop = span
            found.setdefault((prim, source, axis), []).append((k, start, stop))
    runs = []
    for (prim, source, axis), candidates in found.items():
        candidates.sort(key=lambda c: c[1])
        run = [candidates[0]]
        for candidate in [*candidates[1:], None]:
            if candidate is not None and candidate[1] == run[-1][2]:
                run.append(candidate)
                continue
            if len(run) > 1 and _bytes(values[source], axis, run) <= MERGED_BYTES:
                runs.append(_Run(prim, source, axis, run))
            run = [candidate]
    return runs


def _bytes(value: Any, axis: int, run: list[tuple[int, int, int]]) -> int:
    """The size of the block a run covers."""
    width = run[-1][2] - run[0][1]
    return value.nbytes // value.shape[axis] * width


def _span(index: Any, shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """``(axis, start, stop)`` if ``index`` is slices that keep every axis whole but one,
    which it takes with step 1 and not whole; else None."""
    index = index if type(index) is tuple else (index,)
    if len(index) > len(shape) or not all(type(i) is slice for i in index):
        return None
    cut = None
    for axis, (item, size) in enumerate(zip(index, shape)):
        start, stop, step = item.indices(size)
        if (start, stop, step) == (0, size, 1):
            continue
        if cut is not None or step != 1 or start >= stop:
            return None
        cut = (axis, start, stop)
    return cut


def _merged_ops(graph: Graph, run: _Run) -> list[tuple]:
    """The block's view, the op on it, and each merged op's result as a view of it."""
    values, labels = graph.values, graph.labels
    start, stop = run.ops[0][1], run.ops[-1][2]

    def cut(lo: int, hi: int) -> tuple:
        return (slice(None),) * run.axis + (slice(lo, hi),)

    shape = list(values[run.source].shape)
    shape[run.axis] = stop - start
    dtype, grad = values[run.source].dtype, graph.needs_grad[run.source]
    block = graph.new_value(tuple(shape), dtype, plan_text.label(
        None, "getitem", None, [labels[run.source]], {"index": cut(start, stop)}), grad)
    outs = [graph.ops[k][3] for k, _, _ in run.ops]
    result = graph.new_value(tuple(shape), dtype,
                             "[" + " ".join(labels[out] for out in outs) + "]", grad)
    return [(_getitem, (run.source,), {"index": cut(start, stop)}, block),
            (run.prim, (block,), {}, result),
            *[(_getitem, (result,), {"index": cut(lo - start, hi - start)}, out)
              for (_, lo, hi), out in zip(run.ops, outs)]]


def _without_unread_views(ops: list[tuple], outputs: frozenset[int]) -> list[tuple]:
    """``ops`` without the views nothing reads (the slices the merged ops read)."""
    read = {i for _, inputs, _, _ in ops for i in inputs} | outputs
    return [op for op in ops if op[0] is not _getitem or op[3] in read]
