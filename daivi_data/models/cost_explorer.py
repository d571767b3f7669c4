"""Cost Explorer's page model: a request from widget/URL values -> billing queries -> result frames.

Pure and Streamlit-free. The view (`views/cost_explorer.py`) parses its widgets into a
`CostRequest`, runs the queries this module builds, and hands the rows to the functions
below through `page.derived(...)`, so a rerun of the page redoes none of this pandas work.
Formatting of money is the UI's: functions that write amounts into text take a `money`
formatter (one argument, the amount).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from daivi_data import cost_analysis as ca
from daivi_data.currency import DEFAULT_CURRENCY
from daivi_data.data_span import anchor_day
from daivi_data.errors import InvalidRequest
from daivi_data.queries import Query, billing
from daivi_data.queries.billing import CostFilter, CostScope, Dimension

Money = Callable[[float], str]

DEFAULT_PRESET = "last-30-days"
DEFAULT_GROUP = "service"
BASIS_LABELS = {k: billing.COST_BASIS_LABELS[k] for k in billing.COST_BASES}
VIEW2_LABELS = {"facets": "Small multiples", "sankey": "Sankey"}
MODE_LABELS = {"include": "Include", "exclude": "Exclude"}
TABS = ("What changed", "Anomalies", "Forecast", "Budgets")
PLAIN_DIMENSIONS = tuple(d for d in billing.DIMENSIONS if d != "tag")
# The column of `billing.dimension_values` that lists each plain dimension's values.
OPTION_COLUMNS = {"service": "service_name", "account": "account_id", "ou": "ou", "region": "region",
                  "usage_type": "usage_type", "record_type": "record_type"}
ROW_SEPARATOR = "\x1f"  # joins the two levels of a row while telling its kind; never in a label


# --- the data's last day ----------------------------------------------------------------------

def data_end_query(latest_partition: str, today: dt.date) -> Query:
    """The last day with cost: in the newest partition, never a period after yesterday's."""
    yesterday = today - dt.timedelta(days=1)
    return billing.data_end(min(latest_partition, ca.billing_period(yesterday)))


def anchored(today: dt.date, last_day, latest_partition: str) -> tuple[dt.date, str]:
    """(as_of, data end as text): the last complete day the view shows, and where the data ends."""
    known = pd.notna(last_day)
    as_of = anchor_day(today, pd.Timestamp(last_day).date() if known else None)
    return as_of, f"{pd.Timestamp(last_day):%Y-%m-%d}" if known else latest_partition


# --- request ------------------------------------------------------------------------------------

def is_iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def dimension_labels(tag_keys: Sequence[str]) -> dict[str, str]:
    """Every group-by choice (plain dimensions, then one per tag key in the range) -> its label."""
    keys = [*PLAIN_DIMENSIONS, *(f"tag:{k}" for k in tag_keys)]
    return {k: Dimension.parse(k).label for k in keys}


def embed_summary(preset_key: str, group_value: str | None, basis_key: str, as_of: dt.date,
                  date_range: Callable[[dt.date, dt.date], str]) -> str:
    """What the embedded figures show, in one line: "Last 30 days, … · by service · unblended cost"."""
    if preset_key == "custom":
        shown_range = ca.PRESETS["custom"]
    else:
        shown_range = f"{ca.PRESETS[preset_key]}, {date_range(*ca.preset_range(preset_key, as_of))}"
    try:
        by = Dimension.parse(group_value or DEFAULT_GROUP).label
    except InvalidRequest:
        by = billing.DIMENSION_LABELS[DEFAULT_GROUP]
    return f"{shown_range} · by {by if by.startswith('Tag') else by.lower()} · {BASIS_LABELS[basis_key].lower()} cost"


