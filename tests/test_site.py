"""The site (issue #39), built as `make docs` builds it but small (MINIGRAD_QUICK=1),
served from 127.0.0.1 and read in a real Chromium: the lesson's pages work inside it,
the API reference shows the docstrings, and every internal link resolves."""

import functools
import os
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from pages import opened

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
CELLS = ["rnn", "lstm-no-forget", "lstm", "gru"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site, built strict, and what the build printed."""
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "MINIGRAD_QUICK": "1", "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return site, run.stdout + run.stderr


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(built):
    """The site's address on 127.0.0.1, served from its folder for the module's tests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(built[0])))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()


@pytest.fixture
def visit(browser, served):
    """``with visit(path) as tab``: a tab on that page of the site; on leaving, no console
    error and no request outside the site may have happened."""
    return lambda path: opened(browser, served + path, within=served)


def test_the_build_prints_no_warning_of_any_kind(built):
    """Strict mode fails on a logged warning; this also catches one printed by other
    means (a theme's notice, a library's print)."""
    assert "warning" not in built[1].lower(), built[1]


def pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_the_site_has_every_page_the_issue_asks_for(built):
    have = set(pages(built[0]))
    assert {"index.html", "why-lstm.html", "lesson.html", "how-it-works.html",
            "course/index.html", "fusion.html", "paper.html", "lesson/compare.html",
            "lesson/explore-rnn.html", "lesson/explore-lstm.html"} <= have
    assert {f"notebooks/{p.stem}.html" for p in (ROOT / "notebooks").glob("*.ipynb")} <= have
    assert {f"course/{p.stem}.html" for p in (ROOT / "exercises").glob("[0-9]*.py")} <= have
    for name in ("engine", "compile", "viz", "nn", "optim", "testing", "cells", "layers",
                 "tasks", "analysis", "cli"):
        assert f"reference/{name}.html" in have


# ---- links ---------------------------------------------------------------------------------

class _Links(HTMLParser):
    """Every href and src of a page, and every id in it."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


@functools.cache
def _parsed(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_resolves_to_a_file_and_its_anchor(built):
    site = built[0]
    broken, checked = [], 0
    for page in pages(site):
        here = site / page
        for link in _parsed(here).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # another site (the theme's credit), data: or mailto:
            target, fragment = urldefrag(link)
            base = site if target.startswith("/") else here.parent  # 404.html's are absolute
            path = (base / unquote(target).lstrip("/")).resolve() if target else here
            if path.is_dir():
                path = path / "index.html"
            checked += 1
            if not path.is_file() or site.resolve() not in path.parents:
                broken.append(f"{page}: {link}")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in \
                    _parsed(path).ids:
                broken.append(f"{page}: {link} (no such anchor)")
    assert checked > 500
    assert broken == [], broken


# ---- in the browser ------------------------------------------------------------------------

def _heats(frame):
    return frame.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.row[data-cell]')].map((row) => [row.dataset.cell, [...row.querySelectorAll(
        '.box[data-scope]')].map((box) => box.dataset.heat)]))""")


def test_the_comparison_page_works_inside_the_lesson(visit):
    with visit("lesson.html") as tab:
        _check_the_comparison_page(tab)


def _check_the_comparison_page(tab):
    frame = tab.frame_locator("iframe#compare")
    rows = frame.locator(".row[data-cell]")
    rows.first.wait_for()
    assert [rows.nth(k).get_attribute("data-cell") for k in range(rows.count())] == CELLS
    inside = next(f for f in tab.frames if f.url.endswith("/lesson/compare.html"))
    before = _heats(inside)
    assert all(h != "" for row in before.values() for h in row)
    inside.select_option("select#forget-bias", "4")
    after = _heats(inside)
    assert {cell for cell in CELLS if after[cell] != before[cell]} == {"lstm"}
    inside.select_option("select#weight-scale", "2")
    assert all(_heats(inside)[cell] != after[cell] for cell in CELLS)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_the_explorers_replay_the_sweep_inside_the_lesson(visit, cell):
    with visit("lesson.html") as tab:
        tab.frame_locator(f"iframe#explore-{cell}").locator("#sweep").wait_for()
        inside = next(f for f in tab.frames if f.url.endswith(f"/lesson/explore-{cell}.html"))
        assert inside.locator('.box.pending[data-scope^="t="]').count() == 30  # not swept
        inside.eval_on_selector("#sweep", "(slider) => { slider.value = slider.max; "
                                "slider.dispatchEvent(new Event('input')); }")
        assert inside.locator('.box[data-scope^="t="]').count() == 30
        assert inside.locator(".box.pending").count() == 0
        assert inside.locator(".link.factor").count() > 0  # each step's factor shown


def test_the_why_lstm_notebook_s_embedded_pages_work_in_the_site(visit):
    """GitHub's notebook viewer strips them; the site must not."""
    with visit("notebooks/02_why_lstm.html") as tab:
        tab.locator("iframe").first.wait_for()
        rows = [frame.locator(".row[data-cell]").count() for frame in tab.frames]
        boxes = [frame.locator('.box[data-scope^="t="]').count() for frame in tab.frames]
        assert len(CELLS) in rows  # the comparison page
        assert max(boxes) > 0  # and the explorer


def test_the_api_page_of_mg_compile_shows_its_docstring(visit):
    with visit("reference/compile.html") as tab:
        assert tab.locator('[id="minigrad.compile"]').count() == 1
        text = tab.locator("article").inner_text()
    first = " ".join(mg.compile.__doc__.split("\n\n")[0].replace("``", "").split())
    assert first in " ".join(text.split())
    assert "verify" in text and "CompileMismatchError" in text


def test_every_page_opens_with_no_error_and_no_request_outside_the_site(built, visit):
    for page in pages(built[0]):
        with visit(page):
            pass
