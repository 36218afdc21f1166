"""The inplace pass (issue #37): a gradient that is a sum of arrays gets its second and
later terms added in place (``b[7] += ...``), into the private array the first addition
made, and never into an array another gradient or the caller shares."""

import re

import numpy as np
import pytest
from agreement import agree, unrolled
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from lstm import GRU, LSTM, RNN
from minigrad.compiler.passes import PASSES

pytestmark = pytest.mark.usefixtures("small_arrays")

ALL = set(PASSES)


def generated_backward(fn, fuse, *args):
    """The source of ``fn``'s compiled backward (the lines a replay runs)."""
    import builtins

    import minigrad.compiler.lower as lower

    sources = []

    class Recording:
        def __getattr__(self, name):
            return getattr(builtins, name)

        def compile(self, source, label, mode):
            sources.append((label, source))
            return builtins.compile(source, label, mode)

    saved, lower.builtins = lower.builtins, Recording()
    try:
        mg.compile(fn, fuse=fuse)(*args)
    finally:
        lower.builtins = saved
    return next(source for label, source in sources if label.endswith("backward>"))


@pytest.mark.parametrize("fuse", [{"inplace"}, ALL], ids=["alone", "with the others"])
@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_the_cells_equal_eager(layer, fuse):
    fn, params, xs = unrolled(layer)
    agree(fn, params, fuse, xs)


def chain(a, b, n):
    """W1's chain: ``x * a``, ``+ b``, ``tanh``, cycling; ``a`` and ``b`` need gradients,
    each a sum of n/3 terms."""
    def fn(x):
        for k in range(n):
            x = x * a if k % 3 == 0 else x + b if k % 3 == 1 else mg.tanh(x)
        return x.sum()
    return fn


def test_a_sum_s_later_terms_are_added_in_place():
    rng = np.random.default_rng(0)
    a, b = (mg.tensor(rng.uniform(0.5, 1, 4), requires_grad=True, name=n) for n in "ab")
    x = mg.tensor(rng.normal(size=4), requires_grad=True, name="x")
    fn = chain(a, b, 12)
    agree(fn, [a, b, x], {"inplace"}, x)
    source = generated_backward(fn, {"inplace"}, x)
    # a's and b's second terms make each sum a new array, by one add
    assert source.count("_accumulate(") == 0
    assert len(re.findall(r"^    (b\[\d+\]) = \1 \+ ", source, re.M)) == 2
    assert source.count(" += ") == 2 * (4 - 2)  # their third and fourth terms
    assert len(re.findall(r"^    b\[\d+\] \+= b\[\d+\]$", source, re.M)) == 2  # b's: no call
    without = generated_backward(fn, set(), x)
    assert " += " not in without and without.count("_accumulate(") == 2 * 3


def test_a_first_term_shared_with_another_gradient_is_never_written():
    """``x``'s first term is a view of ``z``'s gradient, which ``w`` shares: the sum is
    copied before anything is added in place, as eager does."""
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    w = mg.tensor(rng.normal(size=(2, 9)), requires_grad=True, name="w")
    c = mg.tensor(rng.normal(size=(2, 9)), name="c")

    def fn(x, w):
        return ((mg.concat([x, x, x], axis=1) + w) * c).sum()

    for fuse in ({"inplace"}, ALL):
        agree(fn, [x, w], fuse, x, w)
        step = mg.compile(fn, fuse=fuse)
        step(x, w).backward()
        np.testing.assert_allclose(w.grad, c.data, rtol=1e-12)
        np.testing.assert_allclose(x.grad, c.data.reshape(2, 3, 3).sum(1), rtol=1e-12)
        x.grad = w.grad = None


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 20), uses=st.integers(1, 4), fuse_all=st.booleans())
def test_random_sums_equal_eager(n, uses, fuse_all):
    rng = np.random.default_rng(n * 10 + uses)
    a, b = (mg.tensor(rng.uniform(0.5, 1, 3), requires_grad=True, name=n) for n in "ab")
    x = mg.tensor(rng.normal(size=3), requires_grad=True, name="x")
    inner = chain(a, b, n)

    def fn(x):
        return sum((inner(x * (k + 1)) for k in range(uses)), mg.tensor(0.0))

    agree(fn, [a, b, x], ALL if fuse_all else {"inplace"}, x)


IN_PLACE = "  # in place, into "


