"""``python -m lstm paper`` (issue #38): the paper's model, the stopping rule, the table
beside the paper's and the files a run writes. The runs themselves are long: the
numbers are in docs/paper.md, made by the command."""

import json

import numpy as np
import pytest

from lstm import paper
from lstm.cli import main
from lstm.paper import PAPER, TEST_SIZE, PaperConfig, held_out, make_model, run, table


def test_the_1997_cell_starts_with_the_paper_s_gate_biases():
    model = make_model(PaperConfig(cell="lstm-1997"), np.random.default_rng(0))
    b = model.recurrent.cells[0].b.data[0]  # [i, g, o], 4 cells each
    np.testing.assert_array_equal(b[:4], [-3, -3, -6, -6])
    np.testing.assert_array_equal(b[8:], [-2, -2, -4, -4])
    assert np.all(np.abs(b[4:8]) <= 0.5)  # the cell input keeps its uniform init
    today = make_model(PaperConfig(cell="lstm"), np.random.default_rng(0))
    np.testing.assert_array_equal(today.recurrent.cells[0].b.data[0, 4:8], 1.0)  # forget


def test_the_test_set_is_2560_sequences_drawn_once():
    first, again = held_out(100, 0, np.float32), held_out(100, 0, np.float32)
    assert sum(len(ys) for _, ys in first) == TEST_SIZE
    assert all(100 <= xs.shape[0] <= 110 for xs, _ in first)
    for (xs, ys), (xs2, ys2) in zip(first, again):
        np.testing.assert_array_equal(xs, xs2)
        np.testing.assert_array_equal(ys, ys2)


def test_a_run_stops_at_the_criterion(monkeypatch):
    scores = iter([(5, 0.01), (2, 0.005), (1, 0.001), (0, 0.0)])
    monkeypatch.setattr(paper, "score", lambda model, tests: next(scores))
    result = run(PaperConfig(T=20, batch_size=8, eval_every=16, budget=10_000))
    assert result.solved and result.sequences == 48 and result.wrong == 1
    assert [row[:2] for row in result.history] == [(16, 5), (32, 2), (48, 1)]
    assert len(result.flow) == 20 and all(n >= 0 for n in result.flow)


def test_a_run_that_misses_stops_at_its_budget():
    result = run(PaperConfig(T=20, cell="rnn", batch_size=16, eval_every=64, budget=96))
    assert not result.solved and result.sequences == 96 and result.wrong > 1
    assert [row[0] for row in result.history] == [64, 96]


def test_the_budget_is_twice_the_paper_s():
    assert PaperConfig(T=500).sequences_allowed() == 2 * PAPER[500].sequences == 418_000
    assert PaperConfig(T=100, budget=10).sequences_allowed() == 10


def test_the_table_puts_the_paper_s_row_first():
    results = [paper.PaperResult(PaperConfig(T=100, cell=cell, seed=seed), cell != "rnn",
                                 32_000 if cell != "rnn" else 148_000, 0 if cell != "rnn" else
                                 2100, 10.0) for cell in ("lstm-1997", "rnn") for seed in (0, 1)]
    lines = table(results)
    assert lines[2] == "| 100 | 50 | the paper (1997) | yes | 1 | 74,000 | |"
    assert lines[3] == ("| 100 | 50 | minigrad `lstm-1997` | 2 of 2 | 0, 0 | 32,000, 32,000 | "
                        "10.0 s |")
    assert "0 of 2 | 2100, 2100 | 148,000 (budget), 148,000 (budget)" in lines[4]


def test_the_command_writes_its_table_results_and_figure(tmp_path, capsys):
    out = tmp_path / "paper"
    assert main(["paper", "--T", "20", "--seeds", "1", "--jobs", "1", "--budget", "64",
                 "--cells", "lstm-1997", "rnn", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 20 | 10 | minigrad `rnn` | 0 of 1 |" in printed
    results = json.loads((out / "results.json").read_text())
    assert [r["config"]["cell"] for r in results] == ["lstm-1997", "rnn"]
    assert (out / "table.md").read_text().startswith("| T | minimal lag |")
    assert (out / "gradient_flow.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["paper", "--cells", "gru"], "invalid choice: 'gru'"),
    (["paper", "--T", "0"], "must be a positive"),
])
def test_bad_arguments_say_what_is_wrong(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_today_s_lstm_can_start_with_the_1997_gate_biases():
    model = make_model(PaperConfig(cell="lstm", gate_biases=True, forget_bias=5.0),
                       np.random.default_rng(0))
    b = model.recurrent.cells[0].b.data[0]  # [i, f, g, o]
    np.testing.assert_array_equal(b[:4], [-3, -3, -6, -6])
    np.testing.assert_array_equal(b[4:8], 5.0)
    np.testing.assert_array_equal(b[12:], [-2, -2, -4, -4])
