"""Task 03: matmul's VJPs, and undoing broadcasting (the gradient door).

``a @ b`` with ``a: (..., n, k)`` and ``b: (..., k, m)`` gives ``y: (..., n, m)``; the
leading (batch) axes broadcast as in NumPy, so ``a: (5, 2, 3) @ b: (3, 4)`` is five
products with the same ``b``. The gradient of an input must have that input's shape:
where an input was broadcast (copied) in the forward, its gradient is the sum over the
copies. That sum is :func:`unbroadcast`; minigrad's backward applies it at the one door
every gradient passes through.

Check: ``python -m exercises check 03``
"""

import numpy as np

import minigrad as mg


def unbroadcast(grad, shape):
    """``grad`` (the shape of a broadcast result) summed back to ``shape`` (a shape that
    broadcast to it): sum over the leading axes ``shape`` does not have, and over every
    axis where ``shape`` has 1 and ``grad`` more (keeping that axis, of size 1).

    Example: ``unbroadcast(np.ones((5, 2, 3)), (1, 3))`` is ``np.full((1, 3), 10.0)``.
    """
    raise NotImplementedError  # your code here


def matmul_vjp_a(g, y, a, b):
    """The gradient with respect to ``a`` (exactly ``a``'s shape), given ``g`` like ``y``.

    Hint: per matrix, dL/da = g @ b^T; ``np.swapaxes(b, -1, -2)`` transposes the last two
    axes of a batch. Then unbroadcast to ``a.shape``.
    """
    raise NotImplementedError  # your code here


def matmul_vjp_b(g, y, a, b):
    """The gradient with respect to ``b`` (exactly ``b``'s shape).

    Hint: per matrix, dL/db = a^T @ g.
    """
    raise NotImplementedError  # your code here


# given: the primitive (inputs with at least two axes)
matmul = mg.Primitive("matmul", np.matmul, matmul_vjp_a, matmul_vjp_b)
