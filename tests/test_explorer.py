"""The explorer page (issue #12), used as a student would use it: in a real Chromium,
driven by Playwright, loaded from file:// with no network. Every test fails on a console
error or on any request other than the page itself."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from pages import opened

import minigrad as mg
from lstm.cli import main
from lstm.pictures import unrolled_loss

STEPS = 6


def page_data(text):
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An LSTM unrolled over 6 steps, with a second view (another seed) to switch to,
    and the engine's own sweep order for it, taken from Python."""
    loss = unrolled_loss("lstm", STEPS)
    other = unrolled_loss("lstm", STEPS, seed=1)
    explorer = mg.viz.explore(loss, title="LSTM, 6 steps", label="seed 0",
                              compare={"seed 1": other})
    path = explorer.save(tmp_path_factory.mktemp("explorer") / "lstm.html")
    order = [explorer.node_id(v) for v in mg.autograd.sweep_order([loss])]
    vertices = mg.topological_order([loss], only_requiring_grad=False)
    return {"path": path, "order": order, "explorer": explorer, "loss": loss,
            "vertices": vertices, "data": page_data(explorer.html)}


@pytest.fixture
def page(browser, built):
    with opened(browser, built["path"]) as tab:
        yield tab


def visible_vertices(tab):
    return tab.locator("[data-node]:visible").count()


def set_sweep(tab, k):
    tab.eval_on_selector("#sweep", "(slider, k) => { slider.value = k; "
                         "slider.dispatchEvent(new Event('input')); }", k)


# ---- in the browser ------------------------------------------------------------------------

def test_steps_start_collapsed_and_a_click_opens_and_closes_one(page, built):
    assert page.locator('.box[data-scope^="t="]').count() == STEPS
    assert visible_vertices(page) == 0
    members = [v for v in built["data"]["vertices"] if v["unit"] == "t=2"]
    page.click('[data-scope="t=2"]')
    assert visible_vertices(page) == len(members) > 10
    assert page.locator('[data-unit="t=2"] [data-node]:visible').count() == len(members)
    page.click('[data-scope="t=2"]')
    assert visible_vertices(page) == 0
    page.click("#expand-all")
    assert visible_vertices(page) == len(built["data"]["vertices"])
    page.click("#collapse-all")
    assert visible_vertices(page) == 0


def test_every_vertex_has_its_hooks(page, built):
    drawn = page.locator("[data-node]")
    assert drawn.count() == len(built["vertices"])
    for k in range(0, drawn.count(), 7):
        element = drawn.nth(k)
        assert element.get_attribute("data-op") and element.get_attribute("data-shape")


