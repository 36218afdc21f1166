"""mg.compile, never silently stale, round two (issue #30): what a trace reads is in the
signature or refused. Each test failed on main before its fix."""

import functools
import itertools
import math
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import Module, Parameter

# every test runs with mg.compile's passes on and off (the fusion fixture)
pytestmark = pytest.mark.usefixtures("fusion")


def values(t):
    return None if t is None else t.data.copy()


# ---- dict keys by exact value ----------------------------------------------------------

@pytest.mark.parametrize("first, second", [(0.0, -0.0), (1, True), ((0.0, 1), (-0.0, 1))])
def test_dict_keys_are_compared_by_exact_value(first, second):
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x, table):
        (key,) = table
        flat = key if isinstance(key, tuple) else (key,)
        sign = math.copysign(1.0, flat[0])
        return x * sign * (10.0 if type(flat[0]) is bool else 1.0)

    compiled = mg.compile(fn)
    for key in (first, second, first):
        np.testing.assert_array_equal(compiled(x, {key: None}).data, fn(x, {key: None}).data)
    assert compiled.traces == 2


# ---- iterators are refused -------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda ts: iter(ts), lambda ts: (t for t in ts),
                                  lambda ts: map(lambda t: t, ts)],
                         ids=["iter", "generator", "map"])
def test_an_iterator_argument_is_refused_with_what_to_pass(make):
    xs = [mg.tensor([1.0]), mg.tensor([2.0])]
    compiled = mg.compile(lambda items: sum(items))
    with pytest.raises(TypeError, match=r"^mg.compile: cannot pass an iterator \(\w+\): the "
                                        r"trace would read its values once .* pass a list"):
        compiled(make(xs))


# ---- grad mode and requires_grad, as eager sees them -----------------------------------

def test_grad_mode_is_part_of_the_signature():
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x):
        return x * (2.0 if mg.is_grad_enabled() else 3.0)

    compiled = mg.compile(fn)
    with mg.no_grad():
        np.testing.assert_array_equal(compiled(x).data, [3.0, 6.0])  # traced under no_grad
    np.testing.assert_array_equal(compiled(x).data, [2.0, 4.0])
    with mg.no_grad():
        assert not compiled(x).requires_grad
    assert compiled.traces == 2


@pytest.mark.parametrize("requires_grad", [False, True])
def test_fn_sees_requires_grad_as_eager_does(requires_grad):
    w = mg.tensor([1.0, 1.0], requires_grad=True)

    def fn(x):
        h = x * 1.0  # an intermediate: requires grad only if x does
        seen = (x.requires_grad, h.requires_grad, h.detach().requires_grad,
                (h * w).requires_grad)
        return h * (2.0 if seen == (True, True, False, True) else 3.0) * w

    x = mg.tensor([1.0, 2.0], requires_grad=requires_grad)
    compiled = mg.compile(fn)
    for _ in range(2):
        np.testing.assert_array_equal(compiled(x).data, fn(x).data)


def test_fn_sees_grad_mode_inside_no_grad_blocks_as_eager_does():
    x = mg.tensor([1.0, 2.0], requires_grad=True)

    def fn(x):
        with mg.no_grad():
            inner = (x * 2.0).requires_grad
        return x * (5.0 if inner else 7.0)

    np.testing.assert_array_equal(mg.compile(fn)(x).data, fn(x).data)


# ---- a method decorator ----------------------------------------------------------------

class Scaled(Module):
    def __init__(self, scale):
        self.W = Parameter(np.full(2, scale))

    @mg.compile
    def forward(self, x):
        return (self.W * x).sum()


def test_compile_decorates_a_method_for_every_instance():
    x = mg.tensor([1.0, 2.0])
    a, b = Scaled(1.0), Scaled(3.0)
    assert a(x).item() == 3.0 and b(x).item() == 9.0 and a(x).item() == 3.0
    loss = b(x)
    loss.backward()
    np.testing.assert_array_equal(b.W.grad, [1.0, 2.0])
    assert a.W.grad is None
    assert type(Scaled.forward).__name__ == "CompiledFunction"  # one per class, not per call


# ---- verify=N compares entry by entry ---------------------------------------------------

