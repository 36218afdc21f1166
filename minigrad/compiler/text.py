"""A compiled plan as text: every step of its forward and backward schedules as one line,
the NumPy call it makes, with the values' names (``Z_t3 = X_t3 @ W``, ``dW += ...``).

A plan records each step as a small tuple as it plans it; nothing here runs. A value is
named after its tensor (``.named("Z")``) and its time step (scope ``t=3`` gives ``_t3``),
else after its op; ``dZ_t3`` is its gradient.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

#: Binary ops printed as operators.
OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**"}
_STEP = re.compile(r"t=(\d+)")
#: The kinds of step that call a function (the others free, alias or rename).
CALLS = frozenset({"op", "join", "dense", "vjp", "stacked", "product", "added",
                   "transposed"})
#: The end of a line whose result the buffers pass writes into an array of the plan's pool.
KEPT = "  # out= an array of the pool"


def label(name: str | None, op: str | None, scope: str | None, inputs: list[str],
          params: dict | None) -> str:
    """A value's name: its tensor's name and its time step (``Z_t3``); for an unnamed
    slice or product of named values, the expression (``Z_t3[:, 4:8]``, ``i_t3*g_t3``);
    else its op and time step."""
    if name is None and op == "getitem" and inputs and params and "index" in params:
        return f"{inputs[0]}[{_index(params['index'])}]"
    if name is None and op in ("mul", "add") and len(inputs) == 2 and all(
            text.isidentifier() and len(text) <= 12 for text in inputs):
        return f"{inputs[0]}{OPERATORS[op]}{inputs[1]}"
    steps = _STEP.findall(scope or "")
    return (name or op or "v") + (f"_t{steps[-1]}" if steps else "")


def _index(index: object) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    return ", ".join(_part(p) for p in parts)


def _part(part: object) -> str:
    if isinstance(part, slice):
        text = ("" if part.start is None else str(part.start)) + ":" + (
            "" if part.stop is None else str(part.stop))
        return text + ("" if part.step is None else f":{part.step}")
    return "..." if part is Ellipsis else str(part)


def unique(labels: list[str]) -> list[str]:
    """``labels`` with a slot number added where two values share a name."""
    counts = Counter(labels)
    return [f"{text}#{s}" if counts[text] > 1 else text for s, text in enumerate(labels)]


def render(plan_name: str, names: list[str], forward: list[tuple],
           backwards: list[list[tuple]]) -> str:
    """The whole plan: a heading, the forward schedule, each group's backward one."""
    n = len(names)

    def entry(i: int) -> str:
        name = names[i % n]
        if i < n:
            return name
        if not name.isidentifier():
            name = f"({name})"
        return "d" + name if i < 2 * n else name + ".shape"

    backward = [step for b in backwards for step in b if step[0] != "rename"]
    calls = sum(step[0] in CALLS for step in (*forward, *backward))
    lines = [f"{plan_name}: {len(forward)} forward steps, {len(backward)} backward steps "
             f"({calls} calls)", "forward:"]
    lines += ["  " + _forward_line(step, entry) for step in forward]
    for k, steps in enumerate(backwards, 1):
        lines.append("backward:" if len(backwards) == 1 else f"backward, group {k}:")
        lines += ["  " + _backward_line(step, entry, n) for step in steps]
    return "\n".join(lines)


def _forward_line(step: tuple, entry: Any) -> str:
    kind = step[0]
    if kind == "free":
        return "del " + ", ".join(entry(i) for i in step[1])
    if kind == "alias":
        return f"{entry(step[2])} = {entry(step[1])}  # detach(): the same array"
    _, op, inputs, params, out, note = step
    return _forward_call(op, [entry(i) for i in inputs], params, entry(out)) + note


def _forward_call(op: str, args: list[str], params: dict | None, out: str) -> str:
    if op == "getitem" and params and "index" in params:
        sliced = f"{args[0]}[{_index(params['index'])}]"
        return (f"{sliced}  # a view of {args[0]}, no copy" if out == sliced else
                f"{out} = {sliced}")
    if op in OPERATORS and len(args) == 2 and not params:
        return f"{out} = {args[0]} {OPERATORS[op]} {args[1]}"
    if op == "matmul_add":
        return f"{out} = {args[0]} @ {args[1]} + {args[2]}"
    extra = [f"{k}={v!r}" for k, v in (params or {}).items()]
    return f"{out} = {op}({', '.join(args + extra)})"


def _backward_line(step: tuple, entry: Any, n: int) -> str:
    kind = step[0]
    if kind == "free":
        return "del " + ", ".join(entry(i) for i in step[1])
    if kind == "join":
        _, axis, sources, out, kept = step
        return (f"{entry(out)} = concat({', '.join(entry(i) for i in sources)}, axis={axis})"
                + (KEPT if kept else ""))
    if kind == "dense":
        return f"{entry(step[1])} = dense({entry(step[1])})  # a lazy gradient made an array"
    if kind == "rename":
        _, op, source, target = step
        return f"# {entry(target)} is {entry(source)}: {op} passes its gradient on unchanged"
    if kind == "alias":
        return f"{entry(step[2])} = {entry(step[1])}"
    if kind == "added":
        return f"{entry(step[2])} += {entry(step[1])}"
    if kind == "transposed":
        _, w, columns = step
        return f"{entry(w)}[{_part(slice(*columns))}].T, copied contiguous for the blocks below"
    if kind == "product":
        _, g, w, out, block, first = step
        sign = "=" if first else "+="
        if block is None:
            return f"{entry(out)} {sign} {entry(g)} @ {entry(w)}.T"
        rows, columns = (*(block if isinstance(block, tuple) else (block,)), slice(None))[:2]
        g_rows = entry(g) if rows == slice(None) else f"{entry(g)}[{_index(rows)}]"
        return (f"{entry(out)} {sign} {g_rows} @ {entry(w)}[{_index(columns)}].T"
                "  # only the block it needs of the product")
    if kind == "stacked":
        _, xs, gs, out, first, kept = step
        return (f"{entry(out)} {'=' if first else '+='} "
                f"stack({', '.join(entry(i) for i in xs)}).T @ "
                f"stack({', '.join(entry(i) for i in gs)})  # one GEMM for every step"
                + (", the stacks out= arrays of the pool" if kept else ""))
    _, op, k, take, out, first, door, expression = step
    sign = "=" if first else "+="
    if expression is not None:  # inlined: the expression the replay's source holds
        return f"{entry(out)} {sign} {expression.format(*[entry(i) for i in take])}"
    g, y, *reads = take
    # the gradient, the output if the VJP reads it, and what it reads of the inputs
    args = [entry(g)] + ([entry(y)] if y < n else []) + [entry(i) for i in reads]
    return (f"{entry(out)} {sign} {op}.vjp[{k}]({', '.join(args)})"
            + ("  # through the gradient door" if door else ""))
