"""Cost Explorer's page model on small frames with known answers: no Streamlit, no engine."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data import cost_analysis as ca
from daivi_data.errors import InvalidRequest
from daivi_data.models import cost_explorer as model
from daivi_data.queries.billing import CostFilter, Dimension
from daivi_ui import format as fmt

AS_OF = dt.date(2026, 11, 24)
ACCOUNTS = {"111111111111": "prod (111111111111)", "222222222222": "dev (222222222222)"}


def request(**changes) -> model.CostRequest:
    values = {"start": dt.date(2026, 10, 26), "end": AS_OF, "as_of": AS_OF, "group": Dimension("service")} | changes
    return model.CostRequest(**values)


def totals(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group1", "cost", "previous"])


# --- request ------------------------------------------------------------------------------------

def test_account_keys_read_ids_and_old_name_id_links():
    assert model.account_keys(["111111111111", "dev (222222222222)", " DEV (222222222222) ", "nope"], ACCOUNTS) == [
        "111111111111", "222222222222", "222222222222", "nope"]


def test_dimension_labels_list_tag_keys_after_the_plain_dimensions():
    labels = model.dimension_labels(["team"])
    assert list(labels)[:2] == ["service", "account"] and labels["tag:team"] == "Tag: team"
    with pytest.raises(InvalidRequest):
        model.dimension_labels(["bad'key"])


def test_embed_summary_says_range_grouping_and_basis():
    text = model.embed_summary("last-7-days", "tag:team", "amortized", AS_OF, fmt.date_range)
    assert text.startswith("Last 7 days, ") and "Nov 18" in text and "by Tag: team · amortized cost" in text
    assert model.embed_summary("custom", "password", "unblended", AS_OF, fmt.date_range) == "Custom range · by service · unblended cost"


def test_make_filter_is_none_without_values_and_refuses_too_many():
    assert model.make_filter(Dimension("region"), [], "include") is None
    assert model.make_filter(Dimension("region"), ["us-east-1"], "exclude").exclude
    with pytest.raises(InvalidRequest, match="at most 500"):
        model.make_filter(Dimension("region"), [str(i) for i in range(501)], "include")


def test_unknown_filter_values_are_the_ones_without_cost_in_the_range():
    filters = (CostFilter(Dimension("region"), ("us-east-1", "mars-1")),)
    assert model.unknown_filter_values(filters, {"region": ["us-east-1"]}) == [("Region", "mars-1")]


def test_second_level_is_none_for_none_or_the_same_dimension():
    assert model.second_level("service", "none") is None
    assert model.second_level("service", "service") is None
    assert model.second_level("service", "region") == Dimension("region")


# --- groups and breakdown -------------------------------------------------------------------------

def test_group_totals_keep_the_top_n_and_sum_the_rest_as_others():
    groups = model.group_totals(totals([("a", 5.0, 1.0), ("b", 3.0, 1.0), ("c", 1.0, 2.0), ("d", 0.5, 0.0)]), 2, False)
    assert groups.keep == ["a", "b"] and groups.order1 == ["a", "b", ca.OTHERS] and groups.others_count == 2
    assert (groups.total, groups.previous_total) == (9.5, 4.0) and groups.change == pytest.approx(5.5 / 4.0)
    assert not groups.empty
    assert model.group_totals(totals([("a", 0.0, 3.0)]), 2, False).empty
    assert model.group_totals(totals([]), 2, False).empty


def test_breakdown_rows_equal_the_chart_and_say_what_they_are():
    frame = totals([("111111111111", 5.0, 1.0), ("222222222222", 3.0, 1.0), ("333333333333", 1.0, 2.0)])
    groups = model.group_totals(frame, 2, False)
    result = model.breakdown(frame, groups, Dimension("account"), None, ACCOUNTS, {})
    assert list(result.table["Account"]) == ["prod (111111111111)", "dev (222222222222)", ca.OTHERS, "Total"]
    assert result.kinds == ["group", "group", "others", "total"]
    assert result.keys[0] == ("111111111111", None)
    assert result.table["Cost"].iloc[-1] == pytest.approx(result.table["Cost"].iloc[:-1].sum())


def test_two_level_breakdown_sums_pairs_outside_the_top_n_as_others():
    frame = pd.DataFrame([("EC2", "us-east-1", 5.0, 1.0), ("EC2", "eu-west-1", 2.0, 1.0), ("S3", "us-east-1", 1.0, 0.0)],
                         columns=["group1", "group2", "cost", "previous"])
    groups = model.group_totals(frame, 1, True)
    result = model.breakdown(frame, groups, Dimension("service"), Dimension("region"), {}, {})
    assert list(result.table.columns[:2]) == ["Service", "Region"]
    assert result.kinds == ["group", "others", "others", "total"]
    assert result.keys[0] == ("EC2", "us-east-1")
    assert result.table["Cost"].iloc[-1] == pytest.approx(8.0)


def test_breakdown_csv_rounds_to_the_cent_keeps_the_total_and_names_others():
    frame = totals([("a", 1.004, 0.0), ("b", 1.004, 0.0), ("c", 1.004, 0.0), ("d", 0.001, 0.0)])
    result = model.breakdown(frame, model.group_totals(frame, 2, False), Dimension("service"), None, {}, {})
    out = model.breakdown_csv(result, "Service", 2, 2, fmt.round_money_columns)
    assert list(out["Row"]) == ["group", "group", "others", "total"]
    assert out["Service"].iloc[2] == "(the 2 other service values beyond the top 2)"
    assert out["Cost"].iloc[:-1].sum() == pytest.approx(out["Cost"].iloc[-1])
    assert all(round(c, 2) == c for c in out["Cost"])


def test_a_group_row_filters_to_itself_and_opens_in_the_cur_when_it_names_an_account():
    frame = totals([("111111111111", 5.0, 1.0), ("222222222222", 3.0, 1.0), ("333333333333", 1.0, 0.0)])
    groups = model.group_totals(frame, 2, False)
    result = model.breakdown(frame, groups, Dimension("account"), None, ACCOUNTS, {})
    action = model.row_action(result, 0, Dimension("account"), None, request(currency="EUR"), {})
    assert action.filter_state == {"f_account": ["111111111111"], "m_account": "include"}
    assert action.cur_params == {"period": "2026-11", "account": "111111111111", "currency": "EUR"}
    assert action.label == "prod (111111111111)"
    assert model.row_action(result, 2, Dimension("account"), None, request(), {}) is None  # Others
    assert model.row_action(result, 3, Dimension("account"), None, request(), {}) is None  # Total


def test_a_service_row_opens_in_the_cur_only_with_one_account():
    frame = totals([("Amazon Elastic Compute Cloud", 5.0, 1.0)])
    result = model.breakdown(frame, model.group_totals(frame, 5, False), Dimension("service"), None, {}, {})
    codes = {"Amazon Elastic Compute Cloud": "AmazonEC2"}
    alone = model.row_action(result, 0, Dimension("service"), None, request(), codes)
    assert alone.cur_params is None and alone.filter_state["f_service"] == ["Amazon Elastic Compute Cloud"]
    one_account = request(filters=(CostFilter(Dimension("account"), ("111111111111",)),))
    action = model.row_action(result, 0, Dimension("service"), None, one_account, codes)
    assert action.cur_params == {"period": "2026-11", "account": "111111111111", "service": "AmazonEC2"}


def test_a_tag_row_filters_by_the_tag():
    frame = totals([("checkout", 5.0, 1.0)])
    tag = Dimension("tag", "team")
    result = model.breakdown(frame, model.group_totals(frame, 5, False), tag, None, {}, {})
    assert model.row_action(result, 0, tag, None, request(), {}).filter_state == {"ftag": "team", "f_tag": ["checkout"], "m_tag": "include"}


# --- forecast, anomalies ----------------------------------------------------------------------

def test_forecasts_move_to_the_new_month_on_the_first():
    history = pd.DataFrame({"usage_date": pd.date_range("2026-09-01", "2026-11-30").date, "cost": 100.0})
    found = model.forecasts(history, dt.date(2026, 11, 30))
    assert (found.month_name, found.quarter_name) == ("Dec", "Q4 2026")
    assert found.month.period_start == dt.date(2026, 12, 1) and found.month.actual == 0.0


def test_partial_bucket():
    assert not model.partial_bucket(dt.date(2026, 11, 2), dt.date(2026, 11, 15), "weekly")  # Monday to Sunday
    assert model.partial_bucket(dt.date(2026, 11, 3), dt.date(2026, 11, 15), "weekly")
    assert not model.partial_bucket(dt.date(2026, 11, 3), dt.date(2026, 11, 15), "daily")


def anomaly_detail() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily cost of EC2 by account, region and usage type, with a three-day spike in 111 / us-east-1 / p4d."""
    rows = []
    for d in pd.date_range("2026-10-01", "2026-11-05", freq="D").date:
        spike = 900.0 if dt.date(2026, 11, 3) <= d <= dt.date(2026, 11, 5) else 0.0
        rows += [("EC2", d, "111", None, None, 100.0 + spike), ("EC2", d, "222", None, None, 100.0),
                 ("EC2", d, None, "us-east-1", None, 150.0 + spike), ("EC2", d, None, "eu-west-1", None, 50.0),
                 ("EC2", d, None, None, "BoxUsage:p4d", spike), ("EC2", d, None, None, "EBS", 200.0)]
    detail = pd.DataFrame(rows, columns=["group1", "usage_date", "account_id", "region", "usage_type", "cost"])
    events = pd.DataFrame([{"group": "EC2", "first_day": dt.date(2026, 11, 3), "last_day": dt.date(2026, 11, 5), "days": 3,
                            "cost": 3900.0, "expected": 1200.0, "impact": 2700.0, "peak_score": 9.0, "direction": "spike"}])
    return detail, events


