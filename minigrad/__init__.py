"""minigrad: a small, readable, fast reverse-mode autograd engine over NumPy.

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 2.0]], requires_grad=True, name="x")
    >>> y = mg.tanh(x @ mg.tensor([[0.5], [-0.25]])).sum()
    >>> y.backward()
    >>> x.grad.shape
    (1, 2)
"""

# Tensor first: its module imports the ops and the sweep that build on it.
from .tensor import Tensor, tensor  # isort: split

from . import nn, optim, viz
from .autograd import grad, sum_to, topological_order
from .context import current_scope, detect_anomaly, enable_grad, is_grad_enabled, no_grad, scope
from .gradcheck import gradcheck
from .ops import (
    PRIMITIVES,
    add,
    broadcast_to,
    concat,
    div,
    exp,
    getitem,
    hadamard,
    index_add,
    log,
    log_softmax,
    matmul,
    mean,
    mul,
    neg,
    power,
    relu,
    reshape,
    sigmoid,
    split,
    stack,
    sub,
    sum,
    tanh,
    transpose,
)
from .primitive import Primitive
from .serialization import load, save

__all__ = [
    "PRIMITIVES", "Primitive", "Tensor", "add", "broadcast_to", "concat", "current_scope",
    "detect_anomaly", "div", "enable_grad", "exp", "getitem", "grad", "gradcheck", "hadamard",
    "index_add", "is_grad_enabled", "load", "log", "log_softmax", "matmul", "mean", "mul",
    "neg", "nn", "no_grad", "optim", "power", "relu", "reshape", "save", "scope", "sigmoid",
    "split", "stack", "sub", "sum", "sum_to", "tanh", "tensor", "topological_order",
    "transpose", "viz",
]
__version__ = "0.1.0"
