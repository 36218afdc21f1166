"""The backward sweep: accumulation, graph release, deep graphs, mg.grad, switches."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg


def test_gradients_accumulate_across_backward_calls():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_shared_input_gets_summed_gradient():
    x = mg.tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0])


def test_explicit_upstream_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])
    x.grad = None
    (x * 2).backward(mg.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0])


def test_only_required_inputs_get_gradients():
    x = mg.tensor([1.0], requires_grad=True)
    c = mg.tensor([2.0])
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_retain_grad_keeps_intermediate_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)


def test_a_10000_step_tanh_recurrence_backpropagates_and_is_freed():
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((4, 4)) * 0.3, requires_grad=True)
    h = mg.tensor(np.zeros((1, 4)))
    watched = []
    for t in range(10_000):
        h = mg.tanh(h @ w + 0.1)
        if t % 500 == 0:
            watched.append(weakref.ref(h._node))
    loss = h.sum()
    del h
    loss.backward()
    gc.collect()
    assert np.isfinite(w.grad).all() and np.abs(w.grad).sum() > 0
    assert all(ref() is None for ref in watched), "graph nodes outlived backward"


def test_deep_graph_teardown_without_backward_does_not_recurse():
    y = mg.tensor([1.0], requires_grad=True)
    for _ in range(100_000):
        y = y * 1.0
    del y  # CPython's trashcan unwinds the nested references iteratively


def test_no_grad_records_nothing():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.op is None
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = mg.tensor([2.0], requires_grad=True)
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0])


def test_grad_returns_gradients_without_touching_dot_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    gx, gy = mg.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy.data, [1.0, 2.0])
    assert x.grad is None and y.grad is None and not gx.requires_grad


def test_grad_of_an_intermediate_tensor_and_several_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out1, out2 = (h * h).sum(), h.sum()
    (gh,) = mg.grad([out1, out2], h)
    np.testing.assert_array_equal(gh.data, 2 * h.data + 1)


def test_grad_with_grad_outputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = mg.grad(x * 2, x, grad_outputs=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(gx.data, [2.0, -2.0])


def test_grad_allow_unused():
    x, z = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    assert mg.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_detect_anomaly_names_the_forward_op():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match="^log: the forward pass produced NaN or inf"):
            mg.log(x)


def test_detect_anomaly_names_the_backward_op_and_scope():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.scope("t=1"):
        y = (x ** 0.5).sum()  # finite forward, infinite derivative at 0
    with mg.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(FloatingPointError, match=r"^pow: the backward pass .* \(scope t=1\)"):
            y.backward()


def test_scopes_nest_and_restore():
    with mg.scope("a") as outer:
        with mg.scope("b") as inner:
            assert mg.current_scope() == "a/b" == inner
        assert mg.current_scope() == "a" == outer
    assert mg.current_scope() is None


def test_a_new_primitive_is_a_few_lines():
    # forward and VJP side by side; broadcasting, dtype and graph come from the engine
    cube = mg.Primitive("cube", lambda x: x * x * x, lambda g, y, x: 3 * g * x * x)
    x = mg.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    assert cube(x).op == "cube"
    assert mg.gradcheck(lambda x: cube(x) * 2, x)
    (d,) = mg.grad(cube(x).sum(), x, create_graph=True)  # the VJP runs on Tensors too
    (d2,) = mg.grad(d.sum(), x)
    np.testing.assert_allclose(d2.data, 6 * x.data)


def test_topological_order_lists_outputs_first():
    x = mg.tensor([1.0], requires_grad=True)
    a = x * 2
    b = a + x
    order = mg.topological_order([b])  # graph vertices: nodes, and leaf tensors
    assert [v.op for v in order] == ["add", "mul", None] and order[-1] is x
    assert [v.shape for v in order] == [(1,), (1,), (1,)]


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_of_matmul_gradients_along_any_axis(axis):
    # the matmul's gradient reaches concat unevaluated; every slice of it must be right
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((6, 4) if axis else (3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda a, b, w: mg.tanh(mg.concat([a, b], axis=axis) @ w), a, b, w)


def test_lazy_gradients_are_exact_where_they_meet():
    # several slices and products accumulate into one tensor's gradient
    rng = np.random.default_rng(1)
    z = mg.tensor(rng.standard_normal((3, 8)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert mg.gradcheck(lambda z, w: sum((p @ w for p in mg.split(z, 2)), start=0) * z[:, :5],
                        z, w)


def test_data_no_backward_needs_is_released_with_its_tensor():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3)))
    w = mg.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    product = x @ w                    # add's VJP needs neither input: not saved
    product_data = weakref.ref(product.data)
    z = product + 1.0
    gate = mg.sigmoid(z)               # sigmoid's VJP needs its output, not its input
    z_data, gate_data = weakref.ref(z.data), weakref.ref(gate.data)
    loss = (gate * gate).sum()         # mul's VJP needs its inputs: gate is saved
    del product, z, gate
    gc.collect()
    assert product_data() is None and z_data() is None
    assert gate_data() is not None
    loss.backward()
    gc.collect()
    assert gate_data() is None
    assert mg.gradcheck(lambda w: (mg.sigmoid(x @ w + 1.0) ** 2).sum(), w)


def test_a_primitive_saves_everything_unless_it_says_otherwise():
    keeps = mg.Primitive("keeps", np.sin, lambda g, y, x: g * np.cos(x))
    assert keeps.saves_inputs and keeps.saves_output
    with pytest.raises(ValueError, match="saves must be 'inputs', 'output', 'both' or 'none'"):
        mg.Primitive("bad", np.sin, lambda g, y, x: g, saves="some")


def test_a_sum_s_first_term_shared_with_another_gradient_is_never_written():
    """``a + b`` passes one array to both; ``a``'s second term makes its sum a new array
    (one add), and ``b``'s gradient stays that array's value."""
    rng = np.random.default_rng(0)
    a, b = (mg.tensor(rng.normal(size=3), requires_grad=True) for _ in range(2))
    c, d = rng.normal(size=3), rng.normal(size=3)
    (((a + b) * c).sum() + (a * d).sum()).backward()
    np.testing.assert_allclose(b.grad, c, rtol=1e-15)
    np.testing.assert_allclose(a.grad, c + d, rtol=1e-15)


def test_a_0d_leaf_used_three_times_gets_the_sum_of_all_three():
    """Regression: a sum of 0-d arrays is a NumPy scalar, which ``+=`` does not update."""
    a = mg.tensor(0.0, requires_grad=True)
    ((a + (a + a)) * -1.5).backward()
    assert a.grad == -4.5
