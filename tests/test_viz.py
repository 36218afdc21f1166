"""Pictures: structure checked on what the real `dot` lays out (-Tjson), not just "it ran"."""

import json
import re

import graphviz
import numpy as np
import pytest

import minigrad as mg
from lstm.pictures import unrolled_loss


def layout(picture):
    """dot's own reading of the picture: clusters, nodes and edges."""
    data = json.loads(picture.pipe(format="json"))
    objects = data.get("objects", [])
    nodes = [o for o in objects if "nodes" not in o]
    clusters = [o for o in objects if o.get("name", "").startswith("cluster")]
    index = {o["_gvid"]: o for o in objects}
    edges = [(index[e["tail"]], index[e["head"]], e) for e in data.get("edges", [])]
    return clusters, nodes, edges


def label_text(obj):
    return re.sub(r"<[^>]+>", " ", obj.get("label", ""))


def named(nodes, name):
    return [n for n in nodes if re.search(rf"<b>{re.escape(name)}</b>", n.get("label", ""))]


def test_returns_a_digraph_that_jupyter_can_display():
    picture = mg.viz.draw_graph(unrolled_loss("rnn", 2))
    assert isinstance(picture, graphviz.Digraph)
    assert "image/svg+xml" in picture._repr_mimebundle_()


def test_one_cluster_per_time_step_with_the_cell_inside():
    clusters, _, _ = layout(mg.viz.draw_graph(unrolled_loss("lstm", 4)))
    labels = sorted(label_text(c).strip() for c in clusters)
    assert labels == sorted(["t=0", "t=1", "t=2", "t=3"] + ["lstm"] * 4 + ["readout", "loss"])
    steps = [c for c in clusters if label_text(c).strip().startswith("t=")]
    inner = [c for c in clusters if label_text(c).strip() == "lstm"]
    for step in steps:  # each step's cluster contains exactly one lstm cluster
        assert sum(set(c["nodes"]) <= set(step["nodes"]) for c in inner) == 1


@pytest.mark.parametrize("depth", [None, 1])
def test_shared_parameters_are_drawn_once_with_an_edge_into_every_step(depth):
    steps = 5
    clusters, nodes, edges = layout(mg.viz.draw_graph(unrolled_loss("lstm", steps),
                                                      depth=depth))
    weights = [n for n in named(nodes, "W") if "(18, 64)" in n["label"]]
    assert len(weights) == 1
    in_a_cluster = {i for c in clusters for i in c["nodes"]}
    assert weights[0]["_gvid"] not in in_a_cluster
    out_edges = [e for tail, _, e in edges if tail is weights[0]]
    assert len(out_edges) == steps


def test_the_gates_and_states_are_labelled():
    _, nodes, _ = layout(mg.viz.draw_graph(unrolled_loss("lstm", 2)))
    for name in ("i", "f", "g", "o", "c", "h"):
        assert len(named(nodes, name)) == 2, name
    assert len(named(nodes, "x")) == 2  # step 0 is drawn like every other step
    assert any("getitem" in n["label"] and "[:, 16:32]" in n["label"] for n in nodes)


def test_depth_collapse_strictly_reduces_nodes_and_labels_crossings():
    loss = unrolled_loss("lstm", 6)
    counts = [len(layout(mg.viz.draw_graph(loss, depth=d))[1]) for d in (None, 2, 1)]
    assert counts[0] > counts[1] > counts[2]
    _, nodes, edges = layout(mg.viz.draw_graph(loss, depth=1))
    boxes = [n for n in nodes if n.get("shape") == "box3d"]
    steps = [b for b in boxes if label_text(b).split()[0].startswith("t=")]
    assert sorted(label_text(b).split()[0] for b in boxes) == sorted(
        [f"t={t}" for t in range(6)] + ["readout", "loss"])
    chain = [e for tail, head, e in edges if tail in steps and head in steps]
    assert len(chain) == 5 and all("h (1, 16)" in e["label"] and "c (1, 16)" in e["label"]
                                   for e in chain)