DRAWS = itertools.count(1)  # state no guard can read: a C iterator, seen by identity only


def scaled(x):
    return x * mg.tensor([1000.0, 1e-3 * next(DRAWS)])  # frozen at its trace-time value


def test_verify_finds_a_small_entry_that_is_wrong(monkeypatch):
    monkeypatch.setitem(globals(), "DRAWS", itertools.count(1))  # each run counts from 1
    x = mg.tensor([1.0, 1.0], requires_grad=True)
    compiled = mg.compile(scaled, verify=3)
    compiled(x)  # traced with 1e-3; the eager run beside the next replay draws 2e-3
    with pytest.raises(mg.CompileMismatchError,
                       match=r"output 0 \(shape \(2,\)\) differs from eager at index "
                             r"\(1,\): 0\.001 against 0\.002 \(allowed: "):
        compiled(x)


def test_verify_accepts_rounding_in_every_entry():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = mg.tensor(rng.standard_normal((16, 8)).astype(dtype), requires_grad=True)
        W = mg.tensor(rng.standard_normal((8, 8)).astype(dtype) * 1e-4, requires_grad=True)
        compiled = mg.compile(lambda x, W: mg.tanh(x @ W) @ W.T, verify=3)
        for _ in range(4):
            compiled(x, W).sum().backward()
        assert compiled.verified == 3


# ---- tensors that outlive the call --------------------------------------------------------

def train(step, params, calls=4, lr=0.25):
    losses = []
    for _ in range(calls):
        loss = step()
        for p in params():
            p.grad = None
        loss.backward()
        for p in params():
            p.data -= lr * p.grad
        losses.append(loss.item())
    return losses


def test_a_parameter_made_inside_and_kept_is_made_once_then_trained():
    def run(compiled):
        variables = {}

        def get_variable(name, shape):
            if name not in variables:
                variables[name] = mg.tensor(np.full(shape, 2.0), requires_grad=True, name=name)
            return variables[name]

        def loss(x):
            return ((x * get_variable("w", (2,))).sum() - 1.0) ** 2

        step = mg.compile(loss) if compiled else loss
        x = mg.tensor([0.5, 0.5])
        return train(lambda: step(x), variables.values)

    eager = run(False)
    assert eager[-1] < eager[0] / 4  # it trains
    np.testing.assert_allclose(run(True), eager, rtol=1e-12)


class Lazy(Module):
    """Makes its weight at the first forward, as lazy layers do."""

    def forward(self, x):
        if "W" not in vars(self):
            self.W = Parameter(np.full(x.shape[-1], 2.0))
        return ((x * self.W).sum() - 1.0) ** 2


def test_a_lazy_module_s_weight_made_at_the_first_call_trains_compiled():
    x = mg.tensor([0.5, 0.5])
    eager, compiled = Lazy(), Lazy()
    step = mg.compile(compiled.forward)
    assert train(lambda: step(x), compiled.parameters) == train(lambda: eager(x),
                                                              eager.parameters)


def truncated_bptt(compiled, detach_inside):
    """An LSTM trained on 4 chunks of 10 steps, its state carried over, detached."""
    from lstm.layers import LSTM
    from minigrad.nn import Linear

    rng = np.random.default_rng(0)
    lstm, head = LSTM(2, 8, rng=rng), Linear(8, 1, rng=rng)
    params = lstm.parameters() + head.parameters()
    xs, ys = rng.standard_normal((40, 3, 2)), rng.standard_normal((40, 3, 1))

    def chunk(x, y, h, c):
        out, (h, c) = lstm(x, (h, c))
        loss = ((head(out) - y) ** 2).mean()
        return (loss, h.detach(), c.detach()) if detach_inside else (loss, h, c)

    step = mg.compile(chunk) if compiled else chunk
    state = (mg.zeros((1, 3, 8)), mg.zeros((1, 3, 8)))
    losses = []
    for k in range(4):
        loss, *state = step(mg.tensor(xs[10 * k:10 * k + 10]), mg.tensor(ys[10 * k:10 * k + 10]),
                            *state)
        loss.backward(retain_graph=True)
        for p in params:
            p.data -= 0.1 * p.grad
            p.grad = None
        state = state if detach_inside else [s.detach() for s in state]
        assert not any(s.requires_grad or s._node is not None for s in state)
        losses.append(loss.item())
    return losses, step


