"""The comparison page (issue #32), used as a student would use it: in a real Chromium,
from file:// with no network. Every browser test fails on a console error or on any
request other than the page itself. The answers the page works out are checked against
``lstm.analysis.gradient_flow`` on the same models."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from pages import opened

import minigrad as mg
from lstm.analysis import decay_per_step, gradient_flow
from lstm.cli import main
from lstm.comparison import (
    FORGET_BIASES,
    WEIGHT_SCALES,
    WEIGHTS,
    comparison_models,
    comparison_page,
    page_input,
    with_recurrent_scale,
)
from lstm.pictures import unrolled_loss
from minigrad.viz import Knob, Question

CELLS = ("rnn", "lstm-no-forget", "lstm", "gru")
STEPS = 20  # far enough back for the forget gate's bias to matter, quick to build
TRAIN_STEPS = 300


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    models = comparison_models(CELLS, STEPS, train_steps=TRAIN_STEPS)
    page = comparison_page(CELLS, STEPS, train_steps=TRAIN_STEPS, models=models)
    path = page.save(tmp_path_factory.mktemp("compare") / "cmp.html")
    return {"path": path, "page": page, "models": models}


@pytest.fixture
def page(browser, built):
    with opened(browser, built["path"], viewport=(1280, 720)) as tab:
        yield tab


def heats(tab):
    """Every row's boxes' ``data-heat``, by row."""
    return tab.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.row[data-cell]')].map((row) => [row.dataset.cell, [...row.querySelectorAll(
        '.box[data-scope]')].map((box) => box.dataset.heat)]))""")


def choose(tab, knob, option):
    tab.select_option(f"select#{knob}", option)


def set_sweep(tab, k):
    tab.eval_on_selector("#sweep", "(slider, k) => { slider.value = k; "
                         "slider.dispatchEvent(new Event('input')); }", k)


# ---- in the browser ------------------------------------------------------------------------

def test_one_row_per_cell_on_one_input_linked_by_hover(page):
    rows = page.locator(".row[data-cell]")
    assert [rows.nth(k).get_attribute("data-cell") for k in range(rows.count())] == list(CELLS)
    for cell in CELLS:
        assert page.locator(f'[data-cell="{cell}"] [data-scope^="t="]').count() == STEPS
    page.hover('[data-cell="gru"] .box[data-scope="t=7"]')
    lit = page.locator(".box.highlight")
    assert lit.count() == len(CELLS)
    assert {lit.nth(k).get_attribute("data-scope") for k in range(lit.count())} == {"t=7"}
    assert page.locator('#flow .highlight[data-step="7"]').count() == len(CELLS)
    assert "highlight" in page.get_attribute('#strip [data-step="7"]', "class")
    page.hover('[data-cell="rnn"] .box[data-scope="t=2"]')
    assert page.locator('.box.highlight[data-scope="t=7"]').count() == 0
    assert page.locator('.box.highlight[data-scope="t=2"]').count() == len(CELLS)
    page.hover('#flow [data-series="gru"] [data-step="11"]')
    assert page.locator('.box.highlight[data-scope="t=11"]').count() == len(CELLS)


def test_the_strip_shows_the_one_input_and_its_marked_steps(page):
    xs, _ = page_input(STEPS)
    marked = [int(t) for t in np.flatnonzero(xs[:, 0, 1] == 1)]
    assert len(marked) == 2
    shown = page.locator("#strip .in.marked")
    assert [int(shown.nth(k).get_attribute("data-step")) for k in range(2)] == marked
    assert [shown.nth(k).text_content() for k in range(2)] == [f"{xs[t, 0, 0]:.2f}"
                                                               for t in marked]
    assert page.locator("#strip [data-step]").count() == STEPS


def test_one_flow_series_per_cell_on_the_fixed_axis(page, built):
    series = page.locator("#flow [data-series]")
    assert [series.nth(k).get_attribute("data-series") for k in range(series.count())] == \
        list(CELLS)
    xs, ys = page_input(STEPS)
    for cell in CELLS:
        points = page.locator(f'#flow [data-series="{cell}"] [data-step]')
        assert sorted(int(points.nth(k).get_attribute("data-step"))
                      for k in range(points.count())) == list(range(STEPS))
        norms = gradient_flow(built["models"][cell, "1", "initial"][0], xs, ys)
        shown = page.text_content(f'#flow [data-series="{cell}"] [data-step="0"] title')
        assert float(re.search(r"\|\|dL/dh\|\| ([-0-9.e+]+)", shown).group(1)) == \
            pytest.approx(norms[0], rel=0.02)  # as shown: two or three digits
    assert page.get_attribute("#flow", "data-log-min") == "-10"
    assert page.get_attribute("#flow", "data-log-max") == "1"


