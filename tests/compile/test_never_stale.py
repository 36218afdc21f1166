"""mg.compile is never silently stale (issue #19, items 1-4): what a trace froze is either
part of the signature, guarded, or read at every call. Each test failed before its fix."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import Module, Parameter

# every test runs with mg.compile's passes on and off (the fusion fixture)
pytestmark = pytest.mark.usefixtures("fusion")


def eager_and_compiled(fn, *calls):
    """The results of ``fn`` and of ``mg.compile(fn)`` on each argument tuple in turn."""
    compiled = mg.compile(fn)
    return [fn(*args) for args in calls], [compiled(*args) for args in calls]


# ---- 1. Python numbers by exact value ----------------------------------------------------

@pytest.mark.parametrize("first, second", [
    (0.0, -0.0), (-0.0, 0.0), ((1.0, 0.0), (1.0, -0.0)), (float("nan"), 0.0),
    (0.0, float("nan")), (np.float64(0.0), np.float64(-0.0)), (1, True), (0.0, 0),
])
def test_non_tensor_arguments_are_compared_by_exact_value(first, second):
    x = mg.tensor([1.0, -2.0], requires_grad=True)

    def fn(x, s):
        return x / (s[-1] if isinstance(s, tuple) else s)

    compiled = mg.compile(fn)
    for s in (first, second, first):
        with np.errstate(all="ignore"):
            expected, got = fn(x, s), compiled(x, s)
        np.testing.assert_array_equal(got.data, expected.data)
        np.testing.assert_array_equal(np.signbit(got.data), np.signbit(expected.data))
    assert compiled.traces == 2


def test_minus_zero_after_zero_divides_to_minus_infinity():
    x = mg.tensor([1.0, 2.0])
    cf = mg.compile(lambda x, s: x / s)
    with np.errstate(divide="ignore"):
        assert np.all(cf(x, 0.0).data == np.inf)
        assert np.all(cf(x, -0.0).data == -np.inf)


def test_nan_arguments_replay_one_trace():
    x = mg.tensor([1.0, 2.0])
    cf = mg.compile(lambda x, s: x + s)
    for _ in range(3):
        assert np.all(np.isnan(cf(x, float("nan")).data))
    assert cf.traces == 1


# ---- 2. a captured result is read at its current value ------------------------------------

def test_a_captured_result_is_read_not_recomputed_after_an_optimizer_step():
    W = mg.tensor([1.0, 2.0], requires_grad=True)
    W2 = W * 2  # computed once, before the function

    def fn(x):
        return (x * W2).sum()

    cf = mg.compile(fn)
    x = mg.tensor([1.0, 1.0])
    for _ in range(2):
        cf(x)
    with mg.no_grad():
        W.data[...] = [0.5, 3.0]  # W2 still holds [2, 4]: nobody recomputed it
    assert cf(x).item() == fn(x).item() == 6.0
    W2.data = np.array([1.0, 4.0])  # rebinding the captured result itself is seen
    assert cf(x).item() == fn(x).item() == 5.0


def test_gradients_flow_into_a_captured_result_and_through_the_eager_graph_beyond():
    W = mg.tensor([1.0, 2.0], requires_grad=True)
    W2 = mg.tanh(W) * 2
    cotangent = np.random.default_rng(0).standard_normal(2)

    def fn(x):
        return x * W2

    x = mg.tensor([0.5, -1.5], requires_grad=True)
    grads = []
    for f in (fn, mg.compile(fn)):
        W.grad = x.grad = None
        f(x).backward(cotangent, retain_graph=True)
        grads.append((W.grad.copy(), x.grad.copy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12)


def test_a_captured_result_returned_as_is_is_the_same_tensor():
    W = mg.tensor([1.0, 2.0], requires_grad=True)
    W2 = W * 3
    cf = mg.compile(lambda x: (x * 2, W2))
    for _ in range(2):
        _, w2 = cf(mg.tensor([1.0, 1.0]))
        assert w2 is W2


# ---- 3. tensors made inside are new at every call -----------------------------------------

def test_a_leaf_made_inside_and_returned_is_new_at_every_call():
    def fn(x):
        w = mg.tensor([1.0, 1.0], requires_grad=True)
        return (x * w).sum(), w

    cf = mg.compile(fn)
    x = mg.tensor([1.0, 1.0])
    seen = []
    for _ in range(3):
        loss, w = cf(x)
        loss.backward()
        np.testing.assert_array_equal(w.grad, [1.0, 1.0])
        assert all(w is not old for old in seen)
        seen.append(w)
    w.data[0] = 100.0  # the user changing it must not change the next call's value
    loss, w = cf(x)
    assert loss.item() == 2.0


def test_a_constant_made_inside_and_returned_is_new_at_every_call():
    cf = mg.compile(lambda x: (x + 1, mg.zeros((2,))))
    first = cf(mg.tensor([1.0, 2.0]))[1]
    first.data += 5
    second = cf(mg.tensor([1.0, 2.0]))[1]
    assert second is not first
    np.testing.assert_array_equal(second.data, [0.0, 0.0])


# ---- 4. what no signature sees: guarded names -----------------------------------------------

W_GLOBAL = mg.tensor([1.0, 2.0], requires_grad=True)
SCALE_GLOBAL = 2.0


def reads_globals(x):
    return (x * W_GLOBAL).sum() * SCALE_GLOBAL


def test_a_rebound_global_tensor_or_number_is_seen():
    global W_GLOBAL, SCALE_GLOBAL
    old_w, old_scale = W_GLOBAL, SCALE_GLOBAL
    try:
        cf = mg.compile(reads_globals)
        x = mg.tensor([1.0, 1.0])
        assert cf(x).item() == 6.0
        W_GLOBAL = mg.tensor([5.0, 5.0], requires_grad=True)
        assert cf(x).item() == reads_globals(x).item() == 20.0
        SCALE_GLOBAL = -0.0
        assert math.copysign(1, cf(x).item()) == -1.0
        assert cf.traces == 3
        assert "W_GLOBAL" in cf.explain() and "SCALE_GLOBAL" in cf.explain()
    finally:
        W_GLOBAL, SCALE_GLOBAL = old_w, old_scale


def test_a_rebound_closure_variable_is_seen():
    w = mg.tensor([1.0, 2.0])

    def fn(x):
        return (x * w).sum()

    cf = mg.compile(fn)
    x = mg.tensor([1.0, 1.0])
    assert cf(x).item() == 3.0
    w = mg.tensor([3.0, 3.0])  # noqa: F841 - the closure cell changes
    assert cf(x).item() == fn(x).item() == 6.0


class Scaled(Module):
    def __init__(self):
        super().__init__()
        self.W = Parameter(np.array([1.0, 2.0]))
        self.scale = 1.0

    def forward(self, x):
        return (x * self.W).sum() * self.scale


def test_an_attribute_of_an_argument_object_that_changed_is_seen():
    def fn(model, x):
        return model(x)

    model = Scaled()
    cf = mg.compile(fn)
    x = mg.tensor([1.0, 1.0])
    assert cf(model, x).item() == 3.0
    model.W = Parameter(np.array([4.0, 4.0]))  # a rebound parameter
    assert cf(model, x).item() == fn(model, x).item() == 8.0
    model.W.data[...] = 1.0  # in place, read at every call as before, no new trace
    assert cf(model, x).item() == 2.0
    assert cf.traces == 2
    model.scale = 3.0  # a number the forward reads
    assert cf(model, x).item() == fn(model, x).item() == 6.0


def test_an_attribute_read_directly_by_the_function_is_guarded():
    class Holder:
        pass

    holder = Holder()
    holder.w = mg.tensor([1.0, 1.0])

    def fn(h, x):
        return (x * h.w).sum()

    cf = mg.compile(fn)
    x = mg.tensor([1.0, 2.0])
    assert cf(holder, x).item() == 3.0
    holder.w = mg.tensor([2.0, 2.0])
    assert cf(holder, x).item() == 6.0


def test_the_docstring_says_what_stays_frozen():
    doc = mg.compile.__doc__
    for words in ("Python control flow", "random", ".data", "globals", "closure"):
        assert words in doc
