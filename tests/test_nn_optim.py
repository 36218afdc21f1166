"""minigrad.nn, minigrad.optim and .npz serialisation."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import Linear, Module, Parameter
from minigrad.nn.functional import cross_entropy, mse_loss


class Net(Module):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.first = Linear(3, 4, rng=rng)
        self.blocks = [Linear(4, 4, rng=rng), {"out": Linear(4, 2, rng=rng, bias=False)}]
        self.scale = Parameter(np.ones(1))
        self.not_a_parameter = mg.tensor([1.0])

    def forward(self, x):
        h = mg.tanh(self.first(x))
        h = mg.tanh(self.blocks[0](h))
        return self.blocks[1]["out"](h) * self.scale


def test_named_parameters_are_dotted_and_in_assignment_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["first.W", "first.b", "blocks.0.W", "blocks.0.b", "blocks.1.out.W",
                     "scale"]


def test_shared_parameters_are_listed_once():
    net = Net()
    net.alias = net.first
    assert len(net.parameters()) == 6


def test_linear_shapes_init_and_rng():
    layer = Linear(9, 5, dtype=np.float32, rng=np.random.default_rng(0))
    assert layer.W.shape == (9, 5) and layer.b.shape == (1, 5) and layer.W.dtype == np.float32
    assert np.abs(layer.W.data).max() <= 1 / 3
    again = Linear(9, 5, dtype=np.float32, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(layer.W.data, again.W.data)
    assert layer(np.ones((2, 7, 9), np.float32)).shape == (2, 7, 5)


def test_zero_grad_and_call():
    net = Net()
    net(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_through_npz(tmp_path):
    net, other = Net(), Net()
    for p in other.parameters():
        p.data += 1
    mg.save(net, tmp_path / "net.npz")
    assert mg.load(other, tmp_path / "net.npz") is other
    for (name, a), (_, b) in zip(net.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("first.W"), "missing key 'first.W'"),
    (lambda s: s.update(extra=np.ones(1)), "unexpected key 'extra'"),
    (lambda s: s.update({"scale": np.ones(2)}), r"'scale' has shape \(2,\), the parameter \(1,\)"),
    (lambda s: s.update({"scale": np.ones(1, np.float32)}),
     "'scale' has dtype float32, the parameter float64"),
])
def test_bad_state_is_refused_and_the_module_untouched(tmp_path, edit, message):
    net = Net()
    state = net.state_dict()
    for value in state.values():
        value += 5
    edit(state)
    before = net.state_dict()
    np.savez(tmp_path / "bad.npz", **state)
    with pytest.raises(ValueError, match=message):
        mg.load(net, tmp_path / "bad.npz")
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_refuses_pickled_objects(tmp_path):
    np.save(tmp_path / "evil.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "evil.npz", scale=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        mg.load(Net(), tmp_path / "evil.npz")


def test_mse_and_cross_entropy_values_and_gradients():
    pred = mg.tensor([[1.0], [3.0]], requires_grad=True)
    assert mse_loss(pred, np.array([[0.0], [1.0]])).item() == 2.5
    logits = mg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    targets = np.array([0, 2, 1, 2])
    expected = -np.mean((logits.data - np.log(np.exp(logits.data).sum(1, keepdims=True)))
                        [np.arange(4), targets])
    np.testing.assert_allclose(cross_entropy(logits, targets).item(), expected)
    assert mg.gradcheck(lambda z: cross_entropy(z, targets), logits)
    big = mg.tensor([[1000.0, -1000.0]], requires_grad=True)
    assert np.isfinite(cross_entropy(big, np.array([1])).item())


@pytest.mark.parametrize("call, error, message", [
    (lambda: mse_loss(mg.tensor([1.0, 2.0]), np.ones(3)), ValueError,
     r"^mse_loss: pred has shape \(2,\) but target has shape \(3,\)$"),
    (lambda: cross_entropy(mg.tensor(np.ones(3)), np.array([0])), ValueError,
     r"^cross_entropy: logits must be \(B, K\)"),
    (lambda: cross_entropy(mg.tensor(np.ones((2, 3))), np.array([0.0, 1.0])), TypeError,
     "^cross_entropy: target_indices must be integers"),
    (lambda: cross_entropy(mg.tensor(np.ones((2, 3))), np.array([0])), ValueError,
     r"^cross_entropy: target_indices has shape \(1,\), expected \(2,\)"),
    (lambda: cross_entropy(mg.tensor(np.ones((2, 3))), np.array([0, 3])), ValueError,
     r"^cross_entropy: target_indices must lie in \[0, 3\)"),
    (lambda: mg.optim.SGD([], lr=0.1), ValueError, "^SGD: got an empty parameter list$"),
    (lambda: mg.optim.Adam(Net().parameters(), lr=-1), ValueError,
     "^Adam: lr must be a number >= 0, got -1$"),
])
def test_error_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_sgd_with_momentum_follows_pytorch():
    # torch.optim.SGD(momentum=0.9): buf = g; then buf = 0.9 buf + g; p -= lr * buf
    p = Parameter([1.0])
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    for g in (1.0, 2.0):
        p.grad = np.array([g])
        opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.1 * 1.0 - 0.1 * (0.9 + 2.0)])


def test_adam_follows_pytorch():
    p = Parameter([1.0, -2.0])
    opt = mg.optim.Adam([p], lr=0.1)
    grads = [np.array([0.5, -1.0]), np.array([0.1, 3.0])]
    m, v, expected = np.zeros(2), np.zeros(2), p.data.copy()
    for t, g in enumerate(grads, start=1):
        p.grad = g
        opt.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)


def test_optimizers_skip_parameters_without_grad_and_keep_dtype():
    p = Parameter(np.ones(2, np.float32))
    for opt in (mg.optim.SGD([p], lr=0.1, momentum=0.5), mg.optim.Adam([p])):
        opt.step()
        np.testing.assert_array_equal(p.data, [1, 1])
        p.grad = np.ones(2, np.float32)
        opt.step()
        assert p.data.dtype == np.float32 and p.data[0] < 1
        opt.zero_grad()
        assert p.grad is None
        p.data[:] = 1


def test_clip_grad_norm_returns_the_norm_before_clipping():
    a, b = Parameter([0.0, 0.0]), Parameter([0.0])
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    assert mg.optim.clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    total = np.sqrt((a.grad ** 2).sum() + (b.grad ** 2).sum())
    assert total == pytest.approx(1.0, rel=1e-5)
    assert mg.optim.clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)


def test_training_a_linear_model_converges():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    layer = Linear(3, 1, rng=rng)
    opt = mg.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    for _ in range(200):
        opt.zero_grad()
        mse_loss(layer(x), y).backward()
        opt.step()
    np.testing.assert_allclose(layer.W.data.ravel(), [1.0, -2.0, 0.5], atol=1e-3)
