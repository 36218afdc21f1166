"""Static pictures of the computation graph: ``draw_graph`` builds a ``graphviz.Digraph``.

What a picture shows:

- an **op node** (ellipse) per primitive application, labelled with the op and its
  output shape; a **value node** (box) per leaf or named tensor, labelled with its
  name, shape and dtype (when not float64). Blue boxes are leaves that require grad
  (parameters, an initial state), grey boxes other leaves (inputs, constants), yellow
  boxes named results. A key in the picture says so.
- tensors made inside ``mg.scope(...)`` inside a cluster per scope, nested as the
  scopes nest; ``depth=k`` draws every scope at level k as a single 3-D box, with the
  edges between boxes merged and labelled with the tensors that cross them.
- ``values=True`` / ``grads=True``: a short summary of data / gradient on each value
  node (the number for a scalar, a few entries for a short vector, else norm and mean).
- ``heat=True``: every node filled by the L2 norm of its gradient on one fixed log scale
  (viridis, 1e-6 to 1e0 unless ``heat_range`` says otherwise; dark = vanishing), with a
  legend of one swatch per decade.

Time reads like text. When the top-level scopes are the steps of an unroll (``t=0``,
``t=1``, …, then perhaps ``readout`` and ``loss``), each next step is right of the
previous one or starts a new row below it, never above. Collapsed steps (``depth=1``)
are laid out in rows that wrap to fit a page, with a copy of each shared parameter per
row (dashed after the first), so that the weights do not drag the chain around; at full
depth each step is a row of its own. ``rankdir="TB"`` runs time top to bottom instead.

Gradients are d(sum of roots)/d(node), computed from the graph when the roots are
one-element tensors whose graph is intact; otherwise each tensor's ``.grad`` is shown
(leaves after ``backward()``, and tensors marked with ``retain_grad()``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import graphviz
import numpy as np

from ..autograd import topological_order, vertex, vertex_gradients
from ..norms import l2
from ..tensor import Node, Tensor
from . import colours, labels
from .render import Picture

#: The width, in points, that a row of collapsed steps may take before the next row.
ROW_WIDTH = 1500.0
_SHARED_EDGE = {"color": "#8fa8c8", "penwidth": "0.7"}
_EMPHASIS = {"penwidth": "3", "color": colours.HIGHLIGHT}


def draw_graph(*roots: Tensor, values: bool = False, grads: bool = False, heat: bool = False,
               depth: int | None = None, rankdir: str = "LR",
               heat_range: tuple[float, float] | None = None,
               highlight: str | Sequence[Tensor] | None = None,
               key: bool = True) -> Picture:
    """Draw the graph that produced ``roots``.

    Args:
        roots: the tensors to draw back from (usually the loss).
        values: add a summary of each value node's data.
        grads: add a summary of each value node's gradient.
        heat: colour every node by its gradient's L2 norm (log scale, with a legend).
        depth: draw scopes down to level ``depth`` as clusters and every scope at that
            level as one box (``depth=1`` turns an unrolled RNN into rows of
            ``t=0 … t=T-1`` boxes); None draws every node.
        rankdir: how time runs: "LR" like text (left to right, rows going down), "TB"
            top to bottom; "RL" and "BT" mirror them.
        heat_range: ``(low, high)`` gradient norms for the ends of the colour scale;
            default ``(1e-6, 1.0)`` for every picture, so that pictures compare.
        highlight: a tensor name (e.g. ``"c"``) or tensors to draw in bold red, together
            with the unnamed ops on the paths between them.
        key: add the key that says what shapes and colours mean.

    Returns:
        a ``graphviz.Digraph`` (render with ``.render()``, ``.pipe()``, :func:`save`, or
        display it in Jupyter).

    Example::

        loss = mg.nn.functional.mse_loss(model(xs), ys)
        mg.viz.draw_graph(loss, heat=True, depth=1).render("bptt", format="svg")
    """
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("draw_graph: pass one or more Tensors")
    if any(r._node is not None and r._node.inputs is None for r in roots):
        raise ValueError("draw_graph: backward() already freed this tensor's graph; draw "
                         "before backward(), or call backward(retain_graph=True)")
    if depth is not None and depth < 1:
        raise ValueError(f"draw_graph: depth must be None or at least 1, got {depth}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    tensors = topological_order(list(roots), only_requiring_grad=False)[::-1]  # inputs first
    gradients = _gradients(roots, tensors) if grads or heat else {}
    scale = colours.HeatScale(*(heat_range or colours.DEFAULT_HEAT_RANGE)) if heat else None
    looks = _Looks(values=values, grads=grads, gradients=gradients,
                   norms={k: l2(g) for k, g in gradients.items()},
                   scale=scale,
                   marked=_highlighted(tensors, highlight), saved=_saved_data(tensors))
    return _Builder(tensors, depth, rankdir, looks).picture(with_key=key)


@dataclass
class _Looks:
    """What the labels and fills show."""

    values: bool
    grads: bool
    gradients: dict[int, np.ndarray]
    norms: dict[int, float]
    scale: colours.HeatScale | None
    marked: set[int]
    saved: dict[int, np.ndarray]

    def fill(self, norm: float | None, otherwise: str) -> str:
        """The heat colour of a gradient norm, or ``otherwise`` without heat."""
        return self.scale.fill(norm) if self.scale else otherwise


# ---- what the graph holds ------------------------------------------------------------------

def _gradients(roots: Sequence[Tensor], vertices: list) -> dict[int, np.ndarray]:
    """d(sum of roots)/d(v) for every vertex that requires grad, else what ``.grad`` holds."""
    wanted = [v for v in vertices if v.requires_grad]
    if wanted and all(r.requires_grad and r.data.size == 1 for r in roots):
        try:
            return vertex_gradients(roots, wanted)
        except RuntimeError:  # part of the graph was freed: show what .grad holds
            pass
    found = {}
    for v in vertices:
        t = v.tensor() if type(v) is Node and v.tensor is not None else v
        if t is not None and getattr(t, "grad", None) is not None:
            found[id(v)] = t.grad
    return found


def _saved_data(vertices: list) -> dict[int, np.ndarray]:
    """The data of each vertex that a consumer's VJP saved (``dW = X.T @ dZ`` keeps ``X``
    in the matmul's node even when the program has dropped ``X``)."""
    saved = {}
    for v in vertices:
        if type(v) is Node and v.saved is not None and v.inputs is not None:
            for x, array in zip(v.inputs, v.saved):
                if isinstance(array, np.ndarray):
                    saved[id(x)] = array
    return saved


