"""The forward schedules of a plan, with the graph (what the backward reads is kept) and
without (``no_grad``): each op one step, each result released after its last use."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..ops import _concat, _getitem
from ..primitive import STOP_GRADIENT, Primitive
from .buffers import pooled
from .lower import ALIAS, ASSIGN, FREE, lower

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
    recording_steps: list[tuple] = []
    plan._inference_steps: list[tuple] = []
    plan.forward_text: list[tuple] = []  # the recording schedule, for str(plan)
    for (prim, inputs, params, out), recording, inference in zip(
            ops, gone_recording, gone_inference):
        if prim is STOP_GRADIENT:
            step: list[tuple] = [(ALIAS, None, inputs[0], out)]
            plan.forward_text.append(("alias", inputs[0], out))
        else:
            forward = pooled(plan.pool, prim.name, params, plan.values[out].shape,
                             plan.values[out].dtype, [plan.values[i].dtype for i in inputs])
            plan.forward_text.append(("op", prim.name, inputs, params, out, forward is not None))
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
