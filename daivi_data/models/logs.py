"""The Logs page model: a request (search, range, anchor) -> the Splunk queries -> what the page shows.

Pure and Streamlit-free. The page runs `overview_query` once for the count, timeline and Fields
panel (one scan of the matching events), then reads its Events page from only the newest buckets
that hold the rows it shows (`events_page_query`): a message search then scans the range once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from daivi_data import search_language as sl
from daivi_data.data_span import minute_after
from daivi_data.errors import InvalidRequest
from daivi_data.queries import Query
from daivi_data.queries import splunk as q

RANGE_LABELS = {**q.RELATIVE_RANGE_LABELS, "custom": "Custom range (UTC)"}
DEFAULT_RANGE = "24h"
ANCHOR_LABELS = {"latest": "Newest event", "now": "Now"}
PANEL_FIELDS = ("index", "sourcetype", "host", "severity", "status", "user")
NO_FIELD = "none"
EXTRA_FIELD_OPTIONS = (NO_FIELD, *(f for f in sl.FACET_FIELDS if f not in PANEL_FIELDS))
DEFAULT_SPLIT = "severity"
TABS = ("Events", "Stats", "Error rate")
# Average and percentile need a number: numeric fields first in the "Of field" choice.
NUMERIC_FIRST_FIELDS = (*sl.NUMERIC_FIELDS, *(f for f in sl.FACET_FIELDS if f not in sl.NUMERIC_FIELDS))
HELP = {
    "range": "The last 15 minutes to 7 days, or a custom absolute range. All times are UTC.",
    "anchor": "Newest event: count back from the newest event (exports lag: the demo data ends yesterday). Now: from the current time.",
    "export": f"Exports at most {q.EXPORT_MAX_ROWS:,} events, newest first. Narrow the search for older ones.",
    "stat": "Count of events, distinct count, average or 95th percentile.",
    "of": "Average and 95th percentile need a numeric field: status, bytes or duration (ms).",
}


def whole_minutes(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A span selected on the timeline, widened to whole minutes (the From/To inputs step by the minute)."""
    return start.replace(second=0, microsecond=0), minute_after(end - dt.timedelta(microseconds=1))


def newest_of(rows: pd.DataFrame) -> dt.datetime | None:
    """The newest event time from `splunk.newest_event_time` (None: the role sees no event)."""
    newest = rows["newest"].iloc[0]
    return None if pd.isna(newest) else pd.Timestamp(newest).to_pydatetime()


def is_url_datetime(text: str) -> bool:
    """Whether a `from`/`to` URL value is an ISO date and time."""
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class LogsRequest:
    """What the page's controls (or URL) ask for. `start`/`end` matter only for the custom range."""

    search: str = ""
    range_key: str = DEFAULT_RANGE
    anchor: str = "latest"
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @property
    def custom(self) -> bool:
        return self.range_key == "custom"


