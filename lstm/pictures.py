"""Pictures of unrolled cells, for the command line and the demo."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.nn.functional import mse_loss

from .glossary import GLOSSARIES
from .models import SequenceModel
from .tasks import adding_problem
from .training import ProgressBar, TrainConfig, train


def unrolled_loss(cell: str, steps: int, hidden_size: int = 16, batch: int = 1,
                  seed: int = 0, model: SequenceModel | None = None) -> mg.Tensor:
    """The MSE loss of a freshly initialised model on one adding-problem batch, with its
    whole unrolled graph attached: shared W, b; one scope per step, then ``readout``
    and ``loss``. The initial state (``H0``, and ``C0`` for an LSTM: (layers, batch, hidden),
    sliced per layer into ``h0`` and ``c0``) requires grad, so
    that step 0 is drawn like every other step and the picture shows the gradient that
    reaches the start. ``model``: draw this one (trained, say) on the same batch."""
    rng = np.random.default_rng(seed)
    fresh = SequenceModel(cell, 2, hidden_size, 1, rng=rng)  # same data either way
    xs, ys = adding_problem(batch, max(steps, 2), rng)
    return sequence_loss(fresh if model is None else model, xs[:steps], ys)


def sequence_loss(model: SequenceModel, xs: np.ndarray, ys: np.ndarray) -> mg.Tensor:
    """The MSE loss of ``model`` on ``xs: (T, B, p)`` against ``ys: (B, 1)``, from an
    initial state of zeros that requires grad (``H0``, and ``C0`` for an LSTM), so that
    the graph shows the gradient that reaches the start."""
    shape = (model.recurrent.num_layers, xs.shape[1], model.recurrent.hidden_size)
    state = mg.tensor(np.zeros(shape), requires_grad=True, name="H0")
    if model.cell.startswith("lstm"):
        state = (state, mg.tensor(np.zeros(shape), requires_grad=True, name="C0"))
    prediction = model(xs, state)
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


def explorer_page(cell: str, steps: int, hidden_size: int = 16, trained: bool = False,
                  train_steps: int = 2000, seed: int = 0) -> mg.viz.Explorer:
    """The explorer page of ``cell`` unrolled over ``steps``; with ``trained``, a second
    view of the same model trained on the adding problem at that lag (Adam, batch 32,
    float64) until it solves it or ``train_steps`` steps have passed, with a progress
    bar on a terminal."""
    model = SequenceModel(cell, 2, hidden_size, 1, rng=np.random.default_rng(seed))
    title = f"{cell}, {steps} steps, hidden {hidden_size}: backpropagation through time"
    loss = unrolled_loss(cell, steps, hidden_size, seed=seed, model=model)
    if not trained:
        return mg.viz.explore(loss, title=title, glossary=GLOSSARIES[cell])
    tuned = copy.deepcopy(model)
    bar = ProgressBar(train_steps, f"training {cell} at T={max(steps, 2)}")
    try:
        result = train(TrainConfig(cell=cell, T=max(steps, 2), hidden_size=hidden_size,
                                   steps=train_steps, dtype="float64", seed=seed,
                                   test_size=200), progress=bar, model=tuned)
    finally:
        bar.close()
    after = unrolled_loss(cell, steps, hidden_size, seed=seed, model=tuned)
    outcome = (f"solved at step {result.solved_at}" if result.solved else
               f"{result.steps_run} steps, test MSE {result.best_score:.3f}")
    return mg.viz.explore(loss, title=title, label="initial weights",
                          compare={f"trained ({outcome})": after}, glossary=GLOSSARIES[cell])


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
