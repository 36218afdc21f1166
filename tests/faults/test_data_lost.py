"""Faults that lost data (issue #10, items 7-9): checkpoints a failed save destroyed,
half-loaded parameters, outputs lost after minutes of work or left half written."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from lstm.cli import main
from minigrad.nn import Linear, Module, Parameter

ROOT = Path(__file__).resolve().parents[2]
# subprocesses import this checkout's packages, whatever is installed
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def model(seed):
    return Linear(30, 20, rng=np.random.default_rng(seed))


def same_parameters(a, b):
    return all(np.array_equal(p.data, q.data)
               for p, q in zip(a.parameters(), b.parameters(), strict=True))


def leftovers(folder, keep):
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in keep)


# ---- 7. mg.save is atomic ------------------------------------------------------------------

def test_a_writer_failing_halfway_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    mg.save(model(0), path)
    real_write = np.lib.format.write_array
    calls = []

    def fail_on_second_array(file, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            file.write(b"\x93NUMPY half of an array")
            raise OSError(28, "No space left on device")
        real_write(file, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_array)
    with pytest.raises(OSError, match="No space left on device"):
        mg.save(model(1), path)
    monkeypatch.undo()
    assert same_parameters(mg.load(model(2), path), model(0))
    assert leftovers(tmp_path, {"model.npz"}) == []  # no temporary file left behind


def test_a_save_killed_halfway_leaves_the_old_checkpoint_whole(tmp_path):
    path = tmp_path / "model.npz"
    mg.save(model(0), path)
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import minigrad as mg
        from minigrad.nn import Linear

        real_write = np.lib.format.write_array
        def write_then_stall(file, array, **kwargs):
            real_write(file, array, **kwargs)
            file.flush()
            print("halfway", flush=True)
            time.sleep(60)
        np.lib.format.write_array = write_then_stall
        mg.save(Linear(30, 20, rng=np.random.default_rng(1)), {str(path)!r})
    """)
    saver = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env=CHECKOUT_ENV)
    try:
        assert saver.stdout.readline() == "halfway\n"
        saver.send_signal(signal.SIGKILL)
    finally:
        saver.wait(timeout=30)
    assert saver.returncode == -signal.SIGKILL
    assert same_parameters(mg.load(model(2), path), model(0))


def test_concurrent_savers_never_interleave_and_readers_never_see_half(tmp_path):
    path = tmp_path / "model.npz"
    models = [Linear(1000, 300, rng=np.random.default_rng(seed)) for seed in range(3)]
    mg.save(models[2], path)
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import minigrad as mg
        from minigrad.nn import Linear

        big = Linear(1000, 300, rng=np.random.default_rng(int(sys.argv[1])))
        print("ready", flush=True)
        sys.stdin.readline()  # all start together
        for _ in range(40):
            mg.save(big, {str(path)!r})
    """)
    savers = [subprocess.Popen([sys.executable, "-c", script, str(seed)], env=CHECKOUT_ENV,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
              for seed in range(2)]
    assert [saver.stdout.readline() for saver in savers] == ["ready\n", "ready\n"]
    for saver in savers:
        saver.stdin.write("go\n")
        saver.stdin.close()
    seen = []
    while not seen or any(saver.poll() is None for saver in savers):  # read while they write
        loaded = mg.load(Linear(1000, 300), path)
        seen.append([k for k, m in enumerate(models) if same_parameters(loaded, m)])
    assert [saver.wait() for saver in savers] == [0, 0]
    assert all(len(match) == 1 for match in seen), "a read saw a mix of checkpoints"
    loaded = mg.load(Linear(1000, 300), path)
    assert sum(same_parameters(loaded, m) for m in models[:2]) == 1
    assert leftovers(tmp_path, {"model.npz"}) == []


class Keywords(Module):
    """Parameters named like np.savez's own keyword arguments."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.file = Parameter(rng.standard_normal(3))
        self.allow_pickle = Parameter(rng.standard_normal(2))


def test_parameters_named_like_savez_keywords_round_trip(tmp_path):
    mg.save(Keywords(0), tmp_path / "k.npz")
    loaded = mg.load(Keywords(1), tmp_path / "k.npz")
    assert same_parameters(loaded, Keywords(0))
    assert sorted(np.load(tmp_path / "k.npz").files) == ["allow_pickle", "file"]


class Clashing(Module):
    def __init__(self):
        self.blocks = {"0.W": Parameter([1.0]), "0": {"W": Parameter([2.0])}}


