"""A primitive: one forward function and one vector-Jacobian product per input.

Calling a primitive is the single door every forward computation passes through: it
unwraps tensors, brings constants to the tensors' dtype, runs the forward on arrays,
turns NumPy's shape errors into errors that name the op, and records the graph.

A VJP has the signature ``vjp(g, y, *inputs, **params) -> gradient for its input``,
where ``g`` is the gradient of the output ``y``. It is written with operators and
methods that arrays and Tensors share (``* + - / @ .T .sum .reshape [index]``), so the
same line runs on arrays in a plain backward and on Tensors when ``create_graph=True``,
which is what makes higher derivatives work. VJPs may return a gradient of the
broadcast shape or of another float dtype: the backward sweep fits it to the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.exceptions import AxisError

from .context import anomaly_enabled, differentiating, grad_enabled, scope_now, tracing
from .tensor import Node, Tensor, constant_tensor, make_tensor, to_float_array

VJP = Callable[..., Any]


class Primitive:
    """A differentiable operation.

    Args:
        name: what ``Tensor.op`` reports and pictures show.
        forward: ``forward(*arrays, **params) -> ndarray``.
        vjps: one VJP per positional input, in order.
        vjp_each: for ops with any number of inputs (concat, stack), one function
            ``vjp_each(k, g, y, *inputs, **params)`` giving the gradient of input ``k``.
        explain: optional ``explain(*arrays, **params) -> str`` describing a shape error.
        selects_from_g: the VJPs only index ``g`` (``g[..., a:b]``), so they may receive
            a lazy matrix product and compute just the part they select.
        saves: what the VJPs read: "inputs", "output", "both" (the default, always safe) or
            "none". Whatever is not saved is released with the tensor that held it, and the
            VJP receives the graph vertex instead, which has only ``shape``, ``ndim`` and
            ``dtype``.

    Call it on tensors, arrays or numbers. ``prim.unary(x, **params)`` and
    ``prim.binary(a, b)`` are the same call without packing the arguments, about 0.2 us
    faster; Tensor's operators and minigrad's functions use them.

    Example, a complete new primitive::

        square = Primitive("square", np.square, lambda g, y, x: 2 * g * x)
        square(mg.tensor([3.0], requires_grad=True))   # Tensor([9.], op=square)
    """

    __slots__ = ("name", "forward", "vjps", "vjp_each", "explain", "selects_from_g",
                 "saves_inputs", "saves_output")

    def __init__(self, name: str, forward: Callable[..., np.ndarray], *vjps: VJP,
                 vjp_each: VJP | None = None,
                 explain: Callable[..., str] | None = None,
                 selects_from_g: bool = False, saves: str = "both") -> None:
        if bool(vjps) == (vjp_each is not None):
            raise TypeError(f"Primitive {name!r}: give either one VJP per input or vjp_each")
        self.name = name
        self.forward = forward
        self.vjps: Sequence[VJP] | None = vjps or None
        self.vjp_each = vjp_each
        self.explain = explain
        self.selects_from_g = selects_from_g
        if saves not in ("inputs", "output", "both", "none"):
            raise ValueError(f"Primitive {name!r}: saves must be 'inputs', 'output', 'both' "
                             f"or 'none', got {saves!r}")
        self.saves_inputs = saves in ("inputs", "both")
        self.saves_output = saves in ("output", "both")

    def __repr__(self) -> str:
        return f"<minigrad primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Tensor:
        """Apply to tensors, NumPy arrays or Python numbers (``**params`` go to the
        forward and the VJPs unchanged)."""
        arrays = []
        requires_grad = False
        for a in args:
            if not isinstance(a, Tensor):
                return self._call_with_constants(args, params)
            arrays.append(a.data)
            if a.requires_grad:
                requires_grad = True
        try:
            out = self.forward(*arrays, **params)
        except (ValueError, IndexError) as error:
            raise self._error(arrays, params, error) from None
        if tracing():
            vertices: tuple | None = tuple([traced_vertex(a) for a in args])
        else:
            vertices = tuple([a._node or a for a in args]) if requires_grad else None
        return self._result(out, vertices, arrays, params or None, requires_grad)

    def unary(self, x: Any, **params: Any) -> Tensor:
        """``self(x, **params)``, faster for one Tensor (the hot path)."""
        if not isinstance(x, Tensor):
            return self(x, **params)
        data = x.data
        try:
            out = self.forward(data, **params) if params else self.forward(data)
        except (ValueError, IndexError) as error:
            raise self._error([data], params, error) from None
        if tracing():
            vertices: tuple | None = (traced_vertex(x),)
        else:
            vertices = (x._node or x,) if x.requires_grad else None
        return self._result(out, vertices, (data,) if self.saves_inputs else None,
                            params or None, x.requires_grad)

    def binary(self, a: Any, b: Any) -> Tensor:
        """``self(a, b)``, faster for two Tensors and no parameters (the hot path)."""
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            return self(a, b)
        x, y = a.data, b.data
        try:
            out = self.forward(x, y)
        except (ValueError, IndexError) as error:
            raise self._error([x, y], {}, error) from None
        requires_grad = a.requires_grad or b.requires_grad
        if tracing():
            vertices: tuple | None = (traced_vertex(a), traced_vertex(b))
        else:
            vertices = (a._node or a, b._node or b) if requires_grad else None
        return self._result(out, vertices, (x, y) if self.saves_inputs else None, None,
                            requires_grad)

    def _call_with_constants(self, args: tuple, params: dict) -> Tensor:
        """Bring Python numbers and arrays among the arguments to the tensors' dtype;
        they stay in the graph as constants. A list or tuple holding tensors is stacked
        (its gradient is never dropped)."""
        args = tuple([stacked(a) if type(a) in (list, tuple) else a for a in args])
        dtype = next((a.data.dtype for a in args if isinstance(a, Tensor)), None)
        inputs = tuple(self._constant(a, dtype) for a in args)
        arrays = [a.data if isinstance(a, Tensor) else a for a in inputs]
        try:
            out = self.forward(*arrays, **params)
        except (ValueError, IndexError) as error:
            raise self._error(arrays, params, error) from None
        requires_grad = any(isinstance(a, Tensor) and a.requires_grad for a in inputs)
        if tracing():
            vertices: tuple | None = tuple(traced_vertex(a) if isinstance(a, Tensor) else a
                                           for a in inputs)
        elif requires_grad:
            vertices = tuple((a._node or a) if isinstance(a, Tensor) else a for a in inputs)
        else:
            vertices = None
        return self._result(out, vertices, arrays, params or None, requires_grad)

    def _result(self, out: Any, vertices: tuple | None, arrays: Sequence[np.ndarray] | None,
                params: dict | None, requires_grad: bool) -> Tensor:
        """Wrap the forward's result in a Tensor, and record its graph node when an input
        requires grad (``vertices`` then holds the inputs' vertices) and grad mode is on.
        ``arrays`` are the inputs' data (None when the VJPs do not read them). While
        tracing, every op records, and its result says ``requires_grad`` as in eager
        (whether an input requires grad), so code that asks sees what eager would."""
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # reductions may give NumPy scalars
        if anomaly_enabled() and not np.all(np.isfinite(out)):
            raise FloatingPointError(_anomaly_in_forward(self.name))
        if vertices is None or not grad_enabled():
            if vertices is not None and tracing():  # a no_grad block inside a traced function
                node = Node(self, vertices, params, None, None, out)
                return make_tensor(out, False, Node(STOP_GRADIENT, (node,), None, None, None,
                                                    out))
            return make_tensor(out, False, None)
        return make_tensor(out, requires_grad, Node(self, vertices, params,
                                           arrays if self.saves_inputs else None,
                                           out if self.saves_output else None, out))

    def _constant(self, value: Any, dtype: np.dtype | None) -> Any:
        """Bring a non-tensor argument into the op: Python numbers stay weakly typed
        (so they never upcast float32); arrays take the tensors' dtype."""
        if isinstance(value, Tensor):
            return value
        if dtype is None:  # no tensor among the arguments: this one becomes one
            return constant_tensor(to_float_array(value, None, self.name))
        if isinstance(value, np.generic) and value.dtype.kind in "iuf":
            value = value.item()  # NumPy scalars are weak too, as Python numbers are
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{self.name}: expected a number or numeric array, got "
                            f"{type(value).__name__} of dtype {array.dtype}")
        return array.astype(dtype, copy=False)

    def _error(self, arrays: Sequence[Any], params: dict, error: Exception) -> Exception:
        """NumPy's error, said in terms of this op: an axis out of range stays an
        ``AxisError`` (a ValueError and an IndexError, as in NumPy), an index out of range
        an IndexError, anything else becomes a ValueError naming the op and the shapes."""
        if isinstance(error, AxisError):
            return AxisError(f"{self.name}: {error} (input shapes {_shapes(arrays)})")
        if isinstance(error, IndexError):
            return IndexError(f"{self.name}: {error} (input shape {_shapes(arrays)})")
        return ValueError(self._describe(arrays, params, error))

    def _describe(self, arrays: Sequence[Any], params: dict, error: Exception) -> str:
        if self.explain is not None:
            try:
                return self.explain(*arrays, **params)
            except Exception:  # noqa: BLE001 - fall back to the generic message
                pass
        extra = "".join(f", {k}={v!r}" for k, v in params.items())
        return f"{self.name}: invalid input shapes {_shapes(arrays)}{extra}: {error}"