def anchor_time(request: LogsRequest, newest: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """Where a preset range ends: after the newest event the role can see, or now (both on whole minutes)."""
    return minute_after(newest) if request.anchor == "latest" and newest else minute_after(now)


def preset_range(request: LogsRequest, newest: dt.datetime | None, now: dt.datetime) -> q.TimeRange:
    """The preset's range (the default preset's under a custom range: the From/To inputs start from it)."""
    return q.relative_range(DEFAULT_RANGE if request.custom else request.range_key, anchor_time(request, newest, now))


def time_range(request: LogsRequest, newest: dt.datetime | None, now: dt.datetime) -> tuple[q.TimeRange, str | None]:
    """The range searched, and a notice when a custom range was shortened to the longest allowed."""
    if not request.custom:
        return preset_range(request, newest, now), None
    if request.start is None or request.end is None:
        raise InvalidRequest("Pick a start and an end for the custom range.")
    return q.bounded_range(request.start, request.end)


def range_caption(request: LogsRequest, tr: q.TimeRange, newest: dt.datetime | None) -> str:
    """The line under the range controls that says what the range is relative to."""
    if request.custom:
        return f"Absolute range {tr.label()}. Drag across the timeline to zoom; pick a preset to go back."
    if request.anchor == "latest" and newest:
        return f"Relative to the newest event, {newest:%Y-%m-%d %H:%M} UTC · {tr.label()}"
    return f"Relative to now · {tr.label()}"


def event_filter(request: LogsRequest, newest: dt.datetime | None, now: dt.datetime) -> q.EventFilter:
    """The filter of every query of the page (InvalidRequest / SearchSyntaxError for a bad range or search)."""
    return q.EventFilter.of(time_range(request, newest, now)[0], request.search)


# --- what the role may not see ---------------------------------------------------------------------


def indexes_hidden_by(row_filter: str | None) -> list[str]:
    """Splunk indexes a role's row filter leaves out (`index_name <> 'security'` in config/grants.toml)."""
    return re.findall(r"index_name\s*(?:<>|!=)\s*'([^']+)'", row_filter or "")


def hidden_indexes_asked_for(search: str, row_filter: str | None) -> list[str]:
    """The hidden indexes a search names (`index=security`): the page says the role cannot read them."""
    return [i for i in indexes_hidden_by(row_filter)
            if re.search(rf"\bindex\s*=\s*\"?{re.escape(i)}\b", search or "", flags=re.IGNORECASE)]


def hidden_index_notice(role: str, hidden: list[str]) -> str:
    return (f"Your role (`{role}`) cannot read the **{', '.join(hidden)}** index: its events are never counted here. "
            "Ask the data platform team if you need them.")


def inventory_hosts_query(snapshot: str | None, hosts: list[str], known: Iterable[str] = ()) -> Query | None:
    """Which of `hosts` (not already `known`) are resources of the inventory snapshot; None when there is nothing to ask."""
    hosts = [h for h in hosts if h and h not in set(known)]
    return q.inventory_hosts(dt.date.fromisoformat(snapshot), hosts) if hosts and snapshot else None


def no_match_hint(newest: dt.datetime | None, tr: q.TimeRange) -> str:
    if newest and newest < tr.start:
        # Exports lag: a range relative to now can lie entirely after the newest event.
        return (f"The newest event is at {newest:%Y-%m-%d %H:%M} UTC, before this range: "
                "set **Relative to** to Newest event, or widen the range.")
    return "Widen the range or remove a term."


# --- the overview: count, timeline and Fields panel in one query -----------------------------------


def panel_fields(extra: str) -> tuple[str, ...]:
    """The Fields panel's fields: the standard ones and the one the user added."""
    return (*PANEL_FIELDS, *((extra,) if extra != NO_FIELD else ()))


def overview_query(f: q.EventFilter, split_field: str, fields: tuple[str, ...]) -> Query:
    return q.search_overview(f, split_field, q.auto_bucket_seconds(f.time_range), fields)


@dataclass(frozen=True)
class SearchOverview:
    """The overview query's rows split into what the page draws."""

    total: int
    first_event: pd.Timestamp | None
    last_event: pd.Timestamp | None
    timeline: pd.DataFrame  # bucket, value, events (as `splunk.timeline`)
    top_values: pd.DataFrame  # field, value, events, distinct_values, events_with_field (as `splunk.top_values_by_field`)

    def values_of(self, field: str) -> pd.DataFrame:
        return self.top_values[self.top_values["field"] == field].reset_index(drop=True)


def overview_of(rows: pd.DataFrame) -> SearchOverview:
    timeline_rows = rows["part"] == q.TIMELINE_PART
    timeline = rows[timeline_rows]
    top = rows[~timeline_rows].rename(columns={"part": "field"})
    return SearchOverview(
        total=int(timeline["events"].sum()),
        first_event=timeline["first_event"].min() if len(timeline) else None,
        last_event=timeline["last_event"].max() if len(timeline) else None,
        timeline=timeline[["bucket", "value", "events"]].sort_values(["bucket", "value"]).reset_index(drop=True),
        top_values=top[["field", "value", "events", "distinct_values", "events_with_field"]].reset_index(drop=True),
    )


def share_text(part: int, whole: int) -> str:
    """A share as a percentage that never shows a non-zero count as 0.0%."""
    share = part / whole if whole else 0.0
    return f"{share:.1%}" if share >= 0.001 or part == 0 else f"{share:.2%}" if share >= 0.0001 else "<0.01%"


def field_caption(values: pd.DataFrame, field: str, total: int) -> str:
    return f"{int(values['events_with_field'].iloc[0]):,} of {total:,} events have {field}; top {len(values)} with exact counts."


# --- events: newest first, read from the newest buckets only ---------------------------------------


def page_count(total: int) -> int:
    return max(1, math.ceil(min(total, q.MAX_PAGED_ROWS) / q.PAGE_SIZE))


def newest_rows_range(f: q.EventFilter, timeline: pd.DataFrame, rows: int) -> q.TimeRange:
    """The latest part of the range that holds the newest `rows` matching events (the timeline counts them).

    Every event in a later bucket sorts before every event in an earlier one, so the newest `rows`
    events lie in the buckets from the one where the count, summed from the newest, reaches `rows`.
    A query over that tail returns the same rows while scanning only its days.
    """
    per_bucket = timeline.groupby("bucket")["events"].sum().sort_index(ascending=False).cumsum()
    reached = per_bucket[per_bucket >= rows]
    if reached.empty:
        return f.time_range
    start = max(pd.Timestamp(reached.index[0]).to_pydatetime(), f.time_range.start)
    return q.TimeRange(start, f.time_range.end)


def shown_columns(columns: list[str]) -> list[str]:
    return list(dict.fromkeys(["event_time", *columns]))


def events_page_query(f: q.EventFilter, timeline: pd.DataFrame, columns: list[str], page: int) -> Query:
    """Page `page` (from 1) of the matching events, newest first, with host and message for the raw-event panel."""
    first = (page - 1) * q.PAGE_SIZE
    narrowed = q.EventFilter(newest_rows_range(f, timeline, first + q.PAGE_SIZE), f.search)
    return q.events_page(narrowed, (*shown_columns(columns), "host", "message"), q.PAGE_SIZE, first)  # a tuple: built once


def export_rows(total: int) -> int:
    return min(total, q.EXPORT_MAX_ROWS)


def export_query(f: q.EventFilter, timeline: pd.DataFrame, columns: list[str], total: int) -> Query:
    rows = max(export_rows(total), 1)
    return q.events_page(q.EventFilter(newest_rows_range(f, timeline, rows), f.search), tuple(shown_columns(columns)), rows, 0)


def events_caption(first: int, shown: int, total: int) -> str:
    caption = f"Events {first + 1:,}–{first + shown:,} of {total:,}, newest first."
    if total > q.MAX_PAGED_ROWS:
        caption += f" Paging reaches the newest {q.MAX_PAGED_ROWS:,}; narrow the search or the range for older events."
    return caption + f" CSV export: up to {q.EXPORT_MAX_ROWS:,} rows."


def events_table(page: pd.DataFrame, inventory_urls: dict[str, str]) -> pd.DataFrame:
    """The page of events, with an `inventory` link beside hosts that are inventory resources."""
    table = page.copy()
    if inventory_urls and "host" in table:
        table["inventory"] = [inventory_urls.get(h) for h in table["host"]]
    return table


def column_order(shown: list[str], table: pd.DataFrame) -> list[str]:
    """The shown columns, with the inventory link right after the host."""
    if "inventory" not in table or "host" not in shown:
        return shown
    at = shown.index("host") + 1
    return [*shown[:at], "inventory", *shown[at:]]


# --- stats and error rate ------------------------------------------------------------------------


def stat_label(stat: str, of_field: str) -> str:
    return "events" if stat == "count" else f"{q.STATS[stat]} of {of_field}"


def stats_shown(table: pd.DataFrame, stat: str, by_field: str, label: str) -> pd.DataFrame:
    """The stats table as shown: for `count` the statistic *is* the events column, so it is dropped."""
    shown = table.drop(columns="stat") if stat == "count" else table
    return shown.rename(columns={"value": by_field, "stat": label})


def stats_caption(groups: int, by_field: str, label: str, stat: str) -> str:
    return f"Top {groups} {by_field} values by {label}" + (" (p95 is approximate, as Athena's approx_percentile)." if stat == "p95" else ".")


def error_shares(rate: pd.DataFrame) -> list[tuple[str, int, int]]:
    """The Error rate tab's two figures: (label, part, whole)."""
    return [("5xx share of HTTP responses", int(rate["server_errors"].sum()), int(rate["http_events"].sum())),
            ("ERROR/CRITICAL share of events", int(rate["error_events"].sum()), int(rate["events"].sum()))]


def percent_of(part: int, whole: int) -> str:
    return f"{part / whole:.2%}" if whole else "–"
