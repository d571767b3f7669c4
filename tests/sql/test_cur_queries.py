"""CUR view queries on the small lakehouse, checked against independent SQL over the raw Parquet files.

The expected values come from `raw_duckdb` (plain DuckDB over the files, no
governance, no transpiling), from the billing lakehouse (which the generator
computes separately), or from the pandas reference in `cur_analysis` applied to
raw line items.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
import sqlglot

from daivi_data import cur_analysis as ca
from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.queries import Query
from daivi_data.queries import cur as q
from tests.helpers import PAYMENTS_ACCOUNT_IDS, demo_end_date, principal

MONEY = {"rel": 1e-9, "abs": 1e-6}
PAYMENTS = ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS)


@pytest.fixture(scope="module")
def periods(raw_duckdb) -> list[str]:
    rows = raw_duckdb.execute("SELECT DISTINCT CAST(billing_period AS VARCHAR) FROM daivi_cur.cur ORDER BY 1").fetchall()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def period(periods) -> str:
    """The last complete month of the lakehouse (the current one if it has only one)."""
    return periods[-2] if len(periods) > 1 else periods[-1]


def run(engine, query: Query, persona: str = "admin") -> pd.DataFrame:
    return engine.run(query, principal(persona)).df


def raw(raw_duckdb, sql: str, params: list | None = None) -> pd.DataFrame:
    return raw_duckdb.execute(sql, params or []).df()


# --- shape of the SQL ---------------------------------------------------------------------------

def every_query(period: str) -> list[Query]:
    today = demo_end_date()
    deep = q.DrillPath(period, account="411111111101", service="AmazonEC2", usage_type="USE1-BoxUsage:m5.large",
                       operation="RunInstances", resource="i-0abc")
    levels = [q.DrillPath(period), q.DrillPath(period, account="411111111101"),
              q.DrillPath(period, account="411111111101", service="AmazonEC2"),
              q.DrillPath(period, account="411111111101", service="AmazonEC2", usage_type="X")]
    first = q.shift_period(period, -5)
    return [
        q.period_line_items(period),
        q.period_totals(period),
        q.period_summary(period),
        *(q.drill_level(p, basis) for p in levels for basis in q.COST_BASES),
        q.line_items(deep),
        q.line_items(q.DrillPath(period, account="411111111101", service="AmazonEC2", usage_type="X", resource=q.NO_RESOURCE)),
        q.invoice_by_line_item_type(period),
        q.billing_by_record_type(period),
        q.coverage_by_day(first, period),
        q.coverage_by_account_family(period),
        q.commitment_utilization(first, period),
        q.commitments_expiring(period, today),
        q.tag_keys(period),
        q.cost_by_tag(period, "user_team"),
        *(q.top_resources(period, basis) for basis in q.COST_BASES),
        q.data_transfer(period),
    ]


def test_period_parameters_are_billing_periods():
    # The bound billing_period predicate of every query is checked by tests/sql/test_query_contract.py.
    for query in every_query("2026-01"):
        for name, value in query.params:
            if "period" in name:
                assert q.PERIOD_RE.match(value), (query.name, name, value)


def test_user_choices_never_reach_the_sql_text():
    nasty = "x' OR '1'='1"
    path = q.DrillPath("2026-01", account="411111111101", service=nasty, usage_type=nasty, operation=nasty, resource=nasty)
    for query in (q.drill_level(path.up_to("resource")), q.line_items(path)):
        assert nasty not in query.sql and "OR '1'" not in query.sql
        assert nasty in query.param_dict.values()
    # A tag key stands in the SELECT list (no binding there): outside AWS's tag-key alphabet it is refused.
    with pytest.raises(InvalidRequest):
        q.cost_by_tag("2026-01", nasty)


def test_unknown_cost_basis_and_top_n_are_refused():
    with pytest.raises(InvalidRequest, match="Cost basis 'blended; DROP'"):
        q.drill_level(q.DrillPath("2026-01"), "blended; DROP")
    with pytest.raises(InvalidRequest, match="top resources"):
        q.top_resources("2026-01", "unblended", 7)


# --- numbers vs independent SQL ----------------------------------------------------------------

def test_period_totals_equal_independent_sums(engine, raw_duckdb, periods):
    actual = run(engine, q.period_totals(periods[-1])).set_index("billing_period")
    expected = raw(raw_duckdb, """
        SELECT CAST(billing_period AS VARCHAR) AS p, SUM(line_item_unblended_cost) AS u, SUM(line_item_net_unblended_cost) AS n,
               SUM(pricing_public_on_demand_cost) AS pub, COUNT(*) AS c, COUNT(DISTINCT line_item_usage_account_id) AS a
        FROM daivi_cur.cur GROUP BY 1""").set_index("p")
    assert sorted(actual.index) == sorted(expected.index) == periods
    for p in periods:
        assert actual.loc[p, "unblended_cost"] == pytest.approx(expected.loc[p, "u"], **MONEY)
        assert actual.loc[p, "line_items"] == expected.loc[p, "c"]
        summary = run(engine, q.period_summary(p)).iloc[0]
        assert summary["unblended_cost"] == pytest.approx(expected.loc[p, "u"], **MONEY)
        assert summary["net_cost"] == pytest.approx(expected.loc[p, "n"], **MONEY)
        assert summary["accounts"] == expected.loc[p, "a"]
        assert summary["line_items"] == expected.loc[p, "c"]


@pytest.mark.parametrize("persona, accounts", [("admin", None), ("teamlead", PAYMENTS)])
def test_period_line_items_are_the_period_totals_counts_without_reading_costs(engine, raw_duckdb, periods, persona, accounts):
    """The period list's query counts what `period_totals` counts, per role (the team lead's row filter included),
    and lists no period without line items."""
    last, months = periods[-1], len(periods) + 2
    counts = run(engine, q.period_line_items(last, months), persona)
    totals = run(engine, q.period_totals(last, months), persona).groupby("billing_period")["line_items"].sum()
    where = f"WHERE line_item_usage_account_id IN ({accounts})" if accounts else ""
    expected = raw(raw_duckdb, f"SELECT CAST(billing_period AS VARCHAR) AS p, COUNT(*) AS c FROM daivi_cur.cur {where} GROUP BY 1 ORDER BY 1")
    assert counts["billing_period"].tolist() == expected["p"].tolist() == sorted(totals.index)
    assert counts["line_items"].tolist() == expected["c"].tolist() == totals.tolist()
    assert set(counts.columns) == {"billing_period", "line_items"}
    assert "cost" not in q.period_line_items(last, months).sql


def test_period_totals_count_line_items_without_a_currency_as_usd():
    """Grouped by the stored currency before COALESCE: currency-less line items still join the USD row."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA daivi_cur")
    con.execute("""CREATE TABLE daivi_cur.cur AS SELECT * FROM (VALUES
        ('2026-01', 'USD', 10.0), ('2026-01', NULL, -4.0), ('2026-01', 'EUR', 7.0), ('2026-01', NULL, NULL),
        ('2026-02', NULL, 2.5), ('2026-03', 'EUR', 100.0))
        AS t (billing_period, line_item_currency_code, line_item_unblended_cost)""")
    query = q.period_totals("2026-02", 2)
    df = con.execute(sqlglot.transpile(query.sql, read="athena", write="duckdb")[0], query.param_dict).df()
    expected = con.execute("""SELECT billing_period, coalesce(line_item_currency_code, 'USD') AS currency,
        SUM(coalesce(line_item_unblended_cost, 0)) AS unblended_cost, COUNT(*) AS line_items FROM daivi_cur.cur
        WHERE billing_period BETWEEN '2026-01' AND '2026-02' GROUP BY 1, 2 ORDER BY 1, 2""").df()
    pd.testing.assert_frame_equal(df, expected)
    assert list(zip(df["billing_period"], df["currency"], df["line_items"], strict=True)) == [
        ("2026-01", "EUR", 1), ("2026-01", "USD", 3), ("2026-02", "USD", 1)]


