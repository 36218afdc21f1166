"""``mg.compile``: trace a function once, then replay it as a flat schedule of NumPy calls.

The eager engine pays about a microsecond of Python per op to build its graph, on top of
NumPy's own time. A compiled function pays it once per signature. Its first call runs the
function eagerly while tracing (every op records its node, even one no gradient flows
through) and turns the graph into a :class:`Plan`:

- slots: one per value the function uses (its tensor arguments, the tensors it captured,
  constants, and each op's result);
- the forward schedule: per op, its forward function, input slots, parameters and output
  slot, in the order the trace ran them; a result is released after its last use unless
  a VJP reads it;
- the backward schedule, the eager sweep's work done once: which nodes get a gradient, in
  which order (newest first), which of their inputs, what each VJP reads, and after which
  step a saved array is read for the last time.

Later calls fill the slots (each captured tensor's current ``.data``) and run the forward
schedule. The call then joins the eager graph as one node, whose inputs are the arguments
and captured tensors that require grad, and whose VJP runs the backward schedule with the
same VJPs as eager, through the same gradient door (``_fit``) and the same accumulation
(``_accumulate``): gradients agree with eager ones to rounding, and go into ``.grad`` the
way eager ones do.
"""

from __future__ import annotations

import builtins
import functools
import math
from collections import Counter, OrderedDict
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np

from .autograd import FREED_GRAPH, _accumulate, _fit, _modified_in_place, _wrong_shape, vertex
from .context import (
    TracingError,
    anomaly_enabled,
    enable_grad,
    grad_enabled,
    retaining_graph,
    tracing,
    tracing_switch,
)
from .lazy import LAZY, Product, Scattered, _tiles
from .primitive import STOP_GRADIENT, Primitive
from .tensor import Node, Tensor, creation_number, make_tensor, nodes_leading_to

__all__ = ["CompiledFunction", "Plan", "TracingError", "compile"]


def compile(fn: Callable[..., Any] | None = None, *,  # noqa: A001 - mg.compile, as torch's
            cache_size: int = 8) -> Any:
    """Compile ``fn(*tensors) -> Tensor or tuple of Tensors``: the first call for each
    signature traces it, later calls replay the trace as a flat schedule of NumPy calls.

    Example::

        step = mg.compile(loss_fn)     # or @mg.compile above the def
        loss = step(xs, h0, y)         # first call: traces loss_fn, then replays it
        loss.backward()                # gradients reach the arguments and captured leaves

    What the replay sees, and what it freezes (as ``jax.jit`` does):

    - Tensor arguments, and float NumPy arrays (passed to ``fn`` as tensors that do not
      require grad), are read at every call. So are the tensors ``fn`` captures from the
      enclosing scope (weights): their current ``.data``, whether an optimizer updated it
      in place or rebound it.
    - Everything else is frozen at trace time: **Python control flow** (``if``, ``for``
      and their counts), Python numbers, other arguments (part of the signature: a new
      value traces again), NumPy arrays made or captured inside ``fn``, random numbers
      drawn inside ``fn``. Reading a tensor's value inside ``fn`` (``float(t)``,
      ``t.item()``, ``if t > 0:``, ``np.asarray(t)``) raises :class:`TracingError`.
    - A new signature traces again: tensor shapes, dtypes, which arguments require grad,
      the other arguments' values, and the captured tensors' shapes, dtypes and
      ``requires_grad``. The last ``cache_size`` plans are kept.

    The result is what eager ``fn`` returns, values and gradients equal to rounding.
    Under ``mg.no_grad()`` only the forward schedule runs and nothing is recorded; a
    second ``backward()`` without ``retain_graph=True`` raises the eager error;
    ``create_graph=True`` through a compiled call raises (call ``fn`` itself for higher
    derivatives). Under ``mg.detect_anomaly()`` the function runs eagerly, so the error
    names the op.

    Args:
        fn: the function; with no ``fn``, ``mg.compile(cache_size=...)`` is a decorator.
        cache_size: how many signatures' plans to keep.
    """
    if fn is None:
        return lambda f: CompiledFunction(f, cache_size)
    return CompiledFunction(fn, cache_size)


