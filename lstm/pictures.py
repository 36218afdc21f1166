"""Pictures of unrolled cells, for the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.nn.functional import mse_loss

from .models import SequenceModel
from .tasks import adding_problem

#: One colour scale for every heat picture the demo draws, so they can be compared.
HEAT_RANGE = (1e-8, 1.0)


def unrolled_loss(cell: str, steps: int, hidden_size: int = 16, batch: int = 1,
                  seed: int = 0) -> mg.Tensor:
    """The MSE loss of a freshly initialised model on one adding-problem batch, with its
    whole unrolled graph attached (shared W, b; one scope per step)."""
    rng = np.random.default_rng(seed)
    model = SequenceModel(cell, 2, hidden_size, 1, rng=rng)
    xs, ys = adding_problem(batch, max(steps, 2), rng)
    return mse_loss(model(xs[:steps]), ys)


def draw_unrolled(cell: str, steps: int, path: str | Path, depth: int | None = None,
                  heat: bool = False, values: bool = False, grads: bool = False,
                  hidden_size: int = 16, highlight: str | None = None) -> Path:
    """Draw ``cell`` unrolled over ``steps`` steps and save it (format from the suffix)."""
    loss = unrolled_loss(cell, steps, hidden_size)
    picture = mg.viz.draw_graph(loss, values=values, grads=grads, heat=heat, depth=depth,
                                heat_range=HEAT_RANGE if heat else None, highlight=highlight)
    return mg.viz.save(picture, path)


def demo_pictures(out_dir: Path) -> dict[str, str]:
    """The demo's pictures: a 3-step LSTM at full depth with gradients and the cell-state
    path highlighted, and 30-step RNN and LSTM coloured by gradient size."""
    return {
        "lstm_3_steps": str(draw_unrolled("lstm", 3, out_dir / "lstm_3_steps.svg", grads=True,
                                          hidden_size=8, highlight="c")),
        "rnn_30_steps_heat": str(draw_unrolled("rnn", 30, out_dir / "rnn_30_steps_heat.svg",
                                               depth=1, heat=True)),
        "lstm_30_steps_heat": str(draw_unrolled("lstm", 30, out_dir / "lstm_30_steps_heat.svg",
                                                depth=1, heat=True)),
    }