def test_cur_reconciles_with_the_billing_lakehouse(engine, raw_duckdb, period):
    """The billing lakehouse is generated separately; unblended and amortized totals agree per line item type."""
    cur = run(engine, q.invoice_by_line_item_type(period))
    billing = run(engine, q.billing_by_record_type(period))
    rec = ca.reconcile_with_billing(cur, billing).set_index("line_item_type")
    assert rec.loc["Total", "cur_unblended"] == pytest.approx(
        raw(raw_duckdb, "SELECT SUM(unblended_cost) AS s FROM daivi_billing.cost_daily WHERE billing_period = ?", [period])["s"][0], **MONEY)
    assert abs(rec.loc["Total", "unblended_difference"]) < ca.RECONCILE_TOLERANCE_USD
    assert abs(rec.loc["Total", "amortized_difference"]) < ca.RECONCILE_TOLERANCE_USD
    assert (rec["unblended_difference"].abs() < ca.RECONCILE_TOLERANCE_USD).all()


def test_waterfall_sums_to_the_period_total(engine, raw_duckdb, period):
    steps = ca.invoice_waterfall(run(engine, q.invoice_by_line_item_type(period)))
    total = raw(raw_duckdb, "SELECT SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur WHERE billing_period = ?", [period])["s"][0]
    assert steps.loc[steps["measure"] == "relative", "amount"].sum() == pytest.approx(total, rel=1e-9, abs=0.01)
    assert steps.loc[steps["measure"] == "total", "amount"].iloc[0] == pytest.approx(total, **MONEY)
    assert {"Usage", "Tax", "Credits", "SP negation", "RI/SP fees"} <= set(steps["step"])
    with_net = ca.invoice_waterfall(run(engine, q.invoice_by_line_item_type(period)), "unblended_cost", net_column="net_cost")
    net = raw(raw_duckdb, "SELECT SUM(line_item_net_unblended_cost) AS s FROM daivi_cur.cur WHERE billing_period = ?", [period])["s"][0]
    assert with_net.set_index("step").loc[ca.NET_TOTAL_STEP, "amount"] == pytest.approx(net, **MONEY)
    assert with_net.loc[with_net["step"] == ca.NET_DISCOUNT_STEP, "amount"].iloc[0] == pytest.approx(net - total, **MONEY)


