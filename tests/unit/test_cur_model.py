"""The CUR page model without Streamlit: which period a URL opens, what a drill level shows and charts,
and the tab results (invoice, reconciliation, commitments, expiries, chargeback, data transfer) from hand-made frames."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from daivi_data import cur_analysis as ca
from daivi_data.engines import TableInfo
from daivi_data.errors import DataUnavailable, InvalidRequest
from daivi_data.models import cur as model
from daivi_data.queries import cur as q


def period_totals(rows: list[tuple[str, str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["billing_period", "currency", "unblended_cost", "line_items"])


def period_line_items(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["billing_period", "line_items"])


SPAN = ("2026-12", 24)
PERIODS = model.periods(period_line_items([
    ("2026-09", 1000), ("2026-10", 1110),
    ("2026-11", 3),  # a straggler: listed, not opened by default
    ("2026-12", 0),  # no line items: not listed at all
]), SPAN)


def test_periods_list_newest_first_and_open_the_bulk_of_the_data():
    assert PERIODS.available == ("2026-11", "2026-10", "2026-09")
    assert PERIODS.default == "2026-10"
    assert PERIODS.line_items == {"2026-09": 1000, "2026-10": 1110, "2026-11": 3}


def test_the_currency_and_the_period_chart_read_their_own_queries():
    """The period list reads no cost: the chosen period's totals per currency and the chart's totals are their own queries."""
    assert model.currency_totals("2026-10").param_dict == {"first_period": "2026-10", "last_period": "2026-10"}
    assert model.period_trend_query(PERIODS).param_dict == {"first_period": "2025-01", "last_period": "2026-12"}
    one = period_totals([("2026-10", "USD", 120.0, 1100), ("2026-10", "EUR", 5.0, 10), ("2026-10", "JPY", 0.0, 0)])
    assert model.totals_per_currency(one) == {"USD": 120.0, "EUR": 5.0}
    every = period_totals([("2026-09", "USD", 100.0, 1000), ("2026-10", "USD", 120.0, 1100), ("2026-10", "EUR", 5.0, 10),
                           ("2026-11", "EUR", 0.0, 0)])
    assert model.period_trend(every, "EUR")["billing_period"].tolist() == ["2026-10"]
    assert model.period_trend(every, "USD")["unblended_cost"].tolist() == [100.0, 120.0]


@pytest.mark.parametrize("url, expected", [
    (None, model.PeriodChoice("2026-10")),
    ("", model.PeriodChoice("2026-10")),
    ("2026-09", model.PeriodChoice("2026-09")),
    ("2026-13", model.PeriodChoice("2026-10", invalid_url_value=True)),
    ("'; DROP TABLE cur; --", model.PeriodChoice("2026-10", invalid_url_value=True)),
    ("1999-01", model.PeriodChoice(None, missing=True)),
])
def test_the_url_period_is_opened_only_when_it_is_a_month_with_data(url, expected):
    assert model.choose_period(PERIODS, url) == expected


def test_no_periods_means_no_default():
    empty = model.periods(period_line_items([]), SPAN)
    assert empty.available == () and empty.default is None


class Engine:
    def __init__(self, info=None, error=None):
        self.info, self.error = info, error

    def table_info(self, database, table):
        if self.error:
            raise self.error
        return self.info


def test_the_period_overview_reaches_back_to_the_oldest_partition_and_the_url_period():
    info = TableInfo("daivi_cur", "cur", partitions=30, latest_partition="2026-11")
    span = model.period_span(Engine(info), dt.date(2026, 11, 20), None)
    query = q.period_line_items(*span)
    assert query.param_dict["last_period"] == "2026-11" and query.param_dict["first_period"] == "2024-06"
    asked = q.period_line_items(*model.period_span(Engine(info), dt.date(2026, 11, 20), "2019-02"))
    assert asked.param_dict["first_period"] == "2019-02"


def test_an_engine_without_metadata_anchors_the_overview_on_this_month():
    for engine in (Engine(error=DataUnavailable("no glue")), object()):
        assert model.period_span(engine, dt.date(2026, 11, 20), None) == ("2026-11", q.PERIODS_LOOKBACK)


@pytest.mark.parametrize("values, message", [
    (("2026-1", "unblended", "USD"), "is not a month"),
    (("2026-10", "blended", "USD"), "Cost basis"),
    (("2026-10", "unblended", "usd"), "ISO 4217"),
])
def test_a_request_refuses_what_the_url_could_carry(values, message):
    with pytest.raises(InvalidRequest, match=message):
        model.CurRequest(*values)


def test_the_drill_path_comes_from_url_values_below_the_period():
    request = model.CurRequest("2026-10", "amortized", "EUR")
    assert request.cost_column == "amortized_cost"
    path = request.drill_path({"account": "411111111101", "service": "AmazonEC2"})
    assert (path.period, path.account, path.service, path.currency, path.level) == ("2026-10", "411111111101", "AmazonEC2", "EUR", "usage")
    with pytest.raises(InvalidRequest, match="only be chosen after the account"):
        request.drill_path({"service": "AmazonEC2"})
    crumbs = model.breadcrumb(path, lambda code: f"name of {code}")
    assert crumbs == [("All accounts · 2026-10", "account"), ("Account 411111111101", "service"), ("name of AmazonEC2", "usage")]


def level_rows(**costs) -> pd.DataFrame:
    df = pd.DataFrame({"service": ["A", "B", "C"], "line_items": [1, 2, 3], "total_rows": 1234})
    for column in q.COST_COLUMNS.values():
        df[column] = costs.get(column, [0.0, 0.0, 0.0])
    return df


def test_a_drill_level_is_ordered_by_its_basis_which_comes_first_in_the_table():
    level = model.drill_level(level_rows(unblended_cost=[1.0, 3.0, 2.0], amortized_cost=[5.0, 1.0, 0.0],
                                         public_cost=[6.0, 4.0, 2.0]), "service", "amortized")
    assert level.rows["service"].tolist() == ["A", "B", "C"]
    assert level.total_rows == 1234 and level.chart_column == "amortized_cost"
    assert level.table_columns[:3] == ("service_name", "service", "amortized_cost")
    assert level.rows["savings"].tolist() == [1.0, 3.0, 2.0]


def test_a_level_free_on_its_basis_charts_what_it_effectively_cost_or_nothing():
    covered = model.drill_level(level_rows(amortized_cost=[0.0, 2.0, 0.0], public_cost=[1.0, 3.0, 0.0]), "service", "unblended")
    assert covered.chart_column == "amortized_cost"
    credited = model.drill_level(level_rows(unblended_cost=[-1.0, 0.0, 0.0], amortized_cost=[-1.0, 0.0, 0.0],
                                            public_cost=[-1.0, 0.0, 0.0]), "service", "unblended")
    assert credited.chart_column is None


def test_line_items_keep_their_columns_and_drop_ids_only_when_the_export_has_none():
    items = pd.DataFrame({"line_item_id": [None, None], "unblended_cost": [1.0, 2.0], "total_rows": 2})
    level = model.drill_level(items, "line_item", "unblended")
    assert list(level.rows.columns) == ["line_item_id", "unblended_cost"] and level.total_rows == 2
    assert list(model.line_items_shown(level.rows).columns) == ["unblended_cost"]


def test_the_child_path_takes_the_chosen_row():
    path = q.DrillPath("2026-10", account="411111111101", service="AmazonEC2")
    child = model.child_path(path, "usage", pd.Series({"usage_type": "BoxUsage:m5.large", "operation": ""}))
    assert (child.usage_type, child.operation, child.level) == ("BoxUsage:m5.large", "", "resource")


def by_type(rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"line_item_type": list(rows), "unblended_cost": list(rows.values()),
                         "amortized_cost": list(rows.values()), "net_cost": list(rows.values()),
                         "public_cost": list(rows.values()), "line_items": 1})


def test_the_invoice_table_follows_the_waterfall_and_reconciles():
    cur = by_type({"Tax": 10.0, "Usage": 100.0, "Credit": -5.0, "RIFee": 20.0})
    invoice = model.invoice(cur)
    assert invoice.table["step"].tolist() == ["Usage", "RI/SP fees", "Credits", "Tax"]
    assert invoice.steps.iloc[-1]["amount"] == pytest.approx(125.0)
    billing = pd.DataFrame({"record_type": ["Usage", "Tax", "Credit", "RIFee"], "unblended_cost": [100.0, 10.0, -5.0, 20.0],
                            "amortized_cost": [100.0, 10.0, -5.0, 20.0], "net_cost": [100.0, 10.0, -5.0, 20.0]})
    agreed = model.reconciliation(cur, billing)
    assert agreed.agrees and not agreed.billing_empty and agreed.cur_unblended == pytest.approx(125.0)
    differing = model.reconciliation(cur, billing.assign(unblended_cost=billing["unblended_cost"] + [0.0, 0.0, 0.0, 1.004]))
    assert not differing.agrees and differing.unblended_difference == -1.0
    empty = model.reconciliation(cur, billing.iloc[0:0])
    assert empty.billing_empty and empty.unblended_difference == 125.0


def test_commitments_compute_ratios_from_summed_components():
    daily = pd.DataFrame({
        "billing_period": ["2026-09", "2026-10", "2026-10"],
        "usage_date": pd.to_datetime(["2026-09-30", "2026-10-01", "2026-10-02"]),
        "ri_covered_od_cost": [10.0, 30.0, 0.0], "sp_covered_od_cost": [0.0, 10.0, 20.0],
        "on_demand_od_cost": [10.0, 20.0, 20.0], "on_demand_cost": [9.0, 18.0, 18.0]})
    utilization = pd.DataFrame({
        "billing_period": ["2026-10", "2026-10", "2026-09"], "commitment_type": ["RI", "SP", "SP"],
        "account_id": ["1", "1", "1"], "account_name": [None, "a", "a"], "family": ["m5", "Compute", "Compute"],
        "total_commitment": [100.0, 50.0, 50.0], "unused_commitment": [25.0, 0.0, 10.0]})
    breakdown = pd.DataFrame({
        "account_id": ["1", "2"], "account_name": ["a", None], "service": ["AmazonEC2", "AmazonEC2"], "instance_family": ["m5", "c5"],
        "ri_covered_od_cost": [30.0, 0.0], "sp_covered_od_cost": [30.0, 0.0], "on_demand_od_cost": [0.0, 40.0],
        "on_demand_cost": [0.0, 36.0]})
    result = model.commitments("2026-10", daily, utilization, breakdown)
    assert result.first_period == "2026-08"
    assert result.coverage["coverage"] == pytest.approx(60 / 100)  # (30+0 + 10+20) / (60 + 40), not a mean of days
    assert result.coverage["ri_coverage"] == pytest.approx(0.3) and result.coverage["on_demand_cost"] == 36.0
    assert result.utilization == {"RI": 0.75, "SP": 1.0}
    assert result.trend.set_index("billing_period").loc["2026-09", "SP_utilization"] == pytest.approx(0.8)
    assert np.isnan(result.trend.set_index("billing_period").loc["2026-09", "RI_utilization"])
    assert result.by_account["account_id"].tolist() == ["1", "2"] and result.by_account["account_name"].tolist() == ["a", ""]
    assert result.uncovered[["account_id", "on_demand_cost"]].values.tolist() == [["2", 36.0]]
    assert set(result.utilization_table["commitment_type"]) == {"RI", "SP"}


def test_commitments_of_a_period_without_eligible_usage():
    empty = pd.DataFrame(columns=["billing_period", "usage_date", *ca.COVERAGE_COMPONENTS])
    utilization = pd.DataFrame(columns=["billing_period", "commitment_type", "account_id", "account_name", "family",
                                        *ca.UTILIZATION_COMPONENTS])
    breakdown = pd.DataFrame(columns=["account_id", "account_name", "service", "instance_family", *ca.COVERAGE_COMPONENTS])
    result = model.commitments("2026-10", empty, utilization, breakdown)
    assert result.coverage == {} and result.utilization == {} and result.uncovered.empty and result.daily.empty


def test_expiring_commitments_fall_into_30_day_buckets():
    df = pd.DataFrame({"arn": ["a", "b", "c", "d"], "end_date": ["2026-11-21", "2026-12-30", "2027-01-25", "2027-02-17"],
                       "monthly_cost": [1.0, 2.0, 4.0, 8.0]})
    result = model.expiring(df, dt.date(2026, 11, 20))
    assert result.counts == {"≤ 30 days": 1, "31–60 days": 1, "61–90 days": 2}
    assert result.monthly_cost == {"≤ 30 days": 1.0, "31–60 days": 2.0, "61–90 days": 12.0}
    assert model.expiring(df.iloc[0:0], dt.date(2026, 11, 20)).counts == dict.fromkeys(model.EXPIRY_BUCKETS, 0)


def test_the_chargeback_adds_up_to_the_period_total_with_shared_costs_apart_or_spread():
    by_tag = pd.DataFrame({"tag_value": ["web", "db", "", None, ""], "shared_cost": ["", "", "", "", "Tax"],
                           "unblended_cost": [60.0, 20.0, 15.0, 5.0, 10.0]})
    apart = model.allocation(by_tag, "unblended_cost", ca.SHARED_APART)
    assert apart.period_total == pytest.approx(110.0) and apart.shared_total == 10.0
    assert apart.table["total"].sum() == pytest.approx(110.0) and apart.values == 2
    assert apart.untagged_share == pytest.approx(0.2)
    spread = model.allocation(by_tag, "unblended_cost", ca.SHARED_PROPORTIONAL)
    assert spread.table["total"].sum() == pytest.approx(110.0) and "Shared: Tax" not in set(spread.table["tag_value"])


def test_default_tag_key_prefers_the_team():
    assert model.default_tag_key(["user_cost_center", "user_team"]) == "user_team"
    assert model.default_tag_key(["user_cost_center"]) == "user_cost_center"


def test_data_transfer_lists_every_category_and_the_inter_region_routes():
    df = pd.DataFrame({"category": ["Inter-region", "Inter-region", "Internet egress"], "service": ["S3", "EC2", "EC2"],
                       "account": ["a (1)", "a (1)", "b (2)"], "from_region": ["us-east-1", "us-east-1", "eu-west-1"],
                       "to_region": ["eu-west-1", "eu-west-1", "(internet or same region)"],
                       "unblended_cost": [1.0, 2.0, 4.0], "usage_gb": [10.0, 20.0, 40.0]})
    result = model.transfer(df)
    assert result.by_category == {"Inter-region": 3.0, "Internet egress": 4.0, "Inter-AZ": 0.0, "Other transfer": 0.0}
    assert result.routes.values.tolist() == [["us-east-1", "eu-west-1", 3.0, 30.0]]
    assert result.by_service.set_index("service")["total"].to_dict() == {"EC2": 6.0, "S3": 1.0}
    assert result.by_account["account"].tolist() == ["b (2)", "a (1)"]


def test_the_top_resources_csv_writes_the_trend_as_amounts():
    assert model.top_resources_export(pd.DataFrame({"trend": [[1.0, 2.345]]}))["trend"].tolist() == ["1.00 2.35"]


def test_rows_may_be_hidden_when_the_cur_grant_filters_rows():
    filtered = SimpleNamespace(grant_for=lambda db, table: SimpleNamespace(row_filter="line_item_usage_account_id = '1'"))
    whole = SimpleNamespace(grant_for=lambda db, table: SimpleNamespace(row_filter=""))
    assert model.rows_may_be_hidden(filtered) and not model.rows_may_be_hidden(whole)