def _inputs(v: Any) -> tuple:
    """A vertex's graph inputs (nodes and leaf tensors), none for a leaf."""
    if type(v) is not Node or v.inputs is None:
        return ()
    return tuple(x for x in v.inputs if type(x) is Node or isinstance(x, Tensor))


def _highlighted(vertices: list, highlight: Any) -> set[int]:
    """The highlighted vertices and the unnamed ops on the paths between them, e.g. for
    ``highlight="c"`` the chain c_0 -> mul -> add -> c_1 -> ... of an LSTM."""
    if highlight is None:
        return set()
    drawn = {id(v) for v in vertices}
    if isinstance(highlight, str):
        marked = {id(v) for v in vertices if v.name == highlight}
        if not marked:
            names = sorted({v.name for v in vertices if v.name})
            raise ValueError(f"draw_graph: highlight={highlight!r} matches no tensor in this "
                             f"graph; its named tensors are {', '.join(names) or 'none'}")
    else:
        marked = {id(vertex(t)) for t in highlight}
        if not marked <= drawn:
            raise ValueError("draw_graph: a tensor to highlight is not in this graph")
    on_path = set(marked)
    for v in vertices:
        if id(v) not in marked:
            continue
        # walk back from v through unnamed results until another marked vertex
        stack = [(x, (x,)) for x in _inputs(v)]
        while stack:
            x, path = stack.pop()
            if id(x) in marked:
                on_path.update(id(p) for p in path)
            elif x.name is None and len(path) < 8:
                stack.extend((y, (*path, y)) for y in _inputs(x))
    return on_path


# ---- the picture ------------------------------------------------------------------------------

