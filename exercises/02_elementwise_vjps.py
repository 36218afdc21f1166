"""Task 02: the VJPs of sigmoid, tanh and the Hadamard product, as minigrad Primitives.

A primitive is a forward function on NumPy arrays and one vector-Jacobian product (VJP)
per input: ``vjp(g, y, *inputs)`` gets ``g``, the gradient of the loss with respect to the
output ``y``, and returns the gradient with respect to that input. For an elementwise
op that is ``g`` times the derivative, entry by entry.

Write each VJP with operators (``* + - /``) on ``g``, ``y`` and the inputs, not with
``np.`` functions: then the same line runs on NumPy arrays in a plain ``backward()`` and
on minigrad Tensors when ``create_graph=True`` asks for a second derivative.

Check: ``python -m exercises check 02``
"""

import numpy as np

import minigrad as mg


def sigmoid_forward(x):
    """sigma(x) = 1 / (1 + e^-x), on an array ``x`` of any shape; the same dtype back.

    Hint: for x = -1000, ``np.exp(-x)`` overflows. sigma(x) = (1 + tanh(x / 2)) / 2 is
    the same function and never overflows.
    """
    raise NotImplementedError  # your code here


def sigmoid_vjp(g, y, x):
    """The gradient of the loss with respect to ``x``, given ``g`` (like ``y``) and
    ``y = sigmoid_forward(x)``.

    Hint: d sigma(x)/dx = sigma(x) (1 - sigma(x)), and sigma(x) is ``y``.
    """
    raise NotImplementedError  # your code here


def tanh_forward(x):
    """tanh(x), on an array of any shape."""
    raise NotImplementedError  # your code here


def tanh_vjp(g, y, x):
    """The gradient with respect to ``x``, given ``g`` and ``y = tanh(x)``."""
    raise NotImplementedError  # your code here


def hadamard_forward(a, b):
    """The entrywise (Hadamard) product of two arrays of one shape."""
    raise NotImplementedError  # your code here


def hadamard_vjp_a(g, y, a, b):
    """The gradient with respect to ``a``. d(a * b)/da = b, entry by entry."""
    raise NotImplementedError  # your code here


def hadamard_vjp_b(g, y, a, b):
    """The gradient with respect to ``b``."""
    raise NotImplementedError  # your code here


# given: the primitives, made from your functions (try sigmoid(mg.tensor(...)).backward())
sigmoid = mg.Primitive("sigmoid", sigmoid_forward, sigmoid_vjp)
tanh = mg.Primitive("tanh", tanh_forward, tanh_vjp)
hadamard = mg.Primitive("hadamard", hadamard_forward, hadamard_vjp_a, hadamard_vjp_b)
