"""Optimizers (PyTorch's update formulas) and gradient clipping.

Updates happen in place on ``param.data``, record no graph, and mark each updated
parameter as modified, so a graph built before the step refuses to backpropagate
through the old values (see :func:`minigrad.tensor.mark_modified`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .checks import number_in
from .nn.module import Parameter
from .tensor import Tensor, mark_modified


def parameter_list(params: Iterable[Tensor], who: str) -> list[Tensor]:
    """``params`` as a list of leaf tensors, each once (by identity), in order."""
    if isinstance(params, Tensor):
        raise TypeError(f"{who}: params must be an iterable of parameters, such as "
                        f"model.parameters() or [w], got a single {type(params).__name__}")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{who}: params must be an iterable of parameters, got "
                        f"{type(params).__name__}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: params must hold Tensors, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"{who}: can only optimize leaf tensors (parameters), got one "
                             f"computed by {p.op}")
    unique = list({id(p): p for p in params}.values())  # a repeated one is stepped once
    if not unique:
        raise ValueError(f"{who}: got an empty parameter list")
    return unique


class Optimizer:
    """Holds the parameters; subclasses define ``step``."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        who = type(self).__name__
        self.params = parameter_list(params, who)
        self.lr = number_in(who, "lr", lr)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``buf = momentum * buf + grad`` (``buf = grad`` at first); ``p -= lr * buf``.

    Example::

        >>> w = mg.nn.Parameter([1.0])
        >>> opt = mg.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step(); w.data
        array([0.8])
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = number_in("SGD", "momentum", momentum)
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            update = p.grad
            if self.momentum:
                buf = self.buffers[k]
                if buf is None:
                    buf = self.buffers[k] = p.grad.copy()
                else:
                    buf *= self.momentum
                    buf += p.grad
                update = buf
            p.data -= self.lr * update
            mark_modified(p)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as ``torch.optim.Adam``: each parameter
    counts its own steps, so one whose gradient first appears late gets the full
    bias-corrected update.

    Example::

        >>> w = mg.nn.Parameter([1.0])
        >>> opt = mg.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); w.data
        array([0.9])
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (number_in("Adam", "betas[0]", betas[0], 0.0, 1.0),
                      number_in("Adam", "betas[1]", betas[1], 0.0, 1.0))
        self.eps = number_in("Adam", "eps", eps)
        self.steps = [0] * len(self.params)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        beta1, beta2 = self.betas
        for k, (p, m, v) in enumerate(zip(self.params, self.m, self.v)):
            if p.grad is None:
                continue
            self.steps[k] += 1
            t = self.steps[k]
            m *= beta1
            m += (1 - beta1) * p.grad
            v *= beta2
            v += (1 - beta2) * p.grad * p.grad
            denominator = np.sqrt(v / (1 - beta2 ** t))
            denominator += self.eps
            p.data -= (self.lr / (1 - beta1 ** t)) * m / denominator
            mark_modified(p)


def clip_grad_norm(params: Iterable[Parameter] | Tensor, max_norm: float,
                   error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping (computed in float64), as
    ``torch.nn.utils.clip_grad_norm_``, and scales as it does: by ``max_norm / (norm +
    1e-6)`` where that is below 1, so a NaN norm makes every gradient NaN. Each parameter
    counts once, however often it is listed; ``max_norm=inf`` only measures a finite norm.

    Args:
        error_if_nonfinite: raise RuntimeError, and leave the gradients as they are, if
            the norm is NaN or infinite.

    Example::

        >>> w = mg.nn.Parameter([0.0, 0.0]); w.grad = np.array([3.0, 4.0])
        >>> mg.optim.clip_grad_norm([w], 1.0), w.grad.round(3)
        (5.0, array([0.6, 0.8]))
    """
    max_norm = number_in("clip_grad_norm", "max_norm", max_norm, high=math.inf,
                         high_included=True)
    if isinstance(params, Tensor):
        params = [params]
    unique = {id(p): p for p in params}.values()
    grads = [p.grad for p in unique if p.grad is not None]
    total = math.sqrt(math.fsum(float(np.vdot(g64, g64)) for g64 in
                                (g.astype(np.float64, copy=False) for g in grads)))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm: the total norm of the gradients is {total}; "
                           f"a gradient holds NaN or inf (mg.detect_anomaly() names the "
                           f"op). Pass error_if_nonfinite=False to scale them anyway")
    with np.errstate(invalid="ignore"):
        scale = max_norm / (total + 1e-6)
    if not scale >= 1:  # NaN too, as torch's clamp(max=1) keeps NaN
        for g in grads:
            g *= scale
    return total
