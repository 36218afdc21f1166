"""The comparison page: several graphs side by side on one heat scale, with knobs.

``compare(settings, knobs)`` takes one loss per row for every setting of the knobs (say,
an RNN's and an LSTM's loss for each forget-gate bias and each weight scale), runs the
engine's backward sweep of each once, and hands the page what it needs to switch between
them without Python: per row and setting, how each step box looks as the sweep goes, and
the flow of ``||dL/dh_t||``. Rows are named by the caller; the engine knows no cells.

On the page, each row is one graph's steps as boxes, all coloured on one fixed heat
scale, and one plot holds every row's ``||dL/dh_t||`` on one fixed log axis, so that
rows compare by eye. A slider replays every row's sweep together. Questions the knobs
answer are asked on the page, and the page works their answers out from its own data.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import colours, labels
from .explore import (
    OUTSIDE,
    Page,
    _checked_roots,
    _filled,
    _flow,
    _Graph,
    _legend,
    _reveal,
    _script_json,
    _static,
    _swept,
)


@dataclass(frozen=True)
class Knob:
    """A choice the page offers, as ``select#<id>``: ``options`` in the order shown,
    ``default`` selected when the page opens, ``note`` what turning it does."""

    id: str
    label: str
    options: tuple[str, ...]
    default: str
    note: str = ""


#: The kinds of :class:`Question` the page can answer from its data.
QUESTION_KINDS = {
    "first-above": "the first option of ``knob`` at which ``row``'s ||dL/dh|| at ``step`` "
                   "is above ``above`` (the other knobs as set)",
    "first-growing": "the first option of ``knob`` at which ``row``'s ||dL/dh|| grows going "
                     "back in time (fitted factor per step above 1)",
    "decay": "for every row, the fitted factor per step at each option of ``knob``",
}


@dataclass(frozen=True)
class Question:
    """A question the page asks, with its answer (``[data-answer=<id>]``) worked out in
    the page from its own data, for the knobs as they are set. ``kind``: one of
    :data:`QUESTION_KINDS`."""

    id: str
    text: str
    kind: str
    knob: str
    row: str | None = None
    step: int = 0
    above: float = 1e-3


#: A row's graph for one setting: its loss, or its loss and a note shown by its name
#: (how its training went, say).
Row = Tensor | tuple[Tensor, str]


def compare(settings: Mapping[tuple[str, ...], Mapping[str, Row]] | Mapping[str, Row],
            knobs: Sequence[Knob] = (), *, title: str | None = None,
            inputs: Any = None, marked: Sequence[int] = (),
            questions: Sequence[Question] = (), depth: int = 1) -> Page:
    """Build the comparison page (call before ``backward()``, as for :func:`explore`).

    Args:
        settings: for every combination of the knobs' options (a tuple, one option per
            knob, in the knobs' order), the rows' losses by row name:
            ``{("1", "initial"): {"rnn": loss, "lstm": loss}, ...}``. Without knobs,
            just ``{"rnn": loss, "lstm": loss}``. Each row must be the same graph in
            every setting (its values may differ); passing the same tensor for several
            settings sweeps it once.
        knobs: the page's choices (:class:`Knob`).
        title: the page's heading.
        inputs: (T, p) the one input sequence every row reads, shown as a strip above
            the rows (one cell per step).
        marked: the steps of ``inputs`` to mark in the strip (an adding problem's two).
        questions: what turning the knobs shows (:class:`Question`).
        depth: the scope level whose scopes become boxes (1: one box per time step).

    Returns:
        a :class:`Page`: ``.save("cmp.html")``, or display it in Jupyter.

    Example::

        page = mg.viz.compare({"rnn": rnn_loss, "lstm": lstm_loss}, title="RNN and LSTM")
        page.save("cmp.html")
    """
    if depth < 1:
        raise ValueError(f"compare: depth must be at least 1, got {depth}")
    title = title or "Gradients through time, side by side"
    knobs = tuple(knobs)
    if settings and all(isinstance(v, Tensor | tuple) for v in settings.values()):
        settings = {(): settings}  # type: ignore[dict-item]
    table = _checked_settings(settings, knobs)  # type: ignore[arg-type]
    rows = list(next(iter(table.values())))
    _check_questions(questions, knobs, rows)
    scale = colours.HeatScale()
    variants: list[dict] = []
    seen: dict[int, int] = {}
    units: dict[str, list[str]] = {}
    by_setting = {}
    for key, row_losses in table.items():
        chosen = []
        for row, (loss, note) in row_losses.items():
            if id(loss) not in seen:
                graph = _Graph(_checked_roots((loss,)), depth)
                shown = [u for u in graph.units if u != OUTSIDE]
                if units.setdefault(row, shown) != shown:
                    raise ValueError(f"compare: the row {row!r} is not the same graph in "
                                     f"every setting (its steps differ)")
                seen[id(loss)] = len(variants)
                variants.append(_variant(graph, loss, scale))
            variants[seen[id(loss)]]["note"] = note
            chosen.append(seen[id(loss)])
        by_setting[_key(knobs, key)] = chosen
    data = {
        "rows": [{"name": row, "units": units[row]} for row in rows],
        "knobs": [{"id": k.id, "label": k.label, "options": list(k.options)} for k in knobs],
        "settings": by_setting, "variants": variants,
        "questions": [q.__dict__ for q in questions],
    }
    default = tuple(k.default for k in knobs)
    return Page(_page(data, knobs, title, inputs, marked),
                _picture(data, by_setting[_key(knobs, default)], title))


def _key(knobs: Sequence[Knob], values: Sequence[str]) -> str:
    """A setting as the page looks it up: its options' indices, comma-separated."""
    return ",".join(str(knob.options.index(v)) for knob, v in zip(knobs, values))


def _checked_settings(settings: Mapping[tuple[str, ...], Mapping[str, Row]],
                      knobs: tuple[Knob, ...]) -> dict[tuple[str, ...],
                                                       dict[str, tuple[Tensor, str]]]:
    """Each setting's rows as (loss, note), after checking that every combination of the
    knobs' options is there once, with the same rows in the same order."""
    for knob in knobs:
        if not re.fullmatch(r"[A-Za-z][\w-]*", knob.id):
            raise ValueError(f"compare: a knob's id is a name for select#id (letters, digits, "
                             f"- and _), got {knob.id!r}")
        if not knob.options or knob.default not in knob.options:
            raise ValueError(f"compare: the knob {knob.id!r} must offer its default "
                             f"{knob.default!r} among its options {list(knob.options)}")
    if len({k.id for k in knobs}) != len(knobs):
        raise ValueError("compare: two knobs have the same id")
    wanted = math.prod(len(k.options) for k in knobs)
    table: dict[tuple[str, ...], dict[str, tuple[Tensor, str]]] = {}
    names: list[str] | None = None
    for key, rows in settings.items():
        key = tuple(key)
        if len(key) != len(knobs) or any(v not in k.options for k, v in zip(knobs, key)):
            raise ValueError(f"compare: the setting {key!r} is not one option of each knob "
                             f"({', '.join(k.id for k in knobs) or 'no knobs'})")
        if not rows:
            raise ValueError(f"compare: the setting {key!r} has no rows")
        if names is None:
            names = list(rows)
        elif list(rows) != names:
            raise ValueError(f"compare: the setting {key!r} has the rows {list(rows)}, "
                             f"not {names} as the others")
        table[key] = {str(name): (row if isinstance(row, tuple) else (row, ""))
                      for name, row in rows.items()}
    if len(table) != wanted:
        raise ValueError(f"compare: the knobs make {wanted} settings and {len(table)} are "
                         f"given; give the rows for every combination of the options")
    return table


def _check_questions(questions: Sequence[Question], knobs: tuple[Knob, ...],
                     rows: list[str]) -> None:
    for q in questions:
        if q.kind not in QUESTION_KINDS:
            raise ValueError(f"compare: the question {q.id!r} has the kind {q.kind!r}; "
                             f"choose one of {', '.join(QUESTION_KINDS)}")
        if q.knob not in {k.id for k in knobs}:
            raise ValueError(f"compare: the question {q.id!r} turns the knob {q.knob!r}, "
                             f"which the page does not have")
        if q.kind != "decay" and q.row not in rows:
            raise ValueError(f"compare: the question {q.id!r} reads the row {q.row!r}, "
                             f"which the page does not have")


def _variant(graph: _Graph, loss: Tensor, scale: colours.HeatScale) -> dict:
    """One row in one setting: how many vertices its sweep visits, how each of its boxes
    looks as the sweep goes (see ``explore._reveal``), and its flow ``[t, norm, k]``."""
    order, _, norms = _swept(graph, (loss,))
    position = {graph.number[id(v)]: k for k, v in enumerate(order, 1)}
    flow, factors = _flow(graph, norms, position)
    reveal = _reveal(graph, order, norms, scale)
    return {"sweep": len(order), "reveal": {u: r for u, r in reveal.items() if u != OUTSIDE},
            "flow": flow, "factors": factors, "note": ""}


# ---- the page -------------------------------------------------------------------------------

def _page(data: dict, knobs: tuple[Knob, ...], title: str, inputs: Any,
          marked: Sequence[int]) -> str:
    width = max(len(row["units"]) for row in data["rows"])
    values = {
        "STYLE": _static("page.css", "compare.css"),
        "SCRIPT": _static("page.js", "compare.js"),
        "DATA": _script_json(data),
        "KNOBS": "\n".join(_knob_html(k) for k in knobs),
        "NOTES": " ".join(f"<span>{html.escape(k.note)}</span>" for k in knobs if k.note),
        "STRIP": _strip_html(inputs, marked, width),
        "ROWS": "\n".join(_row_html(row["name"], row["units"]) for row in data["rows"]),
        "QUESTIONS": "\n".join(_question_html(q) for q in data["questions"]),
        "LEGEND": _legend(), "TITLE": html.escape(title), "COLUMNS": str(width),
    }
    return _filled("compare.html", values)


def _knob_html(knob: Knob) -> str:
    options = "".join(f'<option value="{html.escape(o, quote=True)}"'
                      f'{" selected" if o == knob.default else ""}>{html.escape(o)}</option>'
                      for o in knob.options)
    name = html.escape(knob.id, quote=True)
    return (f'<label for="{name}">{html.escape(knob.label)}</label> '
            f'<select id="{name}" class="knob">{options}</select>')


def _strip_html(inputs: Any, marked: Sequence[int], width: int) -> str:
    """The input sequence as one cell per step: a marked step shows its value, the others
    a bar as high as their first channel (each step's numbers in its tooltip)."""
    if inputs is None:
        return ""
    values = np.asarray(inputs, dtype=np.float64)
    if values.ndim != 2 or len(values) > width:
        raise ValueError(f"compare: inputs must be one sequence (T, p) with at most a step "
                         f"per box ({width}), got the shape {values.shape}")
    top = max(float(np.abs(values[:, 0]).max()), 1e-12)
    cells = []
    for t, step in enumerate(values):
        numbers = ", ".join(f"{v:.3g}" for v in step)
        mark = t in marked
        inside = (f"<b>{step[0]:.2f}</b>" if mark else
                  f'<i style="height:{100 * abs(step[0]) / top:.0f}%"></i>')
        cells.append(f'<span class="in{" marked" if mark else ""}" data-step="{t}" '
                     f'title="t={t}: x = ({numbers}){", marked" if mark else ""}">{inside}</span>')
    cells += ['<span class="in"></span>'] * (width - len(values))
    return (f'<div id="strip" class="row" aria-label="the input sequence">'
            f'<span class="row-name">input<small>marked: {", ".join(f"t={t}" for t in marked)}'
            f'</small></span>{"".join(cells)}</div>')


def _row_html(name: str, units: list[str]) -> str:
    boxes = "".join(f'<button class="box" type="button" data-scope="'
                    f'{html.escape(u, quote=True)}"><span class="progress"></span></button>'
                    for u in units)
    return (f'<div class="row" data-cell="{html.escape(name, quote=True)}">'
            f'<span class="row-name">{html.escape(name)}<small class="note"></small></span>'
            f'{boxes}</div>')


def _question_html(question: dict) -> str:
    return (f'<li><p>{html.escape(question["text"])}</p><details><summary>show the answer'
            f'</summary><p data-answer="{html.escape(question["id"], quote=True)}"></p>'
            f'</details></li>')


#: The static picture's boxes: width, height and gap in pixels, and the names' column.
BOX, GAP, NAMES = 14, 2, 120


def _picture(data: dict, chosen: list[int], title: str) -> str:
    """An SVG of the rows as the page first shows them: every box in its heat colour."""
    width = NAMES + max(len(r["units"]) for r in data["rows"]) * (BOX + GAP) + GAP
    height = 30 + len(data["rows"]) * (BOX + 3 * GAP) + GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
             f'<text x="{GAP}" y="18" font-size="14" font-weight="bold">'
             f'{labels.text(title)}</text>']
    for r, (row, index) in enumerate(zip(data["rows"], chosen)):
        y = 30 + r * (BOX + 3 * GAP)
        parts.append(f'<g data-cell="{html.escape(row["name"], quote=True)}">'
                     f'<text x="{GAP}" y="{y + BOX - 3}" font-size="12">'
                     f'{labels.text(row["name"])}</text>')
        for k, unit in enumerate(row["units"]):
            reveal = data["variants"][index]["reveal"][unit]
            fill = reveal[-1][2] if reveal else colours.NO_GRADIENT
            parts.append(f'<rect x="{NAMES + k * (BOX + GAP)}" y="{y}" width="{BOX}" '
                         f'height="{BOX}" fill="{fill}" stroke="#333" stroke-width="0.5">'
                         f'<title>{labels.text(unit)}</title></rect>')
        parts.append("</g>")
    parts.append("</svg>")
    return labels.page("".join(parts))
