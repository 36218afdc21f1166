"""The Tensor, a NumPy array with a handle on the graph that produced it, and the Node,
one vertex of that graph.

A tensor made by a primitive points to a :class:`Node` that records the primitive, its
inputs (other nodes, leaf tensors, or constants) and only the arrays its VJPs need. So
when the program drops an intermediate tensor, its data goes too unless a VJP needs it:
an LSTM step keeps what hand-written BPTT keeps. ``backward`` releases nodes as it passes.

A tensor's operators and its methods that run ops (``+``, ``@``, ``.sum()``,
``.backward()``) are attached to the class by :mod:`minigrad.methods`, which imports the
ops: this module imports none of them, so the engine's imports go one way.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterable, Iterator
from itertools import count
from operator import attrgetter
from typing import Any

import numpy as np

from .context import refuse_while_tracing, scope_now


def to_float_array(data: Any, dtype: Any = None, who: str = "tensor") -> np.ndarray:
    """Convert ``data`` to a floating ndarray (no copy when it already is one).

    Python numbers and lists of them become float64 unless ``dtype`` says otherwise;
    NumPy integer, bool or object data needs an explicit ``dtype``.
    """
    if isinstance(data, Tensor):
        refuse_while_tracing(f"{who}(t), which copies t's data,")
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

    __slots__ = ("data", "_grad", "requires_grad", "_name", "scope", "_node", "_seq",
                 "_version", "__weakref__")

    # tensors are hashable by identity (the sweep keys dicts by vertex), while == and the
    # other comparisons give boolean masks, as NumPy's do
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = np.array(to_float_array(data, dtype, "tensor"), copy=True)
        self._grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._name = name
        self.scope = scope_now()
        self._node: Node | None = None
        self._seq = _next_seq()
        self._version = 0

    @property
    def grad(self) -> np.ndarray | None:
        """The accumulated gradient: an array of this tensor's shape and dtype, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad = None if value is None else _as_gradient(self, value)

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
    def name(self) -> str | None:
        """A label for pictures and messages (kept by the graph node too)."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self.named(value)

    @property
    def op(self) -> str | None:
        """Name of the primitive that produced this tensor, None for a leaf."""
        return None if self._node is None else self._node.prim.name

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was produced by an op that recorded a graph."""
        return self._node is None

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis, as iterating over an ndarray gives."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[k] for k in range(len(self.data)))

    def __bool__(self) -> bool:
        """As NumPy: the truth of a one-element tensor; ValueError for more elements."""
        refuse_while_tracing("bool(t) (an if or while on a tensor)")
        return bool(self.data)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a one-element tensor formats as its number."""
        if not spec:
            return str(self)
        refuse_while_tracing("formatting a tensor")
        if self.data.size == 1:
            return format(self.data.item(), spec)
        return format(self.data, spec)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)`` is ``t.data`` (no gradient flows through NumPy)."""
        refuse_while_tracing("np.asarray(t)")
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # comparisons: boolean masks, never part of a graph
    def __lt__(self, other: Any) -> np.ndarray:
        refuse_while_tracing("a comparison (<)")
        return self.data < _raw(other)

    def __le__(self, other: Any) -> np.ndarray:
        refuse_while_tracing("a comparison (<=)")
        return self.data <= _raw(other)

    def __gt__(self, other: Any) -> np.ndarray:
        refuse_while_tracing("a comparison (>)")
        return self.data > _raw(other)

    def __ge__(self, other: Any) -> np.ndarray:
        refuse_while_tracing("a comparison (>=)")
        return self.data >= _raw(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        refuse_while_tracing("a comparison (==)")
        return self.data == _raw(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        refuse_while_tracing("a comparison (!=)")
        return self.data != _raw(other)

    def __repr__(self) -> str:
        parts = [f"shape={self.data.shape}", f"dtype={self.data.dtype}"]
        if self._node is not None:
            parts.append(f"op={self._node.prim.name}")
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
        refuse_while_tracing("t.numpy()")
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        refuse_while_tracing("t.item() (or float(t))")
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a "
                             f"Python number, this one has shape {self.data.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def named(self, name: str | None) -> Tensor:
        """Set ``name`` (shown in pictures) and return self, for chaining."""
        self._name = name
        node = self._node
        if node is not None:
            node.name = name
            if node.out is None:  # pictures show a named tensor's data, while it lives
                node.tensor = weakref.ref(self)
        return self

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward``."""
        if self._node is not None:
            self._node.retains_grad = True
            self._node.tensor = weakref.ref(self)
        return self



class Node:
    """One vertex of the graph: the result of one primitive application.

    Holds the primitive, its inputs (nodes, leaf tensors or constants) and parameters,
    the arrays its VJPs need (``saved`` inputs, ``out``), and what pictures show (shape,
    dtype, name, scope). The tensor it produced is referenced (weakly) only once it is
    named or asked to ``retain_grad``.
    """

    __slots__ = ("prim", "inputs", "params", "saved", "out", "shape", "dtype", "name",
                 "scope", "retains_grad", "tensor", "_seq", "__weakref__")

    is_leaf = False
    requires_grad = True

    def __init__(self, prim: Any, inputs: tuple, params: dict | None, saved: tuple | None,
                 out: np.ndarray | None, result: np.ndarray) -> None:
        self.prim, self.inputs, self.params = prim, inputs, params
        self.saved, self.out = saved, out
        self.shape, self.dtype = result.shape, result.dtype
        self.name = None
        self.scope = scope_now()
        self.retains_grad = False
        self.tensor: Any = None
        self._seq = _next_seq()

    @property
    def op(self) -> str:
        return self.prim.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def data(self) -> np.ndarray | None:
        """The result, if its tensor is still alive or a VJP saved it, else None."""
        t = self.tensor() if self.tensor is not None else None
        return t.data if t is not None else self.out

    def __repr__(self) -> str:
        return f"<minigrad node {self.prim.name} {self.shape}>"

    def __deepcopy__(self, memo: dict) -> Node:
        """Copy the whole graph behind this node, oldest node first, so that every copy
        finds its inputs already copied: no recursion, however deep the graph."""
        for node in sorted(nodes_leading_to([self]), key=creation_number):
            if id(node) in memo:
                continue
            twin = _new_node(Node)
            twin.prim, twin.shape, twin.dtype = node.prim, node.shape, node.dtype
            twin.name, twin.scope, twin.retains_grad = node.name, node.scope, node.retains_grad
            twin.inputs = (None if node.inputs is None else
                           tuple(copy.deepcopy(x, memo) for x in node.inputs))
            twin.params = copy.deepcopy(node.params, memo)
            twin.saved = copy.deepcopy(node.saved, memo)
            twin.out = copy.deepcopy(node.out, memo)
            twin.tensor = None
            twin._seq = _next_seq()  # copies are newer than their copied inputs
            memo[id(node)] = twin
        return memo[id(self)]


creation_number = attrgetter("_seq")


def nodes_leading_to(roots: Iterable[Any], stop: Iterable[Node] = ()) -> set[Node]:
    """Every node reachable from ``roots`` (an iterative walk: no recursion limit),
    without passing through the nodes in ``stop``."""
    stop = set(stop)
    seen = {v for v in roots if type(v) is Node and v not in stop}
    stack = list(seen)
    while stack:
        for x in stack.pop().inputs or ():
            if type(x) is Node and x not in seen and x not in stop:
                seen.add(x)
                stack.append(x)
    return seen


def mark_modified(t: Tensor) -> None:
    """Record that ``t.data`` was changed in place (an optimizer step, load_state_dict).

    ``t._version`` becomes a creation number newer than every node made so far, so a node
    that saved ``t``'s data for its VJP, and is older than the change, can tell that what
    it saved is gone; backward through it raises instead of using the new values."""
    t._version = LAST_MODIFIED[0] = _next_seq()


#: The creation number of the latest in-place change to any tensor: nodes made after it
#: cannot have seen stale data, so the sweep checks only older ones.
LAST_MODIFIED = [0]


def _numpy_keywords(method: str, dtype: Any, out: Any) -> None:
    """NumPy's functions pass ``dtype=None`` and ``out=None`` to a tensor's method
    (``np.sum(t)`` calls ``t.sum(axis=None, dtype=None, out=None)``): fine. Anything else
    cannot be honoured by a differentiable result."""
    if out is not None:
        raise TypeError(f"{method}: out= is not supported on a Tensor: a result is a new "
                        f"tensor in the graph, never written into an existing array; drop "
                        f"out= (and use t.data for a plain NumPy result)")
    if dtype is not None:
        raise TypeError(f"{method}: dtype= is not supported on a Tensor; cast first with "
                        f"t.astype({np.dtype(dtype).name!r}), which is differentiable")


def _as_gradient(t: Tensor, value: Any) -> np.ndarray:
    """``value`` checked as a gradient for ``t``: same shape, a float array in ``t``'s
    dtype. A wrong shape would otherwise be broadcast silently by the next update."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    who = f"tensor {t._name!r}" if t._name else "a tensor"
    if array.shape != t.data.shape:
        raise ValueError(f"grad: cannot set a gradient of shape {array.shape} on {who} of "
                         f"shape {t.data.shape}; it must have the tensor's shape")
    if array.dtype.kind != "f":
        raise TypeError(f"grad: a gradient must be a floating-point array, got {array.dtype}")
    if array.dtype != t.data.dtype or not array.flags.writeable:  # backward adds into it
        array = array.astype(t.data.dtype)
    return array


_new_tensor = _new_node = object.__new__
# Creation numbers: an op's inputs always exist before its output, so sorting by this
# number is a topological order.
_next_seq = count(1).__next__


def new_creation_number() -> int:
    """A creation number newer than everything made so far (at least 1): what ``mg.compile``
    marks the start of a trace with."""
    return _next_seq()


def make_tensor(data: np.ndarray, requires_grad: bool, node: Node | None) -> Tensor:
    """Wrap an op's output array without copying or validating it (the hot path)."""
    t = _new_tensor(Tensor)
    t.data = data
    t._grad = None
    t.requires_grad = requires_grad
    t._name = None
    t.scope = scope_now() if node is None else node.scope
    t._node = node
    t._seq = t._version = 0
    return t


def constant_tensor(data: np.ndarray) -> Tensor:
    """A leaf that does not require grad, made by an op from a non-tensor argument. It has
    a creation number, so a compiled function can tell it was made inside the trace."""
    t = make_tensor(data, False, None)
    t._seq = _next_seq()
    return t


def handle(data: Any, vertex: Any) -> Any:
    """A Tensor for a graph vertex (node or leaf), for VJPs recording a graph; constants
    pass through."""
    if type(vertex) is not Node:
        return vertex
    t = _new_tensor(Tensor)
    t.data, t._grad, t.requires_grad = data, None, vertex.requires_grad
    t._name, t.scope, t._node, t._seq, t._version = None, vertex.scope, vertex, 0, 0
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           name: str | None = None) -> Tensor:
    """Make a leaf tensor; same arguments as :class:`Tensor`.

    Example::

        >>> mg.tensor([[1.0, 2.0]], requires_grad=True).shape
        (1, 2)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


