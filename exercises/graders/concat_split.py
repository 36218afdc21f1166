"""Grades task 04: concat's and split's VJPs, against minigrad's own gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, float_dtypes

from ..grading import holds, same, student, through_engine, watching


def grade(module) -> None:
    forward = student(module.concat_forward, "concat_forward")
    vjp = student(module.concat_vjp, "concat_vjp")
    split_vjp = student(module.split_vjp, "split_vjp")
    with watching(no_minigrad=True, primitives=("concat", "getitem", "stack")):
        holds(lambda case: _concat(forward, vjp, *case), _concat_cases())
        holds(lambda case: _split(split_vjp, *case), _split_cases())
    holds(lambda case: through_engine(
        "the primitive concat", module.concat, lambda *xs, axis: mg.concat(xs, axis=axis),
        case[0], case[2], axis=case[1]), _concat_cases(), examples=10)


@st.composite
def _concat_cases(draw):
    """(xs, axis, g): arrays that agree on every axis but ``axis``, and a cotangent."""
    dtype, ndim, count = draw(float_dtypes()), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    axis = draw(st.integers(-ndim, ndim - 1))
    shape = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    sizes = draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    along = axis % ndim
    xs = [draw(arrays(tuple(size if i == along else s for i, s in enumerate(shape)), dtype))
          for size in sizes]
    total = tuple(sum(sizes) if i == along else s for i, s in enumerate(shape))
    return xs, axis, draw(arrays(total, dtype))


def _concat(forward, vjp, xs, axis, g) -> None:
    inputs = [mg.tensor(x, requires_grad=True) for x in xs]
    y = mg.concat(inputs, axis=axis)
    same(f"concat_forward (axis={axis})", forward(*xs, axis=axis), y.data)
    wants = mg.grad((y * g).sum(), inputs)
    for k, want in enumerate(wants):
        same(f"concat_vjp for input {k} of {len(xs)} (shapes {[x.shape for x in xs]}, "
             f"axis={axis})", vjp(k, g, y.data, *xs, axis=axis), want.data,
             hint=f"input {k} starts after inputs 0 .. {k - 1} along the axis" if k else
             "input 0 starts at the beginning of the axis")


@st.composite
def _split_cases(draw):
    """(x, sections, axis, gs): an array, how to cut it, and each piece's cotangent (or
    None for a piece the loss does not use)."""
    dtype, ndim = draw(float_dtypes()), draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    length = shape[axis]
    sections = draw(st.one_of(
        st.sampled_from([d for d in range(1, length + 1) if length % d == 0]),
        st.lists(st.integers(0, length), max_size=3).map(sorted)))
    x = draw(arrays(shape, dtype))
    gs = [draw(st.one_of(st.none(), arrays(p.shape, dtype)))
          for p in np.split(x, sections, axis=axis)]
    return x, sections, axis, gs


def _split(split_vjp, x, sections, axis, gs) -> None:
    X = mg.tensor(x, requires_grad=True)
    pieces = mg.split(X, sections, axis=axis)
    used = [(p * g).sum() for p, g in zip(pieces, gs) if g is not None]
    if used:
        (want,) = mg.grad(sum(used[1:], used[0]), X)
        want = want.data
    else:
        want = np.zeros_like(x)
    unused = [i for i, g in enumerate(gs) if g is None]
    same(f"split_vjp (x {x.shape} cut by {sections!r} along axis {axis}, pieces "
         f"{unused} unused)", split_vjp(gs, x, sections, axis), want,
         hint="glue the pieces' gradients back along the axis, zeros where a piece's is None")
