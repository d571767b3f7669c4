"""Cost Explorer analytics in plain pandas/numpy: periods, presets, forecast, anomalies, movers, budgets.

Nothing here touches Streamlit or SQL. The page feeds it DataFrames that the
billing queries returned and draws what it returns, so every function can be
tested on generated data with a known answer.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from daivi_data.errors import InvalidRequest
from daivi_data.periods import (  # noqa: F401  also this module's public names, as before
    LATE_BILLING_MONTHS,
    add_months,
    billing_period,
    billing_periods_between,
    month_end,
    month_start,
    open_day,
    quarter_end,
    quarter_start,
)

# --- periods and presets ----------------------------------------------------------------------

# Keys are what the URL carries (`?range=last-30-days`), so they read well on their own.
PRESETS: dict[str, str] = {
    "month-to-date": "Month to date",
    "last-7-days": "Last 7 days",
    "last-30-days": "Last 30 days",
    "last-90-days": "Last 90 days",
    "last-3-months": "Last 3 months",
    "last-6-months": "Last 6 months",
    "last-12-months": "Last 12 months",
    "year-to-date": "Year to date",
    "previous-month": "Previous month",
    "custom": "Custom range",
}
GRANULARITIES: dict[str, str] = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
COMPARISONS: dict[str, str] = {"previous": "Previous period", "year": "Same period last year"}
# A range longer than this would scan years of partitions for one chart: refuse it with a message.
MAX_RANGE_DAYS = 3 * 366


def preset_range(preset: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of a preset, where `as_of` is the last complete day (yesterday).

    "Last N months" are N full calendar months before the current one (as in
    AWS Cost Explorer), so a monthly chart has no half-finished last bar.
    """
    if preset == "month-to-date":
        return month_start(as_of), as_of
    if preset in ("last-7-days", "last-30-days", "last-90-days"):
        days = int(preset.split("-")[1])
        return as_of - dt.timedelta(days=days - 1), as_of
    if preset in ("last-3-months", "last-6-months", "last-12-months"):
        months = int(preset.split("-")[1])
        this_month = month_start(as_of)
        # A month that ends on as_of counts as complete.
        if as_of == month_end(as_of):
            this_month = add_months(this_month, 1)
        return add_months(this_month, -months), this_month - dt.timedelta(days=1)
    if preset == "year-to-date":
        return dt.date(as_of.year, 1, 1), as_of
    if preset == "previous-month":
        # The last complete calendar month: on Dec 1 (as_of Nov 30) that is November, not October.
        first = add_months(month_start(open_day(as_of)), -1)
        return first, month_end(first)
    raise InvalidRequest(f"Time range {preset!r} is not one of: {', '.join(PRESETS)}.")


def comparison_range(start: dt.date, end: dt.date, mode: str = "previous") -> tuple[dt.date, dt.date]:
    """The period a range is compared with.

    "previous": the equal period just before. A range of whole months (or a
    month to date) compares with the same days of the months before, so
    November 1-24 compares with October 1-24 and February with January.
    "year": the same dates one year earlier.
    """
    if mode == "year":
        return add_months(start, -12), add_months(end, -12)
    if mode != "previous":
        raise InvalidRequest(f"Comparison {mode!r} is not one of: {', '.join(COMPARISONS)}.")
    if start.day == 1 and (end == month_end(end) or (start.year, start.month) == (end.year, end.month)):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        prev_start = add_months(start, -months)
        if end == month_end(end):
            prev_end = month_end(add_months(end, -months))
        else:
            prev_end = add_months(end, -months)
        return prev_start, prev_end
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


