"""The SQL workbench in a real browser: type a query, run it, see its rows; the query lands in the URL."""

import re
import urllib.parse

import pytest

from tests.e2e.conftest import PAGE_TIMEOUT_MS, wait_for_app
from tests.e2e.test_embeds_e2e import CUT_ELEMENTS, IFRAME, embedded, idle


def test_typing_a_query_and_running_it_shows_rows_and_puts_the_sql_in_the_url(page, app_url, raw_duckdb):
    page.goto(f"{app_url}/workbench?persona=admin")
    wait_for_app(page)
    page.get_by_text("The editor is empty").wait_for()  # the page is drawn (after any first-load rerun)
    assert page.get_by_role("heading", name="SQL workbench").is_visible()

    sql = "SELECT account_id, account_name FROM daivi_billing.accounts WHERE environment = 'prod' ORDER BY account_id"
    editor = page.get_by_role("textbox", name="SQL (Athena dialect)")
    editor.fill(sql)
    page.locator(".st-key-wb_run button").click()
    expected = raw_duckdb.execute(
        "SELECT account_id, account_name FROM daivi_billing.accounts WHERE environment = 'prod' ORDER BY account_id").df()
    caption = page.get_by_text(re.compile(rf"^{len(expected)} rows in [\d.]+ s on the embedded engine"))
    caption.wait_for()
    wait_for_app(page)

    grid = page.locator('[data-testid="stDataFrame"]').last
    grid.wait_for()
    # The grid draws on a canvas; its accessible table carries the cell text.
    cells = grid.locator('[role="gridcell"]').all_inner_texts()
    assert expected["account_id"].iloc[0] in cells and expected["account_name"].iloc[0] in cells
    assert "sql=" in page.url
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["sql"][0] == sql
    assert not page.locator('[data-testid="stException"]').count()
    assert not page.locator('[data-testid="stAlertContentError"]').count()

    # Ctrl+Enter in the editor runs it too.
    editor.fill("SELECT COUNT(*) AS budgets FROM daivi_billing.budgets")
    editor.press("Control+Enter")
    page.get_by_text(re.compile(r"^1 row in [\d.]+ s on the embedded engine")).wait_for()
    wait_for_app(page)
    count = raw_duckdb.execute("SELECT COUNT(*) FROM daivi_billing.budgets").fetchone()[0]
    assert str(count) in page.locator('[data-testid="stDataFrame"]').last.locator('[role="gridcell"]').all_inner_texts()


def test_a_shared_link_runs_its_query_and_a_refused_one_says_why(page, app_url):
    page.goto(f"{app_url}/workbench?persona=finance&sql={urllib.parse.quote('DELETE FROM daivi_billing.accounts')}")
    wait_for_app(page)
    page.get_by_text("DELETE changes data").wait_for()
    assert not page.locator('[data-testid="stDataFrame"]').filter(has_text="account_id").count()


# --- embedded in a wiki: a 900x600 iframe, nothing cut or wider than it ------------------------------

OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const main = document.querySelector('[data-testid="stMain"]');
    const name = e => e.getAttribute('data-testid') || e.className || e.tagName;
    const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    // Wider than the iframe, where no scrolling or clipping box holds it.
    const held = e => { for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
    const wide = [...main.querySelectorAll('*')].filter(e => shown(e) && e.getBoundingClientRect().right > width + 1 && !held(e));
    // Text cut with an ellipsis (labels, summaries, metric values).
    const cut = [...main.querySelectorAll('*')].filter(e => shown(e) && getComputedStyle(e).textOverflow === 'ellipsis'
        && e.scrollWidth > e.clientWidth + 1);
    return {wide: wide.map(name), cut: cut.map(e => e.textContent)};
}"""
EMBED_SQL = ("SELECT service_code, account_id, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily "
             "WHERE billing_period >= '2026-01' GROUP BY 1, 2 ORDER BY 3 DESC")


@pytest.mark.parametrize(("show", "drawn"), [
    ("", '.st-key-wb_chart [data-testid="stPlotlyChart"]'), ("chart", '.st-key-wb_chart [data-testid="stPlotlyChart"]'),
    ("table", '[data-testid="stDataFrame"]'), ("kpis", '[data-testid="stMetric"]')])
def test_an_embedded_workbench_fits_a_900x600_iframe(page, app_url, show, drawn):
    query = urllib.parse.urlencode({"embed": "true", "persona": "finance", "sql": EMBED_SQL, **({"show": show} if show else {})})
    frame = embedded(page, app_url, f"workbench?{query}")
    frame.wait_for_selector(drawn, timeout=PAGE_TIMEOUT_MS)
    idle(frame)
    assert not frame.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    assert frame.get_by_text("as Fiona Finance").first.bounding_box()["y"] < IFRAME["height"]
    first_part = frame.locator(drawn).first.bounding_box()
    assert first_part["y"] < IFRAME["height"]  # the result is in the first screenful, not under the editor
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= IFRAME["width"]
    assert frame.evaluate(OVERFLOWING) == {"wide": [], "cut": []}
    assert frame.evaluate(CUT_ELEMENTS) == []
    summary = frame.locator('[data-testid="stExpander"] summary').filter(has_text="SQL: SELECT service_code").first
    assert summary.bounding_box()["y"] > first_part["y"]  # the editor is folded under the result
    assert not frame.locator(".st-key-sql textarea").is_visible()
    if not show:
        summary.click()
        frame.locator(".st-key-sql textarea").wait_for()
        assert frame.locator(".st-key-sql textarea").input_value() == EMBED_SQL
        assert frame.evaluate(OVERFLOWING) == {"wide": [], "cut": []}  # the opened editor fits too
