"""A compiled plan prints as the NumPy calls it makes (issue #35), and its passes switch
off (``mg.compile(fn, fuse=False)``) without changing a number."""

import os
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lstm import GRU, LSTM, RNN
from minigrad.compiler.passes import PASSES

FIXTURE = Path(__file__).parents[1] / "fixtures" / "compiled_rnn_3_steps.txt"


def rnn_step(fuse):
    """A 3-step tanh RNN's loss, compiled, and its last plan after a replay."""
    rnn = RNN(2, 3, rng=np.random.default_rng(0))

    def loss_fn(xs):
        hs, _ = rnn.unroll(xs)
        return (hs[-1] ** 2).sum()

    step = mg.compile(loss_fn, fuse=fuse)
    xs = mg.tensor(np.random.default_rng(1).normal(size=(3, 1, 2)), name="xs")
    step(xs)
    step(xs).backward()
    return step.plans[-1]


def test_a_3_step_rnn_prints_as_committed():
    """``MINIGRAD_WRITE_FIXTURES=1`` writes the text anew (after a deliberate change)."""
    text = str(rnn_step(fuse=True)) + "\n"
    if os.environ.get("MINIGRAD_WRITE_FIXTURES"):
        FIXTURE.write_text(text)
    assert text == FIXTURE.read_text()
    assert "Z_t2 = matmul_t2 + b" in text
    assert "dW = stack(X_t2, X_t1, X_t0).T @ stack(dZ_t2, dZ_t1, dZ_t0)" in text


def test_without_fusion_every_vjp_is_called_through_the_door():
    fused, plain = str(rnn_step(fuse=True)), str(rnn_step(fuse=False))
    assert "passes its gradient on unchanged" in fused and "db = dZ_t2" in fused
    assert "passes its gradient on unchanged" not in plain and "db = dZ_t2" not in plain
    vjps = [line for line in plain.splitlines() if ".vjp[" in line]
    assert vjps and all(line.endswith("# through the gradient door") for line in vjps)
    # the same forward, but for the adds the inplace pass makes into their input's array
    assert [line.split("  #")[0] for line in fused.splitlines()[1:18]] == plain.splitlines()[1:18]


@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_unfused_and_fused_replays_equal_eager_to_1e_12(layer):
    rng = np.random.default_rng(3)
    model = layer(3, 5, rng=rng)
    xs = rng.normal(size=(6, 2, 3))
    cotangent = rng.normal(size=(2, 5))  # random, not ones

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return (hs[-1] * cotangent).sum()

    params = model.parameters()
    want = loss_fn(xs)
    want_grads = [g.data for g in mg.grad(want, params)]
    for fuse in (False, True):
        step = mg.compile(loss_fn, fuse=fuse)
        for _ in range(2):  # the trace, then a replay
            got = step(xs)
            grads = mg.grad(got, params)
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-12)
        for g, w in zip(grads, want_grads):
            np.testing.assert_allclose(g.data, w, rtol=1e-12, atol=1e-12)


def test_an_lstm_plan_joins_its_gate_gradients_only_when_fused():
    model = LSTM(2, 4, rng=np.random.default_rng(0))

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return hs[-1].sum()

    texts = {}
    for fuse in (True, False):
        step = mg.compile(loss_fn, fuse=fuse)
        xs = np.ones((3, 1, 2))
        step(xs).backward()
        texts[fuse] = str(step.plans[-1])
    assert "dZ_t1 = concat(d(Z_t1[:, 0:8]), d(Z_t1[:, 8:12])" in texts[True]
    assert "concat(" not in texts[False].split("\nbackward")[1]


def test_the_readme_shows_the_plan_as_it_prints():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert FIXTURE.read_text().rstrip() in readme


def test_plans_are_picked_by_position_too():
    step = mg.compile(lambda x: (x * 2).sum())
    step(mg.tensor(np.ones(2)))
    step(mg.tensor(np.ones(3)))
    assert step.plans[-1] is list(step.plans.values())[-1] is not step.plans[0]
    with pytest.raises(IndexError):
        step.plans[2]