@pytest.mark.parametrize("knob, option, changed", [
    ("forget-bias", "4", {"lstm"}),
    ("forget-bias", "0", {"lstm"}),
    ("weight-scale", "2", set(CELLS)),
    ("weight-scale", "0.5", set(CELLS)),
    ("weights", "trained", set(CELLS)),
])
def test_each_knob_changes_the_rows_heat_with_no_request(page, knob, option, changed):
    before = heats(page)
    assert all(h != "" for row in before.values() for h in row)  # the page opens swept
    choose(page, knob, option)
    after = heats(page)
    assert {cell for cell in CELLS if after[cell] != before[cell]} == changed
    choose(page, knob, {"forget-bias": "1", "weight-scale": "1", "weights": "initial"}[knob])
    assert heats(page) == before


def answer(tab, key):
    """The answer to a question: the option it names and the numbers it read."""
    tab.click(f'li:has([data-answer="{key}"]) summary')
    element = tab.locator(f'[data-answer="{key}"]')
    assert element.is_visible() and element.text_content()
    return element.get_attribute("data-value"), json.loads(element.get_attribute("data-numbers"))


@pytest.mark.parametrize("scale, weights", [("1", "initial"), ("1.5", "trained"),
                                            ("0.5", "initial")])
def test_the_answers_are_what_gradient_flow_gives(page, built, scale, weights):
    choose(page, "weight-scale", scale)
    choose(page, "weights", weights)
    xs, ys = page_input(STEPS)
    models = built["models"]

    def flow(cell, bias, scale, weights):
        model = with_recurrent_scale(models[cell, bias, weights][0], float(scale))
        return gradient_flow(model, xs, ys)

    value, numbers = answer(page, "bias")
    first = {b: flow("lstm", b, scale, weights)[0] for b in FORGET_BIASES}
    assert numbers == pytest.approx(first, rel=1e-3)
    assert value == next((b for b in FORGET_BIASES if first[b] > 1e-3), "")

    choose(page, "weight-scale", "1")
    value, numbers = answer(page, "scale")
    decays = {s: decay_per_step(flow("rnn", "1", s, weights)) for s in WEIGHT_SCALES}
    assert numbers == pytest.approx(decays, rel=1e-3)
    assert value == next((s for s in WEIGHT_SCALES if decays[s] > 1), "")

    _, numbers = answer(page, "training")
    assert list(numbers) == list(CELLS)
    for cell in CELLS:
        assert numbers[cell] == pytest.approx({w: decay_per_step(flow(cell, "1", "1", w))
                                               for w in WEIGHTS}, rel=1e-3)


def test_the_answers_hold_at_thirty_steps_as_the_issue_asks():
    """At 30 steps (the page the command line makes), the forget-gate bias that brings the
    LSTM's gradient at t=0 above 1e-3 is 1, and scaling the RNN's recurrent weights by 2
    makes its gradient grow going back: what a student should find."""
    xs, ys = page_input(30)
    lstm = {b: gradient_flow(mg_model("lstm", float(b)), xs, ys)[0] for b in FORGET_BIASES}
    assert lstm["0"] < 1e-3 < lstm["1"]
    rnn = {s: decay_per_step(gradient_flow(with_recurrent_scale(mg_model("rnn", 1.0),
                                                                float(s)), xs, ys))
           for s in WEIGHT_SCALES}
    assert rnn["1.5"] < 1 < rnn["2"]


def mg_model(cell, bias):
    from lstm.models import SequenceModel

    return SequenceModel(cell, 2, 16, 1, rng=np.random.default_rng(0), forget_bias=bias)


