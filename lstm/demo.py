"""The main job: why an LSTM remembers what a plain RNN forgets, measured.

1. Gradient flow at initialisation: how fast ||dL/dh_t|| decays with the lag.
2. The adding problem at growing lags, for the tanh RNN, the LSTM and the LSTM
   without forget gate: who solves it, when, and how close the others get.
3. The argument as claims, each printed with the number that supports or refutes it.
4. The recall-first task: the forget gate's bias sets how long the LSTM remembers.
5. Pictures and results.json in the output folder.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from minigrad.files import staged_folder

from . import gradflow
from .models import CELLS
from .tasks import ADDING_BASELINE_MSE
from .training import TrainConfig, TrainResult, train
from .workers import run_each


@dataclass
class DemoSettings:
    """What the demo runs; the defaults take about three minutes on 2 cores."""

    lags: tuple[int, ...] = (10, 20, 50, 100)
    steps: int = 3000
    test_size: int = 1000
    flow_length: int = 100
    flow_seeds: int = 5
    seeds: int = 3
    jobs: int = 2
    #: the recall-first task: (cell, forget bias, T), at Adam lr 1e-3
    recall: tuple[tuple[str, float, int], ...] = (
        ("rnn", 1.0, 10), ("rnn", 1.0, 20), ("lstm", 1.0, 50), ("lstm", 1.0, 100),
        ("lstm", 4.0, 100), ("lstm-no-forget", 1.0, 100), ("gru", 1.0, 50), ("gru", 1.0, 100))
    recall_steps: int = 1000
    #: training steps compiled with mg.compile (False: eager, same numbers, slower)
    compile: bool = True

    @classmethod
    def quick(cls) -> DemoSettings:
        return cls(lags=(5, 10), steps=600, test_size=200, flow_length=30, flow_seeds=2,
                   seeds=1, recall=())


def _train_quietly(config: TrainConfig) -> TrainResult:
    return train(config, progress=None)


def _train_in_worker(config: TrainConfig) -> TrainResult:
    """One run in a pool worker, which ``ps`` and ``top`` show by what it trains
    (e.g. ``T=100 lstm``) instead of as one more ``python``."""
    _name_this_process(f"T={config.T} {config.cell}")
    return _train_quietly(config)


def _name_this_process(name: str) -> None:
    """Set the name ``ps -o comm`` and ``top`` show (Linux keeps 15 characters; other
    systems have no such file, and keep the name they had)."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass


def run_grid(settings: DemoSettings, log=print) -> list[TrainResult]:
    """Train every cell at every lag on the adding problem, longest runs first."""
    configs = [TrainConfig(cell=cell, T=T, steps=settings.steps, test_size=settings.test_size,
                           seed=seed, compile=settings.compile)
               for T in sorted(settings.lags, reverse=True) for cell in CELLS
               for seed in range(settings.seeds)]
    return train_all(configs, settings.jobs, log)


def run_recall(settings: DemoSettings, log=print) -> list[TrainResult]:
    """The recall-first task (K=4 symbols) at the settings' (cell, forget bias, T)."""
    configs = [TrainConfig(task="recall", cell=cell, T=T, forget_bias=bias, lr=1e-3,
                           steps=settings.recall_steps, test_size=min(settings.test_size, 500),
                           compile=settings.compile)
               for cell, bias, T in settings.recall]
    return train_all(configs, settings.jobs, log)


def train_all(configs: list[TrainConfig], jobs: int, log=print) -> list[TrainResult]:
    """Train each configuration, on ``jobs`` processes: a progress bar over the runs (on
    a terminal) and one line per finished run."""
    bar = tqdm(total=len(configs), unit="run", file=sys.stderr, disable=None, leave=False)
    try:
        return run_each(_train_quietly, configs, jobs, lambda r: _finished(r, bar, log),
                        in_worker=_train_in_worker)
    finally:
        bar.close()


def _finished(result: TrainResult, bar: Any, log: Any) -> None:
    with bar.external_write_mode():  # the line above the bar, not through it
        log(_one_line(result))
    bar.update()


def _one_line(r: TrainResult) -> str:
    verdict = f"solved at {r.solved_at}" if r.solved else f"not solved in {r.steps_run}"
    score = ("best test MSE" if r.config.task == "adding" else "best test accuracy")
    return (f"  done: {r.config.task:<7}{r.config.cell:<15} T={r.config.T:<4} seed "
            f"{r.config.seed}  {verdict:<20} {score} {r.best_score:.4f}  ({r.seconds:.0f}s)")


