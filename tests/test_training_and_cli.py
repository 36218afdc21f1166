"""Training reaches the solved threshold on a short lag; the command line behaves."""

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lstm.cli import main
from lstm.models import CELLS, SequenceModel
from lstm.tasks import TASKS
from lstm.training import TrainConfig, batch_loss_function, train, training_targets
from minigrad.compiler import CompiledFunction


def test_a_small_lstm_solves_the_adding_problem_at_a_short_lag():
    result = train(TrainConfig(cell="lstm", T=5, hidden_size=16, steps=1500, eval_every=50,
                               test_size=200, seed=0), progress=None)
    assert result.solved and result.final_score < 0.01, result.history[-3:]
    assert result.config.dtype == "float32"


def test_the_rnn_loss_decreases():
    result = train(TrainConfig(cell="rnn", T=5, hidden_size=16, steps=300, eval_every=50,
                               test_size=200, seed=1), progress=None)
    first, last = result.history[0], result.history[-1]
    assert last[1] < 0.5 * first[1], result.history
    assert result.best_score < 0.1


def test_recall_task_trains_with_cross_entropy():
    result = train(TrainConfig(task="recall", cell="lstm", T=3, hidden_size=16, steps=200,
                               lr=1e-2, eval_every=50, test_size=200), progress=None)
    assert result.best_score > 0.5  # accuracy, chance is 0.25


@pytest.mark.parametrize("task", ["adding", "recall"])
@pytest.mark.parametrize("cell", CELLS)
def test_compiled_training_gives_the_eager_numbers(task, cell):
    """Each step's loss and the test scores, eager against compiled, float64."""
    runs = [train(TrainConfig(task=task, cell=cell, T=6, hidden_size=8, steps=30,
                              eval_every=10, test_size=50, dtype="float64", compile=compile),
                  progress=None) for compile in (False, True)]
    eager, compiled = ([row[1:3] for row in run.history] for run in runs)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10, atol=1e-12)


def test_the_compiled_step_traces_once_for_every_batch():
    task = TASKS["recall"]
    rng = np.random.default_rng(0)
    model = SequenceModel("lstm", task.input_size, 8, task.output_size, rng=rng)
    batch_loss = batch_loss_function(task, model)
    assert isinstance(batch_loss, CompiledFunction)
    for _ in range(3):
        xs, ys = task.make(4, 5, rng)
        loss = batch_loss(xs, training_targets(task, ys, np.dtype(np.float64)))
        expected = mg.nn.functional.cross_entropy(model(xs), ys)
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
        loss.backward()
    assert batch_loss.traces == 1


def test_eager_flag_turns_compiling_off(tmp_path):
    out = tmp_path / "run.json"
    for argv, compiled in (([], True), (["--eager"], False)):
        assert main(["train", *argv, "--T", "3", "--steps", "2", "--test-size", "5",
                     "--json", str(out)]) == 0
        assert json.loads(out.read_text())["config"]["compile"] is compiled


def test_progress_is_reported_at_each_evaluation():
    calls = []
    train(TrainConfig(cell="rnn", T=3, steps=20, eval_every=10, test_size=10),
          progress=lambda *args: calls.append(args))
    assert [c[1] for c in calls] == [10, 20]


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["train", "--help"],
                                  ["gradflow", "--help"], ["graph", "--help"]])
