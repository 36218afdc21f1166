"""Every primitive of minigrad, each with its forward and its VJPs side by side,
followed by the public functions, several of which are one-line compositions.

Reading guide for a VJP ``lambda g, y, a, b: ...``: ``g`` is dL/dy, ``y`` the output,
``a, b`` the inputs; it returns dL/da (or dL/db). Broadcasting and dtype are undone by
the backward sweep, not here.
"""

from __future__ import annotations

import builtins
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.exceptions import AxisError

from .lazy import Product, Scattered, is_basic_index
from .primitive import Primitive, _explain_join, _stack, stacked
from .tensor import Tensor, constant_tensor, to_float_array

# ---- helpers shared by arrays and Tensors (so VJPs run on both) -------------------------


def _mT(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    if x.ndim == 2:
        return x.T
    return x.transpose(*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)


def _value(x: Any) -> np.ndarray:
    """The raw array of a Tensor or array (for masks, which carry no gradient)."""
    return x.data if isinstance(x, Tensor) else x


def _zeros_like(x: Any) -> Any:
    """Zeros of ``x``'s shape and dtype: a constant Tensor for a Tensor, else an array."""
    zeros = np.zeros(x.shape, x.dtype)
    return constant_tensor(zeros) if isinstance(x, Tensor) else zeros


def _exp(x: Any) -> Any:
    return exp(x) if isinstance(x, Tensor) else np.exp(x)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return broadcast_to(x, shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def _scatter(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """A zero array of ``shape`` with ``g`` added at ``index`` (the adjoint of ``x[index]``).

    On arrays it stays lazy (:class:`~minigrad.lazy.Scattered`): the backward sweep adds
    ``g`` straight into the slice of the gradient it accumulates, instead of padding it
    with zeros."""
    if isinstance(g, Tensor):
        return index_add(g, index=index, shape=shape)
    return Scattered(index, g, shape)


def _normalize_axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < ndim:
        raise AxisError(f"{op}: axis {axis} is out of bounds for {ndim}-dimensional input")
    return axis % ndim


def _unreduce(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Give a reduced gradient its reduced axes back as size 1, ready to broadcast."""
    if keepdims or not shape or axis is None and g.ndim == len(shape):
        return g  # (a 0-d input "reduced" over axis 0 or -1 is its own gradient's shape)
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = {a % len(shape) for a in axes}
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _explain_broadcast(name: str):
    def explain(a: Any, b: Any, **_: Any) -> str:
        return (f"{name}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                f"together")
    return explain


# ---- elementwise arithmetic ---------------------------------------------------------------

_add = Primitive("add", np.add,
                 lambda g, y, a, b: g,
                 lambda g, y, a, b: g,
                 explain=_explain_broadcast("add"), saves="none")

_sub = Primitive("sub", np.subtract,
                 lambda g, y, a, b: g,
                 lambda g, y, a, b: -g,
                 explain=_explain_broadcast("sub"), saves="none")

_mul = Primitive("mul", np.multiply,
                 lambda g, y, a, b: g * b,
                 lambda g, y, a, b: g * a,
                 explain=_explain_broadcast("mul"), saves="inputs")

_div = Primitive("div", np.divide,
                 lambda g, y, a, b: g / b,
                 lambda g, y, a, b: -g * y / b,
                 explain=_explain_broadcast("div"), saves="both")

_neg = Primitive("neg", np.negative,
                 lambda g, y, x: -g, saves="none")

def _pow_vjp(g: Any, y: Any, x: Any, exponent: float) -> Any:
    if exponent == 0:  # x ** 0 is constant, even at x = 0 where x ** -1 is infinite
        return _zeros_like(g)
    return g * exponent * x ** (exponent - 1)


_pow = Primitive("pow", lambda x, exponent: np.power(x, exponent), _pow_vjp, saves="inputs")

# ---- elementwise functions -----------------------------------------------------------------


class _ByDtype(dict):
    """``value`` as a 0-d array of each dtype asked for, made once: NumPy 2 takes it
    faster than a Python float (about 0.25 us less per call on small arrays)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> np.ndarray:
        array = self[dtype] = np.array(self.value, dtype)
        return array


_ONE, _HALF = _ByDtype(1.0), _ByDtype(0.5)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    # sigmoid(x) = (1 + tanh(x/2)) / 2: tanh never overflows, four passes in place.
    # Absolute error stays below 1e-16; only where sigmoid(x) < ~1e-8 (x < -18) is
    # relative accuracy lost, which no gate or loss here depends on.
    half = _HALF[x.dtype]
    out = np.multiply(x, half)
    if type(out) is not np.ndarray:  # a 0-d input gives a NumPy scalar
        out = np.asarray(out)
    np.tanh(out, out)
    out *= half
    out += half
    return out


# These two run once per gate per time step: they multiply in place into the one new
# array they make (on Tensors, with create_graph, ``*=`` records a plain product).


def _tanh_vjp(g: Any, y: Any, x: Any) -> Any:
    one = _ONE[y.dtype]
    dy = one - y  # 1 - y**2 as (1 - y)(1 + y): no cancellation near |y| = 1
    dy *= one + y
    dy *= g
    return dy


def _sigmoid_vjp(g: Any, y: Any, x: Any) -> Any:
    dy = _ONE[y.dtype] - y  # y (1 - y)
    dy *= y
    dy *= g
    return dy


def _log_softmax_forward(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


_exp_p = Primitive("exp", np.exp, lambda g, y, x: g * y, saves="output")
_log = Primitive("log", np.log, lambda g, y, x: g / x, saves="inputs")
_tanh = Primitive("tanh", np.tanh, _tanh_vjp, saves="output")
_sigmoid = Primitive("sigmoid", _sigmoid_forward, _sigmoid_vjp, saves="output")
_relu = Primitive("relu", lambda x: np.maximum(x, 0), lambda g, y, x: g * (_value(x) > 0),
                  saves="inputs")
_log_softmax = Primitive(
    "log_softmax", _log_softmax_forward,
    lambda g, y, x, axis: g - _exp(y) * g.sum(axis=axis, keepdims=True), saves="output")

# ---- linear algebra ------------------------------------------------------------------------


def _matmul_vjp_a(g: Any, y: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2 and not isinstance(g, Tensor):
        return Product(g, b.T)
    if b.ndim == 1:
        return g[..., None] * b if a.ndim > 1 else g * b
    if a.ndim == 1:
        return (b @ g[..., None])[..., 0]
    return g @ _mT(b)


def _matmul_vjp_b(g: Any, y: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2 and not isinstance(g, Tensor):
        return Product(a.T, g)
    if a.ndim == 1:
        return a[:, None] * g[..., None, :] if b.ndim > 1 else g * a
    if b.ndim == 1:
        return (_mT(a) @ g[..., None])[..., 0]
    return _mT(a) @ g


def _explain_matmul(a: Any, b: Any) -> str:
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        return f"matmul: shapes {sa} and {sb}: both operands need at least one dimension"
    inner_a, inner_b = sa[-1], sb[-2] if len(sb) > 1 else sb[-1]
    if inner_a != inner_b:
        return f"matmul: shapes {sa} and {sb} do not align: {inner_a} != {inner_b}"
    return f"matmul: batch dimensions of shapes {sa} and {sb} cannot be broadcast together"


_matmul = Primitive("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b,
                    explain=_explain_matmul, saves="inputs")

# ---- reductions and shape ------------------------------------------------------------------

_sum = Primitive(
    "sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    lambda g, y, x, axis, keepdims: _broadcast_to(_unreduce(g, x.shape, axis, keepdims),
                                                  x.shape), saves="none")

# Broadcasting's VJP is the identity: the backward sweep sums the gradient back down
# to the input's shape, as it does for every op that broadcasts.
_broadcast = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                       lambda g, y, x, shape: g, saves="none")

_reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape),
                     lambda g, y, x, shape: g.reshape(x.shape), saves="none")

def _transpose_vjp(g: Any, y: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    if axes is None:
        return g.transpose()  # reversing the axes is its own inverse
    # the inverse permutation; axes may count from the end (-1 is the last)
    inverse = np.argsort([a % len(axes) for a in axes])
    return g.transpose(*(int(a) for a in inverse))


_transpose = Primitive("transpose", lambda x, axes: np.transpose(x, axes), _transpose_vjp,
                       saves="none")

# ---- indexing, joining -------------------------------------------------------------------


def _index_add_forward(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        out[index] = g
    else:  # integer arrays may repeat an index: each occurrence must add up
        np.add.at(out, index, g)
    return out


_getitem = Primitive("getitem", lambda x, index: x[index],
                     lambda g, y, x, index: _scatter(g, index, x.shape), saves="none")

_index_add = Primitive("index_add", _index_add_forward,
                       lambda g, y, x, index, shape: g[index], saves="none")


def _concat_vjp(k: int, g: Any, y: Any, *xs: Any, axis: int) -> Any:
    axis = axis % y.ndim
    start = 0
    for x in xs[:k]:
        start += x.shape[axis]
    return g[(slice(None),) * axis + (slice(start, start + xs[k].shape[axis]),)]


_concat = Primitive("concat", lambda *xs, axis: np.concatenate(xs, axis=axis),
                    vjp_each=_concat_vjp, explain=_explain_join("concat"), selects_from_g=True,
                    saves="none")

#: The primitives defined here (the table of them all is ``numpy_ops.PRIMITIVES``).
CORE_PRIMITIVES: tuple[Primitive, ...] = (
    _add, _sub, _mul, _div, _neg, _pow, _exp_p, _log, _tanh, _sigmoid, _relu, _log_softmax,
    _matmul, _sum, _broadcast, _reshape, _transpose, _getitem, _index_add, _concat, _stack)

# ---- the public functions ----------------------------------------------------------------

TensorLike = Any  # a Tensor, an ndarray, a Python number or a (nested) list of numbers


def _as_tensor(x: TensorLike, who: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    x = stacked(x) if type(x) in (list, tuple) else x  # a list of tensors keeps its gradient
    if isinstance(x, Tensor):
        return x
    return constant_tensor(to_float_array(x, None, who))


def add(a: TensorLike, b: TensorLike) -> Tensor:
    """``a + b`` with broadcasting.

    Example::

        >>> (mg.tensor([[1.0], [2.0]]) + mg.tensor([10.0, 20.0])).shape   # (2, 1) + (2,)
        (2, 2)
    """
    return _add.binary(a, b)


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    """``a - b`` with broadcasting.

    Example::

        >>> mg.sub(mg.tensor([3.0, 4.0]), 1.0).data
        array([2., 3.])
    """
    return _sub.binary(a, b)


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise (Hadamard) product ``a * b`` with broadcasting.

    Example::

        >>> mg.mul(mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])).data
        array([3., 8.])
    """
    return _mul.binary(a, b)


hadamard = mul


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """``a / b`` with broadcasting.

    Example::

        >>> mg.div(mg.tensor([1.0, 3.0]), 2.0).data
        array([0.5, 1.5])
    """
    return _div.binary(a, b)


def neg(x: TensorLike) -> Tensor:
    """``-x``.

    Example::

        >>> mg.neg(mg.tensor([1.0, -2.0])).data
        array([-1.,  2.])
    """
    return _neg.unary(x)


def exp(x: TensorLike) -> Tensor:
    """Elementwise ``e**x``.

    Example::

        >>> mg.exp(mg.tensor([0.0])).data
        array([1.])
    """
    return _exp_p.unary(x)


def log(x: TensorLike) -> Tensor:
    """Elementwise natural logarithm.

    Example::

        >>> mg.log(mg.tensor([1.0])).data
        array([0.])
    """
    return _log.unary(x)


def tanh(x: TensorLike) -> Tensor:
    """Elementwise hyperbolic tangent; the VJP uses the output: ``g * (1 - y**2)``.

    Example::

        >>> mg.tanh(mg.tensor([0.0])).data
        array([0.])
    """
    return _tanh.unary(x)


def sigmoid(x: TensorLike) -> Tensor:
    """Elementwise ``1 / (1 + exp(-x))``, computed without overflow for any input.

    Example::

        >>> mg.sigmoid(mg.tensor([-1000.0, 0.0, 1000.0])).data   # no overflow warning
        array([0. , 0.5, 1. ])
    """
    return _sigmoid.unary(x)


def relu(x: TensorLike) -> Tensor:
    """Elementwise ``max(x, 0)``; its gradient at 0 is taken as 0.

    Example::

        >>> mg.relu(mg.tensor([-1.0, 2.0])).data
        array([0., 2.])
    """
    return _relu.unary(x)


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``x - logsumexp(x, axis)``, stable for inputs of any size.

    Example::

        >>> mg.log_softmax(mg.tensor([[1000.0, 1000.0]])).data   # (B, K), stable
        array([[-0.69314718, -0.69314718]])
    """
    return _log_softmax.unary(x, axis=axis)


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules: ``(n, k) @ (k, m) -> (n, m)``, 1-D operands
    as vectors, leading axes as broadcast batches: ``(B, n, k) @ (k, m) -> (B, n, m)``.

    Example::

        >>> mg.matmul(mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((3, 4)))).shape
        (2, 4)
    """
    return _matmul.binary(a, b)


def sum(x: TensorLike, axis: int | tuple[int, ...] | None = None,  # noqa: A001
        keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all by default).

    Example::

        >>> mg.sum(mg.tensor(np.ones((2, 3))), axis=0).data
        array([2., 2., 2.])
    """
    return _sum.unary(x, axis=axis, keepdims=keepdims)


def mean(x: TensorLike, axis: int | tuple[int, ...] | None = None,
         keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all by default): the sum divided by the count.

    Example::

        >>> mg.mean(mg.tensor([[1.0, 3.0]]), axis=1, keepdims=True).data
        array([[2.]])
    """
    x = _as_tensor(x, "mean")
    total = _sum(x, axis=axis, keepdims=keepdims)
    axes = range(x.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    count = math.prod(x.shape[a % x.ndim] for a in axes) if x.ndim else 1
    # the mean of nothing is NaN, as in NumPy and PyTorch
    return total * (1.0 / count if count else math.nan)


def broadcast_to(x: TensorLike, shape: tuple[int, ...]) -> Tensor:
    """``x`` repeated along new or size-1 axes to ``shape``, as ``numpy.broadcast_to``.

    Example::

        >>> mg.broadcast_to(mg.tensor([1.0, 2.0]), (3, 2)).shape
        (3, 2)
    """
    return _broadcast.unary(x, shape=tuple(shape))


def reshape(x: TensorLike, shape: Any) -> Tensor:
    """Same data, new shape (one axis may be -1).

    Example::

        >>> mg.reshape(mg.tensor(np.arange(6.0)), (2, -1)).shape
        (2, 3)
    """
    return _reshape.unary(x, shape=tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def transpose(x: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes: ``axes=None`` reverses them, else a full permutation.

    Example::

        >>> mg.transpose(mg.tensor(np.ones((2, 3, 4))), (2, 0, 1)).shape
        (4, 2, 3)
    """
    return _transpose.unary(x, axes=None if axes is None else tuple(axes))


def _check_index(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    if builtins.any(isinstance(i, Tensor) for i in items):
        raise TypeError("getitem: index with integers, slices or integer arrays, not Tensors")
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x: TensorLike, index: Any) -> Tensor:
    """``x[index]``: basic slicing, integer arrays (repeats accumulate) and boolean masks.

    Example::

        >>> mg.getitem(mg.tensor([1.0, 2.0, 3.0]), [0, 0, 2]).data   # same as x[[0, 0, 2]]
        array([1., 1., 3.])
    """
    return _getitem.unary(x, index=_check_index(index))


def index_add(g: TensorLike, index: Any, shape: tuple[int, ...]) -> Tensor:
    """A zero tensor of ``shape`` with ``g`` added at ``index`` (the adjoint of getitem).

    Example::

        >>> mg.index_add(mg.tensor([1.0, 1.0]), [0, 0], (3,)).data
        array([2., 0., 0.])
    """
    return _index_add(g, index=_check_index(index), shape=tuple(shape))


def concat(tensors: Sequence[TensorLike], axis: int = -1) -> Tensor:
    """Join tensors along an existing axis: ``concat([x (B, p), h (B, q)]) -> (B, p+q)``.

    Example::

        >>> x, h = mg.tensor(np.ones((2, 3))), mg.tensor(np.zeros((2, 4)))
        >>> mg.concat([x, h], axis=-1).shape          # (B, p), (B, q) -> (B, p+q)
        (2, 7)
    """
    tensors = _join_inputs(tensors, "concat")
    return _concat(*tensors, axis=axis)


def stack(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis: T of (B, q) -> (T, B, q).

    Example::

        >>> mg.stack([mg.tensor(np.ones((2, 4)))] * 5, axis=0).shape   # T of (B, q) -> (T, B, q)
        (5, 2, 4)
    """
    tensors = _join_inputs(tensors, "stack")
    return _stack(*tensors, axis=axis)


def _join_inputs(tensors: Any, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    return list(tensors)


def split(x: TensorLike, sections: int | Sequence[int], axis: int = -1) -> list[Tensor]:
    """Split into pieces along ``axis``, as ``numpy.split``: ``sections`` is a number of
    equal pieces or a list of split points. ``split(z (B, 4q), 4) -> 4 x (B, q)``.

    Example::

        >>> i, f, g, o = mg.split(mg.tensor(np.ones((2, 16))), 4)   # (B, 4q) -> 4 x (B, q)
        >>> i.shape
        (2, 4)
    """
    x = _as_tensor(x, "split")
    ax = _normalize_axis(axis, x.ndim, "split")
    length = x.shape[ax]
    if isinstance(sections, (int, np.integer)):
        if sections <= 0 or length % sections:
            raise ValueError(f"split: axis {axis} of size {length} cannot be split into "
                             f"{sections} equal sections")
        indices = _equal_pieces(length, int(sections), ax)
    else:  # the pieces between split points, sliced as numpy.split slices them
        bounds = [0, *(int(s) for s in sections), length]
        indices = [(slice(None),) * ax + (slice(lo, hi),) for lo, hi in zip(bounds, bounds[1:])]
    return [_getitem.unary(x, index=index) for index in indices]


@functools.lru_cache(maxsize=64)
def _equal_pieces(length: int, sections: int, axis: int) -> tuple[tuple[slice, ...], ...]:
    """The indices of ``sections`` equal pieces along ``axis``, made once per shape (an
    LSTM splits the same Z every step)."""
    step = length // sections
    return tuple((slice(None),) * axis + (slice(k * step, (k + 1) * step),)
                 for k in range(sections))
