"""Cost analysis on generated data with known answers: periods, presets, breakdown, movers, forecast, anomalies, budgets."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from daivi_data import cost_analysis as ca
from daivi_data.errors import InvalidRequest

AS_OF = dt.date(2026, 11, 24)  # a Tuesday


# --- periods ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "expected"), [
    ("month-to-date", (dt.date(2026, 11, 1), AS_OF)),
    ("last-7-days", (dt.date(2026, 11, 18), AS_OF)),
    ("last-30-days", (dt.date(2026, 10, 26), AS_OF)),
    ("last-90-days", (dt.date(2026, 8, 27), AS_OF)),
    ("last-3-months", (dt.date(2026, 8, 1), dt.date(2026, 10, 31))),
    ("last-6-months", (dt.date(2026, 5, 1), dt.date(2026, 10, 31))),
    ("last-12-months", (dt.date(2025, 11, 1), dt.date(2026, 10, 31))),
    ("year-to-date", (dt.date(2026, 1, 1), AS_OF)),
    ("previous-month", (dt.date(2026, 10, 1), dt.date(2026, 10, 31))),
])
def test_preset_ranges(preset, expected):
    assert ca.preset_range(preset, AS_OF) == expected


def test_full_month_presets_count_a_finished_month():
    assert ca.preset_range("last-3-months", dt.date(2026, 10, 31)) == (dt.date(2026, 8, 1), dt.date(2026, 10, 31))


def test_unknown_preset_is_refused():
    with pytest.raises(InvalidRequest, match="Time range"):
        ca.preset_range("last-decade", AS_OF)


@pytest.mark.parametrize(("start", "end", "mode", "expected"), [
    # Month to date compares with the same days of the previous month.
    (dt.date(2026, 11, 1), dt.date(2026, 11, 24), "previous", (dt.date(2026, 10, 1), dt.date(2026, 10, 24))),
    # Whole months compare with whole months, whatever their lengths.
    (dt.date(2026, 3, 1), dt.date(2026, 3, 31), "previous", (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
    (dt.date(2026, 8, 1), dt.date(2026, 10, 31), "previous", (dt.date(2026, 5, 1), dt.date(2026, 7, 31))),
    # Any other range: the equal number of days just before.
    (dt.date(2026, 10, 26), dt.date(2026, 11, 24), "previous", (dt.date(2026, 9, 26), dt.date(2026, 10, 25))),
    (dt.date(2026, 3, 31), dt.date(2026, 3, 31), "previous", (dt.date(2026, 3, 30), dt.date(2026, 3, 30))),
    (dt.date(2024, 2, 29), dt.date(2024, 3, 10), "year", (dt.date(2023, 2, 28), dt.date(2023, 3, 10))),
])
def test_comparison_ranges(start, end, mode, expected):
    assert ca.comparison_range(start, end, mode) == expected


def test_billing_periods_cover_every_month_of_the_range_and_the_late_billing_period_after_it():
    assert ca.billing_periods_between(dt.date(2025, 12, 30), dt.date(2026, 2, 1)) == ("2025-12", "2026-01", "2026-02", "2026-03")
    assert ca.billing_periods_between(dt.date(2026, 2, 3), dt.date(2026, 2, 3)) == ("2026-02", "2026-03")


def test_check_range_messages():
    with pytest.raises(InvalidRequest, match="after the end date"):
        ca.check_range(dt.date(2026, 11, 10), dt.date(2026, 11, 1), AS_OF)
    with pytest.raises(InvalidRequest, match="in the future"):
        ca.check_range(dt.date(2027, 1, 1), dt.date(2027, 1, 31), AS_OF)
    with pytest.raises(InvalidRequest, match="at most"):
        ca.check_range(dt.date(2020, 1, 1), AS_OF, AS_OF)
    clamped = ca.check_range(dt.date(2026, 11, 1), dt.date(2026, 12, 31), AS_OF)
    assert (clamped.start, clamped.end, clamped.days) == (dt.date(2026, 11, 1), AS_OF, 24)
    assert "future" in clamped.notice


def test_bucket_starts():
    assert ca.bucket_starts(dt.date(2026, 11, 20), dt.date(2026, 11, 24), "weekly") == [dt.date(2026, 11, 16), dt.date(2026, 11, 23)]
    assert ca.bucket_starts(dt.date(2026, 10, 15), dt.date(2026, 11, 2), "monthly") == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    assert len(ca.bucket_starts(dt.date(2026, 11, 1), AS_OF, "daily")) == 24


def test_quarters():
    assert ca.quarter_start(dt.date(2026, 11, 24)) == dt.date(2026, 10, 1)
    assert ca.quarter_end(dt.date(2026, 11, 24)) == dt.date(2026, 12, 31)
    assert ca.quarter_end(dt.date(2026, 2, 10)) == dt.date(2026, 3, 31)


# --- breakdown and movers ---------------------------------------------------------------------

def test_breakdown_rows_sum_to_the_total_with_others():
    current = pd.Series({"EC2": 500.0, "S3": 300.0, "RDS": 150.0, "Lambda": 40.0, "KMS": 10.0})
    previous = pd.Series({"EC2": 400.0, "S3": 300.0, "Lambda": 60.0, "Glue": 25.0})
    keep = ca.top_groups(current, 2)
    assert keep == ["EC2", "S3"]
    table = ca.breakdown_table(current, previous, keep)
    assert table["group"].tolist() == ["EC2", "S3", "Others", "Total"]
    body, total = table.iloc[:-1], table.iloc[-1]
    assert body["cost"].sum() == pytest.approx(total["cost"]) == pytest.approx(1000.0)
    others = table.set_index("group").loc["Others"]
    assert others["cost"] == pytest.approx(200.0) and others["previous"] == pytest.approx(85.0)
    assert table.set_index("group").loc["EC2", "change_pct"] == pytest.approx(0.25)
    assert body["share"].sum() == pytest.approx(1.0)


def test_top_groups_breaks_ties_by_name():
    assert ca.top_groups(pd.Series({"b": 1.0, "a": 1.0, "c": 2.0}), 2) == ["c", "a"]


def test_movers_contributions_add_up_to_the_total_change():
    previous = pd.Series({"EC2": 1000.0, "S3": 500.0, "RDS": 500.0, "Glue": 0.0})
    current = pd.Series({"EC2": 1300.0, "S3": 450.0, "RDS": 500.0, "Lambda": 50.0})
    increases, decreases, total_change = ca.top_movers(current, previous, n=5)
    assert total_change == pytest.approx(300.0)
    assert increases["group"].tolist() == ["EC2", "Lambda"]
    assert decreases["group"].tolist() == ["S3"]
    everyone = pd.concat([increases, decreases])
    assert everyone["contribution_pp"].sum() == pytest.approx(300.0 / 2000.0 * 100)
    assert increases.iloc[0]["contribution_pp"] == pytest.approx(15.0)
    assert np.isnan(increases.set_index("group").loc["Lambda", "change_pct"])


# --- forecast ---------------------------------------------------------------------------------

WEEKDAY_FACTOR = np.array([1.0, 1.02, 1.03, 1.01, 0.98, 0.7, 0.65])


def synthetic_daily(start: dt.date, end: dt.date, level: float, slope: float, noise: float, seed: int) -> pd.Series:
    """Known truth: level + slope * day, times a weekday pattern, plus Gaussian noise."""
    days = pd.date_range(start, end, freq="D").date
    t = np.arange(len(days))
    mean = (level + slope * t) * WEEKDAY_FACTOR[[d.weekday() for d in days]]
    rng = np.random.default_rng(seed)
    return pd.Series(mean + rng.normal(0, noise, len(days)), index=days), pd.Series(mean, index=days)


def test_forecast_follows_a_known_trend():
    history_start, as_of, month_end = dt.date(2026, 9, 1), AS_OF, dt.date(2026, 11, 30)
    observed, _ = synthetic_daily(history_start, as_of, 1000.0, 4.0, 0.0, seed=1)
    _, truth = synthetic_daily(history_start, month_end, 1000.0, 4.0, 0.0, seed=1)
    fc = ca.forecast_period(observed, as_of, dt.date(2026, 11, 1), month_end)
    assert fc is not None
    true_total = float(truth[[d >= dt.date(2026, 11, 1) for d in truth.index]].sum())
    # Without noise the trend and weekday pattern are almost exactly recovered (the pattern is multiplicative, the fit additive).
    assert fc.total == pytest.approx(true_total, rel=0.002)
    assert fc.actual == pytest.approx(float(observed[[d >= dt.date(2026, 11, 1) for d in observed.index]].sum()))
    # A flat extrapolation would miss the growth: the trend must be in the forecast.
    flat = fc.actual + observed.iloc[-7:].mean() * 6
    assert fc.total > flat


def test_forecast_interval_covers_the_truth_at_its_level():
    history_start, as_of, month_end = dt.date(2026, 9, 1), AS_OF, dt.date(2026, 12, 31)
    covered, trials = 0, 200
    for seed in range(trials):
        full, _ = synthetic_daily(history_start, month_end, 1000.0, 3.0, 60.0, seed=seed)
        observed = full[[d <= as_of for d in full.index]]
        fc = ca.forecast_period(observed, as_of, dt.date(2026, 10, 1), month_end)
        actual_total = float(full[[d >= dt.date(2026, 10, 1) for d in full.index]].sum())
        assert fc.low < fc.total < fc.high
        covered += fc.low <= actual_total <= fc.high
    # 80% interval: with 200 fixed seeds the coverage must land near 80% (binomial sd is about 3 points).
    assert 0.70 <= covered / trials <= 0.90


def test_forecast_expects_the_monthly_charge_on_the_first():
    observed, _ = synthetic_daily(dt.date(2026, 9, 1), AS_OF, 1000.0, 0.0, 0.0, seed=4)
    fee = 5000.0
    observed[[d.day == 1 for d in observed.index]] += fee
    fc = ca.forecast_period(observed, AS_OF, dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    daily_only = sum(1000.0 * WEEKDAY_FACTOR[d.weekday()] for d in pd.date_range("2026-11-25", "2026-12-31").date)
    # December 1st brings the fee again; the other days are not inflated by it.
    assert fc.remaining == pytest.approx(daily_only + fee, rel=0.002)


def test_forecast_needs_two_weeks_and_is_exact_for_a_finished_period():
    short, _ = synthetic_daily(dt.date(2026, 11, 15), AS_OF, 100.0, 0.0, 1.0, seed=2)
    assert ca.forecast_period(short, AS_OF, dt.date(2026, 11, 1), dt.date(2026, 11, 30)) is None
    done, _ = synthetic_daily(dt.date(2026, 9, 1), dt.date(2026, 10, 31), 100.0, 0.0, 1.0, seed=3)
    fc = ca.forecast_period(done, dt.date(2026, 10, 31), dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert fc.remaining == 0 and fc.low == fc.high == fc.total


# --- anomalies --------------------------------------------------------------------------------

def anomaly_fixture(seed: int = 11) -> pd.DataFrame:
    """Four services with weekly patterns and noise; EC2 spikes for three days, S3 drops for one."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-08-01", "2026-11-24", freq="D").date
    rows = []
    for service, level in (("EC2", 5000.0), ("S3", 1200.0), ("RDS", 2000.0), ("Lambda", 80.0)):
        for d in days:
            cost = level * WEEKDAY_FACTOR[d.weekday()] * (1 + rng.normal(0, 0.02))
            if service == "EC2" and dt.date(2026, 11, 3) <= d <= dt.date(2026, 11, 5):
                cost += 2500.0
            if service == "S3" and d == dt.date(2026, 10, 20):
                cost *= 0.3
            rows.append((d, service, cost))
    return pd.DataFrame(rows, columns=["usage_date", "group", "cost"])


