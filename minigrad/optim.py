"""Optimizers (PyTorch's update formulas) and gradient clipping.

Updates happen in place on ``param.data`` and record no graph.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .nn.module import Parameter


def _parameter_list(params: Iterable[Parameter], who: str) -> list[Parameter]:
    params = list(params)
    if not params:
        raise ValueError(f"{who}: got an empty parameter list")
    return params


class Optimizer:
    """Holds the parameters; subclasses define ``step``."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be >= 0, got {lr}")
        self.params = _parameter_list(params, type(self).__name__)
        self.lr = lr

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
        self.momentum = momentum
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


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as ``torch.optim.Adam``.

    Example::

        >>> w = mg.nn.Parameter([1.0])
        >>> opt = mg.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); w.data
        array([0.9])
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        correction1 = 1 - beta1 ** self.t
        correction2 = 1 - beta2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m *= beta1
            m += (1 - beta1) * p.grad
            v *= beta2
            v += (1 - beta2) * p.grad * p.grad
            denominator = np.sqrt(v / correction2)
            denominator += self.eps
            p.data -= (self.lr / correction1) * m / denominator


def clip_grad_norm(params: Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping, as ``torch.nn.utils.clip_grad_norm_``.

    Example::

        >>> w = mg.nn.Parameter([0.0, 0.0]); w.grad = np.array([3.0, 4.0])
        >>> mg.optim.clip_grad_norm([w], 1.0), w.grad.round(3)
        (5.0, array([0.6, 0.8]))
    """
    grads = [p.grad for p in params if p.grad is not None]
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= scale
    return total