def test_two_parameters_with_one_name_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^state_dict: two parameters of Clashing are both "
                                         r"named 'blocks.0.W'"):
        mg.save(Clashing(), tmp_path / "c.npz")
    assert leftovers(tmp_path, set()) == []
    with pytest.raises(ValueError, match="^load_state_dict: two parameters of Clashing"):
        Clashing().load_state_dict({"blocks.0.W": np.array([3.0])})


@pytest.mark.parametrize("name", ["ckpt", "ckpt.npz", "run.1", "dir.d/ckpt"])
def test_save_and_load_accept_the_same_path(tmp_path, name):
    (tmp_path / "dir.d").mkdir()
    written = mg.save(model(0), tmp_path / name)
    assert written.name.endswith(".npz") and written.exists()
    assert same_parameters(mg.load(model(1), tmp_path / name), model(0))
    assert same_parameters(mg.load(model(1), str(tmp_path / name)), model(0))


# ---- 8. load_state_dict is all or nothing ----------------------------------------------

def test_a_read_only_parameter_late_in_the_list_changes_nothing():
    net = Linear(3, 2)
    before = {k: v.copy() for k, v in net.state_dict().items()}
    net.b.data.setflags(write=False)
    state = {k: v + 1 for k, v in before.items()}
    with pytest.raises(ValueError, match=r"the parameter 'b' is read-only"):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_tensor_in_the_state_is_read_as_its_array():
    net = Linear(3, 2)
    state = {k: mg.tensor(v + 1) for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.W.data, state["W"].data)


# ---- 9. the command line: outputs checked first, Ctrl-C is clean -------------------------

