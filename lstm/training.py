"""The training loop: fresh batches, Adam, gradient clipping, periodic test, early stop."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad.nn.functional import cross_entropy, mse_loss

from .models import SequenceModel
from .tasks import TASKS, Task


@dataclass
class TrainConfig:
    """Everything a run depends on (the defaults are the demo's recipe)."""

    task: str = "adding"
    cell: str = "lstm"
    T: int = 50
    hidden_size: int = 32
    batch_size: int = 32
    steps: int = 3000
    lr: float = 1e-2
    clip: float = 1.0
    forget_bias: float = 1.0
    eval_every: int = 100
    test_size: int = 1000
    seed: int = 0
    dtype: str = "float32"
    compile: bool = True


@dataclass
class TrainResult:
    """What a run did. ``history`` has one row per evaluation:
    ``(step, train_loss, test_score, seconds)``; the score is MSE or accuracy."""

    config: TrainConfig
    solved: bool
    solved_at: int | None
    best_score: float
    final_score: float
    steps_run: int
    seconds: float
    history: list[tuple[int, float, float, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def loss_and_score(task: Task, out: mg.Tensor, ys: np.ndarray) -> tuple[mg.Tensor, float]:
    """The training loss and the task's score (MSE, or accuracy for classification)."""
    if task.kind == "regression":
        loss = mse_loss(out, ys)
        return loss, loss.item()
    return cross_entropy(out, ys), float(np.mean(out.argmax(axis=1) == ys))


def batch_loss_function(task: Task, model: SequenceModel,
                        compile: bool = True) -> Callable[[np.ndarray, np.ndarray], mg.Tensor]:
    """``(xs, targets) -> loss`` of one training batch, under :func:`minigrad.compile`
    when ``compile``. ``targets``: ``(B, 1)`` values for regression, ``(B, K)`` one-hot
    rows for classification (float arrays, so a new batch replays the compiled step
    where integer labels would be frozen into it)."""
    def batch_loss(xs: mg.Tensor, targets: mg.Tensor) -> mg.Tensor:
        out = model(xs)
        if task.kind == "regression":
            return mse_loss(out, targets)
        return -(mg.log_softmax(out, axis=-1) * targets).sum(axis=-1).mean()
    return mg.compile(batch_loss) if compile else batch_loss


def training_targets(task: Task, ys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """What :func:`batch_loss_function` takes: ``ys`` itself, or one-hot rows of it."""
    if task.kind == "regression":
        return ys
    return np.eye(task.output_size, dtype=dtype)[ys]


def is_solved(task: Task, score: float) -> bool:
    return score < task.threshold if task.kind == "regression" else score >= task.threshold


class ProgressBar:
    """A progress bar over training steps on stderr (tqdm), updated at each evaluation
    with the training loss and the test score; drawn only on a terminal, so logs do not
    fill with it. Use it as ``train(config, progress=bar)`` and ``bar.close()`` after."""

    def __init__(self, total: int, label: str) -> None:
        self.bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr, disable=None,
                        leave=False, dynamic_ncols=True)

    def __call__(self, label: str, step: int, steps: int, loss: float, score: float,
                 seconds: float) -> None:
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix_str(f"loss {loss:.4f}, test {score:.4f}")

    def close(self) -> None:
        self.bar.close()


def train(config: TrainConfig,
          progress: Callable[..., None] | None = None,
          model: SequenceModel | None = None) -> TrainResult:
    """Train a :class:`SequenceModel` on ``config.task`` and return what happened.

    Every step draws a fresh batch; every ``eval_every`` steps the model is scored on a
    fixed set of ``test_size`` sequences, and training stops as soon as that score
    solves the task (MSE below 0.01 for the adding problem). ``model``: train this one
    (in place) instead of a new one made from ``config``. With ``config.compile`` the
    training step's forward and backward run compiled (:func:`minigrad.compile`): the
    same numbers to rounding, in less time.
    """
    task = TASKS[config.task]
    dtype = np.dtype(config.dtype)
    rng = np.random.default_rng(config.seed)
    if model is None:
        model = SequenceModel(config.cell, task.input_size, config.hidden_size,
                              task.output_size, dtype=dtype, rng=rng,
                              forget_bias=config.forget_bias)
    optimizer = mg.optim.Adam(model.parameters(), lr=config.lr)
    batch_loss = batch_loss_function(task, model, config.compile)
    test_xs, test_ys = task.make(config.test_size, config.T, np.random.default_rng(
        config.seed + 10_000), dtype=dtype)
    label = f"{config.cell} T={config.T} seed={config.seed}"
    history: list[tuple[int, float, float, float]] = []
    start = time.perf_counter()
    best = np.inf if task.kind == "regression" else -np.inf
    solved_at, score, recent_loss, step = None, float("nan"), 0.0, 0
    for step in range(1, config.steps + 1):
        xs, ys = task.make(config.batch_size, config.T, rng, dtype=dtype)
        loss = batch_loss(xs, training_targets(task, ys, dtype))
        optimizer.zero_grad()
        loss.backward()
        mg.optim.clip_grad_norm(optimizer.params, config.clip)
        optimizer.step()
        recent_loss += loss.item()
        if step % config.eval_every == 0 or step == config.steps:
            with mg.no_grad():
                _, score = loss_and_score(task, model(test_xs), test_ys)
            elapsed = time.perf_counter() - start
            mean_loss = recent_loss / (step - (history[-1][0] if history else 0))
            history.append((step, mean_loss, score, elapsed))
            recent_loss = 0.0
            best = min(best, score) if task.kind == "regression" else max(best, score)
            if progress is not None:
                progress(label, step, config.steps, mean_loss, score, elapsed)
            if is_solved(task, score):
                solved_at = step
                break
    return TrainResult(config, solved_at is not None, solved_at, float(best), float(score),
                       step, time.perf_counter() - start, history)
