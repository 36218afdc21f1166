"""The input-projection pass (issue #36): the part of each step's ``[x_t, h] @ W`` that
does not wait for the recurrence is one GEMM over the steps, and nothing changes but the
rounding (equal to eager to 1e-12 in float64), for the cells, for random recurrences and
for programs that almost match and must be left alone."""

import importlib

import numpy as np
import pytest
from agreement import agree, unrolled
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from lstm import GRU, LSTM, RNN
from minigrad.compiler.passes import DEFAULT_PASSES, PASSES

# the passes take this file's small arrays too (see the fixture in conftest.py)
pytestmark = pytest.mark.usefixtures("small_arrays")

ALL = set(PASSES)  # fuse=True and the input projections, which are asked for by name
PROJECTED = "_t0..t"  # in the name of a projection over steps 0..T-1 (``xW_t0..t4``)


@pytest.mark.parametrize("fuse", [{"inputs"}, ALL], ids=["alone", "with the others"])
@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_the_input_projections_are_one_gemm_and_equal_eager(layer, fuse):
    fn, params, xs = unrolled(layer)
    text = agree(fn, params, fuse, xs)
    forward = text.split("\nbackward")[0].splitlines()
    gemms = [line for line in forward if PROJECTED in line.split("=")[0] and "@" in line]
    assert len(gemms) == 1  # LSTM, RNN: of W's rows that x meets; GRU: of W_x
    assert not any(" = X_t" in line and "@" in line for line in forward)  # no per-step X @ W
    if layer is not GRU:
        assert "xW_t0..t5 = x_t0..t5 @ W[0:3]" in text
        # the backward is the traced graph's: with the weights pass, W's gradient is one
        # GEMM over the stacked X_t = concat([x_t, h])
        assert ("dW = stack(X_t5, X_t4" in text) == (fuse is ALL)


def test_without_the_pass_the_plan_is_the_traced_one():
    """``fuse=True`` leaves it off: it is asked for by name (see DEFAULT_PASSES)."""
    fn, params, xs = unrolled(LSTM)
    assert "inputs" not in DEFAULT_PASSES
    for fuse in (False, True, DEFAULT_PASSES):
        assert PROJECTED not in agree(fn, params, fuse, xs)


@pytest.mark.parametrize("fuse", [{"inputs"}, ALL], ids=["alone", "with the others"])
def test_two_layers_stepped_together(fuse):
    """Layer 2's input at step t is layer 1's output: it depends on layer 1's matmuls but
    not on layer 2's, so layer 2's projection moves layer 1's steps ahead of it."""
    fn, params, xs = unrolled(LSTM, num_layers=2)
    text = agree(fn, params, fuse, xs)
    assert text.count(PROJECTED) >= 2


def test_the_early_part_after_the_late_one_and_x_requiring_grad():
    rng = np.random.default_rng(4)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    xs = mg.tensor(rng.normal(size=(4, 2, 2)), requires_grad=True, name="xs")

    def fn(xs):
        h = mg.zeros((2, 3))
        for t in range(4):
            with mg.scope(f"t={t}"):
                h = mg.tanh(mg.concat([h, xs[t]], axis=-1) @ W)
        return h

    text = agree(fn, [W, xs], ALL, xs)
    assert "vW_steps = v_steps @ W[3:5]" in text and "= tanh_t1 @ W[0:3]" in text


def test_a_weight_computed_inside_gets_one_gemm_over_the_steps():
    """The weights pass for a weight the function computes (``W * 2``, read at every
    step): its stacked GEMM runs before the sweep reaches the weight."""
    rng = np.random.default_rng(6)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    xs = mg.tensor(rng.normal(size=(4, 2, 2)), name="xs")

    def fn(xs):
        doubled, h = (W * 2).named("W2"), mg.zeros((2, 3))
        for t in range(4):
            with mg.scope(f"t={t}"):
                h = mg.tanh(mg.concat([xs[t], h]).named("X") @ doubled)
        return h

    text = agree(fn, [W], True, xs)
    assert "dW2 = stack(X_t3, X_t2, X_t1, X_t0).T @ stack(" in text


def test_a_leaf_whose_gradient_is_slices_that_tile_it_is_joined():
    rng = np.random.default_rng(7)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    x = mg.tensor(rng.normal(size=(2, 3)))

    def fn(x):
        return mg.tanh(x @ W[0:3].T) * (W[3:5] ** 2).sum()

    text = agree(fn, [W], True, x)
    assert "dW = concat(d(W[0:3]), d(W[3:5]), axis=0)" in text