def test_event_drivers_agree_with_the_one_event_analysis():
    detail, events = anomaly_detail()
    drivers = model.event_drivers(detail, events)[0]
    assert drivers["account"] == [("111", pytest.approx(2700.0))]
    assert drivers["region"][0][0] == "us-east-1" and drivers["usage_type"][0][0] == "BoxUsage:p4d"
    long = detail.assign(driver_dim=["account" if pd.notna(a) else "region" if pd.notna(r) else "usage_type"
                                     for a, r in zip(detail["account_id"], detail["region"], strict=True)],
                         driver=detail["account_id"].fillna(detail["region"]).fillna(detail["usage_type"])).rename(columns={"group1": "group"})
    one = ca.anomaly_drivers(long, events.iloc[0])
    for dim, values in drivers.items():
        expected = one[one["driver_dim"] == dim].head(model.DRIVERS_SHOWN)
        assert [v for v, _ in values] == list(expected["driver"])
        assert [c for _, c in values] == pytest.approx(list(expected["change"]))


def test_anomaly_table_names_drivers_and_drops_the_detection_dimension():
    detail, events = anomaly_detail()
    found = model.Anomalies(pd.DataFrame(), events, events)
    table = model.anomaly_table(found, detail, Dimension("account"), ACCOUNTS, ACCOUNTS, lambda v: f"${v:,.0f}")
    assert "Accounts" not in table.columns
    assert table.loc[0, "Regions"] == "us-east-1 ($2,700)" and table.loc[0, "When (UTC)"] == "Nov 03 – Nov 05, 2026"
    assert table.loc[0, "Kind"] == "Spike"  # a word, not the model's key "spike"
    table = model.anomaly_table(found, detail, Dimension("service"), {}, {"111": "prod (111)"}, lambda v: f"${v:,.0f}")
    assert table.loc[0, "Accounts"] == "prod (111) ($2,700)"
    assert model.event_drivers(pd.DataFrame(), events) == [{"account": [], "region": [], "usage_type": []}]


