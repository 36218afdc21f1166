"""The buffers pass (issue #36): large results go into arrays a plan keeps between calls,
and nothing anyone can still see is ever overwritten."""

import numpy as np
import pytest

import minigrad as mg
from lstm import LSTM
from minigrad.compiler.buffers import Pool

# every result is pooled here, however small (see the fixture in conftest.py)
pytestmark = pytest.mark.usefixtures("small_arrays")


def test_a_pool_hands_out_an_array_again_only_when_nobody_holds_it():
    pool = Pool()
    first = pool.take((2, 3), np.dtype(np.float64))
    second = pool.take((2, 3), np.dtype(np.float64))
    assert second is not first  # ``first`` is still held here
    view = second[1:]
    del first
    assert pool.take((2, 3), np.dtype(np.float64)) is not second  # a view holds it
    del view
    third = pool.take((2, 3), np.dtype(np.float64))
    assert third is second or third.base is None


def test_outputs_kept_by_the_caller_are_never_overwritten():
    rng = np.random.default_rng(0)
    W = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    step = mg.compile(lambda x: (x @ W, (x @ W + 1.0) * 2.0))
    kept = []
    for _ in range(4):
        x = mg.tensor(rng.normal(size=(2, 3)))
        outs = step(x)
        kept.append((x.data.copy(), [o.data.copy() for o in outs], outs))
    for x, copies, outs in kept:
        for copy, out in zip(copies, outs):
            np.testing.assert_array_equal(out.data, copy)
        np.testing.assert_allclose(outs[0].data, x @ W.data, rtol=1e-12)
    assert "out= an array of the pool" in str(step.plans[-1])  # its results were pooled
    assert not step.plans[-1].pool.arrays  # and nothing is kept between calls


def compiled_lstm(seed, steps):
    """A compiled LSTM loss, traced, its parameters, two inputs and each one's eager
    gradients."""
    rng = np.random.default_rng(seed)
    model = LSTM(2, 3, rng=rng)
    params = model.parameters()

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return (hs[-1] ** 2).sum()

    step = mg.compile(loss_fn)
    inputs = [rng.normal(size=(steps, 2, 2)) for _ in range(2)]
    want = [[g.data for g in mg.grad(loss_fn(x), params)] for x in inputs]
    step(inputs[0])  # the trace
    return step, params, inputs, want


def test_two_calls_then_their_two_backwards_give_each_call_s_gradients():
    """The first call's saved arrays are still held by its pending backward when the
    second call runs: the pool must give the second call new arrays."""
    step, params, xs, want = compiled_lstm(1, 4)
    losses = [step(x) for x in xs]
    for loss, grads in zip(losses, want):
        for got, w in zip(mg.grad(loss, params), grads):
            np.testing.assert_allclose(got.data, w, rtol=1e-12, atol=1e-12)


def test_a_gradient_kept_in_grad_is_not_overwritten_by_the_next_backward():
    rng = np.random.default_rng(2)
    W = mg.tensor(rng.normal(size=(4, 3)), requires_grad=True, name="W")
    xs = [mg.tensor(rng.normal(size=(2, 4))) for _ in range(3)]
    step = mg.compile(lambda *xs: sum(((x @ W) ** 2).sum() for x in xs))
    step(*xs).backward()
    first = np.asarray(W.grad)
    kept = first.copy()
    W.grad = None
    step(*xs).backward()
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_allclose(np.asarray(W.grad), kept, rtol=1e-12)


def test_replays_in_two_threads_at_once_give_each_call_its_own_numbers():
    """Both threads replay one plan and share its pool: no array is handed to both."""
    import threading

    step, params, inputs, want = compiled_lstm(3, 5)  # traced before the threads
    wrong = []

    def replay(k):
        for _ in range(50):
            got = [g.data for g in mg.grad(step(inputs[k]), params)]
            if not all(np.allclose(g, w, rtol=1e-12, atol=1e-12) for g, w in zip(got, want[k])):
                wrong.append(k)

    threads = [threading.Thread(target=replay, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong
