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

from .context import STATE
from .tensor import Node, Tensor, make_tensor, to_float_array

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
        arrays = []
        requires_grad = False
        for a in args:
            if not isinstance(a, Tensor):
                return self._call_with_constants(args, params)
            arrays.append(a.data)
            if a.requires_grad:
                requires_grad = True
        try:
            out = self.forward(*arrays, **params) if params else self.forward(*arrays)
        except ValueError as error:
            raise ValueError(self._describe(arrays, params, error)) from None
        if type(out) is not np.ndarray or STATE.anomaly:
            out = self._checked(out)
        if not (requires_grad and STATE.grad_enabled):
            return make_tensor(out, False, None)
        # the inputs' graph vertices (written out for one and two inputs: the hot path)
        if len(args) == 2:
            a, b = args
            vertices = (a._node or a, b._node or b)
        elif len(args) == 1:
            vertices = (args[0]._node or args[0],)
        else:
            vertices = tuple([a._node or a for a in args])
        return make_tensor(out, True, Node(self, vertices, params or None,
                                           arrays if self.saves_inputs else None,
                                           out if self.saves_output else None, out))

    def _call_with_constants(self, args: tuple, params: dict) -> Tensor:
        """Bring Python numbers and arrays among the arguments to the tensors' dtype;
        they stay in the graph as constants."""
        dtype = next((a.data.dtype for a in args if isinstance(a, Tensor)), None)
        inputs = tuple(self._constant(a, dtype) for a in args)
        arrays = [a.data if isinstance(a, Tensor) else a for a in inputs]
        try:
            out = self._checked(self.forward(*arrays, **params))
        except ValueError as error:
            raise ValueError(self._describe(arrays, params, error)) from None
        if not (STATE.grad_enabled and any(isinstance(a, Tensor) and a.requires_grad
                                           for a in inputs)):
            return make_tensor(out, False, None)
        vertices = tuple((a._node or a) if isinstance(a, Tensor) else a for a in inputs)
        return make_tensor(out, True, Node(self, vertices, params or None,
                                           arrays if self.saves_inputs else None,
                                           out if self.saves_output else None, out))

    def _checked(self, out: Any) -> np.ndarray:
        """The forward's result as an array (reductions may give NumPy scalars), checked
        for NaN and inf under ``mg.detect_anomaly()``."""
        out = np.asarray(out)
        if STATE.anomaly:
            check_finite(out, f"{self.name}: the forward pass produced NaN or inf")
        return out

    def _constant(self, value: Any, dtype: np.dtype | None) -> Any:
        """Bring a non-tensor argument into the op: Python numbers stay weakly typed
        (so they never upcast float32); arrays take the tensors' dtype."""
        if isinstance(value, Tensor):
            return value
        if dtype is None:  # no tensor among the arguments: this one becomes one
            return make_tensor(to_float_array(value, None, self.name), False, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{self.name}: expected a number or numeric array, got "
                            f"{type(value).__name__} of dtype {array.dtype}")
        return array.astype(dtype, copy=False)

    def _describe(self, arrays: Sequence[Any], params: dict, error: Exception) -> str:
        if self.explain is not None:
            try:
                return self.explain(*arrays, **params)
            except Exception:  # noqa: BLE001 - fall back to the generic message
                pass
        shapes = " and ".join(str(np.shape(a)) for a in arrays)
        extra = "".join(f", {k}={v!r}" for k, v in params.items())
        return f"{self.name}: invalid input shapes {shapes}{extra}: {error}"


def check_finite(array: Any, message: str) -> None:
    """Raise FloatingPointError with ``message`` if ``array`` holds NaN or inf."""
    data = array.data if isinstance(array, Tensor) else array
    if not np.all(np.isfinite(data)):
        raise FloatingPointError(message)