def test_chunks_of_steps_when_the_projections_would_hold_too_much(monkeypatch):
    monkeypatch.setattr(importlib.import_module("minigrad.compiler.projection"),
                        "PROJECTED_BYTES", 800)  # three steps of this LSTM (256 bytes each)
    fn, params, xs = unrolled(LSTM)
    text = agree(fn, params, ALL, xs)
    forward = text.split("\nbackward")[0]
    assert "xW_t0..t2 = x_t0..t2 @ W[0:3]" in forward
    assert "xW_t3..t5 = x_t3..t5 @ W[0:3]" in forward


def near_misses():
    """Programs with a weight many matmuls read that the pass must leave as they are."""
    rng = np.random.default_rng(8)
    W = mg.tensor(rng.normal(size=(6, 3)), requires_grad=True, name="W")
    square = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True, name="V")
    xs = [mg.tensor(rng.normal(size=(2, 3))) for _ in range(3)]

    def recurrence(left):
        def fn():
            h = mg.tensor(np.zeros((2, 3)))
            for x in xs:
                h = mg.tanh(left(x, h) @ W)
            return h
        return fn

    wide = mg.tensor(rng.normal(size=(9, 3)), requires_grad=True, name="W9")

    def middle():
        h = mg.tensor(np.zeros((2, 3)))
        for x in xs:
            h = mg.tanh(mg.concat([h, x, h * 2]) @ wide)
        return h

    def other_axis():
        h = mg.tensor(np.zeros((2, 3)))
        for x in xs:
            z = mg.concat([x, h], axis=0) @ square
            h = mg.tanh(z[:2] + z[2:])
        return h

    return {
        "the x part depends on h": recurrence(lambda x, h: mg.concat([x + h, h])),
        "the x part depends on h through the step before": recurrence(
            lambda x, h: mg.concat([mg.tanh(h) * x, h])),
        "a weight used once": lambda: mg.tanh(mg.concat([xs[0], xs[1]]) @ W),
        "a concat along the other axis": other_axis,
        "the early part in the middle": middle,
    }, [W, square, wide]


@pytest.mark.parametrize("case", list(near_misses()[0]))
def test_near_misses_are_left_alone(case):
    cases, leaves = near_misses()
    text = agree(cases[case], leaves, ALL)
    assert PROJECTED not in text and "_steps" not in text


def test_a_weight_that_is_also_an_output():
    rng = np.random.default_rng(9)
    W = mg.tensor(rng.normal(size=(5, 3)), requires_grad=True, name="W")
    xs = mg.tensor(rng.normal(size=(3, 2, 2)), name="xs")

    def fn(xs):
        h = mg.tensor(np.zeros((2, 3)))
        for t in range(3):
            with mg.scope(f"t={t}"):
                h = mg.tanh(mg.concat([xs[t], h]).named("X") @ W)
        return h, W

    text = agree(fn, [W], ALL, xs)
    assert "v_steps @ W[0:2]" in text
    assert "X_t1 = concat(xs[1], tanh_t0" in text  # the backward reads X


@st.composite
def recurrences(draw):
    """A random recurrence: sizes, steps, where x sits in the concatenation, whether x
    depends on h (a near miss), x requiring grad or not, the nonlinearity, and the dtype
    (float64 checked to 1e-12)."""
    T, B, p, q = (draw(st.integers(2, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                  draw(st.integers(1, 3)))
    layout = draw(st.sampled_from(["xh", "hx", "x only", "x depends on h", "xhx"]))
    return T, B, p, q, layout, draw(st.booleans()), draw(st.sampled_from(["tanh", "sigmoid"])), \
        draw(st.integers(0, 2**16))


def left_operand(layout, x, h):
    if layout == "x only":
        return x
    parts = {"xh": [x, h], "hx": [h, x], "x depends on h": [x * h.sum(), h],
             "xhx": [x, h, x * 2]}[layout]
    return mg.concat(parts)


@pytest.mark.parametrize("fuse", [{"inputs"}, ALL], ids=["alone", "with the others"])
@given(recurrences())
def test_random_recurrences_equal_eager(fuse, case):
    T, B, p, q, layout, x_grad, act, seed = case
    rng = np.random.default_rng(seed)
    rows = {"xh": p + q, "hx": p + q, "x only": p, "x depends on h": p + q, "xhx": 2 * p + q}
    W = mg.tensor(rng.normal(size=(rows[layout], q)), requires_grad=True, name="W")
    U = mg.tensor(rng.normal(size=(q, q)), requires_grad=True, name="U")
    xs = mg.tensor(rng.normal(size=(T, B, p)), requires_grad=x_grad, name="xs")
    f = getattr(mg, act)

    def fn(xs):
        h = mg.zeros((B, q))
        for t in range(T):
            z = left_operand(layout, xs[t], h) @ W
            h = f(z + h @ U) if layout == "x only" else f(z)
        return h

    leaves = [W, U, xs] if x_grad else [W, U]
    text = agree(fn, leaves, fuse, xs, seed=seed)
    assert (PROJECTED in text or "_steps" in text) == (layout != "x depends on h")