def account_keys(values: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    """Account ids for URL values that name an account by id or by its label ("name (id)", an old link)."""
    by_label = {label.casefold(): key for key, label in labels.items()}
    return [v if v in labels else by_label.get(v.strip().casefold(), v.strip()) for v in values]


def make_filter(dimension: Dimension, values: Sequence[str], mode: str) -> CostFilter | None:
    """The filter for chosen values (None when none are chosen); too many values raise InvalidRequest."""
    return CostFilter(dimension, tuple(values), exclude=mode == "exclude") if values else None


@dataclass(frozen=True)
class CostRequest:
    """What the view asks: range, basis, currency, grouping and filters, already checked."""

    start: dt.date
    end: dt.date
    as_of: dt.date
    granularity: str = "daily"
    basis: str = "unblended"
    currency: str = "USD"
    group: Dimension = field(default_factory=lambda: Dimension(DEFAULT_GROUP))
    group2: Dimension | None = None
    top_n: int = 10
    compare: str = "previous"
    filters: tuple[CostFilter, ...] = ()

    @property
    def scope(self) -> CostScope:
        return CostScope(self.start, self.end, self.basis, self.filters, self.currency)

    @property
    def compare_range(self) -> tuple[dt.date, dt.date]:
        return ca.comparison_range(self.start, self.end, self.compare)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def open_day(self) -> dt.date:
        """The first day without complete data: its month and quarter are the ones forecast."""
        return ca.open_day(self.as_of)


def second_level(group_key: str, group2_key: str) -> Dimension | None:
    """The "Then by" dimension, or None for "none" or the same as "Group by"."""
    return Dimension.parse(group2_key) if group2_key not in ("none", group_key) else None


def unknown_filter_values(filters: Sequence[CostFilter], options: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(dimension label, value) of every filter value with no cost in the range: matched exactly, as text."""
    known = {dim: set(values) for dim, values in options.items()}
    return [(f.dimension.label, v) for f in filters for v in f.values if v not in known.get(f.dimension.name, set())]


def filter_options(values: pd.DataFrame) -> dict[str, list[str]]:
    """Each plain dimension's values in the range, largest cost first (from `billing.dimension_values`)."""
    out = {}
    for dim, column in OPTION_COLUMNS.items():
        part = values[values[column].notna()].sort_values("cost", ascending=False, kind="mergesort")
        out[dim] = list(dict.fromkeys(part[column].astype(str)))
    return out


def service_codes(values: pd.DataFrame) -> dict[str, str]:
    """Service name -> product code (from `billing.dimension_values`): the CUR view's service key."""
    part = values[values["service_name"].notna() & values["service_code"].notna()]
    return dict(zip(part["service_name"].astype(str), part["service_code"].astype(str), strict=True))


# --- totals, series, forecast -----------------------------------------------------------------

def totals_query(request: CostRequest) -> Query:
    compare_start, compare_end = request.compare_range
    return billing.group_totals(request.scope, request.group, request.group2, compare_start, compare_end)


@dataclass(frozen=True)
class Groups:
    """The range's cost per group, the groups kept apart from Others, and the totals the KPIs show."""

    current: pd.Series  # cost per first-level group
    previous: pd.Series  # comparison-period cost per first-level group
    keep: list[str]
    keep2: list[str]
    order1: list[str]  # the kept groups, then Others when anything is left over
    order2: list[str]
    total: float
    previous_total: float

    @property
    def empty(self) -> bool:
        return self.current.empty or not (self.current.abs() > 0).any()

    @property
    def change(self) -> float | None:
        return ca.pct_change(self.total, self.previous_total)

    @property
    def others_count(self) -> int:
        """How many first-level groups the Others row sums."""
        return len(self.current) - len(self.keep)


def group_totals(totals: pd.DataFrame, top_n: int, two_levels: bool) -> Groups:
    """`billing.group_totals` rows -> the top N groups (of each level) and the totals."""
    current = totals.groupby("group1")["cost"].sum()
    previous = totals.groupby("group1")["previous"].sum()
    has_cost = not totals.empty and bool((totals["cost"].abs() > 0).any())
    keep = ca.top_groups(current, top_n) if has_cost else []
    keep2 = ca.top_groups(totals.groupby("group2")["cost"].sum(), top_n) if two_levels and has_cost else []
    order1 = keep + ([ca.OTHERS] if len(current) > len(keep) else [])
    order2 = keep2 + ([ca.OTHERS] if two_levels and totals["group2"].nunique() > len(keep2) else [])
    return Groups(current, previous, keep, keep2, order1, order2, float(totals["cost"].sum()), float(totals["previous"].sum()))


def series_query(request: CostRequest, groups: Groups) -> Query:
    return billing.cost_series(request.scope, request.granularity, request.group, tuple(groups.keep), request.group2,
                               tuple(groups.keep2))


def series_frame(series: pd.DataFrame) -> pd.DataFrame:
    """`billing.cost_series` rows with `period` as timestamps (the chart's x axis)."""
    return series.assign(period=pd.to_datetime(series["period"]))


def pair_totals(series: pd.DataFrame) -> pd.DataFrame:
    """Cost per (group1, group2) over the range: the Sankey's flows."""
    return series.groupby(["group1", "group2"], as_index=False)["cost"].sum()


def history_query(request: CostRequest) -> Query:
    """Daily totals over the current quarter and the forecast's training window, with the same filters and basis."""
    history_start = min(ca.quarter_start(request.as_of), request.as_of - dt.timedelta(days=ca.FORECAST_TRAINING_DAYS - 1))
    return billing.daily_totals(request.scope.with_range(history_start, request.as_of))


@dataclass(frozen=True)
class Forecasts:
    history: pd.DataFrame  # usage_date (date), cost
    month: ca.Forecast | None  # the open month
    quarter: ca.Forecast | None  # the open quarter
    open_day: dt.date

    @property
    def month_name(self) -> str:
        return f"{self.open_day:%b}"

    @property
    def quarter_name(self) -> str:
        return f"Q{(self.open_day.month - 1) // 3 + 1} {self.open_day.year}"


def forecasts(history: pd.DataFrame, as_of: dt.date) -> Forecasts:
    """The open month's and quarter's forecasts (on the 1st, with data through a closed month, the new ones)."""
    history = history.assign(usage_date=pd.to_datetime(history["usage_date"]).dt.date)
    daily = history.set_index("usage_date")["cost"]
    day = ca.open_day(as_of)
    month = ca.forecast_period(daily, as_of, ca.month_start(day), ca.month_end(day))
    quarter = ca.forecast_period(daily, as_of, ca.quarter_start(day), ca.quarter_end(day))
    return Forecasts(history, month, quarter, day)


def partial_bucket(start: dt.date, end: dt.date, granularity: str) -> bool:
    """True when the chart's first or last week/month covers only part of it."""
    if granularity == "daily":
        return False
    after = end + dt.timedelta(days=1)
    return ca.bucket_starts(start, start, granularity)[0] != start or ca.bucket_starts(after, after, granularity)[0] != after


# --- the breakdown table ------------------------------------------------------------------------

BREAKDOWN_COLUMNS = {"cost": "Cost", "share": "Share", "previous": "Previous period", "change": "Change", "change_pct": "Change %"}


@dataclass(frozen=True)
class Breakdown:
    """The table under the chart: one row per group (or pair), Others, the total; and what each row is."""

    table: pd.DataFrame
    kinds: list[str]  # "group", "others" or "total", one per row
    keys: list[tuple[str, str | None]]  # each row's group keys (group1, group2): what a click filters to


def breakdown(totals: pd.DataFrame, groups: Groups, group: Dimension, group2: Dimension | None,
              labels1: Mapping[str, str], labels2: Mapping[str, str]) -> Breakdown:
    """Rows equal the chart's series: groups outside the top N summed as Others, and the total row the sum."""
    if group2 is None:
        table = ca.breakdown_table(groups.current, groups.previous, groups.keep)
        keys = [(str(g), None) for g in table["group"]]  # type: list[tuple[str, str | None]]
        table.insert(0, group.label, [labels1.get(g, g) for g in table["group"]])
    else:
        keep_set, keep2_set = set(groups.keep), set(groups.keep2)
        mapped = totals.assign(
            g1=[g if g in keep_set else ca.OTHERS for g in totals["group1"]],
            g2=[g if g in keep2_set else ca.OTHERS for g in totals["group2"]],
        )
        pair = mapped.groupby(["g1", "g2"])[["cost", "previous"]].sum()
        table = ca.breakdown_table(pair["cost"], pair["previous"])
        keys = [(str(g[0]), str(g[1])) if isinstance(g, tuple) else (str(g), None) for g in table["group"]]
        table.insert(0, group.label, [labels1.get(g[0], g[0]) if isinstance(g, tuple) else g for g in table["group"]])
        table.insert(1, group2.label, [labels2.get(g[1], g[1]) if isinstance(g, tuple) else "" for g in table["group"]])
    table = table.drop(columns="group").rename(columns=BREAKDOWN_COLUMNS)
    return Breakdown(table, row_kinds(table, group.label, group2.label if group2 else None), keys)


def selection_key(request: CostRequest) -> str:
    """A table key that changes with what the table shows, so a row selected before a change never carries over."""
    return "breakdown_" + hashlib.sha1(repr(request).encode()).hexdigest()[:10]


def row_kinds(table: pd.DataFrame, label1: str, label2: str | None) -> list[str]:
    """What each row of a breakdown is: a group, the sum of the groups beyond the top N, or the total."""
    last = len(table) - 1
    labels = table[label1].astype(str) if label2 is None else table[label1].astype(str) + ROW_SEPARATOR + table[label2].astype(str)
    return ["total" if first == "Total" and i == last else "others" if ca.OTHERS in label.split(ROW_SEPARATOR) else "group"
            for i, (first, label) in enumerate(zip(table[label1], labels, strict=True))]


def breakdown_csv(result: Breakdown, label1: str, others_count: int, top_n: int,
                  round_money: Callable[[pd.DataFrame, list[str], pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """The breakdown for a spreadsheet: money to the cent with the total still the sum, each row's kind said,
    and Others named for what it is (never exported as if it were a service).

    `round_money(frame, columns, total_row)` rounds money columns to the cent, keeping the total row the sum.
    """
    out = result.table.assign(Row=result.kinds)
    out = round_money(out, ["Cost", "Previous period"], out["Row"] == "total")
    out["Change"] = (out["Cost"] - out["Previous period"]).round(2)
    others = out["Row"] == "others"
    out.loc[others, label1] = out.loc[others, label1].replace(
        ca.OTHERS, f"(the {others_count} other {label1.lower()} values beyond the top {top_n})")
    return out[["Row", *result.table.columns]]


def series_csv(series: pd.DataFrame, group: Dimension, group2: Dimension | None,
               round_money: Callable[[pd.DataFrame, list[str]], pd.DataFrame]) -> pd.DataFrame:
    """The chart's series for a spreadsheet: one row per period and group, Others marked as such."""
    out = series.assign(period=series["period"].dt.date, Row=["others" if g == ca.OTHERS else "group" for g in series["group1"]])
    return round_money(out, ["cost"]).rename(columns={"group1": group.key, "group2": group2.key if group2 else "group2"})


@dataclass(frozen=True)
class RowAction:
    """What a selected breakdown row can do: filter the view to its group, or open it in the CUR view."""

    label: str  # the group as shown
    filter_state: dict[str, object]  # widget state that filters the view to the row's group
    cur_params: dict[str, str] | None  # URL parameters of the CUR view for the row, None when it cannot drill
    cur_what: str = ""  # what the CUR link opens, in words


def row_action(result: Breakdown, row: int, group: Dimension, group2: Dimension | None, request: CostRequest,
               service_codes: Mapping[str, str]) -> RowAction | None:
    """The actions of a breakdown row (None for Others and the total: they are not one group).

    The CUR view drills billing period -> account -> service (product code), so a row opens there when
    it names an account, or a service together with one account (the row's, or the only one filtered to).
    """
    if not 0 <= row < len(result.kinds) or result.kinds[row] != "group":
        return None
    key1, key2 = result.keys[row]
    state: dict[str, object] = {}
    values: dict[str, str] = {}
    for dim, key in ((group, key1), (group2, key2)):
        if dim is not None and key is not None and key != ca.OTHERS:
            values[dim.name] = key
            state.update(filter_state(dim, key))
    label = " · ".join(str(result.table.iloc[row][d.label]) for d in (group, group2) if d is not None)
    account = values.get("account") or _only_included("account", request.filters)
    service = values.get("service")
    service_code = service_codes.get(service) if service else None
    cur = None
    what = ""
    if account and (service is None or service_code):
        cur = {"period": ca.billing_period(request.end), "account": account}
        what = f"account {account}"
        if service_code:
            cur["service"] = service_code
            what += f", {service}"
        if request.currency != DEFAULT_CURRENCY:  # the CUR view opens in USD unless told
            cur["currency"] = request.currency
        what += f", billing period {cur['period']}"
    return RowAction(label, state, cur, what)


def filter_state(dimension: Dimension, value: str) -> dict[str, object]:
    """The Filters' widget state (key -> value) that keeps only `value` of `dimension`."""
    if dimension.name == "tag":
        return {"ftag": dimension.tag_key, "f_tag": [value], "m_tag": "include"}
    return {f"f_{dimension.name}": [value], f"m_{dimension.name}": "include"}


def _only_included(dimension: str, filters: Sequence[CostFilter]) -> str | None:
    """The one value an include filter on `dimension` keeps, if there is exactly one."""
    for f in filters:
        if f.dimension.name == dimension and not f.exclude and len(f.values) == 1:
            return f.values[0]
    return None


# --- what changed -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Movers:
    increases: pd.DataFrame
    decreases: pd.DataFrame
    total_change: float
    table: pd.DataFrame  # increases then decreases, the group as its label


def movers(groups: Groups, label: str, labels: Mapping[str, str], n: int = 5) -> Movers:
    increases, decreases, total_change = ca.top_movers(groups.current, groups.previous, n=n)
    table = pd.concat([increases, decreases], ignore_index=True)
    table.insert(0, label, [labels.get(g, g) for g in table["group"]])
    return Movers(increases, decreases, total_change, table.drop(columns="group"))


# --- anomalies ----------------------------------------------------------------------------------

ANOMALY_LOOKBACK_DAYS = 92  # the detector looks at the last 92 days of the range at most
SHOWN_ANOMALIES = 10
DRIVER_COLUMNS = {"account": "Accounts", "region": "Regions", "usage_type": "Usage types"}
DRIVERS_SHOWN = 2


def anomaly_range(request: CostRequest) -> tuple[dt.date, dt.date]:
    """(first day judged, first day read): the detection range, and its baseline window before it."""
    detect_start = max(request.start, request.end - dt.timedelta(days=ANOMALY_LOOKBACK_DAYS - 1))
    return detect_start, detect_start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS)


def anomaly_daily_query(request: CostRequest, dimension: Dimension) -> Query:
    _, read_from = anomaly_range(request)
    return billing.daily_by_group(request.scope.with_range(read_from, request.end), dimension)


@dataclass(frozen=True)
class Anomalies:
    daily: pd.DataFrame  # usage_date (date), group1, cost: the detector's input, and the chart's
    events: pd.DataFrame  # every event, largest impact first
    shown: pd.DataFrame  # the events listed

    @property
    def details_window(self) -> tuple[dt.date, dt.date, tuple[str, ...]] | None:
        """(first day, last day, groups) of the drivers' query for the listed events."""
        if self.shown.empty:
            return None
        first = min(self.shown["first_day"]) - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS)
        return first, max(self.shown["last_day"]), tuple(sorted(set(self.shown["group"].astype(str))))


def anomalies(daily: pd.DataFrame, detect_start: dt.date, end: dt.date) -> Anomalies:
    """Events per group in [detect_start, end] from `billing.daily_by_group` rows."""
    daily = daily.assign(usage_date=pd.to_datetime(daily["usage_date"]).dt.date)
    events = ca.detect_anomalies(daily.rename(columns={"group1": "group"}), detect_start, end)
    return Anomalies(daily, events, events.head(SHOWN_ANOMALIES))


def anomaly_details_query(request: CostRequest, dimension: Dimension, found: Anomalies) -> Query | None:
    window = found.details_window
    if window is None:
        return None
    first, last, groups = window
    return billing.anomaly_details(request.scope.with_range(first, last), dimension, groups)


def event_drivers(detail: pd.DataFrame, events: pd.DataFrame, window: int = ca.ANOMALY_WINDOW_DAYS,
                  n: int = DRIVERS_SHOWN) -> list[dict[str, list[tuple[str, float]]]]:
    """Per event, per driver dimension, the values that moved most with it: [(value, change), ...].

    `detail` holds `billing.anomaly_details` rows. Prepared once for every event (driver
    columns, dates), then one masked sum per event: no per-event copy of the frame.
    """
    empty: list[dict[str, list]] = [{dim: [] for dim in billing.DRIVER_DIMENSIONS} for _ in range(len(events))]
    if detail.empty or events.empty:
        return empty
    frame = pd.DataFrame({
        "group": detail["group1"].astype(str),
        "usage_date": pd.to_datetime(detail["usage_date"]).to_numpy(),
        "driver_dim": np.where(detail["account_id"].notna(), "account", np.where(detail["region"].notna(), "region", "usage_type")),
        "driver": detail["account_id"].fillna(detail["region"]).fillna(detail["usage_type"]).astype(str),
        "cost": detail["cost"].astype(float),
    })
    out = []
    for event in events.itertuples(index=False):
        first, last = pd.Timestamp(event.first_day), pd.Timestamp(event.last_day)
        part = frame[frame["group"] == str(event.group)]
        in_event = part[(part["usage_date"] >= first) & (part["usage_date"] <= last)]
        in_base = part[(part["usage_date"] >= first - pd.Timedelta(days=window)) & (part["usage_date"] < first)]
        moved = pd.concat([
            in_event.groupby(["driver_dim", "driver"])["cost"].sum().rename("event_cost"),
            (in_base.groupby(["driver_dim", "driver"])["cost"].sum() / window * int(event.days)).rename("expected"),
        ], axis=1).fillna(0.0)
        change = (moved["event_cost"] - moved["expected"]).rename("change").reset_index()
        drop = event.direction == "drop"
        # Only values that moved the way the event did explain it; the rest is noise.
        change = change[change["change"] < 0] if drop else change[change["change"] > 0]
        change = change.sort_values(["driver_dim", "change", "driver"], ascending=[True, drop, True], kind="mergesort")
        out.append({dim: [(r.driver, float(r.change)) for r in change[change["driver_dim"] == dim].head(n).itertuples()]
                    for dim in billing.DRIVER_DIMENSIONS})
    return out


def event_days(first: dt.date, last: dt.date) -> str:
    """An event's days as the rest of the view writes dates: Nov 30, 2026 or Nov 30 – Dec 01, 2026."""
    if first == last:
        return f"{first:%b %d, %Y}"
    return f"{first:%b %d}{'' if first.year == last.year else f', {first.year}'} – {last:%b %d, %Y}"


def anomaly_table(found: Anomalies, detail: pd.DataFrame, dimension: Dimension, labels: Mapping[str, str],
                  account_labels: Mapping[str, str], money: Money) -> pd.DataFrame:
    """The listed events with their top drivers in words ("payments-prod (4111…) (+$1,234.00)")."""
    drivers = event_drivers(detail, found.shown)
    rows = []
    for event, top in zip(found.shown.itertuples(index=False), drivers, strict=True):
        named = {dim: ", ".join(f"{account_labels.get(v, v) if dim == 'account' else v} ({money(c)})" for v, c in values)
                 for dim, values in top.items()}
        rows.append({
            "When (UTC)": event_days(event.first_day, event.last_day),
            dimension.label: labels.get(event.group, event.group), "Kind": str(event.direction).capitalize(),
            "Cost": event.cost, "Expected": event.expected, "Impact": event.impact, "Score": event.peak_score,
            **{DRIVER_COLUMNS[dim]: text for dim, text in named.items()},
        })
    table = pd.DataFrame(rows)
    # Drivers along the detection dimension would only repeat the group itself.
    same = DRIVER_COLUMNS.get(dimension.name)
    return table.drop(columns=same) if same and same in table.columns else table


# --- budgets ------------------------------------------------------------------------------------

def budget_daily_query(as_of: dt.date, basis: str) -> Query:
    """Daily cost per budget scope and currency, over the month and the run-rate window (every currency)."""
    return billing.budget_daily_costs(as_of, basis, ca.BUDGET_RUN_RATE_DAYS)


SCOPE_COLUMNS = {"account": "account_id", "ou": "ou", "service": "service_code"}


@dataclass(frozen=True)
class BudgetStatus:
    table: pd.DataFrame  # one row per budget, the columns in the order shown
    alert: list[bool]  # rows that need attention: over, or projected over
    other_currency: list[str]  # budgets whose currency has no cost in their scope while others do (said on screen)


def budget_status(budgets: pd.DataFrame, daily: pd.DataFrame, as_of: dt.date, account_labels: Mapping[str, str],
                  money: Callable[[float, str], str], day: Callable[[dt.date], str]) -> BudgetStatus:
    """Each budget against its scope's cost **in the budget's own currency**, with the day it went over.

    `daily` holds `billing.budget_daily_costs` rows. A budget whose scope has cost only in other
    currencies is not compared (no exchange rate is assumed): its status says which currencies it has.
    """
    scope_daily = _scope_daily(daily)
    month_start = ca.month_start(as_of)
    recent_start = as_of - dt.timedelta(days=ca.BUDGET_RUN_RATE_DAYS - 1)
    rows, alert, other_currency = [], [], []
    for b in budgets.itertuples():
        currency = b.currency if isinstance(b.currency, str) and b.currency else DEFAULT_CURRENCY
        scope_value = "" if b.scope_type == "total" else str(b.scope_value)
        costs = scope_daily.get((b.scope_type, scope_value), pd.DataFrame(columns=["usage_date", "currency", "cost"]))
        mine = costs[costs["currency"] == currency]
        month = mine[mine["usage_date"] >= month_start].groupby("usage_date")["cost"].sum().sort_index()
        status_row = ca.budget_status(
            pd.DataFrame([{"budget_name": b.budget_name, "scope_type": b.scope_type, "scope_value": b.scope_value,
                           "monthly_limit": b.monthly_limit}]),
            pd.DataFrame([{"scope_type": b.scope_type, "scope_value": scope_value, "mtd": float(month.sum()),
                           "recent": float(mine[mine["usage_date"] >= recent_start]["cost"].sum())}]),
            as_of).iloc[0]
        went_over = _day_over(month, float(b.monthly_limit))
        elsewhere = sorted(set(costs["currency"]) - {currency}) if mine.empty else []
        if elsewhere:
            other_currency.append(str(b.budget_name))
            text = f"Not compared: the budget is in {currency}, its costs are in {', '.join(elsewhere)}"
        elif went_over is not None:
            text = f"Over budget since {day(went_over)}, by {money(status_row.actual - status_row.monthly_limit, currency)}"
        elif pd.notna(status_row.overrun_date):
            text = f"Projected over on {day(status_row.overrun_date)}"
        else:
            text = "On track"
        rows.append({
            "budget_name": b.budget_name, "pct_used": status_row.pct_used, "actual": status_row.actual,
            "monthly_limit": status_row.monthly_limit, "currency": currency, "projected": status_row.projected,
            "over_since": day(went_over) if went_over is not None else "",
            "overrun_date": day(status_row.overrun_date) if went_over is None and pd.notna(status_row.overrun_date) else "",
            "status": text,
            "scope_type": b.scope_type,
            "scope_value": account_labels.get(str(b.scope_value), b.scope_value) if b.scope_type == "account" else b.scope_value,
        })
        alert.append(not elsewhere and (went_over is not None or bool(rows[-1]["overrun_date"])))
    # The words that matter first (a narrow table still shows them), the figures behind them after.
    table = pd.DataFrame(rows, columns=["budget_name", "pct_used", "status", "actual", "monthly_limit", "currency", "projected",
                                        "over_since", "overrun_date", "scope_type", "scope_value"])
    order = table["pct_used"].fillna(-1.0).sort_values(ascending=False, kind="mergesort").index
    return BudgetStatus(table.loc[order].reset_index(drop=True), [alert[i] for i in order], other_currency)


def _scope_daily(daily: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """`budget_daily_costs` rows per (scope type, scope value): usage_date (date), currency, cost."""
    frame = daily.assign(usage_date=pd.to_datetime(daily["usage_date"]).dt.date)
    set_columns = list(SCOPE_COLUMNS.values())
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for scope_type, column in SCOPE_COLUMNS.items():
        others = [c for c in set_columns if c != column]
        part = frame[frame[column].notna() & frame[others].isna().all(axis=1)]
        for value, rows in part.groupby(column):
            out[(scope_type, str(value))] = rows[["usage_date", "currency", "cost"]]
    out[("total", "")] = frame[frame[set_columns].isna().all(axis=1)][["usage_date", "currency", "cost"]]
    return out


def _day_over(month: pd.Series, limit: float) -> dt.date | None:
    """The first day the month's running cost went over `limit` (None if it has not)."""
    over = month.cumsum() > limit
    return over.idxmax() if over.any() else None
