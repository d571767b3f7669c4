"""Cost Explorer through AppTest: the numbers on screen equal independent SQL, per persona, and bad input gets a message."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from daivi_data import cost_analysis as ca
from daivi_data.settings import PROJECT_ROOT
from daivi_ui.format import day as format_day
from daivi_ui.format import money as format_money
from daivi_ui.format import money_short as format_kpi_money
from tests.app.conftest import APP_TIMEOUT_S, money_metric, page_text
from tests.helpers import PAYMENTS_ACCOUNT_IDS

PAGE = "cost_explorer.py"
MONEY_TOLERANCE = 0.005  # the table holds full precision; metrics are rounded to cents


@pytest.fixture(scope="module")
def data_days(raw_duckdb) -> tuple[dt.date, dt.date]:
    return raw_duckdb.execute("SELECT min(usage_date), max(usage_date) FROM daivi_billing.cost_daily").fetchone()


def open_explorer(run_page, persona: str = "admin", **params):
    at = run_page(persona, PAGE, **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def breakdown(at) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if "Share" in d.value.columns]
    assert tables, "no breakdown table on the page"
    return tables[0]


def metric(at, prefix: str) -> str:
    for m in at.metric:
        if m.label.startswith(prefix):
            return m.value
    raise AssertionError(f"no metric {prefix!r}: {[m.label for m in at.metric]}")


def expected_by(raw, expression: str, start, end, where="TRUE", basis="unblended_cost", accounts=()) -> pd.Series:
    restrict = f"AND c.account_id IN ({', '.join(repr(a) for a in accounts)})" if accounts else ""
    df = raw.execute(
        f"""SELECT {expression} AS g, SUM(c.{basis}) AS cost
            FROM daivi_billing.cost_daily c LEFT JOIN daivi_billing.accounts a USING (account_id)
            WHERE c.usage_date BETWEEN ? AND ? AND {where} {restrict} GROUP BY 1""",
        [start, end]).df()
    return df.set_index("g")["cost"]


def assert_table_matches(table: pd.DataFrame, label_column: str, expected: pd.Series, top_n: int = 10, labels=None) -> None:
    """Top-N rows equal the independent SQL per group, Others the rest, Total the sum."""
    labels = labels or {}
    expected = expected[expected.abs() > 1e-9]
    shown = table.set_index(label_column)["Cost"]
    keep = ca.top_groups(expected, top_n)
    for group in keep:
        assert shown[labels.get(group, group)] == pytest.approx(expected[group], rel=1e-9), group
    if len(expected) > top_n:
        assert shown[ca.OTHERS] == pytest.approx(expected.drop(keep).sum(), rel=1e-9)
    else:
        assert ca.OTHERS not in shown.index
    assert shown["Total"] == pytest.approx(expected.sum(), rel=1e-9)
    assert shown.drop("Total").sum() == pytest.approx(shown["Total"], rel=1e-9)


CASES = [
    # (persona, URL params, table column, independent expression, independent where, basis column)
    ("admin", {}, "Service", "c.service_name", "TRUE", "unblended_cost"),
    ("finance", {"group": "region", "basis": "amortized", "f_service": "Amazon Elastic Compute Cloud"}, "Region", "c.region",
     "c.service_name = 'Amazon Elastic Compute Cloud'", "amortized_cost"),
    ("admin", {"group": "ou", "range": "previous-month", "f_record_type": "Usage", "m_record_type": "exclude"}, "OU",
     "coalesce(a.ou, '(no OU)')", "c.record_type <> 'Usage'", "unblended_cost"),
    ("finance", {"group": "tag:team", "ftag": "environment", "f_tag": ["prod", "(untagged)"], "basis": "net_unblended"}, "Tag: team",
     "coalesce(nullif(c.tags['team'], ''), '(untagged)')",
     "coalesce(nullif(c.tags['environment'], ''), '(untagged)') IN ('prod', '(untagged)')", "net_unblended_cost"),
    ("teamlead", {"group": "usage_type", "top": "5"}, "Usage type", "c.usage_type", "TRUE", "unblended_cost"),
    ("ops", {"group": "record_type", "range": "last-7-days"}, "Record type", "c.record_type", "TRUE", "unblended_cost"),
]


@pytest.mark.parametrize(("persona", "params", "column", "expression", "where", "basis"), CASES)
def test_table_and_total_equal_independent_sql(run_page, raw_duckdb, data_days, persona, params, column, expression, where, basis):
    at = open_explorer(run_page, persona, **params)
    start, end = ca.preset_range(params.get("range", "last-30-days"), data_days[1])
    accounts = PAYMENTS_ACCOUNT_IDS if persona == "teamlead" else ()
    expected = expected_by(raw_duckdb, expression, start, end, where, basis, accounts)
    assert_table_matches(breakdown(at), column, expected, int(params.get("top", 10)))
    assert money_metric(at, "Total") == format_money(expected.sum())
    prev_start, prev_end = ca.comparison_range(start, end)
    previous = expected_by(raw_duckdb, expression, prev_start, prev_end, where, basis, accounts).sum()
    assert breakdown(at).set_index(column).loc["Total", "Previous period"] == pytest.approx(previous, rel=1e-9)
    assert metric(at, "Change") == format_kpi_money(expected.sum() - previous)


def test_teamlead_total_is_the_payments_accounts_only(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "teamlead", group="account")
    start, end = ca.preset_range("last-30-days", data_days[1])
    expected = expected_by(raw_duckdb, "c.account_id", start, end, accounts=PAYMENTS_ACCOUNT_IDS)
    assert money_metric(at, "Total") == format_money(expected.sum())
    table = breakdown(at)
    shown_ids = {label[-13:-1] for label in table["Account"] if label != "Total"}
    assert shown_ids == set(PAYMENTS_ACCOUNT_IDS)
    everyone = expected_by(raw_duckdb, "c.account_id", start, end)
    assert metric(at, "Total") != format_kpi_money(everyone.sum())


def test_account_filter_by_label_or_id(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "finance", group="service", f_account=["411111111101", "payments-staging (411111111102)"])
    start, end = ca.preset_range("last-30-days", data_days[1])
    expected = expected_by(raw_duckdb, "c.service_name", start, end, "c.account_id IN ('411111111101', '411111111102')")
    assert money_metric(at, "Total") == format_money(expected.sum())


def test_two_levels_sum_to_the_total(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "admin", group="ou", group2="region")
    table = breakdown(at)
    assert list(table.columns[:2]) == ["OU", "Region"]
    start, end = ca.preset_range("last-30-days", data_days[1])
    expected = expected_by(raw_duckdb, "c.region", start, end).sum()
    assert table.iloc[-1]["Cost"] == pytest.approx(expected, rel=1e-9)
    assert table.iloc[:-1]["Cost"].sum() == pytest.approx(expected, rel=1e-9)


def test_changing_the_group_by_updates_the_table(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "admin")
    at.selectbox(key="group").set_value("region").run()
    assert not at.exception
    start, end = ca.preset_range("last-30-days", data_days[1])
    assert_table_matches(breakdown(at), "Region", expected_by(raw_duckdb, "c.region", start, end))


def test_state_is_restored_from_the_url(run_page):
    at = open_explorer(run_page, "finance", range="last-90-days", grain="weekly", group="account", chart="line", compare="year")
    assert at.selectbox(key="range").value == "last-90-days"
    assert at.selectbox(key="group").value == "account"
    assert at.selectbox(key="compare").value == "year"
    assert "Account" in breakdown(at).columns


def test_ops_has_no_budgets_but_the_rest_works(run_page):
    at = open_explorer(run_page, "ops", tab="Budgets")
    text = page_text(at)
    assert "Budgets are not available for your role (`ops-engineer`)" in text
    assert "Total" in breakdown(at).iloc[-1].to_string()


@pytest.mark.parametrize(("persona", "offers_cur"), [("ops", False), ("finance", True)])
def test_the_row_prompt_offers_the_cur_only_to_a_role_that_may_open_it(run_page, persona, offers_cur):
    # Omar Ops (no CUR grant) was told to "open it in the CUR drill-down", a view he does not have.
    text = page_text(open_explorer(run_page, persona))
    assert "Select a group's row to filter the view to it" in text
    assert ("CUR drill-down" in text) is offers_cur


def test_only_the_open_tab_runs_its_queries(run_page):
    at = open_explorer(run_page, "finance")  # "What changed" is open by default
    assert not [d for d in at.dataframe if "monthly_limit" in d.value.columns or "Impact" in d.value.columns]
    assert [d for d in at.dataframe if "contribution_pp" in d.value.columns]


def test_budgets_show_for_finance(run_page, raw_duckdb):
    at = open_explorer(run_page, "finance", tab="Budgets")
    budgets = [d.value for d in at.dataframe if "monthly_limit" in d.value.columns]
    assert budgets and len(budgets[0]) == raw_duckdb.execute("SELECT count(*) FROM daivi_billing.budgets").fetchone()[0]


def test_budget_use_has_one_decimal_like_the_views_other_percentages(run_page):
    # "Used" read 114.58% beside 23.7% shares and a -5.2% change: one percentage format per view.
    at = open_explorer(run_page, "finance", tab="Budgets")
    table = next(d for d in at.dataframe if "monthly_limit" in d.value.columns)
    used = json.loads(table.proto.columns)["pct_used"]
    assert used["type_config"]["format"] == "%.1f%%" and used["type_config"]["max_value"] == 100
    # The bar's number is the share of the limit in percent: a budget's month-to-date cost over its limit, times 100.
    row = table.value.iloc[0]
    assert row["pct_used"] == pytest.approx(100 * row["actual"] / row["monthly_limit"])


def test_forecast_and_method_are_explained(run_page):
    at = open_explorer(run_page, "finance", range="month-to-date", tab="Forecast")
    text = page_text(at)
    assert "least squares" in text and "prediction interval" in text
    assert metric(at, "Forecast Q").startswith("$")


def test_the_demo_incidents_are_listed_with_their_drivers(run_page, small_lakehouse):
    incidents = json.loads((small_lakehouse / "manifest.json").read_text())["incidents"]
    assert incidents
    at = open_explorer(run_page, "finance", tab="Anomalies", anomaly_by="account")  # drivers: regions and usage types
    tables = [d.value for d in at.dataframe if "Impact" in d.value.columns]
    assert tables, "no anomaly table"
    anomalies = tables[0]
    for incident in incidents:
        rows = anomalies[anomalies["Account"].str.contains(incident["account_id"])]
        assert not rows.empty, incident["id"]
        assert rows["Usage types"].str.contains(incident["usage_type"], regex=False).any(), incident["id"]
        assert rows["Regions"].str.contains(incident["region"], regex=False).any(), incident["id"]
        assert (rows["Impact"] > 0).all()
    assert anomalies["Impact"].abs().is_monotonic_decreasing


# --- bad input --------------------------------------------------------------------------------

def test_range_without_data_gives_an_empty_state(run_page, data_days):
    first = data_days[0]
    at = open_explorer(run_page, "admin", range="custom", start=str(first - dt.timedelta(days=60)), end=str(first - dt.timedelta(days=31)))
    assert "No cost between" in page_text(at)
    assert not at.get("plotly_chart")


def test_future_range_is_refused(run_page, data_days):
    last = data_days[1]
    at = open_explorer(run_page, "admin", range="custom", start=str(last + dt.timedelta(days=30)), end=str(last + dt.timedelta(days=60)))
    assert "is in the future" in page_text(at)
    assert not at.get("plotly_chart")


def test_range_running_into_the_future_is_clamped_with_a_notice(run_page, data_days):
    last = data_days[1]
    at = open_explorer(run_page, "admin", range="custom", start=str(last - dt.timedelta(days=6)), end=str(last + dt.timedelta(days=10)))
    assert "showing data up to" in page_text(at)
    assert breakdown(at) is not None


def test_start_after_end_is_refused(run_page, data_days):
    last = data_days[1]
    at = open_explorer(run_page, "admin", range="custom", start=str(last - dt.timedelta(days=3)), end=str(last - dt.timedelta(days=10)))
    assert "is after the end date" in page_text(at)


def test_unknown_tag_key_gets_a_notice_and_the_default(run_page):
    at = open_explorer(run_page, "admin", group="tag:no_such_key", ftag="no_such_key")
    text = page_text(at)
    assert "Tag key 'no_such_key' (group by) does not occur" in text
    assert "the tag filter is off" in text
    assert "Service" in breakdown(at).columns


def test_a_thousand_selected_values_get_a_clear_message(run_page):
    # Through the widget: Streamlit itself drops a URL with more than 1,000 parameters.
    at = open_explorer(run_page, "admin")
    at.multiselect(key="f_usage_type").set_value([f"USE1-Fake:{i}" for i in range(1000)]).run()
    assert not at.exception
    assert "Too many values selected for Usage type: 1,000; at most 500" in page_text(at)
    assert not at.get("plotly_chart")


def test_injection_text_in_a_filter_is_plain_text(run_page, raw_duckdb, data_days):
    evil = "x'); DROP TABLE daivi_billing.cost_daily; --"
    at = open_explorer(run_page, "admin", f_service=evil)
    text = page_text(at)
    assert "No cost in this range matches filter value" in text and "No cost between" in text
    at = open_explorer(run_page, "admin", f_service=evil, m_service="exclude")
    start, end = ca.preset_range("last-30-days", data_days[1])
    assert metric(at, "Total") == format_kpi_money(expected_by(raw_duckdb, "1", start, end).sum())


def test_invalid_url_values_are_ignored_with_a_notice(run_page):
    at = open_explorer(run_page, "admin", grain="hourly", basis="blended", group="password")
    text = page_text(at)
    assert "Ignored invalid value 'hourly' for **granularity**" in text
    assert "Ignored invalid value 'blended' for **cost basis**" in text
    assert "Ignored invalid value 'password' for **group by**" in text
    assert "Service" in breakdown(at).columns


def test_a_malformed_date_in_the_url_gets_a_notice(run_page):
    at = open_explorer(run_page, "admin", range="custom", start="2026-13-45", end="yesterday")
    text = page_text(at)
    assert "Ignored invalid value '2026-13-45' for **start date (YYYY-MM-DD)**" in text
    assert "Ignored invalid value 'yesterday' for **end date (YYYY-MM-DD)**" in text
    assert breakdown(at) is not None  # the default range is used


def test_embed_mode_is_compact():
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.context["is_embedded"] = True  # what the browser reports for ?embed=true
    at.query_params["persona"] = "admin"
    at.run()
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert not at.exception
    assert not [t.value for t in at.title]
    assert "AWS cost by service" not in page_text(at)  # no intro line
    assert breakdown(at) is not None and at.get("plotly_chart")


def test_start_and_end_follow_the_preset_and_a_custom_range_starts_from_them(run_page, data_days):
    at = open_explorer(run_page, "finance")
    at.selectbox(key="range").set_value("previous-month").run()
    first, last = ca.preset_range("previous-month", data_days[1])
    assert (at.text_input(key="start_shown").value, at.text_input(key="end_shown").value) == (str(first), str(last))
    assert at.selectbox(key="range").format_func("previous-month") == "Previous month"  # the label on screen
    assert at.query_params["range"] == "previous-month"  # the key in the URL, not the label
    at.selectbox(key="range").set_value("custom").run()
    assert not at.exception
    assert (at.date_input(key="start").value, at.date_input(key="end").value) == (first, last)


def test_old_links_open_whether_they_carry_keys_or_labels(run_page):
    """Links made before labels (keys) and links copied while a label was in the URL both open the same view."""
    by_key = open_explorer(run_page, "finance", range="previous-month", group="usage_type", grain="weekly")
    by_label = open_explorer(run_page, "finance", range="Previous month", group="Usage type", grain="Weekly")
    for at in (by_key, by_label):
        assert (at.selectbox(key="range").value, at.selectbox(key="group").value) == ("previous-month", "usage_type")
        assert not [i.value for i in at.info if "Ignored invalid value" in i.value]
    assert by_label.query_params["range"] == "previous-month"  # rewritten to the key
    assert breakdown(by_key).equals(breakdown(by_label))


# --- acting on a row, budgets -------------------------------------------------------------------

def select_breakdown_row(at, row: int) -> None:
    """Select a row of the breakdown as a click on it would (AppTest has no pointer)."""
    table = next(d for d in at.dataframe if "Share" in d.value.columns)
    at.session_state[table.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_selected_row_filters_to_its_group_or_opens_it_in_the_cur(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "finance", group="account")
    first = breakdown(at).iloc[0]["Account"]
    account_id = first[-13:-1]
    select_breakdown_row(at, 0)
    links = at.get("link_button")
    assert len(links) == 1
    start, end = ca.preset_range("last-30-days", data_days[1])
    # The CUR view's drill path for that account and the range's last billing period, as the same persona.
    assert links[0].proto.url == f"./cur?period={ca.billing_period(end)}&account={account_id}&persona=finance"
    next(b for b in at.button if b.key == "filter_to_row").click().run()
    assert not at.exception
    assert at.query_params["f_account"] == account_id  # the id in the URL, the name on screen
    assert list(breakdown(at)["Account"]) == [first, "Total"]
    expected = expected_by(raw_duckdb, "c.account_id", start, end, f"c.account_id = '{account_id}'")
    assert money_metric(at, "Total") == format_money(expected.sum())


def test_others_and_total_rows_have_no_actions(run_page):
    at = open_explorer(run_page, "finance", group="usage_type", top="5")
    select_breakdown_row(at, len(breakdown(at)) - 1)
    assert not [b for b in at.button if b.key == "filter_to_row"] and not at.get("link_button")
    assert "Others and Total are not one group" in page_text(at)


def test_an_old_account_link_opens_with_the_id_in_the_url(run_page):
    at = open_explorer(run_page, "finance", f_account="payments-staging (411111111102)")
    assert at.multiselect(key="f_account").value == ["411111111102"]
    assert at.query_params["f_account"] == "411111111102"
    assert at.multiselect(key="f_account").format_func("411111111102") == "payments-staging (411111111102)"


def test_over_budget_rows_say_the_day_they_went_over(run_page, raw_duckdb, data_days):
    at = open_explorer(run_page, "finance", tab="Budgets")
    table = next(d.value for d in at.dataframe if "monthly_limit" in d.value.columns)
    assert "None" not in table.astype(str).to_string()
    as_of = data_days[1]
    budgets = raw_duckdb.execute("SELECT budget_name, scope_type, scope_value, monthly_limit FROM daivi_billing.budgets").df()
    column = {"account": "c.account_id", "ou": "a.ou", "service": "c.service_code", "total": "''"}
    checked = 0
    for budget in budgets.itertuples():
        # Independent: the first day of the month whose running unblended cost is over the limit.
        over = raw_duckdb.execute(f"""
            SELECT min(usage_date) FROM (
              SELECT usage_date, SUM(SUM(c.unblended_cost)) OVER (ORDER BY usage_date) AS running
              FROM daivi_billing.cost_daily c LEFT JOIN daivi_billing.accounts a USING (account_id)
              WHERE c.usage_date BETWEEN ? AND ? AND {column[budget.scope_type]} = ? GROUP BY usage_date)
            WHERE running > ?""", [as_of.replace(day=1), as_of, budget.scope_value or "", budget.monthly_limit]).fetchone()[0]
        row = table[table["budget_name"] == budget.budget_name].iloc[0]
        if over is None:
            assert row["over_since"] == "" and not row["status"].startswith("Over budget")
        else:
            checked += 1
            assert row["over_since"] == format_day(over), budget.budget_name
            assert row["status"].startswith(f"Over budget since {format_day(over)}")
    assert checked or table["overrun_date"].ne("").any()  # the demo's budgets are over, or projected over


@pytest.fixture
def on_eur_budget(small_lakehouse, tmp_path, monkeypatch):
    """A copy of the small lakehouse whose EC2 budget is in EUR while every cost is in USD."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    copy = tmp_path / "lh"
    shutil.copytree(small_lakehouse, copy)
    path = copy / "daivi_billing" / "budgets" / "part-00000.parquet"
    table = pq.read_table(path)
    ec2 = pc.equal(table["scope_value"], "AmazonEC2")
    table = table.set_column(table.schema.get_field_index("currency"), "currency", pc.if_else(ec2, "EUR", table["currency"]))
    pq.write_table(table, path)
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(copy))
    return table.filter(ec2)["budget_name"][0].as_py()


def test_a_budget_in_another_currency_is_not_compared_with_dollars(run_page, on_eur_budget):
    at = open_explorer(run_page, "finance", tab="Budgets")
    table = next(d.value for d in at.dataframe if "monthly_limit" in d.value.columns)
    eur = table[table["budget_name"] == on_eur_budget].iloc[0]
    assert eur["currency"] == "EUR"
    assert eur["status"] == "Not compared: the budget is in EUR, its costs are in USD"
    assert eur["actual"] == 0.0 and eur["over_since"] == "" and eur["overrun_date"] == ""
    assert set(table.loc[table["budget_name"] != on_eur_budget, "currency"]) == {"USD"}
    assert f"not compared (no exchange rate is assumed): {on_eur_budget}" in page_text(at)


def test_the_anomaly_chart_caption_names_what_it_charts(run_page):
    # "Daily cost of the largest anomaly's service" did not say which service the unlabelled chart shows.
    at = open_explorer(run_page, "finance", tab="Anomalies")
    table = next(d.value for d in at.dataframe if "Impact" in d.value.columns)
    assert f"Daily cost of {table.iloc[0]['Service']}, the largest anomaly's service" in page_text(at)
