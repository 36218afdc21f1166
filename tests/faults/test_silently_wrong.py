"""Faults that gave a silently wrong result (issue #10, items 1-6), each pinned by a test
that failed before its fix. The property tests in ``tests/test_primitive_gradients.py``
cover item 1(b): random cotangents and negative axes for every primitive."""

import copy
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import Linear, Module, Parameter
from minigrad.nn.functional import mse_loss
from minigrad.testing import check_gradients

RNG = np.random.default_rng
# subprocesses import this checkout's packages, whatever is installed
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def leaf(*shape, seed=0, dtype=np.float64):
    return mg.tensor(RNG(seed).standard_normal(shape), dtype=dtype, requires_grad=True)


# ---- 1. gradients of the wrong layout ------------------------------------------------------

@pytest.mark.parametrize("transpose, inverse", [
    (lambda x: x.transpose(0, -1, -2), (0, 2, 1)),
    (lambda x: mg.transpose(x, (-2, -1, 0)), (2, 0, 1)),
    (lambda x: x.transpose(-1, 0, 1), (1, 2, 0)),
    (lambda x: mg.transpose(x, (-3, -2, -1)), (0, 1, 2)),
])
def test_transpose_with_negative_axes_has_the_right_gradient(transpose, inverse):
    x = leaf(2, 3, 4)
    y = transpose(x)
    cotangent = RNG(1).standard_normal(y.shape)
    (y * cotangent).sum().backward()
    np.testing.assert_array_equal(x.grad, cotangent.transpose(inverse))


def test_transpose_with_negative_axes_on_a_cube_where_only_the_layout_is_wrong():
    # every axis has size 2: a wrong inverse keeps the shape, only values move
    x = leaf(2, 2, 2)
    check_gradients(lambda x: x.transpose(0, -1, -2), x)


@pytest.mark.parametrize("vjp, shape", [
    (lambda g, y, x: g.T, (3, 2)),
    (lambda g, y, x: g.reshape(-1), (6,)),
    (lambda g, y, x: g.reshape(3, 2), (3, 2)),
    (lambda g, y, x: g[None].repeat(2, axis=0).reshape(2, 6), (2, 6)),
])
def test_the_gradient_door_refuses_a_gradient_of_another_layout(vjp, shape):
    wrong = mg.Primitive("wrong", lambda x: x * 2, vjp)
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=rf"^the VJP of wrong returned a gradient of shape "
                                           rf"{re_shape(shape)} for an input of shape \(2, 3\)$"):
        wrong(x).sum().backward()


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("gradient_shape, input_shape", [
    ((4, 2, 3), (2, 3)), ((4, 2, 3), (2, 1)), ((4, 2, 3), (1, 3)), ((4, 2, 3), ()),
    ((2, 3), (2, 3)), ((5, 1), (1,)), ((5, 0), (1,)),
])
def test_sum_to_undoes_broadcasting(gradient_shape, input_shape):
    g = RNG(0).standard_normal(gradient_shape)
    expected = g
    while expected.ndim > len(input_shape):
        expected = expected.sum(axis=0)
    expected = expected.sum(axis=tuple(i for i, n in enumerate(input_shape) if n == 1),
                            keepdims=True) if input_shape else expected
    np.testing.assert_allclose(mg.sum_to(g, input_shape), expected)


@pytest.mark.parametrize("gradient_shape, input_shape", [
    ((3, 2), (2, 3)), ((6,), (2, 3)), ((2, 3), (6,)), ((3,), (2, 3)), ((2, 3), (2, 3, 1)),
])
def test_sum_to_refuses_anything_but_broadcasting(gradient_shape, input_shape):
    with pytest.raises(ValueError, match="does not broadcast to"):
        mg.sum_to(np.ones(gradient_shape), input_shape)


# ---- 2. edge cases of single ops -----------------------------------------------------------

def test_x_to_the_zero_has_gradient_zero_even_at_zero():
    x = mg.tensor([0.0, 2.0], requires_grad=True)
    with np.errstate(all="raise"):
        (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    (g,) = mg.grad((x ** 0).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0])


