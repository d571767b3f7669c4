"""The CUR drill-down page through AppTest: numbers on screen equal independent SQL per persona,
drilling by the table's companion selectbox and back by the breadcrumb keeps the state in the URL,
ops has no CUR, and every kind of bad input gets a clear message."""

from __future__ import annotations

import json
import urllib.parse

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from daivi_data import cur_analysis as ca
from daivi_data.models import cur as model
from daivi_data.settings import PROJECT_ROOT
from daivi_ui.components import format_money
from daivi_ui.format import date_range as format_date_range
from daivi_ui.vocabulary import service_name
from tests.app.conftest import APP_TIMEOUT_S, as_read, money_metric, page_text
from tests.helpers import PAYMENTS_ACCOUNT_IDS

PAGE = "cur.py"
PAYMENTS = ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS)
MONEY_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def latest_period(raw_duckdb) -> str:
    return raw_duckdb.execute("SELECT MAX(CAST(billing_period AS VARCHAR)) FROM daivi_cur.cur").fetchone()[0]


@pytest.fixture(scope="module")
def previous_period(raw_duckdb, latest_period) -> str:
    row = raw_duckdb.execute("SELECT MAX(CAST(billing_period AS VARCHAR)) FROM daivi_cur.cur WHERE billing_period < ?",
                             [latest_period]).fetchone()
    return row[0] or latest_period


