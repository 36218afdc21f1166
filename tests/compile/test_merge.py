"""The merge pass (issue #37): one elementwise op on adjacent slices of one array is one
op on their block, forward and backward, and nothing changes but the rounding (equal to
eager to 1e-12 in float64), for the cells, for random programs, and for layouts that
must be left alone (a gap, another op, another dtype)."""

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
OPS = {"sigmoid": mg.sigmoid, "tanh": mg.tanh, "exp": mg.exp}


@pytest.mark.parametrize("fuse", [{"merge"}, ALL], ids=["alone", "with the others"])
@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_the_cells_equal_eager_merged(layer, fuse):
    fn, params, xs = unrolled(layer)
    text = agree(fn, params, fuse, xs)
    if layer is LSTM:  # i and f are adjacent; g (a tanh) stands between f and o
        assert "[i_t3 f_t3] = sigmoid(Z_t3[:, 0:8])" in text
        assert "i_t3 = [i_t3 f_t3][:, 0:4]" in text and "f_t3 = [i_t3 f_t3][:, 4:8]" in text
        assert text.count(" = sigmoid(") == 2 * 6  # [i f] and o, at each of 6 steps
        backward = text.split("\nbackward:\n")[1]
        assert "d(Z_t3[:, 0:8]) = sigmoid.vjp[0](d([i_t3 f_t3]), [i_t3 f_t3]" in backward
        assert ("d([i_t3 f_t3]) = concat(di_t3, df_t3, axis=1)" in backward) == (fuse is ALL)
        assert "sigmoid(Z_t3[:, 0:4])" not in text  # the views it read are gone


def test_the_1997_cell_has_nothing_to_merge():
    """``[i, g, o]``: no two adjacent blocks take the same op."""
    fn, params, xs = unrolled(LSTM, forget_gate=False)
    with_pass, without = agree(fn, params, {"merge"}, xs), agree(fn, params, set(), xs)
    assert with_pass == without


def two_slices_fn(first, second, cuts, dtype=np.float64):
    """Ops ``first`` and ``second`` on two slices of one array (``cuts``: their index)."""
    rng = np.random.default_rng(0)
    W = mg.tensor(rng.normal(size=(3, 7)).astype(dtype), requires_grad=True, name="W")
    x = mg.tensor(rng.normal(size=(2, 3)).astype(dtype), name="x")

    def fn(x):
        Z = (x @ W).named("Z")
        a, b = OPS[first](Z[cuts[0]]), OPS[second](Z[cuts[1]])
        return a.sum() * 2 + (b * b).sum()

    return fn, [W], x


@pytest.mark.parametrize("first, second, cuts, merged", [
    ("sigmoid", "sigmoid", ((slice(None), slice(0, 3)), (slice(None), slice(3, 7))), True),
    ("tanh", "tanh", ((slice(None), slice(4, 6)), (slice(None), slice(1, 4))), True),
    ("exp", "exp", ((Ellipsis, slice(0, 2)), (slice(None), slice(2, 5))), False),  # not slices
    ("sigmoid", "sigmoid", ((slice(None), slice(0, 2)), (slice(None), slice(3, 7))), False),
    ("sigmoid", "tanh", ((slice(None), slice(0, 3)), (slice(None), slice(3, 7))), False),
    ("sigmoid", "sigmoid", ((slice(None), slice(0, 6, 2)), (slice(None), slice(6, 7))), False),
    ("sigmoid", "sigmoid", ((slice(0, 1), slice(0, 3)), (slice(None), slice(3, 7))), False),
    ("sigmoid", "sigmoid", ((slice(0, 1),), (slice(1, 2),)), True),  # rows
], ids=["adjacent", "out of order", "an ellipsis", "a gap", "another op", "a step",
        "two axes cut", "rows"])
