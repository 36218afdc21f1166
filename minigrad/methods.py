"""The operators and methods of :class:`~minigrad.tensor.Tensor` that run ops (``+``, ``@``,
``.sum()``, ``.backward()``), attached to the class here. They call ``ops``,
``numpy_ops`` and ``autograd``, which are built on ``tensor``: defined in ``tensor.py``
they would make the imports go round in a circle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import array_functions, autograd, numpy_ops, ops, primitive
from .context import note_detached, tracing
from .tensor import Tensor, _numpy_keywords, make_tensor


class _TensorMethods:
    """Tensor's operators and methods (see the module's doc): each attribute becomes
    Tensor's."""

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed), as ``numpy.ndarray.T``."""
        return ops.transpose(self)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufuncs on tensors: those minigrad differentiates give tensors
        (``np.exp(t)`` is ``mg.exp(t)``), comparisons give masks; others are refused
        rather than silently losing the gradient."""
        return numpy_ops.apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """NumPy's other functions on tensors: those with a minigrad counterpart give
        tensors (``np.concatenate``, ``np.linalg.norm``); on a tensor that requires grad
        the others are refused rather than silently losing the gradient
        (:mod:`minigrad.array_functions`)."""
        if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
            return NotImplemented
        return array_functions.apply(func, args, kwargs)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        if tracing():  # mg.compile: the value must still be computed at every call
            detached = primitive.STOP_GRADIENT.unary(self)
            detached.requires_grad = False
            note_detached(detached)  # a plain tensor once the trace ends, if it escapes
            return detached
        return make_tensor(self.data, False, None)

    def backward(self, grad: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        Args:
            grad: upstream gradient of self's shape; may be omitted for one-element tensors.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass itself, for higher derivatives.
        """
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---- operators (each calls its primitive directly: the hot path) ------------------
    def __add__(self, other: Any) -> Tensor:
        return ops._add.binary(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops._add.binary(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops._sub.binary(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops._sub.binary(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops._mul.binary(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops._mul.binary(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops._div.binary(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops._div.binary(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops._matmul.binary(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops._matmul.binary(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return numpy_ops.power(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return numpy_ops.tensor_power(base, self)

    def __neg__(self) -> Tensor:
        return ops._neg.unary(self)

    def __abs__(self) -> Tensor:
        return numpy_ops.abs(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # ---- methods ----------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
            dtype: None = None, out: None = None) -> Tensor:
        """Sum over ``axis`` (all axes by default), as ``numpy.sum`` (``np.sum(t)`` too)."""
        _numpy_keywords("sum", dtype, out)
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
             dtype: None = None, out: None = None) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``numpy.mean`` (``np.mean(t)`` too)."""
        _numpy_keywords("mean", dtype, out)
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``, with -1 allowed once."""
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes as ``numpy.transpose``: none reverses, else a full permutation."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return ops.transpose(self, axes or None)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def sqrt(self) -> Tensor:
        return numpy_ops.sqrt(self)

    def abs(self) -> Tensor:
        return numpy_ops.abs(self)

    def clip(self, lo: float | None, hi: float | None, *, out: None = None) -> Tensor:
        _numpy_keywords("clip", None, out)
        return numpy_ops.clip(self, lo, hi)

    def max(self, axis: Any = None, keepdims: bool = False, *, out: None = None) -> Tensor:
        """The largest element along ``axis``; ties share the gradient (``mg.max``)."""
        _numpy_keywords("max", None, out)
        return numpy_ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False, *, out: None = None) -> Tensor:
        """The smallest element along ``axis``; ties share the gradient (``mg.min``)."""
        _numpy_keywords("min", None, out)
        return numpy_ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, *,
            dtype: None = None, out: None = None) -> Tensor:
        _numpy_keywords("var", dtype, out)
        return numpy_ops.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0, *,
            dtype: None = None, out: None = None) -> Tensor:
        _numpy_keywords("std", dtype, out)
        return numpy_ops.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the largest elements: an integer array, no gradient."""
        return numpy_ops.argmax(self, axis=axis)

    def argmin(self, axis: int | None = None) -> np.ndarray:
        """Indices of the smallest elements: an integer array, no gradient."""
        return numpy_ops.argmin(self, axis=axis)

    def flatten(self) -> Tensor:
        return numpy_ops.flatten(self)

    def squeeze(self, axis: Any = None) -> Tensor:
        return numpy_ops.squeeze(self, axis=axis)

    def astype(self, dtype: Any) -> Tensor:
        """This tensor in another float dtype, differentiably."""
        return numpy_ops.astype(self, dtype)


def _attach() -> None:
    skip = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}
    for name, value in vars(_TensorMethods).items():
        if name in skip:
            continue
        function = value.fget if isinstance(value, property) else value
        function.__qualname__ = f"Tensor.{name}"
        setattr(Tensor, name, value)


_attach()
