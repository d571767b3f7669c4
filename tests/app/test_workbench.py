"""The SQL workbench through AppTest, per persona: results equal SQL, governance holds, bad input gets a message."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from daivi_data.saved_queries import saved_queries
from daivi_data.settings import PROJECT_ROOT
from tests.app.conftest import APP_TIMEOUT_S, as_read, page_text
from tests.aws.conftest import _fake_aws_environment, aws, fake_athena  # noqa: F401 - the Athena tier's fixtures
from tests.aws.test_app_on_athena import athena_app  # noqa: F401
from tests.aws.test_app_on_athena import run_app as run_athena_app
from tests.helpers import PAYMENTS_ACCOUNT_IDS, PERSONAS, demo_end_date

PAGE = "workbench.py"
AS_OF = demo_end_date()
PERIOD = f"{AS_OF:%Y-%m}"
CATALOG_COLUMNS = ["column", "type", "description"]


def result_frame(at) -> pd.DataFrame | None:
    """The results table (the catalog's column tables are the others)."""
    frames = [d.value for d in at.dataframe if list(d.value.columns) != CATALOG_COLUMNS]
    return frames[-1] if frames else None


def catalog_frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe if list(d.value.columns) == CATALOG_COLUMNS]


def errors(at) -> str:
    return "\n".join(as_read(str(e.value)) for e in at.error)


def type_and_run(at, sql: str):
    # As in the browser: the editor commits its text (a rerun), then Run is clicked (another).
    at.text_area(key="sql").input(sql).run()
    at.button(key="wb_run").click().run()
    return at


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_page_renders_for_every_persona_with_an_empty_editor(run_page, persona):
    at = run_page(persona, PAGE)
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    text = page_text(at)
    assert "SQL workbench" in text and "editor is empty" in text
    assert "10,000 rows" in text  # the row limit is stated


def test_a_query_from_the_url_runs_on_open_and_equals_sql(run_page, raw_duckdb):
    sql = (f"SELECT service_code, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily "
           f"WHERE billing_period = '{PERIOD}' GROUP BY service_code ORDER BY cost DESC")
    at = run_page("admin", PAGE, sql=sql)
    assert not at.exception and not at.error, errors(at)
    got = result_frame(at)
    expected = raw_duckdb.execute(
        f"SELECT service_code, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily WHERE billing_period = '{PERIOD}' "
        "GROUP BY 1 ORDER BY 2 DESC").df()
    assert list(got["service_code"]) == list(expected["service_code"])
    assert got["cost"].tolist() == pytest.approx(expected["cost"].tolist())
    text = page_text(at)
    assert f"{len(expected):,} rows" in text and "embedded engine" in text
    assert len(at.get("download_button")) == 1  # CSV download of the result
    assert len(at.get("plotly_chart")) == 1  # quick chart: a text x and a numeric y


def test_typing_a_query_and_pressing_run_shows_its_rows_and_keeps_history(run_page, raw_duckdb):
    at = run_page("admin", PAGE)
    type_and_run(at, "SELECT account_id, account_name FROM daivi_billing.accounts ORDER BY account_id")
    assert not at.error, errors(at)
    expected = raw_duckdb.execute("SELECT account_id FROM daivi_billing.accounts ORDER BY account_id").df()
    assert list(result_frame(at)["account_id"]) == list(expected["account_id"])
    type_and_run(at, "SELECT COUNT(*) AS n FROM daivi_billing.budgets")
    assert result_frame(at)["n"][0] == raw_duckdb.execute("SELECT COUNT(*) FROM daivi_billing.budgets").fetchone()[0]
    history = [c.value for c in at.code]
    assert any("daivi_billing.budgets" in h for h in history) and any("daivi_billing.accounts" in h for h in history)
    # Run again from the history: the editor gets that query back and its rows show.
    index = next(i for i, item in enumerate(at.session_state["wb_history"]) if "accounts" in item["sql"])
    at.button(key=f"wb_history_{index}").click()
    at.run()
    assert "daivi_billing.accounts" in at.text_area(key="sql").value
    assert list(result_frame(at)["account_id"]) == list(expected["account_id"])


