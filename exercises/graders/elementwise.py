"""Grades task 02: sigmoid, tanh and the Hadamard product, against minigrad's own."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, float_dtypes, shapes

from ..grading import CheckError, holds, in_float, same, student, through_engine, watching

#: For each op: minigrad's own (the reference), the derivative in words, and mistakes
#: students make, each as (what it computes, what to say).
OPS = {
    "sigmoid": (mg.sigmoid, "did you use d sigma(x)/dx = sigma(x) (1 - sigma(x)) = y (1 - y)?", [
        (lambda g, y, x: g * y, "did you leave out (1 - sigma(x))? The derivative is "
                                "sigma(x) (1 - sigma(x))"),
        (lambda g, y, x: g * (1 - y * y), "that is tanh's derivative; sigmoid's is "
                                          "sigma(x) (1 - sigma(x))"),
        (lambda g, y, x: g * x * (1 - x), "you used x where sigma(x) belongs: the VJP gets "
                                          "y = sigma(x), use y (1 - y)"),
        (lambda g, y, x: y * (1 - y), "multiply by g, the gradient arriving from above"),
    ]),
    "tanh": (mg.tanh, "did you use d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2?", [
        (lambda g, y, x: g * (1 - y), "square it: the derivative is 1 - tanh(x)^2"),
        (lambda g, y, x: g * y * (1 - y), "that is sigmoid's derivative; tanh's is "
                                          "1 - tanh(x)^2"),
        (lambda g, y, x: g * (1 - x * x), "you used x where tanh(x) belongs: the VJP gets "
                                          "y = tanh(x), use 1 - y^2"),
        (lambda g, y, x: 1 - y * y, "multiply by g, the gradient arriving from above"),
    ]),
}


def _arrays(low: float = -4.0, high: float = 4.0, count: int = 1):
    """``count`` arrays of one random shape and float dtype."""
    return st.tuples(float_dtypes(), shapes(max_dims=3)).flatmap(
        lambda ds: st.tuples(*[arrays(ds[1], ds[0], low, high)] * count))


def grade(module) -> None:
    for name, (reference, derivative, mistakes) in OPS.items():
        forward = student(getattr(module, f"{name}_forward"), f"{name}_forward")
        vjp = student(getattr(module, f"{name}_vjp"), f"{name}_vjp")
        with watching(no_minigrad=True, primitives=(name,)):
            holds(lambda xs, f=forward, r=reference, n=name: same(
                f"{n}_forward", f(xs[0]), r(xs[0]).data, at=_at(xs[0])), _arrays())
            _no_overflow(name, forward)
            holds(lambda xg, v=vjp, r=reference, n=name, d=derivative, m=mistakes: _vjp_on_arrays(
                n, v, r, d, m, *xg), _arrays(count=2))
        holds(lambda xg, n=name, r=reference: through_engine(
            f"the primitive {n}", getattr(module, n), r, [xg[0]], xg[1]), _arrays(count=2),
            examples=10)
        with watching(primitives=(name,)):
            holds(lambda xg, f=forward, v=vjp, r=reference, n=name: _second_order(
                n, f, v, r, *xg), _arrays(count=2), examples=15)
    _hadamard(module)


def _at(x: np.ndarray):
    return lambda index: f"x = {in_float(x[index])}"


def _no_overflow(name: str, forward) -> None:
    extreme = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(all="raise"):
        try:
            got = forward(extreme)
        except CheckError as error:
            if "FloatingPointError" not in str(error):
                raise
            raise CheckError(f"your {name}_forward overflows at x = +-1000 ({error}): compute it "
                             f"without np.exp of a large number, e.g. sigma(x) = "
                             f"(1 + tanh(x / 2)) / 2") from None
    same(f"{name}_forward", got, mg.PRIMITIVES[name].forward(extreme),
         at=lambda index: f"x = {extreme[index]:g}")


def _vjp_on_arrays(name, vjp, reference, derivative, mistakes, x, g) -> None:
    y = reference(x).data
    X = mg.tensor(x, requires_grad=True)
    (want,) = mg.grad((reference(X) * g).sum(), X)
    got = vjp(g, y, x)
    hint = next((say for wrong, say in mistakes
                 if got is not None and np.shape(got) == x.shape
                 and np.allclose(got, wrong(g, y, x), rtol=1e-4, atol=1e-6)
                 and not np.allclose(want.data, wrong(g, y, x), rtol=1e-4, atol=1e-6)),
                derivative)
    same(f"{name}_vjp", got, want.data, hint=hint,
         at=lambda index: f"x = {in_float(x[index])} (g = {in_float(g[index])})")


def _second_order(name, forward, vjp, reference, x, h) -> None:
    """Through the student's primitive with create_graph=True, as minigrad's own."""
    mine = mg.Primitive(name, forward, vjp)
    results = []
    for op in (mine, reference):
        X = mg.tensor(x, requires_grad=True)
        (first,) = mg.grad(op(X).sum(), X, create_graph=True)
        second = mg.grad((first * h).sum(), X, allow_unused=True)[0]
        results.append(None if second is None else second.data)
    if results[0] is None:
        raise CheckError(f"your {name}_vjp gives no second derivative with create_graph=True: "
                         f"on Tensors it must compute with Tensor operators (* + -) on g, y and "
                         f"x, so that its result depends on x")
    same(f"{name}_vjp's second derivative (create_graph=True)", results[0], results[1],
         at=lambda index: f"x = {in_float(x[index])}",
         hint="write the VJP with * + - on g, y and x, so that it runs on Tensors too")


def _hadamard(module) -> None:
    forward = student(module.hadamard_forward, "hadamard_forward")
    vjps = [student(module.hadamard_vjp_a, "hadamard_vjp_a"),
            student(module.hadamard_vjp_b, "hadamard_vjp_b")]

    def check(abg):
        a, b, g = abg
        A, B = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
        same("hadamard_forward", forward(a, b), (A * B).data)
        wants = mg.grad((A * B * g).sum(), [A, B])
        for k, (vjp, want) in enumerate(zip(vjps, wants)):
            mine, other = "ab"[k], "ab"[1 - k]
            got = vjp(g, a * b, a, b)
            swapped = got is not None and np.shape(got) == a.shape and np.allclose(
                got, g * (a, b)[k]) and not np.allclose(got, want.data)
            same(f"hadamard_vjp_{mine}", got, want.data, hint=(
                f"that is the gradient of {other}: d(a * b)/d{mine} = {other}" if swapped
                else f"d(a * b)/d{mine} = {other}, entry by entry, times g"))

    with watching(no_minigrad=True, primitives=("mul",)):
        holds(check, _arrays(count=3))
    holds(lambda abg: through_engine("the primitive hadamard", module.hadamard,
                                     lambda a, b: a * b, list(abg[:2]), abg[2]),
          _arrays(count=3), examples=10)
