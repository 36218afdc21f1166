"""Pages in a real Chromium, driven by Playwright, loaded from file:// with no network:
what the explorer's and the comparison page's tests share."""

import shutil
from contextlib import contextmanager

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# headless, as root in a container, and quiet on a machine with no network
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"]


@contextmanager
def launched():
    """A headless Chromium (Debian's, as ``make test`` installs it)."""
    if CHROMIUM is None:
        raise AssertionError("the page tests need Chromium: `make test` installs it "
                             "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@contextmanager
def opened(browser, page, viewport=(1400, 900), within=None):
    """A tab on ``page`` (a path, or a URL). On leaving, no console error may have
    happened, and no request but the page itself, or, with ``within``, none to an address
    that does not start with it."""
    tab = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    problems, requests = [], []
    tab.on("console", lambda message: problems.append(message.text)
           if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("request", lambda request: requests.append(request.url))
    url = page if isinstance(page, str) else page.as_uri()
    tab.goto(url)
    yield tab
    tab.close()
    assert problems == [], problems
    if within is None:
        assert requests == [url], requests
    else:
        outside = [r for r in requests if not r.startswith((within, "about:", "data:"))]
        assert outside == [], outside