class _Builder:
    """Places every vertex (a node in its scope's cluster, or a member of a collapsed
    box), decides how time is laid out, then writes the DOT."""

    def __init__(self, tensors: list, depth: int | None, rankdir: str, looks: _Looks) -> None:
        self.tensors, self.looks = tensors, looks
        self.number = {id(t): n for n, t in enumerate(tensors)}
        self.box_of: dict[int, tuple[str, ...]] = {}   # collapsed tensor -> box scope
        self.boxes: dict[tuple[str, ...], list] = {}    # box scope -> members
        self.path: dict[int, tuple[str, ...]] = {}      # drawn tensor -> cluster scope
        self.consumers: dict[int, list] = {}
        for t in tensors:
            path = labels.scope_path(t.scope)
            if depth is not None and len(path) >= depth:
                self.box_of[id(t)] = path[:depth]
                self.boxes.setdefault(path[:depth], []).append(t)
            else:
                self.path[id(t)] = path
            for x in _inputs(t):
                self.consumers.setdefault(id(x), []).append(t)
        self.box_id = {path: f"b{k}" for k, path in enumerate(self.boxes)}
        self.unit_box = {f"b{k}": path[0] for k, path in enumerate(self.boxes)
                         if len(path) == 1}
        # the top-level scopes in the order the program ran them (their first op; a
        # layer's weights are made long before): the steps of time
        self.unit_of = {id(t): p[0] for t in tensors if (p := labels.scope_path(t.scope))}
        ran = [t for t in tensors if not t.is_leaf] + [t for t in tensors if t.is_leaf]
        self.units = list(dict.fromkeys(self.unit_of[id(t)] for t in ran
                                        if id(t) in self.unit_of))
        # time reads like text: collapsed steps in rows; whole steps, which do not fit
        # in a row, one under another
        several = len(self.units) > 1
        self.rows_layout = several and rankdir == "LR" and depth == 1
        self.rankdir = "TB" if several and rankdir in ("LR", "TB") else rankdir
        self.rows = self._rows() if self.rows_layout else []
        self.row_of = {unit: r for r, row in enumerate(self.rows) for unit in row}
        self.copies = self._copied_leaves()
        self.nodes: dict[tuple[str, ...], list[tuple[str, dict]]] = {(): []}
        self.port: dict[int, str] = {}      # tensor -> node its consumers connect from
        self.entry: dict[int, str] = {}     # tensor -> node its inputs connect to
        self.edges: dict[tuple[str, str], list[str]] = {}
        self.edge_attrs: dict[tuple[str, str], dict] = {}
        self.row_tops: dict[int, list[str]] = {}

    # -- layout decisions ---------------------------------------------------------------

    def _rows(self) -> list[list[str]]:
        """The units (collapsed steps) in rows of about ``ROW_WIDTH``, equally long."""
        widths = [_width(self._box_lines(self.boxes[(unit,)])) + 70 for unit in self.units]
        per_row = max(1, int(ROW_WIDTH // max(widths)))
        count = math.ceil(len(self.units) / per_row)
        per_row = math.ceil(len(self.units) / count)
        return [self.units[k:k + per_row] for k in range(0, len(self.units), per_row)]

    def _copied_leaves(self) -> dict[int, list[int]]:
        """Leaves outside every step that steps in several rows read (the shared weights):
        for each, the rows that get a copy of it."""
        copies = {}
        for t in self.tensors:
            if not t.is_leaf or id(t) in self.box_of or not self.rows:
                continue
            rows = sorted({self.row_of[self.unit_of[id(c)]] for c in self.consumers.get(id(t), ())
                           if id(c) in self.box_of})
            if len(rows) > 1:
                copies[id(t)] = rows
        return copies

    # -- nodes ---------------------------------------------------------------------------

    def _cluster(self, path: tuple[str, ...]) -> list[tuple[str, dict]]:
        for k in range(1, len(path) + 1):
            self.nodes.setdefault(path[:k], [])
        return self.nodes[path]

    def _value_label(self, t: Any) -> str:
        looks = self.looks
        shape = labels.shape(t.shape) + ("" if t.dtype == np.float64 else f" {t.dtype}")
        lines = [f"<b>{labels.name(t.name)}</b> {shape}" if t.name is not None else shape]
        if looks.values:
            data = t.data if t.data is not None else looks.saved.get(id(t))
            lines.append("data " + (labels.text(labels.summary(data)) if data is not None
                                    else "freed (no VJP needs it)"))
        if looks.grads and id(t) in looks.gradients:
            lines.append("grad " + labels.text(labels.summary(looks.gradients[id(t)])))
        return "<br/>".join(line for line in lines if line)

    def add_tensor(self, t: Any) -> None:
        if id(t) in self.box_of:
            return
        n, looks = self.number[id(t)], self.looks
        emphasis = _EMPHASIS if id(t) in looks.marked else {}
        if t.is_leaf or t.name is not None:
            colour = colours.PARAMETER if t.is_leaf and t.requires_grad else (
                colours.OTHER_LEAF if t.is_leaf else colours.NAMED_RESULT)
            fill = looks.fill(looks.norms.get(id(t)), colour)
            attrs = {"label": _html(self._value_label(t), fill), "shape": "box",
                     "style": "rounded,filled", "fillcolor": fill, **emphasis}
            if id(t) in self.copies:
                for k, row in enumerate(self.copies[id(t)]):
                    node = f"v{n}" if k == 0 else f"v{n}r{row}"
                    style = attrs if k == 0 else {**attrs, "style": "rounded,filled,dashed"}
                    self.nodes[()].append((node, style))
                    self.row_tops.setdefault(row, []).append(node)
            else:
                self._cluster(self.path[id(t)]).append((f"v{n}", attrs))
            self.port[id(t)] = f"v{n}"
        if not t.is_leaf:
            op = f"o{n}"
            label = f"<b>{labels.name(t.op)}</b>{labels.text(labels.op_detail(t))}"
            if t.name is None:
                label += f" {labels.shape(t.shape)}"
            fill = looks.fill(looks.norms.get(id(t)), colours.NO_GRADIENT)
            attrs = {"label": _html(label, fill), "shape": "ellipse", "style": "filled",
                     "fillcolor": fill, **emphasis}
            self._cluster(self.path[id(t)]).append((op, attrs))
            self.entry[id(t)] = op
            if id(t) in self.port:
                self._edge(op, self.port[id(t)], None, id(t) in looks.marked)
            else:
                self.port[id(t)] = op

    def _slices(self) -> list[list[str]]:
        """The slices of each tensor cut into pieces (an LSTM's Z into its gates), in the
        order they were made: kept side by side in that order (i, f, g, o) in every step."""
        groups = []
        for t in self.tensors:
            pieces = [self.entry[id(c)] for c in self.consumers.get(id(t), ())
                      if c.op == "getitem" and id(c) in self.entry and id(c) not in self.box_of]
            if len(pieces) > 1:
                groups.append(pieces)
        return groups

    def _box_lines(self, members: list) -> list[str]:
        """Its scope, how many ops it holds, and the largest gradient norm inside."""
        ops = sum(1 for t in members if not t.is_leaf)
        lines = [self.box_of[id(members[0])][-1], f"{ops} ops"]
        if self.looks.norms or self.looks.scale:
            lines.append(f"max ||grad|| {self._box_norm(members):.2g}")
        return lines

    def _box_norm(self, members: list) -> float:
        return max((self.looks.norms.get(id(t), 0.0) for t in members), default=0.0)

    def add_boxes(self) -> None:
        for path, members in self.boxes.items():
            node = self.box_id[path]
            fill = self.looks.fill(self._box_norm(members), "#f6f6f6")
            lines = self._box_lines(members)
            label = f"<b>{labels.name(lines[0])}</b><br/>" + "<br/>".join(
                labels.text(line) for line in lines[1:])
            self._cluster(path[:-1]).append(
                (node, {"label": _html(label, fill), "shape": "box3d", "style": "filled",
                        "fillcolor": fill}))
            for t in members:
                self.port[id(t)] = self.entry[id(t)] = node

    # -- edges ---------------------------------------------------------------------------

    def add_edges(self, t: Any) -> None:
        if t.is_leaf:
            return
        target = self.entry[id(t)]
        for x in _inputs(t):
            source = self.port[id(x)]
            if source == target:
                continue
            if id(x) in self.copies and id(t) in self.box_of:
                row = self.row_of[self.unit_of[id(t)]]
                if row != self.copies[id(x)][0]:
                    source = f"{source}r{row}"
            shared = x.is_leaf and x.requires_grad  # a parameter: its box names it
            crossing = id(x) in self.box_of or id(t) in self.box_of
            label = (f"{x.name or x.op or 'x'} {labels.shape(x.shape)}"
                     if crossing and not shared else None)
            between_steps = (self.unit_of.get(id(x)) != self.unit_of.get(id(t))
                             and id(x) in self.unit_of and id(t) in self.unit_of)
            self._edge(source, target, label, id(x) in self.looks.marked
                       and id(t) in self.looks.marked, shared, between_steps)

    def _edge(self, source: str, target: str, label: str | None, emphasised: bool,
              shared: bool = False, between_steps: bool = False) -> None:
        labels_here = self.edges.setdefault((source, target), [])
        if label is not None and label not in labels_here:
            labels_here.append(label)
        attrs = self.edge_attrs.setdefault((source, target), {})
        if emphasised:
            attrs.update(_EMPHASIS)
        elif shared:
            attrs.update(_SHARED_EDGE)
        if between_steps and self._wraps(source, target):
            attrs["constraint"] = "false"  # the chain may go back to the left, down a row

    def _wraps(self, source: str, target: str) -> bool:
        """An edge from the end of one row of steps to the start of the next: it must
        not push the later step further along."""
        units = self.unit_box
        return (self.rows_layout and source in units and target in units
                and self.row_of[units[source]] != self.row_of[units[target]])

    # -- assembly -------------------------------------------------------------------------

    def picture(self, with_key: bool) -> Picture:
        for t in self.tensors:
            self.add_tensor(t)
        self.add_boxes()
        for t in self.tensors:
            self.add_edges(t)
        # nslimit bounds dot's positioning passes, which otherwise grow steeply with the
        # long edges from shared parameters into every time step (281 s for 100 steps).
        picture = Picture(name="minigrad", graph_attr={
            "rankdir": self.rankdir, "fontname": "Helvetica", "nodesep": "0.25",
            "ranksep": "0.35", "nslimit": "5", "newrank": "true",
            # the final crossing pass over clusters would undo the order of the slices
            "remincross": "false"},
            node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.05"},
            edge_attr={"arrowsize": "0.6", "color": "#555555", "fontname": "Helvetica",
                       "fontsize": "8"})
        self._assemble(picture)
        self._emit_edges(picture)
        if self.rows_layout:
            self._emit_rows(picture)
        for group in self._slices():
            picture.body.append("\t{rank=same; " + "; ".join(group) + "}\n")
            for before, after in zip(group, group[1:]):
                # dot puts a flat edge's tail first: left of its head, which a left-to-right
                # layout turns into below
                if self.rankdir in ("LR", "RL"):
                    before, after = after, before
                picture.edge(before, after, style="invis")
        if with_key or self.looks.scale:
            self._emit_key(picture, with_key)
        return picture

    def _assemble(self, picture: graphviz.Digraph) -> None:
        """Nodes into clusters, deepest clusters first, so that each is complete before
        it is copied into its parent (Graphviz copies a subgraph's body when added)."""
        clusters = {path: graphviz.Digraph(name=f"cluster_{k}") for k, path in
                    enumerate(self.nodes) if path}
        for path, nodes in self.nodes.items():
            target = clusters[path] if path else picture
            if path:
                target.attr(label=f"<{labels.text(path[-1])}>", style="rounded",
                            color="#999999", fontsize="11")
            for node, attrs in nodes:
                target.node(node, **attrs)
        for path in sorted(clusters, key=len, reverse=True):
            parent = clusters[path[:-1]] if len(path) > 1 else picture
            parent.subgraph(clusters[path])

    def _emit_edges(self, picture: graphviz.Digraph) -> None:
        for (source, target), texts in self.edges.items():
            attrs = dict(self.edge_attrs.get((source, target), {}))
            if texts:  # a real label: dot makes room for it, so it overlaps nothing
                attrs["label"] = "<" + "<br/>".join(labels.text(x) for x in texts) + ">"
            picture.edge(source, target, **attrs)

    def _emit_rows(self, picture: graphviz.Digraph) -> None:
        """Each row of steps on one rank, its copies of the shared weights on the rank
        above; invisible edges stack the rows, each under the previous one's start."""
        previous = None
        for r, row in enumerate(self.rows):
            steps = [self.box_id[(unit,)] for unit in row]
            tops = self.row_tops.get(r, [])
            if tops:
                picture.body.append("\t{rank=same; " + "; ".join(tops) + "}\n")
                picture.edge(tops[0], steps[0], style="invis", weight="10")
            picture.body.append("\t{rank=same; " + "; ".join(steps) + "}\n")
            if previous is not None:
                picture.edge(previous, tops[0] if tops else steps[0], style="invis",
                             weight="100")
            previous = steps[0]

    def _emit_key(self, picture: graphviz.Digraph, with_key: bool) -> None:
        corner = []
        if self.looks.scale is not None:
            picture.node("legend", label=self.looks.scale.legend(), shape="plaintext")
            corner.append("legend")
        if with_key:
            picture.node("key", label=colours.key(heat=self.looks.scale is not None,
                                          collapsed=bool(self.boxes),
                                          copies=bool(self.copies),
                                          highlight=bool(self.looks.marked)),
                         shape="plaintext", fontsize="9")
            corner.append("key")
        picture.body.append("\t{rank=max; " + "; ".join(corner) + "}\n")


def _html(label: str, fill: str) -> str:
    return f'<<font color="{colours.font_for(fill)}">{label}</font>>'


def _width(lines: list[str]) -> float:
    """About how wide, in points, a box with these lines of 10 pt Helvetica is."""
    return 6.0 * max(len(line) for line in lines) + 16