class CompiledFunction:
    """A function traced once per signature and replayed (see :func:`compile`).

    ``traces`` counts the traces so far; ``plans`` maps each cached signature to its
    :class:`Plan`.
    """

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"mg.compile: expected a function, got {type(fn).__name__}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"mg.compile: cache_size must be a positive integer, got "
                             f"{cache_size!r}")
        functools.update_wrapper(self, fn, updated=())
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.cache_size = cache_size
        self.plans: OrderedDict[Any, Plan] = OrderedDict()
        self.traces = 0

    def __repr__(self) -> str:
        return f"<minigrad compiled {getattr(self.fn, '__qualname__', self.fn)!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing() or anomaly_enabled():
            return self.fn(*args, **kwargs)  # inlined into an outer trace / eager errors
        tensors: list[Tensor] = []
        structure = _flatten((args, kwargs), tensors)
        key = (structure, tuple([(t.data.shape, t.data.dtype, t.requires_grad)
                                 for t in tensors]))
        plan = self.plans.get(key)
        if plan is None or not plan.captured_unchanged():
            plan = self._trace(structure, tensors, key)
        else:
            self.plans.move_to_end(key)
        return plan.run(tensors)

    def _trace(self, structure: Any, tensors: list[Tensor], key: Any) -> Plan:
        """Run ``fn`` eagerly while tracing, on stand-ins of the tensor arguments that
        require grad (so every op they reach is recorded), and plan what it did."""
        stand_ins = []
        for t in tensors:
            s = make_tensor(t.data, True, None)
            s._name = t._name
            stand_ins.append(s)
        with tracing_switch(True), enable_grad():
            args, kwargs = _unflatten(structure, iter(stand_ins))
            result = self.fn(*args, **kwargs)
        outputs: list[Tensor] = []
        output_structure = _flatten_outputs(result, outputs, self.name)
        plan = Plan(f"compiled {self.name}", stand_ins, [t.requires_grad for t in tensors],
                    outputs, output_structure)
        self.traces += 1
        self.plans[key] = plan
        self.plans.move_to_end(key)
        while len(self.plans) > self.cache_size:
            self.plans.popitem(last=False)
        return plan


# ---- arguments and results: nested tuples, lists and dicts of tensors --------------------

_TENSOR = "tensor"


