"""The Cost Explorer in a real browser: change the group-by and a filter, see the chart and the URL follow."""

from __future__ import annotations

import json
import re
import urllib.parse

from tests.e2e.conftest import wait_for_app


def legend(page) -> list[str]:
    """The series names the cost chart draws (plotly's legend entries, SVG text)."""
    page.wait_for_selector(".st-key-cost_chart .legendtext")
    return page.locator(".st-key-cost_chart .legendtext").evaluate_all("nodes => nodes.map(n => n.textContent)")


def url_params(page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)


def open_explorer(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    assert not page.locator('[role="dialog"]').count()  # no "Page not found" on a first request
    page.wait_for_selector(".st-key-cost_chart .legendtext")


def choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} button[aria-label='Open']").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_group_by_and_filter_change_the_chart_and_the_url(page, app_url):
    open_explorer(page, f"{app_url}/cost-explorer?persona=finance")
    assert not page.locator('[data-testid="stException"]').count()
    services = legend(page)
    assert services and any("Compute" in s or "EC2" in s for s in services)

    choose(page, "group", "Region")  # the label on screen; the URL keeps the key
    page.wait_for_function("() => window.location.search.includes('group=region')")
    wait_for_app(page)
    regions = legend(page)
    assert "us-east-1" in regions and not set(regions) & set(services)
    assert url_params(page)["group"] == ["region"]

    # The URL reproduces the view; the filter is then set on the reloaded page.
    open_explorer(page, page.url)
    assert legend(page) == regions
    page.locator('[data-testid="stExpander"] summary').filter(has_text="Filters").click()
    wait_for_app(page)
    page.locator(".st-key-f_region input").focus()
    page.keyboard.press("ArrowDown")  # opens the list (a pointer click does not open it reliably)
    page.get_by_role("option", name="eu-west-1", exact=True).wait_for()
    page.keyboard.type("us-east")  # the filter is searchable: the list narrows to the us-east regions
    page.get_by_role("option", name="us-east-2", exact=True).wait_for()
    assert not page.get_by_role("option", name="eu-west-1", exact=True).count()
    page.get_by_role("option", name="us-east-1", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('f_region=us-east-1')")
    wait_for_app(page)
    assert legend(page) == ["us-east-1"]
    assert url_params(page)["f_region"] == ["us-east-1"]

    # The URL reproduces the view.
    open_explorer(page, page.url)
    assert legend(page) == ["us-east-1"]
    assert page.locator(".st-key-group input").input_value() == "Region"


def test_opening_the_anomalies_tab_lists_the_incidents_and_keeps_it_in_the_url(page, app_url, small_lakehouse):
    incidents = json.loads((small_lakehouse / "manifest.json").read_text())["incidents"]
    open_explorer(page, f"{app_url}/cost-explorer?persona=finance&anomaly_by=account")
    page.get_by_role("tab", name="Anomalies").click()
    page.wait_for_function("() => window.location.search.includes('tab=Anomalies')")
    wait_for_app(page)
    summary = page.get_by_text(re.compile(r"\d+ anomal(y|ies) between")).first
    summary.wait_for()
    assert int(re.match(r"\d+", summary.inner_text()).group(0)) >= len(incidents)
    page.locator(".st-key-anomaly_chart .shapelayer path").first.wait_for(state="attached")  # the event, shaded
    # The URL reopens the same tab.
    open_explorer(page, page.url)
    assert page.get_by_role("tab", name="Anomalies").get_attribute("aria-selected") == "true"
    page.get_by_text(re.compile(r"\d+ anomal(y|ies) between")).first.wait_for()
