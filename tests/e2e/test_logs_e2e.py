"""The Logs view in a real browser: type a search, see the timeline redraw and the URL follow; zoom by dragging."""

from __future__ import annotations

import re
import urllib.parse

from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app


def open_logs(page, url: str) -> None:
    page.goto(url)
    settle(page)


def settle(page) -> None:
    """Wait for the rerun to finish and the view to be drawn (the total above the timeline)."""
    wait_for_app(page)
    page.get_by_text(re.compile(r"events match|Search error|Invalid input")).first.wait_for()


def shown_total(page) -> int:
    text = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile(r"events match")).first.inner_text()
    return int(re.search(r"([\d,]+) events match", text).group(1).replace(",", ""))


def timeline_bars(page) -> int:
    """Bars drawn in the timeline (plotly draws one path per bar), once plotly has drawn them."""
    bars = page.locator('.st-key-timeline [data-testid="stPlotlyChart"] .barlayer path')
    bars.first.wait_for()
    return bars.count()


def url_params(page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)


def test_typing_a_search_redraws_the_timeline_and_changes_the_url(page, app_url):
    open_logs(page, f"{app_url}/logs?persona=ops")
    assert not page.locator('[data-testid="stException"]').count()
    before, bars_before = shown_total(page), timeline_bars(page)
    assert before > 0 and bars_before > 0
    box = page.locator(".st-key-q input")
    box.fill("status>=500 NOT index=security")
    box.press("Enter")
    page.wait_for_function("() => window.location.search.includes('q=')")
    settle(page)
    assert url_params(page)["q"] == ["status>=500 NOT index=security"]
    after = shown_total(page)
    assert 0 < after < before
    assert timeline_bars(page) > 0
    # the URL reproduces the view
    open_logs(page, page.url)
    assert shown_total(page) == after
    expect(page.locator(".st-key-q input")).to_have_value("status>=500 NOT index=security")


def test_a_syntax_error_points_at_the_position(page, app_url):
    open_logs(page, f"{app_url}/logs?persona=admin")
    box = page.locator(".st-key-q input")
    box.fill('error "timed out')
    box.press("Enter")
    page.get_by_text("Unbalanced quote").first.wait_for()
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Unbalanced quote")
    assert alert.count() == 1 and "position 7" in alert.inner_text()
    assert not page.locator('[data-testid="stException"]').count()


def test_clicking_a_field_value_adds_it_to_the_search(page, app_url):
    open_logs(page, f"{app_url}/logs?persona=admin")
    page.locator(".st-key-include-severity-0 button").first.click()
    page.wait_for_function("() => window.location.search.includes('q=severity')")
    settle(page)
    expect(page.locator(".st-key-q input")).to_have_value(re.compile(r"^severity=[A-Z]+$"))


def test_dragging_across_the_timeline_zooms_the_range(page, app_url):
    open_logs(page, f"{app_url}/logs?persona=admin&range=24h")
    before = shown_total(page)
    drag = page.locator('.st-key-timeline .nsewdrag').first
    box = drag.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.40, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.50, y, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.60, y, steps=8)
    page.mouse.up()
    page.wait_for_function("() => window.location.search.includes('range=custom')"
                           " && window.location.search.includes('from=')")
    settle(page)
    params = url_params(page)
    assert params["range"] == ["custom"] and params.get("from") and params.get("to")
    after = shown_total(page)
    assert 0 < after < before
    assert page.get_by_text("Absolute range").count() == 1
    # the zoomed URL reproduces the view
    open_logs(page, page.url)
    assert shown_total(page) == after
