"""The Tensor: a NumPy array, optionally with the graph that produced it.

A tensor made by a primitive remembers that primitive (``.op``), its inputs and its
non-tensor parameters; nothing else is saved, because every VJP is written in terms of
the inputs and the output. ``backward`` releases those references as it passes.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import numpy as np

from .context import STATE


def to_float_array(data: Any, dtype: Any = None, who: str = "tensor") -> np.ndarray:
    """Convert ``data`` to a floating ndarray (no copy when it already is one).

    Python numbers and lists of them become float64 unless ``dtype`` says otherwise;
    NumPy integer, bool or object data needs an explicit ``dtype``.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{who}: dtype must be a floating type such as float32 or "
                            f"float64, got {dtype}")
        try:
            return np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{who}: cannot convert {type(data).__name__} to {dtype}: "
                            f"{error}") from None
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind == "f":
        return array
    from_python = not isinstance(data, (np.ndarray, np.generic))
    if kind in "iu" and from_python:
        return array.astype(np.float64)
    raise TypeError(f"{who}: expected floating-point data, got {array.dtype}; "
                    f"pass dtype=np.float32 or dtype=np.float64 to convert")


class Tensor:
    """An n-dimensional array that records how it was computed, for reverse-mode autodiff.

    Args:
        data: anything ``numpy.asarray`` accepts; copied. Python numbers become float64.
        requires_grad: whether ``backward`` should compute a gradient for this tensor.
        dtype: a floating dtype; default keeps float arrays' dtype, float64 otherwise.
        name: a label for pictures and error messages.

    Example::

        >>> x = mg.tensor([[1.0, 2.0]], requires_grad=True, name="x")   # (1, 2)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        array([[2., 4.]])
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "scope",
                 "_prim", "_inputs", "_params", "_retains_grad", "_seq", "__weakref__")

    # ndarray (+-*/@) Tensor hands the operation to the Tensor's reflected method.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = np.array(to_float_array(data, dtype, "tensor"), copy=True)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.scope = STATE.scope
        self._prim = None
        self._inputs = None
        self._params = None
        self._retains_grad = False
        self._seq = _next_seq()

    # ---- attributes ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def op(self) -> str | None:
        """Name of the primitive that produced this tensor, None for a leaf."""
        return None if self._prim is None else self._prim.name

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was produced by an op that recorded a graph."""
        return self._prim is None

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed), as ``numpy.ndarray.T``."""
        return ops.transpose(self)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        parts = [f"shape={self.data.shape}", f"dtype={self.data.dtype}"]
        if self._prim is not None:
            parts.append(f"op={self._prim.name}")
        if self.requires_grad:
            parts.append("requires_grad=True")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        body = np.array2string(self.data, precision=4, threshold=20, edgeitems=2,
                               prefix="Tensor(")
        return f"Tensor({body}, {', '.join(parts)})"

    # ---- conversion -----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``torch.Tensor.numpy``."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a "
                             f"Python number, this one has shape {self.data.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return make_tensor(self.data, False, None, None, None)

    def named(self, name: str) -> Tensor:
        """Set ``name`` (shown in pictures) and return self, for chaining."""
        self.name = name
        return self

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward``."""
        self._retains_grad = True
        return self

    def backward(self, grad: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        Args:
            grad: upstream gradient of self's shape; may be omitted for one-element tensors.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass itself, for higher derivatives.
        """
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---- operators (each is one primitive, or a one-line composition) --------------
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return ops.power(self, exponent)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # ---- methods ----------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as ``numpy.sum``."""
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``numpy.mean``."""
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


_new_tensor = object.__new__
# Creation numbers: an op's inputs always exist before its output, so sorting by this
# number is a topological order.
_next_seq = count().__next__


def make_tensor(data: np.ndarray, requires_grad: bool, prim: Any, inputs: tuple | None,
                params: dict | None) -> Tensor:
    """Wrap an op's output array without copying or validating it (the hot path)."""
    t = _new_tensor(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t.name = None
    t.scope = STATE.scope
    t._prim = prim
    t._inputs = inputs
    t._params = params
    t._retains_grad = False
    t._seq = _next_seq()
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           name: str | None = None) -> Tensor:
    """Make a leaf tensor; same arguments as :class:`Tensor`.

    Example::

        >>> mg.tensor([[1.0, 2.0]], requires_grad=True).shape
        (1, 2)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


from . import autograd, ops  # noqa: E402  (they need Tensor defined first)