# ---- the one place a list of tensors becomes a tensor ------------------------------

def _explain_join(name: str):
    def explain(*xs: Any, axis: int) -> str:
        shapes = ", ".join(str(np.shape(x)) for x in xs)
        return f"{name}: shapes {shapes} do not fit together along axis {axis}"
    return explain


_stack = Primitive("stack", lambda *xs, axis: np.stack(xs, axis=axis),
                   vjp_each=lambda k, g, y, *xs, axis: g[(slice(None),) * (axis % y.ndim) + (k,)],
                   explain=_explain_join("stack"), saves="none")

def stacked(value: Any) -> Any:
    """A list or tuple that holds tensors (at any depth), as one tensor stacked along new
    leading axes, as HIPS autograd does: ``mg.mean([x, x + 2])`` differentiates through
    both. Anything else is returned as it is."""
    if not _holds_tensor(value):
        return value
    return _stack(*[stacked(v) if type(v) in (list, tuple) else v for v in value], axis=0)


def _holds_tensor(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            return True
        if type(v) in (list, tuple):
            stack.extend(v)
    return False


def traced_vertex(t: Tensor) -> Node | Tensor:
    """A tensor's vertex in a trace: its node if the trace computed it; otherwise the
    tensor itself, an input of the traced function whose current value a replay reads
    (a result computed before the trace is never recomputed from what it came from)."""
    node = t._node
    return t if node is None or node._seq < tracing() else node


#: What ``detach()`` and a ``no_grad`` block record while ``mg.compile`` traces: the
#: value passes, the gradient stops (the replay gives it no backward step).
STOP_GRADIENT = Primitive("stop_gradient", lambda x: x, lambda g, y, x: g * 0, saves="none")


def _shapes(arrays: Sequence[Any]) -> str:
    return " and ".join(str(np.shape(a)) for a in arrays)


def _anomaly_in_forward(op: str) -> str:
    """What anomaly mode says when ``op`` produced NaN or inf: where, and in which pass
    (with ``create_graph=True`` the backward pass runs ops too)."""
    vertex = differentiating()
    if vertex is not None:
        where = f" (scope {vertex.scope})" if vertex.scope else ""
        return (f"{op}: the backward pass produced NaN or inf while computing the gradient "
                f"of {vertex.op}{where}")
    scope = scope_now()
    return f"{op}: the forward pass produced NaN or inf" + (f" (scope {scope})" if scope else "")


def check_finite(array: Any, message: str) -> None:
    """Raise FloatingPointError with ``message`` if ``array`` holds NaN or inf."""
    data = array.data if isinstance(array, Tensor) else array
    if not np.all(np.isfinite(data)):
        raise FloatingPointError(message)