def test_adjacent_slices_merge_and_near_misses_do_not(first, second, cuts, merged):
    fn, leaves, x = two_slices_fn(first, second, cuts)
    text = agree(fn, leaves, {"merge"}, x)
    assert (f"] = {first}(Z[" in text) == merged
    assert text == agree(fn, leaves, set(), x) or merged


def test_float32_stays_float32():
    fn, leaves, x = two_slices_fn("sigmoid", "sigmoid", (
        (slice(None), slice(0, 3)), (slice(None), slice(3, 7))), np.float32)
    step = mg.compile(fn, fuse={"merge"})
    assert "] = sigmoid(Z[:, 0:7])" in str((step(x), step.plans[-1])[1])
    assert step(x).dtype == np.float32 and mg.grad(step(x), leaves)[0].dtype == np.float32


def test_a_view_something_else_reads_stays():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.normal(size=(2, 4)), requires_grad=True, name="x")

    def fn(x):
        a = x[:, 0:2]
        return mg.tanh(a), mg.tanh(x[:, 2:4]), a * 3

    text = agree(fn, [x], {"merge"}, x)
    assert "] = tanh(x[:, 0:4])" in text and "x[:, 0:2]  # a view" in text


def test_a_merged_result_returned_is_its_own_view():
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="x")

    def fn(x):
        return mg.exp(x[0:1]), mg.exp(x[1:3])

    text = agree(fn, [x], {"merge"}, x)
    assert "] = exp(x[0:3])" in text


@settings(max_examples=30, deadline=None)
@given(widths=st.lists(st.integers(1, 3), min_size=1, max_size=5),
       ops=st.lists(st.sampled_from(sorted(OPS)), min_size=5, max_size=5),
       order=st.permutations(range(5)), fuse_all=st.booleans())
def test_random_programs_of_slices_equal_eager(widths, ops, order, fuse_all):
    bounds = np.cumsum([0, *widths])
    rng = np.random.default_rng(len(widths))
    x = mg.tensor(rng.normal(size=(2, int(bounds[-1]))), requires_grad=True, name="x")
    picked = [k for k in order if k < len(widths)]

    def fn(x):
        results = {k: OPS[ops[k]](x[:, bounds[k]:bounds[k + 1]]) for k in picked}
        return mg.concat([results[k] * (k + 1) for k in range(len(widths))], axis=1)

    agree(fn, [x], ALL if fuse_all else {"merge"}, x)


def test_merging_makes_fewer_sigmoids():
    """Per step, one sigmoid and one sigmoid VJP fewer, for one concatenation of ``di``
    and ``df`` more (and the views: two of ``Z`` fewer, two of ``[i f]`` more)."""
    fn, params, xs = unrolled(LSTM)
    texts = {}
    for name, fuse in (("without", ALL - {"merge"}), ("with", ALL)):
        step = mg.compile(fn, fuse=fuse)
        step(xs)
        texts[name] = str(step.plans[-1])
    for what, change in ((" = sigmoid(", -6), ("sigmoid.vjp", -6), (" = concat(", +6)):
        assert texts["with"].count(what) == texts["without"].count(what) + change
    calls = [int(text.split("(")[1].split(" calls")[0]) for text in texts.values()]
    assert calls[0] == calls[1]


def test_a_block_larger_than_merged_bytes_is_left_alone(monkeypatch):
    """Its backward would join the slices' gradients: a copy that costs more than the
    calls merging saves, on large blocks."""
    import importlib

    fn, params, xs = unrolled(LSTM)  # blocks of 2 x 8 float64: 128 bytes
    merge = importlib.import_module("minigrad.compiler.merge")
    monkeypatch.setattr(merge, "MERGED_BYTES", 128)
    assert "[i_t3 f_t3] = sigmoid(" in agree(fn, params, {"merge"}, xs)
    monkeypatch.setattr(merge, "MERGED_BYTES", 127)
    assert "[i_t3 f_t3]" not in agree(fn, params, {"merge"}, xs)
