"""More of NumPy, differentiable: what a notebook user reaches for after the basics.

Each primitive has its forward and its VJPs side by side, as in :mod:`minigrad.ops`;
the functions after them are the public API (several are one-line compositions, where
that is exact and as fast). The one table of every primitive, these and ``ops``',
:data:`PRIMITIVES`, is built here.

Ties and corners follow PyTorch: ``maximum``/``minimum`` and ``max``/``min`` share the
gradient equally among equal values (``torch.amax``'s rule), ``maximum``/``minimum`` pass
it to both operands where one is NaN, ``abs`` has gradient 0 at 0, ``clip`` passes the
gradient where ``lo <= x <= hi``, and the exponent's gradient of ``a ** b`` at ``a = 0``
is 0 for ``b >= 0`` and ``-inf`` for ``b < 0``. Where torch gives NaN, ``std``'s
gradient at zero spread is the subgradient 0.
"""

from __future__ import annotations

import builtins
import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from .context import refuse_while_tracing
from .ops import (
    CORE_PRIMITIVES,
    TensorLike,
    _as_tensor,
    _join_inputs,
    _pow,
    _unreduce,
    _value,
    reshape,
)
from .primitive import Primitive
from .tensor import Tensor

Axis = int | tuple[int, ...] | None


def _ties(a: Any, b: Any, loses: Any) -> np.ndarray:
    """How much of the gradient of ``maximum(a, b)`` (``loses=np.less``) or ``minimum``
    (``np.greater``) goes to ``a``: 1/2 where ``a == b``, 0 where ``a`` loses, else 1.
    Where either is NaN nobody loses, so the gradient passes to both (as in torch)."""
    a, b = _value(a), _value(b)
    return np.where(a == b, 0.5, np.where(loses(a, b), 0.0, 1.0))


# ---- elementwise --------------------------------------------------------------------------

_maximum = Primitive(
    "maximum", np.maximum,
    lambda g, y, a, b: g * _ties(a, b, np.less).astype(g.dtype),
    lambda g, y, a, b: g * _ties(b, a, np.less).astype(g.dtype), saves="inputs")

_minimum = Primitive(
    "minimum", np.minimum,
    lambda g, y, a, b: g * _ties(a, b, np.greater).astype(g.dtype),
    lambda g, y, a, b: g * _ties(b, a, np.greater).astype(g.dtype), saves="inputs")

_abs = Primitive("abs", np.abs, lambda g, y, x: g * np.sign(_value(x)).astype(g.dtype),
                 saves="inputs")

_sqrt = Primitive("sqrt", np.sqrt, lambda g, y, x: g / (y + y), saves="output")


def _clip_forward(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    return x if lo is None and hi is None else np.clip(x, lo, hi)


def _clip_vjp(g: Any, y: Any, x: Any, lo: float | None, hi: float | None) -> Any:
    inside = np.ones(x.shape, bool)
    if lo is not None:
        inside &= _value(x) >= lo
    if hi is not None:
        inside &= _value(x) <= hi
    return g * inside.astype(g.dtype)


_clip = Primitive("clip", _clip_forward, _clip_vjp, saves="inputs")

# cond is a parameter: a mask carries no gradient
_where = Primitive("where", lambda a, b, cond: np.where(cond, a, b),
                   lambda g, y, a, b, cond: g * cond.astype(g.dtype),
                   lambda g, y, a, b, cond: g * (~cond).astype(g.dtype), saves="none")


def _softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))  # never overflows
    return e / e.sum(axis=axis, keepdims=True)


_softmax = Primitive(
    "softmax", _softmax_forward,
    lambda g, y, x, axis: y * (g - (g * y).sum(axis=axis, keepdims=True)), saves="output")


def _power_vjp_base(g: Any, y: Any, a: Any, b: Any) -> Any:
    # d(a**b)/da = b a**(b-1), taken as 0 where b == 0 (a**0 is constant, even at a = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = g * b * a ** (b - 1)
    return where(_value(b) == 0, 0.0, grad) if isinstance(grad, Tensor) else np.where(
        _value(b) == 0, 0.0, grad).astype(grad.dtype)