def test_an_example_query_loads_into_the_editor_and_equals_sql(run_page, raw_duckdb):
    at = run_page("finance", PAGE)
    at.selectbox(key="wb_example").set_value("billing_untagged_spend")
    at.button(key="wb_load_example").click()
    at.run()
    example = next(q for q in saved_queries(AS_OF) if q.key == "billing_untagged_spend")
    assert at.text_area(key="sql").value == example.sql
    at.button(key="wb_run").click()
    at.run()
    assert not at.error, errors(at)
    total = raw_duckdb.execute(
        f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE billing_period = '{PERIOD}' "
        "AND record_type = 'Usage' AND tags['team'] IS NULL").fetchone()[0]
    got = result_frame(at)
    assert got["untagged_cost"].sum() == pytest.approx(total, abs=0.01 * len(got))


def test_examples_are_offered_only_for_readable_lakehouses(run_page):
    finance = run_page("finance", PAGE).selectbox(key="wb_example").options
    ops = run_page("ops", PAGE).selectbox(key="wb_example").options
    assert not any("splunk" in o for o in finance) and any("splunk" in o for o in ops)
    assert not any("(cur" in o or ", cur" in o for o in ops)


def test_the_catalog_shows_only_what_the_role_may_read(run_page):
    at = run_page("finance", PAGE)
    tables = [e.label for e in at.expander]
    assert {"cost_daily", "accounts", "budgets", "cur", "resources"} <= set(tables)
    assert "events" not in tables
    columns = {c for frame in catalog_frames(at) for c in frame["column"]}
    assert "configuration" not in columns and "resource_id" in columns and "line_item_resource_id" in columns
    ops = run_page("ops", PAGE)
    assert "cur" not in [e.label for e in ops.expander] and "budgets" not in [e.label for e in ops.expander]
    assert "owner_email" not in {c for frame in catalog_frames(ops) for c in frame["column"]}


def test_the_catalog_counts_rows_under_the_roles_grants(run_page, raw_duckdb):
    latest = raw_duckdb.execute("SELECT MAX(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]
    ids = ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS)
    count = raw_duckdb.execute(
        f"SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id IN ({ids})", [latest]).fetchone()[0]
    text = page_text(run_page("teamlead", PAGE))
    assert f"{count:,} rows in partition {latest} visible to your role" in text


def test_picking_a_table_puts_a_starter_query_with_its_partition_predicate_in_the_editor(run_page, raw_duckdb):
    at = run_page("finance", PAGE)
    at.button(key="wb_use_daivi_inventory.resources").click()
    at.run()
    sql = at.text_area(key="sql").value
    latest = raw_duckdb.execute("SELECT MAX(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]
    assert f"WHERE snapshot_date = DATE '{latest}'" in sql and "configuration" not in sql
    at.button(key="wb_run").click()
    at.run()
    assert not at.error, errors(at)
    assert len(result_frame(at)) == 100  # the starter's LIMIT


def test_finance_cannot_read_the_excluded_column_and_star_hides_it(run_page):
    at = run_page("finance", PAGE, sql=f"SELECT * FROM daivi_inventory.resources WHERE snapshot_date = DATE '{AS_OF}' LIMIT 5")
    assert not at.error, errors(at)
    assert "configuration" not in result_frame(at).columns
    at = run_page("finance", PAGE, sql="WITH r AS (SELECT configuration FROM daivi_inventory.resources "
                                       f"WHERE snapshot_date = DATE '{AS_OF}') SELECT * FROM r")
    assert "may not read column configuration" in errors(at) and result_frame(at) is None


def test_the_team_lead_sees_only_payments_rows(run_page):
    at = run_page("teamlead", PAGE, sql="SELECT DISTINCT account_id FROM daivi_billing.cost_daily "
                                        f"WHERE billing_period = '{PERIOD}' ORDER BY 1")
    assert not at.error, errors(at)
    assert set(result_frame(at)["account_id"]) == set(PAYMENTS_ACCOUNT_IDS)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DROP TABLE daivi_billing.accounts", "DROP changes the catalog"),
        ("SELECT 1; SELECT 2", "Found 2 statements"),
        ("CREATE TABLE x AS SELECT * FROM daivi_billing.accounts", "CREATE TABLE AS SELECT writes a new table"),
        ("SELECT * FROM daivi_splunk.events WHERE event_date = current_date", "may not read table daivi_splunk.events"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "table functions are not allowed"),
        ("SELECT account_id\nFROM daivi_billing.accounts\nWHERE ou = = 'x'", "Line 3, column 12"),
        ("SELECT 'unclosed", "Line 1, column 8: the string literal"),
    ],
)
def test_bad_input_gets_a_message_that_says_why(run_page, sql, message):
    at = run_page("finance", PAGE, sql=sql)
    assert not at.exception
    assert message in errors(at)
    assert result_frame(at) is None
    assert at.session_state["wb_history"][0]["outcome"].startswith("refused")


