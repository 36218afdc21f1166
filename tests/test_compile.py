"""mg.compile: a compiled function returns what the eager one returns, values and
gradients, call after call; it sees its captured weights change; it traces again for a
new signature; and every eager error survives."""

import importlib
import weakref

import numpy as np
import pytest

import minigrad as mg
from lstm import GRU, LSTM
from minigrad.autograd import FREED_GRAPH
from minigrad.tensor import mark_modified

# every test runs with mg.compile's passes on and off (the fusion fixture)
pytestmark = pytest.mark.usefixtures("fusion")

# the module (mg.compile, the attribute, is the function)
compile_module = importlib.import_module("minigrad.compiler.lower")


def rng():
    return np.random.default_rng(0)


def grads_of(tensors):
    return [None if t.grad is None else t.grad.copy() for t in tensors]


def clear(tensors):
    for t in tensors:
        t.grad = None


def assert_same(got, expected, tol=1e-12):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if e is None:
            assert g is None
            continue
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def lstm_loss(model):
    def loss(xs, h0, c0, target):
        hs, (h, c) = model.unroll(xs, (h0, c0))
        return ((hs[-1] - target) ** 2).mean(), c
    return loss


@pytest.mark.parametrize("schedule", ["generated", "interpreted"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_unrolls_agree_with_eager_over_several_calls_and_optimizer_steps(cell, schedule,
                                                                         monkeypatch):
    if schedule == "interpreted":  # what runs schedules too long to compile quickly
        monkeypatch.setattr(compile_module, "GENERATED_STEPS_LIMIT", 0)
    r = rng()
    model = (LSTM(3, 5, num_layers=2, dtype=np.float64, rng=r) if cell == "lstm"
             else GRU(3, 5, num_layers=2, dtype=np.float64, rng=r))
    xs = mg.tensor(r.standard_normal((6, 4, 3)), requires_grad=True)
    h0 = mg.tensor(r.standard_normal((2, 4, 5)), requires_grad=True)
    c0 = mg.tensor(r.standard_normal((2, 4, 5)), requires_grad=True)
    target = mg.tensor(r.standard_normal((4, 5)))
    if cell == "lstm":
        fn = lstm_loss(model)
        args = (xs, h0, c0, target)
    else:
        def fn(xs, h0, target):
            hs, h_n = model.unroll(xs, h0)
            return ((hs[-1] - target) ** 2).mean(), h_n
        args = (xs, h0, target)
    compiled = mg.compile(fn, verify=2)
    leaves = [*model.parameters(), xs, h0, c0]
    optimizer = mg.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(4):
        seed = r.standard_normal(args[1].shape if cell == "gru" else (2, 4, 5))
        results = []
        for f in (fn, compiled):
            clear(leaves)
            loss, state = f(*args)
            (loss + (state * mg.tensor(seed)).sum()).backward()
            results.append(([loss.data.copy(), state.data.copy()], grads_of(leaves)))
        (eager_values, eager_grads), (values, grads) = results
        assert_same(values, eager_values)
        assert_same(grads, eager_grads)
        optimizer.step()  # in place: the next call must read the new weights
        target.data = target.data + 0.1  # rebound: read too
    assert compiled.traces == 1
    (plan,) = compiled.plans.values()
    interpreted = plan.groups[0].backward.__qualname__ == compile_module.interpret.__qualname__ + (
        ".<locals>.replay")
    assert interpreted == (schedule == "interpreted")


def test_float32_stays_float32():
    r = rng()
    model = LSTM(3, 4, dtype=np.float32, rng=r)
    xs = r.standard_normal((5, 2, 3)).astype(np.float32)  # an array: passed as a tensor
    step = mg.compile(lambda xs: (model.unroll(xs)[0][-1] ** 2).sum())
    loss = step(xs)
    loss.backward()
    assert loss.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_captured_weights_are_read_at_every_call():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    frozen = mg.tensor([3.0, 4.0])
    step = mg.compile(lambda x: (x * w * (frozen * 2)).sum())  # frozen * 2 is recomputed
    x = mg.tensor([1.0, 1.0])
    assert step(x).item() == 22.0
    w.data[...] = [2.0, 2.0]
    frozen.data = np.array([1.0, 1.0])
    assert step(x).item() == 8.0
    assert step.traces == 1


def test_new_shapes_dtypes_and_requires_grad_trace_again_and_old_ones_are_cached():
    w = mg.tensor(np.ones((3, 2)), requires_grad=True)
    step = mg.compile(lambda x: (x @ w).sum())
    step(mg.tensor(np.ones((4, 3))))
    step(mg.tensor(np.ones((5, 3))))
    assert step.traces == 2
    step(mg.tensor(np.ones((4, 3))))
    assert step.traces == 2
    step(mg.tensor(np.ones((4, 3)), requires_grad=True))
    assert step.traces == 3
    w.data = w.data.astype(np.float32)  # a captured tensor changed dtype
    assert step(mg.tensor(np.ones((4, 3)), dtype=np.float32)).dtype == np.float32
    assert step.traces == 4


def test_python_arguments_are_part_of_the_signature():
    step = mg.compile(lambda x, power: (x ** power).sum())
    x = mg.tensor([2.0])
    assert step(x, 2).item() == 4.0
    assert step(x, 3).item() == 8.0
    assert step(x, power=2).item() == 4.0
    assert step.traces == 3


def test_tuple_list_and_dict_outputs_and_one_unused_output():
    r = rng()
    w = mg.tensor(r.standard_normal((3, 3)), requires_grad=True)

    def fn(x):
        y = mg.tanh(x @ w)
        return {"y": y, "parts": [y.sum(), (y * y).sum()], "x": x}

    step = mg.compile(fn)
    x = mg.tensor(r.standard_normal((2, 3)), requires_grad=True)
    out = step(x)
    assert set(out) == {"y", "parts", "x"} and out["x"] is x
    out["parts"][1].backward()  # only one of three outputs gets a gradient
    got = [w.grad.copy(), x.grad.copy()]
    clear([w, x])
    fn(x)["parts"][1].backward()
    assert_same(got, [w.grad, x.grad])


def test_no_grad_runs_the_forward_only_and_records_nothing():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    step = mg.compile(lambda x: mg.tanh(x * w).sum())
    x = mg.tensor([0.5, 0.25], requires_grad=True)
    with mg.no_grad():
        y = step(x)
    assert not y.requires_grad and y.is_leaf
    assert y.item() == pytest.approx(np.tanh([0.5, 0.5]).sum())
    y = step(x)  # the same plan records again with grad on
    assert y.requires_grad and y.op == "compiled <lambda>"


def test_bad_input_raises_the_eager_error():
    w = mg.tensor(np.ones((3, 2)), requires_grad=True)
    fn = lambda x: (x @ w).sum()  # noqa: E731
    step = mg.compile(fn)
    step(mg.tensor(np.ones((4, 3))))
    bad = mg.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError) as eager:
        fn(bad)
    with pytest.raises(ValueError) as compiled:
        step(bad)
    assert str(compiled.value) == str(eager.value)


def test_a_second_backward_raises_the_eager_error_and_retain_graph_allows_it():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    step = mg.compile(lambda x: mg.tanh(x * w).sum())
    y = step(mg.tensor([0.5, 0.25]))
    y.backward(retain_graph=True)
    first = w.grad.copy()
    y.backward()
    np.testing.assert_allclose(w.grad, 2 * first)
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()
    assert FREED_GRAPH.startswith("backward: this part of the graph was already freed")


def test_a_second_backward_through_another_output_raises_the_eager_error():
    # the outputs share the node x * w, which the first backward frees (as eager does;
    # outputs on separate subgraphs: tests/compile/test_trust_tools.py)
    w = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x):
        h = x * w
        return mg.tanh(h).sum(), h.sum()

    a, b = mg.compile(fn)(mg.tensor([1.0, 2.0]))
    a.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        b.backward()


