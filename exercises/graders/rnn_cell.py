"""Grades task 06: the tanh RNN cell from primitives, against ``lstm.RNNCell``."""

from __future__ import annotations

from hypothesis import strategies as st

import minigrad as mg
from lstm.cells import RNNCell
from minigrad.testing import arrays, float_dtypes

from ..grading import CheckError, holds, same, student, watching

LAYOUT = ("h' = tanh([x, h] @ W + b): x's p columns first, then h's q, so W's first p rows "
          "act on x")


def grade(module) -> None:
    cell = student(module.rnn_cell, "rnn_cell")
    unroll = student(module.rnn_unroll, "rnn_unroll")
    with watching(attributes=((RNNCell, "forward", "lstm's RNNCell"),)):
        holds(lambda case: _cell(cell, *case), _cases(steps=False))
        holds(lambda case: _unroll(unroll, *case), _cases(steps=True), examples=15)


@st.composite
def _cases(draw, steps: bool):
    """Arrays for one step (x, h, W, b, g) or an unroll (xs, h0, W, b, gs)."""
    dtype = draw(float_dtypes())
    B, p, q = (draw(st.integers(1, 3)) for _ in range(3))
    T = draw(st.integers(1, 4)) if steps else None
    x_shape = (T, B, p) if steps else (B, p)
    g_shape = (T, B, q) if steps else (B, q)
    return tuple(draw(arrays(shape, dtype)) for shape in (x_shape, (B, q), (p + q, q), (1, q),
                                                          g_shape))


def _reference(x, h, W, b):
    cell = RNNCell(x.shape[-1], h.shape[-1], dtype=x.dtype)
    cell.W.data[...] = W
    cell.b.data[...] = b
    return cell


def _tensors(*values):
    return [mg.tensor(v, requires_grad=True) for v in values]


def _gradients(name, got, want, inputs_got, inputs_want, g, hint=LAYOUT) -> None:
    wants = mg.grad((want * g).sum(), inputs_want)
    if not isinstance(got, mg.Tensor):
        raise CheckError(f"your {name} should return a minigrad Tensor, not {type(got).__name__}")
    if not got.requires_grad:
        raise CheckError(f"your {name} returns a Tensor that no gradient can reach: it was "
                         f"computed outside minigrad (with NumPy?); build it from minigrad's "
                         f"ops (mg.concat, @, +, mg.tanh)")
    gots = mg.grad((got * g).sum(), inputs_got, allow_unused=True)
    for label, mine, theirs in zip(("x", "h", "W", "b"), gots, wants):
        if mine is None:
            raise CheckError(f"in your {name} no gradient reaches {label}: {LAYOUT}, every one of "
                             f"them through minigrad's ops")
        same(f"{name}'s gradient for {label}", mine.data, theirs.data, hint=hint)


def _cell(cell, x, h, W, b, g) -> None:
    mine, theirs = _tensors(x, h, W, b), _tensors(x, h, W, b)
    want = _reference(x, h, W, b)
    reference = mg.tanh(mg.concat(theirs[:2], axis=-1) @ theirs[2] + theirs[3])
    same("rnn_cell", cell(*mine), want(x, h).data, hint=LAYOUT)
    _gradients("rnn_cell", cell(*mine), reference, mine, theirs, g)


def _unroll(unroll, xs, h0, W, b, gs) -> None:
    mine, theirs = _tensors(xs, h0, W, b), _tensors(xs, h0, W, b)
    want = _reference(xs[0], h0, W, b)
    hs, h = [], h0
    for x in xs:
        h = want(x, h).data
        hs.append(h)
    got = unroll(*mine)
    if not isinstance(got, list | tuple) or len(got) != len(xs):
        raise CheckError(f"your rnn_unroll should give a list of T = {len(xs)} hidden states "
                         f"[h_1, ..., h_T], and it gave {type(got).__name__} of length "
                         f"{len(got) if hasattr(got, '__len__') else '?'}")
    for t, (mine_h, want_h) in enumerate(zip(got, hs)):
        same(f"rnn_unroll's h_{t + 1}", mine_h, want_h, hint="each step reads its own input "
             "xs[t] and the previous step's h")
    reference, state = [], theirs[1]
    for t in range(len(xs)):
        state = mg.tanh(mg.concat([theirs[0][t], state], axis=-1) @ theirs[2] + theirs[3])
        reference.append(state)
    _gradients("rnn_unroll", mg.stack(list(got)), mg.stack(reference), mine, theirs, gs,
               hint="step t reads its own input xs[t] and the h of step t - 1")
