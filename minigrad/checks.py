"""Checks of the numbers users pass (sizes, learning rates, norms), each raising an
error that names the function and the argument, with the value it got."""

from __future__ import annotations

import math
import numbers
from typing import Any


def positive_int(who: str, name: str, value: Any) -> int:
    """``value`` as an int >= 1: TypeError if it is not an integer, ValueError if < 1.

    Example::

        >>> positive_int("Linear", "in_features", 0)
        Traceback (most recent call last):
        ValueError: Linear: in_features must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def number_in(who: str, name: str, value: Any, low: float = 0.0, high: float = math.inf,
              high_included: bool = False) -> float:
    """``value`` as a float with ``low <= value < high`` (``<= high`` if
    ``high_included``); ValueError naming the argument otherwise, None and NaN included.

    Example::

        >>> number_in("SGD", "lr", float("nan"))
        Traceback (most recent call last):
        ValueError: SGD: lr must be a number >= 0, got nan
    """
    if high == math.inf:
        wanted = f"a number >= {low:g}" + (" (inf allowed)" if high_included else "")
    else:
        wanted = f"a number in [{low:g}, {high:g}{']' if high_included else ')'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{who}: {name} must be {wanted}, got {value!r}")
    number = float(value)
    if not (low <= number and (number <= high if high_included else number < high)):
        raise ValueError(f"{who}: {name} must be {wanted}, got {value!r}")
    return number
