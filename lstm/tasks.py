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


#: The 1997 paper's criterion: a sequence is processed correctly when the absolute error
#: of the output at its end is below this.
ADDING_1997_TOLERANCE = 0.04


def adding_1997(n: int, T: int, rng: np.random.Generator, dtype: Any = np.float64,
                length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem exactly as Hochreiter & Schmidhuber (1997, Experiment 4) set it.

    Each step is a pair: a value uniform in [-1, 1] and a marker in {-1, 0, 1}. One of
    the first ten pairs is marked 1 (its value is X1), then one of the first T/2 - 1
    pairs still unmarked (X2); the first and the last pair are marked -1, every other
    pair 0. (Where X1's pair is the first pair, its value is set to 0, as the paper sets
    X1 to 0.) The target is ``0.5 + (X1 + X2) / 4``, in [0, 1]. The second
    mark is at least T/2 + 1 steps before the end: the paper's "minimal lag" of T/2 (50
    at T = 100).

    Sequences are T to T + T/10 steps long. One call draws one length for all ``n``
    sequences (or takes ``length``): a batch is one array, with no padding or mask.
    The task is the same: each sequence's length is still uniform over [T, T + T/10],
    only the lengths of the sequences of one batch are equal.

    Returns:
        xs: (length, n, 2) and ys: (n, 1).

    Example::

        >>> xs, ys = adding_1997(4, 100, np.random.default_rng(0))
        >>> xs.shape[1:], ys.shape, 100 <= xs.shape[0] <= 110
        ((4, 2), (4, 1), True)
    """
    if T < 20:
        raise ValueError(f"adding_1997: T must be at least 20 (one mark among the first "
                         f"ten pairs, the other among the first T/2 - 1), got {T}")
    if length is None:
        length = int(rng.integers(T, T + T // 10 + 1))
    elif not T <= length <= T + T // 10:
        raise ValueError(f"adding_1997: length must be in [T, T + T/10] = [{T}, "
                         f"{T + T // 10}], got {length}")
    values = rng.uniform(-1.0, 1.0, size=(length, n))
    markers = np.zeros((length, n))
    markers[0] = markers[-1] = -1.0
    columns = np.arange(n)
    first = rng.integers(0, 10, size=n)
    # one of the first T/2 - 1 pairs other than ``first``: draw among the others, then
    # step over ``first``
    span = T // 2 - 1
    inside = first < span
    second = rng.integers(0, span - inside, size=n)
    second += inside & (second >= first)
    markers[first, columns] = markers[second, columns] = 1.0
    values[0, first == 0] = 0.0  # X1 on the first pair: the paper sets it to 0
    xs = np.stack([values, markers], axis=-1).astype(dtype)
    ys = (0.5 + (values[first, columns] + values[second, columns]) / 4.0)[:, None]
    return xs, ys.astype(dtype)


def wrong_1997(predictions: np.ndarray, ys: np.ndarray) -> int:
    """How many sequences the 1997 criterion counts wrong: absolute error at the end at
    least :data:`ADDING_1997_TOLERANCE`."""
    return int(np.sum(np.abs(np.asarray(predictions) - np.asarray(ys))
                      >= ADDING_1997_TOLERANCE))


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
