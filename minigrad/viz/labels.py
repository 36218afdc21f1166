"""The text of a picture: user strings made safe for Graphviz's HTML-like labels, and
short summaries of arrays, shapes and op parameters."""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

from ..norms import l2

# control characters (but line breaks), tabs and lone surrogates: dot rejects them
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text(value: Any) -> str:
    """User text made safe for an HTML-like Graphviz label (the one sanitizer of every
    picture: ``draw_graph`` and the explorer): markup escaped, line breaks kept, control
    characters and tabs shown as ``\\xNN``, lone surrogates as U+FFFD. Quotes and
    backslashes need nothing, inside ``<...>``."""
    return html.escape(_UNPRINTABLE.sub(_visible, str(value)), quote=True).replace(
        "\n", "<br/>")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else "\ufffd"


def page(html_text: str) -> str:
    """A finished HTML page with any lone surrogate (from a user's name) replaced, so it
    can be written as UTF-8."""
    return _SURROGATE.sub("\ufffd", html_text)


def name(value: Any) -> str:
    """A name for a bold label: as :func:`text`, with an empty name shown as ``""``
    (dot refuses an empty ``<b></b>``)."""
    return text(value) if str(value) else "&quot;&quot;"


def scope_path(scope: str | None) -> tuple[str, ...]:
    """The nested scopes of ``scope``, outermost first; empty parts (``"t/"``,
    ``"a//b"``) are no scope."""
    return tuple(part for part in scope.split("/") if part) if scope else ()


def summary(array: Any) -> str:
    """The number for one element, a few entries for up to four, else norm and mean."""
    array = np.asarray(array)
    if array.size == 1:
        return f"{array.item():.4g}"
    if array.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in array.ravel()) + "]"
    return f"norm {l2(array):.3g}, mean {array.mean(dtype=np.float64):.3g}"


def shape(dims: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in dims))


def _index(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for item in items:
        if isinstance(item, slice):
            step = f":{item.step}" if item.step not in (None, 1) else ""
            parts.append(f"{'' if item.start is None else item.start}:"
                         f"{'' if item.stop is None else item.stop}{step}")
        elif item is None:
            parts.append("None")
        elif item is Ellipsis:
            parts.append("...")
        elif isinstance(item, (int, np.integer)):
            parts.append(str(item))
        else:
            parts.append("array")
    return "[" + ", ".join(parts) + "]"


def op_detail(node: Any) -> str:
    """What distinguishes this application of its op: the index of a slice, the axis of
    a reduction or join, the exponent of a power."""
    params = node.params or {}
    if node.op == "getitem":
        return " " + _index(params["index"])
    if "axis" in params and params["axis"] is not None:
        return f" axis={params['axis']}"
    if node.op == "pow":
        return f" {params['exponent']:g}"
    return ""