def _power_vjp_exponent(g: Any, y: Any, a: Any, b: Any) -> Any:
    # d(a**b)/db = a**b log(a), taken as 0 where a == 0 and b >= 0 (as torch.pow does);
    # where a == 0 and b < 0 it is inf * -inf = -inf, torch's value too
    zero = (_value(a) == 0) & (_value(b) >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = g * y * (a.log() if isinstance(a, Tensor) else np.log(a))
    return where(zero, 0.0, grad) if isinstance(grad, Tensor) else np.where(
        zero, 0.0, grad).astype(grad.dtype)


_power = Primitive("power", np.power, _power_vjp_base, _power_vjp_exponent, saves="both")

_astype = Primitive("astype", lambda x, dtype: x.astype(dtype),
                    lambda g, y, x, dtype: g.astype(x.dtype), saves="none")


# ---- reductions --------------------------------------------------------------------------

def _extreme_vjp(g: Any, y: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """The gradient of max/min: shared equally by the elements that attain it."""
    xv = _value(x)
    hits = xv == _unreduce(_value(y), xv.shape, axis, keepdims)
    share = hits / hits.sum(axis=axis, keepdims=True)
    return _unreduce(g, xv.shape, axis, keepdims) * share.astype(xv.dtype)


_max = Primitive("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
                 _extreme_vjp, saves="both")
_min = Primitive("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
                 _extreme_vjp, saves="both")


def _count(shape: tuple[int, ...], axis: Axis) -> int:
    """How many elements a reduction over ``axis`` takes together."""
    if not shape:
        return 1
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a % len(shape)] for a in axes)


def _var_vjp(g: Any, y: Any, x: Any, axis: Axis, keepdims: bool, ddof: int) -> Any:
    centred = x - x.mean(axis=axis, keepdims=True)
    dof = _count(x.shape, axis) - ddof
    return _unreduce(g, x.shape, axis, keepdims) * centred * (2.0 / dof if dof > 0 else math.nan)


_var = Primitive("var", lambda x, axis, keepdims, ddof: np.var(x, axis=axis, ddof=ddof,
                                                               keepdims=keepdims),
                 _var_vjp, saves="inputs")


def _std_vjp(g: Any, y: Any, x: Any, axis: Axis, keepdims: bool, ddof: int) -> Any:
    # d std / dx = (x - mean) / (dof * std); where std is 0 (a constant row, one element)
    # the subgradient 0 is taken, as abs takes 0 at 0
    centred = x - x.mean(axis=axis, keepdims=True)
    dof = _count(x.shape, axis) - ddof
    spread = _unreduce(y, x.shape, axis, keepdims)
    flat = _value(spread) == 0
    if isinstance(spread, Tensor):
        grad = _unreduce(g, x.shape, axis, keepdims) * centred / (where(flat, 1.0, spread)
                                                                  * dof)
        return where(flat, 0.0, grad)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = _unreduce(g, x.shape, axis, keepdims) * centred / (
            np.where(flat, 1.0, spread) * (dof if dof > 0 else math.nan))
    return np.where(flat, 0.0, grad).astype(grad.dtype)


_std = Primitive("std", lambda x, axis, keepdims, ddof: np.std(x, axis=axis, ddof=ddof,
                                                               keepdims=keepdims),
                 _std_vjp, saves="both")


# ---- shape ---------------------------------------------------------------------------------

