"""The 1997 paper's adding problem (issue #38), checked against its definition in
Hochreiter & Schmidhuber (1997), Experiment 4: lengths, where the marks fall, the
markers of the first and last pairs, the target and the criterion."""

import numpy as np
import pytest

from lstm.tasks import ADDING_1997_TOLERANCE, adding_1997, wrong_1997


def one_in_ten_one_in_span(p: np.ndarray, T: int) -> bool:
    """The two marks ``p`` (sorted): one among the first ten pairs, the other among the
    first T/2 - 1."""
    span = T // 2 - 1
    return (p[0] < 10 and p[1] < span) or (p[1] < 10 and p[0] < span)


@pytest.mark.parametrize("T", [20, 21, 100, 500])
def test_every_sequence_is_as_the_paper_defines_it(T):
    rng = np.random.default_rng(T)
    lengths = set()
    for _ in range(60):
        xs, ys = adding_1997(50, T, rng)
        length = xs.shape[0]
        lengths.add(length)
        assert T <= length <= T + T // 10 and xs.shape == (length, 50, 2)
        values, markers = xs[..., 0], xs[..., 1]
        assert np.all((values >= -1) & (values <= 1))
        marked = markers == 1
        assert np.all(marked.sum(axis=0) == 2)  # exactly two pairs marked, per sequence
        assert all(one_in_ten_one_in_span(np.flatnonzero(marked[:, k]), T) for k in range(50))
        assert np.all((markers[0] == -1) | marked[0])  # the first pair: -1, or marked
        assert np.all(markers[-1] == -1)
        assert np.all(np.isin(markers[1:-1], (0, 1)))
        # X1 + X2: the marked values (the first pair's is 0 when it is marked)
        np.testing.assert_allclose(ys[:, 0], 0.5 + (values * marked).sum(axis=0) / 4,
                                   rtol=1e-15)
    assert len(lengths) > 1  # lengths vary between batches


def test_marks_and_lengths_cover_their_ranges():
    rng = np.random.default_rng(0)
    earlier, later, lengths = set(), set(), set()
    for _ in range(200):
        xs, _ = adding_1997(20, 100, rng)
        lengths.add(xs.shape[0])
        for k in range(20):
            p = np.flatnonzero(xs[:, k, 1] == 1)
            earlier.add(int(p[0]))
            later.add(int(p[1]))
    assert lengths == set(range(100, 111))
    assert set(range(9)) <= earlier and earlier | later == set(range(49))


def test_x1_on_the_first_pair_counts_as_zero():
    """Where the first pair is marked, it is X1 (set to 0) or X2 (and X1, the other mark,
    is among the first ten)."""
    rng = np.random.default_rng(1)
    zeros = 0
    for _ in range(50):
        xs, _ = adding_1997(64, 40, rng)
        for k in np.flatnonzero(xs[0, :, 1] == 1):
            other = np.flatnonzero(xs[1:, k, 1] == 1)[0] + 1
            assert xs[0, k, 0] == 0 or other < 10
            zeros += xs[0, k, 0] == 0
    assert zeros > 100  # X1 falls on the first pair in about 1 sequence in 10


def test_the_criterion_counts_errors_of_004_and_more():
    ys = np.array([[0.5], [0.5], [0.5], [0.5]])
    predictions = ys + np.array([[0.0], [0.0399], [-0.0401], [0.2]])
    assert wrong_1997(predictions, ys) == 2
    assert ADDING_1997_TOLERANCE == 0.04


def test_a_length_can_be_asked_for_and_is_checked():
    xs, _ = adding_1997(3, 100, np.random.default_rng(2), length=110)
    assert xs.shape == (110, 3, 2) and xs.dtype == np.float64
    assert adding_1997(3, 100, np.random.default_rng(2), np.float32)[0].dtype == np.float32
    with pytest.raises(ValueError, match=r"length must be in \[T, T \+ T/10\] = \[100, 110\]"):
        adding_1997(3, 100, np.random.default_rng(2), length=111)
    with pytest.raises(ValueError, match="T must be at least 20"):
        adding_1997(3, 19, np.random.default_rng(2))
