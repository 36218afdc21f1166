"""Silently wrong results found by the second outside pass (issue #19, items 5-8 and 19),
each pinned by a test that failed before its fix."""

import warnings
import zipfile

import numpy as np
import pytest

import minigrad as mg
from lstm import RNN
from lstm.analysis import gradient_flow
from minigrad.nn import Module, Parameter
from minigrad.norms import l2

RNG = np.random.default_rng


class Named(Module):
    def __init__(self, names, seed=0):
        super().__init__()
        self.p = {n: Parameter(RNG(seed + k).standard_normal(2)) for k, n in enumerate(names)}


# ---- 5. checkpoints -------------------------------------------------------------------------

@pytest.mark.parametrize("names", [("a", "a.npy"), ("a.npy", "a"), ("x.npy.npy", "x.npy")])
def test_names_that_look_like_member_file_names_load_into_their_own_parameters(tmp_path, names):
    saved, loaded = Named(names, seed=0), Named(names, seed=10)
    mg.save(saved, tmp_path / "ckpt")
    mg.load(loaded, tmp_path / "ckpt")
    for (name, a), (_, b) in zip(saved.named_parameters(), loaded.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_saving_to_a_symlink_updates_the_file_it_points_to(tmp_path):
    target = tmp_path / "weights" / "real.npz"
    target.parent.mkdir()
    old, new = Named(["w"], seed=0), Named(["w"], seed=5)
    mg.save(old, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    mg.save(new, link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    for path in (target, link):
        got = mg.load(Named(["w"], seed=9), path)
        np.testing.assert_array_equal(got.p["w"].data, new.p["w"].data)


# ---- 6. a list of tensors given to an op ----------------------------------------------------

@pytest.mark.parametrize("op", [mg.mean, mg.sum, mg.exp, mg.tanh, lambda v: mg.max(v)])
def test_a_list_of_tensors_keeps_its_gradient(op):
    x = mg.tensor(RNG(0).standard_normal(3), requires_grad=True)
    seeds = []
    grads = []
    for make in (lambda: [x, x + 2], lambda: mg.stack([x, x + 2])):
        x.grad = None
        y = op(make())
        assert y.requires_grad
        seeds = seeds or [RNG(1).standard_normal(y.shape)]
        y.backward(seeds[0])
        grads.append(x.grad.copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


# ---- 7. std where the spread is zero --------------------------------------------------------

@pytest.mark.parametrize("data, axis", [
    (np.array(2.0), None), (np.ones((3, 1)), -1), (np.full((2, 3), 4.0), 1),
    (np.array([[1.0, 1.0], [1.0, 3.0]]), 1),
])
def test_std_gradient_is_zero_where_the_spread_is_zero_and_right_elsewhere(data, axis):
    x = mg.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = mg.std(x, axis=axis)
        y.backward(RNG(2).standard_normal(y.shape))
    assert np.all(np.isfinite(x.grad))
    flat = np.std(data, axis=axis, keepdims=True) == 0
    np.testing.assert_array_equal(x.grad[np.broadcast_to(flat, data.shape)], 0.0)
    if not flat.all():  # the rows with a spread: the finite-difference gradient
        row = mg.tensor(data[1:], requires_grad=True)
        assert mg.gradcheck(lambda r: mg.std(r, axis=axis), row)
    assert "subgradient 0" in mg.std.__doc__


# ---- 8. torch's values at singular points ---------------------------------------------------

def test_power_exponent_gradient_at_zero_base_is_torch_s():
    a = mg.tensor([0.0, 0.0, 0.0], requires_grad=True)
    b = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (a ** b).sum().backward()
    np.testing.assert_array_equal(b.grad, [-np.inf, 0.0, 0.0])  # torch.pow's


@pytest.mark.parametrize("op", [mg.maximum, mg.minimum])
def test_maximum_and_minimum_pass_the_gradient_to_both_where_one_is_nan(op):
    a = mg.tensor([np.nan, 1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, np.nan, 2.0], requires_grad=True)
    op(a, b).backward(np.array([3.0, 5.0, 7.0]))
    np.testing.assert_array_equal(a.grad, [3.0, 5.0, 3.5])  # torch: NaN compares false
    np.testing.assert_array_equal(b.grad, [3.0, 5.0, 3.5])


def test_clip_grad_norm_with_a_nan_norm_makes_the_gradients_nan_as_torch_does():
    p = mg.nn.Parameter([1.0, 2.0])
    p.grad = np.array([np.nan, 1.0])
    assert np.isnan(mg.optim.clip_grad_norm([p], 1.0))
    assert np.all(np.isnan(p.grad))


def test_clip_grad_norm_error_if_nonfinite_raises_and_leaves_the_gradients():
    p = mg.nn.Parameter([1.0, 2.0])
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of the gradients is inf"):
        mg.optim.clip_grad_norm([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad, [np.inf, 1.0])


# ---- 19. norms shown to students are computed in float64 ------------------------------------

def test_gradient_flow_of_a_float32_rnn_at_lag_99_is_not_rounded_to_zero():
    rng = RNG(0)
    model = RNN(2, 32, dtype=np.float32, rng=rng)
    xs = rng.uniform(size=(100, 32, 2)).astype(np.float32)
    norms = gradient_flow(model, xs)
    assert norms.dtype == np.float64
    assert norms[0] > 0 and norms[0] < 1e-15


def test_the_one_norm_helper_sees_what_float32_squares_away():
    tiny = np.full(8, 3e-26, dtype=np.float32)
    assert np.linalg.norm(tiny) == 0.0  # what the pictures and tables printed before
    assert l2(tiny) == pytest.approx(3e-26 * 8 ** 0.5, rel=1e-6)


def test_a_checkpoint_file_written_by_hand_can_still_be_read(tmp_path):
    # members of any order and a compressed archive, as numpy.savez_compressed writes
    np.savez_compressed(tmp_path / "c.npz", **{"p.a": np.ones(2), "p.a.npy": np.zeros(2)})
    model = Named(["a", "a.npy"])
    mg.load(model, tmp_path / "c.npz")
    np.testing.assert_array_equal(model.p["a"].data, 1.0)
    np.testing.assert_array_equal(model.p["a.npy"].data, 0.0)
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        assert archive.infolist()[0].compress_type == zipfile.ZIP_DEFLATED
