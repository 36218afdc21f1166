"""The input-projection pass (``fuse={"inputs"}``): a rewrite of how the forward schedule
computes a recurrence's GEMMs, taking the part that does not wait for the recurrence out
of it.

An unrolled cell computes ``Z_t = concat([x_t, h]) @ W`` at every step. ``x_t`` does not
depend on any earlier step; ``h`` does. With ``W`` split by rows into ``W_x`` (the rows
``x_t`` meets) and ``W_h``, ``Z_t = x_t @ W_x + h @ W_h``, and the first term of every
step is one GEMM, ``concat([x_0, ..., x_T-1]) @ W_x``, made before the recurrence needs
it (cuDNN's RNNs and Intel's LSTM cells do the same). The backward stays the traced
graph's: ``W``'s gradient over the steps is already one GEMM over the stacked
``concat([x_t, h])`` (the weights pass), which a split into ``W_x`` and ``W_h`` would make
two smaller ones, measured slower on a 2-core CPU.

Nothing here knows what a cell is. The pattern is: two or more 2-D matmuls with the same
right operand ``W``, whose left operands are concatenations along their last axis with the
same widths, where the parts at the start (or the end) depend on none of those matmuls.
A left operand that is not a concatenation is one part. Whatever does not match is left
as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..ops import _concat, _getitem, _matmul
from ..primitive import Primitive
from . import text as plan_text

#: How much of the projections one GEMM makes: the steps' projections are made in chunks
#: of at most this many bytes (at least two steps each), ahead of the steps that read
#: them, so a long, wide unroll holds no more than this at once beyond what eager holds.
PROJECTED_BYTES = 8 << 20

def matmul_add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a @ b + c`` making one new array (the product, added to in place)."""
    out = np.matmul(a, b)
    out += c
    return out


def _forward_only(k: int, *args: object, **params: object) -> None:
    raise AssertionError("matmul_add is a step of a forward schedule; the backward is the "
                         "traced graph's and never calls its VJP")


#: A step's ``h @ W_h + (its rows of the projections)``.
MATMUL_ADD = Primitive("matmul_add", matmul_add, vjp_each=_forward_only, saves="none")

_STEP = re.compile(r"^(.*)_t(\d+)$")


class Graph(NamedTuple):
    """The traced graph as the plan builds it: ``ops`` (``(primitive, input slots,
    params, output slot)`` in trace order), each slot's shape and dtype (``values``),
    name (``labels``) and whether a gradient flows to it (``needs_grad``), the slots
    the function returns (``outputs``), and ``new_value(shape, dtype, label, grad) ->
    slot``, which adds a slot for a value a new op computes."""

    ops: list[tuple]
    values: list[Any]
    labels: list[str]
    new_value: Callable[[tuple, np.dtype, str, bool], int]
    needs_grad: list[bool]
    outputs: frozenset[int]


def inputs_pass(graph: Graph) -> list[tuple]:
    """The graph's ops with each weight's input projections made ahead, in chunks."""
    ops = graph.ops
    weights = dict.fromkeys(inputs[1] for prim, inputs, _, _ in ops if prim is _matmul)
    for weight in weights:
        found = _projectable(graph._replace(ops=ops), weight)
        if found is not None:
            ops = _rewrite(graph._replace(ops=ops), weight, *found)
    return ops


def _projectable(graph: Graph, weight: int) -> tuple[list[int], list[tuple], slice] | None:
    """The matmuls reading ``weight`` on the right (op indices), their left operands'
    parts, and which parts are the early ones; None if the pattern does not hold."""
    ops, values = graph.ops, graph.values
    matmuls = [k for k, (prim, inputs, _, _) in enumerate(ops)
               if prim is _matmul and inputs[1] == weight]
    w = values[weight]
    if len(matmuls) < 2 or w.ndim != 2:
        return None
    producer = {out: k for k, (*_, out) in enumerate(ops)}
    tainted = {ops[k][3] for k in matmuls}  # what depends on one of these matmuls
    for _, inputs, _, out in ops[matmuls[0]:]:
        if any(i in tainted for i in inputs):
            tainted.add(out)
    layouts = []
    for k in matmuls:
        left, out = ops[k][1][0], ops[k][3]
        if values[left].ndim != 2 or not values[left].dtype == values[out].dtype == w.dtype:
            return None
        made = ops[producer[left]] if left in producer else None
        joins_columns = (made is not None and made[0] is _concat
                         and made[2]["axis"] % 2 == 1)
        layouts.append(made[1] if joins_columns else (left,))
        if any(values[part].dtype != w.dtype for part in layouts[-1]):
            return None
    widths = {tuple(values[part].shape[1] for part in parts) for parts in layouts}
    if len(widths) != 1:
        return None
    early = [all(parts[j] not in tainted for parts in layouts)
             for j in range(len(layouts[0]))]
    leading = early.index(False) if False in early else len(early)
    trailing = early[::-1].index(False) if False in early else len(early)
    if leading:
        return matmuls, layouts, slice(0, leading)
    if trailing:
        return matmuls, layouts, slice(len(early) - trailing, len(early))
    return None


