"""The products pass (issue #37): a matmul's gradient for its left operand, ``g @ W.T``, is
one call where it is needed, and only the block a concatenation's VJP selects of it;
nothing changes but the rounding (equal to eager to 1e-12 in float64), for the cells, for
layouts the eager sweep handles lazily, and for programs that must be left alone."""

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
BLOCK = "# only the block it needs of the product"


@pytest.mark.parametrize("fuse", [{"products"}, ALL], ids=["alone", "with the others"])
@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_each_step_s_h_gradient_is_one_gemm_of_its_block(layer, fuse):
    fn, params, xs = unrolled(layer)
    text = agree(fn, params, fuse, xs)
    backward = text.split("\nbackward:\n")[1]
    assert "concat.vjp" not in backward and "dense(dh" not in backward
    if layer is not GRU:  # the GRU's h_t has two gradients: W_h's product is added
        assert backward.count(BLOCK) == 5  # h_t0 .. h_t4, from the steps after them
        line = next(line for line in backward.splitlines() if line.startswith("  dh_t3 ="))
        assert line.endswith(f"_t4 @ W[3:7].T  {BLOCK}")


def test_without_the_pass_the_product_stays_lazy():
    fn, params, xs = unrolled(LSTM)
    text = agree(fn, params, ALL - {"products"}, xs)
    assert BLOCK not in text and "concat.vjp[1](dX_t4" in text


def one_step_where_x_and_h_need_gradients() -> str:
    """``tanh(concat([x, h]) @ W)``, checked against eager; its plan's text."""
    rng = np.random.default_rng(0)
    W = mg.tensor(rng.normal(size=(5, 4)), requires_grad=True, name="W")
    x = mg.tensor(rng.normal(size=(2, 2)), requires_grad=True, name="x")
    h = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="h")

    def fn(x, h):
        return mg.tanh(mg.concat([x, h], axis=-1) @ W)

    return agree(fn, [W, x, h], {"products"}, x, h)


def test_an_input_that_needs_a_gradient_gets_its_own_block():
    text = one_step_where_x_and_h_need_gradients()
    assert "dx = dtanh.vjp" not in text
    assert text.count(BLOCK) == 2 and "@ W[0:2].T" in text and "@ W[2:5].T" in text


def test_rows_joined_along_the_first_axis_are_blocks_of_rows():
    rng = np.random.default_rng(1)
    W = mg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    a = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="a")
    b = mg.tensor(rng.normal(size=(1, 3)), requires_grad=True, name="b")

    def fn(a, b):
        return mg.tanh(mg.concat([a, b], axis=0) @ W)

    text = agree(fn, [W, a, b], {"products"}, a, b)
    assert text.count(BLOCK) == 2 and "[0:2] @ W[:].T" in text


def test_a_block_added_to_a_gradient_from_elsewhere():
    """``h`` feeds the next step and a head: its block is added to the head's gradient."""
    rng = np.random.default_rng(2)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    V = mg.tensor(rng.normal(size=(3, 1)), requires_grad=True, name="V")
    x = mg.tensor(rng.normal(size=(4, 2, 2)), name="xs")

    def fn(xs):
        h, heads = mg.zeros((2, 3)), []
        for t in range(4):
            h = mg.tanh(mg.concat([xs[t], h], axis=-1) @ W).named("h")
            heads.append(h @ V)
        return mg.stack(heads).sum()

    text = agree(fn, [W, V], {"products", "exact"}, x)
    assert f"d(h#17) = d(matmul#21) @ W[2:5].T  {BLOCK}" in text
    assert "d(h#17) += matmul.vjp[0](d(matmul#18), h#17, V)" in text


def test_a_product_made_dense_at_once_is_one_call():
    rng = np.random.default_rng(3)
    W = mg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    x = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")

    def fn(x):
        return mg.tanh(mg.tanh(x) @ W)

    text = agree(fn, [W, x], {"products"}, x)
    assert "d(tanh#1) = dmatmul @ W.T\n" in text and "dense(" not in text