def test_create_graph_through_a_compiled_call_raises_a_clear_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.compile(lambda x: (x ** 3).sum())(x)
    with pytest.raises(RuntimeError, match="create_graph=True cannot differentiate through "
                                           "compiled <lambda>"):
        mg.grad(y, x, create_graph=True)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_an_in_place_change_before_backward_raises_the_eager_error(requires_grad):
    w = mg.tensor([1.0, 2.0], requires_grad=requires_grad, name="w")
    x = mg.tensor([0.5, 0.25], requires_grad=True)
    step = mg.compile(lambda x: (x * w).sum())
    y = step(x)
    w.data += 1.0
    mark_modified(w)
    with pytest.raises(RuntimeError, match="saved its input 'w' of shape \\(2,\\) to compute"):
        y.backward()


def test_under_detect_anomaly_the_function_runs_eagerly_and_names_the_op():
    step = mg.compile(lambda x: mg.log(x).sum())
    step(mg.tensor([1.0]))
    with mg.detect_anomaly(), np.errstate(invalid="ignore"), \
            pytest.raises(FloatingPointError, match="log: the forward pass produced NaN"):
        step(mg.tensor([-1.0]))


@pytest.mark.parametrize("body, what", [
    (lambda x: x * float(x.sum()), "t.item\\(\\) \\(or float\\(t\\)\\)"),
    (lambda x: x * x.sum().item(), "t.item\\(\\) \\(or float\\(t\\)\\)"),
    (lambda x: x if x.sum() > 0 else -x, "a comparison \\(>\\)"),
    (lambda x: x if x.sum() else -x, "bool\\(t\\) \\(an if or while on a tensor\\)"),
    (lambda x: x * np.asarray(x), "np.asarray\\(t\\)"),
    (lambda x: x[mg.argmax(x)], "argmax"),
    (lambda x: mg.tensor(x) * x, "tensor\\(t\\), which copies t's data,"),
    (lambda x: x * len(f"{x.sum():.2f}"), "formatting a tensor"),
])
def test_reading_a_tensor_value_while_tracing_raises_a_tracing_error(body, what):
    with pytest.raises(mg.TracingError, match="mg.compile: " + what + " reads a tensor's "
                                              "value while the function is traced"):
        mg.compile(body)(mg.tensor([1.0, 2.0], requires_grad=True))
    body(mg.tensor([1.0, 2.0]))  # eagerly, the same function is fine


