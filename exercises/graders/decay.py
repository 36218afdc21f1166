"""Grades task 08: ||dL/dh_t|| and its decay per step, against ``lstm.analysis``."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lstm import LSTM, RNN, analysis
from minigrad.testing import arrays

from ..grading import CheckError, holds, same, student, watching

FIT = ("fit a line through log(norms[T-1-k]) against the lag k = 0 .. T-1 (lag 0 is the "
       "last step) and return exp(its slope)")


def grade(module) -> None:
    norms = student(module.gradient_norms, "gradient_norms")
    decay = student(module.decay_per_step, "decay_per_step")
    measured = student(module.measured_decays, "measured_decays")
    with watching(attributes=((analysis, "gradient_flow", "lstm.analysis.gradient_flow"),
                              (analysis, "decay_per_step", "lstm.analysis.decay_per_step"))):
        holds(lambda case: _norms(norms, *case), _layers(), examples=20)
        holds(lambda values: _decay(decay, values),
              st.integers(2, 30).flatmap(lambda n: arrays((n,), np.float64, 1e-8, 10.0)))
        holds(lambda case: _measured(measured, *case), _layers(), examples=10)


@st.composite
def _layers(draw):
    """(xs, hidden_size, seed): an input (T, B, p), a layer size, a seed."""
    T, B, p = draw(st.integers(2, 12)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw(arrays((T, B, p), np.float64)), draw(st.integers(1, 6)),
            draw(st.integers(0, 1000)))


def _norms(norms, xs, hidden, seed) -> None:
    for kind in (RNN, LSTM):
        def layer(kind=kind):
            return kind(xs.shape[-1], hidden, rng=np.random.default_rng(seed))
        got = norms(layer(), xs)
        same(f"gradient_norms of an {kind.__name__} (T = {len(xs)}, hidden {hidden})",
             np.asarray(got, dtype=np.float64) if got is not None else None,
             analysis.gradient_flow(layer(), xs), at=lambda index: f"t = {index[0]}",
             hint="L = sum(h_T); ||dL/dh_t|| is the norm of the whole (B, q) gradient at "
                  "step t")


def _decay(decay, values) -> None:
    want = analysis.decay_per_step(values)
    got = decay(values)
    hint = FIT
    if got is not None and np.isfinite(want) and np.isclose(float(got), 1 / want, rtol=1e-4) \
            and not np.isclose(want, 1.0, rtol=1e-4):
        hint = "that is 1 / the factor: the lag counts back from the last step, so " \
               "reverse the norms (norms[::-1]) before you fit"
    same(f"decay_per_step of {len(values)} norms", float(got) if got is not None else None,
         want, hint=hint, rtol=1e-6, atol=1e-12)


def _measured(measured, xs, hidden, seed) -> None:
    got = measured(xs, hidden, seed)
    if not isinstance(got, dict) or set(got) != {"rnn", "lstm"}:
        raise CheckError(f"your measured_decays should give {{'rnn': ..., 'lstm': ...}}, and "
                         f"it gave {got!r:.80}")
    for name, kind in (("rnn", RNN), ("lstm", LSTM)):
        layer = kind(xs.shape[-1], hidden, rng=np.random.default_rng(seed))
        want = analysis.decay_per_step(analysis.gradient_flow(layer, xs))
        same(f"measured_decays['{name}'] (T = {len(xs)}, hidden {hidden}, seed {seed})",
             float(got[name]), want, rtol=1e-6, atol=1e-12,
             hint="measure this layer's norms with gradient_norms, then fit them with "
                  "decay_per_step")