def _pad_pairs(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """``numpy.pad``'s pad_width as one (before, after) pair per axis."""
    pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    if (pairs < 0).any():
        raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


_pad = Primitive(
    "pad", lambda x, pairs, value: np.pad(x, pairs, mode="constant", constant_values=value),
    lambda g, y, x, pairs, value: g[tuple(slice(a, a + n) for (a, _), n in zip(pairs, x.shape))],
    saves="none")


# ---- einsum ----------------------------------------------------------------------------------

def _einsum_forward(*operands: np.ndarray, subscripts: str) -> np.ndarray:
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _einsum_vjp(k: int, g: Any, y: Any, *operands: Any, subscripts: str) -> Any:
    """The gradient of operand k is itself an einsum: the output's gradient contracted
    with the other operands, onto operand k's letters. Letters only operand k has are
    summed in the forward, so the gradient is broadcast along them (a vector of ones);
    a letter it repeats (a diagonal, ``ii->i``) is put back on the diagonal (an eye)."""
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    own = terms[k]
    others = [t for j, t in enumerate(terms) if j != k]
    free = iter(sorted(set(string.ascii_letters) - set(subscripts)))
    specs, arrays = [output, *others], [g, *(o for j, o in enumerate(operands) if j != k)]
    seen: set[str] = set()
    target = ""
    for position, letter in enumerate(own):
        size = operands[k].shape[position]
        if letter in seen:  # a repeated letter: a new one, tied to the first by an eye
            fresh = next(free)
            specs.append(letter + fresh)
            arrays.append(np.eye(size, dtype=g.dtype))
            target += fresh
            continue
        seen.add(letter)
        target += letter
        if letter not in output and all(letter not in t for t in others):
            specs.append(letter)
            arrays.append(np.ones(size, dtype=g.dtype))
    spec = ",".join(specs) + "->" + target
    if any(isinstance(a, Tensor) for a in arrays):
        return _einsum(*arrays, subscripts=spec)
    return np.einsum(spec, *arrays, optimize=len(arrays) > 2)


_einsum = Primitive("einsum", _einsum_forward, vjp_each=_einsum_vjp, saves="inputs")


def _explicit(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> str:
    """``subscripts`` with its output spelled out and every ``...`` replaced by letters
    of its own, as NumPy reads it (implicit output: the letters used once, sorted)."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got "
                         f"{len(shapes)}")
    for j, term in enumerate([*terms, output]):
        if term.count(".") != (3 if "..." in term else 0):  # NumPy's rule, and its words
            where = f"operand {j}" if j < len(terms) else "the output"
            raise ValueError(f"einsum: the subscripts string {subscripts!r} contains a '.' "
                             f"that is not part of one ellipsis ('...') in {where}")
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in subscripts]
    dots = builtins.max((len(shape) - (len(term) - 3) for term, shape in zip(terms, shapes)
                         if "..." in term), default=0)
    letters = "".join(spare[:dots])
    for j, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            k = len(shape) - (len(term) - 3)
            terms[j] = term.replace("...", letters[dots - k:] if k > 0 else "")
    if not arrow:
        used = "".join(terms)
        output = ("..." if dots else "") + "".join(sorted(c for c in set(used)
                                                           if used.count(c) == 1
                                                           and c not in letters))
    return ",".join(terms) + "->" + output.replace("...", letters)


# ---- the public functions ------------------------------------------------------------------

def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum, with broadcasting; where ``a == b`` each gets half the gradient.

    Example::

        >>> mg.maximum(mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])).data
        array([3., 5.])
    """
    return _maximum.binary(a, b)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum, with broadcasting; where ``a == b`` each gets half the gradient.

    Example::

        >>> mg.minimum(mg.tensor([1.0, 5.0]), 2.0).data
        array([1., 2.])
    """
    return _minimum.binary(a, b)


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - numpy's name
    """Elementwise absolute value; its gradient at 0 is 0.

    Example::

        >>> mg.abs(mg.tensor([-2.0, 3.0])).data
        array([2., 3.])
    """
    return _abs.unary(x)


def sqrt(x: TensorLike) -> Tensor:
    """Elementwise square root.

    Example::

        >>> mg.sqrt(mg.tensor([4.0, 9.0])).data
        array([2., 3.])
    """
    return _sqrt.unary(x)


def clip(x: TensorLike, lo: float | None, hi: float | None) -> Tensor:
    """``x`` limited to ``[lo, hi]`` (either may be None); the gradient passes where
    ``lo <= x <= hi``.

    Example::

        >>> mg.clip(mg.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).data
        array([-1. ,  0.5,  1. ])
    """
    for name, bound in (("lo", lo), ("hi", hi)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float,
                                                                                     np.number))):
            raise TypeError(f"clip: {name} must be a number or None, got {type(bound).__name__}")
    lo = lo.item() if isinstance(lo, np.generic) else lo
    hi = hi.item() if isinstance(hi, np.generic) else hi
    return _clip.unary(x, lo=lo, hi=hi)


def where(cond: Any, a: TensorLike, b: TensorLike) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``, with broadcasting: a leaky relu is
    ``mg.where(x > 0, x, 0.1 * x)``. ``cond`` is a boolean array (a comparison of
    tensors gives one) and carries no gradient.

    Example::

        >>> x = mg.tensor([-2.0, 3.0])
        >>> mg.where(x > 0, x, 0.1 * x).data
        array([-0.2,  3. ])
    """
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if cond.dtype != bool:
        raise TypeError(f"where: cond must be a boolean mask (a comparison such as x > 0), "
                        f"got {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _as_tensor(a, "where")
    return _where(a, b, cond=cond)


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable for inputs of any size.

    Example::

        >>> mg.softmax(mg.tensor([[1000.0, 1000.0]])).data   # no overflow
        array([[0.5, 0.5]])
    """
    return _softmax.unary(x, axis=axis)


def max(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The largest element along ``axis`` (all by default); tied maxima share the
    gradient equally, as ``torch.amax``.

    Example::

        >>> mg.max(mg.tensor([[1.0, 4.0], [3.0, 2.0]]), axis=1).data
        array([4., 3.])
    """
    return _max.unary(x, axis=axis, keepdims=keepdims)


def min(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The smallest element along ``axis`` (all by default); ties share the gradient.

    Example::

        >>> mg.min(mg.tensor([[1.0, 4.0], [3.0, 2.0]]), axis=0).data
        array([1., 2.])
    """
    return _min.unary(x, axis=axis, keepdims=keepdims)


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """The variance along ``axis``, ``sum((x - mean)**2) / (n - ddof)``, as ``numpy.var``.

    Example::

        >>> mg.var(mg.tensor([1.0, 2.0, 3.0, 4.0]), ddof=1).item()
        1.6666666666666667
    """
    return _var.unary(x, axis=axis, keepdims=keepdims, ddof=ddof)


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """The standard deviation along ``axis``: ``sqrt(var(x, axis, keepdims, ddof))``.

    Its gradient is ``(x - mean) / ((n - ddof) std)``. Where the spread is zero (a 0-d
    input, an axis of length 1, a constant row) it takes the subgradient 0, as ``abs``
    does at 0 (torch gives NaN there).

    Example::

        >>> mg.std(mg.tensor([1.0, 3.0])).item()
        1.0
    """
    return _std.unary(x, axis=axis, keepdims=keepdims, ddof=ddof)


def argmax(x: TensorLike, axis: int | None = None) -> np.ndarray:
    """Indices of the largest elements (an integer array, no gradient), as ``numpy.argmax``.

    Example::

        >>> mg.argmax(mg.tensor([[1.0, 4.0], [3.0, 2.0]]), axis=-1)
        array([1, 0])
    """
    refuse_while_tracing("argmax")
    return np.asarray(np.argmax(_as_tensor(x, "argmax").data, axis=axis))


def argmin(x: TensorLike, axis: int | None = None) -> np.ndarray:
    """Indices of the smallest elements (an integer array, no gradient).

    Example::

        >>> mg.argmin(mg.tensor([3.0, 1.0, 2.0]))
        array(1)
    """
    refuse_while_tracing("argmin")
    return np.asarray(np.argmin(_as_tensor(x, "argmin").data, axis=axis))


def squeeze(x: TensorLike, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Drop axes of size 1 (those in ``axis``, or all), as ``numpy.squeeze``.

    Example::

        >>> mg.squeeze(mg.tensor(np.ones((1, 3, 1)))).shape
        (3,)
    """
    x = _as_tensor(x, "squeeze")
    try:
        return reshape(x, np.squeeze(np.empty(x.shape, bool), axis).shape)
    except ValueError as error:
        raise type(error)(f"squeeze: {error} (input shape {x.shape})") from None


def expand_dims(x: TensorLike, axis: int | tuple[int, ...]) -> Tensor:
    """Insert axes of size 1 at ``axis``, as ``numpy.expand_dims``.

    Example::

        >>> mg.expand_dims(mg.tensor([1.0, 2.0]), 0).shape
        (1, 2)
    """
    x = _as_tensor(x, "expand_dims")
    try:
        return reshape(x, np.expand_dims(np.empty(x.shape, bool), axis).shape)
    except ValueError as error:
        raise type(error)(f"expand_dims: {error} (input shape {x.shape})") from None


def flatten(x: TensorLike) -> Tensor:
    """The elements as one axis, as ``numpy.ndarray.flatten``.

    Example::

        >>> mg.flatten(mg.tensor(np.ones((2, 3)))).shape
        (6,)
    """
    return reshape(_as_tensor(x, "flatten"), (-1,))


def pad(x: TensorLike, pad_width: Any, value: float = 0.0) -> Tensor:
    """``x`` padded with ``value`` (numpy.pad's ``pad_width``, constant mode).

    Example::

        >>> mg.pad(mg.tensor([1.0, 2.0]), (1, 2)).data
        array([0., 1., 2., 0., 0.])
    """
    x = _as_tensor(x, "pad")
    if x.ndim == 0:  # nothing to pad, as numpy.pad returns a 0-d array as it is
        _pad_pairs(pad_width, 1)
        return x
    return _pad.unary(x, pairs=_pad_pairs(pad_width, x.ndim), value=value)


def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """Einstein summation, as ``numpy.einsum``, differentiable in every operand (each
    gradient is another einsum): ``einsum("bij,bjk->bik", a, b)`` is a batched matmul.

    Example::

        >>> a, b = mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((3, 4)))
        >>> mg.einsum("ij,jk->ik", a, b).shape
        (2, 4)
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    operands = tuple(_join_inputs(list(operands), "einsum"))
    shapes = [np.shape(o.data if isinstance(o, Tensor) else o) for o in operands]
    return _einsum(*operands, subscripts=_explicit(subscripts, shapes))


def astype(x: TensorLike, dtype: Any) -> Tensor:
    """``x`` in another float dtype, differentiably (the gradient comes back in
    ``x``'s dtype).

    Example::

        >>> mg.astype(mg.tensor([1.0]), np.float32).dtype
        dtype('float32')
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"astype: the dtype must be a floating type, got {dtype}")
    return _astype.unary(x, dtype=dtype)


def power(x: TensorLike, exponent: Any) -> Tensor:
    """``x ** exponent``: a number exponent, or a tensor (or array) one, differentiable in
    both then.

    Example::

        >>> mg.power(mg.tensor([2.0, 3.0]), 2).data
        array([4., 9.])
    """
    if isinstance(exponent, (Tensor, np.ndarray)):
        return _power.binary(x, exponent)
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float, np.number)):
        raise TypeError(f"pow: the exponent must be a number or a tensor, got "
                        f"{type(exponent).__name__}")
    if isinstance(exponent, np.generic):
        exponent = exponent.item()  # weak, as a Python number: float32 stays float32
    return _pow.unary(x, exponent=exponent)


def tensor_power(base: TensorLike, exponent: TensorLike) -> Tensor:
    """``base ** exponent`` elementwise, differentiable in both: what ``x ** y`` and
    ``mg.power(x, y)`` do for a tensor exponent, and ``2.0 ** x`` for a number base.

    Example::

        >>> (mg.tensor([2.0, 3.0]) ** mg.tensor([3.0, 2.0])).data
        array([8., 9.])
    """
    return _power.binary(base, exponent)


def apply_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """NumPy's ufuncs on tensors (``Tensor.__array_ufunc__``): the ones minigrad
    differentiates run as minigrad ops and give tensors, comparisons give boolean masks,
    and the rest are refused (a silent fall back to arrays would lose the gradient)."""
    if method == "__call__" and not kwargs:
        differentiable = _UFUNCS.get(ufunc)
        if differentiable is not None:
            return differentiable(*inputs)
        if ufunc in _COMPARISONS:
            refuse_while_tracing(f"np.{ufunc.__name__} (a comparison)")
            return ufunc(*(x.data if isinstance(x, Tensor) else x for x in inputs))
    name = getattr(ufunc, "__name__", repr(ufunc))
    raise TypeError(f"np.{name} ({method}{', ' + ', '.join(kwargs) if kwargs else ''}) on a "
                    f"Tensor: minigrad has no gradient for it; use minigrad's own function "
                    f"where there is one, or apply it to t.data (no gradient)")


_COMPARISONS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)

#: Every primitive, by name, for tests and documentation to iterate over.
PRIMITIVES: dict[str, Primitive] = {p.name: p for p in (
    *CORE_PRIMITIVES, _maximum, _minimum, _abs, _sqrt, _clip, _where, _softmax, _power,
    _astype, _max, _min, _var, _std, _pad, _einsum)}

__all__ = ["PRIMITIVES", "abs", "argmax", "argmin", "astype", "clip", "einsum", "expand_dims",
           "flatten", "max", "maximum", "min", "minimum", "pad", "power", "softmax", "sqrt",
           "squeeze", "std", "tensor_power", "var", "where"]

from . import ops  # noqa: E402 - the ufuncs' minigrad functions, some defined above

_UFUNCS = {np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul,
           np.true_divide: ops.div, np.negative: ops.neg, np.positive: lambda x: x,
           np.exp: ops.exp, np.log: ops.log, np.tanh: ops.tanh, np.matmul: ops.matmul,
           np.power: power, np.sqrt: sqrt, np.absolute: abs, np.maximum: maximum,
           np.minimum: minimum, np.square: lambda x: ops.mul(x, x)}
