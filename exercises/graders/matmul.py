"""Grades task 03: unbroadcast and matmul's VJPs, against minigrad's own gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes, float_dtypes

from ..grading import CheckError, holds, same, student, through_engine, watching

UNBROADCAST = ("sum over the leading axes that shape lacks, then over each axis where "
               "shape has 1 and grad more, keeping it (keepdims=True)")


def grade(module) -> None:
    unbroadcast = student(module.unbroadcast, "unbroadcast")
    vjps = {"a": student(module.matmul_vjp_a, "matmul_vjp_a"),
            "b": student(module.matmul_vjp_b, "matmul_vjp_b")}
    with watching(no_minigrad=True, primitives=("matmul", "broadcast_to", "sum")):
        holds(lambda case: _unbroadcast(unbroadcast, *case), _broadcast_cases())
        holds(lambda case: _matmul(vjps, *case), _matmul_cases(batch=False))
        holds(lambda case: _matmul(vjps, *case), _matmul_cases(batch=True))
    holds(lambda case: through_engine("the primitive matmul", module.matmul, mg.matmul,
                                      list(case[:2]), case[2]), _matmul_cases(batch=True),
          examples=10)


def _broadcast_cases():
    """(grad, shape): a gradient of a broadcast result, and one input's shape."""
    return st.tuples(float_dtypes(), broadcastable_shapes(max_dims=4)).flatmap(
        lambda ds: st.tuples(arrays(np.broadcast_shapes(*ds[1]), ds[0]), st.just(ds[1][0])))


def _unbroadcast(unbroadcast, grad, shape) -> None:
    x = mg.tensor(np.zeros(shape, grad.dtype), requires_grad=True)
    (want,) = mg.grad(((x + np.zeros(grad.shape, grad.dtype)) * grad).sum(), x)
    same(f"unbroadcast(grad of shape {grad.shape}, {shape})", unbroadcast(grad, shape),
         want.data, hint=UNBROADCAST)


def _matmul_cases(batch: bool):
    """(a, b, g): operands with at least two axes (batch axes broadcasting) and a
    cotangent shaped like a @ b."""
    sizes = st.integers(1, 4)
    batches = broadcastable_shapes(max_dims=2, max_side=3) if batch else st.just(((), ()))

    def build(drawn):
        dtype, (ba, bb), n, k, m = drawn
        shape_y = np.broadcast_shapes(ba, bb) + (n, m)
        return st.tuples(arrays(ba + (n, k), dtype), arrays(bb + (k, m), dtype),
                         arrays(shape_y, dtype))

    return st.tuples(float_dtypes(), batches, sizes, sizes, sizes).flatmap(build)


def _matmul(vjps, a, b, g) -> None:
    A, B = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    wants = dict(zip("ab", mg.grad(((A @ B) * g).sum(), [A, B])))
    rules = {"a": "per matrix, dL/da = g @ b^T (np.swapaxes(b, -1, -2) transposes a batch)",
             "b": "per matrix, dL/db = a^T @ g"}
    for name, vjp in vjps.items():
        what = f"matmul_vjp_{name} (a {a.shape} @ b {b.shape})"
        try:
            got = vjp(g, a @ b, a, b)
        except CheckError as error:
            raise CheckError(f"{error}; for a {a.shape} @ b {b.shape}: {rules[name]}") from None
        shape = (a if name == "a" else b).shape
        extra = (f", then unbroadcast to {shape}: the batch axes were broadcast"
                 if np.shape(got) != shape and a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2]
                 else "")
        same(what, got, wants[name].data, hint=rules[name] + extra)
