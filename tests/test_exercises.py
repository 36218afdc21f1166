"""The course's grader (issue #33): the key passes, the stubs are "not implemented yet",
and every mutant of the key (a sign flipped, a transpose dropped, a call to the very
minigrad function the task asks for) fails its task with a message a student can act on."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exercises import cli, stubs
from exercises.graders import TASKS

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOLUTIONS = EXERCISES / "solutions"

#: (task, what the mutant does, text of the key, its replacement, words the message has)
MUTANTS = [
    ("01", "an add that overwrites its parents' grads", "other.grad += out.grad",
     "other.grad = out.grad", "grad of"),
    ("01", "mul's local derivatives swapped", "self.grad += other.data * out.grad",
     "self.grad += self.data * out.grad", "d(a * b)/da = b"),
    ("01", "tanh's derivative without the square", "(1 - t * t)", "(1 - t)", "1 - tanh(a)^2"),
    ("01", "backward in creation order, not newest first", "for value in reversed(order):",
     "for value in order:", "newest first"),
    ("01", "a recursive topological order",
     "        order, seen, stack = [], set(), [(self, False)]\n",
     "        order, seen = [], set()\n\n        def visit(v):\n            if id(v) in seen:\n"
     "                return\n            seen.add(id(v))\n            for p in v.parents:\n"
     "                visit(p)\n            order.append(v)\n        visit(self)\n"
     "        stack = []\n", "recursed too deep"),
    ("01", "backward that forgets to seed grad 1", "        self.grad = 1.0\n", "",
     "grad of"),
    ("02", "sigmoid's VJP without (1 - y)", "return g * y * (1 - y)", "return g * y",
     "leave out (1 - sigma(x))"),
    ("02", "sigmoid's VJP on x instead of y", "return g * y * (1 - y)",
     "return g * x * (1 - x)", "you used x where sigma(x) belongs"),
    ("02", "tanh's VJP without the square", "return g * (1 - y * y)", "return g * (1 - y)",
     "square it"),
    ("02", "the Hadamard VJPs swapped", "    return g * b\n", "    return g * a\n",
     "that is the gradient of b"),
    ("02", "the naive sigmoid that overflows", "return (1 + np.tanh(x / 2)) / 2",
     "return 1 / (1 + np.exp(-x))", "overflows"),
    ("02", "sigmoid's VJP borrowed from minigrad", "return g * y * (1 - y)",
     "return mg.ops._sigmoid_vjp(g, y, x)", "calls minigrad's own sigmoid"),
    ("02", "tanh's VJP through mg.tanh", "return g * (1 - y * y)",
     "return g * (1 - mg.tanh(x).data ** 2)", "calls minigrad"),
    ("02", "a VJP that turns float32 into float64", "return g * y * (1 - y)",
     "return (g * y * (1 - y)).astype('float64')", "keep the dtype"),
    ("03", "matmul_vjp_a without the transpose", "unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape)",
     "unbroadcast(g @ b, a.shape)", "g @ b^T"),
    ("03", "matmul_vjp_b multiplied the wrong way round",
     "unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape)",
     "unbroadcast(g @ np.swapaxes(a, -1, -2), b.shape)", "a^T @ g"),
    ("03", "unbroadcast that drops the size-1 axes", "keepdims=True", "keepdims=False",
     "unbroadcast"),
    ("03", "unbroadcast that keeps the leading axes",
     "grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))", "grad = grad",
     "unbroadcast"),
    ("03", "matmul_vjp_a that never unbroadcasts",
     "return unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape)",
     "return g @ np.swapaxes(b, -1, -2)", "unbroadcast"),
    ("03", "matmul's VJPs borrowed from minigrad",
     "return unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape)",
     "return mg.ops._matmul_vjp_b(g, y, a, b)", "calls minigrad's own matmul"),
    ("04", "concat's piece one place off", "start = sum(x.shape[axis] for x in xs[:k])",
     "start = sum(x.shape[axis] for x in xs[:k - 1])", "concat_vjp"),
    ("04", "concat's VJP always along the last axis", "index[axis] = slice(",
     "index[-1] = slice(", "concat_vjp"),
    ("04", "split's VJP that skips unused pieces",
     "[np.zeros_like(p) if g is None else g for g, p in zip(gs, pieces)]",
     "[g for g in gs if g is not None] or [np.zeros_like(x)]", "split_vjp"),
    ("04", "concat's forward in the wrong order", "np.concatenate(xs, axis=axis)",
     "np.concatenate(xs[::-1], axis=axis)", "concat_forward"),
    ("05", "the step factor without the square", "[w * (1 - h * h) for h in hs[1:]]",
     "[w * (1 - h) for h in hs[1:]]", "step_factors"),
    ("05", "the factors of h_0 .. h_(T-1), one step off", "[w * (1 - h * h) for h in hs[1:]]",
     "[w * (1 - h * h) for h in hs[:-1]]", "step_factors"),
    ("05", "dL/dw from the last step only", "    delta, total = 1.0, 0.0\n",
     "    return (1 - hs[-1] ** 2) * hs[-2]\n    delta, total = 1.0, 0.0\n", "sums over t"),
    ("05", "w and u swapped in the forward", "math.tanh(w * hs[-1] + u * x)",
     "math.tanh(w * x + u * hs[-1])", "forward"),
    ("05", "dL/dw with h_t for h_(t-1)", "total += local * hs[t - 1]",
     "total += local * hs[t]", "dL_dw"),
    ("05", "dL/dh0 by minigrad's backward", "    product = 1.0\n",
     "    import minigrad as mg\n    W = mg.tensor(w, requires_grad=True)\n"
     "    return float(mg.grad(mg.tanh(W * hs[0]), W)[0].data)\n    product = 1.0\n",
     "calls minigrad"),
    ("06", "[h, x] for [x, h]", "mg.concat([x, h], axis=-1)", "mg.concat([h, x], axis=-1)",
     "W's first p rows act on x"),
    ("06", "sigmoid for tanh", "return mg.tanh(mg.concat", "return mg.sigmoid(mg.concat",
     "rnn_cell"),
    ("06", "no bias", "@ W + b)\n", "@ W)\n", "rnn_cell"),
    ("06", "lstm's RNNCell borrowed", "    return mg.tanh(mg.concat([x, h], axis=-1) @ W + b)\n",
     "    from lstm.cells import RNNCell\n    cell = RNNCell(W.shape[0] - h.shape[1], "
     "h.shape[1], dtype=W.dtype)\n    cell.W, cell.b = W, b\n    return cell(x, h)\n",
     "calls lstm's RNNCell"),
    ("06", "computed in NumPy", "    return mg.tanh(mg.concat([x, h], axis=-1) @ W + b)\n",
     "    import numpy as np\n    return mg.tensor(np.tanh(np.concatenate([x.data, h.data], "
     "axis=-1) @ W.data + b.data))\n", "computed outside minigrad"),
    ("06", "every step reads the first input", "h = rnn_cell(xs[t], h, W, b)",
     "h = rnn_cell(xs[0], h, W, b)", "rnn_unroll"),
    ("07", "the gates i and f swapped", "zi, zf, zg, zo = mg.split(Z, 4, axis=-1)",
     "zf, zi, zg, zo = mg.split(Z, 4, axis=-1)", "in the order i, f, g, o"),
    ("07", "h' from the old c", "return o * mg.tanh(c_new), c_new",
     "return o * mg.tanh(c), c_new", "with the new c'"),
    ("07", "g squashed by a sigmoid", "mg.tanh(zg), mg.sigmoid(zo)",
     "mg.sigmoid(zg), mg.sigmoid(zo)", "lstm_cell"),
    ("07", "a 1997 cell that forgets", "c_new = c + mg.sigmoid(zi) * mg.tanh(zg)",
     "c_new = mg.sigmoid(zi) * mg.tanh(zg)", "no forget gate"),
    ("07", "lstm's LSTMCell borrowed", "    Z = mg.concat([x, h], axis=-1) @ W + b\n",
     "    from lstm.cells import LSTMCell\n    cell = LSTMCell(x.shape[1], h.shape[1], "
     "dtype=W.dtype)\n    cell.W, cell.b = W, b\n    return cell(x, (h, c))\n",
     "calls lstm's LSTMCell"),
    ("08", "the fit in the wrong direction", "np.log(norms[::-1])", "np.log(norms)",
     "reverse the norms"),
    ("08", "a constant for a fit", "    return float(np.exp(slope))\n", "    return 0.9\n",
     "decay_per_step"),
    ("08", "the loss on the mean, not the sum", "mg.grad(hs[-1].sum(), hs)",
     "mg.grad(hs[-1].mean(), hs)", "gradient_norms"),
    ("08", "norms borrowed from lstm.analysis", "    hs, _ = layer.unroll(xs)\n",
     "    from lstm.analysis import gradient_flow\n    return gradient_flow(layer, xs)\n",
     "calls lstm.analysis.gradient_flow"),
    ("09", "a guess instead of a search", "    for bias in sorted(biases):\n",
     "    return min(biases)\n    for bias in sorted(biases):\n", "smallest_bias"),
    ("09", "the test the wrong way round", "> threshold", "< threshold", "smallest_bias"),
    ("09", "the ratio upside down", "return float(norms[0] / norms[lag])",
     "return float(norms[lag] / norms[0])",
     "gradient_at_lag"),
    ("09", "the biases in the order given", "for bias in sorted(biases):",
     "for bias in biases:", "smallest_bias"),
    ("10", "the reset gate on the whole candidate", "n = mg.tanh(xn + r * hn)",
     "n = mg.tanh(r * (xn + hn))", "r * (h W_hn + b_hn)"),
    ("10", "the update gate mixing the wrong way", "return (1 - z) * n + z * h",
     "return z * n + (1 - z) * h", "h' = (1 - z) * n + z * h"),
    ("10", "r and z of the input swapped", "xr, xz, xn = mg.split", "xz, xr, xn = mg.split",
     "gru_cell"),
    ("10", "lstm's GRUCell borrowed", "    xr, xz, xn = mg.split(x @ W_x + b_x, 3, axis=-1)\n",
     "    from lstm.cells import GRUCell\n    cell = GRUCell(x.shape[1], h.shape[1], "
     "dtype=h.dtype)\n    cell.W_x, cell.W_h, cell.b_x, cell.b_h = W_x, W_h, b_x, b_h\n"
     "    return cell(x, h)\n", "calls lstm's GRUCell"),
    ("11", "a compiled run that never compiles",
     "step = mg.compile(loss_fn) if compiled else loss_fn", "step = loss_fn",
     "never calls mg.compile"),
    ("11", "gradients never cleared", "            p.grad = None\n", "",
     "p.grad = None"),
    ("11", "SGD uphill", "            p.data -= lr * p.grad\n",
     "            p.data += lr * p.grad\n", "train"),
    ("11", "a trace per call", "    return step.traces\n", "    return len(batches)\n",
     "one trace per new shape"),
    ("11", "a difference of the losses only",
     "    gaps += [np.max(np.abs(a - b)) for a, b in zip(eager_params, fast_params)]\n", "",
     "its gradients 0.1% off"),
]


def mutated(tmp_path: Path, task: str, old: str, new: str) -> Path:
    """A copy of the key in ``tmp_path`` with one change to ``task``'s file."""
    folder = tmp_path / "key"
    shutil.copytree(SOLUTIONS, folder)
    path = folder / TASKS[task].file
    text = path.read_text()
    assert text.count(old) == 1, f"the mutant's text is not in the key once: {old!r}"
    path.write_text(text.replace(old, new))
    return folder


