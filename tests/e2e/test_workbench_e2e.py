"""The SQL workbench in a real browser: type a query, run it, see its rows; the query lands in the URL."""

import re
import urllib.parse

from tests.e2e.conftest import wait_for_app


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