@pytest.mark.parametrize("detach_inside", [False, True])
def test_truncated_bptt_trains_compiled_as_eager(detach_inside):
    eager, _ = truncated_bptt(False, detach_inside)
    compiled, step = truncated_bptt(True, detach_inside)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    assert step.traces == 1


class Stateful(Module):
    """Keeps its state between calls, detached, as PyTorch users write truncated BPTT."""

    def __init__(self):
        self.W = Parameter(np.array([[0.5, -0.25], [0.25, 0.5]]))
        self.h = mg.zeros((1, 2))

    def forward(self, x):
        h = mg.tanh(x + self.h @ self.W)
        self.h = h.detach()
        return (h ** 2).sum()


def test_a_detached_state_kept_on_the_module_is_a_plain_tensor():
    x = mg.tensor([[1.0, -1.0]])
    eager, compiled = Stateful(), Stateful()
    step = mg.compile(compiled.forward)
    assert (train(lambda: step(x), compiled.parameters) ==
            train(lambda: eager(x), eager.parameters))
    assert compiled.h._node is None and not compiled.h.requires_grad
    np.testing.assert_array_equal(compiled.h.data, eager.h.data)


# ---- guards follow state to any depth -----------------------------------------------------

class Config:
    scale = 1.0  # a class attribute

    def __init__(self):
        self.inner = type("Inner", (), {})()
        self.inner.gain = 1.0  # a nested attribute
        self.gains = [1.0]  # a list inside an attribute
        self._bias = 0.0

    @property
    def bias(self):
        return self._bias


class Configured(Module):
    def __init__(self):
        self.W = Parameter(np.array([1.0, 2.0]))
        self.cfg = Config()

    def forward(self, x):
        c = self.cfg
        return (x * self.W).sum() * c.scale * c.inner.gain * c.gains[0] + c.bias


GAIN = 1.0


def helper(x):
    return x * GAIN  # a global of a function the compiled one calls


class Doubler:
    """A callable object that is not a Module."""

    def __init__(self):
        self.k = 2.0

    def __call__(self, x):
        return (x * self.k).sum()


def with_default(x, scale=1.0, *, shift=0.0):
    return (x * scale).sum() + shift


def test_state_of_a_module_s_config_is_guarded_at_every_depth():
    model = Configured()
    x = mg.tensor([1.0, 1.0])
    step = mg.compile(model)
    changes = [lambda: setattr(Config, "scale", 2.0),
               lambda: setattr(model.cfg.inner, "gain", 3.0),
               lambda: model.cfg.gains.__setitem__(0, 5.0),
               lambda: setattr(model.cfg, "_bias", 7.0)]
    assert step(x).item() == 3.0
    try:
        for change in changes:
            change()
            assert step(x).item() == model.forward(x).item()
    finally:
        Config.scale = 1.0
    assert step.traces == 1 + len(changes)


def test_globals_of_called_functions_defaults_partials_and_callables_are_guarded():
    global GAIN
    x = mg.tensor([1.0, 2.0])
    calls = mg.compile(lambda x: helper(x).sum())
    defaults = mg.compile(with_default)
    partial = functools.partial(with_default, scale=1.0)
    partials = mg.compile(partial)
    doubler = Doubler()
    callables = mg.compile(doubler)
    first = [f(x).item() for f in (calls, defaults, partials, callables)]
    try:
        GAIN = 10.0
        with_default.__defaults__ = (3.0,)
        with_default.__kwdefaults__ = {"shift": 1.0}
        partial.keywords["scale"] = 4.0
        doubler.k = 5.0
        assert [f(x).item() for f in (calls, defaults, partials, callables)] == [
            helper(x).sum().item(), with_default(x), partial(x).item(), doubler(x).item()]
        assert first != [f(x).item() for f in (calls, defaults, partials, callables)]
    finally:
        GAIN = 1.0
        with_default.__defaults__, with_default.__kwdefaults__ = (1.0,), {"shift": 0.0}


