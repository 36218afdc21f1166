"""NumPy's functions on tensors (issue #30): 71 of them, by a table. Each either gives a
tensor whose gradient is right (checked against central differences, with a random
cotangent), gives a result with no gradient by nature (an index, a shape, a truth), or is
refused with a TypeError naming it, never a plain array that silently drops the gradient.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import check_gradients

A = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]])  # no ties: max, min, sort are smooth
B = np.array([[0.6, 0.1, -0.9], [-0.5, 1.1, 0.8]])
V = np.array([0.4, -0.8, 1.3])


def ab(f):
    return lambda a, b: f(a, b)


DIFFERENTIABLE = {
    "sum": lambda a: np.sum(a, axis=1), "mean": lambda a: np.mean(a, axis=0, keepdims=True),
    "max": lambda a: np.max(a, axis=1), "amax": lambda a: np.amax(a),
    "min": lambda a: np.min(a, axis=0), "amin": lambda a: np.amin(a),
    "var": lambda a: np.var(a, axis=1, ddof=1), "std": lambda a: np.std(a),
    "clip": lambda a: np.clip(a, -1.0, 1.0), "reshape": lambda a: np.reshape(a, (3, 2)),
    "ravel": np.ravel, "transpose": np.transpose,
    "squeeze": lambda a: np.squeeze(np.reshape(a, (1, 2, 3)), axis=0),
    "expand_dims": lambda a: np.expand_dims(a, 1),
    "broadcast_to": lambda a: np.broadcast_to(a, (4, 2, 3)),
    "concatenate": ab(lambda a, b: np.concatenate([a, b], axis=1)),
    "concatenate axis=None": ab(lambda a, b: np.concatenate((a, b), axis=None)),
    "stack": ab(lambda a, b: np.stack([a, b], axis=-1)),
    "hstack": ab(lambda a, b: np.hstack([a, b])), "vstack": ab(lambda a, b: np.vstack([a, b])),
    "where": ab(lambda a, b: np.where(A > 0, a, b)),
    "dot": ab(lambda a, b: np.dot(a, np.transpose(b))),
    "linalg.norm": lambda a: np.linalg.norm(a), "linalg.norm axis": lambda a: np.linalg.norm(
        a, axis=1, keepdims=True),
    "outer": ab(lambda a, b: np.outer(a, b)),
    "pad": lambda a: np.pad(a, ((1, 0), (0, 2)), constant_values=-1.5),
    "split": lambda a: np.concatenate(np.split(a, 3, axis=1), axis=0),
    "swapaxes": lambda a: np.swapaxes(a, 0, 1), "moveaxis": lambda a: np.moveaxis(a, 0, -1),
    "average": lambda a: np.average(a, axis=1), "einsum": ab(lambda a, b: np.einsum(
        "ij,kj->ik", a, b)),
    # ufuncs
    "exp": np.exp, "tanh": np.tanh, "square": np.square, "absolute": np.absolute,
    "sqrt": lambda a: np.sqrt(np.square(a) + 1.0), "log": lambda a: np.log(np.square(a) + 1),
    "maximum": ab(np.maximum), "matmul": ab(lambda a, b: np.matmul(a, np.transpose(b))),
}

NO_GRADIENT = {
    "shape": np.shape, "ndim": np.ndim, "size": np.size, "argmax": np.argmax,
    "argmin": lambda a: np.argmin(a, axis=1), "argsort": np.argsort, "nonzero": np.nonzero,
    "argwhere": np.argwhere, "count_nonzero": np.count_nonzero,
    "allclose": lambda a: np.allclose(a, A), "isclose": lambda a: np.isclose(a, A),
    "array_equal": lambda a: np.array_equal(a, A), "zeros_like": np.zeros_like,
    "ones_like": np.ones_like, "where (indices)": lambda a: np.where(a),
}

REFUSED = {
    "cumsum": np.cumsum, "sort": np.sort, "prod": np.prod, "diff": np.diff, "flip": np.flip,
    "tensordot": lambda a: np.tensordot(a, A), "inner": lambda a: np.inner(a, A),
    "trace": np.trace, "round": np.round, "copy": np.copy, "cumprod": np.cumprod,
    "median": np.median, "tile": lambda a: np.tile(a, 2), "roll": lambda a: np.roll(a, 1),
    "linalg.pinv": np.linalg.pinv, "sum where=": lambda a: np.sum(a, where=A > 0),
    "dot 3-D": lambda a: np.dot(np.reshape(a, (1, 2, 3)), V),
}


def test_the_table_covers_the_63_functions_tried_and_more():
    assert len(DIFFERENTIABLE) + len(NO_GRADIENT) + len(REFUSED) == 71


def arguments(name, fn):
    """Tensors requiring grad for ``fn``'s parameters: A, and B (V for the outer product)."""
    count = fn.__code__.co_argcount if hasattr(fn, "__code__") else 1
    second = V if name == "outer" else B
    return [mg.tensor(A, requires_grad=True), mg.tensor(second, requires_grad=True)][:count]


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_a_function_with_a_counterpart_gives_the_right_gradient(name):
    fn = DIFFERENTIABLE[name]
    args = arguments(name, fn)
    out = fn(*args)
    assert isinstance(out, mg.Tensor) and out.requires_grad, type(out)
    np.testing.assert_allclose(out.data, fn(*[a.data for a in args]), rtol=1e-12)
    check_gradients(fn, *args, seed=sum(map(ord, name)))


@pytest.mark.parametrize("name", sorted(NO_GRADIENT))
def test_a_function_with_no_gradient_by_nature_gives_numpy_s_result(name):
    fn = NO_GRADIENT[name]
    got, expected = fn(mg.tensor(A, requires_grad=True)), fn(A)
    assert not isinstance(got, mg.Tensor)
    np.testing.assert_equal(got, expected)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_function_without_a_gradient_is_refused_on_a_tensor_that_requires_grad(name):
    fn = REFUSED[name]
    short = name.split()[0]
    with pytest.raises(TypeError, match=rf"^np\.{short.replace('.', r'.')} on a Tensor"):
        fn(mg.tensor(A, requires_grad=True))
    np.testing.assert_equal(fn(mg.tensor(A)), fn(A))  # without grad: NumPy's own result


def test_a_refusal_says_what_to_use_instead():
    with pytest.raises(TypeError, match=r"use indexing, which is differentiable: "
                                        r"t\[np\.argsort\(t\.data\)\], or call it on "
                                        r"t\.detach\(\) for a plain NumPy result"):
        np.sort(mg.tensor(V, requires_grad=True))


def test_inside_a_compiled_function_a_plain_numpy_result_is_refused():
    step = mg.compile(lambda x: x * float(np.median(x)))
    with pytest.raises(mg.TracingError, match=r"np\.median reads a tensor's value"):
        step(mg.tensor(V))
    counted = mg.compile(lambda x: mg.ones((np.size(x),)) * x.sum())
    np.testing.assert_array_equal(counted(mg.tensor(V)).data, np.full(3, V.sum()))