def open_cur(run_page, persona: str = "admin", **params) -> AppTest:
    at = run_page(persona, PAGE, **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert tables, f"no table with a {column!r} column: {[list(d.value.columns) for d in at.dataframe]}"
    return tables[0]


def drill_choice(at: AppTest):
    boxes = [s for s in at.selectbox if s.label.startswith("Drill into")]
    assert boxes, "no drill selectbox on the page"
    return boxes[0]


def accounts_sql(raw, period: str, restrict: str = "TRUE") -> pd.Series:
    return raw.execute(f"""SELECT line_item_usage_account_id AS a, SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur
                          WHERE billing_period = ? AND {restrict} GROUP BY 1""", [period]).df().set_index("a")["s"]


@pytest.mark.parametrize("persona, restrict", [("admin", "TRUE"), ("finance", "TRUE"),
                                               ("teamlead", f"line_item_usage_account_id IN ({PAYMENTS})")])
def test_period_total_and_accounts_equal_independent_sql(run_page, raw_duckdb, latest_period, persona, restrict):
    at = open_cur(run_page, persona)
    expected = accounts_sql(raw_duckdb, latest_period, restrict)
    assert money_metric(at, "Unblended") == format_money(expected.sum())
    table = table_with(at, "account_id").set_index("account_id")
    assert sorted(table.index) == sorted(expected.index)
    for account, cost in expected.items():
        assert table.loc[account, "unblended_cost"] == pytest.approx(cost, abs=MONEY_TOLERANCE)
    if persona == "teamlead":
        assert table.index.size and set(table.index) <= set(PAYMENTS_ACCOUNT_IDS)


def test_drill_down_three_levels_and_back_by_the_breadcrumb(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "finance", period=previous_period)
    account = table_with(at, "account_id").iloc[0]["account_id"]  # sorted by cost: the largest
    box = drill_choice(at)
    box.select(next(o for o in box.options if o.endswith(f"({account})"))).run()
    assert at.query_params.get("account") == account and at.query_params.get("period") == previous_period

    services = table_with(at, "service")
    expected = raw_duckdb.execute("""SELECT line_item_product_code AS s, SUM(line_item_unblended_cost) AS c FROM daivi_cur.cur
                                     WHERE billing_period = ? AND line_item_usage_account_id = ? GROUP BY 1""",
                                  [previous_period, account]).df().set_index("s")["c"]
    assert sorted(services["service"]) == sorted(expected.index)
    service = services.iloc[0]["service"]
    assert services.iloc[0]["unblended_cost"] == pytest.approx(expected.max(), abs=MONEY_TOLERANCE)
    # One vocabulary: the service's name on screen (as in Cost Explorer), its product code in the URL.
    assert services.iloc[0]["service_name"] == service_name(service)
    assert "Amazon Elastic Compute Cloud" in set(services["service_name"]) or "AmazonEC2" not in set(services["service"])
    drill_choice(at).select(service_name(service)).run()
    assert at.query_params.get("service") == service

    usage = table_with(at, "usage_type")
    first = usage.iloc[0]
    label = first["usage_type"] + (f" / {first['operation']}" if first["operation"] else "")
    drill_choice(at).select(label).run()
    assert at.query_params.get("usage_type") == first["usage_type"]
    resources = table_with(at, "resource_id")
    assert resources["line_items"].sum() == first["line_items"]
    if "inventory" in resources.columns:
        linked = resources.dropna(subset=["inventory"])
        # The link keeps the demo persona: a new tab must not become the admin.
        assert all(urllib.parse.parse_qs(urllib.parse.urlparse(link).query) == {"resource": [r], "persona": ["finance"]}
                   and link.startswith("./inventory?") for r, link in zip(linked["resource_id"], linked["inventory"], strict=True))

    crumbs = {b.key: b for b in at.button if b.key and b.key.startswith("crumb_")}
    assert set(crumbs) == {"crumb_account", "crumb_service", "crumb_usage", "crumb_resource"}
    crumbs["crumb_service"].click().run()
    assert at.query_params.get("account") == account and "service" not in at.query_params
    assert sorted(table_with(at, "service")["service"]) == sorted(expected.index)
    next(b for b in at.button if b.key == "crumb_account").click().run()
    assert "account" not in at.query_params
    assert "account_id" in table_with(at, "account_id").columns


def test_line_items_at_the_end_of_the_path(run_page, raw_duckdb, previous_period):
    row = raw_duckdb.execute("""
        SELECT line_item_usage_account_id, line_item_product_code, line_item_usage_type, line_item_operation, line_item_resource_id,
               COUNT(*) AS n, SUM(line_item_unblended_cost) AS s
        FROM daivi_cur.cur WHERE billing_period = ? AND line_item_resource_id <> '' GROUP BY ALL ORDER BY s DESC LIMIT 1""",
                             [previous_period]).fetchone()
    account, service, usage_type, operation, resource, n, cost = row
    at = open_cur(run_page, "admin", period=previous_period, account=account, service=service, usage_type=usage_type,
                  operation=operation, resource=resource)
    items = table_with(at, "line_item_type")
    assert len(items) == n
    assert money_metric(at, "Unblended (these line items)") == format_money(cost)
    links = [e for e in at.get("link_button")]
    assert [e.proto.url for e in links] == [ca.inventory_link(resource)]


def test_invoice_reconciles_with_the_billing_lakehouse(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "finance", period=previous_period, tab="Invoice")
    billing = raw_duckdb.execute("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE billing_period = ?",
                                 [previous_period]).fetchone()[0]
    assert money_metric(at, "Billing lakehouse unblended") == format_money(billing)
    assert money_metric(at, "Difference (CUR − billing)") == "$0.00"
    assert any("agree" in as_read(s.value) for s in at.success)
    rec = table_with(at, "unblended_difference")
    assert rec["unblended_difference"].abs().max() < ca.RECONCILE_TOLERANCE_USD


def shown_text(at: AppTest, column: str) -> pd.DataFrame:
    """The cell text of the table with `column` as the browser gets it (a Styler's text where the table has one)."""
    import pyarrow as pa

    element = next(d for d in at.dataframe if column in d.value.columns)
    display = element.proto.arrow_data.styler.display_values
    assert display, f"the table with {column!r} carries no cell text of its own"
    return pa.ipc.open_stream(display).read_pandas()


def test_negative_amounts_read_with_a_minus_sign_and_stay_numbers(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "finance", period=previous_period, tab="Invoice")
    table = table_with(at, "line_item_type")
    credits = table[table["unblended_cost"] < 0]
    assert not credits.empty, "the small lakehouse has credits"
    text = shown_text(at, "line_item_type").set_index("line_item_type")
    for _, row in credits.iterrows():
        assert text.loc[row["line_item_type"], "unblended_cost"] == format_money(row["unblended_cost"])
        assert text.loc[row["line_item_type"], "unblended_cost"].startswith("−$")
    assert table["unblended_cost"].dtype.kind == "f"  # the column still sorts as numbers


def test_commitments_tab_shows_coverage_utilization_and_expiries(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "finance", period=previous_period, tab="Commitments")
    items = raw_duckdb.execute("""
        SELECT line_item_line_item_type, line_item_product_code, line_item_usage_type, product_instance_type, pricing_term,
               pricing_public_on_demand_cost, line_item_unblended_cost,
               reservation_amortized_upfront_fee_for_billing_period, reservation_unused_amortized_upfront_fee_for_billing_period,
               reservation_unused_recurring_fee, savings_plan_total_commitment_to_date, savings_plan_used_commitment
        FROM daivi_cur.cur WHERE billing_period = ?""", [previous_period]).df()
    coverage = ca.with_coverage(ca.coverage_components(items).to_frame().T).iloc[0]
    utilization = ca.with_utilization(ca.utilization_components(items)).set_index("commitment_type")["utilization"]
    assert metric(at, "Coverage (RI + SP)") == f"{coverage['coverage']:.1%}"
    assert metric(at, "RI coverage") == f"{coverage['ri_coverage']:.1%}"
    assert metric(at, "SP utilization") == f"{utilization['SP']:.1%}"
    assert metric(at, "RI utilization") == f"{utilization['RI']:.1%}"
    assert money_metric(at, "Eligible on-demand") == format_money(coverage["on_demand_cost"])
    assert [m.label for m in at.metric if m.label.startswith("Expiring in")] == [
        "Expiring in ≤ 30 days", "Expiring in 31–60 days", "Expiring in 61–90 days"]


@pytest.mark.parametrize("persona, restrict", [("finance", "TRUE"), ("teamlead", f"line_item_usage_account_id IN ({PAYMENTS})")])
def test_chargeback_table_sums_to_the_period_total(run_page, raw_duckdb, previous_period, persona, restrict):
    at = open_cur(run_page, persona, period=previous_period, tab="Allocation", tag_key="user_cost_center")
    total = raw_duckdb.execute(f"SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur WHERE billing_period = ? AND {restrict}",
                               [previous_period]).fetchone()[0]
    table = table_with(at, "tag_value")
    assert table["total"].sum() == pytest.approx(total, abs=1e-4)
    assert ca.UNTAGGED in set(table["tag_value"]) and "Shared: Tax" in set(table["tag_value"])
    assert f"Chargeback total {format_money(total)} = period total {format_money(total)}." in page_text(at)


def test_top_resources_link_to_the_inventory(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "admin", period=previous_period, tab="Top resources", top="10")
    table = table_with(at, "inventory")
    expected = raw_duckdb.execute("""SELECT line_item_resource_id FROM daivi_cur.cur WHERE billing_period = ? AND line_item_resource_id <> ''
                                     GROUP BY 1 ORDER BY SUM(line_item_unblended_cost) DESC, 1 LIMIT 10""", [previous_period]).df()
    assert table["resource_id"].tolist() == expected["line_item_resource_id"].tolist()
    assert table["inventory"].tolist() == [ca.inventory_link(r) for r in expected["line_item_resource_id"]]


def test_data_transfer_tab(run_page, raw_duckdb, previous_period):
    at = open_cur(run_page, "finance", period=previous_period, tab="Data transfer")
    inter_az = raw_duckdb.execute("""SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur WHERE billing_period = ?
                                     AND product_transfer_type = 'IntraRegion' AND line_item_line_item_type = 'Usage'""",
                                  [previous_period]).fetchone()[0]
    assert money_metric(at, "Inter-AZ") == format_money(inter_az)
    assert "service" in table_with(at, "Internet egress").columns


def test_embed_mode_is_compact():
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = "finance"
    at.context["is_embedded"] = True  # what the browser reports for ?embed=true
    at.run()
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert not at.exception
    assert not at.title and "Unblended" not in [m.label for m in at.metric]
    assert table_with(at, "account_id") is not None


# --- ops, and bad input -------------------------------------------------------------------------

def test_ops_reaching_the_page_directly_is_told_there_is_no_access():
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = "ops"
    at.run()
    assert not at.exception
    direct = AppTest.from_file(str(PROJECT_ROOT / "views" / "cur.py"), default_timeout=APP_TIMEOUT_S)
    direct.query_params["persona"] = "ops"
    direct.run()
    assert not direct.exception
    text = page_text(direct)
    assert "may not read the billing CUR lakehouse" in text
    assert not direct.dataframe and not direct.metric


def test_ops_navigation_lists_no_cur_view():
    from daivi_data.governance import load_policy
    from daivi_data.settings import load_settings
    from daivi_ui.navigation import views_for

    settings = load_settings()
    ops = load_policy(settings.grants_file).for_role("ops-engineer")
    finance = load_policy(settings.grants_file).for_role("finance-analyst")
    assert "cur" not in [v.url_path for v in views_for(ops)]
    assert "cur" in [v.url_path for v in views_for(finance)]


def test_a_period_without_cur_data_says_so(run_page):
    at = open_cur(run_page, "finance", period="1999-01")
    warnings = [as_read(w.value) for w in at.warning]
    assert any("No CUR line items for billing period **1999-01**" in w for w in warnings), warnings
    assert not at.dataframe


def test_a_malformed_period_is_ignored_with_a_notice(run_page, latest_period):
    at = open_cur(run_page, "finance", period="2026-13")
    assert any("Ignored invalid value '2026-13' for **billing period**" in as_read(i.value) for i in at.info)
    assert at.selectbox(key="period_choice").value == latest_period


@pytest.mark.parametrize("resource", ["i-'; DROP TABLE cur; --", "bucket-ü-日本-\"q\""])
def test_a_resource_id_with_quotes_or_unicode_finds_nothing_and_says_so(run_page, previous_period, resource):
    at = open_cur(run_page, "admin", period=previous_period, account="411111111101", service="AmazonS3", usage_type="X",
                  resource=resource)
    warnings = [as_read(w.value) for w in at.warning]
    assert any("No CUR line items" in w and resource in w for w in warnings), warnings


@pytest.mark.parametrize("params, message", [
    ({"account": "4111"}, "is not a 12-digit AWS account id"),
    ({"service": "AmazonEC2"}, "A service can only be chosen after the account"),
    ({"account": "411111111101", "service": "AmazonEC2", "resource": "i-1"}, "A resource can only be chosen after the usage type"),
])
def test_malformed_drill_paths_get_a_message_and_a_way_back(run_page, params, message):
    at = open_cur(run_page, "finance", **params)
    errors = [as_read(e.value) for e in at.error]
    assert any(message in e for e in errors), errors
    back = next(b for b in at.button if b.key == "drill_reset")
    back.click().run()
    assert "account_id" in table_with(at, "account_id").columns


def test_teamlead_drilling_into_another_teams_account_gets_a_clear_message(run_page, raw_duckdb, latest_period):
    other = raw_duckdb.execute(f"""SELECT line_item_usage_account_id FROM daivi_cur.cur WHERE billing_period = ?
                                   AND line_item_usage_account_id NOT IN ({PAYMENTS}) LIMIT 1""", [latest_period]).fetchone()[0]
    at = open_cur(run_page, "teamlead", account=other)
    warnings = [as_read(w.value) for w in at.warning]
    assert any(other in w and "that your role (`" in w and "others may see" in w for w in warnings), warnings
    assert not any(other in str(d.value.to_csv()) for d in at.dataframe)


def test_a_tag_key_that_does_not_exist_or_has_spaces_is_ignored_with_a_notice(run_page, previous_period):
    at = open_cur(run_page, "finance", period=previous_period, tab="Allocation", tag_key="user team")
    assert any("Ignored invalid value 'user team' for **tag key**" in as_read(i.value) for i in at.info)
    assert at.selectbox(key="tag_key").value == "user_team"


def test_an_unknown_cost_basis_is_ignored_with_a_notice(run_page):
    at = open_cur(run_page, "finance", basis="blended")
    assert any("Ignored invalid value 'blended' for **cost basis**" in as_read(i.value) for i in at.info)
    assert at.selectbox(key="basis").value == "unblended"


@pytest.mark.parametrize("basis", ["amortized", "net", "public"])
def test_each_cost_basis_orders_the_level_by_itself(run_page, basis):
    at = open_cur(run_page, "finance", basis=basis)
    table = table_with(at, "account_id")
    column = {"amortized": "amortized_cost", "net": "net_cost", "public": "public_cost"}[basis]
    assert table.columns[2] == column and table[column].is_monotonic_decreasing


def test_a_level_that_costs_nothing_unblended_charts_its_amortized_cost(run_page, raw_duckdb, previous_period):
    """RI-covered usage is $0 unblended: the chart must not be empty, it shows the effective cost."""
    row = raw_duckdb.execute("""
        SELECT line_item_usage_account_id, line_item_product_code, line_item_usage_type, line_item_operation
        FROM daivi_cur.cur WHERE billing_period = ?
        GROUP BY ALL HAVING SUM(line_item_unblended_cost) = 0 AND SUM(reservation_effective_cost) > 0 LIMIT 1""",
                             [previous_period]).fetchone()
    assert row, "the small lakehouse has RI-covered usage"
    account, service, usage_type, operation = row
    at = open_cur(run_page, "admin", period=previous_period, account=account, service=service, usage_type=usage_type,
                  operation=operation)
    assert any("the chart shows the amortized cost" in as_read(c.value) for c in at.caption)
    assert (table_with(at, "resource_id")["amortized_cost"] > 0).any()


@pytest.mark.parametrize("params, label", [({"tab": "Secrets"}, "tab"), ({"chart": "Pie"}, "chart"),
                                           ({"tab": "Allocation", "shared": "hide"}, "shared costs"),
                                           ({"tab": "Top resources", "top": "7"}, "number of top resources")])
def test_other_invalid_url_values_are_ignored_with_a_notice(run_page, params, label):
    at = open_cur(run_page, "finance", **params)
    assert any(f"for **{label}** in the URL" in as_read(i.value) for i in at.info), [as_read(i.value) for i in at.info]


def test_top_resources_show_a_7_day_change_only_when_the_period_has_two_weeks(run_page, raw_duckdb, latest_period, previous_period):
    # The open month had "None" in every row of "7-day change": under 14 days there is no week before to compare with.
    days = raw_duckdb.execute("SELECT COUNT(DISTINCT CAST(line_item_usage_start_date AS DATE)) FROM daivi_cur.cur WHERE billing_period = ?",
                              [latest_period]).fetchone()[0]
    assert days < 14, "the small lakehouse's open month should be under two weeks old"
    for period, shown in ((latest_period, False), (previous_period, True)):
        at = open_cur(run_page, "finance", period=period, tab="Top resources")
        table = next(d for d in at.dataframe if "inventory" in d.value.columns)
        assert ("week_change" in table.proto.column_order) is shown, period
        assert ("No 7-day change" in page_text(at)) is not shown, period
    assert table.value["week_change"].notna().any()


def test_the_coverage_trend_title_says_its_days_and_time_zone(run_page, raw_duckdb, latest_period):
    # The title read "2026-10-01 to 2026-12-05": no time zone, and not how the rest of the app writes a range.
    at = open_cur(run_page, "finance", period=latest_period, tab="Commitments")
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    title = next(t for t in titles if t.startswith("Coverage of eligible usage per day"))
    first, last = raw_duckdb.execute("""SELECT MIN(CAST(line_item_usage_start_date AS DATE)), MAX(CAST(line_item_usage_start_date AS DATE))
                                        FROM daivi_cur.cur WHERE billing_period BETWEEN ? AND ?""",
                                     [model.commitment_span(latest_period)[0], latest_period]).fetchone()
    assert title == f"Coverage of eligible usage per day, {format_date_range(first, last)}"
    assert title.endswith("(UTC)")


def test_inter_region_gigabytes_have_two_decimals(run_page, previous_period):
    # The routes table wrote "588.4232" GB.
    at = open_cur(run_page, "finance", period=previous_period, tab="Data transfer")
    routes = next(d for d in at.dataframe if "usage_gb" in d.value.columns)
    gigabytes = json.loads(routes.proto.columns)["usage_gb"]
    assert gigabytes["label"] == "Usage (GB)" and gigabytes["type_config"]["format"] == "%.2f"
