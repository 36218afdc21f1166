"""The inline pass (issue #37): a VJP that is one NumPy operator is written into the
replay's source as its expression, with the lambda's own rounding; a VJP behind the
gradient door stays a call."""

import re

import numpy as np
import pytest
from agreement import agree, unrolled
from test_inplace import generated_backward

import minigrad as mg
from lstm import GRU, LSTM, RNN
from minigrad.compiler.inline import EXPRESSIONS
from minigrad.compiler.passes import PASSES

pytestmark = pytest.mark.usefixtures("small_arrays")

ALL = set(PASSES)
INLINED = re.compile(r"^    b\[\d+\] = \(b\[\d+\] \* b\[\d+\]\)$", re.M)


@pytest.mark.parametrize("fuse", [{"inline"}, ALL], ids=["alone", "with the others"])
@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_the_cells_equal_eager(layer, fuse):
    fn, params, xs = unrolled(layer)
    agree(fn, params, fuse, xs)


@pytest.mark.parametrize("vjp", list(EXPRESSIONS), ids=lambda f: EXPRESSIONS[f])
def test_each_expression_is_its_vjp_to_the_bit(vjp):
    rng = np.random.default_rng(0)
    args = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(4)]
    args[3] = np.abs(args[3]) + 0.5  # a divisor
    got = eval(EXPRESSIONS[vjp].format(*[f"args[{k}]" for k in range(4)]))
    np.testing.assert_array_equal(got, vjp(*args[:vjp.__code__.co_argcount]))


def test_the_lstm_s_products_are_expressions_and_a_broadcast_one_a_call():
    fn, params, xs = unrolled(LSTM)
    # with the exact pass, the gate products' VJPs skip the door: they can be inlined
    on, off = (generated_backward(fn, fuse, xs) for fuse in ({"inline", "exact"}, {"exact"}))
    # 6 per step, but c0 (zeros) needs no gradient from f_t0 * c0
    assert len(INLINED.findall(on)) == 6 * 6 - 1 and not INLINED.findall(off)

    rng = np.random.default_rng(1)
    x = mg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="x")
    w = mg.tensor(rng.normal(size=3), requires_grad=True, name="w")

    def scaled(x):
        return mg.tanh(x * w).sum()  # w's gradient g * x is (2, 3), summed by the door

    agree(scaled, [x, w], {"inline", "exact"}, x)
    source = generated_backward(scaled, {"inline", "exact"}, x)
    assert len(INLINED.findall(source)) == 1  # x's; w's goes through the door


def test_the_plan_prints_an_inlined_vjp_as_its_expression():
    fn, params, xs = unrolled(LSTM)
    on, off = (agree(fn, params, fuse, xs) for fuse in ({"inline", "exact"}, {"exact"}))
    assert "  di_t3 = d(i_t3*g_t3) * g_t3\n" in on and "d(i_t3*g_t3) * g_t3" not in off
    assert "di_t3 = mul.vjp[0](d(i_t3*g_t3), i_t3, g_t3)" in off
