"""Grades task 09: the gradient at a lag, and the search for the smallest forget bias."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lstm import LSTM, layers
from lstm.analysis import gradient_flow

from ..grading import CheckError, counting, holds, same, student

BIASES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)


def reference_at_lag(bias: float, lag: int, hidden: int, seed: int) -> float:
    layer = LSTM(1, hidden, forget_bias=bias, rng=np.random.default_rng(seed))
    norms = gradient_flow(layer, np.random.default_rng(seed + 1).normal(size=(lag + 1, 1, 1)))
    return float(norms[0] / norms[lag])


def grade(module) -> None:
    at_lag = student(module.gradient_at_lag, "gradient_at_lag")
    search = student(module.smallest_bias, "smallest_bias")
    holds(lambda bias, lag, hidden, seed: same(
        f"gradient_at_lag(bias={bias:g}, lag={lag}, hidden_size={hidden}, seed={seed})",
        float(at_lag(bias, lag, hidden, seed)), reference_at_lag(bias, lag, hidden, seed),
        rtol=1e-6, atol=1e-300, hint="norms[0] / norms[lag], with the layer and xs made "
        "exactly as the docstring says"),
        st.sampled_from(BIASES), st.integers(1, 40), st.integers(2, 8), st.integers(0, 99),
        examples=15)
    holds(lambda case: _search(search, *case), _searches(), examples=12)


@st.composite
def _searches(draw):
    biases = draw(st.lists(st.sampled_from(BIASES), min_size=1, max_size=5, unique=True))
    return (draw(st.permutations(biases)), draw(st.integers(5, 50)),
            draw(st.sampled_from([1e-1, 1e-2, 1e-3, 1e-4])), draw(st.integers(2, 6)),
            draw(st.integers(0, 99)))


def _search(search, biases, lag, threshold, hidden, seed) -> None:
    case = (f"biases {list(biases)}, lag {lag}, threshold {threshold:g}, hidden_size "
            f"{hidden}, seed {seed}")
    with counting(layers.LSTM, "__init__") as built:
        got = search(list(biases), lag, threshold, hidden, seed)
    passing = [b for b in sorted(biases)
               if reference_at_lag(b, lag, hidden, seed) > threshold]
    want = passing[0] if passing else None
    if (got is None) != (want is None) or (got is not None and not np.isclose(got, want)):
        raise CheckError(f"your smallest_bias gives {got!r} for {case}, and it should be "
                         f"{want!r}: try the biases from the smallest up, and return the "
                         f"first whose gradient_at_lag is above the threshold (None if none)")
    needed = len([b for b in biases if want is None or b <= want])
    if len(built) < needed:
        raise CheckError(f"your smallest_bias answered {got!r} for {case} after measuring "
                         f"{len(built)} LSTM(s): it must measure every bias it rules out "
                         f"({needed} here), not guess")