@pytest.mark.parametrize("argv, message", [
    (["train", "--json", "/missing/dir/r.json"],
     "argument --json: the folder /missing/dir does not exist"),
    (["train", "--json", "r.txt"], "argument --json: 'r.txt' has an unknown format; use .json"),
    (["graph", "-o", "/missing/g.svg"], "argument -o/--output: the folder /missing does not"),
    (["graph", "-o", "g.jpg"], "argument -o/--output: 'g.jpg' has an unknown format; use .svg"),
    (["gradflow", "-o", "/missing/f.png"], "argument -o/--output: the folder /missing does"),
    (["gradflow", "-o", "f.dot"], "argument -o/--output: 'f.dot' has an unknown format"),
    (["demo", "--out", "/proc/version"], "argument --out: '/proc/version' exists and is not a"),
    (["demo", "--out", "/proc/minigrad/out"], "argument --out: the folder /proc is not writable"),
    (["train", "--lr", "nan"], "argument --lr: must be a number >= 0, got 'nan'"),
    (["train", "--lr", "-1"], "argument --lr: must be a number >= 0, got '-1'"),
    (["train", "--clip", "-1"], "argument --clip: must be a number >= 0, got '-1'"),
    (["train", "--clip", "nan"], "argument --clip: must be a number >= 0, got 'nan'"),
    (["train", "--seed", "-1"], "argument --seed: must be a non-negative integer, got -1"),
    (["train", "--forget-bias", "inf"], "argument --forget-bias: must be a number, got 'inf'"),
])
def test_arguments_are_checked_before_any_work(argv, message, capsys, monkeypatch):
    monkeypatch.setattr("lstm.training.train", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr("lstm.demo.run", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and message in err, err


def test_an_infinite_clip_means_no_clipping(tmp_path):
    assert main(["train", "--T", "3", "--steps", "2", "--test-size", "5", "--clip", "inf",
                 "--json", str(tmp_path / "r.json")]) == 0


def start(argv, tmp_path):
    """``python -m lstm ARGV`` in its own process group, as a terminal would run it: with
    Ctrl-C's signal at its default even where the tests run with it ignored (under
    ``nohup`` or ``&`` in a script), which Python would otherwise inherit and keep."""
    return subprocess.Popen([sys.executable, "-m", "lstm", *argv], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=CHECKOUT_ENV,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(stream, text):
    """Read ``stream`` line by line until one contains ``text``."""
    for line in stream:
        if text in line:
            return line
    raise AssertionError(f"the process ended before printing {text!r}")


def until(state, what, limit=300):
    """Poll ``state()`` until it returns something true, and return that. ``limit`` only
    turns a state that never comes into a failure instead of a hang: the tests below
    wait for processes to start, which takes seconds even on a loaded machine."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = state()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{what} never happened")


def interrupt(process, group=False):
    """Ctrl-C: SIGINT to the process, or to its whole group as a terminal sends it; its
    exit status once it has ended."""
    if group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=300)  # a hang fails, it does not hang CI
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("the command ran on after Ctrl-C") from None


def interrupt_and_read(process, group=False):
    """:func:`interrupt`, then what the process wrote: its status, stdout and stderr."""
    code = interrupt(process, group)
    return (code, *process.communicate())


def children(pid, named=""):
    """The pids of ``pid``'s live child processes whose name starts with ``named``
    (Linux)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return {c for c in found if alive(c) and name(c).startswith(named)}


def training(pid):
    """The demo's pool workers that are in a training run: they name themselves after
    it (``T=200 rnn``) once they have started it."""
    return children(pid, "T=")


def name(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return ""


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except FileNotFoundError:
        return False
    return state != "Z"


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(),
                                reason="reads child processes from /proc")

# Each test below interrupts a run that cannot finish first, whatever the machine's speed:
# the plain RNN never solves the adding problem at T=200 (its gradient is gone by lag 30),
# so it trains for all of a million steps; gradflow measures 100,000 seeds; dot lays out
# 150 full-depth steps, which takes it minutes.
ENDLESS_TRAINING = ["--T", "200", "--steps", "1000000"]


@needs_proc
def test_ctrl_c_stops_train_with_one_line_and_no_output(tmp_path):
    process = start(["train", "--cell", "rnn", *ENDLESS_TRAINING, "--json", "r.json"],
                    tmp_path)
    wait_for(process.stderr, "training rnn on adding at T=200")  # the loop starts now
    code, _, stderr = interrupt_and_read(process)
    assert code == 130
    assert stderr == "python -m lstm train: interrupted\n"
    assert not (tmp_path / "r.json").exists()


@needs_proc
def test_ctrl_c_stops_gradflow_with_one_line_and_no_plot(tmp_path):
    process = start(["gradflow", "--steps", "400", "--seeds", "100000", "-o", "f.png"],
                    tmp_path)
    wait_for(process.stderr, "measuring")
    code, stdout, stderr = interrupt_and_read(process)
    assert code == 130 and stdout == ""
    assert stderr == "python -m lstm gradflow: interrupted\n"
    assert leftovers(tmp_path, set()) == []


@needs_proc
@pytest.mark.parametrize("group", [False, True], ids=["process", "process group"])
def test_ctrl_c_stops_the_demo_and_its_workers_leaving_no_folder(tmp_path, group):
    process = start(["demo", "--quick", "--jobs", "2", "--lags", "200", *ENDLESS_TRAINING[2:],
                     "--out", "out"], tmp_path)
    wait_for(process.stdout, "2. The adding problem")
    workers = until(lambda: len(found := training(process.pid)) == 2 and found,
                    "two workers training")
    assert process.poll() is None and all(alive(w) for w in workers)
    code = interrupt(process, group)
    survivors = {w for w in workers if alive(w)}
    for pid in survivors:  # they would hold the output pipes open, and the machine busy
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "a worker outlived the demo"
    assert code == 130
    assert process.communicate()[1] == "python -m lstm demo: interrupted\n"
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path, set()) == []  # nor a half-written hidden folder


@needs_proc
def test_ctrl_c_while_dot_draws_stops_dot_too(tmp_path):
    process = start(["graph", "--cell", "lstm", "--steps", "150", "-o", "g.svg"], tmp_path)
    dot = until(lambda: children(process.pid, "dot") or process.poll() is not None,
                "dot starting")
    assert process.poll() is None, "the command ended before dot started"
    code, _, stderr = interrupt_and_read(process)
    assert code == 130
    warning, interrupted = stderr.splitlines()
    assert warning.startswith("python -m lstm graph: 150 steps at full depth may take dot")
    assert interrupted == "python -m lstm graph: interrupted"
    assert not any(alive(pid) for pid in dot), "dot was orphaned"
    assert leftovers(tmp_path, set()) == []


def test_a_demo_that_fails_leaves_the_output_folder_as_it_was(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("the previous run")

    def fail(*args, **kwargs):
        raise RuntimeError("training broke")

    monkeypatch.setattr("lstm.demo.run_grid", fail)
    assert main(["demo", "--quick", "--jobs", "1", "--out", str(out)]) == 1
    assert "training broke" in capsys.readouterr().err
    assert (out / "results.json").read_text() == "the previous run"
    assert leftovers(out, {"results.json"}) == []  # not even the gradient-flow plot
    assert leftovers(tmp_path, {"out"}) == []
