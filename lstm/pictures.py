"""Pictures of unrolled cells, for the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.nn.functional import mse_loss

from .models import SequenceModel
from .tasks import adding_problem


def unrolled_loss(cell: str, steps: int, hidden_size: int = 16, batch: int = 1,
                  seed: int = 0) -> mg.Tensor:
    """The MSE loss of a freshly initialised model on one adding-problem batch, with its
    whole unrolled graph attached: shared W, b; one scope per step, then ``readout``
    and ``loss``. The initial state (``h0``, and ``c0`` for an LSTM) requires grad, so
    that step 0 is drawn like every other step and the picture shows the gradient that
    reaches the start."""
    rng = np.random.default_rng(seed)
    model = SequenceModel(cell, 2, hidden_size, 1, rng=rng)
    xs, ys = adding_problem(batch, max(steps, 2), rng)
    shape = (1, batch, hidden_size)
    state = mg.tensor(np.zeros(shape), requires_grad=True, name="h0")
    if cell.startswith("lstm"):
        state = (state, mg.tensor(np.zeros(shape), requires_grad=True, name="c0"))
    prediction = model(xs[:steps], state)
    with mg.scope("loss"):
        return mse_loss(prediction, ys)


def draw_unrolled(cell: str, steps: int, path: str | Path, depth: int | None = None,
                  heat: bool = False, values: bool = False, grads: bool = False,
                  hidden_size: int = 16, highlight: str | None = None,
                  rankdir: str = "LR") -> Path:
    """Draw ``cell`` unrolled over ``steps`` steps and save it (format from the suffix)."""
    loss = unrolled_loss(cell, steps, hidden_size)
    picture = mg.viz.draw_graph(loss, values=values, grads=grads, heat=heat, depth=depth,
                                highlight=highlight, rankdir=rankdir)
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
