"""minigrad.testing is for users: property-test your own primitive in five lines."""

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.testing import arrays_and_dtypes, broadcastable_shapes, check_gradients, tensors

softsign = mg.Primitive("softsign", lambda x: x / (1 + np.abs(x)),
                        lambda g, y, x: g / ((1 + abs(x)) * (1 + abs(x))))


@given(arrays_and_dtypes())
def test_a_user_primitive_in_five_lines(x):
    check_gradients(softsign, mg.tensor(x, requires_grad=True))


@given(tensors(shape=(2, 3)))
def test_tensors_strategy(t):
    assert t.shape == (2, 3) and t.requires_grad and t.dtype in (np.float32, np.float64)


@given(broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair):
    np.broadcast_shapes(*pair)


def test_check_gradients_catches_a_wrong_vjp():
    wrong = mg.Primitive("wrong", np.sin, lambda g, y, x: g)
    with pytest.raises(AssertionError, match="gradients differ from central differences"):
        check_gradients(wrong, mg.tensor([0.5, 1.5], requires_grad=True))


def test_check_gradients_catches_a_dtype_leak():
    leaky = mg.Primitive("leaky", lambda x: x.astype(np.float64), lambda g, y, x: g)
    with pytest.raises(AssertionError, match="output dtype float64, expected float32"):
        check_gradients(leaky, mg.tensor([0.5], dtype=np.float32, requires_grad=True))