def _rewrite(graph: Graph, weight: int, matmuls: list[int], layouts: list[tuple],
             early: slice) -> list[tuple]:
    """The ops with the matmuls' early parts projected in chunks ahead of them."""
    ops, values, labels = graph.ops, graph.values, graph.labels
    width = [values[part].shape[1] for part in layouts[0]]
    rows = (sum(width[:early.start]), sum(width[:early.stop]))
    every = early.start == 0 and early.stop == len(width)
    new: list[tuple] = []

    def node(prim: Any, inputs: tuple, params: dict | None, shape: tuple, label: str) -> int:
        slot = graph.new_value(shape, values[weight].dtype, label, False)
        new.append((prim, inputs, params, slot))
        return slot

    def rows_of(slot: int, start: int, stop: int) -> int:
        index = (slice(start, stop),)
        return node(_getitem, (slot,), {"index": index}, (stop - start, *values[slot].shape[1:]),
                    plan_text.label(None, "getitem", None, [labels[slot]], {"index": index}))

    def joined(parts: tuple, axis: int, label: str) -> int:
        if len(parts) == 1:
            return parts[0]
        shape = list(values[parts[0]].shape)
        shape[axis] = sum(values[p].shape[axis] for p in parts)
        return node(_concat, parts, {"axis": axis}, tuple(shape), label)

    producer = {out: k for k, (*_, out) in enumerate(ops)}
    chunks = _chunks(matmuls, [values[ops[k][3]].nbytes for k in matmuls])
    first_of = {chunk[0]: chunk for chunk in chunks}
    w_early = w_late = weight
    projection: dict[int, tuple[int, int]] = {}  # matmul -> (its chunk's product, row)
    done: set[int] = set()
    out_ops: list[tuple] = []
    for k, op in enumerate(ops):
        if k in done:
            continue
        if k in first_of:
            if k == matmuls[0] and not every:
                w_early = rows_of(weight, *rows)
                w_late = rows_of(weight, *((rows[1], sum(width)) if rows[0] == 0
                                           else (0, rows[0])))
            chunk = first_of[k]
            # every part early: the left operand itself, already computed as traced
            xs = [(ops[m][1][0],) if every else layouts[matmuls.index(m)][early]
                  for m in chunk]
            for a in sorted(_ancestors(producer, ops, [p for x in xs for p in x]) - done):
                if a > k:
                    new.append(ops[a])
                    done.add(a)
            steps = [joined(x, 1, "concat") for x in xs]
            stacked = joined(tuple(steps), 0, _span(labels, steps))
            product = node(_matmul, (stacked, w_early),
                           None, (values[stacked].shape[0], values[weight].shape[1]),
                           _span(labels, steps, _stem(labels[weight])))
            start = 0
            for m in chunk:
                projection[m] = (product, start)
                start += values[ops[m][3]].shape[0]
        if k in projection:
            product, start = projection[k]
            out = op[3]
            block = values[out].shape[0]
            if every:
                index = (slice(start, start + block),)
                new.append((_getitem, (product,), {"index": index}, out))
            else:
                part = rows_of(product, start, start + block)
                late = layouts[matmuls.index(k)]
                late = late[early.stop:] if early.start == 0 else late[:early.start]
                h = joined(late, 1, "concat")
                new.append((MATMUL_ADD, (h, w_late, part), None, out))
        else:
            new.append(op)
        out_ops += new
        new.clear()
    return out_ops


def _chunks(matmuls: list[int], sizes: list[int]) -> list[list[int]]:
    """The matmuls in consecutive runs whose products hold at most ``PROJECTED_BYTES``,
    but at least two each (one left over at the end joins the run before it)."""
    chunks: list[list[int]] = [[]]
    held = 0
    for k, size in zip(matmuls, sizes):
        if len(chunks[-1]) >= 2 and held + size > PROJECTED_BYTES:
            chunks.append([])
            held = 0
        chunks[-1].append(k)
        held += size
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2] += chunks.pop()
    return chunks


def _ancestors(producer: dict[int, int], ops: list[tuple], slots: list[int]) -> set[int]:
    """The indices of the ops that ``slots`` are computed from."""
    found: set[int] = set()
    pending = [producer[s] for s in slots if s in producer]
    while pending:
        k = pending.pop()
        if k not in found:
            found.add(k)
            pending += [producer[i] for i in ops[k][1] if i in producer]
    return found


def _stem(label: str) -> str:
    """A name without its time step: ``x_t3`` -> ``x``."""
    found = _STEP.match(label)
    return found.group(1) if found else label if label.isidentifier() else "v"


def _suffix(label: str) -> str:
    found = _STEP.match(label)
    return f"_t{found.group(2)}" if found else ""


def _span(labels: list[str], steps: list[int], then: str = "") -> str:
    """The name of the steps' values stacked: ``x_t0..t9``, or with ``then`` after the
    stem, ``xW_t0..t9``."""
    first, last = _STEP.match(labels[steps[0]]), _STEP.match(labels[steps[-1]])
    stem = _stem(labels[steps[0]])
    if first and last:
        return f"{stem}{then}_t{first.group(2)}..t{last.group(2)}"
    return f"{stem}{then}_steps"