def test_the_slider_replays_the_engines_sweep(page, built):
    order = built["order"]
    assert page.get_attribute("#sweep", "max") == str(len(order))
    for k in (0, 1, 2, 17, len(order) // 2, len(order) - 1, len(order)):
        set_sweep(page, k)
        done = page.eval_on_selector_all(".done[data-node]", "nodes => nodes.map(n => n.id)")
        assert sorted(done) == sorted(order[:k]), k
        if k:
            current = page.eval_on_selector_all(".current", "nodes => nodes.map(n => n.id)")
            assert current == [order[k - 1]]
    assert page.text_content("#sweep-count") == f"{len(order)} / {len(order)}"


def test_play_runs_the_sweep_to_the_end(page, built):
    page.clock.install()  # the page's timers run on a clock the test moves, not the wall's
    page.click("#play")
    total = len(built["order"])
    page.clock.run_for(1000)
    assert 0 < int(page.input_value("#sweep")) < total  # under way, not jumped to the end
    page.clock.run_for(60_000)
    assert page.input_value("#sweep") == str(total)
    assert page.locator(".done[data-node]").count() == total
    assert page.text_content("#play") == "play"  # stopped by itself at the end


def test_a_click_on_a_vertex_shows_what_it_is(page, built):
    gate = next(v for v in built["vertices"] if v.name == "f" and v.scope == "t=1/lstm")
    page.click('[data-scope="t=1"]')
    page.click(f'#{built["explorer"].node_id(gate)}')
    details = page.text_content("#details")
    for text in ("sigmoid", "t=1/lstm", "(1, 16)", "float64"):
        assert text in details, text
    expected = built["data"]["views"][0]["stats"][built["explorer"].node_id(gate)]["grad"]
    shown = float(re.search(r"gradientnorm ([-0-9.e+]+),", details).group(1))
    assert shown == pytest.approx(expected["norm"], rel=5e-3)
    assert "reached" in details


def test_the_flow_plot_and_the_steps_are_linked(page):
    points = page.locator("#flow [data-step]")
    assert points.count() == STEPS
    assert sorted(int(points.nth(k).get_attribute("data-step")) for k in range(STEPS)) == list(
        range(STEPS))
    page.hover('#flow [data-step="3"]')
    assert "highlight" in page.get_attribute('.box[data-scope="t=3"]', "class")
    page.hover('.box[data-scope="t=4"]')
    assert "highlight" in page.get_attribute('#flow [data-step="4"]', "class")


def test_switching_views_recolours_the_steps(page, built):
    set_sweep(page, len(built["order"]))
    before = page.eval_on_selector('.box[data-scope="t=0"]', "box => box.style.background")
    page.check('input[name="view"][value="1"]')
    after = page.eval_on_selector('.box[data-scope="t=0"]', "box => box.style.background")
    assert before != after
    fills = built["data"]["views"]
    assert fills[0]["units"]["t=0"]["fill"] != fills[1]["units"]["t=0"]["fill"]


def test_the_cell_state_path_can_be_highlighted(page, built):
    page.check("#cpath")
    highlighted = page.locator(".vertex.cpath").count()
    assert highlighted == len(built["data"]["cpath"]["vertices"]) >= STEPS
    page.uncheck("#cpath")
    assert page.locator(".vertex.cpath").count() == 0


def test_a_screenshot_of_a_30_step_rnn(browser, tmp_path):
    """``MINIGRAD_SCREENSHOT=docs/explorer.png`` writes the README's screenshot."""
    target = Path(os.environ.get("MINIGRAD_SCREENSHOT", tmp_path / "explorer.png"))
    path = mg.viz.explore(unrolled_loss("rnn", 30), title="tanh RNN, 30 steps").save(
        tmp_path / "rnn.html")
    with opened(browser, path) as tab:
        tab.click('[data-scope="t=28"]')
        set_sweep(tab, 30)
        tab.locator('[data-unit="t=28"] .vertex').nth(3).click()
        tab.hover('#flow [data-step="5"]')
        tab.screenshot(path=str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 30_000


# ---- the page as a file ------------------------------------------------------------------------

def test_the_page_is_self_contained(built):
    text = built["explorer"].html
    assert "<script src" not in text and "<link rel=\"stylesheet\"" not in text
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert 'id="data"' in text and "<style>" in text


def test_the_sweep_in_the_page_is_the_engines(built):
    assert built["data"]["views"][0]["sweep"] == built["order"]
    order = mg.autograd.sweep_order([built["loss"]])
    assert [v.op for v in order[:3]] == ["mul", "sum", "mul"]  # the loss, newest first
    assert all(v.is_leaf for v in order[-4:])  # leaves are delivered last


def test_jupyter_shows_it_in_a_frame(built):
    shown = built["explorer"]._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;script" in shown


def test_the_command_line_writes_a_30_step_page_under_3_mb(tmp_path, capsys):
    out = tmp_path / "x.html"
    assert main(["explore", "--cell", "lstm", "--steps", "30", "-o", str(out)]) == 0
    assert out.stat().st_size < 3_000_000
    data = page_data(out.read_text())
    assert len([u for u in data["views"][0]["units"] if u.startswith("t=")]) == 30
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.viz.explore(), TypeError, "^explore: pass one or more Tensors$"),
    (lambda: mg.viz.explore(mg.tensor(np.ones(3), requires_grad=True) * 2), ValueError,
     "^explore: pass one-element tensors that require grad"),
    (lambda: mg.viz.explore(unrolled_loss("rnn", 3), compare={"longer": unrolled_loss("rnn", 4)}),
     ValueError, "^explore: the view 'longer' is not the same graph"),
    (lambda: mg.viz.explore(unrolled_loss("rnn", 2)).save("x.svg"), ValueError,
     r"^save: the page is an \.html file, got '\.svg'$"),
    (lambda: mg.viz.explore(unrolled_loss("rnn", 2), depth=0), ValueError,
     "^explore: depth must be at least 1"),
])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_freed_graph_is_refused():
    loss = unrolled_loss("rnn", 2)
    loss.backward()
    with pytest.raises(ValueError, match="^explore: backward\\(\\) already freed this graph"):
        mg.viz.explore(loss)


def test_a_graph_without_scopes_is_one_box(browser, tmp_path):
    x = mg.tensor([0.5, -1.0], requires_grad=True, name="x")
    page = mg.viz.explore((mg.tanh(x) * x).sum(), title="no scopes")
    data = page_data(page.html)
    assert [u for u in data["views"][0]["units"]] == ["(outside)"]
    with opened(browser, page.save(tmp_path / "plain.html")) as tab:
        tab.click('[data-scope="(outside)"]')
        assert visible_vertices(tab) == len(data["vertices"]) == 4
        assert tab.locator("#flow [data-step]").count() == 0