def _flatten(value: Any, tensors: list[Tensor]) -> Any:
    """Append the tensors in ``value`` (float arrays become tensors) to ``tensors`` and
    return a hashable description of everything else (part of the signature)."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return _TENSOR
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        tensors.append(make_tensor(value, False, None))
        return _TENSOR
    if type(value) in (tuple, list):
        return (type(value), tuple([_flatten(v, tensors) for v in value]))
    if type(value) is dict:
        return (dict, tuple([(k, _flatten(v, tensors)) for k, v in value.items()]))
    if isinstance(value, np.ndarray):  # integer or boolean: a static value
        return (np.ndarray, value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"mg.compile: cannot pass an argument of type {type(value).__name__}; "
                        f"pass tensors, NumPy arrays, numbers or tuples, lists and dicts of "
                        f"them") from None
    return (type(value), value)


def _unflatten(structure: Any, tensors: Any) -> Any:
    """The value :func:`_flatten` described, with the next tensor of ``tensors`` for each
    tensor."""
    if structure is _TENSOR:
        return next(tensors)
    kind = structure[0]
    if kind in (tuple, list):
        return kind(_unflatten(s, tensors) for s in structure[1])
    if kind is dict:
        return {k: _unflatten(s, tensors) for k, s in structure[1]}
    if kind is np.ndarray:
        _, dtype, shape, data = structure
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return structure[1]


def _flatten_outputs(value: Any, outputs: list[Tensor], name: str) -> Any:
    if isinstance(value, Tensor):
        outputs.append(value)
        return _TENSOR
    if type(value) in (tuple, list):
        return (type(value), tuple([_flatten_outputs(v, outputs, name) for v in value]))
    if type(value) is dict:
        return (dict, tuple([(k, _flatten_outputs(v, outputs, name)) for k, v in value.items()]))
    raise TracingError(f"mg.compile: {name} must return a Tensor, or a tuple, list or dict of "
                       f"Tensors; it returned a {type(value).__name__}")


# ---- the plan -------------------------------------------------------------------------------


class _Value:
    """A slot's shape and dtype: the key of its pending gradient in the backward replay,
    and what a VJP that saves nothing receives instead of the array (as an eager VJP
    receives the graph vertex)."""

    __slots__ = ("shape", "ndim", "dtype", "worth_freeing")
    requires_grad = True

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.ndim, self.dtype = shape, len(shape), dtype
        # a replay releases arrays after their last use, but not the small ones: a
        # release costs more time than a few KiB of memory is worth
        self.worth_freeing = math.prod(shape) * dtype.itemsize >= 4096

    def __repr__(self) -> str:
        return f"<value {self.shape} {self.dtype}>"


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


# The replay's steps, each ``(kind, fn, args, out)`` over one buffer ``b``:
ASSIGN = 0  # b[out] = fn(b[args[0]], b[args[1]], ...)
ADD = 1  # b[out] += fn(...), as the eager sweep accumulates (_accumulate)
ALIAS = 2  # b[out] = b[args]: a gradient passed on unchanged (add, broadcast)
FREE = 3  # b[i] = None for i in args: released after its last use


#: Longer schedules are interpreted: Python compiles a generated line in 25-60 us, so a
#: 2-layer LSTM over 1000 steps (about 200,000 lines) would take 10 s to compile.
GENERATED_STEPS_LIMIT = 20_000


def lower(steps: list[tuple], label: str) -> Callable[[list, list, set], None]:
    """A schedule as a Python function ``replay(b, dtypes, owned)`` with one line per
    step, ``b[7] = f3(b[5], b[2])``: what hand-written NumPy would do, with list items for
    variables. (A loop that dispatches on each step's kind, :func:`interpret`, costs a
    fifth more time on small arrays; it runs schedules longer than
    ``GENERATED_STEPS_LIMIT``.) ``dtypes[i]`` is the dtype of the gradient at ``b[i]``;
    ``owned`` holds the indices whose gradient is a private buffer (see ``_accumulate``)."""
    if len(steps) > GENERATED_STEPS_LIMIT:
        return interpret(steps)
    env: dict[str, Any] = {"_accumulate": _accumulate}
    names: dict[int, str] = {}
    lines = ["def replay(b, dtypes, owned):"]
    for kind, fn, args, out in steps:
        if kind == FREE:
            lines.append("    " + " = ".join(f"b[{i}]" for i in args) + " = None")
        elif kind == ALIAS:
            lines.append(f"    b[{out}] = b[{args}]")
        else:
            name = names.get(id(fn))
            if name is None:
                name = names[id(fn)] = f"f{len(names)}"
                env[name] = fn
            call = f"{name}({', '.join(f'b[{i}]' for i in args)})"
            lines.append(f"    b[{out}] = {call}" if kind == ASSIGN else
                         f"    _accumulate(b, owned, {out}, b[{out}], {call}, dtypes[{out}])")
    lines.append("    return None")
    exec(builtins.compile("\n".join(lines), f"<{label}>", "exec"), env)
    return env["replay"]


def interpret(steps: list[tuple]) -> Callable[[list, list, set], None]:
    """A schedule run by a loop over its steps (see :func:`lower`)."""
    program = [(kind, fn, (itemgetter(*args) if len(args) > 1 else
                           itemgetter(slice(args[0], args[0] + 1))) if kind <= ADD else args,
                out) for kind, fn, args, out in steps]

    def replay(b: list, dtypes: list, owned: set) -> None:
        for kind, fn, take, out in program:
            if kind == ASSIGN:
                b[out] = fn(*take(b))
            elif kind == ALIAS:
                b[out] = b[take]
            elif kind == FREE:
                for i in take:
                    b[i] = None
            else:
                _accumulate(b, owned, out, b[out], fn(*take(b)), dtypes[out])
    return replay


class Plan:
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

    Args:
        name: the op name the call's graph node gets ("compiled loss_fn").
        arguments: the tensors the trace ran on, one per tensor argument.
        requires_grad: for each argument, whether the caller's tensor requires grad.
        outputs: the tensors the trace returned; ``output_structure`` how they nest.
    """

    def __init__(self, name: str, arguments: list[Tensor], requires_grad: list[bool],
                 outputs: list[Tensor], output_structure: Any) -> None:
        self.name = name
        self.output_structure = output_structure
        roots = [t._node for t in outputs if t._node is not None]
        nodes = sorted(nodes_leading_to(roots), key=creation_number)
        self.values: list[_Value] = []
        constants: list[Any] = []  # each value's constant, None for the others
        needs_grad: list[bool] = []  # per value: does a gradient flow to it
        slot_of: dict[int, int] = {}

        def new_slot(shape: tuple[int, ...], dtype: np.dtype, constant: Any = None,
                     grad: bool = False) -> int:
            self.values.append(_Value(tuple(shape), np.dtype(dtype)))
            constants.append(constant)
            needs_grad.append(grad)
            return len(self.values) - 1

        self.argument_slots = [new_slot(t.shape, t.dtype, grad=g)
                               for t, g in zip(arguments, requires_grad)]
        slot_of.update({id(t): s for t, s in zip(arguments, self.argument_slots)})
        self.captured: list[Tensor] = []  # the tensors fn captured, read at every call
        self.captured_slots: list[int] = []
        self._captured_state: list[tuple] = []

        def slot_of_leaf(t: Tensor) -> int:
            if id(t) not in slot_of:
                slot_of[id(t)] = new_slot(t.shape, t.dtype, grad=t.requires_grad)
                self.captured.append(t)
                self.captured_slots.append(slot_of[id(t)])
                self._captured_state.append((t.data.shape, t.data.dtype, t.requires_grad))
            return slot_of[id(t)]

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
                    inputs.append(new_slot(np.shape(x), getattr(x, "dtype", n.dtype), x))
            grad = n.prim is not STOP_GRADIENT and any(needs_grad[i] for i in inputs)
            slot_of[id(n)] = new_slot(n.shape, n.dtype, grad=grad)
            self.node_slots.add(slot_of[id(n)])
            ops.append((n.prim, tuple(inputs), n.params, slot_of[id(n)]))
        self.output_slots = [slot_of[id(t._node)] if t._node is not None else slot_of_leaf(t)
                             for t in outputs]
        # the outputs a gradient comes back through: results that depend on a value
        # requiring grad (an argument or captured tensor returned as is is itself)
        self.differentiable = list(dict.fromkeys(
            s for s in self.output_slots if needs_grad[s] and s in self.node_slots))
        self.size = n = len(self.values)
        self.template = [*constants, *[None] * n, *self.values]
        self.dtypes = [v.dtype for v in self.values] * 2
        self._plan_sweep(ops, needs_grad, constants)
        self._plan_forward(ops)
        self._plan_backward(*self._probe(arguments))

    def _plan_sweep(self, ops: list[tuple], needs_grad: list[bool], constants: list) -> None:
        """The eager sweep's decisions, made once: the nodes a gradient reaches, newest
        first, each with the inputs it passes a gradient to, where its VJPs' arguments are
        in the buffer, and which saved arrays it reads for the last time."""
        n = self.size
        receives = set(self.differentiable)
        sweep: list[list] = []
        self.saved: set[int] = set()  # the values some VJP reads
        for prim, inputs, params, out in reversed(ops):
            if out not in receives:
                continue
            passes = []
            for k, i in enumerate(inputs):
                if needs_grad[i]:
                    vjp = (prim.vjps[k] if prim.vjps is not None
                           else functools.partial(prim.vjp_each, k))
                    passes.append((vjp if not params else functools.partial(vjp, **params), i))
                    receives.add(i)
            if prim.saves_inputs:
                reads = inputs
                self.saved.update(inputs)
            else:  # the VJP gets each input's shape and dtype, and constants as they are
                reads = tuple(i if constants[i] is not None else 2 * n + i for i in inputs)
            if prim.saves_output:
                self.saved.add(out)
            sweep.append([out, prim.name, prim.selects_from_g, reads,
                          out if prim.saves_output else 2 * n + out, tuple(passes), ()])
        last_read: dict[int, int] = {}
        for index, step in enumerate(sweep):
            for i in (*step[3], step[4]):
                last_read[i] = index
        for i, index in last_read.items():
            if i in self.node_slots and self.values[i].worth_freeing:
                sweep[index][6] += (i,)
        self.sweep = [tuple(step) for step in sweep]
        self.gradient_inputs = [s for s in (*self.argument_slots, *self.captured_slots)
                                if s in receives]

    def _plan_forward(self, ops: list[tuple]) -> None:
        """The forward schedules, with the graph (a result goes after its last use unless
        a VJP reads it) and without (after its last use)."""
        last_use: dict[int, int] = {}
        for index, (_, inputs, _, _) in enumerate(ops):
            for i in inputs:
                last_use[i] = index
        gone_recording: list[list[int]] = [[] for _ in ops]
        gone_inference: list[list[int]] = [[] for _ in ops]
        for i, index in last_use.items():
            if (i in self.node_slots and i not in self.output_slots
                    and self.values[i].worth_freeing):
                gone_inference[index].append(i)
                if i not in self.saved:
                    gone_recording[index].append(i)
        recording_steps: list[tuple] = []
        self._inference_steps: list[tuple] = []
        for (prim, inputs, params, out), recording, inference in zip(
                ops, gone_recording, gone_inference):
            if prim is STOP_GRADIENT:
                step: list[tuple] = [(ALIAS, None, inputs[0], out)]
            else:
                forward = functools.partial(prim.forward, **params) if params else prim.forward
                step = [(ASSIGN, forward, inputs, out)]
                if not self.values[out].shape:  # reductions may give NumPy scalars
                    step.append((ASSIGN, np.asarray, (out,), out))
            recording_steps += step
            self._inference_steps += step
            if recording:
                recording_steps.append((FREE, None, tuple(recording), None))
            if inference:
                self._inference_steps.append((FREE, None, tuple(inference), None))
        self.forward_recording = lower(recording_steps, f"{self.name}, forward")

    @functools.cached_property
    def forward_inference(self) -> Callable[[list, list, set], None]:
        """The forward schedule under ``no_grad``: made at its first use."""
        return lower(self._inference_steps, f"{self.name}, forward without the graph")

    def _probe(self, arguments: list[Tensor]) -> tuple[list[bool], dict]:
        """Run the sweep once on the traced values, as the eager sweep would, and note
        which nodes' gradients arrive lazy and must be made dense, and for each VJP what
        it returned: whether its gradient is ready for its input (``exact``), whether it
        is ``g`` itself, and whether it is ``g`` scattered into a slice (getitem's)."""
        buf = self._buffer(arguments)
        grads: dict[int, Any] = {s: np.ones(self.values[s].shape, self.values[s].dtype)
                                 for s in self.differentiable}
        owned: set[int] = set()
        made_dense, seen = [], {}
        with np.errstate(all="ignore"):  # warnings belong to the calls, not to planning
            self.forward_recording(buf, self.dtypes, set())
            for index, (out, name, selects, reads, y, passes, _) in enumerate(self.sweep):
                g = grads.pop(out)
                dense = type(g) in LAZY and not (type(g) is Product and selects)
                made_dense.append(dense)
                if dense:
                    g = g.dense(self.values[out].dtype)
                args = (g, buf[y], *[buf[i] for i in reads])
                for p, (vjp, target) in enumerate(passes):
                    x = self.values[target]
                    gx = vjp(*args)
                    scattered = (type(gx) is Scattered and len(gx.pieces) == 1
                                 and gx.pieces[0][1] is g and gx.pieces[0][2])
                    seen[index, p] = _Seen(_fits(gx, x), gx is g,
                                           gx.pieces[0][0] if scattered else None)
                    gx = _through_door(gx, x, name)
                    if target in grads:
                        _accumulate(grads, owned, target, grads[target], gx, x.dtype)
                    else:
                        grads[target] = gx
        return made_dense, seen

    def _plan_backward(self, made_dense: list[bool], seen: dict) -> None:
        """Lower the sweep to steps. Per node: make its gradient dense if the probe saw it
        lazy, or join it in one pass from slices that tile it; per input, its VJP (behind
        the gradient door unless the probe saw an exact gradient), nothing for a VJP that
        returns ``g`` itself (the input's gradient is then the node's, under another
        name), or nothing for a slice joined later; then release what is read for the
        last time."""
        n = self.size
        joins = self._joins(seen)
        joined = {source for _, sources in joins.values() for source in sources}
        where: dict[int, int] = {}  # a value's gradient is at buf[where.get(s, n + s)]
        renamed: set[int] = set()  # buffer entries another value's gradient now uses
        reached: set[int] = set(self.differentiable)
        # a gradient made of several is a private buffer, added to in place: it can
        # take another value's name only if nothing else shares it
        summed = {t for t, count in Counter(t for step in self.sweep for _, t in step[5]).items()
                  if count > 1}
        steps: list[tuple] = []
        for index, (out, name, _, reads, y, passes, gone) in enumerate(self.sweep):
            g = where.get(out, n + out)
            if out in joins:
                axis, sources = joins[out]
                entries = tuple(where.get(s, n + s) for s in sources)
                steps.append((ASSIGN, functools.partial(_join, axis=axis), entries, g))
                steps.append((FREE, None, entries, None))
            elif made_dense[index]:
                steps.append((ASSIGN, functools.partial(_dense, dtype=self.values[out].dtype),
                              (g,), g))
            take = (g, y, *reads)
            for p, (vjp, target) in enumerate(passes):
                found = seen[index, p]
                if out in joined and target in joins:
                    continue
                first = target not in reached
                reached.add(target)
                if found.exact and found.identity and first:
                    if g not in renamed and out not in summed:
                        where[target] = g
                        renamed.add(g)
                    else:
                        steps.append((ALIAS, None, g, n + target))
                    continue
                if not found.exact:
                    vjp = functools.partial(_checked, vjp, self.values[target], name)
                steps.append((ASSIGN if first else ADD, vjp, take,
                              where.get(target, n + target)))
            keep = g in renamed or out in joined
            gone = gone if keep or not self.values[out].worth_freeing else (g, *gone)
            if gone:
                steps.append((FREE, None, gone, None))
        self.backward = lower(steps, f"{self.name}, backward")
        self.gradient_at = [where.get(s, n + s) for s in self.gradient_inputs]

    def _joins(self, seen: dict) -> dict[int, tuple[int, list]]:
        """The node values whose gradient is only slices of other nodes' gradients
        (``Z``'s four gate blocks) that tile it along one axis: ``{value: (axis,
        [source values in order])}``. One concatenation makes each, where the
        eager sweep scatters each slice into zeros."""
        pieces: dict[int, list] = {}
        other: set[int] = set()
        for index, (out, _, _, _, _, passes, _) in enumerate(self.sweep):
            for p, (_, target) in enumerate(passes):
                where = seen[index, p].scattered_at
                if where is None or target not in self.node_slots:
                    other.add(target)
                else:
                    pieces.setdefault(target, []).append((where, out, True))
        joins = {}
        for target, parts in pieces.items():
            tiles = None if target in other else _tiles(parts, self.values[target].shape)
            if tiles is not None:
                joins[target] = tiles
        return joins

    # ---- the replay ---------------------------------------------------------------------

    def captured_unchanged(self) -> bool:
        """Whether every captured tensor still has the shape, dtype and requires_grad it
        was traced with (else the plan no longer fits: trace again)."""
        for t, state in zip(self.captured, self._captured_state):
            if (t.data.shape, t.data.dtype, t.requires_grad) != state:
                return False
        return True

    def _buffer(self, arguments: list[Tensor]) -> list:
        buf = self.template.copy()
        for s, t in zip(self.argument_slots, arguments):
            buf[s] = t.data
        for s, t in zip(self.captured_slots, self.captured):
            buf[s] = t.data
        return buf

    def run(self, arguments: list[Tensor]) -> Any:
        """Replay on ``arguments`` (one tensor per tensor argument): the forward schedule,
        and the call's node in the graph when a gradient can flow back through it."""
        buf = self._buffer(arguments)
        record = bool(self.gradient_inputs) and grad_enabled()
        (self.forward_recording if record else self.forward_inference)(buf, self.dtypes, set())
        results: dict[int, Tensor] = self._record(buf, arguments) if record else {}
        for s in self.output_slots:
            if s in results:
                continue
            if s in self.argument_slots:
                results[s] = arguments[self.argument_slots.index(s)]
            elif s in self.captured_slots:
                results[s] = self.captured[self.captured_slots.index(s)]
            else:
                results[s] = make_tensor(buf[s], False, None)
        return _unflatten_outputs(self.output_structure,
                                  iter([results[s] for s in self.output_slots]))

    def _record(self, buf: list, arguments: list[Tensor]) -> dict[int, Tensor]:
        """The call's node: its inputs are the arguments and captured tensors that get a
        gradient; one output is the node's own, several hang off it (``output_primitives``)."""
        by_slot = dict(zip(self.argument_slots, arguments))
        by_slot.update(zip(self.captured_slots, self.captured))
        inputs = tuple(vertex(by_slot[s]) for s in self.gradient_inputs)
        gradient_inputs = set(self.gradient_inputs)
        watched = [t for s, t in by_slot.items() if s not in gradient_inputs and t._node is None]
        tape = _Tape(buf, len(self.differentiable), self.name, watched)
        if len(self.differentiable) == 1:
            s = self.differentiable[0]
            node = Node(self.primitive, inputs, {}, (tape,), None, buf[s])
            tape.seq = node._seq
            return {s: make_tensor(buf[s], True, node)}
        node = Node(self.primitive, inputs, {}, (tape,), None, self._marker)
        tape.seq = node._seq
        return {s: make_tensor(buf[s], True, Node(output_prim, (node,), None, None, None, buf[s]))
                for s, output_prim in zip(self.differentiable, self.output_primitives)}

    @functools.cached_property
    def primitive(self) -> Primitive:
        """The compiled call as a primitive: its VJP is the backward schedule."""
        return Primitive(self.name, _called_through_plan, vjp_each=self._vjp)

    @functools.cached_property
    def output_primitives(self) -> list[Primitive]:
        """For several outputs, output k's primitive: its VJP hands the gradient to the
        call's tape and passes on an empty one, so the call's node runs once, after all
        its outputs (it is older than each of them)."""
        return [Primitive(f"{self.name}[{k}]", _called_through_plan,
                          functools.partial(_hand_over, k, self._marker))
                for k in range(len(self.differentiable))]

    @functools.cached_property
    def _marker(self) -> np.ndarray:
        return np.empty((0,), self.values[self.differentiable[0]].dtype)

    def _vjp(self, k: int, g: Any, y: Any, tape: _Tape) -> Any:
        """The gradient for the call's input ``k``: the sweep asks for each input in turn
        (k = 0, 1, ...); the first asking runs the backward schedule for all of them."""
        if isinstance(g, Tensor):
            raise RuntimeError(f"backward: create_graph=True cannot differentiate through "
                               f"{self.name} (a compiled function); call the function "
                               f"without mg.compile to take higher derivatives")
        if tape.input_grads is None or k <= tape.last_k:  # a new sweep
            for t in tape.watched:
                if t._version > tape.seq:
                    raise _modified_in_place(tape, t)
            if len(self.differentiable) == 1:
                seeds = [g]
            else:
                seeds = [np.zeros(self.values[s].shape, self.values[s].dtype) if seed is None
                         else seed for seed, s in zip(tape.output_grads, self.differentiable)]
                tape.output_grads = [None] * len(seeds)
            tape.input_grads = self._run_backward(seeds, tape, not retaining_graph())
        tape.last_k = k
        return tape.input_grads[k]

    def _run_backward(self, seeds: list, tape: _Tape, consume: bool) -> list:
        """Seed the outputs' gradients, run the backward schedule, and return the gradient
        of each input of the call; without ``consume`` (retain_graph) on a copy of the
        buffer, so that the saved arrays stay for the next backward."""
        buf = tape.buf if consume else tape.buf.copy()
        n = self.size
        for s, seed in zip(self.differentiable, seeds):
            buf[n + s] = seed
        self.backward(buf, self.dtypes, set())
        return [buf[i] for i in self.gradient_at]


