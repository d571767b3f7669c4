"""Inventory in a real browser: search by tag, open a detail from the table, export the full result, the map draws."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import wait_for_app

TAG_FILTER = "team=payments"
# first column of the grid: the row-selection checkboxes; rows are 35 px high under a 35 px header
GRID_ROW_PX = 35


@pytest.fixture(scope="module")
def snapshot(raw_duckdb) -> dt.date:
    return raw_duckdb.execute("SELECT MAX(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]


@pytest.fixture(scope="module")
def payments_tagged(raw_duckdb, snapshot) -> list[str]:
    """Ids tagged team=payments on the latest snapshot, in the table's order."""
    return [r[0] for r in raw_duckdb.execute(
        "SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = ? AND lower(tags['team']) = 'payments' "
        "ORDER BY account_id, resource_type, resource_id", [snapshot]).fetchall()]


def url_params(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def search_by_tag(page, app_url, persona: str) -> None:
    page.goto(f"{app_url}/inventory?persona={persona}&tab=Search")
    wait_for_app(page)
    box = page.get_by_role("textbox", name="Tags", exact=True)
    box.fill(TAG_FILTER)
    box.press("Enter")
    wait_for_app(page)


def test_search_by_tag_then_open_a_detail(page, app_url, payments_tagged):
    search_by_tag(page, app_url, "ops")
    assert url_params(page)["tags"] == [TAG_FILTER]  # the search is in the URL
    assert page.get_by_text(re.compile(r"resources match on")).first.inner_text().startswith(f"{len(payments_tagged):,} resources")
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + GRID_ROW_PX + GRID_ROW_PX / 2)  # select the first row
    wait_for_app(page)
    page.wait_for_url(re.compile(r"resource="))
    wait_for_app(page)
    params = url_params(page)
    assert params["resource"] == [payments_tagged[0]]
    assert params.get("tab") == ["Detail"]
    assert page.get_by_role("tab", name="Detail", selected=True).is_visible()
    main = page.locator('[data-testid="stMainBlockContainer"]')
    assert payments_tagged[0] in main.inner_text()
    assert "Cost is not shown: your role may not read the CUR" in main.inner_text()  # ops
    assert not page.locator('[data-testid="stException"]').count()
    assert not page.locator('[data-testid="stAlertContentError"]').count()


def test_csv_export_holds_the_full_result_not_the_page(page, app_url, payments_tagged, tmp_path):
    search_by_tag(page, app_url, "admin")
    assert len(payments_tagged) > 25  # more than one page
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile(r"Download all")).click()
    path = tmp_path / "export.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    assert rows[0][0] == "resource_id"
    assert [row[0] for row in rows[1:]] == payments_tagged


def test_overview_draws_its_charts_and_the_region_map(page, app_url):
    page.goto(f"{app_url}/inventory?persona=admin")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .geo .countries path", state="attached")  # the world outline came from ./app/static
    assert page.locator(".js-plotly-plot").count() >= 5
    assert page.locator(".js-plotly-plot .geo .scattergeo .point").count() >= 2  # one bubble per region with resources
    assert not page.locator('[data-testid="stException"]').count()
