"""The Inventory page model: snapshots, the request read from widgets and the URL, and what each tab shows.

Streamlit-free. The view (`views/inventory.py`, `daivi_ui/inventory_tabs.py`) runs the named queries of
`daivi_data.queries.inventory`, hands their frames to the functions here through `page.derived` (so a
rerun of the page redoes no pandas work) and lays out the dataclasses they return.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from daivi_data import inventory_analysis as ia
from daivi_data.currency import DEFAULT_CURRENCY
from daivi_data.data_span import empty_result_message
from daivi_data.queries import inventory as q

TABS = ("Overview", "Search", "Tag compliance", "Waste", "Detail", "History")
PAGE_SIZES = (25, 50, 100, 200)
COMPARE_DAYS_BACK = 7
TREND_DAYS = 90
# Long lists (violators, gp2 volumes, a big diff) show their first rows; their CSV button has them all.
MAX_TABLE_ROWS = 1_000
# The date pickers' range: AWS's first day to a year ahead. A date outside it would be dropped by the
# widget silently; inside it, a day without a snapshot gets a clear message.
MIN_DATE = dt.date(2006, 1, 1)
MAX_DAYS_AHEAD = 366
GLOBAL_REGION_LABEL = "global"  # global resources have an empty region: offered by this name
MAX_CONFIGURATION_CHARS = 20_000


def max_date(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=MAX_DAYS_AHEAD)


def valid_url_date(value: str, today: dt.date) -> bool:
    """A `?snapshot=`/`?since=` value the date pickers can take."""
    day = ia.parse_iso_date(value)
    return day is not None and MIN_DATE <= day <= max_date(today)


def as_dates(values) -> list[dt.date]:
    return list(pd.to_datetime(pd.Series(values)).dt.date)


# --- snapshots ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshots:
    """The snapshot days the principal can see, oldest first, with their resource counts."""

    days: tuple[dt.date, ...]
    resources: tuple[int, ...]

    @property
    def first(self) -> dt.date:
        return self.days[0]

    @property
    def last(self) -> dt.date:
        return self.days[-1]

    def __contains__(self, day: object) -> bool:
        return day in self.days

    def compare_default(self, day: dt.date) -> dt.date | None:
        return ia.default_compare_date(list(self.days), day, COMPARE_DAYS_BACK)

    def missing(self, day: dt.date) -> str:
        """'No inventory snapshot on **day**. The nearest: **a** or **b**.' (Markdown)."""
        nearest = " or ".join(str(d) for d in ia.nearest_snapshots(list(self.days), day) if d)
        return f"No inventory snapshot on **{day}**." + (f" The nearest: **{nearest}**." if nearest else "")

    def describe(self) -> str:
        return f"{len(self.days)} daily snapshots (UTC) from **{self.first}** to **{self.last}**."


def snapshots_of(dates: pd.DataFrame) -> Snapshots:
    """From `inventory.snapshot_dates` rows (snapshot_date, resources)."""
    return Snapshots(tuple(as_dates(dates["snapshot_date"])), tuple(int(n) for n in dates["resources"]))


def history_start(latest: dt.date) -> dt.date:
    return latest - dt.timedelta(days=q.MAX_HISTORY_DAYS)


def trend_start(snapshots: Snapshots, snapshot: dt.date) -> dt.date:
    return max(snapshots.first, snapshot - dt.timedelta(days=TREND_DAYS))


def ordered(a: dt.date, b: dt.date) -> tuple[dt.date, dt.date]:
    return (a, b) if a < b else (b, a)


def no_resources_message(snapshot: dt.date, data_ends: str | None, role: str, row_filtered: bool) -> str:
    """Whether nobody has resources on the snapshot day or the role's row filter hides them."""
    return empty_result_message(f"No resource on {snapshot}", data_ends=data_ends, asked_from=f"{snapshot}",
                                role=role, row_filtered=row_filtered)


def screen_rows(result: Any, field: str | None = None) -> pd.DataFrame:
    """The first MAX_TABLE_ROWS rows of `result.field` (or of `result`, a frame): what a long table shows."""
    frame = getattr(result, field) if field else result
    return frame.head(MAX_TABLE_ROWS)


def cut_note(shown: int, total: int) -> str | None:
    """The caption of a table that shows `shown` of `total` rows (None when it shows them all)."""
    return f"Showing the first {shown:,} of {total:,} rows; the CSV has them all." if shown < total else None


# --- overview ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    resources: int
    resource_types: int
    accounts: int
    regions: int
    by_type: pd.DataFrame  # resource_type, resources, most first


def overview_of(counts: pd.DataFrame) -> Overview:
    """The KPIs of a snapshot from `inventory.counts_by_dimension` rows."""
    by_type = counts.groupby("resource_type", as_index=False)["resources"].sum().sort_values("resources", ascending=False)
    return Overview(resources=int(counts["resources"].sum()), resource_types=int(counts["resource_type"].nunique()),
                    accounts=int(counts["account_id"].nunique()), regions=int(counts["region"].nunique()),
                    by_type=by_type.reset_index(drop=True))