def test_the_sweep_replays_every_row_together(page):
    points = page.locator("#flow .point")
    set_sweep(page, 0)
    assert page.locator('.row .box.pending[data-scope^="t="]').count() == len(CELLS) * STEPS
    assert page.locator("#flow .point.pending").count() == points.count()
    longest = int(page.get_attribute("#sweep", "max"))
    set_sweep(page, longest // 2)
    for cell in CELLS:  # every row half way back: its late steps reached, its early not
        row = f'[data-cell="{cell}"]'
        assert "pending" not in page.get_attribute(f'{row} [data-scope="t={STEPS - 1}"]',
                                                   "class")
        assert "pending" in page.get_attribute(f'{row} [data-scope="t=0"]', "class")
    page.clock.install()
    page.click("#play")
    page.clock.run_for(60_000)
    assert page.input_value("#sweep") == str(longest)
    assert page.locator(".row .box.pending").count() == 0
    assert page.locator("#flow .point.pending").count() == 0


def test_a_page_without_knobs_and_with_hostile_names(browser, tmp_path):
    """Rows named by a user are text in every context: HTML, attributes, JSON, script."""
    name = '</script><b onmouseover="x()">"rnn" & co</b>'
    page = mg.viz.compare({name: unrolled_loss("rnn", 5), "gru": unrolled_loss("gru", 5)},
                          title="<i>two</i> cells")
    with opened(browser, page.save(tmp_path / "two.html")) as tab:
        assert tab.locator(".row[data-cell]").count() == 2
        assert tab.locator(".row[data-cell]").first.get_attribute("data-cell") == name
        assert tab.locator("select").count() == 0 and tab.locator("b[onmouseover]").count() == 0
        assert tab.locator('.box[data-scope="t=4"]').count() == 2
        tab.focus('.row[data-cell="gru"] .box[data-scope="t=3"]')  # the keyboard lights too
        assert tab.locator('.box.highlight[data-scope="t=3"]').count() == 2
        assert tab.locator("#series li").first.text_content() == name


# ---- the page as a file ------------------------------------------------------------------------

def test_jupyter_gets_a_static_picture_of_the_rows(built):
    bundle = built["page"]._repr_mimebundle_()
    assert bundle["text/html"].startswith("<iframe srcdoc=")
    picture = bundle["image/svg+xml"]
    assert picture.startswith("<svg") and [f'data-cell="{c}"' in picture for c in CELLS] == [
        True] * 4
    assert picture.count("<rect") == len(CELLS) * (STEPS + 2)  # the steps, readout and loss


def test_the_command_line_writes_a_30_step_page_under_5_mb(tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert main(["explore", "--compare", "rnn,lstm-no-forget,lstm,gru", "--steps", "30",
                 "--train-steps", "50", "-o", str(out)]) == 0
    text = out.read_text()
    assert out.stat().st_size < 5_000_000
    assert len(re.findall(r'class="row" data-cell=', text)) == 4
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--compare", "rnn,elman"], "unknown cell 'elman'"),
    (["--compare", "rnn,rnn"], "a cell is named twice"),
    (["--compare", "rnn", "--cell", "lstm"], "not allowed with argument --compare"),
    (["--compare", "rnn", "--trained"], "not allowed with argument --compare"),
])
def test_command_line_errors(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["explore", *argv, "-o", str(tmp_path / "x.html")])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def knobs():
    return [Knob("size", "size", ("a", "b"), "a")]


@pytest.mark.parametrize("call, message", [
    (lambda: mg.viz.compare({("a",): {"r": unrolled_loss("rnn", 2)}}, knobs()),
     "^compare: the knobs make 2 settings and 1 are given"),
    (lambda: mg.viz.compare({("c",): {"r": unrolled_loss("rnn", 2)}}, knobs()),
     r"^compare: the setting \('c',\) is not one option of each knob \(size\)"),
    (lambda: mg.viz.compare({("a",): {"r": unrolled_loss("rnn", 2)},
                             ("b",): {"s": unrolled_loss("rnn", 2)}}, knobs()),
     r"^compare: the setting \('b',\) has the rows \['s'\], not \['r'\]"),
    (lambda: mg.viz.compare({("a",): {"r": unrolled_loss("rnn", 2)},
                             ("b",): {"r": unrolled_loss("rnn", 3)}}, knobs()),
     "^compare: the row 'r' is not the same graph in every setting"),
    (lambda: mg.viz.compare({"r": unrolled_loss("rnn", 2)}, [Knob("x y", "x", ("a",), "a")]),
     "^compare: a knob's id is a name for select#id"),
    (lambda: mg.viz.compare({"r": unrolled_loss("rnn", 2)}, [Knob("x", "x", ("a",), "b")]),
     "^compare: the knob 'x' must offer its default 'b'"),
    (lambda: mg.viz.compare({"r": unrolled_loss("rnn", 2)},
                            questions=[Question("q", "?", "guess", "x")]),
     "^compare: the question 'q' has the kind 'guess'"),
    (lambda: mg.viz.compare({("a",): {"r": unrolled_loss("rnn", 2)},
                             ("b",): {"r": unrolled_loss("rnn", 2)}}, knobs(),
                            questions=[Question("q", "?", "first-above", "size", row="s")]),
     "^compare: the question 'q' reads the row 's'"),
    (lambda: mg.viz.compare({"r": unrolled_loss("rnn", 2)}, inputs=np.ones(3)),
     r"^compare: inputs must be one sequence \(T, p\) with at most a step per box \(4\), "
     r"got the shape \(3,\)"),
    (lambda: mg.viz.compare({"r": unrolled_loss("rnn", 2)}, inputs=np.ones((5, 2))),
     r"^compare: inputs must be one sequence .* got the shape \(5, 2\)"),
    (lambda: comparison_page(("rnn", "elman")), "^compare: give distinct cells among"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_screenshot_of_the_comparison(browser, built, tmp_path):
    """``MINIGRAD_SCREENSHOT=docs/compare.png`` writes the README's screenshot, of the
    30-step page the command line makes (without it: of this module's page)."""
    target = os.environ.get("MINIGRAD_SCREENSHOT")
    path = (comparison_page(CELLS, 30).save(tmp_path / "cmp.html") if target
            else built["path"])
    target = Path(target or tmp_path / "compare.png")
    with opened(browser, path, viewport=(1280, 900)) as tab:
        tab.click('li:has([data-answer="bias"]) summary')
        tab.hover('[data-cell="lstm"] .box[data-scope="t=5"]')
        tab.screenshot(path=str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 30_000
