"""Pictures of the computation graph, with Graphviz.

``draw_graph`` returns a ``graphviz.Digraph``: building it needs no ``dot`` binary,
rendering it (``.render()``, ``.pipe()``, Jupyter's display, :func:`save`) does.

What a picture shows:

- an **op node** (ellipse) per primitive application, labelled with the op and its
  output shape; a **value node** (box) per leaf or named tensor, labelled with its
  name, shape and dtype (when not float64). Blue boxes are leaves that require grad
  (parameters), grey boxes other leaves (inputs, constants), yellow boxes named results.
- tensors made inside ``mg.scope(...)`` inside a cluster per scope, nested as the
  scopes nest; ``depth=k`` draws every scope at level k as a single box, with the
  edges between boxes merged and labelled with the tensors that cross them.
- ``values=True`` / ``grads=True``: a short summary of data / gradient on each value
  node (the number for a scalar, a few entries for a short vector, else norm and mean).
  A named result whose data no VJP needs and the program no longer holds is shown as
  freed: the graph keeps only what backward reads.
- ``heat=True``: every node filled by the L2 norm of its gradient on a log scale
  (viridis: dark = small, yellow = large; white = no gradient), with a legend, so a
  vanishing gradient is visible as a fade.

Gradients are d(sum of roots)/d(node), computed from the graph when the roots are
one-element tensors whose graph is intact; otherwise each tensor's ``.grad`` is shown
(leaves after ``backward()``, and tensors marked with ``retain_grad()``).
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .autograd import topological_order, vertex, vertex_gradients
from .files import atomic_write
from .tensor import Node, Tensor

INSTALL_DOT = ("Graphviz's `dot` program is needed to render pictures but was not found "
               "on PATH. Install it with your system's package manager: `apt-get install "
               "graphviz` (Debian, Ubuntu), `dnf install graphviz` (Fedora), `brew install "
               "graphviz` (macOS), `conda install graphviz`, or run `make dot` in the "
               "minigrad repository. Building the graph (its DOT source) works without it.")

LEAF_PARAMETER, LEAF_OTHER, NAMED_RESULT = "#cfe2f3", "#eeeeee", "#fff2cc"
HIGHLIGHT = "#d62728"


class DotNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


class RenderError(RuntimeError):
    """Graphviz's ``dot`` ran but could not draw the graph (most often: too large)."""