@dataclass(frozen=True)
class Changes:
    before: dt.date
    after: dt.date
    diff: pd.DataFrame  # inventory_analysis.diff_snapshots
    created: int
    deleted: int
    changed: int


def changes_between(pair: pd.DataFrame, before: dt.date, after: dt.date) -> Changes:
    """What changed from `before` to `after`, from `inventory.snapshot_changes` rows (or a resource's history)."""
    dates = pd.to_datetime(pair["snapshot_date"]).dt.date
    diff = ia.diff_snapshots(pair[dates == before], pair[dates == after])
    counts = ia.count_changes(diff)
    return Changes(before, after, diff, counts["created"], counts["deleted"], counts["changed"])


def account_names(names: pd.DataFrame) -> dict[str, str]:
    """{account id: name} from `inventory.account_names` rows (chart labels)."""
    return dict(zip(names["account_id"].astype(str), names["account_name"].astype(str), strict=True))


# --- search ------------------------------------------------------------------------------------

def search_options(counts: pd.DataFrame) -> dict[str, list[str]]:
    """The values each search filter offers on a snapshot; global resources' empty region by name."""
    options = {col: sorted(counts[col].dropna().astype(str).unique()) for col in ("resource_type", "account_id", "region", "state")}
    options["region"] = [r or GLOBAL_REGION_LABEL for r in options["region"]]
    return options


def search_filter(text: str, tags_text: str, types, accounts, regions, states) -> q.ResourceFilter:
    """The search the widgets describe (InvalidRequest for a malformed tag filter)."""
    return q.ResourceFilter(text=ia.normalize_search_text(text), tags=ia.parse_tag_search(tags_text),
                            resource_types=tuple(types), accounts=tuple(accounts),
                            regions=tuple("" if r == GLOBAL_REGION_LABEL else r for r in regions), states=tuple(states))


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def for_display(df: pd.DataFrame) -> pd.DataFrame:
    """Tags as `k=v, k=v` text rather than a map."""
    out = df.copy()
    if "tags" in out.columns:
        out["tags"] = out["tags"].map(ia.format_tags)
    return out


def search_table(df: pd.DataFrame, show_id: bool) -> pd.DataFrame:
    """A search page as shown (its ids, for row selection, are the query's `resource_id` column)."""
    return for_display(df if show_id else df.drop(columns="resource_id"))


# --- tag compliance ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Compliance:
    checked: int
    compliant_pct: float | None
    by_account: pd.DataFrame
    by_type: pd.DataFrame
    violators: pd.DataFrame  # what is wrong first: ids can be long ARNs and would push it out of view


def compliance_of(values: pd.DataFrame, required: tuple[tuple[str, tuple[str, ...]], ...],
                  tag_columns: tuple[tuple[str, str], ...]) -> Compliance:
    """Tag compliance of a snapshot from `inventory.required_tag_values` rows (inputs as tuples: hashable)."""
    evaluated = ia.evaluate_tag_compliance(values, dict(required), dict(tag_columns))
    violators = evaluated.loc[~evaluated["compliant"], ["resource_id", "missing", "invalid", "account_id", "resource_type",
                                                         "resource_name"]]
    return Compliance(len(evaluated), ia.compliance_pct(evaluated), ia.compliance_by(evaluated, "account_id"),
                      ia.compliance_by(evaluated, "resource_type"), violators.reset_index(drop=True))


# --- waste -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WasteCategory:
    key: str
    label: str
    resources: int
    monthly_savings: float
    table: pd.DataFrame  # its findings as shown


@dataclass(frozen=True)
class Waste:
    currency: str  # every amount below is in it
    findings: pd.DataFrame  # every finding (the CSV)
    summary: pd.DataFrame  # per category (the chart)
    resources: int
    at_stake: float | None  # None without cost data
    categories: tuple[WasteCategory, ...]  # those with findings


def cost_by_currency(costs: pd.DataFrame | None, column: str) -> dict[str, float]:
    """{currency: total of `column`}, the largest first: amounts of different currencies side by side, never added."""
    if costs is None or costs.empty:
        return {}
    totals = costs.groupby("currency")[column].sum()
    return {str(c): float(totals[c]) for c in sorted(totals.index, key=lambda c: (-abs(totals[c]), c))}


def waste_table(waste: Waste, key: str) -> pd.DataFrame:
    """The first rows of one finding category, as its table shows them."""
    return screen_rows(next(c for c in waste.categories if c.key == key), "table")