def luminance(colour):
    r, g, b = (int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_heat_fades_over_early_rnn_steps_and_has_a_legend():
    loss = unrolled_loss("rnn", 30)
    _, nodes, _ = layout(mg.viz.draw_graph(loss, heat=True, depth=1))
    box = {label_text(n).split()[0]: n for n in nodes if n.get("shape") == "box3d"}
    early, late = box["t=0"]["fillcolor"], box["t=29"]["fillcolor"]
    assert early != late and luminance(early) < luminance(late) - 0.3
    assert any("log scale" in n.get("label", "") for n in nodes)


def test_heat_shows_the_lstm_keeping_its_gradient_where_the_rnn_loses_it():
    def first_step(cell):
        picture = mg.viz.draw_graph(unrolled_loss(cell, 30), heat=True, depth=1,
                                    heat_range=(1e-8, 1.0))
        box = {label_text(n).split()[0]: n for n in layout(picture)[1]
               if n.get("shape") == "box3d"}["t=0"]
        norm = float(re.search(r"max \|\|grad\|\| ([0-9.e+-]+)", box["label"]).group(1))
        return norm, luminance(box["fillcolor"])
    (lstm_norm, lstm_light), (rnn_norm, rnn_light) = first_step("lstm"), first_step("rnn")
    assert lstm_norm > 100 * rnn_norm and lstm_light > rnn_light + 0.15


def test_values_and_grads_are_summarised_not_dumped():
    x = mg.tensor(np.arange(100.0), requires_grad=True, name="x")
    s = mg.tensor(2.0, requires_grad=True, name="s")
    loss = ((x * s).sum() * 1.0).named("loss")
    source = mg.viz.draw_graph(loss, values=True, grads=True).source
    assert "data 2" in source and "grad 4950" in source  # scalars in full
    assert "data norm 573, mean 49.5" in source and "grad norm 20, mean 2" in source
    assert "99." not in source


def test_gradients_fall_back_to_dot_grad_after_the_graph_is_freed():
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    loss.backward()
    assert "grad [2, 4]" in mg.viz.draw_graph(x, grads=True).source


def test_hostile_names_are_escaped_and_render():
    hostile = 'a<b>"c"{d}|e\nf&g'
    with mg.scope("t<0>|{x}"):
        y = (mg.tensor([1.0], requires_grad=True, name=hostile) * 2).named(hostile)
    picture = mg.viz.draw_graph(y.sum(), values=True)
    svg = picture.pipe(format="svg").decode()
    assert "a&lt;b&gt;&quot;c&quot;{d}|e" in svg and "t&lt;0&gt;|{x}" in svg
    assert hostile not in picture.source


def test_output_is_deterministic():
    first = mg.viz.draw_graph(unrolled_loss("lstm", 3), heat=True, grads=True).source
    second = mg.viz.draw_graph(unrolled_loss("lstm", 3), heat=True, grads=True).source
    assert first == second
    assert not re.search(r"\b\d{9,}\b", first)  # no id()-based node names


def test_highlight_marks_the_cell_state_path():
    _, nodes, edges = layout(mg.viz.draw_graph(unrolled_loss("lstm", 3), highlight="c"))
    red = [n for n in nodes if n.get("color") == "#d62728"]
    assert len(named(red, "c")) == 3
    assert sum(1 for _, _, e in edges if e.get("color") == "#d62728") >= 4


def test_save_formats_and_errors(tmp_path):
    picture = mg.viz.draw_graph(unrolled_loss("rnn", 2))
    for suffix in ("svg", "png", "pdf", "dot"):
        assert mg.viz.save(picture, tmp_path / f"g.{suffix}").stat().st_size > 100
    with pytest.raises(ValueError, match="unknown picture format '.jpg'"):
        mg.viz.save(picture, tmp_path / "g.jpg")


def test_missing_dot_says_how_to_install_it(monkeypatch, tmp_path):
    picture = mg.viz.draw_graph(unrolled_loss("rnn", 2))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "digraph" in picture.source  # building needs no dot
    with pytest.raises(mg.viz.DotNotFoundError, match="apt-get install graphviz"):
        mg.viz.save(picture, tmp_path / "g.svg")
    with pytest.raises(mg.viz.DotNotFoundError, match="make dot"):
        picture.pipe(format="svg")


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.viz.draw_graph(), TypeError, "draw_graph: pass one or more Tensors"),
    (lambda: mg.viz.draw_graph(mg.tensor([1.0]), depth=0), ValueError,
     "depth must be None or at least 1, got 0"),
    (lambda: mg.viz.draw_graph(mg.tensor([1.0]), rankdir="XY"), ValueError,
     "rankdir must be LR, TB, RL or BT"),
    (lambda: mg.viz.draw_graph(_after_backward()), ValueError,
     r"^draw_graph: backward\(\) already freed this tensor's graph; draw before"),
])
def test_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def _after_backward():
    loss = (mg.tensor([1.0, 2.0], requires_grad=True) * 2).sum()
    loss.backward()
    return loss


def test_drawing_after_backward_with_retain_graph_works():
    loss = unrolled_loss("rnn", 3)
    loss.backward(retain_graph=True)
    _, nodes, _ = layout(mg.viz.draw_graph(loss, heat=True))
    assert len(nodes) > 10


def test_graph_command_draws_a_file(tmp_path, capsys):
    from lstm.cli import main
    out = tmp_path / "g.svg"
    assert main(["graph", "--cell", "lstm-no-forget", "--steps", "3", "--depth", "1",
                 "--heat", "--values", "-o", str(out)]) == 0
    assert out.read_text().startswith("<?xml") and str(out) in capsys.readouterr().out
