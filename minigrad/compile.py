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
same VJPs as eager, through the same gradient door (``autograd.through_door``) and the
same accumulation (``_accumulate``): gradients agree with eager ones to rounding, and go
into ``.grad`` the way eager ones do.
"""

from __future__ import annotations

import builtins
import functools
import math
import types
import warnings
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable
from operator import itemgetter
from time import perf_counter
from typing import Any, NamedTuple

import numpy as np

from . import plan_text
from .autograd import FREED_GRAPH, _accumulate, _modified_in_place, fits, through_door, vertex
from .context import (
    TracingError,
    anomaly_enabled,
    detached_in_trace,
    grad_enabled,
    retaining_graph,
    tracing,
    tracing_switch,
)
from .lazy import LAZY, Product, Scattered, _tiles
from .primitive import STOP_GRADIENT, Primitive
from .signature import TENSOR, Guards, Key, describe_call, differences, flatten, unflatten
from .tensor import (
    Node,
    Tensor,
    creation_number,
    make_tensor,
    new_creation_number,
    nodes_leading_to,
)
from .verify import CompileMismatchError, check_against_eager

__all__ = ["CompileMismatchError", "CompiledFunction", "Plan", "TracingError", "compile"]


#: ``mg.compile``'s ``fuse`` when none is given (the test suite runs with it off too)
FUSE_BY_DEFAULT = True


def compile(fn: Callable[..., Any] | None = None, *,  # noqa: A001 - mg.compile, as torch's
            cache_size: int = 8, verify: int = 0, fuse: bool | None = None) -> Any:
    """Compile ``fn(*tensors) -> Tensor or tuple of Tensors``: the first call for each
    signature traces it, later calls replay the trace as a flat schedule of NumPy calls.

    Example::

        step = mg.compile(loss_fn)     # or @mg.compile above the def
        loss = step(xs, h0, y)         # first call: traces loss_fn, then replays it
        loss.backward()                # gradients reach the arguments and captured leaves
        print(step.explain())          # each signature traced, and why it traced again

    What a replay reads at every call (never silently stale):

    - Tensor arguments, and float NumPy arrays (passed to ``fn`` as tensors that do not
      require grad).
    - The tensors ``fn`` captures (weights): their current ``.data``, whether an optimizer
      updated it in place or rebound it. A captured tensor that is itself a result
      (``W2 = W * 2`` computed before the call) is read as it is now, never recomputed
      from ``W``; gradients still flow into it and, through the eager graph, beyond it.
    - Tensors made inside ``fn`` are new at every call, as in eager; but a leaf that the
      caller keeps (a ``get_variable`` helper's dict, a lazy layer's weight made at the
      first call) is made once, by the trace, and captured like any weight from then on.
      A tensor ``detach()``ed inside and kept (``self.h = h.detach()``, truncated BPTT)
      is a plain tensor holding its value.

    What is part of the signature (a change traces again; the last ``cache_size`` plans
    are kept): tensor shapes, dtypes and ``requires_grad`` (``fn`` sees each tensor's
    ``requires_grad`` as eager would); whether grad mode is on (``mg.no_grad()``); every
    other argument, dict keys included, by exact value (``0.0`` and ``-0.0`` differ, NaN
    is NaN, ``1`` is not ``True``; iterators are refused); an argument object by its
    content; the captured tensors' shapes, dtypes and ``requires_grad``. **Guards**: the
    one rule is that every piece of Python state the trace can read is in the key, as a
    content fingerprint followed to any depth, with no budget: the globals ``fn`` reads,
    its closure variables, its default arguments, what it is bound to (``self``, a
    ``functools.partial``'s arguments, a callable object or Module called directly), and
    from each of these their attributes, items, class attributes, and the defaults,
    closures and globals of the user's functions they reach (library functions, from
    the standard library, installed packages or minigrad, by identity). Tensors by
    identity (their data is read at every replay), NumPy arrays by content, numbers by
    exact value. Should checking all that cost more than running ``fn`` eagerly, it warns
    once and runs ``fn`` eagerly from then on.

    What stays frozen at trace time, as in ``jax.jit``: **Python control flow** on values
    (``if``, ``for`` and their counts), random numbers drawn inside ``fn``, state no
    fingerprint can read (a C object such as an ``itertools.count``, seen by identity),
    and a tensor's ``t.data`` read inside ``fn``. Reading a tensor's value in Python
    inside ``fn`` (``float(t)``, ``t.item()``, ``if t > 0:``, ``np.asarray(t)``) raises
    :class:`TracingError`, and so do ``backward()`` and ``mg.grad`` inside ``fn``.
    ``verify=N`` checks replays against eager, which catches what is frozen and should
    not be.

    The result is what eager ``fn`` returns, values and gradients equal to rounding. An
    intermediate returned beside what is computed from it (``return loss, h``) is
    computed first, then the rest from it, so ``h.retain_grad()`` and
    ``mg.grad(loss, [h])`` work as in eager.
    Under ``mg.no_grad()`` only the forward schedule runs and nothing is recorded;
    outputs on separate subgraphs backpropagate separately, as eager ones do; a second
    ``backward()`` through a freed part without ``retain_graph=True`` raises the eager
    error; ``create_graph=True`` through a compiled call raises (call ``fn`` itself for
    higher derivatives). Under ``mg.detect_anomaly()`` the function runs eagerly, so the
    error names the op.

    Above a method, ``@mg.compile`` compiles it for every instance: the instance is the
    first argument, so its state is part of the signature.

    Args:
        fn: the function; with no ``fn``, ``mg.compile(cache_size=...)`` is a decorator.
        cache_size: how many signatures' plans to keep. Tracing past it warns, once per
            function, with the reason (see ``explain()``).
        verify: the first ``verify`` replays of each signature also run ``fn`` eagerly and
            compare outputs and gradients (for random cotangents); a difference raises
            :class:`CompileMismatchError`.
        fuse: plan with the optimisations (None: ``FUSE_BY_DEFAULT``, True; False: the
            plain lowering of the eager sweep, every VJP called and passed through the
            gradient door, no gradient renamed, aliased or joined; the same numbers, for
            checking and for teaching).

    ``print(step.plans[-1])`` (or any plan in ``step.plans.values()``) shows a replay as
    the NumPy calls it makes, forward and backward, one line a step, with the tensors'
    names where they have one (``Z_t3 = X_t3 @ W``; ``dW`` is W's gradient).
    """
    fuse = FUSE_BY_DEFAULT if fuse is None else fuse
    if fn is None:
        return lambda f: CompiledFunction(f, cache_size, verify, fuse)
    return CompiledFunction(fn, cache_size, verify, fuse)


class Plans(OrderedDict):
    """A compiled function's cached plans, by signature, oldest first; an integer picks
    one by position (``step.plans[-1]``: the latest)."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int) and not isinstance(key, bool):
            return list(self.values())[key]
        return super().__getitem__(key)


class CompiledFunction:
    """A function traced once per signature and replayed (see :func:`compile`).

    ``traces`` counts the traces so far; ``plans`` maps each cached signature to its
    :class:`Plan`; ``verified`` counts the replays checked against eager.
    """

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8, verify: int = 0,
                 fuse: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"mg.compile: expected a function, got {type(fn).__name__}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"mg.compile: cache_size must be a positive integer, got "
                             f"{cache_size!r}")
        if isinstance(verify, bool) or not isinstance(verify, int) or verify < 0:
            raise ValueError(f"mg.compile: verify must be a non-negative integer (the "
                             f"replays to check against eager), got {verify!r}")
        functools.update_wrapper(self, fn, updated=())
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.cache_size = cache_size
        self.verify = verify
        self.fuse = bool(fuse)
        self.verified = 0
        self.plans: Plans = Plans()
        self.traces = 0
        self._guards = Guards(fn)
        self._history: list[tuple[str, list[str]]] = []  # per trace: signature, reasons
        self._last: dict[str, dict[str, str]] | None = None  # the latest call's description
        self._warned = False
        #: True once checking a call's key cost more than running fn eagerly: fn runs
        #: eagerly from then on
        self.eager = False

    def __repr__(self) -> str:
        return f"<minigrad compiled {getattr(self.fn, '__qualname__', self.fn)!r}>"

    def __get__(self, owner: Any, owner_type: type | None = None) -> Any:
        """``@mg.compile`` above a method: ``model.step`` is this function with ``model``
        as its first argument (an argument object, so its state is in the signature)."""
        return self if owner is None else types.MethodType(self, owner)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing() or anomaly_enabled() or self.eager:
            return self.fn(*args, **kwargs)  # inlined into an outer trace / eager errors
        started = perf_counter()
        tensors: list[Tensor] = []
        structure = flatten((args, kwargs), tensors, self._guards.attributes)
        key = (structure, tuple([(t.data.shape, t.data.dtype, t.requires_grad)
                                 for t in tensors]), self._guards.key(), grad_enabled())
        checking = perf_counter() - started
        plan = self.plans.get(key)
        if plan is None or not plan.captured_unchanged():
            plan = self._trace(structure, tensors, key, plan)
            return plan.run(tensors)
        self.plans.move_to_end(key)
        self._last = plan.description
        if plan.timed < TIMED_REPLAYS:
            result = self._timed_run(plan, tensors, checking)
        else:
            result = plan.run(tensors)
        if plan.verified < self.verify:
            plan.verified += 1
            self.verified += 1
            check_against_eager(self.fn, args, kwargs, tensors, result, plan)
        return result

    def _timed_run(self, plan: Plan, tensors: list[Tensor], checking: float) -> Any:
        """Replay, after comparing the time checking the call's key took with the time
        the function took to run (traced, at its first call): if checking costs more at
        each of the first TIMED_REPLAYS replays, compiling cannot pay, and the function
        runs eagerly from then on (with a warning, once)."""
        plan.timed += 1
        plan.slow_checks += checking > plan.eager_seconds
        if plan.slow_checks == TIMED_REPLAYS:
            self.eager = True
            warnings.warn(f"mg.compile({self.name}): checking what the function reads (its "
                          f"arguments and guards, {checking * 1e3:.3g} ms) costs more than "
                          f"running it eagerly ({plan.eager_seconds * 1e3:.3g} ms), so it "
                          f"runs eagerly from now on. Pass large state in as tensors, or "
                          f"keep it out of what the function reads (globals, closure, "
                          f"attributes).", RuntimeWarning, stacklevel=3)
        return plan.run(tensors)

    def explain(self) -> str:
        """Every signature traced so far, and for each retrace what changed from the call
        before it: which argument (its shape, dtype, requires_grad or value), which
        guarded name, which captured tensor."""
        lines = [f"mg.compile({self.name}): {self.traces} trace(s), {len(self.plans)} of "
                 f"at most {self.cache_size} plans cached, {self.verified} replay(s) "
                 f"verified against eager"]
        for k, (signature, reasons) in enumerate(self._history, 1):
            lines.append(f"trace {k}: " + ("; ".join(reasons) if reasons else "first call"))
            lines.append(f"    signature: {signature}")
        return "\n".join(lines)

    def _trace(self, structure: Any, tensors: list[Tensor], key: Any,
               stale: Plan | None) -> Plan:
        """Run ``fn`` eagerly while tracing, on stand-ins of the tensor arguments that
        require grad (so every op they reach is recorded), and plan what it did."""
        description = describe_call(structure, tensors, self._guards.labels(), key[2])
        if stale is not None:
            reasons = stale.captured_changes()
        elif self._last is None:
            reasons = []
        else:
            reasons = differences(self._last, description) or ["an earlier signature, "
                                                                "evicted from the cache"]
        self._history.append((_one_line(description), reasons))
        self._last = description
        stand_ins = []
        for t in tensors:
            s = make_tensor(t.data, t.requires_grad, None)
            s._name = t._name
            stand_ins.append(s)
        since = new_creation_number()
        # in the caller's grad mode, which the key holds
        started = perf_counter()
        with tracing_switch(since), detached_in_trace() as detached:
            args, kwargs = unflatten(structure, iter(stand_ins))
            result = self.fn(*args, **kwargs)
        eager_seconds = perf_counter() - started
        outputs: list[Tensor] = []
        output_structure = _flatten_outputs(result, outputs, self.name)
        del result
        plan = make_plan(f"compiled {self.name}", stand_ins, [t.requires_grad for t in tensors],
                         outputs, output_structure, since, fuse=self.fuse)
        for t in detached:  # kept by the caller (self.h = h.detach()): a plain tensor,
            t._node = None  # not a way into the trace's released graph
        plan.description = description
        plan.eager_seconds = eager_seconds
        self.traces += 1
        self.plans[key] = plan
        self.plans.move_to_end(key)
        if len(self.plans) > self.cache_size:
            self.plans.popitem(last=False)
            if not self._warned:
                self._warned = True
                warnings.warn(f"mg.compile({self.name}) traced again past its cache_size of "
                              f"{self.cache_size} (trace {self.traces}), because "
                              f"{'; '.join(reasons) or 'of a new signature'}. Each trace "
                              f"costs an eager call and planning; keep that from changing "
                              f"between calls, or raise cache_size. step.explain() lists "
                              f"every trace and its reason.", RuntimeWarning, stacklevel=3)
        return plan


