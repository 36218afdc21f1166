"""Grades task 10: the GRU cell, against ``lstm.GRUCell`` (PyTorch's layout)."""

from __future__ import annotations

from lstm.cells import GRUCell

from ..grading import holds, same_function, student, watching
from .rnn_cell import cases

HINT = ("blocks r, z, n of W_x, W_h, b_x, b_h; r and z are sigmoids of the input's part "
        "plus the hidden part; n = tanh(x W_xn + b_xn + r * (h W_hn + b_hn)); "
        "h' = (1 - z) * n + z * h")


def grade(module) -> None:
    cell = student(module.gru_cell, "gru_cell")

    def reference(x, h, W_x, W_h, b_x, b_h):
        gru = GRUCell(x.shape[-1], h.shape[-1], dtype=x.dtype)
        gru.W_x, gru.W_h, gru.b_x, gru.b_h = W_x, W_h, b_x, b_h
        return gru(x, h)

    with watching(attributes=((GRUCell, "forward", "lstm's GRUCell"),)):
        holds(lambda case: same_function("gru_cell", cell, reference, list(case[:6]),
                                         [case[6]], ("x", "h", "W_x", "W_h", "b_x", "b_h"),
                                         HINT),
              cases(B=(1, 3), sizes=[("B", "p"), ("B", "q"), ("p", "m"), ("q", "m"),
                                     (1, "m"), (1, "m")], cotangents=[("B", "q")], gates=3))
