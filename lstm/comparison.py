"""The comparison page: the cells side by side on one input, with the knobs a student turns.

The engine's :func:`minigrad.viz.compare` draws rows it is given and knows no cell; this
module knows the cells, so it makes the rows: one model per cell, the versions of it that
the knobs ask for, and the questions those knobs answer.

- ``forget-bias``: the LSTM's forget-gate bias at initialisation (0, 1, 2, 4); trained
  weights were trained from it. The other cells have no forget gate and do not change.
- ``weight-scale``: the weights acting on ``h`` multiplied by 0.5, 1, 1.5 or 2 (the rows
  of ``W`` below the input's in the ``[x, h] @ W`` layout; the GRU's ``W_h``), an edit of
  the weights shown, made after any training.
- ``weights``: ``initial``, or ``trained`` on the adding problem at the page's T (Adam,
  batch 32, float64, until solved or ``train_steps`` steps), with a progress bar on a
  terminal.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

import minigrad as mg
from minigrad.viz.compare import Knob, Question

from .models import CELLS, SequenceModel
from .pictures import sequence_loss
from .tasks import adding_problem
from .training import ProgressBar, TrainConfig, train

FORGET_BIASES = ("0", "1", "2", "4")
WEIGHT_SCALES = ("0.5", "1", "1.5", "2")
WEIGHTS = ("initial", "trained")
#: Above this, a gradient at the start of the page counts as having arrived.
ARRIVED = 1e-3


def with_recurrent_scale(model: SequenceModel, scale: float) -> SequenceModel:
    """A copy of ``model`` whose weights on ``h`` are multiplied by ``scale`` (``model``
    itself for a scale of 1)."""
    if scale == 1:
        return model
    edited = copy.deepcopy(model)
    for cell in edited.recurrent.cells:
        if hasattr(cell, "W_h"):
            cell.W_h.data *= scale
        else:
            cell.W.data[cell.input_size:] *= scale
    return edited


def comparison_models(cells: Sequence[str], steps: int, hidden_size: int = 16,
                      train_steps: int = 2000, seed: int = 0
                      ) -> dict[tuple[str, str, str], tuple[SequenceModel, str]]:
    """The models of the page, by (cell, forget bias, weights), each with a note on how
    its training went ("" for initial weights). A cell without a forget gate has one model
    per ``weights``, the same under every bias."""
    models: dict[tuple[str, str, str], tuple[SequenceModel, str]] = {}
    for cell in cells:
        for bias in FORGET_BIASES if cell == "lstm" else ("1",):
            initial = SequenceModel(cell, 2, hidden_size, 1, rng=np.random.default_rng(seed),
                                    forget_bias=float(bias))
            trained, note = _trained(initial, steps, train_steps, seed, float(bias))
            for shown in (bias,) if cell == "lstm" else FORGET_BIASES:
                models[cell, shown, "initial"] = (initial, "")
                models[cell, shown, "trained"] = (trained, note)
    return models


def _trained(initial: SequenceModel, steps: int, train_steps: int, seed: int,
             bias: float) -> tuple[SequenceModel, str]:
    """A copy of ``initial`` trained on the adding problem at T = ``steps``, and how it
    went, in a few words."""
    trained = copy.deepcopy(initial)
    cell, T = initial.cell, max(steps, 2)
    label = f"training {cell}" + (f" (forget bias {bias:g})" if cell == "lstm" else "")
    bar = ProgressBar(train_steps, f"{label} at T={T}")
    try:
        result = train(TrainConfig(cell=cell, T=T, hidden_size=initial.recurrent.hidden_size,
                                   steps=train_steps, dtype="float64", seed=seed,
                                   test_size=200, forget_bias=bias), progress=bar, model=trained)
    finally:
        bar.close()
    return trained, (f"trained: solved at step {result.solved_at}" if result.solved else
                     f"trained {result.steps_run} steps: test MSE {result.best_score:.3f}, "
                     f"not solved")


def page_input(steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The one adding-problem sequence every row reads: ``xs (steps, 1, 2)``, ``ys (1, 1)``."""
    xs, ys = adding_problem(1, max(steps, 2), np.random.default_rng(seed + 1))
    return xs[:steps], ys


def comparison_page(cells: Sequence[str] = CELLS, steps: int = 30, hidden_size: int = 16,
                    train_steps: int = 2000, seed: int = 0,
                    models: dict[tuple[str, str, str], tuple[SequenceModel, str]] | None = None
                    ) -> mg.viz.Page:
    """The comparison page of ``cells`` unrolled over ``steps`` on one adding-problem
    sequence, with the knobs ``forget-bias``, ``weight-scale`` and ``weights``.
    ``models``: what :func:`comparison_models` gave for these arguments (made if None).

    Example::

        page = comparison_page(("rnn", "lstm"), steps=30)
        page.save("cmp.html")
    """
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells or len(set(cells)) != len(cells):
        raise ValueError(f"compare: give distinct cells among {', '.join(CELLS)}, got "
                         f"{', '.join(cells) or 'none'}")
    if models is None:
        models = comparison_models(cells, steps, hidden_size, train_steps, seed)
    xs, ys = page_input(steps, seed)
    losses: dict[tuple, mg.Tensor] = {}

    def loss(cell: str, bias: str, scale: str, weights: str) -> tuple[mg.Tensor, str]:
        model, note = models[cell, bias, weights]
        key = (id(model), scale)
        if key not in losses:
            losses[key] = sequence_loss(with_recurrent_scale(model, float(scale)), xs, ys)
        return losses[key], note

    settings = {(bias, scale, weights): {cell: loss(cell, bias, scale, weights)
                                         for cell in cells}
                for bias in FORGET_BIASES for scale in WEIGHT_SCALES for weights in WEIGHTS}
    T = max(steps, 2)
    knobs = [
        Knob("forget-bias", "forget-gate bias", FORGET_BIASES, "1",
             "forget-gate bias: the LSTM's at initialisation (trained weights were trained "
             "from it); the other cells have no forget gate"),
        Knob("weight-scale", "recurrent weights ×", WEIGHT_SCALES, "1",
             "recurrent weights ×: the weights acting on h, multiplied (after any training)"),
        Knob("weights", "weights", WEIGHTS, "initial",
             f"weights: as initialised, or trained on the adding problem at T={T} (Adam, "
             f"batch 32, at most {train_steps} steps)"),
    ]
    questions = []
    if "lstm" in cells:
        questions.append(Question(
            "bias", f"At which forget-gate bias does the LSTM's gradient at t=0, {steps - 1} "
            f"steps back from the loss, pass {ARRIVED:.0e}?".replace("e-0", "e-"),
            "first-above", "forget-bias", row="lstm", step=0, above=ARRIVED))
    if "rnn" in cells:
        questions.append(Question(
            "scale", "At which scale of the recurrent weights does the RNN's gradient "
            "explode (grow going back) instead of vanishing?", "first-growing",
            "weight-scale", row="rnn"))
    questions.append(Question(
        "training", "What does training do to each cell's decay per step?", "decay",
        "weights"))
    marked = [int(t) for t in np.flatnonzero(xs[:, 0, 1] == 1)]
    return mg.viz.compare(settings, knobs, inputs=xs[:, 0, :], marked=marked,
                          questions=questions,
                          title=f"{', '.join(cells)}: {steps} steps, hidden {hidden_size}, "
                          f"one input sequence")
