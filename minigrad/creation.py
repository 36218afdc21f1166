"""Tensors made from nothing: zeros, ones, ranges, identity matrices, random numbers.

Each takes ``dtype`` (float64 unless said otherwise; the ``_like`` ones keep their
model's) and ``requires_grad``; the random ones take ``rng``, a ``numpy.random.Generator``,
so that a result can be reproduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

Shape = int | tuple[int, ...]


def _leaf(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    """A leaf holding ``array`` in ``dtype``, float64 by default."""
    return Tensor(array, requires_grad=requires_grad, dtype=dtype or np.float64)


def _shape(shape: Any, who: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"{who}: a shape is non-negative integers, got {shape!r}")
    return tuple(int(n) for n in shape)


def zeros(shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros.

    Example::

        >>> mg.zeros((2, 3)).shape
        (2, 3)
    """
    return _leaf(np.zeros(_shape(shape, "zeros")), dtype, requires_grad)


def ones(shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    Example::

        >>> mg.ones(2, dtype=np.float32).data
        array([1., 1.], dtype=float32)
    """
    return _leaf(np.ones(_shape(shape, "ones")), dtype, requires_grad)


def full(shape: Shape, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``value`` everywhere.

    Example::

        >>> mg.full((2,), 0.5).data
        array([0.5, 0.5])
    """
    return _leaf(np.full(_shape(shape, "full"), float(value)), dtype, requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape and (unless ``dtype`` says otherwise) float dtype.

    Example::

        >>> mg.zeros_like(mg.tensor([1.0, 2.0], dtype=np.float32)).dtype
        dtype('float32')
    """
    return zeros(np.shape(t.data if isinstance(t, Tensor) else t),
                 dtype or _float_dtype_of(t), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape and (unless ``dtype`` says otherwise) float dtype.

    Example::

        >>> mg.ones_like(mg.zeros((2, 2))).data
        array([[1., 1.],
               [1., 1.]])
    """
    return ones(np.shape(t.data if isinstance(t, Tensor) else t),
                dtype or _float_dtype_of(t), requires_grad)


def _float_dtype_of(t: Any) -> Any:
    dtype = np.asarray(t.data if isinstance(t, Tensor) else t).dtype
    return dtype if dtype.kind == "f" else None


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity (``m`` defaults to ``n``).

    Example::

        >>> mg.eye(2).data
        array([[1., 0.],
               [0., 1.]])
    """
    return _leaf(np.eye(n, m), dtype, requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange`` (floats).

    Example::

        >>> mg.arange(3).data
        array([0., 1., 2.])
    """
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _leaf(values.astype(np.float64), dtype, requires_grad)


def randn(*shape: Any, rng: np.random.Generator | None = None, dtype: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples: ``mg.randn(3, 4, rng=rng)`` (or a shape tuple).

    Example::

        >>> mg.randn(3, 4, rng=np.random.default_rng(0)).shape
        (3, 4)
    """
    return _leaf(_generator(rng).standard_normal(_shape_of(shape, "randn")), dtype,
                 requires_grad)


def rand(*shape: Any, rng: np.random.Generator | None = None, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)``: ``mg.rand(3, 4, rng=rng)`` (or a shape tuple).

    Example::

        >>> float(mg.rand(100, rng=np.random.default_rng(0)).max()) < 1.0
        True
    """
    return _leaf(_generator(rng).random(_shape_of(shape, "rand")), dtype, requires_grad)


def _shape_of(dims: tuple, who: str) -> tuple[int, ...]:
    """``randn(3, 4)`` and ``randn((3, 4))`` alike."""
    return _shape(dims[0] if len(dims) == 1 and not isinstance(dims[0], (int, np.integer))
                  else dims, who)


def _generator(rng: Any) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng
