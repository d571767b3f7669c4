"""In a real browser: Markdown/HTML payloads in URLs show as text, and the page asks no other host for anything.

Every request the page makes is recorded; each must go to the app itself
(loopback). A payload image or link, had it been interpreted, would show up as a
request to evil.example or as an <img>/<a> pointing there.
"""

from __future__ import annotations

import os
import urllib.parse

import pytest

from tests.app.test_url_and_data_text_is_literal import build_hostile_lakehouse
from tests.e2e.conftest import streamlit_server, wait_for_app

PAYLOAD = ('[phish](https://evil.example/p) ![px](https://evil.example/i.png) <img src=https://evil.example/h.png> $x^2$ :red[r] '
           '<a href="https://evil.example/a">a</a>')
PAGES = [
    ("inventory", {"tab": "Detail", "resource": PAYLOAD}),
    ("inventory", {"tab": "History", "hist_kind": "Resource", "hist_resource": PAYLOAD}),
    ("cur", {"period": PAYLOAD}),
    ("cost-explorer", {"group": f"tag:{PAYLOAD}", "f_service": PAYLOAD}),
    ("logs", {"q": PAYLOAD, "range": PAYLOAD}),
    ("workbench", {"sql": PAYLOAD}),
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def visit(page, url: str) -> None:
    """Open `url`; fail if the page asks any host but the app, or shows an image, link or formula from a payload."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url)
    wait_for_app(page)
    hosts = {urllib.parse.urlsplit(u).hostname for u in requested if not u.startswith(("data:", "blob:", "about:"))}
    assert hosts <= LOOPBACK, f"the page asked other hosts: {hosts - LOOPBACK}"
    assert page.locator('img[src*="evil.example"], [data-testid="stMarkdown"] .katex').count() == 0
    # Links may point into the app (a host link in Logs carries the host in its query string), never elsewhere.
    # SVG anchors too: plotly draws `<a href>` in a label as a link unless the label is escaped.
    foreign = page.evaluate("""() => [...document.querySelectorAll('a')]
                                 .map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '')
                                 .filter(h => h.includes('evil.example') && new URL(h, location.href).hostname.includes('evil.example'))""")
    assert foreign == []


@pytest.mark.parametrize(("path", "params"), PAGES, ids=[f"{p}-{'-'.join(q)}" for p, q in PAGES])
def test_payloads_in_the_url_show_as_text_and_fetch_nothing(page, app_url, path, params):
    visit(page, f"{app_url}/{path}?" + urllib.parse.urlencode({"persona": "admin", **params}))
    if path == "inventory":
        shown = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")  # word joiners keep URLs from linking
        assert "![px](https://evil.example/i.png)" in shown


def test_imported_names_hosts_and_messages_show_as_text_and_fetch_nothing(page, app_env, tmp_path):
    lakehouse = build_hostile_lakehouse(tmp_path)
    env = {**os.environ, **app_env, "DAIVI_LAKEHOUSE_PATH": str(lakehouse)}
    with streamlit_server(env, tmp_path / "server.log") as url:
        # (page, whether the payload is in the page's text; tables draw on a canvas, with no text to read)
        for path, in_text in (("inventory?persona=admin&snapshot=2024-09-18&tab=Detail&resource=i-0123456789abcdef0", True),
                              ("inventory?persona=admin&snapshot=2024-09-18&tab=Search", False),
                              ("logs?persona=admin&range=7d", True),
                              ("logs?persona=admin&range=7d&tab=Stats&by=host", False)):
            visit(page, f"{url}/{path}")
            shown = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
            assert not in_text or "![px](https://evil.example/i.png)" in shown