def test_drill_levels_equal_independent_group_by(engine, raw_duckdb, period):
    accounts = run(engine, q.drill_level(q.DrillPath(period))).set_index("account_id")
    expected = raw(raw_duckdb, """SELECT line_item_usage_account_id AS a, SUM(line_item_unblended_cost) AS s
                                  FROM daivi_cur.cur WHERE billing_period = ? GROUP BY 1""", [period]).set_index("a")["s"]
    assert sorted(accounts.index) == sorted(expected.index)
    for a in expected.index:
        assert accounts.loc[a, "unblended_cost"] == pytest.approx(expected[a], **MONEY)

    account = accounts["unblended_cost"].idxmax()
    services = run(engine, q.drill_level(q.DrillPath(period, account=account), "amortized"))
    assert services["unblended_cost"].sum() == pytest.approx(expected[account], **MONEY)
    assert services["amortized_cost"].is_monotonic_decreasing  # ordered by the chosen basis
    service = services.iloc[0]["service"]
    usage = run(engine, q.drill_level(q.DrillPath(period, account=account, service=service)))
    exp_usage = raw(raw_duckdb, """SELECT line_item_usage_type AS u, COALESCE(line_item_operation, '') AS o,
                                          SUM(line_item_unblended_cost) AS s, COUNT(*) AS c
                                   FROM daivi_cur.cur WHERE billing_period = ? AND line_item_usage_account_id = ?
                                     AND line_item_product_code = ? GROUP BY 1, 2""", [period, account, service])
    merged = usage.merge(exp_usage, left_on=["usage_type", "operation"], right_on=["u", "o"], how="outer")
    assert len(merged) == len(exp_usage) == len(usage)
    assert (merged["line_items"] == merged["c"]).all()
    assert merged["unblended_cost"].to_numpy() == pytest.approx(merged["s"].to_numpy(), **MONEY)

    top = usage.sort_values("unblended_cost", ascending=False).iloc[0]
    path = q.DrillPath(period, account=account, service=service, usage_type=top["usage_type"], operation=top["operation"])
    resources = run(engine, q.drill_level(path))
    assert resources["line_items"].sum() == top["line_items"]
    resource = resources.iloc[0]["resource_id"]
    items = run(engine, q.line_items(path.down(resource=resource)))
    assert len(items) == min(resources.iloc[0]["line_items"], q.MAX_LINE_ITEMS)
    assert items["unblended_cost"].sum() == pytest.approx(resources.iloc[0]["unblended_cost"], **MONEY) or len(items) == q.MAX_LINE_ITEMS