def test_event_days_read_like_the_views_other_dates():
    assert model.event_days(dt.date(2026, 11, 30), dt.date(2026, 11, 30)) == "Nov 30, 2026"
    assert model.event_days(dt.date(2026, 11, 30), dt.date(2026, 12, 1)) == "Nov 30 – Dec 01, 2026"
    assert model.event_days(dt.date(2026, 12, 31), dt.date(2027, 1, 2)) == "Dec 31, 2026 – Jan 02, 2027"


# --- budgets ------------------------------------------------------------------------------------

def budget_daily(rows) -> pd.DataFrame:
    """(day of November, currency, scope type, scope value, cost) -> `billing.budget_daily_costs` rows."""
    out = []
    for day, currency, scope_type, value, cost in rows:
        columns = dict.fromkeys(("account_id", "ou", "service_code"))
        if scope_type != "total":
            columns[model.SCOPE_COLUMNS[scope_type]] = value
        out.append({"usage_date": dt.date(2026, 11, day), "currency": currency, **columns, "cost": cost})
    return pd.DataFrame(out, columns=["usage_date", "currency", "account_id", "ou", "service_code", "cost"])


def test_budgets_say_the_day_they_went_over_in_their_own_currency():
    budgets = pd.DataFrame([
        {"budget_name": "prod", "scope_type": "account", "scope_value": "111111111111", "monthly_limit": 250.0, "currency": "USD"},
        {"budget_name": "all", "scope_type": "total", "scope_value": "", "monthly_limit": 10_000.0, "currency": "USD"},
        {"budget_name": "ec2-eur", "scope_type": "service", "scope_value": "AmazonEC2", "monthly_limit": 10.0, "currency": "EUR"},
        {"budget_name": "core", "scope_type": "ou", "scope_value": "Core", "monthly_limit": 2_000.0, "currency": "USD"},
    ])
    daily = budget_daily(
        [(d, "USD", "account", "111111111111", 100.0) for d in range(1, 25)]  # over 250 on Nov 3
        + [(d, "USD", "total", "", 150.0) for d in range(1, 25)]
        + [(d, "USD", "service", "AmazonEC2", 50.0) for d in range(1, 25)]  # USD only: the EUR budget is not compared
        + [(d, "USD", "ou", "Core", 80.0) for d in range(1, 25)]  # 1,920 by Nov 24, 2,000 crossed on Nov 25
        + [(d, "EUR", "ou", "Core", 5_000.0) for d in range(1, 25)])  # another currency never counts against USD
    status = model.budget_status(budgets, daily, AS_OF, ACCOUNTS, fmt.money, fmt.day)
    table = status.table.set_index("budget_name")
    assert table.loc["prod", "over_since"] == fmt.day(dt.date(2026, 11, 3))
    assert table.loc["prod", "status"].startswith(f"Over budget since {fmt.day(dt.date(2026, 11, 3))}, by $2,150.00")
    assert table.loc["prod", "scope_value"] == "prod (111111111111)"
    assert table.loc["core", "actual"] == pytest.approx(1_920.0)
    assert table.loc["core", "overrun_date"] == fmt.day(dt.date(2026, 11, 25)) and table.loc["core", "over_since"] == ""
    assert table.loc["all", "status"] == "On track" and table.loc["all", "overrun_date"] == ""
    assert table.loc["ec2-eur", "status"] == "Not compared: the budget is in EUR, its costs are in USD"
    assert status.other_currency == ["ec2-eur"]
    alert = dict(zip(status.table["budget_name"], status.alert, strict=True))
    assert alert == {"prod": True, "core": True, "all": False, "ec2-eur": False}
    assert not status.table.isna().any().any() or status.table["pct_used"].notna().all()
    assert "None" not in status.table.astype(str).to_string()


def test_a_pair_with_others_comes_after_the_named_pairs_however_large():
    frame = pd.DataFrame([("EC2", "us-east-1", 5.0, 1.0), ("S3", "eu-west-1", 4.0, 0.0), ("RDS", "ap-south-1", 4.0, 0.0)],
                         columns=["group1", "group2", "cost", "previous"])
    result = model.breakdown(frame, model.group_totals(frame, 1, True), Dimension("service"), Dimension("region"), {}, {})
    assert result.kinds == ["group", "others", "total"]
    assert result.keys[1] == (ca.OTHERS, ca.OTHERS) and result.table["Cost"].iloc[1] == pytest.approx(8.0)
    assert model.row_action(result, 1, Dimension("service"), Dimension("region"), request(), {}) is None
