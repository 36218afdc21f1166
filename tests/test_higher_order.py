"""Second derivatives: mg.grad of a gradient against analytic results."""

import numpy as np
import pytest

import minigrad as mg

X = np.array([-1.5, -0.3, 0.2, 0.9, 2.0])


def second_derivative(fn, values):
    x = mg.tensor(values, requires_grad=True)
    (dx,) = mg.grad(fn(x).sum(), x, create_graph=True)
    assert dx.requires_grad
    (d2x,) = mg.grad(dx.sum(), x)
    return dx.data, d2x.data


def sig(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize("fn, first, second, values", [
    (mg.tanh, lambda v: 1 - np.tanh(v) ** 2,
     lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2), X),
    (mg.sigmoid, lambda v: sig(v) * (1 - sig(v)),
     lambda v: sig(v) * (1 - sig(v)) * (1 - 2 * sig(v)), X),
    (mg.exp, np.exp, np.exp, X),
    (mg.log, lambda v: 1 / v, lambda v: -1 / v ** 2, np.abs(X) + 0.1),
    (lambda x: x ** 3, lambda v: 3 * v ** 2, lambda v: 6 * v, X),
    (lambda x: 1 / x, lambda v: -1 / v ** 2, lambda v: 2 / v ** 3, np.abs(X) + 0.1),
    (lambda x: mg.tanh(mg.sigmoid(x)), None, None, X),
])
def test_second_derivatives(fn, first, second, values):
    dx, d2x = second_derivative(fn, values)
    if first is None:  # a composition: compare with finite differences of the first derivative
        eps = 1e-6
        d_up, _ = second_derivative(fn, values + eps)
        d_down, _ = second_derivative(fn, values - eps)
        np.testing.assert_allclose(d2x, (d_up - d_down) / (2 * eps), atol=1e-6)
        return
    np.testing.assert_allclose(dx, first(values), rtol=1e-12)
    np.testing.assert_allclose(d2x, second(values), rtol=1e-10, atol=1e-14)


def test_hessian_vector_product_of_a_matmul_chain():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    v = rng.standard_normal(4)
    x = mg.tensor(rng.standard_normal(4), requires_grad=True)
    # f(x) = sum(tanh(A diag(x)... keep it quadratic: f(x) = ||A x||^2 / 2 + sum(x^T B)
    f = ((a @ x) ** 2).sum() / 2 + (x @ b).sum()
    (g,) = mg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.data, a.T @ a @ x.data + b.sum(1), rtol=1e-12)
    (hv,) = mg.grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.data, a.T @ a @ v, rtol=1e-12)


def test_second_derivative_through_matmul_and_tanh_matches_finite_differences():
    rng = np.random.default_rng(1)
    w1 = rng.standard_normal((3, 5))
    w2 = rng.standard_normal((5, 1))

    def gradient(values):
        x = mg.tensor(values, requires_grad=True)
        (g,) = mg.grad((mg.tanh(x @ w1) @ w2).sum(), x, create_graph=True)
        return x, g

    x0 = rng.standard_normal((2, 3))
    x, g = gradient(x0)
    v = rng.standard_normal(x0.shape)
    (hv,) = mg.grad((g * v).sum(), x)
    eps = 1e-6
    numeric = (gradient(x0 + eps * v)[1].data - gradient(x0 - eps * v)[1].data) / (2 * eps)
    np.testing.assert_allclose(hv.data, numeric, atol=1e-7)


def test_backward_with_create_graph_fills_leaf_grads():
    x = mg.tensor([2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad, [12.0])