def test_the_key_passes_every_task(capsys):
    assert cli.main(["check", "--dir", str(SOLUTIONS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{t.number} {t.name}: PASS" for t in TASKS.values()] + [
        "11 of 11 tasks pass"]


def test_every_stub_is_not_implemented_yet(capsys):
    assert cli.main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(TASKS) + 1 and lines[-1] == f"0 of {len(TASKS)} tasks pass"
    for line, task in zip(lines, TASKS.values()):
        assert line.startswith(f"{task.number} {task.name}: FAIL: not implemented yet ("), line


def test_the_task_files_are_the_key_stubbed():
    """``python -m exercises.stubs`` made them; they never drift from the key."""
    for task in TASKS.values():
        key = (SOLUTIONS / task.file).read_text()
        assert (EXERCISES / task.file).read_text() == stubs.stub(key), (
            f"run `python -m exercises.stubs`: {task.file} is not the key stubbed")


def test_there_are_at_least_three_mutants_per_task():
    counts = {task: sum(m[0] == task for m in MUTANTS) for task in TASKS}
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("task, what, old, new, words", MUTANTS,
                         ids=[f"{m[0]}-{m[1]}" for m in MUTANTS])
def test_a_mutant_of_the_key_fails_its_task(tmp_path, task, what, old, new, words):
    problem = cli.grade(TASKS[task], mutated(tmp_path, task, old, new))
    assert problem is not None, f"the mutant survived: {what}"
    assert words in problem, problem
    assert "not implemented yet" not in problem


def test_a_message_says_what_is_wrong_in_the_students_terms(tmp_path):
    problem = cli.grade(TASKS["02"], mutated(tmp_path, "02", "return g * y * (1 - y)",
                                             "return g * y * (1 - y) * 0.25"))
    assert problem.startswith("your sigmoid_vjp is off by a factor of about 0.25 at x = ")
    assert "sigma(x) (1 - sigma(x))" in problem


def test_a_file_that_does_not_run_or_is_missing(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / TASKS["05"].file).write_text("def forward(w, u, xs, h0:\n")
    assert cli.grade(TASKS["05"], folder).startswith("the file does not run: ")
    assert "git checkout exercises/06_rnn_cell.py" in cli.grade(TASKS["06"], folder)
    (folder / TASKS["05"].file).write_text("raise ValueError('oops')\n")
    assert cli.grade(TASKS["05"], folder) == ("your file (its top level) raised ValueError: "
                                              "oops (line 1 of 05_bptt_by_hand.py)")


def test_an_endless_loop_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "LIMIT_SECONDS", 1)
    folder = mutated(tmp_path, "05", "    hs = [h0]\n", "    while True:\n        pass\n")
    assert cli.grade(TASKS["05"], folder) == ("grading took more than 1 s: is there an "
                                              "endless loop?")


@pytest.mark.parametrize("argv, message", [
    (["check", "12"], "no task '12'"),
    (["check", "--dir", "/no/such/folder"], "no folder /no/such/folder"),
])
def test_bad_arguments(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_students_path_from_the_command_line(tmp_path):
    """Edit a task file, check it, read the message, fix it, pass: as the README says."""
    folder = tmp_path / "work"
    shutil.copytree(EXERCISES, folder, ignore=shutil.ignore_patterns("solutions", "graders",
                                                                      "__pycache__", "*.md"))
    task = folder / TASKS["05"].file
    key = (SOLUTIONS / TASKS["05"].file).read_text()
    task.write_text(key.replace("return [w * (1 - h * h) for h in hs[1:]]",
                                "return [w * (1 - h) for h in hs[1:]]"))

    def check():
        return subprocess.run([sys.executable, "-m", "exercises", "check", "05", "--dir",
                               str(folder)], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})

    first = check()
    assert first.returncode == 1 and first.stdout.startswith("05 bptt_by_hand: FAIL: your "
                                                             "step_factors ")
    assert "w (1 - h_t^2)" in first.stdout
    task.write_text(key)
    second = check()
    assert second.returncode == 0 and second.stdout == ("05 bptt_by_hand: PASS\n"
                                                        "1 of 1 tasks pass\n")
