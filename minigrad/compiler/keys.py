"""Keys that compare as a trace tells values apart: numbers by exact value (``0.0`` and
``-0.0`` differ, NaN equals NaN, ``1`` and ``True`` differ), tuples entry by entry, and
objects by identity where nothing else can be compared."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

TENSOR = "tensor"


class _Keyed:
    """A value compared by ``key``, a description of it that a trace could tell apart."""

    __slots__ = ("value", "key")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return repr(self.value)


class Exact(_Keyed):
    """A number compared by its exact value: ``-0.0`` is not ``0.0``, NaN equals NaN."""

    __slots__ = ()

    def __init__(self, value: Any) -> None:
        self.value = value
        if isinstance(value, np.generic):
            self.key: Any = (type(value), value.dtype.str, value.tobytes())
        elif isinstance(value, complex):
            self.key = (complex, _float_bits(value.real), _float_bits(value.imag))
        else:
            self.key = (type(value), _float_bits(value))


class Same:
    """An object compared by identity (and kept alive, so that its id is not reused)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Same and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def _float_bits(x: float) -> str:
    return "nan" if math.isnan(x) else float(x).hex()


def _is_number(value: Any) -> bool:
    return isinstance(value, (float, complex, np.generic))


class Key(_Keyed):
    """A dict key compared as a trace tells keys apart: numbers by exact value (``0.0``
    and ``-0.0`` differ), ``1`` and ``True`` differ, tuples entry by entry; ``value`` is
    the key itself."""

    __slots__ = ()

    def __init__(self, value: Any) -> None:
        self.value = value
        self.key = _exact(value)


def _exact(value: Any) -> Any:
    if _is_number(value):
        return Exact(value)
    if type(value) is tuple:
        return (tuple, tuple([_exact(v) for v in value]))
    return (type(value), value)


def value_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when a trace cannot tell them apart:
    numbers by exact value, strings and other immutable atoms by value, anything else by
    identity."""
    if _is_number(value):
        return Exact(value)
    if value is None or type(value) in (bool, int, str, bytes):
        return (type(value), value)
    return Same(value)