def test_the_flow_plot_has_one_fixed_axis_on_every_page(browser, tmp_path):
    """An RNN's and an LSTM's pages share the log axis, so their gradients compare by
    eye: the RNN's falls far lower by t=0 (issue #31, item 2)."""
    seen = {}
    for cell in ("rnn", "lstm"):
        path = mg.viz.explore(unrolled_loss(cell, 30)).save(tmp_path / f"{cell}.html")
        with opened(browser, path) as tab:
            axis = (tab.get_attribute("#flow", "data-log-min"),
                    tab.get_attribute("#flow", "data-log-max"))
            labels = tab.eval_on_selector_all("#flow text", "ts => ts.map(t => t.textContent)")
            first = float(tab.get_attribute('#flow [data-step="0"]', "cy"))
            seen[cell] = axis, labels, first
    assert seen["rnn"][:2] == seen["lstm"][:2] == (("-10", "1"), seen["rnn"][1])
    assert seen["rnn"][2] > seen["lstm"][2] + 30  # lower on the page: a smaller gradient


def test_the_sweep_reveals_the_boxes_and_the_plot_as_it_reaches_them(page, built):
    """Issue #31, item 1. Before the sweep starts, every box and point is pending. A box
    takes its colour once the sweep reaches its vertices, and `data-heat` is the largest
    gradient among those reached so far. The steps are reached going back in time."""
    order, stats = built["order"], built["data"]["views"][0]["stats"]
    unit_of = {v["id"]: v["unit"] for v in built["data"]["vertices"]}
    steps = [f"t={t}" for t in range(STEPS)]
    assert page.locator('.box.pending[data-scope^="t="]').count() == STEPS  # as it opens
    revealed_at = {}
    for k in (0, 1, len(order) // 3, len(order) // 2, len(order)):
        set_sweep(page, k)
        swept = order[:k]
        for scope in steps:
            box = f'.box[data-scope="{scope}"]'
            mine = [v for v in swept if unit_of[v] == scope]
            assert ("pending" in page.get_attribute(box, "class")) == (not mine), (k, scope)
            if mine:
                revealed_at.setdefault(scope, k)
                heat = float(page.get_attribute(box, "data-heat"))
                largest = max((stats[v]["grad"] or {"norm": 0})["norm"] or 0 for v in mine)
                assert heat == pytest.approx(largest, rel=1e-3, abs=1e-12), (k, scope)
        pending = page.locator("#flow .point.pending").count()
        assert pending == sum(p[2] > k for p in built["data"]["views"][0]["flow"])
    assert page.locator("#flow .point.pending").count() == 0
    assert page.locator(".box.pending").count() == 0
    # going back in time: a later step is never revealed after an earlier one
    firsts = [revealed_at[s] for s in steps]
    assert firsts == sorted(firsts, reverse=True)
    set_sweep(page, 0)
    assert page.locator('.box.pending[data-scope^="t="]').count() == STEPS
    assert page.locator("#flow .point.pending").count() == STEPS


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_each_link_shows_the_factor_the_gradient_was_multiplied_by(browser, tmp_path, cell):
    """Issue #31, item 1: the link into step K carries ||dL/dh_(K-1)|| / ||dL/dh_K||, as
    `lstm.analysis.gradient_flow` measures it, and shows it once the sweep crossed it."""
    from lstm.analysis import gradient_flow
    from lstm.models import SequenceModel
    from lstm.tasks import adding_problem

    steps = 12
    rng = np.random.default_rng(0)  # what unrolled_loss draws, in its order
    model = SequenceModel(cell, 2, 16, 1, rng=rng)
    xs, ys = adding_problem(1, steps, rng)
    norms = gradient_flow(model, xs, ys)
    path = mg.viz.explore(unrolled_loss(cell, steps)).save(tmp_path / f"{cell}.html")
    with opened(browser, path) as tab:
        assert tab.locator(".link.factor").count() == 0  # before the sweep
        set_sweep(tab, int(tab.get_attribute("#sweep", "max")))
        for K in range(1, steps):
            link = f'.link[data-link="t={K}"]'
            factor = float(tab.get_attribute(link, "data-factor"))
            assert factor == pytest.approx(norms[K - 1] / norms[K], rel=2e-3), K
            assert tab.text_content(link).startswith("×")
        assert tab.locator(".link.factor").count() == steps - 1


def overlaps(a, b):
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("size", [(1280, 720), (1400, 900), (820, 760)],
                         ids=["1280x720", "1400x900", "a notebook's frame"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_opening_a_step_moves_no_box_and_covers_nothing_of_the_panel(browser, tmp_path, cell,
                                                                     size):
    """Issue #31, item 3: the opened step's ops go to the drawer below the steps, scaled
    to the column: the box clicked stays put, and no vertex draws over #panel."""
    path = mg.viz.explore(unrolled_loss(cell, 30)).save(tmp_path / f"{cell}.html")
    tab = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        tab.goto(path.as_uri())
        where = ("b => { const r = b.getBoundingClientRect(); "
                 "return [r.left + window.scrollX, r.top + window.scrollY]; }")  # on the page
        for scope in ("t=15", "t=0", "t=29"):
            box = tab.locator(f'.box[data-scope="{scope}"]')
            before = box.evaluate(where)
            box.click()
            assert box.get_attribute("aria-expanded") == "true"
            assert box.evaluate(where) == before, scope
        panel = tab.locator("#panel").bounding_box()
        drawn = tab.locator("#drawer .vertex:visible")
        assert drawn.count() > 30
        for k in range(drawn.count()):
            assert not overlaps(drawn.nth(k).bounding_box(), panel), k
    finally:
        tab.close()


def test_jupyter_gets_a_static_picture_beside_the_page(built):
    """Issue #31, item 5: viewers that strip frames and scripts (GitHub's, nbviewer) show
    the picture: one box per step, in the page's final colours."""
    import xml.etree.ElementTree as ET

    bundle = built["explorer"]._repr_mimebundle_()
    assert bundle["text/html"].startswith("<iframe srcdoc=")
    root = ET.fromstring(bundle["image/svg+xml"])
    ns = {"svg": "http://www.w3.org/2000/svg"}
    steps = root.findall("svg:g", ns)
    units = built["data"]["views"][0]["units"]
    assert [g.get("data-scope") for g in steps] == list(units)
    for g in steps:
        assert g.find("svg:rect", ns).get("fill") == units[g.get("data-scope")]["fill"]
    hostile = mg.viz.explore(unrolled_loss("rnn", 2), title="</svg><script>x</script>")
    assert "<script>" not in hostile.picture and ET.fromstring(hostile.picture) is not None


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_100_step_page_stays_under_3_mb(cell):
    """Issue #31: the largest single-cell page a student makes stays small enough to
    open and to keep in a notebook."""
    assert len(mg.viz.explore(unrolled_loss(cell, 100)).html.encode()) < 3_000_000


def test_every_mark_is_explained_in_place(browser, tmp_path):
    """Issue #31, item 4: a key with one colour per mark, plain words, each vertex's
    meaning in the cell's equation, and why the forget gate's gradient at t=0 is 0."""
    from lstm.pictures import explorer_page

    explorer = explorer_page("lstm", 6)
    path = explorer.save(tmp_path / "lstm.html")
    with opened(browser, path) as tab:
        marks = tab.eval_on_selector_all(
            "#key [data-mark]", "items => items.map(i => [i.dataset.mark, "
            "getComputedStyle(i.querySelector('.swatch')).borderTopColor])")
        assert [m for m, _ in marks] == ["pending", "done", "current", "flow", "cpath",
                                         "selected"]
        colours = [c for _, c in marks]
        assert len(set(colours)) == len(colours), colours  # one colour, one meaning
        assert "includes the cell state c" in tab.text_content("#why-differ")
        data = page_data(explorer.html)
        gate = next(v["id"] for v in data["vertices"] if v["name"] == "f"
                    and v["unit"] == "t=0")
        assert data["views"][0]["stats"][gate]["grad"]["norm"] == 0
        tab.click('.box[data-scope="t=0"]')
        tab.click(f"#{gate}")
        details = tab.text_content("#details")
        assert "the forget gate, σ(Z_f)" in details
        assert "at t=0 that is c0 = 0: there is nothing to forget yet" in details
        for engine_word in ("VJP", "asks for it", "visited"):
            assert engine_word not in details


def test_a_vertex_is_grey_until_the_sweep_reaches_it(page, built):
    order = built["order"]
    for k in (0, len(order) // 2, len(order)):
        set_sweep(page, k)
        pending = page.eval_on_selector_all(".vertex.pending", "vs => vs.map(v => v.id)")
        assert sorted(pending) == sorted(order[k:]), k


def test_an_opened_first_step_names_its_initial_state_not_the_slicing_op(browser, tmp_path):
    path = mg.viz.explore(unrolled_loss("lstm", 3)).save(tmp_path / "lstm.html")
    with opened(browser, path) as tab:
        tab.click('.box[data-scope="t=0"]')
        stubs = tab.eval_on_selector_all('#drawer .ops[data-unit="t=0"] .stub',
                                         "gs => gs.map(g => g.textContent.trim())")
        assert any(s.startswith("h0") for s in stubs) and any(s.startswith("c0")
                                                             for s in stubs), stubs
        assert not any("getitem" in s for s in stubs), stubs
