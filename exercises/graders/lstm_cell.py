"""Grades task 07: the LSTM cell and the 1997 cell, against ``lstm.LSTMCell``."""

from __future__ import annotations

from lstm.cells import LSTMCell

from ..grading import holds, same_function, student, watching
from .rnn_cell import cases

#: Each cell: its function's name, whether it has a forget gate, and how it works.
CELLS = (("lstm_cell", True, "Z = [x, h] @ W + b in blocks of q columns, in the order i, "
          "f, g, o; c' = f * c + i * g; h' = o * tanh(c'), with the new c'"),
         ("lstm_1997_cell", False, "Z = [x, h] @ W + b in blocks of q columns, in the order "
          "i, g, o; c' = c + i * g (no forget gate); h' = o * tanh(c'), with the new c'"))


def grade(module) -> None:
    with watching(attributes=((LSTMCell, "forward", "lstm's LSTMCell"),)):
        for name, forget, hint in CELLS:
            _grade_cell(name, student(getattr(module, name), name), forget, hint)


def _grade_cell(name, cell, forget, hint) -> None:
    def reference(x, h, c, W, b):
        lstm = LSTMCell(x.shape[-1], h.shape[-1], forget_gate=forget, dtype=x.dtype)
        lstm.W, lstm.b = W, b
        return lstm(x, (h, c))

    holds(lambda case: same_function(name, cell, reference, list(case[:5]), list(case[5:]),
                                     ("x", "h", "c", "W", "b"), hint),
          cases(B=(1, 3), sizes=[("B", "p"), ("B", "q"), ("B", "q"), ("p+q", "m"), (1, "m")],
                cotangents=[("B", "q"), ("B", "q")], gates=4 if forget else 3))
