"""Hessian-vector products and Newton's method, from gradients of gradients.

Teaches: with create_graph=True a gradient is itself a differentiable Tensor, so
differentiating g . v gives H v without ever forming H; a few HVPs build H for a small
problem, and Newton steps x <- x - H^-1 g converge in a handful of iterations where
gradient descent needs hundreds.

    python examples/higher_order.py [--quick]
"""

import argparse

import numpy as np

import minigrad as mg


def loss_fn(w: mg.Tensor, x: np.ndarray, y: np.ndarray) -> mg.Tensor:
    """L2-regularised logistic regression: x (n, d), y (n,) in {0, 1}, w (d,)."""
    z = x @ w
    log_p = -mg.log(1 + mg.exp(-z))          # log sigmoid(z)
    log_not_p = -mg.log(1 + mg.exp(z))       # log sigmoid(-z)
    return -(y * log_p + (1 - y) * log_not_p).mean() + 0.01 * (w * w).sum()


def hvp(w: mg.Tensor, v: np.ndarray, x, y) -> np.ndarray:
    (g,) = mg.grad(loss_fn(w, x, y), w, create_graph=True)
    (hv,) = mg.grad((g * v).sum(), w)
    return hv.data


def gradient(w0: np.ndarray, x, y) -> np.ndarray:
    w = mg.tensor(w0, requires_grad=True)
    return mg.grad(loss_fn(w, x, y), w)[0].data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(already quick)")
    parser.parse_args(argv)
    rng = np.random.default_rng(0)
    d = 5
    x = rng.standard_normal((200, d))
    y = (x @ rng.standard_normal(d) + 0.3 * rng.standard_normal(200) > 0).astype(float)

    w = mg.tensor(np.zeros(d), requires_grad=True)
    v = rng.standard_normal(d)
    hv = hvp(w, v, x, y)
    eps = 1e-6
    print("H v by double backward:   ", np.round(hv, 6))
    print("H v by finite differences:", np.round((gradient(w.data + eps * v, x, y) -
                                                 gradient(w.data - eps * v, x, y)) / (2 * eps), 6))

    for step in range(6):
        loss = loss_fn(w, x, y)
        (g,) = mg.grad(loss, w, retain_graph=False)
        hessian = np.stack([hvp(w, e, x, y) for e in np.eye(d)])
        w = mg.tensor(w.data - np.linalg.solve(hessian, g.data), requires_grad=True)
        print(f"Newton step {step}: loss {loss.item():.8f}, |grad| {np.linalg.norm(g.data):.2e}")


if __name__ == "__main__":
    main()