def test_anomalies_find_the_planted_events_and_nothing_else():
    events = ca.detect_anomalies(anomaly_fixture(), dt.date(2026, 9, 1), dt.date(2026, 11, 24))
    assert len(events) == 2, events
    spike, drop = events.iloc[0], events.iloc[1]
    assert (spike["group"], spike["first_day"], spike["last_day"], spike["days"], spike["direction"]) == (
        "EC2", dt.date(2026, 11, 3), dt.date(2026, 11, 5), 3, "spike")
    assert spike["impact"] == pytest.approx(7500.0, rel=0.1)
    assert (drop["group"], drop["first_day"], drop["direction"]) == ("S3", dt.date(2026, 10, 20), "drop")
    assert drop["impact"] < 0


def test_weekends_are_not_anomalies():
    frame = anomaly_fixture()
    weekdays_only = ca.detect_anomalies(frame[frame["group"] == "RDS"], dt.date(2026, 9, 1), dt.date(2026, 11, 24))
    assert weekdays_only.empty


def test_anomaly_window_must_be_whole_weeks():
    with pytest.raises(InvalidRequest):
        ca.detect_anomalies(anomaly_fixture(), dt.date(2026, 9, 1), AS_OF, window=10)


def test_anomaly_drivers_name_what_moved():
    days = pd.date_range("2026-10-01", "2026-11-05", freq="D").date
    rows = []
    for d in days:
        spike = dt.date(2026, 11, 3) <= d <= dt.date(2026, 11, 5)
        rows += [("EC2", d, "account", "111", 100.0 + (900.0 if spike else 0.0)), ("EC2", d, "account", "222", 100.0),
                 ("EC2", d, "region", "us-east-1", 150.0 + (900.0 if spike else 0.0)), ("EC2", d, "region", "eu-west-1", 50.0),
                 ("EC2", d, "usage_type", "BoxUsage:p4d", 0.0 + (900.0 if spike else 0.0)), ("EC2", d, "usage_type", "EBS", 200.0)]
    detail = pd.DataFrame(rows, columns=["group", "usage_date", "driver_dim", "driver", "cost"])
    event = pd.Series({"group": "EC2", "first_day": dt.date(2026, 11, 3), "last_day": dt.date(2026, 11, 5), "days": 3, "direction": "spike"})
    drivers = ca.anomaly_drivers(detail, event)
    top = drivers.groupby("driver_dim").head(1).set_index("driver_dim")
    assert top.loc["account", "driver"] == "111" and top.loc["account", "change"] == pytest.approx(2700.0)
    assert top.loc["region", "driver"] == "us-east-1"
    assert top.loc["usage_type", "driver"] == "BoxUsage:p4d"


