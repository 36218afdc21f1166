"""The explorer: one self-contained HTML page that replays backpropagation through time.

``explore(loss)`` lays out every step of the unrolled graph with Graphviz at build time,
records the order in which the engine's backward sweep visits the vertices, and hands
the page one JSON document (the vertices, the sweep, gradient norms and summaries per
view). The page's template, CSS and JavaScript live in ``static/`` and are inlined, so
the file works offline, from ``file://``, with no server and no network.

On the page, time steps start collapsed to boxes coloured by their largest gradient (the
heat scale of the static pictures); a click opens one into its ops. A slider and a play
button replay the sweep vertex by vertex; a click on a vertex shows what it is; a plot
of ||dL/dh_t|| against t is linked to the boxes.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..autograd import topological_order, vertex, vertex_gradients
from ..files import atomic_write
from ..norms import l2
from ..tensor import Tensor
from . import colours, labels
from .dot import _highlighted, _inputs, _saved_data
from .render import run_dot

STATIC = Path(__file__).with_name("static")
#: The unit of the vertices outside every scope (weights, initial state, inputs).
OUTSIDE = "(outside)"
_STEP = re.compile(r"t=(\d+)")
_NORM_PLACEHOLDER = "||g|| 00000000"


#: What a named tensor means, for a student: a sentence, or a sentence and what to say
#: when its gradient is exactly zero.
Meaning = str | tuple[str, str]


def explore(*roots: Tensor, depth: int = 1, title: str | None = None,
            label: str | None = None,
            compare: Mapping[str, Tensor | Sequence[Tensor]] | None = None,
            glossary: Mapping[str, Meaning] | None = None) -> Explorer:
    """Build the explorer page for the graph behind ``roots`` (call before ``backward()``).

    Args:
        roots: one-element tensors that require grad (a loss), with their graph intact.
        depth: the scope level whose scopes become boxes (1: one box per time step).
        title: the page's heading.
        label: the name of this view, shown when there are others (``compare``).
        compare: other versions of the same graph, by name, each a view the page can
            switch to (``{"trained weights": loss_after_training}``); every one must have
            the same vertices in the same order.
        glossary: what each tensor name means, shown in a vertex's details
            (``{"f": ("the forget gate, σ(Z_f)", "why its gradient is 0 here")}``).

    Returns:
        an :class:`Explorer`: ``.save("bptt.html")``, or display it in Jupyter.

    Example::

        page = mg.viz.explore(unrolled_loss("lstm", 30), title="LSTM, 30 steps")
        page.save("lstm.html")
    """
    if depth < 1:
        raise ValueError(f"explore: depth must be at least 1, got {depth}")
    graph = _Graph(_checked_roots(roots), depth)
    views = [_view(graph, graph.roots, label or "this graph")]
    for name, other in (compare or {}).items():
        other_graph = _Graph(_checked_roots((other,) if isinstance(other, Tensor) else other),
                             depth)
        graph.check_same(other_graph, name)
        views.append(_view(other_graph, other_graph.roots, name))
    title = title or "Backpropagation through time"
    meanings = {str(k): [m] if isinstance(m, str) else list(m)
                for k, m in (glossary or {}).items()}
    return Explorer(_page(graph, views, title, meanings),
                    {id(v): f"v{n}" for n, v in enumerate(graph.vertices)},
                    _picture(graph, views[0], title))


class Page:
    """A built page (the explorer's, the comparison's): ``html`` is the whole
    self-contained file, ``picture`` an SVG of it swept to the end: what a viewer that
    strips scripts and frames (GitHub's, nbviewer) can still show."""

    def __init__(self, page: str, picture: str = "") -> None:
        self.html = page
        self.picture = picture

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (``.html``), whole or not at all."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"save: the page is an .html file, got {path.suffix!r}")
        return atomic_write(path, self.html)

    def _repr_html_(self) -> str:
        """Jupyter shows the page in a frame of its own (its CSS and script stay inside)."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; '
                f'height: 760px; border: 1px solid #ddd"></iframe>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The page for Jupyter, and beside it a static picture of its steps for the
        viewers that strip the page's frame and script."""
        return {"text/html": self._repr_html_(), "image/svg+xml": self.picture,
                "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<minigrad page, {len(self.html) / 1e6:.2f} MB>"


class Explorer(Page):
    """The explorer page; ``node_id`` finds a vertex on it."""

    def __init__(self, page: str, ids: dict[int, str], picture: str = "") -> None:
        super().__init__(page, picture)
        self._ids = ids

    def node_id(self, t: Any) -> str:
        """The ``data-node`` id of a tensor or graph vertex on the page."""
        return self._ids[id(vertex(t) if isinstance(t, Tensor) else t)]


def _checked_roots(roots: Sequence[Any]) -> tuple[Tensor, ...]:
    roots = tuple(roots)
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("explore: pass one or more Tensors")
    if not all(r.requires_grad and r.size == 1 for r in roots):
        raise ValueError("explore: pass one-element tensors that require grad (a loss), so "
                         "that the page can show the gradient of each vertex")
    if any(r._node is not None and r._node.inputs is None for r in roots):
        raise ValueError("explore: backward() already freed this graph; build the page "
                         "before backward(), or call backward(retain_graph=True)")
    return roots


# ---- the graph's structure, shared by every view -------------------------------------------

class _Graph:
    """The vertices in creation order, grouped into units (the scopes at ``depth``, in
    the order the program ran them; first the vertices outside every scope)."""

    def __init__(self, roots: tuple[Tensor, ...], depth: int) -> None:
        self.roots = roots
        self.vertices = topological_order(list(roots), only_requiring_grad=False)[::-1]
        self.number = {id(v): n for n, v in enumerate(self.vertices)}
        self.unit_of: list[str] = []
        self.inner: list[tuple[str, ...]] = []  # scopes below the unit, for clusters
        for v in self.vertices:
            path = labels.scope_path(v.scope)
            self.unit_of.append("/".join(path[:depth]) if path else OUTSIDE)
            self.inner.append(path[depth:])
        ran = sorted(range(len(self.vertices)), key=lambda n: (self.vertices[n].is_leaf, n))
        first = list(dict.fromkeys(self.unit_of[n] for n in ran))
        self.units = ([OUTSIDE] if OUTSIDE in first else []) + [u for u in first
                                                                if u != OUTSIDE]
        self.members: dict[str, list[int]] = {u: [] for u in self.units}
        for n, unit in enumerate(self.unit_of):
            self.members[unit].append(n)
        self.inputs = [[self.number[id(x)] for x in _inputs(v)] for v in self.vertices]

    def check_same(self, other: _Graph, name: str) -> None:
        ours = [(v.op, v.name, tuple(v.shape)) for v in self.vertices]
        theirs = [(v.op, v.name, tuple(v.shape)) for v in other.vertices]
        if ours != theirs or self.unit_of != other.unit_of:
            raise ValueError(f"explore: the view {name!r} is not the same graph (its vertices "
                             f"differ); compare versions of one model on one input")


# ---- what one view shows ----------------------------------------------------------------

def _view(graph: _Graph, roots: tuple[Tensor, ...], name: str) -> dict:
    """Gradients, the engine's sweep order, summaries and colours of one version."""
    order, grads, norms = _swept(graph, roots)
    saved = _saved_data(graph.vertices)
    scale = colours.HeatScale()
    stats, fills = {}, {}
    for n, v in enumerate(graph.vertices):
        key = f"v{n}"
        data = v.data if v.data is not None else saved.get(id(v))
        stats[key] = {"data": _summary(data), "grad": _summary(grads.get(id(v)))}
        fill = scale.fill(norms[n])
        fills[key] = [fill, colours.font_for(fill)]
    visited = {graph.number[id(v)] for v in order}
    reached = _reveal(graph, order, norms, scale)
    units = {}
    for unit, members in graph.members.items():
        largest = max((norms[n] or 0.0 for n in members), default=0.0)
        fill = scale.fill(largest) if largest > 0 else NO_GRADIENT
        units[unit] = {"norm": _rounded(largest), "fill": fill, "font": colours.font_for(fill),
                       "visited": sum(n in visited for n in members),
                       "reveal": reached[unit]}
    position = {graph.number[id(v)]: k for k, v in enumerate(order, 1)}
    flow, factors = _flow(graph, norms, position)
    return {"label": name, "sweep": [f"v{graph.number[id(v)]}" for v in order],
            "stats": stats, "fills": fills, "units": units, "flow": flow,
            "factors": factors}


def _swept(graph: _Graph, roots: tuple[Tensor, ...]) -> tuple[list, dict[int, Any],
                                                              dict[int, float | None]]:
    """The engine's sweep of ``roots``: the vertices in the order it visits them, their
    gradients (by id) and each vertex's gradient norm (by number; None: no gradient)."""
    order: list = []
    grads = vertex_gradients(roots, [v for v in graph.vertices if v.requires_grad], order)
    norms = {n: l2(grads[id(v)]) if id(v) in grads else None
             for n, v in enumerate(graph.vertices)}
    return order, grads, norms


def _reveal(graph: _Graph, order: list, norms: dict[int, float | None],
            scale: colours.HeatScale) -> dict[str, list[list]]:
    """Per unit, how its box looks as the sweep goes: ``[k, norm, fill, font]`` from the
    k-th vertex swept on, its largest gradient among the vertices swept so far. Before
    its first entry a box is pending: the sweep has not reached it."""
    reveal: dict[str, list[list]] = {u: [] for u in graph.units}
    largest: dict[str, float] = {}
    for k, v in enumerate(order, 1):
        n = graph.number[id(v)]
        unit, norm = graph.unit_of[n], norms[n] or 0.0
        if unit in largest and norm <= largest[unit]:
            continue
        largest[unit] = norm
        fill = scale.fill(norm) if norm > 0 else NO_GRADIENT
        reveal[unit].append([k, _rounded(norm), fill, colours.font_for(fill)])
    return reveal


def _flow(graph: _Graph, norms: dict[int, float | None],
          position: dict[int, int]) -> tuple[list[list[float]], dict[str, float | None]]:
    """``[t, ||dL/dh_t||, k]`` for every time step: the gradient of the step's last ``h``
    (its top layer's hidden state), or its largest gradient if it names no ``h``; ``k``,
    how many vertices the sweep has done when that gradient is complete. And per step
    ``t=K`` after the first, the factor the gradient was multiplied by on its way back
    from step K to step K-1: ``||dL/dh_(K-1)|| / ||dL/dh_K||`` (None where it is 0)."""
    points, exact = [], {}
    for unit, members in graph.members.items():
        step = _STEP.fullmatch(unit.split("/")[0])
        if step is None:
            continue
        hs = [n for n in members if graph.vertices[n].name == "h"]
        if hs:
            source = hs[-1]
        else:
            source = max(members, key=lambda n: norms[n] or 0.0)
        norm = norms[source]
        if norm is not None:
            t = int(step.group(1))
            points.append([t, _rounded(norm), position.get(source, 0)])
            exact[t] = norm
    factors = {f"t={t}": _rounded(exact[t - 1] / exact[t]) if exact[t] else None
               for t in sorted(exact) if t - 1 in exact}
    return sorted(points), factors


#: The box of a step whose gradient is exactly zero (the sweep reached it).
NO_GRADIENT = "#f6f6f6"


def _rounded(x: float | None) -> float | None:
    """Four significant digits (the page shows three); None for NaN and inf, which JSON
    cannot hold."""
    if x is None or not np.isfinite(x):
        return None
    return float(f"{x:.4g}")


def _summary(array: Any) -> dict | None:
    """Norm, mean, min, max and an 8-bin histogram of an array (None for no array)."""
    if array is None:
        return None
    values = np.asarray(array, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"norm": None, "mean": None, "min": None, "max": None, "hist": [0] * 8}
    counts, _ = np.histogram(finite, bins=8)
    return {"norm": _rounded(l2(values)), "mean": _rounded(finite.mean()),
            "min": _rounded(finite.min()), "max": _rounded(finite.max()),
            "hist": counts.tolist()}


# ---- one unit's ops, laid out by dot -------------------------------------------------------

def _unit_svgs(graph: _Graph) -> dict[str, str]:
    """Each unit's ops as SVG. Units with the same structure (the steps of an unroll)
    share one layout: dot runs once per structure, and each copy gets its own ids."""
    layouts: dict[tuple, str] = {}
    svgs = {}
    for k, unit in enumerate(graph.units):
        members = graph.members[unit]
        local = {n: i for i, n in enumerate(members)}
        stubs = list(dict.fromkeys(x for n in members for x in graph.inputs[n]
                                   if x not in local))
        signature = _signature(graph, members, local, stubs)
        if signature not in layouts:
            source = _unit_dot(graph, members, local, stubs)
            layouts[signature] = _clean_svg(run_dot(source, "svg").decode("utf-8"))
        svgs[unit] = _instantiate(layouts[signature], graph, k, members, stubs)
    return svgs


def _signature(graph: _Graph, members: list[int], local: dict[int, int],
               stubs: list[int]) -> tuple:
    def describe(n: int) -> tuple:
        v = graph.vertices[n]
        return (v.op, v.name, tuple(v.shape), str(v.dtype), v.is_leaf, v.requires_grad,
                graph.inner[n], labels.op_detail(v) if not v.is_leaf else "")

    inside = tuple((describe(n), tuple(("L", local[x]) if x in local else ("S", stubs.index(x))
                                       for x in graph.inputs[n])) for n in members)
    outside = tuple((graph.vertices[x].name or graph.vertices[x].op,
                     tuple(graph.vertices[x].shape)) for x in stubs)
    return inside, outside


def _vertex_label(v: Any) -> str:
    shape = labels.shape(v.shape) + ("" if v.dtype == np.float64 else f" {v.dtype}")
    if v.is_leaf:
        head = f"<b>{labels.name(v.name)}</b> {shape}" if v.name is not None else shape
    elif v.name is not None:
        head = f"<b>{labels.name(v.name)}</b> = {labels.text(v.op)} {shape}"
    else:
        head = f"<b>{labels.name(v.op)}</b>{labels.text(labels.op_detail(v))} {shape}"
    # room for the gradient norm, which the page writes in once the sweep has passed
    norm = f'<br/><font point-size="9">{_NORM_PLACEHOLDER}</font>' if v.requires_grad else ""
    return f"<{head}{norm}>"


def _unit_dot(graph: _Graph, members: list[int], local: dict[int, int],
              stubs: list[int]) -> str:
    """DOT for one unit: its vertices (nested scopes as clusters), and dashed stubs for
    the tensors it reads from outside. Ids are local (L3, S0): copies rename them."""
    picture = graphviz.Digraph(graph_attr={"rankdir": "TB", "nodesep": "0.2",
                                           "ranksep": "0.3", "remincross": "false",
                                           "newrank": "true",
                                           "fontname": "Helvetica", "fontsize": "10"},
                               node_attr={"fontname": "Helvetica", "fontsize": "10",
                                          "margin": "0.04", "style": "filled",
                                          "fillcolor": "#ffffff"},
                               edge_attr={"arrowsize": "0.6", "color": "#555555"})
    clusters: dict[tuple[str, ...], graphviz.Digraph] = {}
    for j, x in enumerate(stubs):
        v = graph.vertices[x]
        picture.node(f"S{j}", label=f"<{labels.text(v.name or v.op)} {labels.shape(v.shape)}>",
                     id=f"S{j}",
                     shape="box", style="rounded,dashed", fontcolor="#666666",
                     **{"class": "stub"})
    for n in members:
        v = graph.vertices[n]
        target = picture
        inner = graph.inner[n]
        if inner:
            target = clusters.setdefault(inner, graphviz.Digraph(
                name=f"cluster_{len(clusters)}", graph_attr={
                    "label": f"<{labels.text('/'.join(inner))}>", "style": "rounded",
                    "color": "#999999"}))
        target.node(f"L{local[n]}", label=_vertex_label(v), id=f"L{local[n]}",
                    shape="box" if v.is_leaf or v.name is not None else "ellipse",
                    style="rounded,filled" if v.is_leaf or v.name is not None else "filled",
                    **{"class": "vertex"})
    for cluster in clusters.values():
        picture.subgraph(cluster)
    for n in members:
        for x in graph.inputs[n]:
            source = f"L{local[x]}" if x in local else f"S{stubs.index(x)}"
            picture.edge(source, f"L{local[n]}", id=f"E{source}_L{local[n]}")
    for n in members:  # slices of one tensor (an LSTM's gates) in the order they were made
        pieces = [local[c] for c in members if n in graph.inputs[c]
                  and graph.vertices[c].op == "getitem"]
        if len(pieces) > 1:
            picture.body.append("\t{rank=same; " + "; ".join(f"L{p}" for p in pieces) + "}\n")
            for before, after in zip(pieces, pieces[1:]):
                picture.edge(f"L{before}", f"L{after}", style="invis")
    return picture.source


def _clean_svg(svg: str) -> str:
    """dot's SVG, ready to inline: no XML prolog, comments, titles, graph id or fonts."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = re.sub(r"<title>.*?</title>\n?", "", svg, flags=re.S)
    svg = svg.replace('<g id="graph0" class="graph"', '<g class="graph"')
    svg = re.sub(r'(width|height)="([\d.]+)pt"', r'\1="\2px"', svg)  # three quarters the size
    # what costs bytes and shows nothing (a 100-step GRU page is 3.25 MB without this, 2.8
    # with it): fonts (the page's stylesheet gives them), SVG's default text anchor, and
    # digits below a tenth of a pixel
    svg = re.sub(r' font-family="[^"]*"| text-anchor="start"', "", svg)
    svg = re.sub(r'(\d)\.00"', r'\1"', svg)
    svg = re.sub(r"(\d\.\d)\d+", r"\1", svg)
    return re.sub(r'(<text[^>]*)>' + re.escape(_NORM_PLACEHOLDER) + '</text>',
                  r'\1 class="gnorm"></text>', svg)


def _instantiate(svg: str, graph: _Graph, unit_index: int, members: list[int],
                 stubs: list[int]) -> str:
    """One unit's copy of a layout: its vertices' ids, ``data-*`` attributes and edges."""
    def vertex_group(match: re.Match) -> str:
        n = members[int(match.group(1))]
        v = graph.vertices[n]
        return (f'<g id="v{n}" class="node vertex" data-node="v{n}" '
                f'data-op="{html.escape(v.op or "leaf", quote=True)}" '
                f'data-shape="{html.escape(labels.shape(v.shape), quote=True)}"')

    def stub_group(match: re.Match) -> str:
        n = stubs[int(match.group(1))]
        return f'<g id="u{unit_index}s{n}" class="node stub" data-ref="v{n}"'

    def edge_group(match: re.Match) -> str:
        kind, source, target = match.group(1), int(match.group(2)), int(match.group(3))
        origin = members[source] if kind == "L" else stubs[source]
        return f'<g id="e{origin}_{members[target]}" class="edge"'

    svg = re.sub(r'<g id="L(\d+)" class="node vertex"', vertex_group, svg)
    svg = re.sub(r'<g id="S(\d+)" class="node stub"', stub_group, svg)
    return re.sub(r'<g id="E([LS])(\d+)_L(\d+)" class="edge"', edge_group, svg)


# ---- the page -------------------------------------------------------------------------------

def _page(graph: _Graph, views: list[dict], title: str,
          glossary: dict[str, list[str]]) -> str:
    svgs = _unit_svgs(graph)
    path = _highlighted(graph.vertices, "c") if any(v.name == "c" for v in graph.vertices) \
        else set()
    on_path = {n for n, v in enumerate(graph.vertices) if id(v) in path}
    data = {
        "vertices": [{"id": f"v{n}", "op": v.op, "name": v.name, "scope": v.scope,
                      "unit": graph.unit_of[n], "shape": [int(s) for s in v.shape],
                      "dtype": str(v.dtype), "inputs": [f"v{x}" for x in graph.inputs[n]]}
                     for n, v in enumerate(graph.vertices)],
        "views": views,
        "glossary": glossary,
        "cpath": {"vertices": [f"v{n}" for n in sorted(on_path)],
                  "edges": [[f"v{x}", f"v{n}"] for n in sorted(on_path)
                            for x in graph.inputs[n] if x in on_path],
                  "links": sorted({graph.unit_of[n] for n in on_path
                                   if any(graph.unit_of[x] != graph.unit_of[n]
                                          for x in graph.inputs[n] if x in on_path)})},
    }
    units = "\n".join(_unit_html(graph, k, unit) for k, unit in enumerate(graph.units))
    drawer = "\n".join(_ops_html(unit, svgs[unit]) for unit in graph.units)
    view_choice = "" if len(views) == 1 else " ".join(
        f'<label><input type="radio" name="view" value="{k}"{" checked" if k == 0 else ""}> '
        f'{html.escape(v["label"])}</label>' for k, v in enumerate(views))
    highlight = ('<label><input type="checkbox" id="cpath"> highlight the cell state c</label>'
                 if on_path else "")
    values = {
        "STYLE": _static("page.css", "explorer.css"),
        "SCRIPT": _static("page.js", "explorer.js"),
        "DATA": _script_json(data),
        "UNITS": units, "DRAWER": drawer, "VIEWS": view_choice, "HIGHLIGHT": highlight,
        "LEGEND": _legend(),
        "SWEEP_MAX": str(len(views[0]["sweep"])), "TITLE": html.escape(title),
    }
    return _filled("explorer.html", values)


def _filled(body: str, values: dict[str, str]) -> str:
    """The page: ``static/page.html`` around the body ``static/<body>``, every
    ``{{NAME}}`` filled from ``values`` in one pass (nothing filled in is scanned again)."""
    template = _static("page.html").replace("{{BODY}}", _static(body))
    return labels.page(re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)],
                              template))


def _static(*names: str) -> str:
    """The page's files in ``static/`` (CSS or script), joined to inline."""
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in names)


def _script_json(data: Any) -> str:
    """JSON to inline in a ``<script>``: every < > & escaped, so that no name can end the
    script or open a comment in it."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c").replace(
        ">", "\\u003e").replace("&", "\\u0026")


#: The static picture's grid: steps per row, and each box's size and gap in pixels.
PICTURE_COLUMNS, BOX_W, BOX_H, GAP = 8, 104, 40, 8


def _picture(graph: _Graph, view: dict, title: str) -> str:
    """An SVG of the steps as the page shows them at the end of the sweep: one box per
    step, in rows, coloured by its largest gradient, with that gradient written in it."""
    rows = -(-len(graph.units) // PICTURE_COLUMNS)
    width = PICTURE_COLUMNS * (BOX_W + GAP) + GAP
    height = 30 + rows * (BOX_H + GAP) + GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
             f'<text x="{GAP}" y="20" font-size="14" font-weight="bold">'
             f'{labels.text(title)}</text>']
    for k, unit in enumerate(graph.units):
        shown = view["units"][unit]
        x = GAP + (k % PICTURE_COLUMNS) * (BOX_W + GAP)
        y = 30 + (k // PICTURE_COLUMNS) * (BOX_H + GAP)
        norm = shown["norm"]
        parts.append(
            f'<g class="step" data-scope="{html.escape(unit, quote=True)}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="3" '
            f'fill="{shown["fill"]}" stroke="#333"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 16}" font-size="12" font-weight="bold" '
            f'text-anchor="middle" fill="{shown["font"]}">{labels.text(_label(unit))}</text>'
            f'<text x="{x + BOX_W / 2}" y="{y + 32}" font-size="11" text-anchor="middle" '
            f'fill="{shown["font"]}">max ||g|| {"-" if norm is None else f"{norm:.3g}"}'
            f'</text></g>')
    parts.append("</svg>")
    return labels.page("".join(parts))


def _label(unit: str) -> str:
    return "outside the steps" if unit == OUTSIDE else unit


def _ops_html(unit: str, svg: str) -> str:
    """A step's ops, shown in the drawer below the steps when its box is opened (so the
    boxes never move, and nothing draws over the side panel)."""
    return (f'<div class="ops" data-unit="{html.escape(unit, quote=True)}" hidden>'
            f'<p class="ops-title">{html.escape(_label(unit))}</p>{svg}</div>')


def _unit_html(graph: _Graph, k: int, unit: str) -> str:
    members = graph.members[unit]
    ops = sum(not graph.vertices[n].is_leaf for n in members)
    label = _label(unit)
    scope = html.escape(unit, quote=True)
    box = (f'<button class="box" type="button" data-scope="{scope}" aria-expanded="false">'
           f'<b>{html.escape(label)}</b><span>{ops} ops</span><br><span class="max"></span>'
           f'<span class="progress"></span></button>')
    link = ""
    if k > 0:
        previous = graph.units[k - 1]
        crossing = sorted({f"{graph.vertices[x].name or graph.vertices[x].op} "
                           f"{labels.shape(graph.vertices[x].shape)}" for n in members
                           for x in graph.inputs[n] if graph.unit_of[x] == previous})
        step = f' data-link="{scope}"' if _STEP.fullmatch(previous) and _STEP.fullmatch(
            unit) else ""
        link = (f'<div class="link" data-from="{html.escape(previous, quote=True)}" '
                f'data-to="{scope}"{step} title="{html.escape(", ".join(crossing), quote=True)}"'
                f'>→</div>')
    return f'{link}<div class="unit" data-unit="{scope}">{box}</div>'


def _legend() -> str:
    scale = colours.HeatScale()
    cells = "".join(f'<td style="background:{scale.fill(10.0 ** k)};color:'
                    f'{colours.font_for(scale.fill(10.0 ** k))}">1e{k}</td>'
                    for k in scale.decades())
    return (f"<table><tr><td colspan=\"{len(scale.decades())}\">||grad||, log scale (clipped; "
            f"white: none)</td></tr><tr>{cells}</tr></table>")
