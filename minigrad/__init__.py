"""minigrad: a small, readable, fast reverse-mode autograd engine over NumPy.

    >>> import minigrad as mg
    >>> x = mg.tensor([[1.0, 2.0]], requires_grad=True, name="x")
    >>> y = mg.tanh(x @ mg.tensor([[0.5], [-0.25]])).sum()
    >>> y.backward()
    >>> x.grad.shape
    (1, 2)
"""

# Tensor first, then its operators: minigrad.methods imports the ops built on Tensor.
from .tensor import Tensor, tensor  # isort: split

from . import (
    methods,  # noqa: F401  (gives Tensor its operators and methods)  # isort: split
    nn,
    optim,
    viz,
)
from .autograd import grad, sum_to, topological_order
from .compiler import CompileMismatchError, compile
from .context import (
    TracingError,
    current_scope,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
)
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .gradcheck import gradcheck
from .numpy_ops import (
    PRIMITIVES,
    abs,
    argmax,
    argmin,
    astype,
    clip,
    einsum,
    expand_dims,
    flatten,
    max,
    maximum,
    min,
    minimum,
    pad,
    power,
    softmax,
    sqrt,
    squeeze,
    std,
    var,
    where,
)
from .ops import (
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
    "PRIMITIVES", "CompileMismatchError", "Primitive", "Tensor", "TracingError", "abs",
    "add", "arange", "argmax", "argmin", "astype", "broadcast_to", "clip", "compile", "concat",
    "current_scope",
    "detect_anomaly", "div", "einsum",
    "enable_grad", "exp", "expand_dims", "eye", "flatten", "full", "getitem", "grad",
    "gradcheck", "hadamard", "index_add", "is_grad_enabled", "load", "log", "log_softmax",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "nn", "no_grad",
    "ones", "ones_like", "optim", "pad", "power", "rand", "randn", "relu", "reshape", "save",
    "scope", "sigmoid", "softmax", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum",
    "sum_to", "tanh", "tensor", "topological_order", "transpose", "var", "viz", "where",
    "zeros", "zeros_like",
]
__version__ = "0.1.0"
