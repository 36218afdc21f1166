"""The gradient-flow experiment: ||dL/dh_t|| at initialisation, per cell, over seeds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minigrad.files import atomic_write

from .analysis import decay_per_step, gradient_flow, relative_norms
from .models import CELLS, SequenceModel
from .tasks import adding_problem

LAGS = (1, 10, 30, 50, 99)


@dataclass
class FlowResult:
    """Per cell: ``norms`` (seeds, T) and, per seed, the fitted decay per step."""

    cell: str
    norms: np.ndarray
    decays: list[float]

    def relative(self, lag: int) -> np.ndarray:
        """``norm[T-1-lag] / norm[T-1]`` for every seed."""
        return np.array([relative_norms(n, [lag])[lag] for n in self.norms])


def measure(T: int = 100, hidden_size: int = 32, batch: int = 32, seeds: int = 5,
            cells: tuple[str, ...] = CELLS, dtype: str = "float32") -> list[FlowResult]:
    """Gradient flow at initialisation on adding-problem inputs, loss on the last output
    (the demo's recipe: hidden 32, batch 32, PyTorch-style init, forget bias 1)."""
    results = []
    for cell in cells:
        norms, decays = [], []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            model = SequenceModel(cell, 2, hidden_size, 1, dtype=dtype, rng=rng)
            xs, ys = adding_problem(batch, T, rng, dtype=dtype)
            n = gradient_flow(model, xs, ys)
            norms.append(n)
            decays.append(decay_per_step(n, max_lag=30))
        results.append(FlowResult(cell, np.array(norms), decays))
    return results


def table(results: list[FlowResult]) -> str:
    """Median [min, max] over seeds of the decay per step and of the surviving fraction
    of the gradient at several lags."""
    T = results[0].norms.shape[1]
    lags = [lag for lag in LAGS if lag < T]
    header = f"{'cell':<16}{'fit/step, lags<=30':>22}" + "".join(f"{f'lag {lag}':>26}"
                                                                for lag in lags)
    rows = [header, "-" * len(header)]
    for r in results:
        decay = np.array(r.decays)
        row = f"{r.cell:<16}{_spread(decay, '.3f'):>22}"
        for lag in lags:
            row += f"{_spread(r.relative(lag), '.1e'):>26}"
        rows.append(row)
    return "\n".join(rows)


def _spread(values: np.ndarray, fmt: str) -> str:
    return (f"{np.median(values):{fmt}} [{values.min():{fmt}},"
            f"{values.max():{fmt}}]")


def plot(results: list[FlowResult], path: str | Path, title: str | None = None) -> Path:
    """||dL/dh_t|| / ||dL/dh_T|| against the lag T-t, log scale, one line per cell
    (median over seeds, band from min to max); ``title`` (default: at initialisation)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    colours = {"rnn": "#d62728", "lstm": "#1f77b4", "lstm-no-forget": "#2ca02c",
               "lstm-1997": "#2ca02c", "gru": "#9467bd"}
    for r in results:
        rel = r.norms[:, ::-1] / r.norms[:, -1:]
        rel = np.where(rel > 0, rel, np.nan)
        lags = np.arange(rel.shape[1])
        colour = colours.get(r.cell)
        ax.semilogy(lags, np.nanmedian(rel, axis=0), label=r.cell, color=colour, lw=2)
        ax.fill_between(lags, np.nanmin(rel, axis=0), np.nanmax(rel, axis=0), color=colour,
                        alpha=0.15, lw=0)
    ax.set_xlabel("steps back from the loss (T - t)")
    ax.set_ylabel("||dL/dh_t|| / ||dL/dh_T||")
    ax.set_title(title or f"Gradient flow at initialisation, T={rel.shape[1]}, "
                 f"{r.norms.shape[0]} seeds")
    ax.set_ylim(bottom=1e-12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    path = Path(path)
    try:
        atomic_write(path, lambda file: fig.savefig(file, format=path.suffix.lstrip(".").lower()))
    finally:
        plt.close(fig)
    return path
