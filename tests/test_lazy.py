"""The lazy gradients of minigrad.lazy: a sum of slices joined in one pass, products
multiplied only where needed; each checked against the dense value it stands for."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.lazy import Product, ProductSum, Scattered, _tiles


def _dense_by_hand(pieces, shape):
    out = np.zeros(shape)
    for index, values in pieces:
        np.add.at(out, index, values)
    return out


def _sum_of(pieces, shape):
    total = None
    for index, values in pieces:
        s = Scattered(index, values, shape)
        total = s if total is None else total.plus(s)
    return total


WHOLE = slice(None)
TILINGS = {
    "four gate blocks": ((64, 512), [(WHOLE, slice(k * 128, (k + 1) * 128)) for k in (2, 0, 3, 1)]),
    "rows": ((512, 16), [slice(0, 100), slice(100, None)]),
    "middle axis of 3": ((4, 2048, 2), [(WHOLE, slice(0, 1000)), (WHOLE, slice(1000, 2048))]),
    "one piece, whole": ((128, 64), [(WHOLE, WHOLE)]),
}
NOT_TILINGS = {
    "gap": ((64, 512), [(WHOLE, slice(0, 100)), (WHOLE, slice(101, 512))]),
    "overlap": ((64, 512), [(WHOLE, slice(0, 300)), (WHOLE, slice(200, 512))]),
    "twice the same": ((64, 512), [(WHOLE, slice(0, 512)), (WHOLE, slice(0, 512))]),
    "short": ((64, 512), [(WHOLE, slice(0, 256))]),
    "step 2": ((64, 512), [(WHOLE, slice(0, 512, 2)), (WHOLE, slice(1, 512, 2))]),
    "two axes": ((64, 512), [(slice(0, 32), slice(0, 512)), (slice(32, 64), WHOLE)]),
    "different axes": ((64, 512), [(slice(0, 32),), (WHOLE, slice(0, 512))]),
    "integers": ((64, 512), [(WHOLE, np.arange(256)), (WHOLE, np.arange(256, 512))]),
    "repeated integers": ((4096,), [np.array([0, 0, 1]), slice(2, None)]),
}


@pytest.mark.parametrize("name", [*TILINGS, *NOT_TILINGS])
def test_a_sum_of_slices_is_its_dense_value(name):
    shape, indices = {**TILINGS, **NOT_TILINGS}[name]
    rng = np.random.default_rng(0)
    pieces = [(i, rng.standard_normal(np.zeros(shape)[i].shape)) for i in indices]
    lazy = _sum_of(pieces, shape)
    np.testing.assert_array_equal(lazy.dense(np.dtype(np.float64)), _dense_by_hand(pieces, shape))
    np.testing.assert_allclose(lazy.add_to(np.ones(shape)), 1 + _dense_by_hand(pieces, shape),
                               rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", TILINGS)
def test_slices_that_tile_an_axis_are_joined(name):
    shape, indices = TILINGS[name]
    pieces = [(i, np.zeros(shape)[i], True) for i in indices]
    assert _tiles(pieces, shape) is not None


@pytest.mark.parametrize("name", NOT_TILINGS)
def test_anything_else_is_added_into_zeros(name):
    shape, indices = NOT_TILINGS[name]
    pieces = [(i, np.zeros(shape)[i], True) for i in indices]
    assert _tiles(pieces, shape) is None


def test_gate_slices_of_a_large_matrix_backpropagate_exactly():
    # large enough (64 x 512) for the joined path; weights make every block differ
    rng = np.random.default_rng(1)
    z = mg.tensor(rng.standard_normal((64, 512)), requires_grad=True)
    blocks = mg.split(z, 4)
    loss = sum(((k + 1) * b * b).sum() for k, b in enumerate(blocks))
    loss.backward()
    expected = 2 * z.data * np.repeat(np.arange(1, 5), 128)[None, :]
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12)


def test_a_sum_of_slices_keeps_the_wider_dtype():
    a = Scattered((slice(0, 2048),), np.ones(2048, np.float32), (4096,))
    b = Scattered((slice(2048, 4096),), np.ones(2048, np.float64), (4096,))
    assert a.plus(b).dtype == np.float64
    assert a.plus(b).dense(np.dtype(np.float32)).dtype == np.float32


def test_a_product_is_evaluated_only_in_the_selected_columns():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    part = Product(a, b)[:, 1:3]
    assert type(part) is Product and part.shape == (3, 2)
    np.testing.assert_allclose(part.dense(np.dtype(np.float64)), (a @ b)[:, 1:3])


@pytest.mark.parametrize("chunk_bytes", [1, 200, 2 << 20])
def test_a_sum_of_products_is_multiplied_in_chunks_exactly(monkeypatch, chunk_bytes):
    # chunks of one pair, of a few pairs, and all pairs in one GEMM
    monkeypatch.setattr(ProductSum, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    pairs = [(rng.standard_normal((5, 3)).T, rng.standard_normal((5, 4))) for _ in range(7)]
    total = ProductSum(Product(*pairs[0]))
    for a, b in pairs[1:]:
        total = total.plus(Product(a, b))
    expected = sum(a @ b for a, b in pairs)
    np.testing.assert_allclose(total.dense(np.dtype(np.float64)), expected, rtol=1e-12)
    np.testing.assert_allclose(total.add_to(np.ones((3, 4))), 1 + expected, rtol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [1, 2 << 20])
def test_a_weight_shared_over_steps_gets_the_summed_gradient(monkeypatch, chunk_bytes):
    monkeypatch.setattr(ProductSum, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(4)
    w = mg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    xs = [rng.standard_normal((2, 3)) for _ in range(6)]
    loss = sum((mg.tensor(x) @ w).sum() for x in xs)
    loss.backward()
    np.testing.assert_allclose(w.grad, sum(x.T @ np.ones((2, 3)) for x in xs), rtol=1e-12)
    assert w.grad.dtype == np.float64


def test_a_sum_of_products_keeps_the_wider_dtype():
    a32, a64 = np.ones((2, 2), np.float32), np.ones((2, 2))
    total = ProductSum(Product(a32, a32)).plus(Product(a64, a64))
    assert total.dtype == np.float64
