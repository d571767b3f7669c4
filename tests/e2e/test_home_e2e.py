"""Home in a real browser: cards render, navigation follows the role (embedded: tests/e2e/test_embeds_e2e.py)."""

import re

import pytest

from tests.e2e.conftest import wait_for_app

NAV = {
    "admin": {"Home", "Cost Explorer", "CUR drill-down", "Inventory", "Logs", "SQL workbench", "Import data"},
    "finance": {"Home", "Cost Explorer", "CUR drill-down", "Inventory", "SQL workbench"},
    "ops": {"Home", "Cost Explorer", "Inventory", "Logs", "SQL workbench"},
}


def test_home_renders_its_cards(page, app_url):
    page.goto(f"{app_url}/?persona=admin")
    wait_for_app(page)
    assert page.get_by_role("heading", name="DAIVI Lakehouse Explorer").is_visible()
    assert page.locator('[data-testid="stMetric"]').count() == 4
    value = page.locator('[data-testid="stMetricValue"]').first.inner_text().strip()
    assert re.match(r"^−?\$[\d,]+(\.\d+)?[kMB]?$", value), value  # short enough for the card ($8,924, $44.2k)
    assert not page.locator('[data-testid="stException"]').count()


@pytest.mark.parametrize("persona", sorted(NAV))
def test_navigation_shows_only_the_views_the_role_may_use(page, app_url, persona):
    page.goto(f"{app_url}/?persona={persona}")
    wait_for_app(page)
    links = {re.sub(r"^\S+\n", "", t).strip() for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()}
    assert links == NAV[persona]


def test_navigation_moves_between_pages_and_keeps_the_persona(page, app_url):
    page.goto(f"{app_url}/?persona=ops")
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Inventory").click()
    wait_for_app(page)
    assert "/inventory" in page.url and "persona=ops" in page.url
    assert not page.locator('[data-testid="stException"]').count()
    assert "ops-engineer" in page.locator('[data-testid="stSidebar"]').inner_text()
