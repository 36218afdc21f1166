"""One grader per task, in the course's order: ``TASKS["05"].grade(module)`` raises
:class:`exercises.grading.CheckError` (or ``NotYetError``) unless the task file's
functions are right."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from . import (
    bptt_by_hand,
    compile_step,
    concat_split,
    decay,
    elementwise,
    forget_bias,
    gru_cell,
    lstm_cell,
    matmul,
    rnn_cell,
    scalar_engine,
)


@dataclass(frozen=True)
class Task:
    """A task: its number, its file's name (``NN_name.py``), its grader and what it teaches."""

    number: str
    name: str
    grade: Callable[[ModuleType], None]
    teaches: str

    @property
    def file(self) -> str:
        return f"{self.number}_{self.name}.py"


TASKS = {task.number: task for task in (
    Task("01", "scalar_engine", scalar_engine.grade,
         "reverse mode in 40 lines: a graph of Values, local derivatives, a topological "
         "order without recursion"),
    Task("02", "elementwise_vjps", elementwise.grade,
         "a primitive is a forward and a VJP per input; sigmoid, tanh and the Hadamard "
         "product; VJPs that also run on Tensors give second derivatives"),
    Task("03", "matmul_and_broadcasting", matmul.grade,
         "matmul's VJPs (g @ b^T, a^T @ g) and summing a broadcast gradient back to its "
         "input's shape"),
    Task("04", "concat_and_split", concat_split.grade,
         "concat's gradient is cut apart, split's glued back; the first and the last line "
         "of every cell"),
    Task("05", "bptt_by_hand", bptt_by_hand.grade,
         "backpropagation through time by hand: dL/dh_0 is a product of one factor per "
         "step, w (1 - h_t^2), which is why a plain RNN forgets"),
    Task("06", "rnn_cell", rnn_cell.grade,
         "the tanh RNN cell from primitives in the project's layout [x, h] @ W + b, and "
         "its unroll"),
    Task("07", "lstm_cell", lstm_cell.grade,
         "the LSTM from primitives, gates i, f, g, o and c' = f * c + i * g, and the 1997 "
         "cell whose memory only adds"),
    Task("08", "measure_the_decay", decay.grade,
         "measuring ||dL/dh_t|| against t and fitting the factor per step: the RNN's "
         "gradient fades, the LSTM's much less"),
    Task("09", "forget_bias", forget_bias.grade,
         "the forget gate's bias sets how far back the gradient reaches: search for the "
         "smallest bias that keeps it alive"),
    Task("10", "gru_cell", gru_cell.grade,
         "the GRU from primitives in PyTorch's layout (r, z, n): an update gate instead of "
         "a cell state"),
    Task("11", "compile_a_step", compile_step.grade,
         "mg.compile on a training step, checked against eager over several SGD steps, "
         "and the retraces a new shape costs"),
)}
