"""What a finance analyst or an ops engineer saw walking through the views in a browser, kept fixed.

Each test opens a view as a persona would and checks one thing that was wrong on screen:
a KPI label cut with an ellipsis, a chart axis that wrote "$−2,500". Waits are on
Streamlit's own state and on elements, never on time.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import shown_text, wait_for_app

# Leaf text of a KPI tile's label that does not fit its box (Streamlit cuts it with an ellipsis).
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


@pytest.mark.parametrize("width", [1400, 900])
@pytest.mark.parametrize("tab", ["Invoice", "Commitments"])
def test_cur_kpi_labels_are_shown_whole(page, app_url, tab, width):
    # "Billing lakehouse unblended", "Difference (CUR − billing)", "Eligible on-demand" were cut to "Billing lakehous…".
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{app_url}/cur?persona=admin&tab={tab}")
    page.locator('[data-testid="stMetricLabel"]').nth(3).wait_for()
    wait_for_app(page)
    assert page.locator('[data-testid="stMetricLabel"]').count() >= 4
    assert page.evaluate(CUT_LABELS) == []


def test_what_changed_axis_writes_the_minus_before_the_dollar(page, app_url):
    page.goto(f"{app_url}/cost-explorer?persona=finance&tab=What+changed")
    ticks = page.locator('.st-key-movers_chart .xtick text')
    ticks.first.wait_for()
    wait_for_app(page)
    labels = ticks.all_text_contents()
    assert any(t.startswith("\u2212$") for t in labels), labels  # the demo's month has decreases: −$500 …
    assert not [t for t in labels if "$\u2212" in t or "$-" in t or t.startswith("-")]


@pytest.mark.parametrize("width", [1400, 900])
def test_start_and_end_stay_side_by_side(page, app_url, width):
    # At 900 px "End (UTC)" wrapped onto the next line, beside Granularity, away from its "Start (UTC)".
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{app_url}/cost-explorer?persona=finance")
    start, end = page.locator(".st-key-start_shown input"), page.locator(".st-key-end_shown input")
    end.wait_for()
    wait_for_app(page)
    first, second = start.bounding_box(), end.bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"]
    if width == 1400:  # room enough: still on the row of the time range, as before
        assert abs(page.locator(".st-key-range input").bounding_box()["y"] - first["y"]) < 2


@pytest.mark.parametrize(("persona", "view", "title", "reason"), [
    ("finance", "logs", "Logs", "no grant on the splunk lakehouse"),
    ("ops", "cur", "CUR drill-down", "no grant on the cur lakehouse"),
])
def test_a_link_to_a_view_the_role_may_not_use_says_so(page, app_url, persona, view, title, reason):
    # Fiona Finance opening a shared Logs link got Streamlit's "Page not found" dialog and the Home page.
    page.goto(f"{app_url}/{view}?persona={persona}")
    notice = page.locator('[data-testid="stAlert"]')
    notice.wait_for()
    wait_for_app(page)
    assert page.locator("h1").first.inner_text() == title
    assert reason in shown_text(notice) and "is not available to your role" in shown_text(notice)
    assert not page.get_by_text("Page not found").count()
    assert not page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).count()  # still not in the menu


def test_ops_waste_tiles_show_their_values_whole(page, app_url):
    # Omar Ops (no CUR) saw "At stake per month: no cost …", the tile's text cut.
    page.goto(f"{app_url}/inventory?persona=ops&tab=Waste")
    page.locator('[data-testid="stMetricValue"]').nth(2).wait_for()
    wait_for_app(page)
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"] *')]
        .filter(e => e.children.length === 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert cut == []
    assert page.evaluate(CUT_LABELS) == []