def run_dot(source: str, fmt: str, engine: str = "dot") -> bytes:
    """Graphviz's drawing of the DOT ``source`` in format ``fmt`` (``"svg"``, ``"png"``…).

    Errors are one clear line: :class:`DotNotFoundError` says how to install ``dot``,
    :class:`RenderError` why it failed and what to try instead (dot's own messages, which
    run to thousands of lines for a large graph, are not echoed). If Python is
    interrupted (Ctrl-C) while ``dot`` works, ``dot`` is killed, never left running.
    """
    try:  # subprocess.run kills the child on any exception, KeyboardInterrupt included
        done = subprocess.run([engine, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise DotNotFoundError(INSTALL_DOT) from None
    if done.returncode != 0:
        raise _render_error(engine, source, done.stderr, done.returncode)
    return done.stdout


_NODE_STATEMENT = re.compile(r"\s*(?!(?:graph|node|edge) )\w+ \[")


def _render_error(engine: str, source: str, stderr: bytes | None, code: int) -> RenderError:
    said = (stderr or b"").decode(errors="replace").strip().splitlines()
    nodes = sum(1 for line in source.splitlines() if _NODE_STATEMENT.match(line))
    return RenderError(
        f"Graphviz's {engine} could not draw this graph of {nodes} nodes (it said: "
        f"{said[0].strip() if said else f'exit status {code}'}); draw fewer time steps, or "
        f"collapse each step into one box with depth=1 (python -m lstm graph --depth 1)")


class Picture(graphviz.Digraph):
    """A ``graphviz.Digraph`` drawn by :func:`run_dot`: one-line errors, and no ``dot``
    left running after Ctrl-C (``graphviz.Digraph.pipe`` leaves it)."""

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = True, *,
             engine: str | None = None, encoding: str | None = None) -> Any:
        if renderer or formatter or neato_no_op:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        data = run_dot(self.source, format or self.format, engine or self.engine)
        return data.decode(encoding) if encoding else data

    def render(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("quiet", True)
        try:  # graphviz renders to files with subprocess.run, which kills dot on Ctrl-C
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(INSTALL_DOT) from None
        except graphviz.CalledProcessError as error:
            raise _render_error(self.engine, self.source, error.stderr,
                                error.returncode) from None


def save(picture: graphviz.Digraph, path: str | Path) -> Path:
    """Write ``picture`` to ``path``; the suffix picks the format (``.svg``, ``.png``,
    ``.pdf``, or ``.dot``/``.gv`` for the DOT source, which needs no ``dot``).

    The file appears whole or not at all: a failing or interrupted ``dot`` leaves any
    earlier file at ``path`` as it was."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        return atomic_write(path, picture.source)
    if fmt not in PICTURE_FORMATS:
        raise ValueError(f"save: unknown picture format {path.suffix!r}; use .svg, .png, "
                         f".pdf or .dot")
    return atomic_write(path, run_dot(picture.source, fmt, picture.engine))


#: What :func:`save` writes, by file suffix.
PICTURE_FORMATS = ("svg", "png", "pdf", "dot", "gv")


# ---- text ---------------------------------------------------------------------------------

# control characters (but line breaks and tabs) and lone surrogates: dot rejects them
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _text(value: Any) -> str:
    """User text made safe for an HTML-like Graphviz label: markup escaped, line breaks
    kept, control characters shown as ``\\xNN``."""
    text = _UNPRINTABLE.sub(_visible, str(value))
    return html.escape(text, quote=True).replace("\n", "<br/>")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else "\ufffd"


def _name(value: Any) -> str:
    """A name for a bold label: as :func:`_text`, with an empty name shown as ``""``
    (dot refuses an empty ``<b></b>``)."""
    return _text(value) if str(value) else "&quot;&quot;"


def _scope_path(scope: str | None) -> tuple[str, ...]:
    """The nested scopes of ``scope``, outermost first; empty parts (``"t/"``,
    ``"a//b"``) are no scope."""
    return tuple(part for part in scope.split("/") if part) if scope else ()


def _summary(array: np.ndarray) -> str:
    array = np.asarray(array)
    if array.size == 1:
        return f"{array.item():.4g}"
    if array.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in array.ravel()) + "]"
    return f"norm {np.linalg.norm(array):.3g}, mean {array.mean():.3g}"


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


def _index_text(index: Any) -> str:
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


def _op_detail(t: Node) -> str:
    params = t.params or {}
    if t.op == "getitem":
        return " " + _index_text(params["index"])
    if "axis" in params and params["axis"] is not None:
        return f" axis={params['axis']}"
    if t.op == "pow":
        return f" {params['exponent']:g}"
    return ""


# ---- colour -------------------------------------------------------------------------------

class _Heat:
    """Log-scale colouring of gradient norms between ``low`` and ``high``."""

    def __init__(self, norms: Iterable[float], heat_range: tuple[float, float] | None) -> None:
        from matplotlib import colormaps

        self.cmap = colormaps["viridis"]
        positive = [n for n in norms if n > 0]
        if heat_range is not None:
            low, high = heat_range
        elif positive:
            high = max(positive)
            low = max(min(positive), high * 1e-16)
        else:
            low, high = 1e-8, 1.0
        high = max(high, low * 10)
        self.log_low, self.log_high = np.log10(low), np.log10(high)

    def fraction(self, norm: float) -> float:
        value = (np.log10(norm) - self.log_low) / (self.log_high - self.log_low)
        return float(np.clip(value, 0.0, 1.0))

    def colours(self, norm: float | None) -> tuple[str, str]:
        """(fill, font colour) for a gradient norm; white for no gradient."""
        if norm is None or norm <= 0 or not np.isfinite(norm):
            return "#ffffff", "#000000"
        r, g, b, _ = self.cmap(self.fraction(norm))
        fill = f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
        return fill, "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "#000000"

    def legend(self) -> str:
        """An HTML table: swatches from the smallest to the largest norm shown."""
        cells = []
        for exponent in np.linspace(self.log_low, self.log_high, 6):
            fill, font = self.colours(10 ** exponent)
            cells.append(f'<td bgcolor="{fill}"><font color="{font}">1e{exponent:.0f}'
                         f'</font></td>')
        return ('<<table border="0" cellborder="1" cellspacing="0"><tr><td colspan="6">'
                '<b>||grad||, log scale</b></td></tr><tr>' + "".join(cells) + "</tr></table>>")


# ---- the graph ----------------------------------------------------------------------------

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
    if isinstance(highlight, str):
        marked = {id(v) for v in vertices if v.name == highlight}
    else:
        marked = {id(vertex(t)) for t in highlight}
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


def draw_graph(*roots: Tensor, values: bool = False, grads: bool = False, heat: bool = False,
               depth: int | None = None, rankdir: str = "LR",
               heat_range: tuple[float, float] | None = None,
               highlight: str | Sequence[Tensor] | None = None) -> Picture:
    """Draw the graph that produced ``roots``.

    Args:
        roots: the tensors to draw back from (usually the loss).
        values: add a summary of each value node's data.
        grads: add a summary of each value node's gradient.
        heat: colour every node by its gradient's L2 norm (log scale, with a legend).
        depth: draw scopes down to level ``depth`` as clusters and every scope at that
            level as one box (``depth=1`` turns an unrolled RNN into a chain of
            ``t=0 … t=T-1`` boxes); None draws every node.
        rankdir: Graphviz's layout direction, "LR" or "TB".
        heat_range: ``(low, high)`` gradient norms for the ends of the colour scale, to
            compare pictures; default: the range found in this graph.
        highlight: a tensor name (e.g. ``"c"``) or tensors to draw in bold red, together
            with the unnamed ops on the paths between them.

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
    norms = {k: float(np.linalg.norm(g)) for k, g in gradients.items()}
    painter = _Heat(norms.values(), heat_range) if heat else None
    marked = _highlighted(tensors, highlight)

    # nslimit bounds dot's positioning passes, which otherwise grow steeply with the
    # long edges from shared parameters into every time step (281 s for 100 steps).
    picture = Picture(name="minigrad", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                                   "nodesep": "0.15", "ranksep": "0.3",
                                                   "nslimit": "5"},
                      node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.05"},
                      edge_attr={"arrowsize": "0.6", "color": "#555555", "fontname": "Helvetica"})
    builder = _Builder(depth)
    for number, t in enumerate(tensors):
        builder.add_tensor(number, t, values, grads, gradients, norms, painter, marked)
    builder.add_boxes(norms, painter)
    builder.assemble(picture)
    for t in tensors:
        builder.add_edges(t, marked)
    builder.emit_edges(picture)
    if painter is not None:
        picture.node("legend", label=painter.legend(), shape="plaintext")
    return picture


class _Builder:
    """Collects node statements per cluster and merged edges, then writes the DOT."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        self.port: dict[int, str] = {}      # tensor -> node its consumers connect from
        self.op_node: dict[int, str] = {}   # tensor -> its op node
        self.box_of: dict[int, tuple[str, ...]] = {}  # tensor -> collapsed scope
        self.boxes: dict[tuple[str, ...], list[Tensor]] = {}
        self.nodes: dict[tuple[str, ...], list[tuple[str, dict]]] = {(): []}
        self.edges: dict[tuple[str, str], list[str]] = {}
        self.edge_attrs: dict[tuple[str, str], dict] = {}

    def _cluster(self, path: tuple[str, ...]) -> list[tuple[str, dict]]:
        for k in range(1, len(path) + 1):
            self.nodes.setdefault(path[:k], [])
        return self.nodes[path]

    def add_tensor(self, number: int, t: Tensor, values: bool, grads: bool,
                   gradients: dict, norms: dict, painter: _Heat | None, marked: set) -> None:
        path = _scope_path(t.scope)
        if self.depth is not None and len(path) >= self.depth:
            box = path[:self.depth]
            self.box_of[id(t)] = box
            self.boxes.setdefault(box, []).append(t)
            return
        nodes = self._cluster(path)
        fill, font = painter.colours(norms.get(id(t))) if painter else (None, "#000000")
        emphasis = {"penwidth": "3", "color": HIGHLIGHT} if id(t) in marked else {}
        if t.is_leaf or t.name is not None:
            lines = [f"<b>{_name(t.name)}</b>" if t.name is not None else "",
                     _shape(t.shape) + ("" if t.dtype == np.float64 else f" {t.dtype}")]
            if values:
                data = t.data
                lines.append("data " + (_text(_summary(data)) if data is not None else
                                        "freed (not needed by backward)"))
            if grads and id(t) in gradients:
                lines.append("grad " + _text(_summary(gradients[id(t)])))
            colour = LEAF_PARAMETER if t.is_leaf and t.requires_grad else (
                LEAF_OTHER if t.is_leaf else NAMED_RESULT)
            label = "<br/>".join(line for line in lines if line)
            node = f"v{number}"
            nodes.append((node, {"label": f'<<font color="{font}">{label}</font>>',
                                 "shape": "box", "style": "rounded,filled",
                                 "fillcolor": fill or colour, **emphasis}))
            self.port[id(t)] = node
        if not t.is_leaf:
            op = f"o{number}"
            label = f"<b>{_name(t.op)}</b>{_text(_op_detail(t))}"
            if t.name is None:
                label += f"<br/>{_shape(t.shape)}"
            nodes.append((op, {"label": f'<<font color="{font}">{label}</font>>',
                               "shape": "ellipse", "style": "filled",
                               "fillcolor": fill or "#ffffff", **emphasis}))
            self.op_node[id(t)] = op
            if id(t) in self.port:
                self._edge(op, self.port[id(t)], None, id(t) in marked)
            else:
                self.port[id(t)] = op

    def add_boxes(self, norms: dict, painter: _Heat | None) -> None:
        for number, (path, members) in enumerate(self.boxes.items()):
            node = f"b{number}"
            largest = max((norms.get(id(t), 0.0) for t in members), default=0.0)
            fill, font = painter.colours(largest) if painter else ("#f6f6f6", "#000000")
            ops = sum(1 for t in members if not t.is_leaf)
            label = f"<b>{_name(path[-1])}</b><br/>{ops} ops"
            if painter is not None or norms:
                label += f"<br/>max ||grad|| {largest:.2g}"
            self._cluster(path[:-1]).append(
                (node, {"label": f'<<font color="{font}">{label}</font>>', "shape": "box3d",
                        "style": "filled", "fillcolor": fill}))
            for t in members:
                self.port[id(t)] = node
                self.op_node[id(t)] = node

    def add_edges(self, t: Any, marked: set) -> None:
        if t.is_leaf:
            return
        target = self.op_node[id(t)]
        for x in _inputs(t):
            source = self.port[id(x)]
            if source == target:
                continue
            shared = x.is_leaf and x.requires_grad  # a parameter: its box names it
            crossing = id(x) in self.box_of or id(t) in self.box_of
            label = f"{x.name or x.op or 'x'} {_shape(x.shape)}" if crossing and not shared \
                else None
            self._edge(source, target, label, id(x) in marked and id(t) in marked, shared)

    def _edge(self, source: str, target: str, label: str | None, emphasised: bool,
              shared: bool = False) -> None:
        labels = self.edges.setdefault((source, target), [])
        if label is not None and label not in labels:
            labels.append(label)
        if emphasised:
            self.edge_attrs[(source, target)] = {"penwidth": "3", "color": HIGHLIGHT}
        elif shared:
            self.edge_attrs[(source, target)] = {"color": "#8fa8c8", "penwidth": "0.7"}

    def assemble(self, picture: graphviz.Digraph) -> None:
        """Nodes into clusters, deepest clusters first, so that each is complete before
        it is copied into its parent (Graphviz copies a subgraph's body when added)."""
        clusters = {path: graphviz.Digraph(name=f"cluster_{k}") for k, path in
                    enumerate(self.nodes) if path}
        for path, nodes in self.nodes.items():
            target = clusters[path] if path else picture
            if path:
                target.attr(label=f"<{_text(path[-1])}>", style="rounded", color="#999999",
                            fontsize="11")
            for node, attrs in nodes:
                target.node(node, **attrs)
        for path in sorted(clusters, key=len, reverse=True):
            parent = clusters[path[:-1]] if len(path) > 1 else picture
            parent.subgraph(clusters[path])

    def emit_edges(self, picture: graphviz.Digraph) -> None:
        for (source, target), labels in self.edges.items():
            attrs = dict(self.edge_attrs.get((source, target), {}))
            if labels:  # xlabel: placed after layout, so it adds no rank to lay out
                attrs["xlabel"] = "<" + "<br/>".join(_text(x) for x in labels) + ">"
                attrs["fontsize"] = "8"
            picture.edge(source, target, **attrs)

