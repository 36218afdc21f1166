"""NumPy's functions on tensors (``Tensor.__array_function__``): never a dropped gradient.

A NumPy function with a minigrad counterpart runs it, so ``np.concatenate([a, b])`` or
``np.linalg.norm(t)`` is a tensor in the graph, as ``np.exp(t)`` is (the ufuncs are in
:mod:`minigrad.numpy_ops`). A function whose result carries no gradient by nature (an
index, a shape, a truth value) gives NumPy's plain result. Any other function given a
tensor that requires grad raises ``TypeError``, naming the function and what to use
instead: a plain array would silently drop the gradient. Given only tensors that do not
require grad, it runs on their arrays, as NumPy would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import numpy_ops, ops
from .context import refuse_while_tracing
from .tensor import Tensor

_DEFAULT = object()


def apply(func: Any, args: tuple, kwargs: dict) -> Any:
    """``func(*args, **kwargs)`` where some argument is a tensor (see the module's text)."""
    name = _name(func)
    differentiable = DIFFERENTIABLE.get(func)
    if differentiable is not None:
        try:
            return differentiable(*args, **kwargs)
        except _UnsupportedError as what:
            if _requires_grad((args, kwargs)):
                raise TypeError(f"{name} on a Tensor: {what} is not supported on a tensor "
                                f"that requires grad (its gradient would be lost)") from None
    elif func not in NO_GRADIENT and _requires_grad((args, kwargs)):
        instead = INSTEAD.get(func, "minigrad's own functions (mg.*)")
        raise TypeError(f"{name} on a Tensor that requires grad: minigrad has no gradient "
                        f"for it, and a plain array would silently drop the gradient; use "
                        f"{instead}, or call it on t.detach() for a plain NumPy result")
    if func not in SHAPE_ONLY:
        refuse_while_tracing(name)
    return func(*_plain(args), **_plain(kwargs))


class _UnsupportedError(Exception):
    """An argument value the minigrad counterpart cannot honour: NumPy's plain result is
    still right for tensors that do not require grad."""


def _name(func: Any) -> str:
    module = getattr(func, "__module__", "numpy") or "numpy"
    return f"{module.replace('numpy', 'np', 1)}.{getattr(func, '__name__', repr(func))}"


def _requires_grad(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.requires_grad
    if type(value) in (list, tuple):
        return any(_requires_grad(v) for v in value)
    if type(value) is dict:
        return any(_requires_grad(v) for v in value.values())
    return False


def _plain(value: Any) -> Any:
    """``value`` with every tensor replaced by its array (in lists, tuples and dicts too)."""
    if isinstance(value, Tensor):
        return value.data
    if type(value) in (list, tuple):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _only(**defaults: tuple[Any, Any]) -> None:
    """Refuse any keyword given a value other than NumPy's default: ``name=(given, default)``."""
    for name, (given, default) in defaults.items():
        if given is _DEFAULT or given is default:
            continue
        try:
            same = bool(given == default)
        except (TypeError, ValueError):  # an array: never NumPy's default
            same = False
        if not same:
            raise _UnsupportedError(f"{name}={given!r}")


# ---- the counterparts, with NumPy's parameter names -----------------------------------------

def _reduction(method: str, **fixed: Any) -> Callable[..., Any]:
    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
               keepdims: Any = False, ddof: Any = 0, initial: Any = _DEFAULT,
               where: Any = _DEFAULT) -> Any:
        _only(initial=(initial, None), where=(where, True))
        keywords = {"axis": axis, "keepdims": bool(keepdims), "out": out, **fixed}
        if method in ("sum", "mean", "var", "std"):
            keywords["dtype"] = dtype
        elif dtype is not None:
            raise _UnsupportedError(f"dtype={dtype!r}")
        if method in ("var", "std"):
            keywords["ddof"] = ddof
        elif ddof:
            raise _UnsupportedError(f"ddof={ddof!r}")
        return getattr(_tensor(a), method)(**keywords)
    return reduce


def _tensor(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(np.asarray(a, dtype=float))


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *,
          min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy 2's names
    lo, hi = (a_min if a_min is not None else min), (a_max if a_max is not None else max)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        raise _UnsupportedError("a tensor bound")
    return _tensor(a).clip(lo, hi, out=out)


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
             copy: Any = None) -> Tensor:
    _only(order=(order, "C"))
    return ops.reshape(a, shape if shape is not None else newshape)


def _ravel(a: Any, order: str = "C") -> Tensor:
    _only(order=(order, "C"))
    return numpy_ops.flatten(a)


def _concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                 casting: Any = _DEFAULT) -> Tensor:
    _only(out=(out, None), dtype=(dtype, None), casting=(casting, "same_kind"))
    if axis is None:
        return ops.concat([numpy_ops.flatten(a) for a in arrays], axis=0)
    return ops.concat(list(arrays), axis=axis)


def _stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
           casting: Any = _DEFAULT) -> Tensor:
    _only(out=(out, None), dtype=(dtype, None), casting=(casting, "same_kind"))
    return ops.stack(list(arrays), axis=axis)


def _hstack(tup: Any, *, dtype: Any = None, casting: Any = _DEFAULT) -> Tensor:
    _only(dtype=(dtype, None), casting=(casting, "same_kind"))
    parts = [_at_least_1d(a) for a in tup]
    return ops.concat(parts, axis=0 if parts[0].ndim == 1 else 1)