def recall_table(results: list[TrainResult]) -> str:
    """cell, forget bias, T: solved or not, at which step, best test accuracy."""
    header = f"{'cell':<16}{'forget bias':>12}{'T':>5}{'solved at':>11}{'best accuracy':>15}"
    rows = [header, "-" * len(header)]
    for r in sorted(results, key=lambda r: (CELLS.index(r.config.cell), r.config.forget_bias,
                                            r.config.T)):
        bias = f"{r.config.forget_bias:g}" if r.config.cell == "lstm" else "-"
        rows.append(f"{r.config.cell:<16}{bias:>12}{r.config.T:>5}"
                    f"{r.solved_at if r.solved else 'no':>11}{r.best_score:>15.3f}")
    return "\n".join(rows)


def _groups(results: list[TrainResult]) -> dict[tuple[str, int], list[TrainResult]]:
    groups: dict[tuple[str, int], list[TrainResult]] = {}
    for r in sorted(results, key=lambda r: (CELLS.index(r.config.cell), r.config.T,
                                            r.config.seed)):
        groups.setdefault((r.config.cell, r.config.T), []).append(r)
    return groups


def results_table(results: list[TrainResult]) -> str:
    """cell x T over seeds: how many solved, at which step, final and best test MSE
    (median over seeds), and seconds (mean per run)."""
    header = (f"{'cell':<16}{'T':>5}{'solved':>9}  {'solved at step':<20}{'final MSE':>10}"
              f"{'best MSE':>10}{'s/run':>8}")
    rows = [header, "-" * len(header)]
    for (cell, T), runs in _groups(results).items():
        at = ", ".join(str(r.solved_at) for r in runs if r.solved) or "-"
        solved = f"{sum(r.solved for r in runs)}/{len(runs)}"
        rows.append(f"{cell:<16}{T:>5}{solved:>9}  {at:<20}"
                    f"{np.median([r.final_score for r in runs]):>10.4f}"
                    f"{np.median([r.best_score for r in runs]):>10.4f}"
                    f"{np.mean([r.seconds for r in runs]):>8.1f}")
    return "\n".join(rows)


def claims(results: list[TrainResult], flows: list[gradflow.FlowResult],
           settings: DemoSettings) -> list[tuple[str, bool, str]]:
    """The argument, each claim with the numbers that support or refute it."""
    groups = _groups(results)
    flow = {f.cell: f for f in flows}
    out = []
    shortest, longest = min(settings.lags), max(settings.lags)

    def solved(runs: list[TrainResult]) -> str:
        steps = ", ".join(str(r.solved_at) for r in runs if r.solved)
        return f"{sum(r.solved for r in runs)} of {len(runs)} seeds" + (
            f" (at steps {steps})" if steps else "")

    runs = groups[("rnn", shortest)]
    out.append((f"the tanh RNN solves the adding problem at T={shortest}",
                all(r.solved for r in runs), solved(runs)))
    for T in settings.lags:
        if T >= 50:
            runs = groups[("rnn", T)]
            best = min(r.best_score for r in runs)
            out.append((f"the tanh RNN never gets its test MSE below 0.12 at T={T} (baseline "
                        f"{ADDING_BASELINE_MSE:.3f})", best > 0.12,
                        f"lowest test MSE of any seed {best:.4f}"))
    runs = groups[("lstm", longest)]
    out.append((f"the LSTM solves T={longest} within 2000 steps",
                all(r.solved and r.solved_at <= 2000 for r in runs), solved(runs)))
    T = flows[0].norms.shape[1]
    lag = min(30, T - 1)
    rnn_rel = float(np.median(flow["rnn"].relative(lag)))
    out.append((f"the RNN's gradient is below 1e-4 of its final value by lag {lag}",
                rnn_rel < 1e-4, f"median ratio over seeds {rnn_rel:.1e}"))
    lag = T - 1
    nf_rel = float(np.median(flow["lstm-no-forget"].relative(lag)))
    out.append((f"the LSTM without forget gate keeps more than 0.1 of it at lag {lag}",
                nf_rel > 0.1, f"median ratio over seeds {nf_rel:.2f}"))
    return out


def run_recall_section(settings: DemoSettings, verdicts: list, log=print) -> list[TrainResult]:
    """Section 4: train, print the table, add its claim to ``verdicts``."""
    log(f"\n4. How long a cell remembers: recall the first of 4 symbols after T steps of "
        f"distractors (chance 0.25, solved = test accuracy >= 0.99, Adam lr 1e-3, at most "
        f"{settings.recall_steps} steps)")
    recall = run_recall(settings, log)
    log("")
    log(recall_table(recall))
    for text, holds, number in recall_claims(recall):
        verdicts.append((text, holds, number))
        log(f"  [{'yes' if holds else 'NO '}] {text}: {number}")
    return recall