# --- budgets ----------------------------------------------------------------------------------

def test_budget_status_projects_the_overrun_day():
    budgets = pd.DataFrame([
        {"budget_name": "prod", "scope_type": "account", "scope_value": "111", "monthly_limit": 2950.0},
        {"budget_name": "all", "scope_type": "total", "scope_value": "", "monthly_limit": 100000.0},
        {"budget_name": "ec2", "scope_type": "service", "scope_value": "AmazonEC2", "monthly_limit": 1000.0},
    ])
    costs = pd.DataFrame([
        {"scope_type": "account", "scope_value": "111", "mtd": 2400.0, "recent": 700.0},  # 100/day
        {"scope_type": "total", "scope_value": "", "mtd": 50000.0, "recent": 14000.0},
        {"scope_type": "service", "scope_value": "AmazonEC2", "mtd": 1200.0, "recent": 350.0},
    ])
    status = ca.budget_status(budgets, costs, AS_OF).set_index("budget_name")
    # 550 of headroom at 100/day: crossed during the 6th day after Nov 24.
    assert status.loc["prod", "overrun_date"] == dt.date(2026, 11, 30)
    assert status.loc["prod", "status"] == "projected to overrun"
    assert status.loc["prod", "projected"] == pytest.approx(2400.0 + 100.0 * 6)
    assert status.loc["ec2", "status"] == "over budget"
    assert status.loc["all", "status"] == "on track" and status.loc["all", "overrun_date"] is None


