"""Grades task 01: the scalar engine, against minigrad on random expressions."""

from __future__ import annotations

import math

from hypothesis import strategies as st

import minigrad as mg

from ..grading import CheckError, holds, same, student, watching

HINT = ("each op's _backward adds (+=) the result's grad, times the op's local derivative, "
        "to each parent's grad; backward() sets its own grad to 1 and calls _backward of "
        "every Value, newest first")
LOCAL = {"+": "d(a + b)/da = 1 and d(a + b)/db = 1",
         "*": "d(a * b)/da = b and d(a * b)/db = a",
         "tanh": "d tanh(a)/da = 1 - tanh(a)^2"}
NUMBERS = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
#: One op of a random program: its kind and which earlier values it reads.
STEPS = st.tuples(st.sampled_from(["+", "*", "tanh", "+ number", "number +", "* number",
                                   "number *"]),
                  st.integers(0, 63), st.integers(0, 63), NUMBERS)
DEEP = 3000
#: Random programs scale their output by one of these.
WEIGHTS = st.sampled_from([-1.5, 0.5, 2.0, 3.0])


def grade(module) -> None:
    make = student(module.Value, "Value")
    ops = {"+": student(lambda a, b: a + b, "Value.__add__"),
           "*": student(lambda a, b: a * b, "Value.__mul__"),
           "tanh": student(lambda a: a.tanh(), "Value.tanh")}
    backward = student(lambda v: v.backward(), "Value.backward")
    with watching(no_minigrad=True):
        _structure(make, ops)
        for op in ("+", "*", "tanh"):  # each op alone first: the clearest message
            holds(lambda a, b, op=op: _check([a, b], [(op, 0, 1, 0.0)], 1.0, make, ops,
                                             backward), NUMBERS, NUMBERS, examples=10)
        for op in ("+", "*"):  # a Value used twice
            holds(lambda a, op=op: _check([a], [(op, 0, 0, 0.0)], 1.0, make, ops, backward),
                  NUMBERS, examples=5)
        holds(lambda leaves, steps, w: _check(leaves, steps, w, make, ops, backward),
              st.lists(NUMBERS, min_size=1, max_size=4),
              st.lists(STEPS, min_size=1, max_size=10), WEIGHTS)
        _deep_chain(make, ops, backward)


def _structure(make, ops) -> None:
    """Each op's result remembers its parents and the op, as the docstrings say."""
    a, b = make(0.5), make(-1.5)
    for op, result, parents in (("+", ops["+"](a, b), (a, b)), ("*", ops["*"](a, b), (a, b)),
                                ("tanh", ops["tanh"](a), (a,))):
        if tuple(getattr(result, "parents", ())) != parents or getattr(result, "op", None) != op:
            raise CheckError(f"the Value that {op} makes should have parents "
                             f"{'(a, b)' if len(parents) == 2 else '(a,)'} (the Values "
                             f"themselves) and op {op!r}; yours has parents "
                             f"{getattr(result, 'parents', None)!r:.60} and op "
                             f"{getattr(result, 'op', None)!r}")


#: How each kind of step reads, with a and b its values and n its number.
TEXT = {"+": "({a} + {b})", "*": "({a} * {b})", "tanh": "tanh({a})", "+ number": "({a} + {n:g})",
        "number +": "({n:g} + {a})", "* number": "({a} * {n:g})", "number *": "({n:g} * {a})"}


def _run(leaves, steps, make, add, mul, tanh):
    """The program's values (leaves first) and each value's expression, as text."""
    apply = {"+": lambda a, b, n: add(a, b), "*": lambda a, b, n: mul(a, b),
             "tanh": lambda a, b, n: tanh(a), "+ number": lambda a, b, n: add(a, n),
             "number +": lambda a, b, n: add(n, a), "* number": lambda a, b, n: mul(a, n),
             "number *": lambda a, b, n: mul(n, a)}
    values = [make(v) for v in leaves]
    names = [chr(ord("a") + k) for k in range(len(leaves))]
    for kind, i, j, number in steps:
        i, j = (k % len(values) for k in (i, j))  # -1: the newest
        values.append(apply[kind](values[i], values[j], number))
        names.append(TEXT[kind].format(a=names[i], b=names[j], n=number))
    return values, names


def _check(leaves, steps, weight, make, ops, backward) -> None:
    if weight != 1.0:  # the output scaled: every op then sees a gradient other than 1
        steps = [*steps, ("* number", -1, 0, weight)]
    values, names = _run(leaves, steps, make, ops["+"], ops["*"], ops["tanh"])
    inputs = [mg.tensor(v, requires_grad=True) for v in leaves]
    reference, _ = _run(inputs, steps, lambda t: t, lambda a, b: a + b, lambda a, b: a * b,
                        mg.tanh)
    out = values[-1]
    given = ", ".join(f"{n} = {v:g}" for n, v in zip(names, leaves))
    used = {kind.replace("number", "").strip() for kind, *_ in steps}
    local = "; ".join(LOCAL[k] for k in sorted(used))
    where = f"f = {names[-1]} with {given}"
    if not isinstance(getattr(out, "data", None), float):
        raise CheckError(f"your Value's data should be a float; for {where} it is "
                         f"{getattr(out, 'data', out)!r}")
    same("value", out.data, float(reference[-1].data), hint=f"for {where}")
    backward(out)
    grads = mg.grad(reference[-1], inputs, allow_unused=True)
    for name, value, grad in zip(names, values, grads):
        want = 0.0 if grad is None else float(grad.data)
        same(f"grad of {name}", value.grad, want, rtol=1e-6, atol=1e-9,
             hint=f"for {where} ({local}): {HINT}")


def _deep_chain(make, ops, backward) -> None:
    """A chain of thousands of Values: the topological order must not recurse."""
    x = make(0.5)
    y = x
    for _ in range(DEEP):
        y = ops["+"](ops["*"](y, 1.0), 0.0)
    backward(y)
    if not math.isclose(x.grad, 1.0):
        raise CheckError(f"in a chain of {2 * DEEP} ops (y = x * 1 + 0, again and again) your grad "
                         f"of x is {x.grad:g}, and it should be 1: {HINT}")
