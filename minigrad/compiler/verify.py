"""``mg.compile(fn, verify=N)``: a replay checked against eager ``fn``.

The check runs ``fn`` eagerly on the call's own arguments, compares each output with the
replay's, then draws one random cotangent per output that requires grad and compares the
gradients both give every tensor the call differentiates (arguments and captured
tensors), with ``mg.grad`` (no ``.grad`` is touched, both graphs are kept for the user's
own backward). Each entry is compared on its own, as ``np.allclose`` does, at
rounding-level tolerances for the dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import grad
from ..context import grad_enabled
from ..tensor import Tensor

#: Per dtype, ``(rtol, atol)``: each entry may differ from eager by ``atol + rtol * |eager|``,
#: as ``np.allclose`` checks, so a small entry is held to its own size, not the largest
#: entry's (float64 as ``torch.testing.assert_close``; float32 allows the rounding of sums
#: taken in another order, as a joined GEMM does).
TOLERANCE = {np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.float32): (1e-4, 1e-5),
             np.dtype(np.float16): (1e-2, 1e-3)}


class CompileMismatchError(AssertionError):
    """A compiled function's replay gave another result than eager ``fn`` (see
    ``mg.compile(verify=N)``): something the trace froze changed."""


def check_against_eager(fn: Any, args: tuple, kwargs: dict, tensors: list[Tensor],
                        result: Any, plan: Any) -> None:
    """Raise :class:`CompileMismatchError` unless ``fn(*args, **kwargs)`` run eagerly gives
    ``result`` (a replay of ``plan`` on ``tensors``), values and gradients."""
    compiled = _tensors_in(result)
    expected = _tensors_in(fn(*args, **kwargs))
    if len(compiled) != len(expected):
        raise _mismatch(plan, f"it returned {len(compiled)} tensors, eager {len(expected)}")
    for k, (c, e) in enumerate(zip(compiled, expected)):
        _compare(plan, f"output {k}", c.data, e.data)
    live = [k for k, c in enumerate(compiled) if c.requires_grad]
    if [k for k, e in enumerate(expected) if e.requires_grad] != live:
        raise _mismatch(plan, f"outputs {live} require grad, eager ones "
                              f"{[k for k, e in enumerate(expected) if e.requires_grad]}")
    if not live or not grad_enabled():
        return
    labelled = plan.differentiated(tensors)
    if not labelled:
        return
    rng = np.random.default_rng(plan.verified)
    seeds = [rng.standard_normal(compiled[k].shape).astype(compiled[k].dtype) for k in live]
    inputs = [t for _, t in labelled]
    got = grad([compiled[k] for k in live], inputs, seeds, retain_graph=True,
               allow_unused=True)
    want = grad([expected[k] for k in live], inputs, seeds, retain_graph=True,
                allow_unused=True)
    for (label, _), g, w in zip(labelled, got, want):
        if (g is None) != (w is None):
            raise _mismatch(plan, f"the gradient of {label} is "
                                  f"{'missing' if g is None else 'there'} in the replay and "
                                  f"{'missing' if w is None else 'there'} in eager")
        if g is not None:
            _compare(plan, f"the gradient of {label}", g.data, w.data)


def _tensors_in(value: Any) -> list[Tensor]:
    found, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            found.append(v)
        elif type(v) in (tuple, list):
            stack.extend(reversed(v))
        elif type(v) is dict:
            stack.extend(reversed(list(v.values())))
    return found


def _compare(plan: Any, label: str, got: np.ndarray, expected: np.ndarray) -> None:
    if got.shape != expected.shape or got.dtype != expected.dtype:
        raise _mismatch(plan, f"{label} has shape {got.shape} and dtype {got.dtype}, eager "
                              f"{expected.shape} and {expected.dtype}")
    got64, want64 = got.astype(np.float64), expected.astype(np.float64)
    finite = np.isfinite(want64)
    same_special = (np.isnan(got64) == np.isnan(want64)) & (
        np.isfinite(got64) == finite) & ((got64 == want64) | finite | np.isnan(want64))
    if not np.all(same_special):
        where = np.unravel_index(int(np.argmin(same_special)), got.shape)
        raise _mismatch(plan, f"{label} (shape {got.shape}) differs from eager at index "
                              f"{tuple(int(i) for i in where)}: {got64[where]!r} against "
                              f"{want64[where]!r}")
    rtol, atol = TOLERANCE.get(got.dtype, TOLERANCE[np.dtype(np.float32)])
    allowed = atol + rtol * np.abs(want64)  # np.allclose's rule, entry by entry
    excess = np.where(finite, np.abs(got64 - want64) - allowed, 0.0)
    if np.any(excess > 0):
        where = np.unravel_index(int(np.argmax(excess)), got.shape)
        raise _mismatch(plan, f"{label} (shape {got.shape}) differs from eager at index "
                              f"{tuple(int(i) for i in where)}: {got64[where]:.6g} against "
                              f"{want64[where]:.6g} (allowed: {allowed[where]:.3g}, "
                              f"rtol {rtol:g}, atol {atol:g})")


def _mismatch(plan: Any, what: str) -> CompileMismatchError:
    return CompileMismatchError(
        f"mg.compile(verify=...): {plan.name}: {what}. Something the trace froze has "
        f"changed (a random draw, a NumPy array or t.data read inside the function, Python "
        f"control flow on a value, the globals of a function it calls): compute it outside "
        f"the function and pass it in as an argument, or call the function without "
        f"mg.compile")