def test_amortized_and_public_bases_per_line_item_follow_cur_semantics(engine, raw_duckdb, period):
    """Per line item type, the amortized cost equals the CUR column that carries it (independent CASE-free SQL)."""
    by_type = run(engine, q.invoice_by_line_item_type(period)).set_index("line_item_type")
    expected = raw(raw_duckdb, """
        SELECT line_item_line_item_type AS t,
               SUM(savings_plan_savings_plan_effective_cost) AS sp_eff, SUM(reservation_effective_cost) AS ri_eff,
               SUM(reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee) AS ri_unused,
               SUM(savings_plan_total_commitment_to_date - savings_plan_used_commitment) AS sp_unused,
               SUM(line_item_unblended_cost) AS u, SUM(pricing_public_on_demand_cost) AS pub
        FROM daivi_cur.cur WHERE billing_period = ? GROUP BY 1""", [period]).set_index("t")
    assert by_type.loc["SavingsPlanCoveredUsage", "amortized_cost"] == pytest.approx(expected.loc["SavingsPlanCoveredUsage", "sp_eff"], **MONEY)
    assert by_type.loc["DiscountedUsage", "amortized_cost"] == pytest.approx(expected.loc["DiscountedUsage", "ri_eff"], **MONEY)
    assert by_type.loc["RIFee", "amortized_cost"] == pytest.approx(expected.loc["RIFee", "ri_unused"], **MONEY)
    assert by_type.loc["SavingsPlanRecurringFee", "amortized_cost"] == pytest.approx(expected.loc["SavingsPlanRecurringFee", "sp_unused"], **MONEY)
    assert by_type.loc["SavingsPlanNegation", "amortized_cost"] == 0.0
    assert by_type.loc["Usage", "public_cost"] == pytest.approx(expected.loc["Usage", "pub"], **MONEY)
    assert by_type.loc["Tax", "amortized_cost"] == pytest.approx(expected.loc["Tax", "u"], **MONEY)


RAW_LINE_ITEM_COLUMNS = """billing_period, line_item_usage_account_id, line_item_line_item_type, line_item_product_code,
    line_item_usage_type, product_instance_type, pricing_term, pricing_public_on_demand_cost, line_item_unblended_cost,
    reservation_amortized_upfront_fee_for_billing_period, reservation_unused_amortized_upfront_fee_for_billing_period,
    reservation_unused_recurring_fee, savings_plan_total_commitment_to_date, savings_plan_used_commitment"""


@pytest.fixture(scope="module")
def raw_items(raw_duckdb, period) -> pd.DataFrame:
    return raw(raw_duckdb, f"SELECT {RAW_LINE_ITEM_COLUMNS} FROM daivi_cur.cur WHERE billing_period = ?", [period])


