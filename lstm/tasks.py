"""Long-range tasks that separate memories that last from memories that fade.

Each task is reproducible from a ``numpy.random.Generator`` and comes with its
baseline (what a model that learned nothing scores) and its "solved" threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: MSE of always predicting 1.0 on the adding problem: the sum of two uniform(0, 1)
#: values has mean 1 and variance 2/12 = 0.1667.
ADDING_BASELINE_MSE = 1 / 6


def adding_problem(n: int, T: int, rng: np.random.Generator,
                   dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997), in its common modern form.

    Channel 0 holds values uniform in [0, 1]; channel 1 marks exactly two steps, one in
    each half of the sequence; the target is the sum of the two marked values. A model
    that ignores the input and predicts 1.0 scores MSE = 1/6 ≈ 0.167.

    Returns:
        xs: (T, n, 2) and ys: (n, 1).

    Example::

        >>> xs, ys = adding_problem(32, 50, np.random.default_rng(0))
        >>> xs.shape, ys.shape
        ((50, 32, 2), (32, 1))
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be at least 2, got {T}")
    values = rng.uniform(0.0, 1.0, size=(T, n))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((T, n))
    columns = np.arange(n)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    xs = np.stack([values, markers], axis=-1).astype(dtype)
    ys = (values[first, columns] + values[second, columns])[:, None].astype(dtype)
    return xs, ys


def recall_first(n: int, T: int, rng: np.random.Generator, symbols: int = 4,
                 dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Recall the first of ``symbols`` symbols after T steps (chance = 1/symbols).

    Step 0 shows the symbol to remember, one-hot; every later step shows a random
    one-hot distractor and sets the last channel, a "not first" flag. The answer is
    the index of the first symbol.

    Returns:
        xs: (T, n, symbols + 1) and ys: (n,) integers in [0, symbols).

    Example::

        >>> xs, ys = recall_first(32, 20, np.random.default_rng(0))
        >>> xs.shape, ys.shape
        ((20, 32, 5), (32,))
    """
    if T < 1 or symbols < 2:
        raise ValueError(f"recall_first: need T >= 1 and symbols >= 2, got T={T}, "
                         f"symbols={symbols}")
    seq = rng.integers(0, symbols, size=(T, n))
    xs = np.zeros((T, n, symbols + 1), dtype=dtype)
    xs[np.arange(T)[:, None], np.arange(n)[None, :], seq] = 1.0
    xs[1:, :, symbols] = 1.0
    return xs, seq[0].copy()


@dataclass(frozen=True)
class Task:
    """A task as the training loop sees it.

    ``make(n, T, rng, dtype) -> (xs, ys)``; ``kind`` is "regression" (MSE, solved when
    below ``threshold``) or "classification" (accuracy, solved when at least
    ``threshold``); ``baseline`` is the score of a model that learned nothing;
    ``lr`` is the Adam learning rate that works for it with hidden size 32.
    """

    name: str
    make: Any
    input_size: int
    output_size: int
    kind: str
    threshold: float
    baseline: float
    lr: float


TASKS = {
    "adding": Task("adding", adding_problem, 2, 1, "regression", 0.01, ADDING_BASELINE_MSE,
                   1e-2),
    "recall": Task("recall", recall_first, 5, 4, "classification", 0.99, 0.25, 1e-3),
}
