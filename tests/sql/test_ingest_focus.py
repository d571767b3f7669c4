"""The real FOCUS 1.0 sample imports, and the app's own queries over it equal a direct computation from the CSV.

Data: "FinOps Foundation, FOCUS Sample Data" (CC BY 4.0), vendored in
tests/fixtures/focus-1.0/ with its licence — 1,000 anonymized rows from AWS, Microsoft and
Oracle with literal `NULL`s, JSON tags and 11-decimal costs. Expected values
come from pandas over the CSV, independently of the importer.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from daivi_data.data_span import line_items_per_period
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.ingest import run_import
from daivi_data.queries import billing, make_query
from daivi_data.queries import cur as q
from daivi_data.settings import PROJECT_ROOT
from tests.helpers import FIXTURES, principal

FOCUS_SAMPLE = FIXTURES / "focus-1.0" / "focus_sample.csv"
COST_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def focus_df() -> pd.DataFrame:
    if not FOCUS_SAMPLE.exists():
        pytest.fail(f"The FOCUS sample is missing at {FOCUS_SAMPLE} (vendored fixture with its licence).")
    return pd.read_csv(FOCUS_SAMPLE, na_values=["NULL"], keep_default_na=False, dtype={"SubAccountId": str, "BillingAccountId": str})


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("focus") / "lh"
    report = run_import([FOCUS_SAMPLE], out)
    return out, report


@pytest.fixture(scope="module")
def focus_engine(imported) -> DuckDBEngine:
    return DuckDBEngine(imported[0], load_policy(PROJECT_ROOT / "config" / "grants.toml"))


def no_commitment(df: pd.DataFrame) -> pd.Series:
    """Rows without a commitment discount: the Oracle rows write an empty string rather than NULL."""
    return df["CommitmentDiscountId"].fillna("") == ""


def run(engine, sql, persona="admin", **params) -> pd.DataFrame:
    return engine.run(make_query("test.focus", sql, **params), principal(persona)).df


def test_every_row_loads(imported, focus_df):
    _, report = imported
    assert report.tables["daivi_cur.cur"].rows == len(focus_df) == 1000
    assert report.rejected_count() == 0
    # The Oracle row billed in October for usage on September 30 is kept, and said so.
    assert any("another month than their own billing period" in w for w in report.warnings)


def test_totals_by_provider_and_service_equal_the_csv(focus_engine, focus_df):
    got = run(focus_engine, """
        SELECT bill_billing_entity AS provider, line_item_product_code AS service,
               SUM(line_item_unblended_cost) AS billed, SUM(pricing_public_on_demand_cost) AS list, COUNT(*) AS n
        FROM daivi_cur.cur WHERE billing_period IN ('2024-09', '2024-10') GROUP BY 1, 2""")
    expected = focus_df.groupby(["ProviderName", "ServiceName"]).agg(billed=("BilledCost", "sum"), list=("ListCost", "sum"),
                                                                     n=("BilledCost", "size"))
    got = got.set_index(["provider", "service"]).sort_index()
    assert list(got.index) == list(expected.index)
    assert sorted(got.index.get_level_values(0).unique()) == ["AWS", "Microsoft", "Oracle"]
    for key, row in expected.iterrows():
        assert got.loc[key, "billed"] == pytest.approx(row["billed"], abs=COST_TOLERANCE), key
        assert got.loc[key, "list"] == pytest.approx(row["list"], abs=COST_TOLERANCE), key
        assert got.loc[key, "n"] == row["n"]


def test_cost_explorer_service_totals_equal_the_csv(focus_engine, focus_df):
    """Through the Cost Explorer's own query over the derived billing lakehouse."""
    scope = billing.CostScope(dt.date(2024, 9, 1), dt.date(2024, 9, 30), "unblended")
    df = focus_engine.run(billing.group_totals(scope, billing.Dimension("service"), None, dt.date(2024, 8, 1), dt.date(2024, 8, 31)),
                          principal("finance")).df
    got = df.set_index("group1")["cost"].sort_index()
    expected = focus_df.groupby("ServiceName")["BilledCost"].sum().sort_index()
    assert list(got.index) == list(expected.index)
    for service, cost in expected.items():
        assert got[service] == pytest.approx(cost, abs=COST_TOLERANCE), service


def test_cur_view_account_level_equals_the_csv(focus_engine, focus_df):
    df = focus_engine.run(q.drill_level(q.DrillPath("2024-09"), "unblended"), principal("finance")).df
    in_sept = focus_df[focus_df["BillingPeriodStart"].str.startswith("2024-09")]
    expected = in_sept.groupby("SubAccountId")["BilledCost"].sum()
    got = df.set_index(df.columns[0])["unblended_cost"]
    assert got.sum() == pytest.approx(expected.sum(), abs=COST_TOLERANCE)
    assert len(got) == len(expected)


def test_effective_cost_becomes_the_amortized_basis_of_commitment_rows(focus_engine, focus_df):
    got = run(focus_engine, f"""
        SELECT line_item_line_item_type AS t, COUNT(*) AS n, SUM({q.AMORTIZED_COST_SQL}) AS amortized, SUM(line_item_unblended_cost) AS billed
        FROM daivi_cur.cur WHERE billing_period IN ('2024-09', '2024-10') GROUP BY 1""").set_index("t")
    sp = focus_df[focus_df["CommitmentDiscountType"] == "Savings Plan"]
    assert got.loc["SavingsPlanCoveredUsage", "n"] == len(sp) == 4
    assert got.loc["SavingsPlanCoveredUsage", "amortized"] == pytest.approx(sp["EffectiveCost"].sum(), abs=COST_TOLERANCE)
    # ChargeCategory -> line item type: Credit stays Credit, the positive Oracle adjustments become fees.
    assert got.loc["Credit", "n"] == (focus_df["ChargeCategory"] == "Credit").sum()
    assert got.loc["Fee", "n"] == (focus_df["ChargeCategory"] == "Adjustment").sum()
    assert got.loc["Usage", "n"] == ((focus_df["ChargeCategory"] == "Usage") & no_commitment(focus_df)).sum()


