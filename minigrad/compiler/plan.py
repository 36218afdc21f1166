"""The plan: one traced signature of a compiled function as plain data (slots, and the
forward and backward schedules), built from the trace's graph; it prints as the replay's
steps (:mod:`minigrad.compiler.text`).
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ..primitive import STOP_GRADIENT
from ..tensor import (
    Node,
    Tensor,
    creation_number,
    nodes_leading_to,
)
from . import text as plan_text
from .buffers import buffers_pass
from .forward import plan_forward
from .lower import lower
from .passes import FORWARD_ONLY, GRAPH_PASSES, PASSES
from .projection import Graph
from .replay import _Replay
from .schedule import plan_backward, plan_sweep, probe


class _Value:
    """A slot's shape and dtype: the key of its pending gradient in the backward replay,
    and what a VJP that saves nothing receives instead of the array (as an eager VJP
    receives the graph vertex)."""

    __slots__ = ("shape", "ndim", "dtype", "nbytes", "worth_freeing")
    requires_grad = True

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.ndim, self.dtype = shape, len(shape), dtype
        # a replay releases arrays after their last use, but not the small ones: a
        # release costs more time than a few KiB of memory is worth
        self.nbytes = math.prod(shape) * dtype.itemsize
        self.worth_freeing = self.nbytes >= 4096

    def __repr__(self) -> str:
        return f"<value {self.shape} {self.dtype}>"



class _Group:
    """The backward of some of a plan's outputs: those whose graphs share a node, which an
    eager backward frees together. Outputs on separate subgraphs are separate groups, so
    ``a.backward(); b.backward()`` works as in eager. Each group is one node of the eager
    graph, with its own backward schedule."""

    __slots__ = ("outputs", "sweep", "gradient_inputs", "backward", "gradient_at",
                 "primitive", "output_primitives", "marker", "positions", "text")

    def __init__(self, outputs: list[int]) -> None:
        self.outputs = outputs  # the differentiable output slots, in output order
        self.sweep: list[tuple] = []
        self.gradient_inputs: list[int] = []
        self.positions: dict[tuple[int, int], int] = {}  # (sweep step, pass): input k
        self.text: list[tuple] = []  # the backward schedule, for str(plan)


class _Traced:
    """What a compiled function keeps about each of its plans, whatever its kind."""

    def __init__(self) -> None:
        self.description: dict[str, dict[str, str]] = {}  # the call it was traced for
        self.verified = 0  # replays checked against eager (verify=N)
        self.timed = self.slow_checks = 0  # replays timed, and those checking outlasted
        self.eager_seconds = 0.0  # how long fn ran when traced



class Plan(_Replay, _Traced):
    """One traced signature of a compiled function, ready to replay.

    The buffer a replay works in has three parts of one entry per value ``s`` (an
    argument, a captured tensor, a constant or an op's result): ``buf[s]`` its array,
    ``buf[n + s]`` its gradient, ``buf[2n + s]`` its shape and dtype (what a VJP that
    saves nothing is given). The forward schedule fills the first part, the backward
    schedule the second, each step a NumPy call, a VJP or a release.

    The backward schedule is the eager sweep lowered once: plan time runs the sweep on
    the traced values (the probe) to learn what each VJP returns. One that returns a
    gradient of its input's shape and dtype needs no gradient door at replay, one that
    returns ``g`` itself (add, broadcast_to) becomes an alias, and a lazy gradient that
    must be made dense gets its own step. (A VJP's output shape and type depend on shapes
    only, as for every primitive here; its values are never frozen.)

    The trace stops at the function's boundary (``since``, the creation number at which
    it began): a tensor computed before it is read like a captured leaf, and a leaf made
    inside is made anew at every replay.

    Args:
        name: the op name the call's graph node gets ("compiled loss_fn").
        arguments: the tensors the trace ran on, one per tensor argument.
        requires_grad: for each argument, whether the caller's tensor requires grad.
        outputs: the tensors the trace returned; ``output_structure`` how they nest.
        since: the creation number at which the trace began.
        release: free the trace's graph node by node while planning (not when another
            stage is yet to be planned from the same graph).
        fuse: the optimisations to plan with, by name (:data:`~.passes.PASSES`; none:
            every VJP called, through the gradient door).

    ``str(plan)`` is the replay as text: every step of the forward and backward
    schedules, one line each, with the values' names (see :mod:`minigrad.compiler.text`).
    """

    def __init__(self, name: str, arguments: list[Tensor], requires_grad: list[bool],
                 outputs: list[Tensor], output_structure: Any, since: int,
                 release: bool = True, fuse: frozenset[str] = frozenset(PASSES)) -> None:
        super().__init__()
        self.name = name
        self.fuse = fuse
        self.output_structure = output_structure
        inside = [t._node for t in outputs if t._node is not None and t._node._seq >= since]
        # an argument computed by the trace itself (an intermediate a later stage reads,
        # see _Staged) ends the walk, as a leaf does
        computed = {k: t._node for k, t in enumerate(arguments) if t._node is not None}
        nodes = sorted(nodes_leading_to(inside, computed.values()), key=creation_number)
        self.values: list[_Value] = []
        constants: list[Any] = []  # each value's constant, None for the others
        needs_grad: list[bool] = []  # per value: does a gradient flow to it
        slot_of: dict[int, int] = {}

        labels: list[str] = []  # each value's name, for str(plan)

        def new_slot(shape: tuple[int, ...], dtype: np.dtype, constant: Any = None,
                     grad: bool = False, name: str = "const") -> int:
            self.values.append(_Value(tuple(shape), np.dtype(dtype)))
            constants.append(constant)
            needs_grad.append(grad)
            labels.append(name)
            return len(self.values) - 1

        self.argument_slots = [new_slot(t.shape, t.dtype, grad=g, name=t._name or f"arg{k}")
                               for k, (t, g) in enumerate(zip(arguments, requires_grad))]
        slot_of.update({id(t): s for t, s in zip(arguments, self.argument_slots)})
        slot_of.update({id(node): self.argument_slots[k] for k, node in computed.items()})
        self.captured: list[Tensor] = []  # the tensors fn captured, read at every call
        self.captured_slots: list[int] = []
        self._captured_state: list[tuple] = []
        # leaves fn makes (mg.tensor(..., requires_grad=True)) that a caller can see:
        # made anew at every replay, from the traced value
        self.fresh: list[tuple[int, np.ndarray, bool, str | None]] = []
        returned = {id(t) for t in outputs}
        made_inside_leaves: list[tuple] = []

        def slot_of_leaf(t: Tensor) -> int:
            """The slot of a tensor the trace did not compute (a captured leaf, a result
            computed before the trace, or a leaf made inside)."""
            if id(t) in slot_of:
                return slot_of[id(t)]
            made_inside = t._node is None and t._seq >= since
            if made_inside and not t.requires_grad and id(t) not in returned:
                s = new_slot(t.shape, t.dtype, t.data)  # a constant, as a number would be
            elif made_inside:  # fresh at every call, unless the caller keeps it (below)
                s = new_slot(t.shape, t.dtype, grad=t.requires_grad, name=t._name or "new")
                made_inside_leaves.append((s, weakref.ref(t), t.data.copy(), t.requires_grad,
                                           t._name, id(t) in returned))
            else:
                s = new_slot(t.shape, t.dtype, grad=t.requires_grad,
                             name=t._name or "captured")
                self.captured.append(t)
                self.captured_slots.append(s)
                self._captured_state.append((t.data.shape, t.data.dtype, t.requires_grad))
            slot_of[id(t)] = s
            return s

        ops: list[tuple] = []  # (primitive, input slots, params, output slot), as traced
        self.node_slots: set[int] = set()  # the values a replay computes
        for n in nodes:
            inputs = []
            for x in n.inputs:
                if type(x) is Node:
                    inputs.append(slot_of[id(x)])
                elif isinstance(x, Tensor):
                    inputs.append(slot_of_leaf(x))
                else:  # a Python number or an array, already in the op's dtype
                    inputs.append(new_slot(np.shape(x), getattr(x, "dtype", n.dtype), x,
                                           name=f"{x:g}" if np.ndim(x) == 0 else "const"))
            grad = n.prim is not STOP_GRADIENT and any(needs_grad[i] for i in inputs)
            slot_of[id(n)] = new_slot(n.shape, n.dtype, grad=grad, name=plan_text.label(
                n.name, n.prim.name, n.scope, [labels[i] for i in inputs], n.params))
            self.node_slots.add(slot_of[id(n)])
            ops.append((n.prim, tuple(inputs), n.params, slot_of[id(n)]))
            if release:  # the trace's graph is done with: its memory goes now, before
                n.inputs = n.saved = n.out = None  # the probe fills a buffer that size
        n = x = None  # the loop's last input may be a leaf made inside: not held here
        del nodes, inside
        self.output_slots = [slot_of[id(t._node)] if t._node is not None
                             and id(t._node) in slot_of else slot_of_leaf(t)
                             for t in outputs]
        for s, alive, data, requires_grad, name, is_output in made_inside_leaves:
            t = alive()  # with the trace's graph gone, only a caller can hold it now
            if t is None or is_output or not release:
                self.fresh.append((s, data, requires_grad, name))
            else:  # made once (get_variable, a lazy Module's weight), captured from now on
                self.captured.append(t)
                self.captured_slots.append(s)
                self._captured_state.append((t.data.shape, t.data.dtype, t.requires_grad))
            del t
        # the graph passes rewrite how the forward computes its values; the backward
        # sweeps the rewritten graph, but for the rewrites of the forward only, after
        # which the VJPs read the values as traced
        forward_ops = ops
        if fuse & GRAPH_PASSES.keys():
            def new_value(shape: tuple, dtype: np.dtype, label: str, grad: bool) -> int:
                return new_slot(shape, dtype, grad=grad, name=label)

            returned_slots = frozenset(self.output_slots)
            for pass_name, rewrite in GRAPH_PASSES.items():
                if pass_name in fuse:
                    forward_ops = rewrite(Graph(forward_ops, self.values, labels, new_value,
                                                needs_grad, returned_slots))
                    ops = ops if pass_name in FORWARD_ONLY else forward_ops
            self.node_slots |= {out for *_, out in forward_ops}
        # the outputs a gradient comes back through: results that depend on a value
        # requiring grad (an argument or captured tensor returned as is is itself)
        self.differentiable = list(dict.fromkeys(
            s for s in self.output_slots if needs_grad[s] and s in self.node_slots))
        self.names = plan_text.unique(labels)
        self.size = n = len(self.values)
        self.template = [*constants, *[None] * n, *self.values]
        self.dtypes = [v.dtype for v in self.values] * 2
        self.saved: set[int] = set()  # the values some VJP reads
        self.pool = buffers_pass(self) if "buffers" in fuse else None
        self.groups = [plan_sweep(self, group, ops, needs_grad, constants)
                       for group in _connected(self.differentiable, ops)]
        self.gradient_inputs = list(dict.fromkeys(
            s for group in self.groups for s in group.gradient_inputs))
        plan_forward(self, forward_ops)
        for group in self.groups:
            plan_backward(self, group, *probe(self, group, arguments))
        if self.pool is not None:  # the probes' arrays: none is kept between calls
            self.pool.clear()

    def __str__(self) -> str:
        return plan_text.render(self.name, self.names, self.forward_text,
                                [group.text for group in self.groups])

    @functools.cached_property
    def forward_inference(self) -> Callable[[list, list, set], None]:
        """The forward schedule under ``no_grad``: made at its first use."""
        return lower(self._inference_steps, f"{self.name}, forward without the graph")


def _connected(outputs: list[int], ops: list[tuple]) -> list[_Group]:
    """The differentiable outputs in groups whose graphs share a node (union-find over
    the ops, newest first: an op joins the groups of the outputs that reach it)."""
    if len(outputs) <= 1:
        return [_Group(outputs)] if outputs else []
    parent = list(range(len(outputs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reaching: dict[int, int] = {s: k for k, s in enumerate(outputs)}  # node -> an output
    produced = {out for *_, out in ops}  # leaves shared by two outputs join nothing
    for _, inputs, _, out in reversed(ops):
        k = reaching.get(out)
        if k is None:
            continue
        for i in inputs:
            if i not in produced:
                continue
            other = reaching.get(i)
            if other is None:
                reaching[i] = k
            elif root(other) != root(k):
                parent[root(other)] = root(k)
    groups: dict[int, list[int]] = {}
    for k, s in enumerate(outputs):
        groups.setdefault(root(k), []).append(s)
    return [_Group(members) for members in groups.values()]