def _one_line(description: dict[str, dict[str, str]]) -> str:
    parts = []
    for label, aspects in description.items():
        if label.startswith("argument"):
            parts.append(f"{label} " + " ".join(f"{k}={v}" for k, v in aspects.items()))
    return "; ".join(parts) or "no arguments"


# ---- results: nested tuples, lists and dicts of tensors -----------------------------------

def _flatten_outputs(value: Any, outputs: list[Tensor], name: str) -> Any:
    """As :func:`signature.flatten` (whose ``unflatten`` rebuilds it), for what ``fn``
    returns: Tensors in tuples, lists and dicts, and nothing else."""
    if isinstance(value, Tensor):
        outputs.append(value)
        return TENSOR
    if type(value) in (tuple, list):
        return (type(value), tuple([_flatten_outputs(v, outputs, name) for v in value]))
    if type(value) is dict:
        return (dict, tuple([(Key(k), _flatten_outputs(v, outputs, name))
                             for k, v in value.items()]))
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


#: At the first replays of each plan, the check of the call's key (signature and guards)
#: is timed against the function's traced run; if it costs more every time, compiling
#: cannot pay, and the function runs eagerly.
TIMED_REPLAYS = 3

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


class Plan(_Traced):
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
        fuse: rename, alias and join gradients and skip the gradient door where the probe
            allows (False: call every VJP, through the door).

    ``str(plan)`` is the replay as text: every step of the forward and backward
    schedules, one line each, with the values' names (see :mod:`minigrad.plan_text`).
    """

    def __init__(self, name: str, arguments: list[Tensor], requires_grad: list[bool],
                 outputs: list[Tensor], output_structure: Any, since: int,
                 release: bool = True, fuse: bool = True) -> None:
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
        # the outputs a gradient comes back through: results that depend on a value
        # requiring grad (an argument or captured tensor returned as is is itself)
        self.differentiable = list(dict.fromkeys(
            s for s in self.output_slots if needs_grad[s] and s in self.node_slots))
        self.names = plan_text.unique(labels)
        self.size = n = len(self.values)
        self.template = [*constants, *[None] * n, *self.values]
        self.dtypes = [v.dtype for v in self.values] * 2
        self.saved: set[int] = set()  # the values some VJP reads
        self.groups = [self._plan_sweep(group, ops, needs_grad, constants)
                       for group in _connected(self.differentiable, ops)]
        self.gradient_inputs = list(dict.fromkeys(
            s for group in self.groups for s in group.gradient_inputs))
        self._plan_forward(ops)
        for group in self.groups:
            self._plan_backward(group, *self._probe(group, arguments))

    def _plan_sweep(self, group: _Group, ops: list[tuple], needs_grad: list[bool],
                    constants: list) -> _Group:
        """The eager sweep's decisions for one group, made once: the nodes a gradient
        reaches, newest first, each with the inputs it passes a gradient to, where its
        VJPs' arguments are in the buffer, and which saved arrays it reads for the last
        time."""
        n = self.size
        receives = set(group.outputs)
        sweep: list[list] = []
        for prim, inputs, params, out in reversed(ops):
            if out not in receives:
                continue
            passes = []
            for k, i in enumerate(inputs):
                if needs_grad[i]:
                    group.positions[len(sweep), len(passes)] = k
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
        group.sweep = [tuple(step) for step in sweep]
        group.gradient_inputs = [s for s in (*self.argument_slots, *self.captured_slots,
                                             *[f[0] for f in self.fresh]) if s in receives]
        return group

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
        self.forward_text: list[tuple] = []  # the recording schedule, for str(plan)
        for (prim, inputs, params, out), recording, inference in zip(
                ops, gone_recording, gone_inference):
            if prim is STOP_GRADIENT:
                step: list[tuple] = [(ALIAS, None, inputs[0], out)]
                self.forward_text.append(("alias", inputs[0], out))
            else:
                self.forward_text.append(("op", prim.name, inputs, params, out))
                forward = functools.partial(prim.forward, **params) if params else prim.forward
                step = [(ASSIGN, forward, inputs, out)]
                if not self.values[out].shape:  # reductions may give NumPy scalars
                    step.append((ASSIGN, np.asarray, (out,), out))
            recording_steps += step
            self._inference_steps += step
            if recording:
                recording_steps.append((FREE, None, tuple(recording), None))
                self.forward_text.append(("free", tuple(recording)))
            if inference:
                self._inference_steps.append((FREE, None, tuple(inference), None))
        self.forward_recording = lower(recording_steps, f"{self.name}, forward")

    def __str__(self) -> str:
        return plan_text.render(self.name, self.names, self.forward_text,
                                [group.text for group in self.groups])

    @functools.cached_property
    def forward_inference(self) -> Callable[[list, list, set], None]:
        """The forward schedule under ``no_grad``: made at its first use."""
        return lower(self._inference_steps, f"{self.name}, forward without the graph")

    def _probe(self, group: _Group, arguments: list[Tensor]) -> tuple[list[bool], dict]:
        """Run the sweep once on the traced values, as the eager sweep would, and note
        which nodes' gradients arrive lazy and must be made dense, and for each VJP what
        it returned: whether its gradient is ready for its input (``exact``), whether it
        is ``g`` itself, and whether it is ``g`` scattered into a slice (getitem's). Saved
        arrays go after their last read, as in a replay, so that planning peaks no higher
        than a call does."""
        buf = self._buffer(self._inputs(arguments, fresh=False))
        grads: dict[int, Any] = {s: np.ones(self.values[s].shape, self.values[s].dtype)
                                 for s in group.outputs}
        owned: set[int] = set()
        made_dense, seen = [], {}
        with np.errstate(all="ignore"):  # warnings belong to the calls, not to planning
            self.forward_recording(buf, self.dtypes, set())
            for index, (out, name, selects, reads, y, passes, gone) in enumerate(group.sweep):
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
                    seen[index, p] = _Seen(fits(gx, x), gx is g,
                                           gx.pieces[0][0] if scattered else None)
                    gx = through_door(gx, x, name)
                    if target in grads:
                        _accumulate(grads, owned, target, grads[target], gx, x.dtype)
                    else:
                        grads[target] = gx
                del args, g
                for i in gone:
                    buf[i] = None
        return made_dense, seen

    def _plan_backward(self, group: _Group, made_dense: list[bool], seen: dict) -> None:
        """Lower the sweep to steps. Per node: make its gradient dense if the probe saw it
        lazy, or join it in one pass from slices that tile it; per input, its VJP (behind
        the gradient door unless the probe saw an exact gradient), nothing for a VJP that
        returns ``g`` itself (the input's gradient is then the node's, under another
        name), or nothing for a slice joined later; then release what is read for the
        last time."""
        n = self.size
        joins = self._joins(group, seen) if self.fuse else {}
        joined = {source for _, sources in joins.values() for source in sources}
        text = group.text
        where: dict[int, int] = {}  # a value's gradient is at buf[where.get(s, n + s)]
        renamed: set[int] = set()  # buffer entries another value's gradient now uses
        reached: set[int] = set(group.outputs)
        # a gradient made of several is a private buffer, added to in place: it can
        # take another value's name only if nothing else shares it
        summed = {t for t, count in Counter(t for step in group.sweep for _, t in step[5]).items()
                  if count > 1}
        steps: list[tuple] = []
        for index, (out, name, _, reads, y, passes, gone) in enumerate(group.sweep):
            g = where.get(out, n + out)
            if out in joins:
                axis, sources = joins[out]
                entries = tuple(where.get(s, n + s) for s in sources)
                steps.append((ASSIGN, functools.partial(_join, axis=axis), entries, g))
                steps.append((FREE, None, entries, None))
                text += [("join", axis, entries, g), ("free", entries)]
            elif made_dense[index]:
                steps.append((ASSIGN, functools.partial(_dense, dtype=self.values[out].dtype),
                              (g,), g))
                text.append(("dense", g))
            take = (g, y, *reads)
            for p, (vjp, target) in enumerate(passes):
                found = seen[index, p]
                if out in joined and target in joins:
                    continue
                first = target not in reached
                reached.add(target)
                if self.fuse and found.exact and found.identity and first:
                    if g not in renamed and out not in summed:
                        where[target] = g
                        renamed.add(g)
                        text.append(("rename", name, g, n + target))
                    else:
                        steps.append((ALIAS, None, g, n + target))
                        text.append(("alias", g, n + target))
                    continue
                door = not (self.fuse and found.exact)
                if door:
                    vjp = functools.partial(_checked, vjp, self.values[target], name)
                steps.append((ASSIGN if first else ADD, vjp, take,
                              where.get(target, n + target)))
                text.append(("vjp", name, group.positions[index, p], take,
                             where.get(target, n + target), first, door))
            keep = g in renamed or out in joined
            gone = gone if keep or not self.values[out].worth_freeing else (g, *gone)
            if gone:
                steps.append((FREE, None, gone, None))
                text.append(("free", gone))
        group.backward = lower(steps, f"{self.name}, backward")
        group.gradient_at = [where.get(s, n + s) for s in group.gradient_inputs]
        group.marker = np.empty((0,), self.values[group.outputs[0]].dtype)
        group.primitive = Primitive(self.name, _called_through_plan,
                                    vjp_each=functools.partial(self._vjp, group))
        # for several outputs, output k's primitive: its VJP hands the gradient to the
        # group's tape and passes on an empty one, so the group's node runs once, after
        # all its outputs (it is older than each of them)
        group.output_primitives = [
            Primitive(f"{self.name}[{k}]", _called_through_plan,
                      functools.partial(_hand_over, k, group.marker))
            for k in range(len(group.outputs))]

    def _joins(self, group: _Group, seen: dict) -> dict[int, tuple[int, list]]:
        """The node values whose gradient is only slices of other nodes' gradients
        (``Z``'s four gate blocks) that tile it along one axis: ``{value: (axis,
        [source values in order])}``. One concatenation makes each, where the
        eager sweep scatters each slice into zeros."""
        pieces: dict[int, list] = {}
        other: set[int] = set()
        for index, (out, _, _, _, _, passes, _) in enumerate(group.sweep):
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
        return [buf[i] for i in group.gradient_at]


def make_plan(name: str, arguments: list[Tensor], requires_grad: list[bool],
              outputs: list[Tensor], output_structure: Any, since: int,
              release: bool = True, fuse: bool = True) -> Plan | _Staged:
    """A :class:`Plan` of the trace, or, when ``fn`` returns an intermediate that another
    output is computed from (``return loss, h``), a :class:`_Staged` one."""
    inner = _intermediates(outputs, since)
    if not inner:
        return Plan(name, arguments, requires_grad, outputs, output_structure, since, release,
                    fuse)
    return _Staged(name, arguments, requires_grad, outputs, output_structure, since, inner,
                   release, fuse)


def _intermediates(outputs: list[Tensor], since: int) -> list[Tensor]:
    """The outputs, each once, that another output is computed from, in the trace."""
    nodes = [t._node for t in outputs if t._node is not None and t._node._seq >= since]
    below = nodes_leading_to([x for n in nodes for x in n.inputs or ()])
    return list({id(t): t for t in outputs
                 if t._node in below and t._node._seq >= since}.values())


class _Staged(_Traced):
    """The plan of a function that returns an intermediate with what is computed from it
    (``return loss, h``): a first stage computes the intermediates, a later stage the
    rest from them, so that in the eager graph the later outputs are computed from the
    intermediates, as in eager: ``h.retain_grad()`` and ``mg.grad(loss, [h])`` work.
    It answers as a :class:`Plan` does."""

    def __init__(self, name: str, arguments: list[Tensor], requires_grad: list[bool],
                 outputs: list[Tensor], output_structure: Any, since: int,
                 inner: list[Tensor], release: bool, fuse: bool) -> None:
        super().__init__()
        ids = {id(t): k for k, t in enumerate(inner)}
        rest = list({id(t): t for t in outputs if id(t) not in ids}.values())
        rest_ids = {id(t): k for k, t in enumerate(rest)}
        self.where = [(True, ids[id(t)]) if id(t) in ids else (False, rest_ids[id(t)])
                      for t in outputs]
        flat = (tuple, (TENSOR,) * len(rest))
        # the later stage first: it stops at the intermediates, whose graph the first
        # stage still needs (and releases)
        self.later = Plan(name, [*arguments, *inner],
                          [*requires_grad, *[t.requires_grad for t in inner]], rest, flat,
                          since, release=False, fuse=fuse)
        self.first = make_plan(name, arguments, requires_grad, inner,
                               (tuple, (TENSOR,) * len(inner)), since, release, fuse)
        self.name, self.output_structure = name, output_structure

    def __str__(self) -> str:
        return (f"{self.name}, in two stages: first the intermediates it returns, then the "
                f"rest from them\n{self.first}\n{self.later}")

    def run(self, arguments: list[Tensor]) -> Any:
        inner = list(self.first.run(arguments))
        rest = self.later.run([*arguments, *inner])
        return unflatten(self.output_structure, iter(
            [inner[k] if first else rest[k] for first, k in self.where]))

    def captured_unchanged(self) -> bool:
        return self.first.captured_unchanged() and self.later.captured_unchanged()

    def captured_changes(self) -> list[str]:
        return [*self.first.captured_changes(), *self.later.captured_changes()]

    def differentiated(self, arguments: list[Tensor]) -> list[tuple[str, Tensor]]:
        found = {id(t): (label, t) for label, t in self.first.differentiated(arguments)}
        for label, t in self.later.differentiated(arguments):  # the intermediates: not
            found.setdefault(id(t), (label, t))  # in ``arguments``, so never listed
        return list(found.values())


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


def _checked(vjp: Any, x: _Value, op: str, *args: Any) -> Any:
    """A VJP whose gradient goes through the gradient door (broadcast inputs)."""
    return through_door(vjp(*args), x, op)


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
