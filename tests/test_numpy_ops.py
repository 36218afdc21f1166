"""More of NumPy (issue #13): what a student writes in a first notebook works, ties and
corners follow PyTorch (checked against its numbers), and errors say what is wrong."""

import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

REFERENCE = Path(__file__).parent / "fixtures" / "torch_ops_reference.npz"
RNG = np.random.default_rng


@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE, allow_pickle=False) as archive:
        return dict(archive)


def outputs_and_gradients(fn, ref, case, count):
    leaves = [mg.tensor(ref[f"{case}/x{k}"], requires_grad=True) for k in range(count)]
    out = fn(*leaves)
    (out * ref[f"{case}/R"]).sum().backward()
    return out.data, [leaf.grad for leaf in leaves]


EINSUMS = {"matmul": ("ij,jk->ik", 2), "batched_matmul": ("bij,bjk->bik", 2),
           "transpose": ("ij->ji", 1), "inner": ("i,i->", 2), "outer": ("i,j->ij", 2),
           "matvec": ("ij,j->i", 2), "trace": ("ii->", 1), "diagonal": ("ii->i", 1),
           "ellipsis": ("...ij,jk->...ik", 2), "three": ("ij,jk,kl->il", 3)}

MATCHES_TORCH = {
    **{f"einsum_{name}": ((lambda *xs, s=spec: mg.einsum(s, *xs)), count)
       for name, (spec, count) in EINSUMS.items()},
    "max_rows": (lambda x: x.max(axis=1), 1), "max_all": (lambda x: mg.max(x), 1),
    "max_cols_keepdim": (lambda x: mg.max(x, axis=0, keepdims=True), 1),
    "min_rows": (lambda x: x.min(axis=-1), 1),
    "maximum_ties": (mg.maximum, 2), "minimum_ties": (mg.minimum, 2),
    "var_rows_ddof0": (lambda x: x.var(axis=1), 1), "var_rows_ddof1": (
        lambda x: x.var(axis=1, ddof=1), 1),
    "var_all_ddof0": (lambda x: mg.var(x), 1), "var_all_ddof1": (lambda x: mg.var(x, ddof=1), 1),
    "std_cols_ddof0": (lambda x: mg.std(x, axis=0, keepdims=True), 1),
    "std_cols_ddof1": (lambda x: x.std(axis=0, keepdims=True, ddof=1), 1),
    "softmax_huge": (lambda x: mg.softmax(x, axis=-1), 1),
}


def test_the_reference_was_made_by_the_pinned_torch(ref):
    assert str(ref["torch_version"]).startswith("2.13.0")


@pytest.mark.parametrize("case", sorted(MATCHES_TORCH))
def test_matches_torch(ref, case):
    fn, count = MATCHES_TORCH[case]
    out, grads = outputs_and_gradients(fn, ref, case, count)
    np.testing.assert_allclose(out, ref[f"{case}/out"], rtol=1e-12, atol=1e-12)
    for k, grad in enumerate(grads):
        np.testing.assert_allclose(grad, ref[f"{case}/grad{k}"], rtol=1e-12, atol=1e-12,
                                   err_msg=f"gradient of input {k}")


# ---- ties and corners --------------------------------------------------------------------

def test_tied_maxima_share_the_gradient_equally():
    x = mg.tensor([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, 1.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([6.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0, 2.0, 2.0], [0.0, 2.0, 0.0, 2.0]])
    y = mg.tensor([1.0, 5.0, 5.0], requires_grad=True)
    mg.min(-y).backward()  # over everything
    np.testing.assert_array_equal(y.grad, [0.0, -0.5, -0.5])


def test_equal_arguments_of_maximum_share_the_gradient():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])


def test_abs_clip_and_power_at_their_corners():
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    (mg.abs(x).sum() + mg.clip(x, 0.0, 2.0).sum()).backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0, 2.0])  # abs' 0 at 0; clip passes ends
    base = mg.tensor([0.0, 2.0], requires_grad=True)
    exponent = mg.tensor([2.0, 0.0], requires_grad=True)
    with np.errstate(all="raise"):
        (base ** exponent).sum().backward()
    np.testing.assert_array_equal(base.grad, [0.0, 0.0])
    np.testing.assert_allclose(exponent.grad, [0.0, np.log(2.0)])  # 0 where the base is 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_at_plus_and_minus_1000(dtype):
    x = mg.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]], dtype=dtype,
                  requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is fine
            y = mg.softmax(x)
            (y * np.array([[1.0, 2.0, 3.0]], dtype)).sum().backward()
    assert y.dtype == dtype and np.isfinite(y.data).all() and np.isfinite(x.grad).all()
    np.testing.assert_allclose(y.data.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y.data[0], [1.0, 0.0, 0.0], atol=1e-7)


# ---- as a student writes it ---------------------------------------------------------------

def test_a_first_notebook():
    rng = np.random.default_rng(0)
    x = mg.randn(3, 4, rng=rng, requires_grad=True)
    leaky = mg.where(x > 0, x, 0.1 * x)
    logits = leaky @ mg.randn(4, 5, rng=rng)
    y = np.array([0, 4, 2])
    accuracy = (logits.argmax(-1) == y).mean()
    loss = mg.nn.functional.cross_entropy(logits, y)
    loss.backward()
    text = f"{loss:.4f}"
    assert text == f"{loss.item():.4f}" and 0 <= accuracy <= 1
    assert float(loss) == loss.item()
    assert np.asarray(x) is x.data and np.asarray(x).dtype == np.float64
    assert x.max(axis=1).shape == (3,)
    a, b = mg.randn(2, 3, 4, rng=rng), mg.randn(2, 4, 5, rng=rng)
    np.testing.assert_allclose(mg.einsum("bij,bjk->bik", a, b).data, a.data @ b.data)
    assert x.grad.shape == (3, 4)
    again = mg.randn(3, 4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.data, x.data)


