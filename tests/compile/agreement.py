"""What the tests of each pass share: a compiled function checked against eager, and the
cells unrolled as small functions to compile."""

import numpy as np

import minigrad as mg


def agree(fn, leaves, fuse, *args, seed=0):
    """``fn`` compiled with ``fuse`` equals eager to 1e-12, values and gradients under a
    random cotangent, at the trace and at a replay; returns the plan's text."""
    rng = np.random.default_rng(seed)
    want = fn(*args)
    outputs = want if isinstance(want, tuple) else (want,)
    cotangents = [rng.normal(size=o.shape) for o in outputs]

    def loss(outs):
        outs = outs if isinstance(outs, tuple) else (outs,)
        return sum((o * c).sum() for o, c in zip(outs, cotangents))

    want_grads = mg.grad(loss(want), leaves, allow_unused=True)
    step = mg.compile(fn, fuse=fuse)
    for _ in range(2):
        got = step(*args)
        grads = mg.grad(loss(got), leaves, allow_unused=True)
        for o, w in zip(got if isinstance(got, tuple) else (got,), outputs):
            np.testing.assert_allclose(o.data, w.data, rtol=1e-12, atol=1e-12)
        for g, w in zip(grads, want_grads):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_allclose(g.data, w.data, rtol=1e-12, atol=1e-12)
    return str(step.plans[-1])


def unrolled(layer, **kwargs):
    rng = np.random.default_rng(3)
    model = layer(3, 4, rng=rng, **kwargs)
    xs = mg.tensor(rng.normal(size=(6, 2, 3)), name="xs")

    def fn(xs):
        hs, _ = model.unroll(xs)
        return hs[-1]

    return fn, model.parameters(), xs
