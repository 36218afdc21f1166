"""Tools to trust the compiled path (issue #19, items 9-11): ``verify=N`` checks replays
against eager, ``explain()`` says why a function traced again, and what a traced
function cannot do (backward inside it) raises a TracingError that says what to do."""

import importlib
import random
import warnings

import numpy as np
import pytest

import minigrad as mg
from lstm import GRU, LSTM

# every test runs with mg.compile's passes on and off (the fusion fixture)
pytestmark = pytest.mark.usefixtures("fusion")

# ---- 9. verify=N ----------------------------------------------------------------------------

@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_verify_passes_for_the_unrolled_cells_and_counts_its_checks(cell):
    r = np.random.default_rng(0)
    model = cell(3, 4, num_layers=2, dtype=np.float64, rng=r)
    xs = mg.tensor(r.standard_normal((5, 2, 3)))

    def loss(xs):
        ys, _ = model(xs)
        return (ys[-1] ** 2).mean()

    step = mg.compile(loss, verify=2)
    for _ in range(4):
        step(xs).backward()
    assert step.verified == 2


def test_verify_names_the_output_that_differs_and_by_how_much():
    def noisy(x):
        return x * random.random(), x * 2  # a random draw is frozen at trace time

    step = mg.compile(noisy, verify=3)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    random.seed(0)
    step(x)  # the trace itself is eager: nothing to compare
    with pytest.raises(mg.CompileMismatchError,
                       match=r"output 0 .*differs from eager at index .*allowed: "):
        step(x)


def test_a_numpy_array_read_inside_that_changed_is_traced_again():
    scale = np.array([1.0])

    def fn(x):
        return x * 2 + mg.stack([x[0] * scale[0], x[1]])  # the array's content is guarded

    step = mg.compile(fn, verify=1)
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    step(x)
    scale[0] = 5.0
    np.testing.assert_array_equal(step(x).data, fn(x).data)
    assert step.traces == 2 and "closure variable scale" in step.explain()


def test_verify_catches_a_vjp_that_a_replay_gets_wrong(monkeypatch):
    """A mutation: the plan's backward returns twice the gradient. Outputs agree, so only
    the gradient check can see it."""
    compile_module = importlib.import_module("minigrad.compiler.plan")
    original = compile_module.Plan._run_backward

    def doubled(self, *args, **kwargs):
        return [2 * g for g in original(self, *args, **kwargs)]

    w = mg.tensor([1.0, -2.0], requires_grad=True, name="w")
    step = mg.compile(lambda x: (mg.tanh(x * w)).sum(), verify=1)
    step(mg.tensor([0.5, 0.5]))
    monkeypatch.setattr(compile_module.Plan, "_run_backward", doubled)
    with pytest.raises(mg.CompileMismatchError, match=r"gradient of 'w'"):
        step(mg.tensor([0.5, 0.5]))


def test_verify_leaves_grads_and_the_graph_as_an_unverified_call_does():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    plain, checked = mg.compile(lambda x: (x * w).sum()), mg.compile(lambda x: (x * w).sum(),
                                                                          verify=5)
    x = mg.tensor([3.0, 4.0])
    grads = []
    for step in (plain, checked):
        w.grad = None
        for _ in range(3):
            step(x).backward()
        grads.append(w.grad.copy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_verify_argument_is_checked():
    with pytest.raises(ValueError, match="verify must be a non-negative integer"):
        mg.compile(lambda x: x, verify=-1)


# ---- 10. explain() and retrace storms -------------------------------------------------------

def test_explain_lists_every_signature_and_what_changed():
    step = mg.compile(lambda x, s: x * s)
    step(mg.tensor([1.0, 2.0]), 1.0)
    step(mg.tensor([1.0, 2.0, 3.0]), 1.0)
    step(mg.tensor([1.0, 2.0, 3.0], dtype=np.float32), 1.0)
    step(mg.tensor([1.0, 2.0, 3.0], dtype=np.float32, requires_grad=True), 1.0)
    step(mg.tensor([1.0, 2.0, 3.0], dtype=np.float32, requires_grad=True), -0.0)
    text = step.explain()
    assert text.count("trace ") == 5
    for words in ("argument 0: shape (2,) -> (3,)", "argument 0: dtype float64 -> float32",
                  "argument 0: requires_grad False -> True", "argument 1: value 1.0 -> -0.0"):
        assert words in text, text


def test_retracing_past_cache_size_warns_once_with_the_reason():
    step = mg.compile(lambda x: x * 2, cache_size=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 7):
            step(mg.tensor(np.ones(n)))
    storm = [w for w in caught if "cache_size" in str(w.message)]
    assert len(storm) == 1
    assert "argument 0: shape (2,) -> (3,)" in str(storm[0].message)


# ---- 11. backward inside a traced function; outputs on separate subgraphs -------------------

@pytest.mark.parametrize("inside", [
    lambda x: x.sum().backward(),
    lambda x: mg.grad((x * x).sum(), x),
])
def test_backward_or_grad_inside_a_compiled_function_raises_a_tracing_error(inside):
    def fn(x):
        inside(x)
        return x * 2

    with pytest.raises(mg.TracingError, match="inside a compiled function.*outside"):
        mg.compile(fn)(mg.tensor([1.0, 2.0], requires_grad=True))


def test_two_outputs_on_separate_subgraphs_backward_one_after_the_other_as_eager():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    v = mg.tensor([0.5, -1.0], requires_grad=True)
    fn = lambda x: (mg.tanh(x * w).sum(), (x * v).sum())  # noqa: E731
    x = mg.tensor([1.0, 2.0])
    grads = []
    for f in (fn, mg.compile(fn)):
        for _ in range(2):  # the second call replays
            w.grad = v.grad = None
            a, b = f(x)
            a.backward()
            assert v.grad is None  # b's subgraph is untouched
            b.backward()
            grads.append((w.grad.copy(), v.grad.copy()))
            with pytest.raises(RuntimeError, match="already freed"):
                a.backward()
    for got in grads[2:]:
        np.testing.assert_allclose(got[0], grads[0][0], rtol=1e-12)
        np.testing.assert_allclose(got[1], grads[0][1], rtol=1e-12)


def test_two_outputs_sharing_a_subgraph_raise_the_eager_error_on_the_second_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x):
        h = mg.tanh(x * w)
        return h.sum(), (h * h).sum()

    for f in (fn, mg.compile(fn)):
        for _ in range(2):
            a, b = f(mg.tensor([1.0, 2.0]))
            a.backward()
            with pytest.raises(RuntimeError, match="already freed"):
                b.backward()