@pytest.mark.parametrize("axis", [0, -1, None, ()])
@pytest.mark.parametrize("reduce", [mg.sum, mg.mean])
def test_reducing_a_zero_dimensional_tensor_over_its_axis(reduce, axis):
    # as numpy.sum and torch (a 0-d tensor has the axes 0 and -1 for reductions)
    x = mg.tensor(3.0, requires_grad=True)
    y = reduce(x, axis=axis)
    assert y.shape == () and y.item() == 3.0
    (y * 2.5).backward()
    assert x.grad.shape == () and x.grad == 2.5


@pytest.mark.parametrize("shape, axis", [((0, 3), 0), ((0, 3), None), ((2, 0), 1), ((0,), 0)])
def test_the_mean_of_nothing_is_nan_as_in_numpy(shape, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns "Mean of empty slice"
        expected = np.mean(np.zeros(shape), axis=axis)
    got = mg.mean(mg.tensor(np.zeros(shape)), axis=axis).data
    np.testing.assert_array_equal(got, expected)


def test_the_mse_of_an_empty_batch_is_nan():
    loss = mse_loss(mg.tensor(np.zeros((0, 1)), requires_grad=True), np.zeros((0, 1)))
    assert np.isnan(loss.item())


@pytest.mark.parametrize("sections", [[-2, 2], [-1], [4, 2], [-10, 10], [2, -2, -1], [0, 0]])
def test_split_at_any_points_is_numpy_split(sections):
    a = np.arange(6.0)
    pieces = mg.split(mg.tensor(a), sections)
    expected = np.split(a, sections)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, want)


# ---- 3. stale graphs: a version counter -------------------------------------------------

def test_backward_through_data_an_optimizer_step_changed_refuses():
    W = Parameter([1.0], name="W")
    l1 = (W * W).sum()
    l2 = (W * W * W).sum()
    l1.backward()
    mg.optim.SGD([W], lr=0.5).step()
    with pytest.raises(RuntimeError, match=r"^backward: mul saved its input 'W' of shape "
                                           r"\(1,\) .* modified in place after it was used"):
        l2.backward()


@pytest.mark.parametrize("modify", [
    lambda w: mg.optim.Adam([w], lr=0.1).step(),
    lambda w: mg.optim.SGD([w], lr=0.1, momentum=0.9).step(),
    lambda w: Holder(w).load_state_dict({"w": np.array([5.0])}),
])
def test_every_in_place_update_of_minigrad_bumps_the_version(modify):
    w = Parameter([2.0])
    w.grad = np.array([1.0])
    loss = mg.tanh(w * 3.0).sum()
    before = w._version
    modify(w)
    assert w._version > before
    with pytest.raises(RuntimeError, match="modified in place after it was used"):
        loss.backward()


class Holder(Module):
    def __init__(self, w):
        self.w = w


def test_graphs_built_after_the_update_and_ops_that_saved_nothing_still_work():
    W = Parameter([1.0])
    shifted = (W + 1.0).sum()  # add saves no input: its gradient does not depend on W
    (W * W).sum().backward()
    mg.optim.SGD([W], lr=0.5).step()  # W = 0
    W.grad = None
    shifted.backward()
    np.testing.assert_array_equal(W.grad, [1.0])
    W.grad = None
    (W * W * W + W).sum().backward()  # recomputed from the new data: 3 * 0 + 1
    np.testing.assert_array_equal(W.grad, [1.0])


# ---- 4. optimizers and clipping ------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda w: mg.optim.SGD(w, lr=0.1), lambda w: mg.optim.Adam(w),
])
def test_an_optimizer_refuses_a_single_parameter(make):
    with pytest.raises(TypeError, match=r"params must be an iterable of parameters, such as "
                                        r"model.parameters\(\) or \[w\], got a single "
                                        r"Parameter$"):
        make(Parameter(np.ones((3, 2))))


@pytest.mark.parametrize("make", [
    lambda ps: mg.optim.SGD(ps, lr=0.1), lambda ps: mg.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: mg.optim.Adam(ps, lr=0.1),
])
def test_a_repeated_parameter_is_stepped_once(make):
    once, twice = Parameter([1.0, -1.0]), Parameter([1.0, -1.0])
    optimizers = make([once]), make([twice, twice, twice])
    for _ in range(3):
        for p, opt in zip((once, twice), optimizers):
            p.grad = np.array([0.5, 2.0])
            opt.step()
    np.testing.assert_array_equal(twice.data, once.data)


