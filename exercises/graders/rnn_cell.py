"""Grades task 06: the tanh RNN cell from primitives, against ``lstm.RNNCell``."""

from __future__ import annotations

from hypothesis import strategies as st

import minigrad as mg
from lstm.cells import RNNCell
from minigrad.testing import arrays, float_dtypes

from ..grading import CheckError, holds, same_function, student, watching

LAYOUT = ("h' = tanh([x, h] @ W + b): x's p columns first, then h's q, so W's first p rows "
          "act on x")


def grade(module) -> None:
    cell = student(module.rnn_cell, "rnn_cell")
    unroll = student(module.rnn_unroll, "rnn_unroll")
    with watching(attributes=((RNNCell, "forward", "lstm's RNNCell"),)):
        holds(lambda case: same_function("rnn_cell", cell, _reference, list(case[:4]),
                                         [case[4]], ("x", "h", "W", "b"), LAYOUT),
              cases(B=(1, 3), sizes=[("B", "p"), ("B", "q"), ("p+q", "q"), (1, "q")],
                    cotangents=[("B", "q")]))
        holds(lambda case: _unroll(unroll, *case),
              cases(B=(1, 3), sizes=[("T", "B", "p"), ("B", "q"), ("p+q", "q"), (1, "q")],
                    cotangents=[("T", "B", "q")]), examples=15)


@st.composite
def cases(draw, B, sizes, cotangents, gates: int = 1):
    """Arrays of the given symbolic shapes (B, T, p, q, p+q, and m = gates * q), of one
    random float dtype, then their cotangents."""
    dtype = draw(float_dtypes())
    n = {"B": draw(st.integers(*B)), "T": draw(st.integers(1, 4)),
         "p": draw(st.integers(1, 3)), "q": draw(st.integers(1, 3))}
    n["p+q"], n["m"] = n["p"] + n["q"], gates * n["q"]
    return tuple(draw(arrays(tuple(n[d] if isinstance(d, str) else d for d in shape), dtype))
                 for shape in [*sizes, *cotangents])


def _reference(x, h, W, b):
    cell = RNNCell(x.shape[-1], h.shape[-1], dtype=x.dtype)
    cell.W, cell.b = W, b
    return cell(x, h)


def _unroll(unroll, xs, h0, W, b, gs) -> None:
    got = unroll(*(mg.tensor(a) for a in (xs, h0, W, b)))
    if not isinstance(got, list | tuple) or len(got) != len(xs):
        raise CheckError(f"your rnn_unroll should give a list of T = {len(xs)} hidden states "
                         f"[h_1, ..., h_T], and it gave {type(got).__name__} of length "
                         f"{len(got) if hasattr(got, '__len__') else '?'}")

    def reference(xs, h, W, b):
        hs = []
        for t in range(xs.shape[0]):
            h = _reference(xs[t], h, W, b)
            hs.append(h)
        return mg.stack(hs)

    same_function("rnn_unroll", lambda *t: mg.stack(list(unroll(*t))), reference,
                  [xs, h0, W, b], [gs], ("xs", "h0", "W", "b"),
                  "step t reads its own input xs[t] and the h of step t - 1")
