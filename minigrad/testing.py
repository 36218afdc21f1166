"""Hypothesis strategies and a gradient checker, for testing primitives and models.

Built on ``hypothesis.extra.numpy``. A user can property-test a primitive of their own
in five lines::

    from hypothesis import given
    from minigrad.testing import arrays_and_dtypes, check_gradients

    @given(arrays_and_dtypes())
    def test_square(x):
        check_gradients(lambda x: square(x), mg.tensor(x, requires_grad=True))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .autograd import grad
from .gradcheck import compare, float64_leaves, numeric_gradient, outputs_of
from .tensor import Tensor

#: Gradient-check tolerances per dtype: float32 gradients are computed in float32 and
#: compared with float64 central differences, so they get looser bounds.
TOLERANCES = {np.dtype(np.float64): {"atol": 1e-6, "rtol": 1e-4},
              np.dtype(np.float32): {"atol": 2e-3, "rtol": 2e-2}}


def float_dtypes() -> st.SearchStrategy[np.dtype]:
    """float32 or float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small enough for finite differences."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that broadcast together, e.g. ``((3, 1), (4,))``."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda result: result.input_shapes)


def arrays(shape: Any, dtype: Any = np.float64, low: float = -2.0, high: float = 2.0,
           avoid: float | None = None, margin: float = 0.05) -> st.SearchStrategy[np.ndarray]:
    """Finite arrays with elements in ``[low, high]``.

    ``avoid`` keeps every element at least ``margin`` away from that value (a kink, such
    as relu's at 0, where finite differences are meaningless).
    """
    dtype = np.dtype(dtype)
    low, high = (float(dtype.type(v)) for v in (low, high))  # representable bounds
    elements = st.floats(low, high, width=dtype.itemsize * 8, allow_nan=False,
                         allow_infinity=False)
    if avoid is not None:
        elements = elements.filter(lambda v: abs(v - avoid) >= margin)
    return hnp.arrays(dtype, shape, elements=elements)


def arrays_and_dtypes(shape: Any = None, low: float = -2.0,
                      high: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    """Arrays of a random float dtype and (by default) a random small shape."""
    return st.tuples(float_dtypes(), shapes() if shape is None else st.just(shape)).flatmap(
        lambda ds: arrays(ds[1], ds[0], low, high))


def tensors(shape: Any = None, dtype: Any = None, low: float = -2.0, high: float = 2.0,
            requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """Leaf tensors; ``shape``/``dtype`` of None draw one."""
    dtypes = float_dtypes() if dtype is None else st.just(np.dtype(dtype))
    shape_strategy = shapes() if shape is None else st.just(shape)
    return st.tuples(dtypes, shape_strategy).flatmap(
        lambda ds: arrays(ds[1], ds[0], low, high)).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def check_gradients(fn: Callable[..., Any], *inputs: Any, eps: float = 1e-6,
                    atol: float | None = None, rtol: float | None = None,
                    seed: int = 0) -> None:
    """Assert that ``fn``'s gradients are right, in the inputs' own dtype.

    Checks, for every input Tensor with ``requires_grad``: the gradient has the input's
    shape and dtype, the forward output keeps the inputs' dtype, no input is mutated,
    and the gradient agrees with float64 central differences (tolerance by dtype, see
    :data:`TOLERANCES`). Raises AssertionError with a per-input report.
    """
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    before = [x.data.copy() for x in inputs if isinstance(x, Tensor)]
    outs = outputs_of(fn(*inputs))
    dtype = np.result_type(*(inputs[k].dtype for k in checked))
    for o in outs:
        assert o.dtype == dtype, f"output dtype {o.dtype}, expected {dtype}"
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(o.shape) for o in outs]
    analytic = grad(outs, [inputs[k] for k in checked],
                    grad_outputs=[d.astype(o.dtype) for d, o in zip(directions, outs)],
                    allow_unused=True)
    after = [x.data for x in inputs if isinstance(x, Tensor)]
    assert all(np.array_equal(b, a) for b, a in zip(before, after)), "an input was mutated"
    leaves = float64_leaves(inputs)
    report = []
    for k, g in zip(checked, analytic):
        x = inputs[k]
        exact = np.zeros(x.shape, x.dtype) if g is None else g.data
        assert exact.shape == x.shape, f"input {k}: gradient shape {exact.shape} != {x.shape}"
        assert exact.dtype == x.dtype, f"input {k}: gradient dtype {exact.dtype} != {x.dtype}"
        tolerance = dict(TOLERANCES.get(x.dtype, TOLERANCES[np.dtype(np.float32)]))
        tolerance.update({k2: v for k2, v in (("atol", atol), ("rtol", rtol)) if v is not None})
        numeric = numeric_gradient(fn, leaves, k, directions, eps)
        line = compare(k, exact.astype(np.float64), numeric, **tolerance)
        if line:
            report.append(line)
    assert not report, "gradients differ from central differences:\n  " + "\n  ".join(report)
