"""Losses, written with minigrad's primitives."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import log_softmax
from ..tensor import Tensor


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean of ``(pred - target) ** 2`` over all elements; shapes must match.

    Example::

        >>> mse_loss(mg.tensor([[1.0], [3.0]]), np.array([[0.0], [1.0]])).item()
        2.5
    """
    target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
    if pred.shape != target_shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape "
                         f"{target_shape}")
    diff = pred - target
    return (diff * diff).mean()


def cross_entropy(logits: Tensor, target_indices: Any) -> Tensor:
    """Mean negative log-likelihood of the right class, via a stable log_softmax.

    Args:
        logits: (B, K) unnormalised scores.
        target_indices: (B,) integers in [0, K).

    Example::

        >>> logits = mg.tensor([[2.0, 0.0], [0.0, 2.0]])   # (B, K)
        >>> round(cross_entropy(logits, np.array([0, 1])).item(), 4)
        0.1269
    """
    targets = np.asarray(target_indices)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (B, K), got shape {logits.shape}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target_indices must be integers, got {targets.dtype}")
    if targets.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: target_indices has shape {targets.shape}, "
                         f"expected ({logits.shape[0]},) for logits {logits.shape}")
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target_indices must lie in [0, {logits.shape[1]})")
    picked = log_softmax(logits, axis=-1)[np.arange(len(targets)), targets]
    return -picked.mean()