def _vstack(tup: Any, *, dtype: Any = None, casting: Any = _DEFAULT) -> Tensor:
    _only(dtype=(dtype, None), casting=(casting, "same_kind"))
    rows = [_at_least_1d(a) for a in tup]
    return ops.concat([ops.reshape(r, (1, -1)) if r.ndim == 1 else r for r in rows], axis=0)


def _at_least_1d(a: Any) -> Tensor:
    a = _tensor(a)
    return ops.reshape(a, (1,)) if a.ndim == 0 else a


def _where(condition: Any, x: Any = _DEFAULT, y: Any = _DEFAULT) -> Any:
    if x is _DEFAULT and y is _DEFAULT:  # the indices where it holds: no gradient
        return np.where(_plain(condition))
    return numpy_ops.where(_plain(condition), x, y)


def _dot(a: Any, b: Any, out: Any = None) -> Tensor:
    _only(out=(out, None))
    if np.ndim(_plain(a)) == 0 or np.ndim(_plain(b)) == 0:
        return ops.mul(a, b)
    if np.ndim(_plain(a)) > 2 or np.ndim(_plain(b)) > 2:
        raise _UnsupportedError("an operand of more than 2 dimensions (use mg.einsum)")
    return ops.matmul(a, b)


def _norm(x: Any, ord: Any = None, axis: Any = None,  # noqa: A002 - NumPy's name
          keepdims: bool = False) -> Tensor:
    _only(ord=(ord, None))  # the 2-norm of a vector, Frobenius of a matrix
    x = _tensor(x)
    return numpy_ops.sqrt(ops.sum(ops.mul(x, x), axis=axis, keepdims=keepdims))


def _outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _only(out=(out, None))
    return ops.mul(ops.reshape(numpy_ops.flatten(a), (-1, 1)),
                   ops.reshape(numpy_ops.flatten(b), (1, -1)))


def _pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Tensor:
    _only(mode=(mode, "constant"))
    value = kwargs.pop("constant_values", 0)
    if kwargs or np.ndim(value) != 0:
        raise _UnsupportedError(f"{', '.join(kwargs) or 'constant_values per axis'}")
    return numpy_ops.pad(array, pad_width, float(value))


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return ops.split(ary, indices_or_sections, axis=axis)


def _swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    a = _tensor(a)
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return ops.transpose(a, axes)


def _moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    a = _tensor(a)
    source = normalize_axis_tuple(source, a.ndim)
    destination = normalize_axis_tuple(destination, a.ndim)
    order = [k for k in range(a.ndim) if k not in source]
    for to, moved in sorted(zip(destination, source)):
        order.insert(to, moved)
    return ops.transpose(a, order)


def _average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
             keepdims: Any = False) -> Tensor:
    _only(weights=(weights, None), returned=(returned, False))
    return _tensor(a).mean(axis=axis, keepdims=bool(keepdims))


def _einsum(subscripts: Any, *operands: Any, out: Any = None, optimize: Any = False,
            **kwargs: Any) -> Tensor:
    _only(out=(out, None))
    if kwargs or not isinstance(subscripts, str):
        raise _UnsupportedError(f"{', '.join(kwargs) or 'the interleaved form'}")
    return numpy_ops.einsum(subscripts, *operands)


DIFFERENTIABLE: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"), np.max: _reduction("max"),
    np.amax: _reduction("max"), np.min: _reduction("min"), np.amin: _reduction("min"),
    np.var: _reduction("var"), np.std: _reduction("std"), np.clip: _clip,
    np.reshape: _reshape, np.ravel: _ravel,
    np.transpose: lambda a, axes=None: ops.transpose(a, axes),
    np.squeeze: lambda a, axis=None: numpy_ops.squeeze(a, axis=axis),
    np.expand_dims: lambda a, axis: numpy_ops.expand_dims(a, axis),
    np.broadcast_to: lambda array, shape, subok=False: ops.broadcast_to(array, shape),
    np.concatenate: _concatenate, np.stack: _stack, np.hstack: _hstack, np.vstack: _vstack,
    np.where: _where, np.dot: _dot, np.linalg.norm: _norm, np.outer: _outer, np.pad: _pad,
    np.split: _split, np.swapaxes: _swapaxes, np.moveaxis: _moveaxis, np.average: _average,
    np.einsum: _einsum,
}

#: Functions that read only shapes and dtypes (fine inside a compiled function too).
SHAPE_ONLY = {np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like,
              np.full_like, np.result_type}
#: Functions whose result has no gradient by nature: an index, a shape or a truth value.
NO_GRADIENT = SHAPE_ONLY | {np.argmax, np.argmin, np.argsort, np.nonzero, np.argwhere,
                            np.count_nonzero, np.allclose, np.isclose, np.array_equal}

#: What to write instead, for the functions minigrad has no gradient for.
INSTEAD = {
    np.cumsum: "a matmul with a triangular matrix of ones (mg.tensor(np.tri(n)) @ t)",
    np.sort: "indexing, which is differentiable: t[np.argsort(t.data)]",
    np.prod: "mg.exp(mg.sum(mg.log(t))) for positive entries, or a loop of products",
    np.diff: "slices: t[1:] - t[:-1]",
    np.flip: "indexing with a reversed slice: t[::-1]",
    np.tensordot: "mg.einsum",
    np.inner: "mg.einsum or a matmul",
    np.trace: "mg.einsum('ii', t)",
    np.round: "t itself (rounding has no useful gradient), or t.detach()",
    np.copy: "t * 1.0 for a differentiable copy, or t.detach()",
}
