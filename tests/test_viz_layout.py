"""Pictures a student can read (issue #11), checked on what the real `dot` lays out:
they fit a page, time reads in order, no label sits on a box, the legend's decades are
right, and the heat says "dark = vanishing" truthfully."""

import json
import re

import pytest

import minigrad as mg
from lstm.cli import main
from lstm.pictures import unrolled_loss
from minigrad.viz import relative_luminance

PAGE = (1800, 2400)  # points: what a picture may take, width by height


class Layout:
    """dot's own reading of a picture (-Tjson): nodes and clusters with their boxes in
    points (y grows upwards, as dot reports it), and edges with their labels' boxes."""

    def __init__(self, picture):
        source = picture if isinstance(picture, str) else picture.source
        data = json.loads(mg.viz.run_dot(source, "json"))
        self.width, self.height = (float(v) for v in data["bb"].split(",")[2:])
        objects = data.get("objects", [])
        self.nodes = [o for o in objects if "nodes" not in o]
        self.clusters = [o for o in objects if o.get("name", "").startswith("cluster")]
        index = {o["_gvid"]: o for o in objects}
        self.edges = [(index[e["tail"]], index[e["head"]], e) for e in data.get("edges", [])]

    @staticmethod
    def node_box(node):
        x, y = (float(v) for v in node["pos"].split(","))
        w, h = float(node["width"]) * 72, float(node["height"]) * 72
        return x - w / 2, y - h / 2, x + w / 2, y + h / 2

    @staticmethod
    def cluster_box(cluster):
        return tuple(float(v) for v in cluster["bb"].split(","))

    def label_boxes(self):
        """The box of every edge label's text."""
        boxes = []
        for _, _, edge in self.edges:
            for key, ops in edge.items():
                if key.endswith("ldraw_"):
                    boxes += _text_boxes(ops)
        return boxes

    def steps(self):
        """Step number -> box of each time step: a collapsed box, or a cluster."""
        found = {}
        for node in self.nodes:
            if node.get("shape") == "box3d" and (m := re.search(r">t=(\d+)<", node["label"])):
                found[int(m.group(1))] = self.node_box(node)
        for cluster in self.clusters:
            if m := re.fullmatch(r"<?t=(\d+)>?", cluster.get("label", "")):
                found[int(m.group(1))] = self.cluster_box(cluster)
        return [found[t] for t in sorted(found)]


def _text_boxes(ops):
    boxes, size = [], 10.0
    for op in ops:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            x, y = op["pt"]
            left = {"l": x, "c": x - op["width"] / 2, "r": x - op["width"]}[op["align"]]
            boxes.append((left, y - 0.25 * size, left + op["width"], y + 0.9 * size))
    return boxes