# --- figures (daivi_ui.figures_cost) ----------------------------------------------------------

def test_trend_figure_has_one_series_per_group_in_order_with_grey_others():
    from daivi_ui import figures_cost as fig

    series = pd.DataFrame({
        "period": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-11-02", "2026-11-02", "2026-11-02"]),
        "group1": ["EC2", ca.OTHERS, "EC2", "S3", ca.OTHERS],
        "cost": [10.0, 1.0, 12.0, 3.0, 2.0],
    })
    for chart in fig.CHART_TYPES:
        figure = fig.build_cost_trend_figure(series, ["EC2", "S3", ca.OTHERS], chart, "daily", labels={"EC2": "Compute"})
        assert [t.name for t in figure.data] == ["Compute", "S3", ca.OTHERS]
        assert sum(sum(t.y) for t in figure.data) == pytest.approx(series["cost"].sum())
    bar = fig.build_cost_trend_figure(series, ["EC2", "S3", ca.OTHERS], "bar")
    assert bar.data[2].marker.color == fig.OTHERS_COLOR and bar.layout.barmode == "relative"


def test_sankey_links_carry_the_positive_costs():
    from daivi_ui import figures_cost as fig

    totals = pd.DataFrame({"group1": ["Core", "Core", "Data"], "group2": ["us-east-1", "global", "us-east-1"], "cost": [5.0, -1.0, 7.0]})
    figure = fig.build_sankey_figure(totals, ["Data", "Core"], ["us-east-1", "global"])
    assert sum(figure.data[0].link.value) == pytest.approx(12.0)  # the credit cannot be drawn as a flow


@pytest.mark.parametrize(("value", "shown"), [(405603.34, "$405,603"), (1243843.34, "$1.24M"), (-13689.5, "-$13,690"), (0.4, "$0"),
                                              (999_999.6, "$1.00M")])
def test_kpi_money_stays_short(value, shown):
    from daivi_ui.figures_cost import format_kpi_money

    assert format_kpi_money(value) == shown
