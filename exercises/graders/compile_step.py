"""Grades task 11: training compiled and eager, compared; and counting traces."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays

from ..grading import CheckError, _replaced, counting, holds, same, student

SGD = ("for each batch: loss = step(x, y); loss.backward(); p.data -= lr * p.grad and then "
       "p.grad = None for every parameter")


@st.composite
def _setups(draw):
    """Initial weights (p, q), (1, q), (q, 1), batches of (x (B, p), y (B, 1)) whose batch
    size may change, and a learning rate."""
    p, q = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    weights = [draw(arrays(shape, np.float64)) for shape in ((p, q), (1, q), (q, 1))]
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=5))
    batches = [(draw(arrays((B, p), np.float64)), draw(arrays((B, 1), np.float64)))
               for B in sizes]
    return weights, batches, draw(st.sampled_from([0.01, 0.1, 0.5]))


def _model(weights):
    """Fresh parameters and the loss function that reads them (a one-layer tanh net)."""
    params = [mg.tensor(w.copy(), requires_grad=True) for w in weights]
    W, b, V = params

    def loss_fn(x, y):
        return ((mg.tanh(x @ W + b) @ V - y) ** 2).mean()

    return params, loss_fn


def _reference(weights, batches, lr, scale=1.0, tilt=False):
    """SGD as the task says. ``scale`` multiplies each loss; ``tilt`` leaves the losses
    and multiplies only their gradients by 1.001."""
    params, loss_fn = _model(weights)
    losses = []
    for x, y in batches:
        loss = loss_fn(x, y) * scale
        if tilt:
            loss = loss + (loss - loss.detach()) * 0.001
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
            p.grad = None
        losses.append(float(loss.item()))
    return losses, [p.data.copy() for p in params]


def grade(module) -> None:
    train = student(module.train, "train")
    largest = student(module.largest_difference, "largest_difference")
    traces = student(module.traces, "traces")
    holds(lambda setup: _train(train, *setup), _setups(), examples=15)
    holds(lambda setup: _difference(largest, *setup), _setups(), examples=10)
    holds(lambda setup: _traces(traces, *setup), _setups(), examples=10)


def _train(train, weights, batches, lr) -> None:
    want, want_params = _reference(weights, batches, lr)
    for compiled in (False, True):
        params, loss_fn = _model(weights)
        with counting(mg, "compile") as compiles:
            got = train(loss_fn, params, batches, lr, compiled)
        label = f"train(compiled={compiled}) over {len(batches)} batches, lr {lr}"
        if compiled and not compiles:
            raise CheckError("your train with compiled=True never calls mg.compile")
        if not isinstance(got, list) or len(got) != len(batches):
            raise CheckError(f"your {label} should return a list of {len(batches)} losses, "
                             f"and it gave {got!r:.80}")
        same(f"{label}'s losses", [float(v) for v in got], want, hint=SGD,
             at=lambda index: f"batch {index[0]}")
        for name, p, w in zip(("W", "b", "V"), params, want_params):
            same(f"{label}'s final {name}", p.data, w, hint=SGD)


def _difference(largest, weights, batches, lr) -> None:
    """Right when compiled is right, and it sees a compiled step that is off."""
    def make_params():
        return _model(weights)[0]

    def make_loss(params):
        W, b, V = params
        return lambda x, y: ((mg.tanh(x @ W + b) @ V - y) ** 2).mean()

    got = largest(make_loss, make_params, batches, lr)
    if got is None or not float(got) < 1e-9:
        raise CheckError(f"your largest_difference gives {got!r} for a compiled step that is "
                         f"right: it should be 0 to rounding")
    # two wrong compilers: one whose losses are 0.1% off, and one whose losses are right
    # but whose gradients are 0.1% off (with one batch, only the parameters then differ)
    for wrong, scale, used, what in (
            (lambda fn: lambda x, y: fn(x, y) * 1.001, 1.001, batches, "its losses"),
            (lambda fn: lambda x, y: fn(x, y) + (fn(x, y) - fn(x, y).detach()) * 0.001,
             None, batches[:1], "its gradients")):
        eager, eager_params = _reference(weights, used, lr)
        off, off_params = _reference(weights, used, lr, scale=scale or 1.0, tilt=scale is None)
        want = max([float(np.max(np.abs(np.subtract(eager, off))))] +
                   [float(np.max(np.abs(a - b))) for a, b in zip(eager_params, off_params)])
        with _replaced(mg, "compile", lambda original, wrong=wrong: lambda fn, *a, **k: wrong(fn)):
            got = largest(make_loss, make_params, used, lr)
        same(f"largest_difference when the compiled step has {what} 0.1% off", float(got),
             want, rtol=1e-6, atol=1e-15, hint="train once eager and once compiled from "
             "fresh parameters, then take the largest absolute difference of the losses "
             "and of every final parameter")


def _traces(traces, weights, batches, lr) -> None:
    params, loss_fn = _model(weights)
    with counting(mg, "compile") as compiles:
        got = traces(loss_fn, batches)
    if not compiles:
        raise CheckError("your traces never calls mg.compile: count what it does")
    want = len({x.shape for x, _ in batches})
    same(f"traces over batch sizes {[len(x) for x, _ in batches]}", got, want,
         hint="one trace per new shape of the arguments; a compiled function counts them "
              "in .traces")