def overlaps(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def in_reading_order(steps):
    """Each next step is right of the previous one on its row, or on a row below."""
    for before, after in zip(steps, steps[1:]):
        height = before[3] - before[1]
        same_row = abs((after[1] + after[3]) / 2 - (before[1] + before[3]) / 2) < height / 2
        if same_row and after[0] <= before[0]:
            return False
        if not same_row and (after[1] + after[3]) / 2 > before[1]:  # not below: up
            return False
    return True


def fill_of(layout, pattern):
    (node,) = [n for n in layout.nodes if re.search(pattern, n.get("label", ""))]
    return relative_luminance(node["fillcolor"])


PICTURES = {
    "rnn, 30 steps, depth 1": (lambda: mg.viz.draw_graph(unrolled_loss("rnn", 30), heat=True,
                                                         depth=1), ">t=0<", ">t=29<"),
    "lstm, 30 steps, depth 1": (lambda: mg.viz.draw_graph(unrolled_loss("lstm", 30), heat=True,
                                                          depth=1), ">t=0<", ">t=29<"),
    "lstm, 2 steps, values and gradients": (
        lambda: mg.viz.draw_graph(unrolled_loss("lstm", 2), values=True, grads=True,
                                  heat=True), None, None),
}


@pytest.fixture(scope="module", params=sorted(PICTURES))
def drawn(request):
    make, first, last = PICTURES[request.param]
    return request.param, Layout(make()), first, last


def test_the_picture_fits_a_page(drawn):
    name, layout, _, _ = drawn
    assert layout.width <= PAGE[0] and layout.height <= PAGE[1], (name, layout.width,
                                                                  layout.height)


def test_the_legend_has_one_label_per_decade_evenly_spaced(drawn):
    _, layout, _, _ = drawn
    (legend,) = [n for n in layout.nodes if n["name"] == "legend"]
    decades = [int(k) for k in re.findall(r">1e(-?\d+)<", legend["label"])]
    assert decades == list(range(-6, 1))  # distinct, in order, one per decade
    texts = [op for op in legend["_ldraw_"] if op["op"] == "T" and op["text"].startswith("1e")]
    centres = [op["pt"][0] + {"l": 0.5, "c": 0.0, "r": -0.5}[op["align"]] * op["width"]
               for op in texts]
    gaps = [b - a for a, b in zip(centres, centres[1:])]
    assert [op["text"] for op in texts] == [f"1e{k}" for k in decades]
    assert max(gaps) - min(gaps) < 0.5 and min(gaps) > 0


def test_no_edge_label_sits_on_a_box(drawn):
    name, layout, _, _ = drawn
    boxes = [layout.node_box(n) for n in layout.nodes]
    labels = layout.label_boxes()
    assert labels or "2 steps" in name  # collapsed steps have labelled edges
    hits = [(label, box) for label in labels for box in boxes if overlaps(label, box)]
    assert not hits, hits[:3]


def test_time_reads_in_order(drawn):
    name, layout, _, _ = drawn
    steps = layout.steps()
    assert len(steps) == (2 if "2 steps" in name else 30)
    assert in_reading_order(steps)


def test_dark_means_vanishing(drawn):
    name, layout, first, last = drawn
    if first is None:  # full depth: the fill of each step's h
        first_light, last_light = (relative_luminance(n["fillcolor"]) for n in sorted(
            (n for n in layout.nodes if "<b>h</b>" in n.get("label", "")),
            key=lambda n: -layout.node_box(n)[3]))  # top to bottom: t=0, t=1
    else:
        first_light, last_light = fill_of(layout, first), fill_of(layout, last)
    assert last_light > 0.5
    if name.startswith("rnn"):
        assert first_light < 0.15  # vanished
    else:
        assert first_light > 0.15  # the LSTM keeps its gradient

# ---- what the picture explains itself -----------------------------------------------------

def full_depth_lstm():
    return Layout(mg.viz.draw_graph(unrolled_loss("lstm", 2), values=True, grads=True))


def test_every_step_has_the_same_ops_and_the_gates_in_order():
    layout = full_depth_lstm()
    slices = ["[:, 0:16]", "[:, 16:32]", "[:, 32:48]", "[:, 48:64]"]  # i, f, g, o
    steps = [c for c in layout.clusters if re.fullmatch(r"<?t=\d+>?", c.get("label", ""))]
    ops_per_step = []
    for cluster in steps:
        box = layout.cluster_box(cluster)
        inside = [n for n in layout.nodes if overlaps(layout.node_box(n), box)]
        ops_per_step.append(sorted(re.sub(r"<[^>]+>", "", n["label"]).split()[0]
                                   for n in inside if n.get("shape") == "ellipse"))
        gates = [next(n for n in inside if piece in n["label"]) for piece in slices]
        xs = [layout.node_box(g)[0] for g in gates]
        assert xs == sorted(xs), "gates out of order"
    assert ops_per_step[0] == ops_per_step[1]


def test_the_readout_the_initial_state_and_the_key_are_named():
    layout = full_depth_lstm()
    (readout,) = [c for c in layout.clusters if c.get("label", "").strip("<>") == "readout"]
    inside = [n for n in layout.nodes
              if overlaps(layout.node_box(n), layout.cluster_box(readout))]
    assert {re.search(r"<b>(\w+)</b>", n["label"]).group(1) for n in inside
            if "<b>" in n["label"] and n.get("shape") == "box"} == {"W", "b"}
    labels = " ".join(n.get("label", "") for n in layout.nodes)
    assert "<b>h0</b>" in labels and "<b>c0</b>" in labels and ">0<" not in labels
    (key,) = [n for n in layout.nodes if n["name"] == "key"]
    assert "ellipse: an op" in key["label"] and "a leaf that requires grad" in key["label"]


def test_values_show_what_backward_keeps():
    source = mg.viz.draw_graph(unrolled_loss("lstm", 2), values=True).source
    x_labels = re.findall(r"<b>X</b>[^>]*?<br/>data ([^<]+)<", source)
    assert len(x_labels) == 2 and all("freed" not in text for text in x_labels)


def test_a_highlight_that_matches_nothing_is_an_error(capsys):
    with pytest.raises(ValueError, match=r"^draw_graph: highlight='zzz' matches no tensor in "
                                         r"this graph; its named tensors are .*\bc\b"):
        mg.viz.draw_graph(unrolled_loss("lstm", 2), highlight="zzz")
    assert main(["graph", "--highlight", "zzz", "-o", "unused.svg"]) == 1
    assert "matches no tensor" in capsys.readouterr().err


def test_rankdir_top_to_bottom_from_the_command_line(tmp_path):
    out = tmp_path / "g.dot"
    assert main(["graph", "--steps", "4", "--depth", "1", "--rankdir", "TB", "-o",
                 str(out)]) == 0
    steps = Layout(out.read_text()).steps()
    assert len(steps) == 4 and in_reading_order(steps)
    assert all(after[3] <= before[1] for before, after in zip(steps, steps[1:]))  # each below


def test_a_long_unroll_at_full_depth_warns_that_dot_will_be_slow(tmp_path, capsys):
    assert main(["graph", "--steps", "41", "-o", str(tmp_path / "g.dot")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--depth 1 draws one box per step" in err
    assert main(["graph", "--steps", "41", "--depth", "1", "-o", str(tmp_path / "g.dot")]) == 0
    assert capsys.readouterr().err == ""
