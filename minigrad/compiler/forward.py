"""The forward schedules of a plan, with the graph (what the backward reads is kept) and
without (``no_grad``): each op one step, each result released after its last use."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..ops import (
    _add,
    _concat,
    _div,
    _exp_p,
    _getitem,
    _log,
    _matmul,
    _mul,
    _neg,
    _relu,
    _sigmoid,
    _sub,
    _tanh,
)
from ..primitive import STOP_GRADIENT, Primitive
from .buffers import pooled
from .lower import ALIAS, ASSIGN, FREE, lower
from .projection import MATMUL_ADD
from .text import KEPT

if TYPE_CHECKING:
    from .plan import Plan


def plan_forward(plan: Plan, ops: list[tuple]) -> None:
    """The forward schedules, with the graph (a result goes after its last use unless
    a VJP reads it) and without (after its last use)."""
    last_use: dict[int, int] = {}
    for index, (_, inputs, _, _) in enumerate(ops):
        for i in inputs:
            last_use[i] = index
    gone_recording: list[list[int]] = [[] for _ in ops]
    gone_inference: list[list[int]] = [[] for _ in ops]
    for i, index in last_use.items():
        if (i in plan.node_slots and i not in plan.output_slots
                and plan.values[i].worth_freeing):
            gone_inference[index].append(i)
            if i not in plan.saved:
                gone_recording[index].append(i)
    into = _in_place(plan, ops) if "inplace" in plan.fuse else {}
    recording_steps: list[tuple] = []
    plan._inference_steps: list[tuple] = []
    plan.forward_text: list[tuple] = []  # the recording schedule, for str(plan)
    for (prim, inputs, params, out), recording, inference in zip(
            ops, gone_recording, gone_inference):
        if prim is STOP_GRADIENT:
            step: list[tuple] = [(ALIAS, None, inputs[0], out)]
            plan.forward_text.append(("alias", inputs[0], out))
        elif out in into:
            inputs = (into[out], *[i for i in inputs if i != into[out]][:1]) if len(
                set(inputs)) == 2 else inputs
            plan.forward_text.append(("op", prim.name, inputs, params, out,
                                      f"  # in place, into {plan.names[inputs[0]]}'s array"))
            step = [(ASSIGN, IN_PLACE[prim], inputs, out)]
        else:
            forward = pooled(plan.pool, prim.name, params, plan.values[out].shape,
                             plan.values[out].dtype, [plan.values[i].dtype for i in inputs])
            plan.forward_text.append(("op", prim.name, inputs, params, out,
                                      KEPT if forward is not None else ""))
            if forward is None:
                forward = _lowered(prim, params)
            step = [(ASSIGN, forward, inputs, out)]
            if not plan.values[out].shape:  # reductions may give NumPy scalars
                step.append((ASSIGN, np.asarray, (out,), out))
        recording_steps += step
        plan._inference_steps += step
        if recording:
            recording_steps.append((FREE, None, tuple(recording), None))
            plan.forward_text.append(("free", tuple(recording)))
        if inference:
            plan._inference_steps.append((FREE, None, tuple(inference), None))
    plan.forward_recording = lower(recording_steps, f"{plan.name}, forward")


#: The binary elementwise ops a step may compute into its first input's array:
#: ``ufunc(a, b, a)``, the same rounding as a new array.
IN_PLACE = {_add: lambda a, b: np.add(a, b, a), _sub: lambda a, b: np.subtract(a, b, a),
            _mul: lambda a, b: np.multiply(a, b, a)}
#: The size from which a result gets an array of its own after all. Each add alone runs
#: faster in place at every size, but a whole LSTM step measured slower with the adds
#: of its (32, 512) and (64, 2048) ``Z`` and ``c`` in place (W2-M 23.3-24.4 against
#: 24.6-24.8 ms, W2-L 183-194 against 194-201 ms, fresh processes), and faster only
#: below a few KiB (W2-S 2.55 against 2.65 ms): the allocator's and the cache's way with
#: fresh arrays, not understood further.
IN_PLACE_BYTES = 4096
#: The primitives whose result is always a new array of its own (not a view, not an
#: input passed on, not a NumPy scalar of a 0-d result).
FRESH = frozenset({_add, _sub, _mul, _div, _neg, _exp_p, _log, _tanh, _sigmoid, _relu,
                   _matmul, _concat, MATMUL_ADD})


def _in_place(plan: Plan, ops: list[tuple]) -> dict[int, int]:
    """The results an op computes into one of its inputs' arrays (``{result: input}``):
    an add, sub or mul whose input is a new array of the result's shape and dtype that
    nothing else reads, forward or backward, and that is no output (``c = f*c + i*g``
    into the array of ``f*c``; ``Z = X @ W + b`` into that of ``X @ W``), below
    :data:`IN_PLACE_BYTES`."""
    readers: dict[int, int] = {}
    for _, inputs, _, _ in ops:
        for i in set(inputs):
            readers[i] = readers.get(i, 0) + 1
    fresh = {out for prim, _, _, out in ops if prim in FRESH}
    values = plan.values
    into: dict[int, int] = {}
    for prim, inputs, params, out in ops:
        if (prim not in IN_PLACE or params or not values[out].shape
                or values[out].nbytes >= IN_PLACE_BYTES
                or any(values[i].dtype != values[out].dtype for i in inputs)):
            continue
        for i in inputs[:2 if prim is not _sub else 1]:
            if (i in fresh and readers[i] == 1 and i not in plan.saved
                    and i not in plan.output_slots and values[i].shape == values[out].shape):
                into[out] = i
                break
    return into


def _lowered(prim: Primitive, params: dict) -> Callable:
    """The function a step calls for ``prim``: a view ``x[index]`` is one C call
    (``operator.itemgetter``; a keyword-bound Python function costs 0.5-0.8 us more),
    a concatenation one NumPy call."""
    if prim is _getitem:
        return operator.itemgetter(params["index"])
    if prim is _concat:  # its axis passed by position: a keyword costs 0.3-0.8 us more
        axis = params["axis"]
        return lambda *xs: np.concatenate(xs, axis)
    return functools.partial(prim.forward, **params) if params else prim.forward