def test_every_command_has_help(argv):
    completed = subprocess.run([sys.executable, "-m", "lstm", *argv], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0 and "usage:" in completed.stdout


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: command"),
    (["fly"], "invalid choice: 'fly'"),
    (["train", "--cell", "peephole"], "argument --cell: invalid choice: 'peephole'"),
    (["train", "--T", "0"], "argument --T: must be a positive integer, got 0"),
    (["train", "--steps", "many"], "argument --steps: must be a positive integer, got 'many'"),
])
def test_bad_arguments_give_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_bad_value_found_later_is_one_line_too(capsys):
    assert main(["train", "--T", "1", "--steps", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == ("python -m lstm train: error: adding_problem: T must be at "
                                    "least 2, got 1")


def test_train_command_writes_json(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["train", "--cell", "rnn", "--T", "3", "--steps", "20", "--test-size", "20",
                 "--json", str(out)]) == 0
    assert "rnn on adding at T=3" in capsys.readouterr().out
    assert json.loads(out.read_text())["steps_run"] == 20


def test_gradflow_command_writes_the_plot(tmp_path, capsys):
    out = tmp_path / "flow.png"
    assert main(["gradflow", "--steps", "12", "--seeds", "1", "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000 and "lstm-no-forget" in capsys.readouterr().out


def test_quick_demo_writes_results(tmp_path, capsys):
    assert main(["demo", "--quick", "--jobs", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "results.json").read_text())
    assert len(report["runs"]) == 8 and report["claims"]  # 4 cells x 2 lags
    out = capsys.readouterr().out
    assert "the LSTM solves T=10" in out
    gru_rows = [line for line in out.splitlines() if line.startswith("gru ")]
    assert len(gru_rows) == 3  # gradient flow, and the adding problem at both lags


def _result(bias, T, solved_at, best):
    from lstm.training import TrainResult
    config = TrainConfig(task="recall", cell="lstm", T=T, forget_bias=bias)
    return TrainResult(config, solved_at is not None, solved_at, best, best, 1000, 1.0)


def test_recall_claim_compares_forget_biases_at_the_longest_shared_lag():
    from lstm.demo import recall_claims
    (text, holds, number), = recall_claims([_result(1.0, 100, None, 0.28),
                                            _result(4.0, 100, 800, 0.994),
                                            _result(1.0, 50, None, 0.27)])
    assert holds and "T=100" in text and number == ("bias 1 best accuracy 0.280; bias 4 "
                                                    "solved at step 800")
    (_, holds, _), = recall_claims([_result(1.0, 20, 300, 1.0), _result(4.0, 20, 300, 1.0)])
    assert not holds
    assert recall_claims([_result(4.0, 20, 300, 1.0)]) == []


def test_train_uses_the_tasks_learning_rate_unless_given(tmp_path):
    out = tmp_path / "run.json"
    for argv, lr in ((["--task", "recall"], 1e-3), (["--task", "recall", "--lr", "0.05"], 0.05),
                     ([], 1e-2)):
        assert main(["train", *argv, "--T", "3", "--steps", "1", "--test-size", "5",
                     "--json", str(out)]) == 0
        assert json.loads(out.read_text())["config"]["lr"] == lr


@pytest.mark.parametrize("argv", [
    ["train", "--cell", "gru", "--T", "3", "--steps", "20", "--test-size", "20"],
    ["graph", "--cell", "gru", "--steps", "2", "-o", "{tmp}/gru.dot"],
    ["explore", "--cell", "gru", "--steps", "3", "-o", "{tmp}/gru.html"],
    ["gradflow", "--steps", "6", "--seeds", "1", "-o", "{tmp}/f.png"],
])
def test_every_command_takes_the_gru(argv, tmp_path, capsys):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 0
    assert "gru" in capsys.readouterr().out


@pytest.mark.parametrize("which, shows", [
    (["--cell", "rnn", "--trained"], [b"training rnn at T=3"]),
    (["--compare", "rnn,lstm"], [b"training rnn at T=3", b"training lstm (forget bias 0) at T=3",
                                 b"training lstm (forget bias 4) at T=3"]),
], ids=["--trained", "--compare"])
def test_explore_trained_shows_a_progress_bar_on_a_terminal(tmp_path, which, shows):
    """issue #31, item 5, and #32: the training behind --trained and the comparison page's
    trained weights is not silent on a terminal."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 wide
    process = subprocess.Popen([sys.executable, "-m", "lstm", "explore", *which,
                                "--steps", "3", "--hidden", "4", "--train-steps",
                                "40", "-o", str(tmp_path / "e.html")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=terminal,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    os.close(terminal)
    shown = b""
    while True:  # read as it draws, until the command closes the terminal
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait() == 0 and b"wrote" in process.stdout.read()
    process.stdout.close()
    assert all(label in shown for label in shows) and b"step" in shown
