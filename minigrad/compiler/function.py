"""``mg.compile`` and :class:`CompiledFunction`: the cache of plans by signature, the
stages run in order at a new signature (trace, plan, lower), ``explain()`` and
``verify=``.
"""

from __future__ import annotations

import functools
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from ..context import (
    anomaly_enabled,
    detached_in_trace,
    grad_enabled,
    tracing,
    tracing_switch,
)
from ..tensor import (
    Tensor,
    make_tensor,
    new_creation_number,
)
from .guards import Guards
from .passes import chosen_passes
from .plan import Plan
from .signature import describe_call, differences, flatten, one_line, unflatten
from .staged import make_plan
from .trace import _flatten_outputs
from .verify import check_against_eager

#: At the first replays of each plan, the check of the call's key (signature and guards)
#: is timed against the function's traced run; if it costs more every time, compiling
#: cannot pay, and the function runs eagerly.
TIMED_REPLAYS = 3


#: ``mg.compile``'s ``fuse`` when none is given (the test suite runs with it off too)
FUSE_BY_DEFAULT = True


def compile(fn: Callable[..., Any] | None = None, *,  # noqa: A001 - mg.compile, as torch's
            cache_size: int = 8, verify: int = 0,
            fuse: bool | Iterable[str] | None = None) -> Any:
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
        fuse: the optimisations to plan with: True (all of them, the default), False
            (none: the plain lowering of the eager sweep, every VJP called and passed
            through the gradient door; the same numbers, for checking and for teaching),
            or the names of some of them (``fuse={"join"}``; see
            :data:`minigrad.compiler.passes.PASSES`). None: ``FUSE_BY_DEFAULT``.

    ``print(step.plans[-1])`` (or any plan in ``step.plans.values()``) shows a replay as
    the NumPy calls it makes, forward and backward, one line a step, with the tensors'
    names where they have one (``Z_t3 = X_t3 @ W``; ``dW`` is W's gradient).
    """
    fuse = chosen_passes(FUSE_BY_DEFAULT if fuse is None else fuse)
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
                 fuse: bool | Iterable[str] = True) -> None:
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
        self.fuse = chosen_passes(fuse)
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
        self._history.append((one_line(description), reasons))
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
