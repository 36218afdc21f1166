"""Numerical gradient checking by central differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad
from .tensor import Tensor, make_tensor


def outputs_of(result: Any) -> list[Tensor]:
    """A function's result as a list of tensors (it may return one or a tuple)."""
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)) and all(isinstance(r, Tensor) for r in result):
        if not result:
            raise TypeError("gradcheck: fn returned no tensors, so there is nothing to check")
        return list(result)
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got "
                    f"{type(result).__name__}")


def float64_leaves(inputs: Sequence[Any]) -> list[Any]:
    """Float64 copies of the tensor inputs, as fresh leaves; other inputs unchanged."""
    return [make_tensor(np.array(x.data, dtype=np.float64), x.requires_grad, None)
            if isinstance(x, Tensor) else x for x in inputs]


def numeric_gradient(fn: Callable[..., Any], leaves: Sequence[Any], k: int,
                     directions: Sequence[np.ndarray], eps: float) -> np.ndarray:
    """Central-difference gradient of ``sum(out * direction)`` w.r.t. ``leaves[k]``."""
    x = leaves[k].data
    numeric = np.zeros_like(x)

    def projected() -> float:
        outs = outputs_of(fn(*leaves))
        return float(sum(np.sum(o.data * d) for o, d in zip(outs, directions)))

    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        up = projected()
        x[i] = original - eps
        down = projected()
        x[i] = original
        numeric[i] = (up - down) / (2 * eps)
    return numeric


def compare(k: int, analytic: np.ndarray, numeric: np.ndarray, atol: float,
            rtol: float) -> str | None:
    """A one-line report of the worst element if the two gradients differ, else None.
    NaN or inf on either side is a difference: no comparison with NaN can pass."""
    error = np.abs(analytic - numeric)
    bad = ~(error <= atol + rtol * np.abs(numeric))
    if not bad.any():
        return None
    worst = np.unravel_index(np.argmax(error - rtol * np.abs(numeric)), numeric.shape)
    return (f"input {k} (shape {numeric.shape}): {int(bad.sum())} of {numeric.size} elements "
            f"differ; worst at index {tuple(int(i) for i in worst)}: analytic "
            f"{analytic[worst]:.6g}, numeric {numeric[worst]:.6g}, error {error[worst]:.3g}")


def gradcheck(fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central differences.

    Every input that is a Tensor with ``requires_grad=True`` is checked; the others are
    passed through unchanged. The check runs in float64 on copies of the inputs and
    projects the outputs on a fixed random direction, so one backward pass gives every
    analytic gradient and two evaluations per element give the numerical one.

    Returns:
        True when ``|analytic - numeric| <= atol + rtol * |numeric|`` everywhere.

    Raises:
        AssertionError: with a report naming, for each failing input, the worst element,
            both values and the error.

    Example::

        x = mg.tensor(np.random.randn(3, 4), requires_grad=True)
        assert mg.gradcheck(lambda x: mg.tanh(x) * x, x)
    """
    leaves = float64_leaves(inputs)
    checked = [k for k, x in enumerate(leaves) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    rng = np.random.default_rng(seed)
    outs = outputs_of(fn(*leaves))
    directions = [rng.standard_normal(o.shape) for o in outs]
    analytic = grad(outs, [leaves[k] for k in checked], grad_outputs=directions,
                    allow_unused=True)
    report = []
    for k, g in zip(checked, analytic):
        numeric = numeric_gradient(fn, leaves, k, directions, eps)
        line = compare(k, np.zeros_like(numeric) if g is None else g.data, numeric, atol, rtol)
        if line:
            report.append(line)
    if report:
        raise AssertionError("gradcheck failed:\n  " + "\n  ".join(report))
    return True