def test_coverage_sql_equals_the_pandas_reference_on_raw_line_items(engine, raw_items, period):
    expected = ca.coverage_components(raw_items)
    by_account = run(engine, q.coverage_by_account_family(period))
    daily = run(engine, q.coverage_by_day(period, period))
    for component in ca.COVERAGE_COMPONENTS:
        assert by_account[component].sum() == pytest.approx(expected[component], **MONEY), component
        assert daily[component].sum() == pytest.approx(expected[component], **MONEY), component
    assert expected["ri_covered_od_cost"] > 0 and expected["sp_covered_od_cost"] > 0 and expected["on_demand_od_cost"] > 0
    one = raw_items[raw_items["line_item_usage_account_id"] == by_account.iloc[0]["account_id"]]
    per_account = ca.coverage_by(by_account, ["account_id"]).set_index("account_id").loc[by_account.iloc[0]["account_id"]]
    reference = ca.with_coverage(ca.coverage_components(one).to_frame().T).iloc[0]
    assert per_account["coverage"] == pytest.approx(reference["coverage"], rel=1e-9)


def test_utilization_sql_equals_the_pandas_reference_on_raw_line_items(engine, raw_items, period):
    expected = ca.with_utilization(ca.utilization_components(raw_items)).set_index("commitment_type")
    actual = ca.utilization_by(run(engine, q.commitment_utilization(period, period)), ["commitment_type"]).set_index("commitment_type")
    for kind in ("RI", "SP"):
        assert actual.loc[kind, "total_commitment"] == pytest.approx(expected.loc[kind, "total_commitment"], **MONEY)
        assert actual.loc[kind, "utilization"] == pytest.approx(expected.loc[kind, "utilization"], rel=1e-9)
        assert 0 < actual.loc[kind, "utilization"] <= 1


def test_expiring_commitments_equal_independent_sql(engine, raw_duckdb, periods):
    today = demo_end_date()
    latest = periods[-1]
    actual = run(engine, q.commitments_expiring(latest, today, 90))
    expected = raw(raw_duckdb, """
        SELECT DISTINCT arn FROM (
          SELECT reservation_reservation_a_r_n AS arn, reservation_end_time AS e FROM daivi_cur.cur
          WHERE billing_period = ? AND line_item_line_item_type = 'RIFee'
          UNION ALL
          SELECT savings_plan_savings_plan_a_r_n, savings_plan_end_time FROM daivi_cur.cur
          WHERE billing_period = ? AND line_item_line_item_type = 'SavingsPlanRecurringFee')
        WHERE e <> '' AND CAST(substr(e, 1, 10) AS DATE) BETWEEN ? AND ?""", [latest, latest, today, today + dt.timedelta(days=90)])
    assert sorted(actual["arn"]) == sorted(expected["arn"])
    buckets = ca.with_expiry_buckets(actual, today)
    assert buckets["days_left"].between(0, 90).all()


def test_tag_keys_are_listed_from_the_data(engine, raw_duckdb, period):
    actual = run(engine, q.tag_keys(period))["tag_key"].tolist()
    expected = raw(raw_duckdb, "SELECT DISTINCT unnest(map_keys(resource_tags)) AS k FROM daivi_cur.cur WHERE billing_period = ? ORDER BY 1",
                   [period])["k"].tolist()
    assert actual == expected
    assert {"user_team", "user_environment", "user_cost_center", "user_application"} <= set(actual)