def test_a_function_must_return_tensors():
    with pytest.raises(mg.TracingError, match="must return a Tensor, or a tuple, list or "
                                              "dict of Tensors; it returned a float"):
        mg.compile(lambda x: 1.0)(mg.tensor([1.0]))


def test_bad_arguments_of_compile_itself():
    with pytest.raises(TypeError, match="mg.compile: expected a function, got int"):
        mg.compile(3)
    with pytest.raises(ValueError, match="cache_size must be a positive integer, got 0"):
        mg.compile(lambda x: x, cache_size=0)
    with pytest.raises(TypeError, match="cannot pass an argument of type set"):
        mg.compile(lambda x, s: x)(mg.tensor([1.0]), {1})


def test_detach_and_no_grad_inside_the_function_stop_the_gradient_but_not_the_value():
    w = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x):
        with mg.no_grad():
            scale = (x * w).sum()
        return (x * w.detach()).sum() * scale + (x * w).sum()

    step = mg.compile(fn)
    for value in (1.0, 3.0):
        x = mg.tensor([value, 1.0], requires_grad=True)
        clear([w])
        fn(x).backward()
        eager = [w.grad.copy(), x.grad.copy()]
        clear([w, x])
        y = step(x)
        y.backward()
        assert y.item() == fn(x).item()
        assert_same([w.grad, x.grad], eager)


def test_a_compiled_function_called_inside_another_is_traced_into_it():
    w = mg.tensor([2.0], requires_grad=True)
    inner = mg.compile(lambda x: x * w)
    outer = mg.compile(lambda x: inner(x).sum() + 1.0)
    y = outer(mg.tensor([1.0, 2.0]))
    y.backward()
    assert y.item() == 7.0 and w.grad.tolist() == [3.0]
    assert inner.traces == 0 and outer.traces == 1


def test_decorator_with_arguments_and_repr():
    @mg.compile(cache_size=1)
    def step(x):
        return x * 2.0

    step(mg.tensor([1.0]))
    with pytest.warns(RuntimeWarning, match="past its cache_size of 1"):
        step(mg.tensor([1.0, 2.0]))
    assert len(step.plans) == 1 and step.__name__ == "step"
    assert repr(step).startswith("<minigrad compiled 'test_decorator")


def test_saved_arrays_are_released_as_the_backward_replay_passes():
    r = rng()
    w = mg.tensor(r.standard_normal((64, 64)), requires_grad=True)
    step = mg.compile(lambda x: mg.tanh(mg.tanh(x @ w) @ w).sum())
    y = step(mg.tensor(r.standard_normal((64, 64))))
    tape = y._node.saved[0]
    plan = next(iter(step.plans.values()))
    kept = [s for s in plan.node_slots if tape.buf[s] is not None]
    assert kept  # the tanh outputs and the matmuls' inputs, saved for backward
    y.backward()
    assert all(tape.buf[s] is None for s in plan.node_slots - set(plan.output_slots))
    assert y._node is None or y._node.saved is None


def test_the_graph_node_keeps_the_inputs_alive_only_while_needed():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([1.0, 1.0], requires_grad=True)
    y = mg.compile(lambda x: (x * w).sum())(x)
    node = weakref.ref(y._node)
    y.backward()
    del y
    assert node() is None


def test_a_gradient_passed_on_unchanged_to_two_inputs_stays_right_when_one_grows():
    # n's gradient is a sum (n is used twice), passed on as is to a and b; then a gets a
    # second gradient: adding it must not change b's
    def fn(x, y):
        a, b = mg.tanh(x), mg.tanh(y)
        c = a * 3.0
        n = a + b
        return (n * n + n + c).sum()

    x, y = mg.tensor([0.5, -1.0], requires_grad=True), mg.tensor([2.0, 0.1], requires_grad=True)
    fn(x, y).backward()
    eager = [x.grad.copy(), y.grad.copy()]
    clear([x, y])
    mg.compile(fn)(x, y).backward()
    assert_same([x.grad, y.grad], eager)