def test_comparisons_give_masks_and_tensors_stay_hashable():
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for mask, expected in [(x > 0, [False, False, True]), (x >= 0, [False, True, True]),
                           (x < 0, [True, False, False]), (x <= 0, [True, True, False]),
                           (x == 0, [False, True, False]), (x != 0, [True, False, True]),
                           (x == mg.tensor([-1.0, 1.0, 2.0]), [True, False, True])]:
        assert isinstance(mask, np.ndarray) and mask.dtype == bool
        np.testing.assert_array_equal(mask, expected)
    y = mg.tensor([-1.0, 0.0, 2.0])
    assert {x: "x", y: "y"}[x] == "x" and len({x, y, x}) == 2 and x in [x] and x in {x}
    z = x * 2
    (z.sum()).backward()  # the sweep keys its dicts by vertex: still exact
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("values", [[2.5], 2.5, [[2.5]]])
def test_one_element_tensors_behave_as_numpy_scalars(values):
    t, a = mg.tensor(values), np.array(values)
    assert float(t) == a.item() and bool(t) == bool(a)
    assert f"{t:.3f}" == f"{a.item():.3f}" == "2.500" and f"{t:e}" == f"{a.item():e}"
    assert f"{t}" == str(t)


def test_numpy_ufuncs_on_tensors():
    x = mg.tensor([0.5, 2.0], requires_grad=True)
    y = np.exp(x) + np.sqrt(x) * np.array([1.0, 2.0]) - np.abs(-x)
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.exp(x.data) + np.array([1.0, 2.0]) * 0.5 /
                               np.sqrt(x.data) - 1.0)
    assert isinstance(np.greater(x, 1.0), np.ndarray)
    with pytest.raises(TypeError, match=r"^np.sin \(__call__\) on a Tensor: minigrad has no "
                                        r"gradient for it; use minigrad's own function"):
        np.sin(x)


def test_constructors():
    assert mg.zeros((2, 3)).shape == (2, 3) and mg.zeros(2).data.tolist() == [0.0, 0.0]
    assert mg.ones(3, dtype=np.float32).dtype == np.float32
    assert mg.full((2,), 7.0, requires_grad=True).requires_grad
    model = mg.tensor(np.ones((2, 2), np.float32))
    assert mg.zeros_like(model).dtype == np.float32 and mg.ones_like(model).shape == (2, 2)
    assert mg.zeros_like(np.ones(3, int)).dtype == np.float64
    np.testing.assert_array_equal(mg.eye(2, 3).data, np.eye(2, 3))
    np.testing.assert_array_equal(mg.arange(1, 3, 0.5).data, [1.0, 1.5, 2.0, 2.5])
    assert mg.randn((2, 3), rng=RNG(1)).shape == (2, 3)
    uniform = mg.rand(1000, rng=RNG(1), dtype=np.float32)
    assert uniform.dtype == np.float32 and 0 <= uniform.data.min() and uniform.data.max() < 1
    np.testing.assert_array_equal(mg.rand(4, rng=RNG(3)).data, mg.rand(4, rng=RNG(3)).data)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.where(np.array([1, 0]), 1.0, 2.0), TypeError,
     "^where: cond must be a boolean mask"),
    (lambda: mg.clip(mg.tensor([1.0]), "a", None), TypeError,
     "^clip: lo must be a number or None, got str$"),
    (lambda: mg.astype(mg.tensor([1.0]), np.int32), TypeError,
     "^astype: the dtype must be a floating type, got int32$"),
    (lambda: mg.einsum("ij,jk->ik", mg.tensor(np.ones((2, 3)))), ValueError,
     "^einsum: 'ij,jk->ik' names 2 operands, got 1$"),
    (lambda: mg.einsum("ij,jk->ik", mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4, 2)))),
     ValueError, "^einsum: invalid input shapes"),
    (lambda: mg.pad(mg.tensor([1.0]), -1), ValueError, "^pad: pad_width must not be negative"),
    (lambda: mg.squeeze(mg.tensor(np.ones((2, 3))), 0), ValueError,
     r"^squeeze: .* \(input shape \(2, 3\)\)$"),
    (lambda: mg.max(mg.tensor(np.ones((0, 3))), axis=0), ValueError, "^max: "),
    (lambda: mg.randn(2, rng=np.random.RandomState(0)), TypeError,
     "^rng must be a numpy.random.Generator"),
    (lambda: mg.zeros((2, -1)), ValueError, r"^zeros: a shape is non-negative integers"),
    (lambda: mg.max(mg.tensor(np.ones(3)), axis=1), np.exceptions.AxisError,
     "^max: axis 1 is out of bounds"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_gradcheck_takes_the_new_ops_unchanged():
    x = mg.tensor(RNG(0).standard_normal((3, 4)), requires_grad=True)
    assert mg.gradcheck(lambda x: mg.softmax(x) * mg.std(x, axis=0) + mg.pad(x, 1)[1:-1, 1:-1],
                        x)