def test_clip_grad_norm_counts_a_repeated_parameter_once():
    p = Parameter([0.0, 0.0])
    p.grad = np.array([3.0, 4.0])
    assert mg.optim.clip_grad_norm([p, p], 10.0) == pytest.approx(5.0)
    assert mg.optim.clip_grad_norm(p, 10.0) == pytest.approx(5.0)  # one tensor, as torch


def test_adam_counts_steps_per_parameter_as_torch_does():
    early, late = Parameter([1.0]), Parameter([1.0])
    opt = mg.optim.Adam([early, late], lr=0.1)
    for step in range(3):
        early.grad = np.array([0.5])
        late.grad = np.array([0.5]) if step == 2 else None
        opt.step()
    # late's first step: m_hat = g, v_hat = g**2, so it moves by lr (as torch.optim.Adam)
    np.testing.assert_allclose(late.data, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8)], rtol=1e-12)
    assert opt.steps == [3, 1]


@pytest.mark.parametrize("call, message", [
    (lambda p: mg.optim.SGD(p, lr=float("nan")), "^SGD: lr must be a number >= 0, got nan$"),
    (lambda p: mg.optim.SGD(p, lr=-0.1), r"^SGD: lr must be a number >= 0, got -0.1$"),
    (lambda p: mg.optim.SGD(p, lr=None), "^SGD: lr must be a number >= 0, got None$"),
    (lambda p: mg.optim.SGD(p, lr=float("inf")), "^SGD: lr must be a number >= 0, got inf$"),
    (lambda p: mg.optim.SGD(p, lr=0.1, momentum=-0.5), "^SGD: momentum must be a number >= 0"),
    (lambda p: mg.optim.Adam(p, lr=float("nan")), "^Adam: lr must be a number >= 0, got nan$"),
    (lambda p: mg.optim.Adam(p, betas=(1.0, 0.999)),
     r"^Adam: betas\[0\] must be a number in \[0, 1\), got 1.0$"),
    (lambda p: mg.optim.Adam(p, betas=(0.9, -0.1)), r"^Adam: betas\[1\] must be a number in"),
    (lambda p: mg.optim.Adam(p, betas=(0.9,)), r"^Adam: betas must be a pair"),
    (lambda p: mg.optim.Adam(p, eps=-1e-8), "^Adam: eps must be a number >= 0, got -1e-08$"),
    (lambda p: mg.optim.clip_grad_norm(p, -1.0), "^clip_grad_norm: max_norm must be a number "
                                                 r">= 0 \(inf allowed\), got -1.0$"),
    (lambda p: mg.optim.clip_grad_norm(p, float("nan")), "^clip_grad_norm: max_norm must be"),
])
def test_bad_hyperparameters_are_refused_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call([Parameter([1.0])])


def test_clip_grad_norm_with_an_infinite_limit_only_measures():
    p = Parameter([0.0, 0.0])
    p.grad = np.array([3.0, 4.0])
    assert mg.optim.clip_grad_norm([p], float("inf")) == pytest.approx(5.0)
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])


# ---- 5. gradcheck, weak NumPy scalars, truth values, threads ---------------------------

def test_gradcheck_fails_on_a_nan_gradient():
    nan_vjp = mg.Primitive("nan_vjp", np.sin, lambda g, y, x: g * np.nan)
    with pytest.raises(AssertionError, match=r"input 0 \(shape \(2,\)\): 2 of 2 elements "
                                             r"differ; .* analytic nan"):
        mg.gradcheck(nan_vjp, mg.tensor([0.5, 1.0], requires_grad=True))
    with pytest.raises(AssertionError, match="analytic nan"):
        check_gradients(nan_vjp, mg.tensor([0.5, 1.0], requires_grad=True))


def test_gradcheck_fails_on_a_function_with_no_outputs():
    with pytest.raises(TypeError, match="^gradcheck: fn returned no tensors"):
        mg.gradcheck(lambda x: (), mg.tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.int64(2), np.float32(2.0),
                                    np.float16(2.0), np.uint8(2)])
