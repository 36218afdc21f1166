"""The 1997 paper's adding experiment, rerun: Hochreiter & Schmidhuber, "Long Short-Term
Memory", Neural Computation 9(8), 1997, Experiment 4 (``python -m lstm paper``).

The task is :func:`lstm.tasks.adding_1997`. The model is the paper's as far as minigrad's
cells allow: the 1997 cell (no forget gate) with 4 memory cells, as the paper's 2 blocks
of 2 (here each cell has its own gates, where a block shares them), read out by one
linear unit. Its input gates start closed and its output gates half closed (biases
-3 and -6, -2 and -4, block by block), the paper's remedy against the cells' state
drifting before they have learnt what to store. Today's LSTM (forget gate, forget bias
1) and the plain tanh RNN run beside it with the same budget.

A run trains on fresh batches of one length each, tests every ``eval_every`` sequences
on 2560 sequences drawn once, and stops at the paper's criterion: at most 1 of the 2560
wrong (absolute error at the end 0.04 or more). Its number is the training sequences it
took.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad.nn.functional import mse_loss

from .analysis import decay_per_step, gradient_flow
from .models import SequenceModel
from .tasks import adding_1997, wrong_1997
from .workers import run_each


class PaperRow(NamedTuple):
    """A row of the paper's table: the minimal lag, the wrong predictions out of 2560
    after training, and the training sequences it took to get there."""

    lag: int
    wrong: int
    sequences: int


#: The paper's results (its Table 7), by T.
PAPER = {100: PaperRow(50, 1, 74_000), 500: PaperRow(250, 0, 209_000),
         1000: PaperRow(500, 1, 853_000)}
#: The test set's size and the wrong predictions the criterion allows.
TEST_SIZE, ALLOWED_WRONG = 2560, 1
#: The cells a run can train: the paper's, today's LSTM, the plain RNN.
CELLS = {"lstm-1997": "lstm-no-forget", "lstm": "lstm", "rnn": "rnn"}
#: The 1997 cell's initial gate biases, for its two blocks of two cells.
INPUT_GATE_BIAS, OUTPUT_GATE_BIAS = (-3.0, -6.0), (-2.0, -4.0)


@dataclass
class PaperConfig:
    """One run. ``budget``: training sequences at most (default twice the paper's)."""

    T: int = 100
    cell: str = "lstm-1997"
    seed: int = 0
    hidden_size: int = 4
    batch_size: int = 32
    lr: float = 1e-2
    clip: float = 1.0
    budget: int | None = None
    eval_every: int = 3200
    dtype: str = "float32"
    forget_bias: float = 1.0  # today's LSTM's
    gate_biases: bool = False  # today's LSTM starts with the 1997 cell's gate biases too

    def sequences_allowed(self) -> int:
        return self.budget if self.budget is not None else 2 * PAPER.get(
            self.T, PaperRow(0, 0, 500 * self.T)).sequences


@dataclass
class PaperResult:
    """What a run did: ``history`` has one row per test, ``(sequences, wrong, mse,
    seconds)``; ``flow`` is ``||dL/dh_t||`` of the trained model for each step t of 256
    test sequences of length T (:func:`lstm.analysis.gradient_flow`)."""

    config: PaperConfig
    solved: bool
    sequences: int
    wrong: int
    seconds: float
    history: list[tuple[int, int, float, float]] = field(default_factory=list)
    flow: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_model(config: PaperConfig, rng: np.random.Generator) -> SequenceModel:
    """The run's model, with the 1997 cell's gate biases set as the paper starts them."""
    model = SequenceModel(CELLS[config.cell], 2, config.hidden_size, 1,
                          dtype=np.dtype(config.dtype), rng=rng,
                          forget_bias=config.forget_bias)
    if config.cell == "lstm-1997" or (config.cell == "lstm" and config.gate_biases):
        q = config.hidden_size
        b = model.recurrent.cells[0].b.data  # the blocks of [i, g, o] or [i, f, g, o]
        blocks = (slice(0, q // 2), slice(q // 2, q))
        for cells, gate_in, gate_out in zip(blocks, INPUT_GATE_BIAS, OUTPUT_GATE_BIAS):
            b[0, :q][cells] = gate_in  # the input gate's block comes first
            b[0, -q:][cells] = gate_out  # and the output gate's last
    return model


def held_out(T: int, seed: int, dtype: np.dtype, chunks: int = 10) -> list[tuple]:
    """The 2560 test sequences, in ``chunks`` batches of one length each."""
    rng = np.random.default_rng(seed + 10_000)
    size = TEST_SIZE // chunks
    return [adding_1997(size, T, rng, dtype) for _ in range(chunks)]


def score(model: SequenceModel, tests: list[tuple]) -> tuple[int, float]:
    """Wrong predictions (the paper's criterion) and the MSE, over the test set."""
    wrong, squared, count = 0, 0.0, 0
    with mg.no_grad():
        for xs, ys in tests:
            out = model(xs).data
            wrong += wrong_1997(out, ys)
            squared += float(np.sum((out - ys) ** 2))
            count += len(ys)
    return wrong, squared / count


def run(config: PaperConfig,
        progress: Callable[[PaperConfig, int, int, int], None] | None = None) -> PaperResult:
    """Train one model until the criterion holds or the budget is spent."""
    if config.cell not in CELLS:
        raise ValueError(f"paper: unknown cell {config.cell!r}; choose one of "
                         f"{', '.join(CELLS)}")
    dtype = np.dtype(config.dtype)
    rng = np.random.default_rng(config.seed)
    model = make_model(config, rng)
    optimizer = mg.optim.Adam(model.parameters(), lr=config.lr)
    # one plan per sequence length: T to T + T/10
    step = mg.compile(lambda xs, ys: mse_loss(model(xs), ys), cache_size=config.T // 10 + 1)
    tests = held_out(config.T, config.seed, dtype)
    allowed = config.sequences_allowed()
    start, seen, history = time.perf_counter(), 0, []
    wrong = TEST_SIZE
    while seen < allowed:
        xs, ys = adding_1997(config.batch_size, config.T, rng, dtype)
        loss = step(xs, ys)
        optimizer.zero_grad()
        loss.backward()
        mg.optim.clip_grad_norm(optimizer.params, config.clip)
        optimizer.step()
        seen += config.batch_size
        if seen % config.eval_every < config.batch_size or seen >= allowed:
            wrong, mse = score(model, tests)
            history.append((seen, wrong, mse, time.perf_counter() - start))
            if progress is not None:
                progress(config, seen, allowed, wrong)
            if wrong <= ALLOWED_WRONG:
                break
    seconds = time.perf_counter() - start
    xs, ys = adding_1997(256, config.T, np.random.default_rng(config.seed + 20_000), dtype,
                         length=config.T)
    flow = gradient_flow(model, xs, ys).tolist()
    return PaperResult(config, wrong <= ALLOWED_WRONG, seen, wrong, seconds, history, flow)


def flow_figure(results: list[PaperResult], T: int, path: Any) -> Any:
    """The gradient flow of the models trained at ``T``, one line per model (median over
    seeds, band from min to max), as ``lstm.gradflow`` draws it at initialisation."""
    from .gradflow import FlowResult, plot

    flows = []
    for cell in CELLS:
        norms = np.array([r.flow for r in results if r.config.T == T and r.config.cell == cell
                          and r.flow])
        if len(norms):
            flows.append(FlowResult(cell, norms, [decay_per_step(n, max_lag=30) for n in norms]))
    return plot(flows, path, title=f"Gradient flow after training on the 1997 adding problem, "
                f"T={T}, {len(flows[0].norms)} seeds")


def run_all(configs: list[PaperConfig], jobs: int, log: Callable[[str], None] = print
            ) -> list[PaperResult]:
    """Every run, on ``jobs`` processes: a progress bar over the runs (on a terminal) and
    one line per finished run."""
    bar = tqdm(total=len(configs), unit="run", file=sys.stderr, disable=None, leave=False)
    try:
        return run_each(run, configs, jobs, lambda r: _finished(r, bar, log))
    finally:
        bar.close()


def _finished(result: PaperResult, bar: Any, log: Callable[[str], None]) -> None:
    c = result.config
    verdict = (f"solved after {result.sequences:,} sequences" if result.solved else
               f"not solved in {result.sequences:,} sequences")
    with bar.external_write_mode():
        log(f"  {c.cell:<9} T={c.T:<5} seed={c.seed}: {verdict}, {result.wrong} of "
            f"{TEST_SIZE} wrong, {result.seconds:.0f} s")
    bar.update()


def table(results: list[PaperResult]) -> list[str]:
    """Ours beside the paper's, one row per T and cell (markdown)."""
    lines = ["| T | minimal lag | model | solved | wrong of 2560 | training sequences | "
             "time per run |", "|---|---|---|---|---|---|---|"]
    for T in sorted({r.config.T for r in results}):
        row = PAPER.get(T)
        if row is not None:
            lines.append(f"| {T} | {row.lag} | the paper (1997) | yes | {row.wrong} | "
                         f"{row.sequences:,} | |")
        for cell in CELLS:
            runs = sorted((r for r in results if r.config.T == T and r.config.cell == cell),
                          key=lambda r: r.config.seed)
            if not runs:
                continue
            solved = [r for r in runs if r.solved]
            wrong = ", ".join(str(r.wrong) for r in runs)
            sequences = ", ".join(f"{r.sequences:,}" + ("" if r.solved else " (budget)")
                                  for r in runs)
            seconds = np.median([r.seconds for r in runs])
            lines.append(f"| {T} | {T // 2} | minigrad `{cell}` | {len(solved)} of "
                         f"{len(runs)} | {wrong} | {sequences} | {seconds:.1f} s |")
    return lines
