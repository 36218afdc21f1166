"""Colours of a picture: the heat scale for gradient norms, its legend, and the key that
says what the shapes and fills mean.

One fixed log scale (by default 1e-6 to 1e0, clipped at both ends) serves every heat
picture, so two pictures can be compared box by box, and "dark" always means the same
thing: a gradient that has all but vanished.
"""

from __future__ import annotations

import math

import numpy as np

#: The default ends of the heat scale: gradient norms at or below the first are drawn in
#: the darkest colour, at or above the second in the brightest.
DEFAULT_HEAT_RANGE = (1e-6, 1.0)

PARAMETER, OTHER_LEAF, NAMED_RESULT, NO_GRADIENT = "#cfe2f3", "#eeeeee", "#fff2cc", "#ffffff"
HIGHLIGHT = "#d62728"


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of ``"#rrggbb"``: 0 for black, 1 for white."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(colour[k:k + 2], 16) / 255) for k in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def font_for(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill``."""
    light = relative_luminance(fill)
    return "#000000" if (light + 0.05) / 0.05 >= 1.05 / (light + 0.05) else "#ffffff"


class HeatScale:
    """Viridis on ``log10`` of gradient norms between ``low`` and ``high``: dark purple
    at ``low`` and below, yellow at ``high`` and above; white for no gradient.

    Example::

        >>> scale = HeatScale(1e-6, 1.0)
        >>> scale.fill(1e-9) == scale.fill(1e-6), scale.decades()[:3]
        (True, [-6, -5, -4])
    """

    def __init__(self, low: float = DEFAULT_HEAT_RANGE[0],
                 high: float = DEFAULT_HEAT_RANGE[1]) -> None:
        if not (0 < low < high < math.inf):
            raise ValueError(f"heat_range must be (low, high) with 0 < low < high, got "
                             f"({low!r}, {high!r})")
        from matplotlib import colormaps

        self.low, self.high = float(low), float(high)
        self.cmap = colormaps["viridis"]
        self.log_low, self.log_high = math.log10(low), math.log10(high)

    def fraction(self, norm: float) -> float:
        """Where ``norm`` falls on the scale, from 0 (``low`` or less) to 1."""
        value = (math.log10(norm) - self.log_low) / (self.log_high - self.log_low)
        return float(np.clip(value, 0.0, 1.0))

    def fill(self, norm: float | None) -> str:
        """The colour of a gradient norm; white for none (or zero, or not finite)."""
        if norm is None or not norm > 0 or not math.isfinite(norm):
            return NO_GRADIENT
        r, g, b, _ = self.cmap(self.fraction(norm))
        return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"

    def decades(self) -> list[int]:
        """The powers of ten on the scale, one per decade, in order."""
        return list(range(math.ceil(self.log_low - 1e-9), math.floor(self.log_high + 1e-9) + 1))

    def legend(self) -> str:
        """An HTML-like label: one equally wide swatch per decade, labelled ``1e-6`` …
        ``1e0``, in the colour of that norm."""
        cells = "".join(f'<td width="38" height="20" fixedsize="true" bgcolor="'
                        f'{self.fill(10.0 ** k)}"><font color="{font_for(self.fill(10.0 ** k))}"'
                        f'>1e{k}</font></td>' for k in self.decades())
        title = (f"<b>||grad||</b>, log scale<br/>clipped to [{_decade(self.low)}, "
                 f"{_decade(self.high)}]; white: none")
        return (f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="2"><tr>'
                f'<td colspan="{len(self.decades())}">{title}</td></tr><tr>{cells}</tr>'
                f'</table>>')


def _decade(value: float) -> str:
    exponent = math.log10(value)
    return f"1e{round(exponent)}" if abs(exponent - round(exponent)) < 1e-9 else f"{value:.2g}"


def key(heat: bool, collapsed: bool, copies: bool, highlight: bool) -> str:
    """An HTML-like label saying what the shapes, fills and lines of this picture mean."""
    rows = [("", "ellipse: an op (primitive)"),
            ("", "box: a tensor (a leaf, or a named result)")]
    if collapsed:
        rows.append(("", "3-D box: a scope collapsed (t=K: one time step)"))
    if heat:
        rows.append(("", "fill: the size of the gradient, see the scale"))
    else:
        rows += [(PARAMETER, "a leaf that requires grad (parameter, initial state)"),
                 (OTHER_LEAF, "a leaf without grad (input, constant)"),
                 (NAMED_RESULT, "a named result (state, gate)")]
    if copies:
        rows.append(("", "dashed: the same tensor again, for this row"))
    if highlight:
        rows.append((HIGHLIGHT, "highlighted: the named tensors and the path between them"))
    body = "".join(_key_row(fill, line) for fill, line in rows)
    return (f'<<table border="0" cellborder="0" cellspacing="1" cellpadding="1">'
            f'<tr><td colspan="2" align="left"><b>key</b></td></tr>{body}</table>>')


def _key_row(fill: str, line: str) -> str:
    swatch = f' bgcolor="{fill}"' if fill else ""
    return f'<tr><td width="14"{swatch}> </td><td align="left">{line}</td></tr>'