@dataclass(frozen=True)
class CheckedRange:
    start: dt.date
    end: dt.date
    notice: str = ""  # shown to the user when the range was adjusted

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def check_range(start: dt.date | None, end: dt.date | None, as_of: dt.date) -> CheckedRange:
    """Validate a user's range against the last complete day; raise InvalidRequest with what to fix.

    An end in the future is clamped to `as_of` (with a notice): cost for days
    that have not happened yet does not exist. A range wholly in the future is
    refused.
    """
    if start is None or end is None:
        raise InvalidRequest("Choose both a start and an end date.")
    if start > end:
        raise InvalidRequest(f"The start date ({start:%Y-%m-%d}) is after the end date ({end:%Y-%m-%d}). Swap them or pick a preset.")
    if start > as_of:
        raise InvalidRequest(
            f"The range {start:%Y-%m-%d} – {end:%Y-%m-%d} is in the future: cost data ends on {as_of:%Y-%m-%d}. "
            "Pick a range that ends on or before that day."
        )
    notice = ""
    if end > as_of:
        notice = f"The range ended in the future ({end:%Y-%m-%d}); showing data up to {as_of:%Y-%m-%d}, the last complete day."
        end = as_of
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRequest(f"The range spans {(end - start).days + 1:,} days; at most {MAX_RANGE_DAYS:,} (three years). Narrow it.")
    return CheckedRange(start, end, notice)


