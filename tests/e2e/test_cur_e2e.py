"""The CUR drill-down in a real browser: a billing period by its bar, three levels down (a table row, then the drill selectbox twice),
the URL following each step, and back to the top by the breadcrumb."""

from __future__ import annotations

import urllib.parse

from daivi_ui.vocabulary import service_name
from tests.e2e.conftest import wait_for_app

GRID_HEADER_PX = 35  # glide data grid: header row height; rows are as tall
ROW_MARKER_X_PX = 18  # the selection checkbox column on the left of each row


def url_params(page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)


def bar_labels(page, level: str) -> list[str]:
    """The category labels of a drill level's bar chart (plotly SVG tick text)."""
    selector = f".st-key-drill_chart_{level} .ytick text"
    page.wait_for_selector(selector)
    return page.locator(selector).evaluate_all("nodes => nodes.map(n => n.textContent)")


def wait_for_param(page, name: str, present: bool = True) -> None:
    check = f"new URLSearchParams(window.location.search).has('{name}')"
    page.wait_for_function(f"() => {check if present else '!' + check}")
    wait_for_app(page)


def choose_first_drill_option(page) -> str:
    # Streamlit 1.67's selectbox is a react-aria combo box: open it from its input.
    page.locator("[class*='st-key-drill_choice_'] input").click()
    option = page.get_by_role("option").first
    text = option.inner_text().strip()
    option.click()
    return text


def test_drill_three_levels_down_and_back_by_the_breadcrumb(page, app_url, raw_duckdb):
    periods = [r[0] for r in raw_duckdb.execute(
        "SELECT DISTINCT CAST(billing_period AS VARCHAR) FROM daivi_cur.cur ORDER BY 1").fetchall()]
    period = periods[-2]  # the last complete month: opened by clicking its bar
    largest = raw_duckdb.execute("""SELECT line_item_usage_account_id FROM daivi_cur.cur WHERE billing_period = ?
                                    GROUP BY 1 ORDER BY SUM(line_item_unblended_cost) DESC LIMIT 1""", [period]).fetchone()[0]
    page.goto(f"{app_url}/cur?persona=finance")
    wait_for_app(page)
    assert not page.locator('[data-testid="stException"]').count()

    # Billing period: the bars are in period order; plotly's drag layer sits over them, hence force.
    bars = page.locator("[class*='st-key-period_chart_'] .bars path")
    bars.first.wait_for()
    assert bars.count() == len(periods)
    bars.nth(len(periods) - 2).click(force=True)
    page.wait_for_function(f"() => new URLSearchParams(window.location.search).get('period') === '{period}'")
    wait_for_app(page)
    assert any(label.endswith(f"({largest})") for label in bar_labels(page, "account"))

    # Level 1 -> 2: choose the first (costliest) row of the accounts table.
    grid = page.locator("[class*='st-key-drill_table_'] [data-testid='stDataFrameResizable']")
    grid.click(position={"x": ROW_MARKER_X_PX, "y": GRID_HEADER_PX + GRID_HEADER_PX // 2})
    wait_for_param(page, "account")
    assert url_params(page)["account"] == [largest] and url_params(page)["period"] == [period]
    services = bar_labels(page, "service")
    assert services
    assert page.locator(".st-key-crumb_service").inner_text().strip().endswith(f"Account {largest}")

    # Level 2 -> 3: a service, through the drill selectbox: its name on screen (as in Cost Explorer), its code in the URL.
    service = choose_first_drill_option(page)
    wait_for_param(page, "service")
    assert service in services and service_name(url_params(page)["service"][0]) == service
    assert bar_labels(page, "usage")

    # Level 3 -> 4: a usage type / operation.
    usage = choose_first_drill_option(page)
    wait_for_param(page, "usage_type")
    assert usage.startswith(url_params(page)["usage_type"][0])
    assert page.locator(".st-key-crumb_resource").count() == 1
    page.locator("[class*='st-key-drill_table_'] [data-testid='stDataFrameResizable']").wait_for()

    # The URL reproduces the view.
    page.goto(page.url)
    wait_for_app(page)
    crumb = page.locator(".st-key-crumb_usage").inner_text().strip()
    assert crumb.endswith(service), (crumb, page.url)

    # Back one level, then to the top, by the breadcrumb.
    page.locator(".st-key-crumb_usage button").first.click()
    wait_for_param(page, "usage_type", present=False)
    assert service_name(url_params(page)["service"][0]) == service
    page.locator(".st-key-crumb_account button").first.click()
    wait_for_param(page, "account", present=False)
    assert "service" not in url_params(page)
    assert any(label.endswith(f"({largest})") for label in bar_labels(page, "account"))


def test_ops_has_no_cur_view_in_the_navigation(page, app_url):
    page.goto(f"{app_url}/?persona=ops")
    wait_for_app(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Cost Explorer" in nav and "CUR drill-down" not in nav
