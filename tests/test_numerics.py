"""Stability for extreme inputs and dtype preservation end to end."""

import warnings

import numpy as np
import pytest

import minigrad as mg

EXTREME = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn, expected", [
    (mg.sigmoid, [0.0, 0.0, 0.5, 1.0, 1.0]),
    (mg.log_softmax, [-2000.0, -1050.0, -1000.0, -950.0, 0.0]),
])
def test_stable_for_extreme_inputs_without_warnings(fn, expected, dtype):
    x = mg.tensor(EXTREME.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        (y * np.arange(5.0)).sum().backward()
    np.testing.assert_allclose(y.data, expected, rtol=1e-6, atol=1e-15)
    assert y.dtype == dtype and x.grad.dtype == dtype and np.isfinite(x.grad).all()


def test_sigmoid_accuracy():
    # computed as (1 + tanh(x/2)) / 2: absolute error at rounding level everywhere,
    # relative error small wherever sigmoid(x) is not itself below ~1e-7
    x = np.linspace(-40, 40, 8001)
    exact = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) /
                     (1 + np.exp(-np.abs(x))))
    got = mg.sigmoid(x).data
    assert np.max(np.abs(got - exact)) <= np.finfo(np.float64).eps
    middle = x >= -15
    assert np.max(np.abs(got[middle] / exact[middle] - 1)) < 1e-8


@pytest.mark.parametrize("fn, derivative", [
    (mg.sigmoid, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    (mg.tanh, lambda x: 1 / np.cosh(x) ** 2),
])
def test_float32_gradient_stays_accurate_where_the_function_saturates(fn, derivative):
    # the VJPs use 1 - y, which is exact near y = 1 (never 1 - y * y, which cancels), so
    # a saturated gate's small gradient keeps its relative accuracy in float32
    x64 = np.linspace(0.5, 8.0, 64)
    x = mg.tensor(x64.astype(np.float32), requires_grad=True)
    fn(x).sum().backward()
    y32 = fn(mg.tensor(x64.astype(np.float32))).data.astype(np.float64)
    exact_at_y32 = y32 * (1 - y32) if fn is mg.sigmoid else (1 - y32) * (1 + y32)
    np.testing.assert_allclose(x.grad, exact_at_y32, rtol=1e-6)
    # against the true derivative, as far as float32's rounding of y itself allows
    moderate = x64 <= 4
    np.testing.assert_allclose(x.grad[moderate], derivative(x64[moderate]), rtol=5e-4)


def test_float32_survives_python_scalars_and_float64_constants():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x * 2.5 + 1 - np.ones(3)) / 3.0 @ np.ones(3) + 0.5 * x.sum()
    y = mg.concat([y.reshape(1), mg.sigmoid(x), mg.log_softmax(x)]) ** 2
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_float32_stays_float32_through_every_primitive():
    # the property tests check each primitive's output and gradient dtype; this one
    # checks a whole recurrent step as the lstm package builds it
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3)), dtype=np.float32)
    h = mg.tensor(np.zeros((2, 4)), dtype=np.float32)
    w = mg.tensor(rng.standard_normal((7, 16)), dtype=np.float32, requires_grad=True)
    b = mg.tensor(np.zeros((1, 16)), dtype=np.float32, requires_grad=True)
    z = mg.concat([x, h]) @ w + b
    i, f, g, o = mg.split(z, 4)
    c = mg.sigmoid(f) * h + mg.sigmoid(i) * mg.tanh(g)
    h = mg.sigmoid(o) * mg.tanh(c)
    h.mean().backward()
    assert h.dtype == np.float32 and w.grad.dtype == np.float32 and b.grad.dtype == np.float32