def bucket_starts(start: dt.date, end: dt.date, granularity: str) -> list[dt.date]:
    """The first day of every bucket that [start, end] touches (weeks start on Monday, as in Athena)."""
    if granularity == "daily":
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    if granularity == "weekly":
        first = start - dt.timedelta(days=start.weekday())
        return [first + dt.timedelta(weeks=i) for i in range(((end - first).days // 7) + 1)]
    if granularity == "monthly":
        out, cursor = [], month_start(start)
        while cursor <= end:
            out.append(cursor)
            cursor = add_months(cursor, 1)
        return out
    raise InvalidRequest(f"Granularity {granularity!r} is not one of: {', '.join(GRANULARITIES)}.")


# --- groups, top N, breakdown -----------------------------------------------------------------

OTHERS = "Others"


def top_groups(totals: pd.Series, n: int) -> list[str]:
    """The n groups with the largest cost (ties broken by name, so the choice is stable)."""
    if n < 1:
        raise InvalidRequest("Top N must be at least 1.")
    frame = totals.rename("cost").rename_axis("group").reset_index()
    frame = frame.sort_values(["cost", "group"], ascending=[False, True], kind="mergesort")
    return [str(g) for g in frame["group"].head(n)]


def breakdown_table(current: pd.Series, previous: pd.Series, keep: list[str] | None = None) -> pd.DataFrame:
    """Per group: cost, share of the total, previous cost, change and change %; plus a total row.

    Groups outside `keep` are summed into "Others", exactly as the chart does,
    so each row equals its series in the chart and the total row equals the sum.
    """
    current = current.astype(float)
    previous = previous.astype(float)
    if keep is not None:
        keep_set = set(keep)
        current = current.groupby([g if g in keep_set else OTHERS for g in current.index]).sum()
        previous = previous.groupby([g if g in keep_set else OTHERS for g in previous.index]).sum()
    groups = list(current.index) + [g for g in previous.index if g not in current.index]
    table = pd.DataFrame({
        "group": groups,
        "cost": [float(current.get(g, 0.0)) for g in groups],
        "previous": [float(previous.get(g, 0.0)) for g in groups],
    })
    # Others (at either level of a pair) after the named groups, as the chart draws it.
    table["others"] = [g == OTHERS or (isinstance(g, tuple) and OTHERS in g) for g in table["group"]]
    table = table.sort_values(["others", "cost", "group"], ascending=[True, False, True], kind="mergesort").drop(columns="others")
    total_cost, total_prev = table["cost"].sum(), table["previous"].sum()
    table = pd.concat([table, pd.DataFrame([{"group": "Total", "cost": total_cost, "previous": total_prev}])], ignore_index=True)
    table["share"] = table["cost"] / total_cost if total_cost else np.nan
    table["change"] = table["cost"] - table["previous"]
    table["change_pct"] = np.where(table["previous"] != 0, table["change"] / table["previous"].where(table["previous"] != 0, 1.0).abs(), np.nan)
    return table.reset_index(drop=True)[["group", "cost", "share", "previous", "change", "change_pct"]]


def pct_change(current: float, previous: float) -> float | None:
    """Relative change, or None when there is nothing to compare with."""
    if not previous:
        return None
    return (current - previous) / abs(previous)


def top_movers(current: pd.Series, previous: pd.Series, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """(increases, decreases, total change) between two periods per group.

    Each mover's `contribution_pp` is its change as percentage points of the
    previous total: the contributions of all groups add up to the total % change,
    which is what "what drove the change" means in one number.
    """
    groups = sorted(set(current.index) | set(previous.index), key=str)
    frame = pd.DataFrame({
        "group": groups,
        "previous": [float(previous.get(g, 0.0)) for g in groups],
        "current": [float(current.get(g, 0.0)) for g in groups],
    })
    frame["change"] = frame["current"] - frame["previous"]
    total_prev = frame["previous"].sum()
    total_change = float(frame["change"].sum())
    frame["change_pct"] = np.where(frame["previous"] != 0, frame["change"] / frame["previous"].where(frame["previous"] != 0, 1.0).abs(), np.nan)
    frame["contribution_pp"] = frame["change"] / abs(total_prev) * 100 if total_prev else np.nan
    frame["share_of_change"] = frame["change"] / total_change if total_change else np.nan
    increases = frame[frame["change"] > 0].sort_values(["change", "group"], ascending=[False, True]).head(n).reset_index(drop=True)
    decreases = frame[frame["change"] < 0].sort_values(["change", "group"], ascending=[True, True]).head(n).reset_index(drop=True)
    return increases, decreases, total_change


# --- forecast -----------------------------------------------------------------------------------

FORECAST_TRAINING_DAYS = 56
FORECAST_MIN_DAYS = 14
FORECAST_LEVEL = 0.80
FORECAST_METHOD = (
    "Forecast: a straight-line trend, a day-of-week pattern and the charges that land on the 1st of each month "
    "(support, tax, commitment fees), fitted by least squares to the last "
    f"{FORECAST_TRAINING_DAYS // 7} weeks of daily cost (with the current filters and cost basis), projected over the "
    "days left in the month or quarter and added to the cost so far. The range is the "
    f"{FORECAST_LEVEL:.0%} prediction interval of that fit: it widens with the day-to-day scatter of the history and "
    "with the number of days still to come. One-off spikes in the history widen it; a change of trend "
    "shows up within a few weeks."
)


@dataclass(frozen=True)
class Forecast:
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    actual: float  # cost from period_start to as_of
    remaining: float  # predicted cost from as_of + 1 to period_end
    low: float  # interval of the period's total
    high: float
    level: float = FORECAST_LEVEL

    @property
    def total(self) -> float:
        return self.actual + self.remaining


def _design(days: np.ndarray, weekdays: np.ndarray, firsts: np.ndarray, with_weekday: bool, with_first: bool) -> np.ndarray:
    columns = [np.ones_like(days, dtype=float), days.astype(float)]
    if with_weekday:
        columns += [(weekdays == k).astype(float) for k in range(1, 7)]
    if with_first:
        columns.append(firsts.astype(float))
    return np.column_stack(columns)


def forecast_period(daily: pd.Series, as_of: dt.date, period_start: dt.date, period_end: dt.date,
                    training_days: int = FORECAST_TRAINING_DAYS, level: float = FORECAST_LEVEL) -> Forecast | None:
    """Forecast the total of [period_start, period_end] from daily cost up to `as_of`.

    `daily` is indexed by date; missing days count as zero cost. Returns None
    when there are fewer than FORECAST_MIN_DAYS days of history.
    """
    if as_of >= period_end:
        actual = _sum_between(daily, period_start, period_end)
        return Forecast(period_start, period_end, period_end, actual, 0.0, actual, actual, level)
    series = _daily_frame(daily)
    if series.empty:
        return None
    first_day = max(series.index.min(), as_of - dt.timedelta(days=training_days - 1))
    history = series.reindex(pd.date_range(first_day, as_of, freq="D").date, fill_value=0.0)
    n = len(history)
    if n < FORECAST_MIN_DAYS:
        return None
    future = pd.date_range(as_of + dt.timedelta(days=1), period_end, freq="D").date

    def features(days_list):
        return (np.array([(d - as_of).days for d in days_list]), np.array([d.weekday() for d in days_list]),
                np.array([d.day == 1 for d in days_list]))

    days, weekdays, firsts = features(history.index)
    fdays, fweek, ffirsts = features(future)
    with_weekday = n >= 21  # a weekday pattern needs three of each day to be estimated at all
    # Monthly charges (support, tax, RI/SP fees) land on the 1st: model them apart from the daily trend.
    with_first = bool(firsts.any())
    X = _design(days, weekdays, firsts, with_weekday, with_first)
    y = history.to_numpy(dtype=float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    residuals = y - X @ beta
    dof = max(n - X.shape[1], 1)
    sigma2 = float(residuals @ residuals) / dof
    F = _design(fdays, fweek, ffirsts, with_weekday, with_first)
    c = F.sum(axis=0)
    remaining = float(c @ beta)
    xtx_inv = np.linalg.pinv(X.T @ X)
    # Variance of a sum of k new observations: k noise terms plus the uncertainty of the fitted line.
    variance = sigma2 * (len(future) + float(c @ xtx_inv @ c))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    half = z * math.sqrt(max(variance, 0.0))
    actual = _sum_between(daily, period_start, as_of)
    return Forecast(period_start, period_end, as_of, actual, remaining, actual + remaining - half, actual + remaining + half, level)


def _daily_frame(daily: pd.Series) -> pd.Series:
    if daily.empty:
        return daily.astype(float)
    index = [d.date() if isinstance(d, (pd.Timestamp, dt.datetime)) else d for d in daily.index]
    return pd.Series(daily.to_numpy(dtype=float), index=index).groupby(level=0).sum().sort_index()


def _sum_between(daily: pd.Series, start: dt.date, end: dt.date) -> float:
    series = _daily_frame(daily)
    if series.empty:
        return 0.0
    mask = [(start <= d <= end) for d in series.index]
    return float(series[mask].sum())


# --- anomalies --------------------------------------------------------------------------------

ANOMALY_WINDOW_DAYS = 28  # four whole weeks, so every weekday appears four times
ANOMALY_SCORE = 4.0  # robust z: how many scaled MADs from the expected day
# A group whose cost barely moves has a MAD near zero; this floor (a share of its
# expected day) keeps rounding-level wiggles from counting as anomalies.
ANOMALY_RELATIVE_FLOOR = 0.05
ANOMALY_MIN_IMPACT_SHARE = 0.01  # of the typical total daily cost: below that nobody acts on it
MAD_TO_SIGMA = 1.4826
ANOMALY_METHOD = (
    f"Anomalies: each group's day is compared with what its previous {ANOMALY_WINDOW_DAYS} days lead to expect: the median "
    "of the same weekday in those four weeks (so quiet weekends are not anomalies). The spread is the median absolute "
    "deviation (MAD) of those days around their weekday medians, so past spikes do not hide new ones. A day is anomalous "
    f"when it is more than {ANOMALY_SCORE:g} scaled MADs (and at least {ANOMALY_RELATIVE_FLOOR:.0%}) away from the expected "
    f"cost and moves at least {ANOMALY_MIN_IMPACT_SHARE:.0%} of a typical day's total; consecutive anomalous days form one "
    "event, ranked by cost impact (cost minus expected). Only usage line items count (Usage, DiscountedUsage, "
    "SavingsPlanCoveredUsage): fees, tax, credits and refunds arrive on a schedule, not from behaviour. Drivers compare the "
    "event's days with the average day of the four weeks before it."
)


def detect_anomalies(daily: pd.DataFrame, start: dt.date, end: dt.date, window: int = ANOMALY_WINDOW_DAYS,
                     score_threshold: float = ANOMALY_SCORE) -> pd.DataFrame:
    """Anomalous days per group within [start, end], merged into events, largest impact first.

    `daily` has columns usage_date, group, cost, and should start `window` days
    before `start`: a day is judged only with a full window of history. Returns
    one row per event: group, first_day, last_day, days, cost, expected, impact,
    peak_score, direction.
    """
    columns = ["group", "first_day", "last_day", "days", "cost", "expected", "impact", "peak_score", "direction"]
    if window % 7:
        raise InvalidRequest("The anomaly window must be whole weeks.")
    if daily.empty:
        return pd.DataFrame(columns=columns)
    frame = daily.copy()
    frame["usage_date"] = [d.date() if isinstance(d, (pd.Timestamp, dt.datetime)) else d for d in frame["usage_date"]]
    # Days before the data begins are unknown, not zero: a baseline of zeros would flag the first
    # weeks of every dataset (a lakehouse that starts in October, asked about September onwards).
    calendar = pd.date_range(frame["usage_date"].min(), end, freq="D").date
    wide = frame.pivot_table(index="usage_date", columns="group", values="cost", aggfunc="sum").reindex(calendar).fillna(0.0)
    total_daily = wide.sum(axis=1)
    in_range = np.array([start <= d <= end for d in calendar])
    typical_total = float(np.median(np.abs(total_daily.to_numpy()[in_range]))) if in_range.any() else 0.0
    min_impact = ANOMALY_MIN_IMPACT_SHARE * typical_total
    rows = []
    for group in wide.columns:
        values = wide[group].to_numpy(dtype=float)
        expected, mad = weekly_baseline(values, window)
        spread = np.maximum(MAD_TO_SIGMA * mad, np.maximum(ANOMALY_RELATIVE_FLOOR * np.abs(expected), 1e-9))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (values - expected) / spread
        flagged = in_range & ~np.isnan(expected) & (np.abs(score) >= score_threshold) & (np.abs(values - expected) >= min_impact)
        run: list[int] = []
        for i in np.flatnonzero(flagged):
            if run and (i != run[-1] + 1 or np.sign(score[i]) != np.sign(score[run[-1]])):
                rows.append(_event(group, calendar, values, expected, score, run))
                run = []
            run.append(int(i))
        if run:
            rows.append(_event(group, calendar, values, expected, score, run))
    if not rows:
        return pd.DataFrame(columns=columns)
    events = pd.DataFrame(rows, columns=columns)
    events["abs_impact"] = events["impact"].abs()
    events = events.sort_values(["abs_impact", "first_day"], ascending=[False, True]).drop(columns="abs_impact")
    return events.reset_index(drop=True)


def _event(group, calendar, values, expected, score, run: list[int]) -> dict:
    cost = float(values[run].sum())
    baseline = float(expected[run].sum())
    peak = float(score[run][np.argmax(np.abs(score[run]))])
    return {
        "group": group, "first_day": calendar[run[0]], "last_day": calendar[run[-1]], "days": len(run),
        "cost": cost, "expected": baseline, "impact": cost - baseline, "peak_score": peak,
        "direction": "spike" if peak > 0 else "drop",
    }


def weekly_baseline(values: np.ndarray, window: int = ANOMALY_WINDOW_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """(expected, MAD) for each day from the `window` days before it (NaN without a full window).

    Expected is the median of the same weekday in the window; MAD is the median
    absolute deviation of the window's days from their own weekday medians.
    """
    n = len(values)
    expected = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    if n <= window:
        return expected, mad
    weeks = window // 7
    # Row j holds days j .. j+window-1: the history of day j+window. Column k has the
    # weekday of day j+k, so columns 0, 7, 14, ... share the target day's weekday.
    windows = np.lib.stride_tricks.sliding_window_view(values[:-1], window).reshape(-1, weeks, 7)
    weekday_median = np.median(windows, axis=1)  # (rows, 7): per weekday position
    expected[window:] = weekday_median[:, 0]
    residuals = np.abs(windows - weekday_median[:, None, :]).reshape(len(windows), -1)
    mad[window:] = np.median(residuals, axis=1)
    return expected, mad


def anomaly_drivers(detail: pd.DataFrame, event: pd.Series, window: int = ANOMALY_WINDOW_DAYS, n: int = 3) -> pd.DataFrame:
    """What drove one event: per driver dimension, the values whose cost moved most.

    `detail` has columns group, usage_date, driver_dim, driver, cost (daily cost
    per account / region / usage type of the event's group). A driver's change
    is its cost over the event's days minus its average day over the `window`
    days before the event, times the event's length.
    """
    columns = ["driver_dim", "driver", "event_cost", "expected", "change"]
    if detail.empty:
        return pd.DataFrame(columns=columns)
    frame = detail[detail["group"] == event["group"]].copy()
    frame["usage_date"] = [d.date() if isinstance(d, (pd.Timestamp, dt.datetime)) else d for d in frame["usage_date"]]
    first, last = event["first_day"], event["last_day"]
    base_start = first - dt.timedelta(days=window)
    in_event = (frame["usage_date"] >= first) & (frame["usage_date"] <= last)
    in_base = (frame["usage_date"] >= base_start) & (frame["usage_date"] < first)
    event_cost = frame[in_event].groupby(["driver_dim", "driver"])["cost"].sum()
    base_cost = frame[in_base].groupby(["driver_dim", "driver"])["cost"].sum() / window * int(event["days"])
    out = pd.concat([event_cost.rename("event_cost"), base_cost.rename("expected")], axis=1).fillna(0.0)
    out["change"] = out["event_cost"] - out["expected"]
    out = out.reset_index()
    ascending = event["direction"] == "drop"
    # Only values that moved the way the event did explain it; the rest is noise.
    out = out[out["change"] < 0] if ascending else out[out["change"] > 0]
    out = out.sort_values(["driver_dim", "change"], ascending=[True, ascending])
    return out.groupby("driver_dim", sort=False).head(n).reset_index(drop=True)[columns]


# --- budgets ----------------------------------------------------------------------------------

BUDGET_RUN_RATE_DAYS = 7
BUDGET_METHOD = (
    f"Budgets: month-to-date cost of each budget's scope against its monthly limit; the projection adds the average of "
    f"the last {BUDGET_RUN_RATE_DAYS} days for each day left in the month, and the overrun date is the day that "
    "projection crosses the limit."
)


def budget_status(budgets: pd.DataFrame, scope_costs: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Actual vs limit per budget, with the projected month-end cost and overrun date.

    `scope_costs` has columns scope_type ('account', 'ou', 'service', 'total'),
    scope_value, mtd (month-to-date cost) and recent (cost of the last
    BUDGET_RUN_RATE_DAYS days).
    """
    columns = ["budget_name", "scope_type", "scope_value", "monthly_limit", "actual", "pct_used", "projected", "overrun_date", "status"]
    if budgets.empty:
        return pd.DataFrame(columns=columns)
    lookup = {(r.scope_type, "" if r.scope_type == "total" else str(r.scope_value)): (float(r.mtd or 0.0), float(r.recent or 0.0))
              for r in scope_costs.itertuples()}
    remaining_days = (month_end(as_of) - as_of).days
    rows = []
    for b in budgets.itertuples():
        key = (b.scope_type, "" if b.scope_type == "total" else str(b.scope_value))
        actual, recent = lookup.get(key, (0.0, 0.0))
        rate = recent / BUDGET_RUN_RATE_DAYS
        projected = actual + rate * remaining_days
        limit = float(b.monthly_limit)
        overrun: dt.date | None = None
        if actual > limit:
            status = "over budget"
        elif projected > limit and rate > 0:
            overrun = as_of + dt.timedelta(days=math.ceil((limit - actual) / rate))
            status = "projected to overrun"
        else:
            status = "on track"
        rows.append({
            "budget_name": b.budget_name, "scope_type": b.scope_type, "scope_value": b.scope_value, "monthly_limit": limit,
            "actual": actual, "pct_used": actual / limit if limit else np.nan, "projected": projected,
            "overrun_date": overrun, "status": status,
        })
    return pd.DataFrame(rows, columns=columns).sort_values("pct_used", ascending=False).reset_index(drop=True)
