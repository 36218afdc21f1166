"""Task 05: backpropagation through time, by hand, for a scalar RNN.

The RNN has one number of state: ``h_t = tanh(w * h_(t-1) + u * x_t)`` for t = 1 .. T,
from ``h_0``, and the loss is ``L = h_T``. By the chain rule,

    dL/dh_(t-1) = dL/dh_t * w * (1 - h_t^2),   so   dL/dh_0 = prod over t of w (1 - h_t^2).

Each step back multiplies the gradient by its factor ``w (1 - h_t^2)``. When those
factors stay below 1 in size, the gradient shrinks exponentially with the lag: the RNN
cannot learn from far back. (minigrad's explorer writes these factors on its links.)

Plain Python or NumPy only: the grader checks your numbers against minigrad's backward().

Check: ``python -m exercises check 05``
"""

import math


def forward(w, u, xs, h0):
    """``[h_0, h_1, ..., h_T]`` (T + 1 floats) for the inputs ``xs = [x_1, ..., x_T]``."""
    hs = [h0]
    for x in xs:
        hs.append(math.tanh(w * hs[-1] + u * x))
    return hs


def step_factors(w, hs):
    """``[dh_1/dh_0, dh_2/dh_1, ..., dh_T/dh_(T-1)]``: each step's factor w (1 - h_t^2),
    from ``hs = forward(...)``."""
    return [w * (1 - h * h) for h in hs[1:]]


def dL_dh0(w, hs):
    """dL/dh_0 for L = h_T: the product of every step's factor."""
    product = 1.0
    for factor in step_factors(w, hs):
        product *= factor
    return product


def dL_dw(w, hs):
    """dL/dw for L = h_T. ``w`` is used at every step, so its gradient is a sum over the
    steps: sum over t of dL/dh_t * (1 - h_t^2) * h_(t-1).

    Hint: walk back from t = T with ``delta = dL/dh_t`` (1 at t = T); at each step add
    this step's part to the sum, then multiply ``delta`` by the step's factor.
    """
    delta, total = 1.0, 0.0
    for t in range(len(hs) - 1, 0, -1):
        local = delta * (1 - hs[t] * hs[t])
        total += local * hs[t - 1]
        delta = local * w
    return total