def recall_claims(results: list[TrainResult]) -> list[tuple[str, bool, str]]:
    """Where the longest recall lag ran with forget bias 1 and 4: does only bias 4 solve it?"""
    runs = {(r.config.forget_bias, r.config.T): r for r in results if r.config.cell == "lstm"}
    lags = [T for (bias, T) in runs if bias == 1.0 and (4.0, T) in runs]
    if not lags:
        return []
    T = max(lags)
    weak, strong = runs[(1.0, T)], runs[(4.0, T)]
    return [(f"the forget gate's bias decides how long the LSTM remembers: at T={T} it "
             f"fails with bias 1 and solves the task with bias 4",
             strong.solved and not weak.solved,
             f"bias 1 best accuracy {weak.best_score:.3f}; bias 4 "
             + (f"solved at step {strong.solved_at}" if strong.solved else
                f"best accuracy {strong.best_score:.3f}"))]


def run(settings: DemoSettings, out_dir: Path, log=print) -> dict:
    """Run everything, print the tables, write pictures and results.json to ``out_dir``.

    The files are written to a hidden folder beside ``out_dir`` and moved there only
    when everything succeeded: an error or Ctrl-C leaves ``out_dir`` as it was."""
    out_dir = Path(out_dir)
    with staged_folder(out_dir) as staging:
        report = _run(settings, staging, out_dir, log)
    log("\nWritten:")
    for name in [*report["pictures"].values(), str(out_dir / "results.json")]:
        log(f"  {name}")
    log(f"total {report['seconds']:.0f}s")
    return report


def _run(settings: DemoSettings, staging: Path, out_dir: Path, log=print) -> dict:
    """:func:`run`, writing into ``staging``; paths in the report point into ``out_dir``."""
    start = time.perf_counter()
    log(f"1. Gradient flow at initialisation (T={settings.flow_length}, hidden 32, batch 32, "
        f"{settings.flow_seeds} seeds; median [min, max] of ||dL/dh_(T-lag)|| / ||dL/dh_T||)")
    flows = gradflow.measure(T=settings.flow_length, seeds=settings.flow_seeds)
    log(gradflow.table(flows))
    pictures = {"gradient_flow": gradflow.plot(flows, staging / "gradient_flow.png")}
    log(f"\n2. The adding problem (float32, hidden 32, batch 32, Adam lr 1e-2, clip 1.0, "
        f"forget bias 1.0, solved = test MSE < 0.01 on {settings.test_size} sequences, "
        f"at most {settings.steps} steps, {settings.seeds} seeds; predicting 1.0 scores "
        f"{ADDING_BASELINE_MSE:.3f})")
    results = run_grid(settings, log)
    log("")
    log(results_table(results))
    verdicts = claims(results, flows, settings)
    log("\n3. The argument, measured")
    for text, holds, number in verdicts:
        log(f"  [{'yes' if holds else 'NO '}] {text}: {number}")
    recall = run_recall_section(settings, verdicts, log) if settings.recall else []
    pictures.update(_pictures(staging))
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, NumPy {np.__version__}",
        "settings": settings.__dict__ | {"lags": list(settings.lags),
                                         "recall": [list(r) for r in settings.recall]},
        "gradient_flow": {f.cell: {"decay_per_step": f.decays,
                                   "relative": {str(lag): f.relative(lag).tolist()
                                                for lag in gradflow.LAGS
                                                if lag < f.norms.shape[1]}}
                          for f in flows},
        "runs": [r.to_dict() for r in results],
        "recall_runs": [r.to_dict() for r in recall],
        "claims": [{"claim": t, "holds": h, "measured": n} for t, h, n in verdicts],
        "pictures": {name: str(out_dir / Path(path).name) for name, path in pictures.items()},
        "seconds": time.perf_counter() - start,
    }
    (staging / "results.json").write_text(json.dumps(report, indent=1))
    return report


def _pictures(out_dir: Path) -> dict[str, str]:
    """The unrolled-graph pictures; without Graphviz's dot, say how to get it."""
    from minigrad.viz import DotNotFoundError

    from .pictures import demo_pictures

    try:
        return demo_pictures(out_dir)
    except DotNotFoundError as error:
        print(f"  (no pictures of the unrolled graph: {error})")
        return {}
