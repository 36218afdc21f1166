"""The one stage that writes source: a schedule (a list of steps over one buffer) as a
Python function with one line per step, or, past a length, as a loop that interprets it.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from ..autograd import _accumulate, through_door
from ..lazy import LAZY

# The replay's steps, each ``(kind, fn, args, out)`` over one buffer ``b``:
ASSIGN = 0  # b[out] = fn(b[args[0]], b[args[1]], ...)
ADD = 1  # b[out] += fn(...), as the eager sweep accumulates (_accumulate)
ALIAS = 2  # b[out] = b[args]: a gradient passed on unchanged (add, broadcast)
FREE = 3  # b[i] = None for i in args: released after its last use
IADD = 4  # b[out] += fn(...) (b[args[0]] for no fn): added in place into the private
# array an ADD made
SUM = 5  # b[out] = b[out] + fn(...) (b[args[0]] for no fn): two arrays of the gradient's
# dtype, summed into a new one
CALLING = (ASSIGN, ADD, IADD, SUM)  # the kinds that call fn



#: Longer schedules are interpreted: Python compiles a generated line in 25-60 us, so a
#: 2-layer LSTM over 1000 steps (about 200,000 lines) would take 10 s to compile.
GENERATED_STEPS_LIMIT = 20_000


def lower(steps: list[tuple], label: str,
          expressions: dict[Any, str] | None = None) -> Callable[[list, list, set], None]:
    """A schedule as a Python function ``replay(b, dtypes, owned)`` with one line per
    step, ``b[7] = f3(b[5], b[2])``: what hand-written NumPy would do, with list items for
    variables. (A loop that dispatches on each step's kind, :func:`interpret`, costs a
    fifth more time on small arrays; it runs schedules longer than
    ``GENERATED_STEPS_LIMIT``.) ``dtypes[i]`` is the dtype of the gradient at ``b[i]``;
    ``owned`` holds the indices whose gradient is a private buffer (see ``_accumulate``).
    A function in ``expressions`` (the inline pass's) is written as its expression of the
    step's arguments, ``b[7] = b[5] * b[2]``, not called."""
    if len(steps) > GENERATED_STEPS_LIMIT:
        return interpret(steps)
    env: dict[str, Any] = {"_accumulate": _accumulate}
    names: dict[int, str] = {}
    lines = ["def replay(b, dtypes, owned):"]
    for kind, fn, args, out in steps:
        if kind == FREE:
            lines.append("    " + " = ".join(f"b[{i}]" for i in args) + " = None")
        elif kind == ALIAS:
            lines.append(f"    b[{out}] = b[{args}]")
        elif fn is None:
            lines.append(f"    b[{out}] += b[{args[0]}]" if kind == IADD else
                         f"    b[{out}] = b[{out}] + b[{args[0]}]")
        else:
            if expressions and fn in expressions:
                call = "(" + expressions[fn].format(*[f"b[{i}]" for i in args]) + ")"
            else:
                name = names.get(id(fn))
                if name is None:
                    name = names[id(fn)] = f"f{len(names)}"
                    env[name] = fn
                call = f"{name}({', '.join(f'b[{i}]' for i in args)})"
            lines.append(f"    b[{out}] = {call}" if kind == ASSIGN else
                         f"    b[{out}] += {call}" if kind == IADD else
                         f"    b[{out}] = b[{out}] + {call}" if kind == SUM else
                         f"    _accumulate(b, owned, {out}, b[{out}], {call}, dtypes[{out}])")
    lines.append("    return None")
    exec(builtins.compile("\n".join(lines), f"<{label}>", "exec"), env)
    return env["replay"]


def interpret(steps: list[tuple]) -> Callable[[list, list, set], None]:
    """A schedule run by a loop over its steps (see :func:`lower`)."""
    program = [(kind, fn or _itself, (itemgetter(*args) if len(args) > 1 else
                           itemgetter(slice(args[0], args[0] + 1)))
                if kind in CALLING else args, out) for kind, fn, args, out in steps]

    def replay(b: list, dtypes: list, owned: set) -> None:
        for kind, fn, take, out in program:
            if kind == ASSIGN:
                b[out] = fn(*take(b))
            elif kind == ALIAS:
                b[out] = b[take]
            elif kind == FREE:
                for i in take:
                    b[i] = None
            elif kind == IADD:
                b[out] += fn(*take(b))
            elif kind == SUM:
                b[out] = b[out] + fn(*take(b))
            else:
                _accumulate(b, owned, out, b[out], fn(*take(b)), dtypes[out])
    return replay



def _itself(g: Any) -> Any:
    return g


def _checked(vjp: Any, x: Any, op: str, *args: Any) -> Any:
    """A VJP whose gradient goes through the gradient door (broadcast inputs)."""
    return through_door(vjp(*args), x, op)


def _dense(g: Any, dtype: np.dtype) -> np.ndarray:
    # a weight's gradient that a stacked GEMM has already made an array may reach here
    return g.dense(dtype) if type(g) in LAZY else g


def _join(*pieces: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(pieces, axis=axis)