def test_a_partitioned_table_without_a_partition_predicate_gets_a_cost_note(run_page):
    at = run_page("admin", PAGE, sql="SELECT COUNT(*) AS n FROM daivi_splunk.events")
    assert "without a filter on its partition key `event_date`" in page_text(at)
    assert result_frame(at)["n"][0] > 0  # on the embedded engine it still runs


def test_a_huge_result_is_limited_and_says_so(run_page, raw_duckdb, monkeypatch):
    monkeypatch.setenv("DAIVI_MAX_RESULT_ROWS", "100")
    at = run_page("admin", PAGE, sql=f"SELECT * FROM daivi_billing.cost_daily WHERE billing_period = '{PERIOD}'")
    assert len(result_frame(at)) == 100
    text = page_text(at)
    assert "more than 100 rows: showing the first 100" in text and "at most **100 rows**" in text


def test_a_runaway_query_is_stopped_after_the_configured_timeout(run_page, monkeypatch):
    monkeypatch.setenv("DAIVI_QUERY_TIMEOUT_S", "0.5")
    sql = (f"SELECT COUNT(DISTINCT a.message || b.message || c.message) AS n FROM daivi_splunk.events a, "
           f"daivi_splunk.events b, daivi_splunk.events c WHERE a.event_date = DATE '{AS_OF}' "
           f"AND b.event_date = DATE '{AS_OF}' AND c.event_date = DATE '{AS_OF}'")
    at = run_page("admin", PAGE, sql=sql)
    assert "Query timed out" in errors(at) and "was stopped" in errors(at)


def test_embed_mode_keeps_only_the_editor_and_results():
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.context["is_embedded"] = True  # what the browser reports for ?embed=true
    at.query_params["persona"] = "admin"
    at.query_params["sql"] = "SELECT COUNT(*) AS n FROM daivi_billing.accounts"
    at.run()
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert not at.exception
    assert not [t for t in at.title if t.value == "SQL workbench"]
    assert not catalog_frames(at) and result_frame(at)["n"][0] > 0


def test_the_sql_in_the_url_round_trips(run_page):
    sql = "SELECT 'a;b' AS x, account_id FROM daivi_billing.accounts -- a comment; not a statement"
    at = run_page("admin", PAGE, sql=sql)
    assert at.text_area(key="sql").value == sql
    assert not at.error, errors(at)
    assert set(result_frame(at)["x"]) == {"a;b"}




@pytest.mark.aws
def test_on_athena_a_full_scan_waits_for_confirmation_and_shows_bytes_and_cost(athena_app, raw_duckdb):  # noqa: F811
    """On the Athena engine (awswrangler -> moto's Athena, answered from the small lakehouse by DuckDB)."""
    at = run_athena_app("admin", PAGE, sql="SELECT COUNT(*) AS full_scan FROM daivi_splunk.events")
    assert not at.exception and not at.error, errors(at)
    assert "on Athena this scans (and bills) every partition" in "\n".join(as_read(w.value) for w in at.warning)
    assert result_frame(at) is None
    assert not [q for q in athena_app.started if "full_scan" in q["query"]]  # nothing sent before confirmation
    confirm = next(c for c in at.checkbox if c.label == "Run anyway (full scan)")
    confirm.check().run()
    assert result_frame(at)["full_scan"][0] == raw_duckdb.execute("SELECT COUNT(*) FROM daivi_splunk.events").fetchone()[0]
    assert re.search(r"Scanned \*\*[\d.]+ (KB|MB|GB)\*\*, \$\d+\.\d{4} · 1 row in", page_text(at))
    # The confirmation was for that query only: the next full scan in the session asks again.
    type_and_run(at, "SELECT MAX(event_time) AS another_scan FROM daivi_splunk.events")
    assert result_frame(at) is None
    assert [c.value for c in at.checkbox if c.label == "Run anyway (full scan)"] == [False]

    pruned = f"SELECT COUNT(*) AS pruned FROM daivi_splunk.events WHERE event_date = DATE '{AS_OF}'"
    at = run_athena_app("admin", PAGE, sql=pruned)
    assert not at.warning and result_frame(at)["pruned"][0] == raw_duckdb.execute(
        f"SELECT COUNT(*) FROM daivi_splunk.events WHERE event_date = DATE '{AS_OF}'").fetchone()[0]
    sent = next(q for q in athena_app.started if "pruned" in q["query"])

    # The fake Glue declares date partition keys `string`, as a crawler does: the predicate stays on the
    # key, compared as ISO text, so Athena prunes with it (daivi_data/aws/literals.py).
    assert "LIMIT 10001" in sent["query"] and f"event_date = '{AS_OF}'" in sent["query"]

