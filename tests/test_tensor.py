"""The Tensor's members, construction rules and operators, as SPEC.md lists them."""

import numpy as np
import pytest

import minigrad as mg


def test_python_data_defaults_to_float64():
    assert mg.tensor([[1.0, 2.0]]).dtype == np.float64
    assert mg.tensor([1, 2]).dtype == np.float64
    assert mg.tensor(3.0).shape == ()


def test_float_arrays_keep_their_dtype_and_are_copied():
    data = np.ones(3, np.float32)
    t = mg.tensor(data)
    assert t.dtype == np.float32
    data[0] = 5
    assert t.data[0] == 1


def test_dtype_argument_converts():
    assert mg.tensor(np.arange(3), dtype=np.float32).dtype == np.float32
    assert mg.Tensor([1.0], dtype="float64").dtype == np.float64


def test_members():
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True, name="x")
    assert (x.shape, x.ndim, x.size, x.dtype) == ((2, 3), 2, 6, np.float64)
    assert x.requires_grad and x.is_leaf and x.op is None and x.grad is None
    assert x.name == "x" and len(x) == 2
    y = x * 2
    assert y.op == "mul" and not y.is_leaf and y.requires_grad


def test_repr_shows_shape_dtype_op_and_requires_grad():
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    text = repr(y)
    for part in ("shape=(2,)", "dtype=float64", "op=mul", "requires_grad=True"):
        assert part in text


def test_numpy_item_detach():
    x = mg.tensor([[2.5]], requires_grad=True)
    assert x.item() == 2.5 and float(x) == 2.5
    assert x.numpy() is x.data
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.item() == 5.0


def test_named_and_scope_recorded():
    with mg.scope("t=3"), mg.scope("lstm"):
        y = (mg.tensor([1.0], requires_grad=True) * 2).named("y")
    assert y.name == "y" and y.scope == "t=3/lstm"
    assert mg.tensor([1.0]).scope is None


@pytest.mark.parametrize("expression, expected", [
    (lambda a, b: a + b, [4.0, 6.0]), (lambda a, b: a - b, [-2.0, -2.0]),
    (lambda a, b: a * b, [3.0, 8.0]), (lambda a, b: a / b, [1 / 3, 0.5]),
    (lambda a, b: a @ b, 11.0), (lambda a, b: a ** 2, [1.0, 4.0]), (lambda a, b: -a, [-1.0, -2.0]),
    (lambda a, b: 1 + a, [2.0, 3.0]), (lambda a, b: 1 - a, [0.0, -1.0]),
    (lambda a, b: 2 * a, [2.0, 4.0]), (lambda a, b: 2 / a, [2.0, 1.0]),
    (lambda a, b: np.array([1.0, 1.0]) + a, [2.0, 3.0]),
    (lambda a, b: np.array([1.0, 1.0]) @ a, 3.0),
])
def test_operators(expression, expected):
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])
    result = expression(a, b)
    assert isinstance(result, mg.Tensor)
    np.testing.assert_allclose(result.data, expected)


def test_methods():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum().item() == 15 and x.mean().item() == 2.5
    assert x.sum(axis=0, keepdims=True).shape == (1, 3)
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,)
    assert x.transpose().shape == (3, 2) and x.T.shape == (3, 2)
    assert x.transpose(1, 0).shape == (3, 2) and x.transpose((1, 0)).shape == (3, 2)
    np.testing.assert_allclose(x.exp().log().data, x.data, atol=1e-12)
    np.testing.assert_allclose(x.tanh().data, np.tanh(x.data))
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-x.data)))
    np.testing.assert_allclose((x - 2).relu().data, np.maximum(x.data - 2, 0))


def test_indexing_forms():
    x = mg.tensor(np.arange(12.0).reshape(3, 4))
    assert x[1].shape == (4,) and x[:, 1:3].shape == (3, 2) and x[..., None].shape == (3, 4, 1)
    assert x[[0, 0, 2]].shape == (3, 4) and x[x.data > 5].shape == (6,)


def test_functions_match_numpy():
    a = np.random.default_rng(0).standard_normal((2, 3))
    b = np.random.default_rng(1).standard_normal((2, 3))
    np.testing.assert_allclose(mg.concat([a, b], axis=0).data, np.concatenate([a, b], 0))
    np.testing.assert_allclose(mg.stack([a, b], axis=1).data, np.stack([a, b], 1))
    pieces = mg.split(mg.tensor(a), [1], axis=1)
    for piece, expected in zip(pieces, np.split(a, [1], axis=1)):
        np.testing.assert_allclose(piece.data, expected)
    np.testing.assert_allclose(mg.hadamard(a, b).data, a * b)
    np.testing.assert_allclose(mg.matmul(a, b.T).data, a @ b.T)