@pytest.mark.parametrize("period", ["2024-09", "2024-10"])
def test_amortized_cost_is_the_files_effective_cost_in_every_period(focus_engine, focus_df, period):
    """FOCUS EffectiveCost is the amortized basis of every row, with or without a commitment (14.98, not BilledCost's 20.28)."""
    in_period = focus_df[focus_df["BillingPeriodStart"].str.startswith(period)]
    expected, billed = in_period["EffectiveCost"].sum(), in_period["BilledCost"].sum()
    cur_side = focus_engine.run(q.period_summary(period, "USD"), principal("finance")).df.iloc[0]
    assert cur_side["amortized_cost"] == pytest.approx(expected, abs=COST_TOLERANCE)
    assert cur_side["unblended_cost"] == pytest.approx(billed, abs=COST_TOLERANCE)
    # The billing lakehouse is derived with the same formula: Cost Explorer's amortized basis agrees.
    billing_side = run(focus_engine, "SELECT SUM(amortized_cost) AS amortized FROM daivi_billing.cost_daily "
                                     "WHERE billing_period = :period", persona="finance", period=period)["amortized"][0]
    assert billing_side == pytest.approx(expected, abs=COST_TOLERANCE)
    if period == "2024-09":  # the rows without a commitment whose EffectiveCost differs from BilledCost are most of them
        assert round(expected, 2) == 14.98 and round(billed, 2) == 20.28


def test_the_screen_names_effective_cost_as_the_amortized_source_of_a_focus_import(focus_engine):
    families = q.export_families(focus_engine.manifest)
    assert families == {"FOCUS"}
    assert "Amortized (effective): EffectiveCost ·" in q.cost_basis_sources(families)


def test_null_strings_and_json_tags(focus_engine, focus_df):
    nulls = run(focus_engine, "SELECT COUNT(*) AS n FROM daivi_cur.cur WHERE billing_period IN ('2024-09', '2024-10') "
                              "AND line_item_resource_id IS NULL")["n"][0]
    assert nulls == focus_df["ResourceId"].isna().sum() + (focus_df["ResourceId"] == "").sum()
    tagged = run(focus_engine, "SELECT COUNT(*) AS n FROM daivi_cur.cur WHERE billing_period IN ('2024-09', '2024-10') "
                               "AND element_at(resource_tags, 'user_environment') = 'dev'")["n"][0]
    expected = sum(1 for t in focus_df["Tags"].dropna() if t and json.loads(t).get("environment") == "dev")
    assert tagged == expected > 0
    # Keys AWS would refuse as column names are sanitized; a key that collides after that keeps its first value.
    azure = run(focus_engine, "SELECT resource_tags FROM daivi_cur.cur WHERE billing_period = '2024-09' "
                              "AND element_at(resource_tags, 'user_CostAllocationTest') = 'Sameer' LIMIT 1")["resource_tags"][0]
    tags = dict(azure)
    assert tags["user_org"] == "trey" and tags["user_CostCenter"] == "1234"


@pytest.mark.parametrize("period", ["2024-09", "2024-10"])
def test_the_invoice_reconciles_to_the_cent_with_the_cross_period_row(focus_engine, period):
    """The Oracle row billed in October for a September day: both sides keep it in October's invoice."""
    from daivi_data import cur_analysis as ca

    admin = principal("finance")
    by_type = focus_engine.run(q.invoice_by_line_item_type(period), admin).df
    billing_side = focus_engine.run(q.billing_by_record_type(period), admin).df
    total = ca.reconcile_with_billing(by_type, billing_side).set_index("line_item_type").loc[ca.TOTAL_STEP]
    assert total["cur_unblended"] != 0
    assert abs(total["unblended_difference"]) < 0.005
    assert abs(total["amortized_difference"]) < 0.005


def test_the_late_row_shows_on_its_usage_day_in_cost_explorer(focus_engine, focus_df):
    late = focus_df[focus_df["BillingPeriodStart"].str.startswith("2024-10")]
    assert len(late) == 1 and late["ChargePeriodStart"].iloc[0].startswith("2024-09")
    day = dt.date.fromisoformat(late["ChargePeriodStart"].iloc[0][:10])
    scope = billing.CostScope(day, day, "unblended")
    df = focus_engine.run(billing.group_totals(scope, billing.Dimension("account"), None, day - dt.timedelta(days=1),
                                               day - dt.timedelta(days=1)), principal("finance")).df
    on_day = focus_df[focus_df["ChargePeriodStart"].str.startswith(day.isoformat())]
    assert df["cost"].sum() == pytest.approx(on_day["BilledCost"].sum(), abs=COST_TOLERANCE)


def test_the_default_cur_period_is_the_bulk_not_the_one_row_straggler(focus_engine):
    totals = focus_engine.run(q.period_totals(*q.period_span_to_list("2026-12", "2024-10", 2)), principal("finance")).df
    assert line_items_per_period(totals) == {"2024-09": 999, "2024-10": 1}
    assert q.default_period(line_items_per_period(totals)) == "2024-09"
