"""Autodiff basics: a scalar expression, its gradients, mg.grad and a second derivative.

Teaches: what backward() computes, that gradients accumulate, how mg.grad differs
(it returns gradients and touches no .grad), and that gradients are themselves
differentiable with create_graph=True.

    python examples/autodiff_basics.py
"""

import argparse
from pathlib import Path

import numpy as np

import minigrad as mg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(already quick; for uniformity)")
    parser.add_argument("-o", "--output", type=Path, default=Path("autodiff_basics.svg"),
                        help="where to draw the expression's graph (.svg, .png, .pdf, .dot)")
    args = parser.parse_args(argv)

    # micrograd's classic example, on tensors: L = (a*b + c) * f
    a = mg.tensor(2.0, requires_grad=True, name="a")
    b = mg.tensor(-3.0, requires_grad=True, name="b")
    c = mg.tensor(10.0, requires_grad=True, name="c")
    f = mg.tensor(-2.0, requires_grad=True, name="f")
    e = (a * b).named("e")
    d = (e + c).named("d")
    loss = (d * f).named("L")
    # micrograd's picture: every value with its data and gradient, every op between them
    # (drawn before backward(), which frees the graph as it goes)
    picture = mg.viz.draw_graph(loss, values=True, grads=True)
    loss.backward()
    print(f"L = {loss.item():g}")
    for t in (a, b, c, f):
        print(f"  dL/d{t.name} = {t.grad.item():g}")
    try:
        print(f"graph with values and gradients: {mg.viz.save(picture, args.output)}")
    except mg.viz.DotNotFoundError as error:
        print(f"(graph not drawn: {error})")

    # the same on a matrix: y = tanh(x @ W), all shapes preserved in the gradients
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3)), name="x")              # (B, p)
    w = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")  # (p, q)
    (g,) = mg.grad(mg.tanh(x @ w).sum(), w)
    print(f"d sum(tanh(x @ W)) / dW has shape {g.shape}; W.grad untouched: {w.grad is None}")

    # second derivative: d2/dx2 x**3 = 6x
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = mg.grad((x ** 3).sum(), x, create_graph=True)
    (d2x,) = mg.grad(dx.sum(), x)
    print(f"d/dx x^3 at {x.data} = {dx.data}; d2/dx2 = {d2x.data}")


if __name__ == "__main__":
    main()