class WithHistory(Module):
    def __init__(self):
        self.W = Parameter(np.array([1.0, 1.0]))
        self.history = [float(k) for k in range(5000)]  # more values than any old budget

    def forward(self, x):
        return (x * self.W).sum()


def test_no_budget_hides_a_weight_replaced_after_a_long_list():
    model = WithHistory()
    step = mg.compile(model)
    x = mg.tensor([1.0, 2.0])
    assert step(x).item() == 3.0
    model.W = Parameter(np.array([10.0, 10.0]))
    assert step(x).item() == 30.0
    loss = step(x)
    loss.backward()
    np.testing.assert_array_equal(model.W.grad, [1.0, 2.0])


def test_guards_that_cost_more_than_the_step_warn_once_and_run_eagerly():
    table = [float(k) for k in range(300_000)]  # read by the function: guarded, slowly

    def tiny(x):
        return x * table[1]

    step = mg.compile(tiny)
    x = mg.tensor([1.0])
    with pytest.warns(RuntimeWarning, match=r"mg.compile\(tiny\): checking what the "
                                            r"function reads .* runs eagerly from now on"):
        for _ in range(5):
            step(x)
    assert step.eager and step.traces == 1
    table[1] = 3.0
    assert step(x).item() == 3.0  # eager: never stale


# ---- intermediates returned with the loss -------------------------------------------------

W_INNER = mg.tensor(np.array([[0.5, -0.3], [0.2, 0.8]]), requires_grad=True)


def returns_intermediates(x):
    z = x @ W_INNER
    h = mg.tanh(z)
    h2 = h * 3.0
    loss = (h2 * h).sum() + z.sum()  # z feeds both h and the loss directly
    return loss, {"h": h, "h2": h2}, z


@pytest.mark.parametrize("ask", ["retain_grad", "mg.grad"])
def test_intermediates_returned_with_the_loss_get_their_gradients_as_in_eager(ask):
    compiled = mg.compile(returns_intermediates, verify=2)
    for _ in range(3):
        got = []
        for fn in (returns_intermediates, compiled):
            W_INNER.grad = None
            loss, inner, z = fn(mg.tensor([[1.0, 2.0]]))
            watched = [inner["h"], inner["h2"], z]
            if ask == "retain_grad":
                for t in watched:
                    t.retain_grad()
                loss.backward()
                grads = [t.grad for t in watched]
            else:
                grads = [g.data for g in mg.grad(loss, watched, retain_graph=True)]
                loss.backward()
            got.append([loss.data, *grads, W_INNER.grad])
        for compiled_value, eager_value in zip(got[1], got[0]):
            np.testing.assert_allclose(compiled_value, eager_value, rtol=1e-12)
    assert compiled.traces == 1 and compiled.verified == 2


def test_an_intermediate_returned_takes_its_own_gradient_too():
    compiled = mg.compile(returns_intermediates)
    got = []
    for fn in (returns_intermediates, compiled):
        W_INNER.grad = None
        loss, inner, _ = fn(mg.tensor([[1.0, 2.0]]))
        (loss + (inner["h"] * mg.tensor([[0.5, -2.0]])).sum()).backward()  # h: two paths
        got.append(W_INNER.grad.copy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


def test_minigrad_s_own_functions_are_library_code_guarded_by_identity():
    """The package split (#35) moved guards.py into minigrad/compiler/, and the library
    it keys by identity shrank to that folder: every call walked ``mg``'s functions, their
    globals and closures as the user's (97 parts, 95 us a call for an LSTM step reading
    ``mg.concat``, ``mg.sigmoid`` and ``mg.tanh``)."""
    from minigrad.compiler.guards import fingerprint

    names = frozenset({"concat", "sigmoid", "tanh", "mean"})
    assert len(fingerprint(mg, names)) == 2  # the module by identity, and its end
    assert len(fingerprint(mg.sigmoid, names)) == 4  # itself, its two defaults, its end
    user = types.ModuleType("config")
    user.__file__ = "/somewhere/config.py"
    user.sigmoid = 1.0  # a module of the user's: what the code reads of it is walked
    assert len(fingerprint(user, names)) > 1