def _fits(gx: Any, x: _Value) -> bool:
    """Whether a VJP's gradient needs nothing from the gradient door for input ``x``."""
    if type(gx) is np.ndarray:
        return gx.shape == x.shape and gx.dtype == x.dtype
    return type(gx) in LAZY and gx.shape == x.shape


def _through_door(gx: Any, x: _Value, op: str) -> Any:
    """The gradient door for a compiled VJP's gradient, as the eager sweep's: a lazy one
    must have the input's shape, anything else is fitted (``_fit``)."""
    if type(gx) in LAZY:
        if gx.shape != x.shape:
            raise _wrong_shape(op, gx.shape, x.shape)
        return gx
    return _fit(gx, x, op)


def _checked(vjp: Any, x: _Value, op: str, *args: Any) -> Any:
    """A VJP whose gradient goes through the gradient door (broadcast inputs)."""
    return _through_door(vjp(*args), x, op)


def _dense(g: Any, dtype: np.dtype) -> np.ndarray:
    return g.dense(dtype)


def _join(*pieces: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(pieces, axis=axis)


class _Seen(NamedTuple):
    """What the probe saw a VJP return (see ``Plan._probe``)."""

    exact: bool
    identity: bool
    scattered_at: Any  # the index, for ``g`` scattered into a slice of zeros


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


def _unflatten_outputs(structure: Any, tensors: Any) -> Any:
    if structure is _TENSOR:
        return next(tensors)
    kind, items = structure
    if kind is dict:
        return {k: _unflatten_outputs(s, tensors) for k, s in items}
    return kind(_unflatten_outputs(s, tensors) for s in items)
