"""Property: for any small program of minigrad's primitives, on any broadcastable shapes,
with arguments and captured tensors that do or do not require grad, the compiled program
gives the eager program's values and gradients, first call and replays alike."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes

# every test runs with mg.compile's passes on and off (the fusion fixture)
pytestmark = pytest.mark.usefixtures("fusion")

UNARY = {
    "tanh": mg.tanh,
    "sigmoid": mg.sigmoid,
    "neg": lambda t: -t,
    "exp": lambda t: mg.exp(mg.tanh(t)),
    "log": lambda t: mg.log(1.5 + mg.tanh(t)),
    "relu": mg.relu,
    "square": lambda t: t * t,
    "affine": lambda t: 0.5 * t + 1.0,
    "pow": lambda t: mg.tanh(t) ** 3,
    "sum": lambda t: t.sum(axis=0, keepdims=True) if t.ndim else t,
    "mean": lambda t: t.mean(axis=-1) if t.ndim else t,
    "transpose": lambda t: t.T,
    "slice": lambda t: t[..., :1] if t.ndim else t,
    "softmax": lambda t: mg.softmax(t, axis=-1) if t.ndim else t,
    "detach_mix": lambda t: t * t.detach(),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + mg.tanh(b)),
    "maximum": mg.maximum,
    "matmul": lambda a, b: a @ b,
    "concat": lambda a, b: mg.concat([a, b], axis=-1),
    "where": lambda a, b: mg.where(np.arange(np.broadcast_shapes(a.shape, b.shape)[-1] if
                                              a.ndim or b.ndim else 1) % 2 == 0, a, b),
}

instructions = st.lists(st.tuples(st.sampled_from(sorted(UNARY) + sorted(BINARY)),
                                  st.integers(0, 50), st.integers(0, 50)),
                        min_size=1, max_size=12)


def run(program, values, intermediates=False):
    """Apply each instruction to earlier values; a binary op whose shapes do not fit
    falls back to tanh of its first operand. Returns the last value and the sum of the
    one before, or (``intermediates``) the last three as they are, often one computed
    from another."""
    values = list(values)
    for op, i, j in program:
        a, b = values[i % len(values)], values[j % len(values)]
        if op in UNARY:
            values.append(UNARY[op](a))
            continue
        try:
            values.append(BINARY[op](a, b))
        except ValueError:
            values.append(mg.tanh(a))
    if intermediates:
        return tuple(values[-3:])
    return values[-1], values[-2].sum()


@st.composite
def programs(draw):
    shapes = draw(broadcastable_shapes(4, min_dims=0, max_dims=2, max_side=3))
    data = [draw(arrays(shape)) for shape in shapes]
    requires = draw(st.lists(st.booleans(), min_size=4, max_size=4))
    program = draw(instructions)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return data, requires, program, rng


@pytest.mark.parametrize("intermediates", [False, True])
@given(programs())
def test_compiled_programs_agree_with_eager(intermediates, case):
    data, requires, program, rng = case
    # two arguments and two captured tensors, each requiring grad or not
    captured = [mg.tensor(d, requires_grad=r) for d, r in zip(data[2:], requires[2:])]

    def fn(x, y):
        return run(program, [x, y, *captured], intermediates)

    compiled = mg.compile(fn, verify=2)  # replays also checked against eager by verify
    for call in range(3):
        args = [mg.tensor(d + call, requires_grad=r) for d, r in zip(data[:2], requires[:2])]
        leaves = [t for t in (*args, *captured) if t.requires_grad]
        results = []
        seeds = None
        for f in (fn, compiled):
            for t in leaves:
                t.grad = None
            outs = f(*args)
            seeds = seeds or [rng.standard_normal(o.shape) for o in outs]
            live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
            if live:
                mg.autograd._sweep([o for o, _ in live], [s for _, s in live], False, False,
                                   None)
            results.append(([o.data for o in outs], [t.grad for t in leaves]))
        (eager_values, eager_grads), (values, grads) = results
        for got, expected in zip(values + grads, eager_values + eager_grads):
            if expected is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        for cap in captured:  # the next call must see the new values
            cap.data = cap.data * 0.5 + 0.25
    assert compiled.traces == 1
    assert compiled.verified == 2