def waste_of(candidates: pd.DataFrame, costs: pd.DataFrame | None, snapshot: dt.date, days: int,
             currency: str = DEFAULT_CURRENCY) -> Waste:
    """The waste findings of a snapshot with their cost in `currency` (`costs`, per resource and currency, is None when
    the role may not read the CUR: no cost columns shown). Cost in other currencies is left out, never added."""
    if costs is not None:
        costs = costs[costs["currency"] == currency]
    findings = ia.classify_waste(candidates, snapshot, costs, days)
    summary = ia.waste_summary(findings)
    categories = []
    for row in summary.itertuples():
        part = findings[findings["category"] == row.category]
        if part.empty:
            continue
        shown = part.drop(columns=["category", "category_label", "savings_fraction"])
        if costs is None:
            shown = shown.drop(columns=["monthly_cost", "monthly_savings"])
        categories.append(WasteCategory(row.category, row.category_label, int(row.resources), float(row.monthly_savings),
                                        shown.reset_index(drop=True)))
    return Waste(currency, findings, summary, int(findings["resource_id"].nunique()) if len(findings) else 0,
                 ia.total_at_stake(findings), tuple(categories))


# --- detail ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResourceDetail:
    resource_id: str
    name: str | None
    resource_type: str
    account_id: str
    region: str
    state: str
    attributes: pd.DataFrame  # attribute, value (text)
    tags: pd.DataFrame  # key, value
    configuration_readable: bool  # the role's grant includes the column
    configuration: object = None  # parsed JSON, or raw text when it is not JSON, or None when empty

    @property
    def title(self) -> str:
        return self.name or self.resource_id


def resource_detail_of(detail: pd.DataFrame) -> ResourceDetail | None:
    """The detail of one resource from `inventory.resource_detail` rows (None when it is not in the snapshot)."""
    if detail.empty:
        return None
    r = detail.iloc[0]
    readable = "configuration" in detail.columns
    attrs = r.drop(labels=["tags"] + (["configuration"] if readable else []))
    tags = ia.as_tag_dict(r["tags"])
    config = None
    if readable and not ia.is_missing(r["configuration"]) and str(r["configuration"]).strip():
        try:
            config = json.loads(r["configuration"])
        except (TypeError, ValueError):
            config = str(r["configuration"])[:MAX_CONFIGURATION_CHARS]
    name = r["resource_name"]
    return ResourceDetail(
        resource_id=str(r["resource_id"]), name=None if ia.is_missing(name) or not name else str(name),
        resource_type=str(r["resource_type"]), account_id=str(r["account_id"]), region=ia.display_value(r["region"]),
        state=ia.display_value(r["state"]),
        attributes=pd.DataFrame({"attribute": attrs.index, "value": [("" if ia.is_missing(v) else str(v)) for v in attrs.values]}),
        tags=pd.DataFrame({"key": list(tags), "value": list(tags.values())}),
        configuration_readable=readable, configuration=config)


def host_choices(matches: pd.DataFrame) -> dict[str, str]:
    """{resource id: label} of the resources a host name matches."""
    return {r.resource_id: f"{r.resource_id} · {r.resource_type} · {r.account_id}" for r in matches.itertuples()}


@dataclass(frozen=True)
class Seen:
    first: dt.date
    last: dt.date
    snapshots: int


def seen_of(seen: pd.DataFrame) -> Seen | None:
    """First and last snapshot of a resource from `inventory.resource_seen` (None when never seen)."""
    row = seen.iloc[0] if len(seen) else None
    if row is None or pd.isna(row["first_seen"]) or not int(row["snapshots"]):
        return None
    first, last = as_dates([row["first_seen"], row["last_seen"]])
    return Seen(first, last, int(row["snapshots"]))


@dataclass(frozen=True)
class RecentEvents:
    first_day: dt.date
    last_day: dt.date
    total: int


def recent_events(counts: pd.DataFrame) -> RecentEvents:
    """The days the event list reads (the last days with events) from `inventory.host_event_counts` rows."""
    last_day = max(as_dates(counts["latest_date"]))
    return RecentEvents(last_day - dt.timedelta(days=q.RECENT_EVENT_DAYS - 1), last_day, int(counts["events"].sum()))


def daily_cost_in(daily: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A resource's daily cost (`inventory.resource_daily_cost` rows) in one currency (the chart of that currency)."""
    return daily[daily["currency"] == currency].reset_index(drop=True)


# --- history -----------------------------------------------------------------------------------

def state_on(history: pd.DataFrame, day: dt.date) -> pd.DataFrame | None:
    """A resource's attributes on `day` (attribute, value) from its history, or None when it did not exist."""
    on_day = history[pd.to_datetime(history["snapshot_date"]).dt.date == day]
    if on_day.empty:
        return None
    row = on_day.iloc[0].drop(labels=["snapshot_date"])
    return pd.DataFrame({"attribute": row.index, "value": [ia.display_value(v) for v in row.values]})


def history_timeline(history: pd.DataFrame) -> pd.DataFrame:
    return ia.history_changes(history)