def test_a_link_from_another_view_runs_its_query_in_the_same_session(run_page):
    at = run_page("admin", PAGE, sql="SELECT COUNT(*) AS first_query FROM daivi_billing.accounts")
    assert "first_query" in result_frame(at).columns
    at.switch_page("views/home.py")
    at.run()
    at.query_params["sql"] = "SELECT COUNT(*) AS linked_query FROM daivi_billing.budgets"  # e.g. ./workbench?sql=...
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert at.text_area(key="sql").value.endswith("daivi_billing.budgets")
    assert "linked_query" in result_frame(at).columns


def test_typing_does_not_run_until_run_is_pressed(run_page):
    at = run_page("admin", PAGE, sql="SELECT COUNT(*) AS shown FROM daivi_billing.accounts")
    at.text_area(key="sql").input("SELECT COUNT(*) AS typed FROM daivi_billing.budgets").run()
    assert "shown" in result_frame(at).columns
    assert "press **Run**" in page_text(at)
    at.button(key="wb_run").click().run()
    assert "typed" in result_frame(at).columns


def embedded(sql: str, show: str | None = None, persona: str = "admin") -> AppTest:
    """The workbench as a wiki iframe runs it (`?embed=true`, Streamlit reports the embedding)."""
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.context["is_embedded"] = True
    at.query_params.update({"persona": persona, "sql": sql, **({"show": show} if show else {})})
    at.run()
    at.switch_page(f"views/{PAGE}")
    return at.run()


GROUPED = f"SELECT service_code, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily WHERE billing_period = '{PERIOD}' GROUP BY 1"


def test_an_embed_shows_the_result_first_and_folds_the_editor_under_the_querys_first_line():
    at = embedded(GROUPED)
    assert not at.exception and not at.error, errors(at)
    expander = next(e for e in at.expander if as_read(e.label).startswith("SQL: SELECT service_code"))
    assert expander.text_area(key="sql").value == GROUPED  # the editor is folded into it
    assert expander.selectbox(key="wb_chart_x").value == "service_code"  # and so are the chart's options
    assert not expander.dataframe and not expander.get("plotly_chart")  # the result is not
    assert len(at.get("plotly_chart")) == 1 and result_frame(at) is not None
    assert at.get("download_button")  # everything is shown: the CSV too


@pytest.mark.parametrize(("show", "chart", "table", "kpis"), [
    ("chart", 1, False, 0), ("table", 0, True, 0), ("kpis", 0, False, 1), ("chart,table", 1, True, 0)])
def test_an_embed_shows_only_the_parts_asked_for(show, chart, table, kpis):
    at = embedded(GROUPED, show)
    assert not at.exception and not at.error, errors(at)
    assert len(at.get("plotly_chart")) == chart
    assert (result_frame(at) is not None) == table
    assert len(at.metric) == kpis and (not kpis or at.metric[0].label == "Rows")
    assert not at.get("download_button") and not [c for c in at.caption if "embedded engine" in str(c.value)]
    assert not [e for e in at.expander if e.label.startswith("Quick chart") or e.label.startswith("History")]


def test_an_embedded_one_row_result_shows_as_kpi_tiles(raw_duckdb):
    sql = (f"SELECT COUNT(*) AS line_items, ROUND(SUM(unblended_cost), 2) AS cost FROM daivi_billing.cost_daily "
           f"WHERE billing_period = '{PERIOD}'")
    at = embedded(sql, "kpis", persona="finance")
    assert not at.exception and not at.error, errors(at)
    n, cost = raw_duckdb.execute(sql).fetchone()
    assert [(as_read(m.label), m.value) for m in at.metric] == [("line_items", f"{n:,}"), ("cost", f"{cost:,.2f}")]


def test_an_embed_of_a_refused_query_says_why_in_place_of_the_result():
    at = embedded("DELETE FROM daivi_billing.accounts", "chart")
    assert not at.exception
    assert "read-only" in errors(at) and not at.get("plotly_chart")