@pytest.mark.parametrize("case", ["3-d", "two gradients", "an output", "another dtype"])
def test_what_does_not_match_is_left_lazy(case):
    rng = np.random.default_rng(4)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    dtype = np.float32 if case == "another dtype" else np.float64
    x = mg.tensor(rng.normal(size=(2, 2)).astype(dtype), name="x")
    # a float32 X times a float64 W: its lazy gradient is float64, made float32 by dense
    h = mg.tensor(rng.normal(size=(2, 3)).astype(dtype), requires_grad=True, name="h")

    def fn(x, h):
        X = mg.concat([x, h], axis=-1)
        if case == "3-d":
            return mg.tanh(X.reshape((1, 2, 5)) @ W)
        if case == "two gradients":  # X's gradient is a sum: the product is made dense
            return mg.tanh(X @ W) * X.sum()
        if case == "an output":
            return mg.tanh(X @ W), X
        return mg.tanh(X @ W)

    text = agree(fn, [W, h], {"products"}, x, h)
    assert BLOCK not in text
    if case == "another dtype":
        assert "dconcat = matmul.vjp[0](dmatmul, concat, W)" in text
        step = mg.compile(fn, fuse={"products"})
        assert mg.grad(step(x, h).sum(), [h])[0].dtype == np.float32


@settings(max_examples=25, deadline=None)
@given(steps=st.integers(1, 4), p=st.integers(1, 3), q=st.integers(1, 4),
       x_first=st.booleans(), x_grad=st.booleans(), fuse_all=st.booleans())
def test_random_recurrences_equal_eager(steps, p, q, x_first, x_grad, fuse_all):
    rng = np.random.default_rng(steps * 100 + p * 10 + q)
    W = mg.tensor(rng.normal(size=(p + q, q)), requires_grad=True, name="W")
    xs = mg.tensor(rng.normal(size=(steps, 2, p)), requires_grad=x_grad, name="xs")

    def fn(xs):
        h = mg.zeros((2, q))
        for t in range(steps):
            parts = [xs[t], h] if x_first else [h, xs[t]]
            h = mg.sigmoid(mg.concat(parts, axis=-1) @ W)
        return h

    agree(fn, [W, xs] if x_grad else [W], ALL if fuse_all else {"products"}, xs)


def test_the_lstm_s_backward_makes_fewer_calls():
    fn, params, xs = unrolled(LSTM)
    calls = {}
    for name, fuse in (("without", ALL - {"products"}), ("with", ALL)):
        step = mg.compile(fn, fuse=fuse)
        step(xs)
        calls[name] = int(str(step.plans[-1]).split("(")[1].split(" calls")[0])
    # 3 calls for each of h_t0..h_t4 are 1, and one copies the block of W.T they share
    assert calls["with"] == calls["without"] - 2 * 5 + 1


COPIED = "copied contiguous for the blocks below"


def test_a_block_of_w_t_used_at_every_step_is_copied_once():
    fn, params, xs = unrolled(LSTM)
    text = agree(fn, params, {"products"}, xs)
    assert text.count(COPIED) == 1 and f"W[3:7].T, {COPIED}" in text
    assert text.index(COPIED) < text.index(BLOCK)


def test_a_block_used_once_is_not_copied():
    """One step: each of x's and h's blocks of W.T is multiplied by once."""
    assert COPIED not in one_step_where_x_and_h_need_gradients()


@pytest.mark.parametrize("axis", [0, 1])
def test_copied_blocks_of_rows_and_columns_equal_eager(axis):
    rng = np.random.default_rng(6)
    W = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True, name="W")
    xs = mg.tensor(rng.normal(size=(4, 2, 3)), requires_grad=True, name="xs")

    def fn(xs):
        h = mg.zeros((2, 3))
        for t in range(4):
            if axis == 0:
                h = mg.tanh(mg.concat([xs[t], h], axis=0) @ W)[:2]
            else:
                h = mg.tanh(mg.concat([xs[t], h], axis=1) @ mg.concat([W, W], axis=0))
        return h

    text = agree(fn, [W, xs], {"products"}, xs)
    assert text.count(BLOCK) >= 6


def test_a_block_over_transposed_bytes_is_not_copied(monkeypatch):
    import importlib

    fn, params, xs = unrolled(LSTM)  # W[3:7]: 4 rows of 16 float64, 512 bytes
    products = importlib.import_module("minigrad.compiler.products")
    monkeypatch.setattr(products, "TRANSPOSED_BYTES", 512)
    assert COPIED in agree(fn, params, {"products"}, xs)
    monkeypatch.setattr(products, "TRANSPOSED_BYTES", 511)
    assert COPIED not in agree(fn, params, {"products"}, xs)
