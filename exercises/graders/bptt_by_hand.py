"""Grades task 05: BPTT by hand for a scalar RNN, against minigrad's backward()."""

from __future__ import annotations

from hypothesis import strategies as st

import minigrad as mg

from ..grading import CheckError, holds, same, student, watching

WEIGHTS = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
INPUTS = st.lists(st.floats(-1, 1, allow_nan=False).map(lambda v: round(v, 3)), min_size=1,
                  max_size=30)
FACTOR = "each step's factor is dh_t/dh_(t-1) = w (1 - h_t^2), for t = 1 .. T"


def grade(module) -> None:
    functions = {name: student(getattr(module, name), name)
                 for name in ("forward", "step_factors", "dL_dh0", "dL_dw")}
    with watching(no_minigrad=True):
        holds(lambda w, u, xs, h0: _check(functions, w, u, xs, h0), WEIGHTS, WEIGHTS, INPUTS,
              WEIGHTS.map(lambda v: v / 2))


def _reference(w: float, u: float, xs: list, h0: float):
    """h_0 .. h_T, dL/dh_0 and dL/dw for L = h_T, by minigrad's backward()."""
    W, H0 = mg.tensor(w, requires_grad=True), mg.tensor(h0, requires_grad=True)
    hs = [H0]
    for x in xs:
        hs.append(mg.tanh(W * hs[-1] + u * x))
    dh0, dw = mg.grad(hs[-1], [H0, W])
    return [float(h.data) for h in hs], float(dh0.data), float(dw.data)


def _check(functions, w, u, xs, h0) -> None:
    hs, dh0, dw = _reference(w, u, xs, h0)
    shown = ", ".join(f"{x:g}" for x in xs[:4]) + (", ..." if len(xs) > 4 else "")
    case = f"w = {w:g}, u = {u:g}, h_0 = {h0:g} and xs = [{shown}] (T = {len(xs)})"
    got = functions["forward"](w, u, xs, h0)
    if not isinstance(got, list | tuple) or len(got) != len(hs):
        raise CheckError(f"your forward should give the list [h_0, h_1, ..., h_T] ({len(hs)} "
                         f"numbers for T = {len(xs)}), and it gave {got!r:.80}")
    same("forward", [float(h) for h in got], hs, hint=f"for {case}: h_t = tanh(w h_(t-1) + "
         f"u x_t)", at=lambda index: f"h_{index[0]}")
    factors = functions["step_factors"](w, hs)
    if not isinstance(factors, list | tuple) or len(factors) != len(xs):
        raise CheckError(f"your step_factors should give T = {len(xs)} numbers, one per step, and "
                         f"it gave {factors!r:.80}: {FACTOR}")
    same("step_factors", [float(f) for f in factors], [w * (1 - h * h) for h in hs[1:]],
         hint=f"for {case}: {FACTOR}", at=lambda index: f"step {index[0] + 1}")
    same("dL_dh0", float(functions["dL_dh0"](w, hs)), dh0, hint=(
        f"for {case}: dL/dh_0 is the product of the T factors w (1 - h_t^2), t = 1 .. T "
        f"(not h_0's)"), rtol=1e-6, atol=1e-12)
    same("dL_dw", float(functions["dL_dw"](w, hs)), dw, hint=(
        f"for {case}: w acts at every step, so dL/dw sums over t of dL/dh_t (1 - h_t^2) "
        f"h_(t-1)"), rtol=1e-6, atol=1e-12)