def lstm_plan(fuse):
    model = LSTM(2, 4, rng=np.random.default_rng(0))
    rng = np.random.default_rng(5)
    xs, cotangent = rng.normal(size=(3, 2, 2)), rng.normal(size=(2, 4))

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return (hs[-1] * cotangent).sum()

    step = mg.compile(loss_fn, fuse=fuse)
    params = model.parameters()
    want = [g.data for g in mg.grad(loss_fn(xs), params)]
    for _ in range(2):
        got = [g.data for g in mg.grad(step(xs), params)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    return str(step.plans[-1])


@pytest.mark.parametrize("chosen", [{"rename"}, {"join"}, {"exact"}, {"join", "exact"},
                                    {"rename", "exact"}, {"rename", "join"}],
                         ids=lambda c: "+".join(sorted(c)))
def test_each_pass_switches_on_and_off_alone(chosen):
    """``fuse={...}`` picks passes by name; each changes only its own steps, and every mix
    equals eager to 1e-12."""
    text = lstm_plan(chosen)
    assert ("passes its gradient on unchanged" in text) == ("rename" in chosen)
    assert ("dZ_t1 = concat(d(Z_t1[:, 0:4])" in text) == ("join" in chosen)
    vjps = [line for line in text.splitlines() if ".vjp[" in line]
    through = [line.endswith("# through the gradient door") for line in vjps]
    assert all(through) == ("exact" not in chosen)


@pytest.mark.parametrize("fuse, error, message", [
    ("join", TypeError, "fuse must be True, False or a collection of pass names"),
    ({"join", "fast"}, ValueError,
     "no pass named 'fast'; the passes are " + ", ".join(PASSES)),
])
def test_a_wrong_fuse_is_refused(fuse, error, message):
    with pytest.raises(error, match=message):
        mg.compile(lambda x: x.sum(), fuse=fuse)


@pytest.mark.parametrize("layer", [LSTM, GRU, RNN])
def test_the_weights_pass_makes_one_gemm_per_weight_and_equals_eager(layer):
    rng = np.random.default_rng(7)
    model = layer(3, 4, rng=rng)
    xs, cotangent = rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return (hs[-1] * cotangent).sum()

    params = model.parameters()
    want = [g.data for g in mg.grad(loss_fn(xs), params)]
    step = mg.compile(loss_fn, fuse={"weights"})
    for _ in range(2):
        got = [g.data for g in mg.grad(step(xs), params)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    text = str(step.plans[-1])
    gemms = [line for line in text.splitlines() if "one GEMM for every step" in line]
    assert len(gemms) == (2 if layer is GRU else 1)  # GRU: W_x and W_h; the others: W
    assert ".vjp[1](" not in "".join(line for line in text.splitlines() if "dW" in line)


def near_misses():
    """Matmuls the weights pass must leave alone, with what each tests."""
    rng = np.random.default_rng(8)
    W = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True, name="W")
    xs = [mg.tensor(rng.normal(size=(2, 3))) for _ in range(3)]
    batched = mg.tensor(rng.normal(size=(2, 2, 3)))
    return {
        "a weight used once": lambda: (xs[0] @ W).sum(),
        "a weight computed inside (not a leaf)": lambda: sum(
            ((x @ (W * 2)) ** 2).sum() for x in xs),
        "3-D operands (a batch of matrices)": lambda: ((batched @ W) ** 2).sum() + (
            (batched @ W) * 3).sum(),
        "the weight on the left": lambda: sum(((W @ x.T) ** 2).sum() for x in xs),
    }, W


@pytest.mark.parametrize("case", list(near_misses()[0]))
def test_the_weights_pass_leaves_near_misses_alone(case):
    cases, W = near_misses()
    fn = cases[case]
    (want,) = mg.grad(fn(), [W])
    step = mg.compile(fn)
    for _ in range(2):
        (got,) = mg.grad(step(), [W])
    np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-12)
    assert "one GEMM for every step" not in str(step.plans[-1])


def test_the_weights_pass_with_a_weight_that_is_also_an_output():
    rng = np.random.default_rng(9)
    W = mg.tensor(rng.normal(size=(3, 3)), requires_grad=True, name="W")
    xs = [mg.tensor(rng.normal(size=(2, 3))) for _ in range(3)]

    def fn():
        return sum(((x @ W) ** 2).sum() for x in xs), W

    loss, same = fn()
    (want,) = mg.grad(loss + (same * 0.5).sum(), [W])
    step = mg.compile(fn)
    for _ in range(2):
        loss, same = step()
        (got,) = mg.grad(loss + (same * 0.5).sum(), [W])
    assert same is W
    np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-12)
    assert "one GEMM for every step" in str(step.plans[-1])


def test_the_weights_pass_makes_several_gemms_when_the_steps_hold_too_much(monkeypatch):
    """Past STACKED_BYTES held, a weight's steps are multiplied out and let go, so a long,
    wide unroll keeps eager's memory; the sum is the same."""
    import importlib

    monkeypatch.setattr(importlib.import_module("minigrad.compiler.steps"),
                        "STACKED_BYTES", 300)  # about two steps of this LSTM
    rng = np.random.default_rng(10)
    model = LSTM(2, 3, rng=rng)
    xs, cotangent = rng.normal(size=(7, 2, 2)), rng.normal(size=(2, 3))

    def loss_fn(xs):
        hs, _ = model.unroll(xs)
        return (hs[-1] * cotangent).sum()

    want = [g.data for g in mg.grad(loss_fn(xs), model.parameters())]
    step = mg.compile(loss_fn, fuse={"weights"})
    for _ in range(2):
        got = [g.data for g in mg.grad(step(xs), model.parameters())]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    gemms = [line for line in str(step.plans[-1]).splitlines() if "one GEMM" in line]
    assert len(gemms) >= 3 and gemms[0].lstrip().startswith("dW = stack(")
    assert all(line.lstrip().startswith("dW += stack(") for line in gemms[1:])


def test_the_summary_line_counts_the_calls_a_replay_makes():
    """Issue #37's noise-free measure: a renamed gradient and a release call nothing."""
    x = mg.tensor(np.ones(3), requires_grad=True)
    texts = []
    for fn in (lambda x: (x * 2).sum(), lambda x: (x + 2).sum()):
        step = mg.compile(fn)
        step(x).backward()
        texts.append(str(step.plans[-1]).splitlines()[0])
    assert texts[0].endswith(": 2 forward steps, 2 backward steps (4 calls)")
    assert texts[1].endswith(": 2 forward steps, 1 backward steps (3 calls)")  # add: renamed