def test_the_lstm_s_forward_adds_into_the_arrays_nothing_else_reads():
    fn, params, xs = unrolled(LSTM)
    text = agree(fn, params, {"inplace"}, xs)
    assert f"Z_t3 = matmul_t3 + b{IN_PLACE}matmul_t3's array" in text
    assert f"c_t3 = f_t3*c_t2 + i_t3*g_t3{IN_PLACE}f_t3*c_t2's array" in text
    assert text.count(IN_PLACE) == 2 * 6
    assert IN_PLACE not in agree(fn, params, ALL - {"inplace"}, xs)


@pytest.mark.parametrize("case, expected", [
    ("read again", "b"), ("saved for a VJP", None), ("an output", "b"),
    ("a view", "b"), ("the caller's", "mul"), ("broadcast", "b"), ("another dtype", None),
    ("fresh", "a"), ("the second of a sum", "b"), ("the second of a difference", None),
])
def test_what_an_op_may_write_into(case, expected):
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    w, v = (mg.tensor(rng.normal(size=(3, 3)), requires_grad=True, name=n) for n in "wv")
    dtype = np.float32 if case == "another dtype" else np.float64
    r = mg.tensor(rng.normal(size=(1, 3)).astype(dtype), name="r")

    def fn(x):
        a, b = (x @ w).named("a"), (x @ v).named("b")  # new arrays no VJP reads
        if case == "read again":
            return (a + b) * a.sum()
        if case == "saved for a VJP":
            return (a * b).sum()  # mul's VJPs read a and b
        if case == "an output":
            return a + b, a
        if case == "a view":  # the view is not written; b, after it, may be
            return mg.exp(x[0:2] + b)
        if case == "the caller's":  # x is not written; b * 2, after it, may be
            return mg.exp(x + b * 2)
        if case in ("broadcast", "another dtype"):
            return mg.exp(r + b)  # r: one row, or float32 with float64
        if case == "the second of a sum":
            return mg.exp(x[0:2] + b)
        if case == "the second of a difference":
            return mg.exp(x[0:2] - b)
        return mg.exp(a + b)

    before = x.data.copy()
    text = agree(fn, [x, w, v], {"inplace"}, x)
    np.testing.assert_array_equal(x.data, before)
    assert (IN_PLACE in text) == (expected is not None)
    if expected:
        assert f"{IN_PLACE}{expected}'s array" in text


def test_without_the_graph_the_same_steps_run():
    fn, params, xs = unrolled(LSTM)
    step = mg.compile(fn, fuse={"inplace"})
    want = fn(xs).data
    with mg.no_grad():
        for _ in range(2):
            np.testing.assert_allclose(step(xs).data, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(step(xs).data, want, rtol=1e-12, atol=1e-12)


def test_a_term_of_another_dtype_is_added_by_the_general_addition():
    """``x`` (float32) times a float64 array has a float64 gradient, fitted to float32 by
    the gradient door: its sum with the float32 term stays float32."""
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.normal(size=3).astype(np.float32), requires_grad=True, name="x")
    y = mg.tensor(rng.normal(size=3), name="y")

    def fn(x):
        return (x * 2.0).sum() + (x * y).sum() + mg.tanh(x).sum()

    for fuse in ({"inplace"}, ALL):
        step = mg.compile(fn, fuse=fuse)
        want = mg.grad(fn(x), [x])[0]
        for _ in range(2):
            got = mg.grad(step(x), [x])[0]
            assert got.dtype == np.float32
            np.testing.assert_allclose(got.data, want.data, rtol=1e-6)


def test_a_0d_gradient_summed_three_times_stays_an_array():
    a = mg.tensor(0.5, requires_grad=True, name="a")

    def fn(a):
        return (a + (a + a)) * -1.5 + mg.tanh(a)

    for fuse in ({"inplace"}, ALL):
        step = mg.compile(fn, fuse=fuse)
        for _ in range(2):
            a.grad = None
            step(a).backward()
            assert type(a.grad) is np.ndarray and a.grad.shape == ()
            np.testing.assert_allclose(a.grad, -4.5 + 1 - np.tanh(0.5) ** 2, rtol=1e-12)


def test_a_result_of_in_place_bytes_or_more_gets_an_array_of_its_own(monkeypatch):
    import importlib

    fn, params, xs = unrolled(LSTM)  # Z_t: 2 x 16 float64, 256 bytes; c_t: 64 bytes
    forward = importlib.import_module("minigrad.compiler.forward")
    monkeypatch.setattr(forward, "IN_PLACE_BYTES", 256)
    text = agree(fn, params, {"inplace"}, xs)
    assert "c_t3 = f_t3*c_t2 + i_t3*g_t3" + IN_PLACE in text
    assert "Z_t3 = matmul_t3 + b\n" in text