@pytest.mark.parametrize("expression", [
    lambda x, s: x * s, lambda x, s: s * x, lambda x, s: x + s, lambda x, s: s - x,
    lambda x, s: x / s, lambda x, s: s / x, lambda x, s: x ** s, lambda x, s: mg.mul(x, s),
])
def test_numpy_scalars_are_weak_like_python_numbers(expression, scalar):
    x = mg.tensor([1.0, 3.0], dtype=np.float32, requires_grad=True)
    y = expression(x, scalar)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("values, truth", [
    ([0.0], False), (0.0, False), ([1.5], True), (-2.0, True), ([[0.0]], False),
])
def test_truth_values_follow_numpy(values, truth):
    assert bool(mg.tensor(values)) is truth is bool(np.array(values))


@pytest.mark.parametrize("values", [[1.0, 2.0], []])
def test_the_truth_of_several_or_no_elements_is_ambiguous_as_in_numpy(values):
    with pytest.raises(ValueError, match="ambiguous"):
        bool(np.array(values))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.tensor(values))


def _interleaved(block, check):
    """Threads A and B each run ``block`` as A enters, B enters, A leaves, B leaves; then
    ``check`` runs in each thread and in the caller."""
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def run(me):
        try:
            barrier.wait()
            if me == "B":
                barrier.wait()  # A is inside
            with block():
                if me == "A":
                    barrier.wait()  # let B enter
                    barrier.wait()  # B is inside
                else:
                    barrier.wait()  # tell A that B is inside
                    barrier.wait()  # wait until A has left
                results[me + " inside"] = check()
            if me == "A":
                barrier.wait()
            results[me + " after"] = check()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(me,)) for me in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    results["caller"] = check()
    return results


def test_interleaved_no_grad_blocks_in_two_threads_leave_recording_on():
    results = _interleaved(mg.no_grad, mg.is_grad_enabled)
    assert results == {"A inside": False, "B inside": False, "A after": True,
                       "B after": True, "caller": True}


def test_interleaved_scopes_in_two_threads_each_see_their_own():
    results = _interleaved(lambda: mg.scope("t=1"), mg.current_scope)
    assert results == {"A inside": "t=1", "B inside": "t=1", "A after": None,
                       "B after": None, "caller": None}


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    x = mg.tensor([1.0], requires_grad=True)
    recorded = []
    with mg.no_grad():
        thread = threading.Thread(target=lambda: recorded.append((x * 2).requires_grad))
        thread.start()
        thread.join()
        assert not (x * 2).requires_grad
    assert recorded == [True]


# ---- 6. modules that refer to themselves --------------------------------------------------

def test_a_module_that_refers_to_itself_does_not_hang(tmp_path):
    # in a subprocess with a time limit: before the fix each of these looped for ever
    script = textwrap.dedent(f"""
        import minigrad as mg
        from minigrad.nn import Linear, Module

        class Parent(Module):
            def __init__(self):
                self.child = Linear(2, 3)
                self.child.parent = self     # through a child
                self.me = self               # directly
                self.blocks = [self, {{"again": self.child}}]

        model = Parent()
        print([name for name, _ in model.named_parameters()])
        print(sorted(model.state_dict()))
        print(repr(model))
        mg.save(model, {str(tmp_path / "m.npz")!r})
        mg.load(Parent(), {str(tmp_path / "m.npz")!r})
        model.zero_grad()
        print("done")
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=60, env=CHECKOUT_ENV)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "['child.W', 'child.b']" and lines[-1] == "done"


def test_a_module_visited_twice_lists_its_parameters_under_the_first_name():
    class Twice(Module):
        def __init__(self):
            self.first = Linear(2, 2)
            self.second = self.first
    assert list(Twice().state_dict()) == ["first.W", "first.b"]


def test_deep_copy_of_a_module_keeps_sharing_inside_it():
    class Tied(Module):
        def __init__(self):
            self.a = Linear(2, 2)
            self.b = self.a
            self.a.owner = self
    model = copy.deepcopy(Tied())
    assert model.b is model.a and model.a.owner is model
