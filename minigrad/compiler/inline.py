"""The inline pass (``fuse={"inline"}``): a VJP that is one NumPy operator on its
arguments is written into the replay's source as that expression, ``b[12] = b[7] * b[9]``,
not called through the Python function that computes it.

The core primitives define their simplest VJPs as lambdas (``mul``'s ``g * b``), which a
replay would call once per use: 0.1-0.2 us of Python each time, as long as the operator
itself on a small array. The expression is the lambda's own body, so the rounding is
the same. Only a VJP called as it is gets inlined: one behind the gradient door, or
bound to parameters, stays a call.
"""

from __future__ import annotations

from typing import Any

from ..ops import _div, _exp_p, _mul, _neg, _sub

#: Each inlined VJP, by the function itself: the expression of its arguments
#: ``(g, y, *inputs)``, numbered in that order.
EXPRESSIONS: dict[Any, str] = {
    _mul.vjps[0]: "{0} * {3}",  # g * b
    _mul.vjps[1]: "{0} * {2}",  # g * a
    _sub.vjps[1]: "-{0}",
    _neg.vjps[0]: "-{0}",
    _div.vjps[0]: "{0} / {3}",  # g / b
    _exp_p.vjps[0]: "{0} * {1}",  # g * y
}


def inline_pass(plan: Any) -> dict[Any, str]:
    """The expressions the backward's lowering writes in place of calls."""
    return EXPRESSIONS