@pytest.mark.parametrize("tag_key", ["user_team", "user_cost_center"])
def test_chargeback_sums_to_the_period_total_and_untagged_equals_independent_sql(engine, raw_duckdb, period, tag_key):
    by_tag = run(engine, q.cost_by_tag(period, tag_key))
    total = raw(raw_duckdb, "SELECT SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur WHERE billing_period = ?", [period])["s"][0]
    for shared in (ca.SHARED_APART, ca.SHARED_PROPORTIONAL):
        assert ca.chargeback(by_tag, "unblended_cost", shared)["total"].sum() == pytest.approx(total, rel=1e-9, abs=1e-4)
    table = ca.chargeback(by_tag, "unblended_cost").set_index("tag_value")
    untagged = raw(raw_duckdb, f"""
        SELECT SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur
        WHERE billing_period = ? AND resource_tags['{tag_key}'] IS NULL
          AND line_item_line_item_type <> 'Tax' AND line_item_product_code NOT LIKE 'AWSSupport%'""", [period])["s"][0]
    assert table.loc[ca.UNTAGGED, "total"] == pytest.approx(untagged, rel=1e-9, abs=1e-4)
    tax = raw(raw_duckdb, "SELECT SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur WHERE billing_period = ? AND line_item_line_item_type = 'Tax'",
              [period])["s"][0]
    assert table.loc["Shared: Tax", "total"] == pytest.approx(tax, **MONEY)
    assert "Shared: Support" in table.index


@pytest.mark.parametrize("persona", ["finance", "teamlead"])
def test_cost_by_tag_on_each_basis_sums_to_that_basis_of_the_period(engine, period, persona):
    """The allocation query computes the chosen basis only; each still adds up to the period's total on it."""
    summary = run(engine, q.period_summary(period), persona).iloc[0]
    for basis, column in q.COST_COLUMNS.items():
        by_tag = run(engine, q.cost_by_tag(period, "user_team", basis=basis), persona)
        assert [c for c in by_tag.columns if c.endswith("_cost") and c != "shared_cost"] == [column]
        assert by_tag[column].sum() == pytest.approx(summary[column], **MONEY), basis


def test_coverage_by_account_family_equals_a_per_line_item_grouping(engine, raw_items, period):
    """Grouping per instance type first (the family's regular expression once per type) changes no sum."""
    by_family = run(engine, q.coverage_by_account_family(period)).set_index(["account_id", "service", "instance_family"])
    items = raw_items[ca.eligible_on_demand_mask(raw_items) | raw_items["line_item_line_item_type"].isin(
        ["DiscountedUsage", "SavingsPlanCoveredUsage"])]
    family = items["product_instance_type"].fillna("").str.replace(r"[.]search$", "", regex=True).str.split(".").map(
        lambda parts: parts[-2] if len(parts) >= 2 and parts[-2] else "(no instance type)")
    for (account, service, fam), group in items.groupby([items["line_item_usage_account_id"], items["line_item_product_code"], family]):
        expected = ca.coverage_components(group)
        for component in ca.COVERAGE_COMPONENTS:
            assert by_family.loc[(account, service, fam), component] == pytest.approx(expected[component], **MONEY)
    assert len(by_family) == items.groupby([items["line_item_usage_account_id"], items["line_item_product_code"], family]).ngroups


def test_a_tag_key_with_spaces_is_bound_and_finds_nothing_tagged(engine, period):
    by_tag = run(engine, q.cost_by_tag(period, "user team"))
    assert set(by_tag["tag_value"]) == {""}


def test_top_resources_equal_independent_ranking(engine, raw_duckdb, period):
    daily = run(engine, q.top_resources(period, "unblended", 10))
    table = ca.top_resources_table(daily)
    expected = raw(raw_duckdb, """
        SELECT line_item_resource_id AS r, SUM(line_item_unblended_cost) AS s FROM daivi_cur.cur
        WHERE billing_period = ? AND line_item_resource_id <> '' GROUP BY 1 ORDER BY s DESC, r LIMIT 10""", [period])
    assert table["resource_id"].tolist() == expected["r"].tolist()
    assert table["cost"].to_numpy() == pytest.approx(expected["s"].to_numpy(), **MONEY)
    assert all(abs(sum(t) - c) < 1e-3 for t, c in zip(table["trend"], table["cost"], strict=True))


