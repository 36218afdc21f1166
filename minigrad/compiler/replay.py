"""Running a plan: filling its buffer, the forward schedule, and joining the eager graph
as one node per group whose VJP runs the backward schedule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import FREED_GRAPH, _modified_in_place, vertex
from ..context import (
    grad_enabled,
    retaining_graph,
)
from ..tensor import (
    Node,
    Tensor,
    make_tensor,
    new_creation_number,
)
from .signature import unflatten

if TYPE_CHECKING:
    from .plan import _Group


class _Tape:
    """What one compiled call keeps for its backward: the slots (the saved arrays), the
    gradients its outputs receive, and the tensors whose in-place change must stop it."""

    __slots__ = ("buf", "output_grads", "input_grads", "last_k", "op", "seq", "watched")

    def __init__(self, buf: list, outputs: int, op: str, watched: list) -> None:
        self.buf = buf
        self.output_grads: list = [None] * outputs
        self.input_grads: list | None = None
        self.last_k = -1
        self.op, self.seq, self.watched = op, 0, watched



class _Replay:
    """What a :class:`~minigrad.compiler.plan.Plan` does at each call (its replay half)."""

    def captured_unchanged(self) -> bool:
        """Whether every captured tensor still has the shape, dtype and requires_grad it
        was traced with (else the plan no longer fits: trace again)."""
        for t, state in zip(self.captured, self._captured_state):
            if (t.data.shape, t.data.dtype, t.requires_grad) != state:
                return False
        return True

    def captured_changes(self) -> list[str]:
        """What :meth:`captured_unchanged` found changed, in words (for ``explain()``)."""
        changes = []
        for k, (t, state) in enumerate(zip(self.captured, self._captured_state)):
            label = f"captured tensor {t.name!r}" if t.name else f"captured tensor {k}"
            for aspect, old, new in zip(("shape", "dtype", "requires_grad"), state,
                                        (t.data.shape, t.data.dtype, t.requires_grad)):
                if old != new:
                    changes.append(f"{label}: {aspect} {old} -> {new}")
        return changes

    def differentiated(self, arguments: list[Tensor]) -> list[tuple[str, Tensor]]:
        """The tensors a call's gradients go to, each with a label for messages (made-inside
        leaves, new at every call, are left out)."""
        labelled = []
        for k, (s, t) in enumerate(zip(self.argument_slots, arguments)):
            if s in self.gradient_inputs:
                labelled.append((repr(t.name) if t.name else f"argument tensor {k}", t))
        for k, (s, t) in enumerate(zip(self.captured_slots, self.captured)):
            if s in self.gradient_inputs:
                labelled.append((repr(t.name) if t.name else
                                 f"captured tensor {k} (shape {t.shape})", t))
        return labelled

    def _inputs(self, arguments: list[Tensor], fresh: bool = True) -> dict[int, Tensor]:
        """The tensor at each input slot for one call: the arguments, the captured tensors,
        and new leaves for the ones ``fn`` makes (``fresh``; else the traced values)."""
        inputs = dict(zip(self.argument_slots, arguments))
        inputs.update(zip(self.captured_slots, self.captured))
        for s, data, requires_grad, name in self.fresh:
            t = make_tensor(data.copy() if fresh else data, requires_grad, None)
            t._name, t._seq = name, new_creation_number()
            inputs[s] = t
        return inputs

    def _buffer(self, inputs: dict[int, Tensor]) -> list:
        buf = self.template.copy()
        for s, t in inputs.items():
            buf[s] = t.data
        return buf

    def run(self, arguments: list[Tensor]) -> Any:
        """Replay on ``arguments`` (one tensor per tensor argument): the forward schedule,
        and the call's nodes in the graph when a gradient can flow back through it."""
        inputs = self._inputs(arguments)
        buf = self._buffer(inputs)
        record = bool(self.gradient_inputs) and grad_enabled()
        (self.forward_recording if record else self.forward_inference)(buf, self.dtypes, set())
        if self.pool is not None:
            self.pool.clear()
        results: dict[int, Tensor] = self._record(buf, inputs) if record else {}
        for s in self.output_slots:
            if s not in results:
                results[s] = inputs[s] if s in inputs else make_tensor(buf[s], False, None)
        return unflatten(self.output_structure, iter([results[s] for s in self.output_slots]))

    def _record(self, buf: list, inputs: dict[int, Tensor]) -> dict[int, Tensor]:
        """The call's nodes, one per group: its inputs are the arguments and captured
        tensors that get a gradient from the group's outputs; one output is the node's
        own, several hang off it (``output_primitives``)."""
        gradient_inputs = set(self.gradient_inputs)
        watched = [t for s, t in inputs.items() if s not in gradient_inputs and t._node is None]
        results = {}
        for group in self.groups:
            vertices = tuple(vertex(inputs[s]) for s in group.gradient_inputs)
            tape = _Tape(buf, len(group.outputs), self.name, watched)
            if len(group.outputs) == 1:
                s = group.outputs[0]
                node = Node(group.primitive, vertices, {}, (tape,), None, buf[s])
                tape.seq = node._seq
                results[s] = make_tensor(buf[s], True, node)
                continue
            node = Node(group.primitive, vertices, {}, (tape,), None, group.marker)
            tape.seq = node._seq
            for s, output_prim in zip(group.outputs, group.output_primitives):
                results[s] = make_tensor(buf[s], True,
                                         Node(output_prim, (node,), None, None, None, buf[s]))
        return results

    def _vjp(self, group: _Group, k: int, g: Any, y: Any, tape: _Tape) -> Any:
        """The gradient for the group node's input ``k``: the sweep asks for each input in
        turn (k = 0, 1, ...); the first asking runs the backward schedule for all of them."""
        if isinstance(g, Tensor):
            raise RuntimeError(f"backward: create_graph=True cannot differentiate through "
                               f"{self.name} (a compiled function); call the function "
                               f"without mg.compile to take higher derivatives")
        if tape.input_grads is None or k <= tape.last_k:  # a new sweep
            for t in tape.watched:
                if t._version > tape.seq:
                    raise _modified_in_place(tape, t)
            if len(group.outputs) == 1:
                seeds = [g]
            else:
                seeds = [np.zeros(self.values[s].shape, self.values[s].dtype) if seed is None
                         else seed for seed, s in zip(tape.output_grads, group.outputs)]
                tape.output_grads = [None] * len(seeds)
            tape.input_grads = self._run_backward(group, seeds, tape, not retaining_graph())
        tape.last_k = k
        return tape.input_grads[k]

    def _run_backward(self, group: _Group, seeds: list, tape: _Tape, consume: bool) -> list:
        """Seed the outputs' gradients, run the group's backward schedule, and return the
        gradient of each of its inputs; without ``consume`` (retain_graph) on a copy of
        the buffer, so that the saved arrays stay for the next backward."""
        buf = tape.buf if consume else tape.buf.copy()
        n = self.size
        for s, seed in zip(group.outputs, seeds):
            buf[n + s] = seed
        group.backward(buf, self.dtypes, set())
        if self.pool is not None:
            self.pool.clear()
        return [buf[i] for i in group.gradient_at]



def _called_through_plan(*arrays: Any, **params: Any) -> Any:
    raise TypeError("a compiled function's primitive runs only through its plan; call the "
                    "compiled function itself")


def _hand_over(k: int, marker: np.ndarray, g: Any, y: Any, call: Node) -> np.ndarray:
    """The VJP of a compiled call's output ``k``: keep ``g`` for the call's backward."""
    if isinstance(g, Tensor):
        raise RuntimeError("backward: create_graph=True cannot differentiate through a "
                           "compiled function; call the function without mg.compile to "
                           "take higher derivatives")
    if call.saved is None:
        raise RuntimeError(FREED_GRAPH)
    call.saved[0].output_grads[k] = g
    return marker