def test_data_transfer_categories_equal_independent_sql(engine, raw_duckdb, period):
    df = run(engine, q.data_transfer(period))
    by_category = df.groupby("category")["unblended_cost"].sum()
    expected = raw(raw_duckdb, """
        SELECT SUM(CASE WHEN product_transfer_type = 'IntraRegion' THEN line_item_unblended_cost END) AS inter_az,
               SUM(CASE WHEN product_transfer_type = 'InterRegion Outbound' THEN line_item_unblended_cost END) AS inter_region,
               SUM(CASE WHEN product_transfer_type IN ('AWS Outbound', 'CloudFront Outbound') THEN line_item_unblended_cost END) AS egress
        FROM daivi_cur.cur WHERE billing_period = ?
          AND line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')""", [period]).iloc[0]
    assert by_category["Inter-AZ"] == pytest.approx(expected["inter_az"], **MONEY)
    assert by_category["Inter-region"] == pytest.approx(expected["inter_region"], **MONEY)
    assert by_category["Internet egress"] == pytest.approx(expected["egress"], **MONEY)


# --- personas and bad input --------------------------------------------------------------------

def test_teamlead_sees_exactly_the_payments_accounts(engine, raw_duckdb, period):
    accounts = run(engine, q.drill_level(q.DrillPath(period)), "teamlead").set_index("account_id")
    expected = raw(raw_duckdb, f"""SELECT line_item_usage_account_id AS a, SUM(line_item_unblended_cost) AS s,
                                         SUM(pricing_public_on_demand_cost) AS p
                                  FROM daivi_cur.cur WHERE billing_period = ? AND line_item_usage_account_id IN ({PAYMENTS})
                                  GROUP BY 1""", [period]).set_index("a")
    assert sorted(accounts.index) == sorted(expected.index) and set(accounts.index) <= set(PAYMENTS_ACCOUNT_IDS)
    for a in expected.index:
        assert accounts.loc[a, "unblended_cost"] == pytest.approx(expected.loc[a, "s"], **MONEY)
    totals = run(engine, q.period_totals(period), "teamlead").set_index("billing_period")
    assert totals.loc[period, "unblended_cost"] == pytest.approx(expected["s"].sum(), **MONEY)
    summary = run(engine, q.period_summary(period), "teamlead").iloc[0]
    assert summary["accounts"] == len(expected) and summary["public_cost"] > 0
    chargeback = ca.chargeback(run(engine, q.cost_by_tag(period, "user_team"), "teamlead"))
    assert chargeback["total"].sum() == pytest.approx(expected["s"].sum(), rel=1e-9, abs=1e-4)
    top = run(engine, q.top_resources(period, "unblended", 25), "teamlead")
    assert set(top["account_id"]) <= set(PAYMENTS_ACCOUNT_IDS)


def test_teamlead_drilling_into_another_account_gets_nothing(engine, raw_duckdb, period):
    other = raw(raw_duckdb, f"""SELECT line_item_usage_account_id AS a FROM daivi_cur.cur
                               WHERE billing_period = ? AND line_item_usage_account_id NOT IN ({PAYMENTS}) LIMIT 1""", [period])["a"][0]
    assert run(engine, q.drill_level(q.DrillPath(period, account=other)), "admin").shape[0] > 0
    assert run(engine, q.drill_level(q.DrillPath(period, account=other)), "teamlead").empty


def test_ops_may_not_read_the_cur(engine, period):
    with pytest.raises(AccessDenied, match="daivi_cur.cur"):
        run(engine, q.period_totals(period), "ops")


@pytest.mark.parametrize("resource", ["i-'; DROP TABLE cur; --", "bucket-ü-日本-\"quoted\"", "arn:aws:s3:::a/b?c=d&e"])
def test_resource_ids_with_quotes_or_unicode_run_and_find_nothing(engine, period, resource):
    path = q.DrillPath(period, account="411111111101", service="AmazonS3", usage_type="X", resource=resource)
    assert run(engine, q.line_items(path)).empty


def test_a_period_without_data_returns_no_rows(engine):
    assert run(engine, q.drill_level(q.DrillPath("1999-01"))).empty
    assert run(engine, q.invoice_by_line_item_type("1999-01")).empty
