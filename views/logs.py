"""Logs: Splunk-style search, timeline, fields, events and stats over the Splunk lakehouse."""

import datetime as dt
import math
import urllib.parse

import pandas as pd
import streamlit as st

from daivi_data import search_language as sl
from daivi_data.errors import DaiviError
from daivi_data.queries import splunk as q
from daivi_ui.components import csv_download, empty_state, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.figures_logs import (
    bucket_label,
    build_error_rate_figure,
    build_stats_timechart_figure,
    build_timeline_figure,
    selected_span,
)
from daivi_ui.state import URL, check_url_param
from daivi_ui.text import code_literal, literal

RANGE_OPTIONS = (*q.RELATIVE_RANGES, "custom")
DEFAULT_RANGE = "24h"
ANCHORS = ("latest", "now")
PANEL_FIELDS = ("index", "sourcetype", "host", "severity", "status", "user")
NO_FIELD = "none"
EXTRA_FIELD_OPTIONS = (NO_FIELD, *(f for f in sl.FACET_FIELDS if f not in PANEL_FIELDS))
TABS = ("Events", "Stats", "Error rate")
SEARCH_HELP = """
**Search language** (Splunk-like; every value is matched literally, never pasted into SQL):

| you type | matches |
|---|---|
| `timeout` | the message contains *timeout* (any case) |
| `"connection reset"` | the phrase in the message |
| `time*out` | `*` is a wildcard, in words and in field values |
| `host=web-01` / `host!=web-01` | a field equals / differs (text fields in any case; `!=` needs the field present) |
| `status>=500`, `duration>1000` | numeric comparisons `= != < <= > >=` on status, bytes, duration |
| `status=5*`, `path="/api/*/orders"` | wildcards in values; quote values with spaces or `=` |
| `NOT index=security` | negation (also matches events without the field) |
| `a OR b`, `(a OR b) c`, `a AND b` | OR, parentheses; terms side by side mean AND |

Fields: index, sourcetype, source, host, account, severity, method, path, status, bytes, duration, user,
client_ip (or ip), message. Operators are upper case (`AND OR NOT`); a backslash makes the next character literal.
"""

ctx = app_context()
if not ctx.can_read("splunk"):
    st.warning(
        f"Your role (`{ctx.principal.role}`) may not read the Splunk lakehouse, so the Logs view is not available. "
        "Ask the data platform team for access.",
        icon=":material/lock:",
    )
    st.stop()

results = []


def run(query):
    result = ctx.run(query)
    results.append(result)
    return result.df


def ceil_minute(t: dt.datetime) -> dt.datetime:
    """The next whole minute after `t` (a range ending there includes `t`)."""
    return t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


# --- callbacks: they edit widget state before the widgets are drawn -----------------------------


def reset_page() -> None:
    st.session_state["page"] = 1


def add_clause(field: str, value: str, exclude: bool) -> None:
    st.session_state["q"] = sl.with_clause(st.session_state.get("q") or "", field, value, exclude)
    reset_page()


def zoom_to_selection() -> None:
    chart = st.session_state.get("timeline")
    span = selected_span(chart.get("selection") if chart else None)
    if span:
        st.session_state["range"] = "custom"
        # The From/To inputs step by the minute: widen the span to whole minutes.
        start, end = span
        st.session_state["from"] = start.replace(second=0, microsecond=0)
        st.session_state["to"] = ceil_minute(end - dt.timedelta(microseconds=1))
        reset_page()


def range_changed() -> None:
    # Switching to a custom range starts from the span that was on screen.
    shown = st.session_state.get("_logs_shown_range")
    if st.session_state.get("range") == "custom" and shown:
        st.session_state["from"], st.session_state["to"] = shown
    reset_page()


# --- time anchor -----------------------------------------------------------------------------

if not ctx.embed:
    st.title("Logs")
    st.caption("Search the events exported from Splunk: exact counts, computed under your role's grants.")

info = ctx.connection.engine.table_info("daivi_splunk", "events")
if not info.exists or not info.latest_partition:
    empty_state("The Splunk lakehouse has no events yet. Import an export or build the demo lakehouse.")
    st.stop()


now = ceil_minute(dt.datetime.now(dt.UTC).replace(tzinfo=None))
try:
    newest = run(q.newest_event_time(dt.date.fromisoformat(info.latest_partition)))["newest"].iloc[0]
except DaiviError as e:
    show_error(e)
    st.stop()
newest = None if pd.isna(newest) else pd.Timestamp(newest).to_pydatetime()

# --- controls ----------------------------------------------------------------------------------
# URL-bound selectboxes carry no format_func: Streamlit stores the *formatted* option in the URL,
# which would break links such as ./logs?range=24h.

URL_CHOICES = (
    ("range", RANGE_OPTIONS, "time range"), ("anchor", ANCHORS, "relative to"), ("tab", TABS, "tab"),
    ("split", sl.FACET_FIELDS, "stack timeline by"), ("field", EXTRA_FIELD_OPTIONS, "another field"),
    ("stat", tuple(q.STATS), "statistic"), ("of", sl.FACET_FIELDS, "of field"), ("by", sl.FACET_FIELDS, "by field"),
    ("cols", q.EVENT_COLUMNS, "columns"),
)
for key, valid, label in URL_CHOICES:
    check_url_param(key, valid, label)


def is_url_datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


check_url_param("from", is_url_datetime, "from (YYYY-MM-DDTHH:MM)")
check_url_param("to", is_url_datetime, "to (YYYY-MM-DDTHH:MM)")

search_col, range_col, anchor_col = st.columns([5, 1.3, 1.6], vertical_alignment="bottom")
search = search_col.text_input(
    "Search", key="q", bind=URL, on_change=reset_page, placeholder='error status>=500 NOT index=security "timed out"',
    help=SEARCH_HELP, icon=":material/search:",
)
range_key = range_col.selectbox(
    "Time range", RANGE_OPTIONS, index=RANGE_OPTIONS.index(DEFAULT_RANGE), key="range", bind=URL, on_change=range_changed,
    help="Last 15m, 1h, 4h, 24h or 7d, or a custom absolute range (UTC).",
)
anchor = anchor_col.selectbox(
    "Relative to", ANCHORS, key="anchor", bind=URL, on_change=reset_page, disabled=range_key == "custom",
    help="`latest`: count back from the newest event (exports lag: the demo data ends yesterday); `now`: from the current time.",
)
anchor_time = ceil_minute(newest) if anchor == "latest" and newest else now

notice = None
try:
    custom = range_key == "custom"
    preset = q.relative_range(DEFAULT_RANGE if custom else range_key, anchor_time)
    if not custom:
        # The From/To inputs always exist (so a zoom can set them and the URL follows); under a
        # preset they show its bounds, equal to their default, so they stay out of the URL.
        st.session_state["from"], st.session_state["to"] = preset.start, preset.end
    from_col, to_col = st.columns(2)
    start = from_col.datetime_input("From (UTC)", value=preset.start, key="from", bind=URL, step=60, disabled=not custom,
                                    on_change=reset_page)
    end = to_col.datetime_input("To (UTC)", value=preset.end, key="to", bind=URL, step=60, disabled=not custom,
                                on_change=reset_page)
    if custom:
        if start is None or end is None:
            st.info("Pick a start and an end for the custom range.", icon=":material/schedule:")
            st.stop()
        time_range, notice = q.bounded_range(start, end)
        st.caption(f"Absolute range {time_range.label()}. Drag across the timeline to zoom; pick a preset to go back.")
    else:
        time_range = preset
        if anchor == "latest" and newest:
            st.caption(f"Relative to the newest event, {newest:%Y-%m-%d %H:%M} UTC · {time_range.label()}")
        else:
            st.caption(f"Relative to now · {time_range.label()}")
except DaiviError as e:
    show_error(e)
    st.stop()
if notice:
    st.warning(notice, icon=":material/date_range:")
st.session_state["_logs_shown_range"] = (time_range.start, time_range.end)

try:
    event_filter = q.EventFilter.of(time_range, search or "")
except sl.SearchSyntaxError as e:
    show_error(e)
    if e.position:
        # Point at the spot, as a compiler would.
        st.code(f"{search}\n{' ' * (e.position - 1)}^", language=None)
    st.stop()
except DaiviError as e:
    show_error(e)
    st.stop()

# --- summary and timeline ----------------------------------------------------------------------

bucket_s = q.auto_bucket_seconds(time_range)
try:
    summary = run(q.event_summary(event_filter)).iloc[0]
    total = int(summary["events"])
    split_col, info_col = st.columns([1, 3], vertical_alignment="bottom")
    split_field = split_col.selectbox("Stack timeline by", sl.FACET_FIELDS, index=sl.FACET_FIELDS.index("severity"),
                                      key="split", bind=URL)
    info_col.markdown(f"**{total:,} events** match · bars of {bucket_label(bucket_s)} · drag across the bars to zoom")
    if total == 0:
        hint = "Widen the range or remove a term."
        if newest and newest < time_range.start:
            # Exports lag: a range relative to now can lie entirely after the newest event.
            hint = (f"The newest event is at {newest:%Y-%m-%d %H:%M} UTC, before this range: "
                    "set **Relative to** to `latest`, or widen the range.")
        empty_state(f"No events match this search in this range. {hint}")
        show_query_stats(results)
        st.stop()
    timeline_df = run(q.timeline(event_filter, split_field, bucket_s))
    st.plotly_chart(
        build_timeline_figure(timeline_df, bucket_s, split_field, time_range.start, time_range.end),
        key="timeline", on_select=zoom_to_selection, selection_mode="box",
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "autoScale2d"]},
    )
except DaiviError as e:
    show_error(e)
    st.stop()

inventory_hosts: set[str] = set()


def link_inventory_hosts(hosts: list[str]) -> None:
    """Remember which hosts are inventory resources (only when the role may read the inventory)."""
    hosts = [h for h in hosts if h and h not in inventory_hosts]
    if not hosts or not ctx.can_read("inventory"):
        return
    snapshot = ctx.connection.engine.table_info("daivi_inventory", "resources").latest_partition
    if snapshot:
        inventory_hosts.update(run(q.inventory_hosts(dt.date.fromisoformat(snapshot), hosts))["host"])


def share_text(part: int, whole: int) -> str:
    """A share as a percentage that never shows a non-zero count as 0.0%."""
    share = part / whole if whole else 0.0
    return f"{share:.1%}" if share >= 0.001 or part == 0 else f"{share:.2%}" if share >= 0.0001 else "<0.01%"


def inventory_url(host: str) -> str:
    return "./inventory?" + urllib.parse.urlencode({"host": host})


fields_col, main_col = st.columns([1.35, 3], gap="medium")

# --- fields panel ------------------------------------------------------------------------------

with fields_col:
    st.markdown("**Fields**")
    extra = st.selectbox("Another field", EXTRA_FIELD_OPTIONS, key="field", bind=URL)
    panel_fields = (*PANEL_FIELDS, *((extra,) if extra != NO_FIELD else ()))
    try:
        # One grouped query for every field: a single scan (and a single Athena bill).
        all_values = run(q.top_values_by_field(event_filter, panel_fields))
        link_inventory_hosts(list(all_values.loc[all_values["field"] == "host", "value"]))
    except DaiviError as e:
        show_error(e)
        panel_fields = ()
    for field in panel_fields:
        values = all_values[all_values["field"] == field].reset_index(drop=True)
        distinct = int(values["distinct_values"].iloc[0]) if len(values) else 0
        with st.expander(f"{field} · {distinct:,} value{'s' if distinct != 1 else ''}", expanded=field in ("severity", "host", extra)):
            if values.empty:
                st.caption(f"No event in the range has {field}.")
                continue
            with_field = int(values["events_with_field"].iloc[0])
            st.caption(f"{with_field:,} of {total:,} events have {field}; top {len(values)} with exact counts.")
            for i, row in enumerate(values.itertuples(index=False)):
                value, events = str(row.value), int(row.events)
                label = f"[{literal(value)}]({inventory_url(value)})" if field == "host" and value in inventory_hosts else code_literal(value)
                text_col, plus_col, minus_col = st.columns([6, 1, 1], vertical_alignment="center", gap="xsmall")
                text_col.markdown(f"{label}  \n:gray[{events:,} · {share_text(events, total)}]")
                plus_col.button(":material/add:", key=f"include-{field}-{i}", help=f"Add {literal(f'{field}={value}')} to the search",
                                on_click=add_clause, args=(field, value, False), type="tertiary")
                minus_col.button(":material/remove:", key=f"exclude-{field}-{i}", help=f"Exclude: {literal(f'{field}!={value}')}",
                                 on_click=add_clause, args=(field, value, True), type="tertiary")

# --- events, stats, error rate -----------------------------------------------------------------

with main_col:
    events_tab, stats_tab, errors_tab = st.tabs(list(TABS), key="tab", bind=URL, on_change="rerun")

    if events_tab.open:
        with events_tab:
            columns = st.multiselect("Columns", q.EVENT_COLUMNS, default=list(q.DEFAULT_EVENT_COLUMNS), key="cols", bind=URL)
            shown_columns = list(dict.fromkeys(["event_time", *columns]))
            pageable = min(total, q.MAX_PAGED_ROWS)
            pages = max(1, math.ceil(pageable / q.PAGE_SIZE))
            if not 1 <= int(st.session_state.get("page") or 1) <= pages:
                st.session_state["page"] = 1
            page_col, export_col = st.columns([3, 2], vertical_alignment="center")
            with page_col:
                page = st.pagination(pages, key="page", bind=URL, max_visible_pages=7)
            first = (page - 1) * q.PAGE_SIZE
            try:
                page_df = run(q.events_page(event_filter, [*shown_columns, "host", "message"], q.PAGE_SIZE, first))
                if "host" in shown_columns:
                    link_inventory_hosts(list(page_df["host"].dropna().unique()))
            except DaiviError as e:
                show_error(e)
                page_df = None
            export_rows = min(total, q.EXPORT_MAX_ROWS)
            principal, connection = ctx.principal, ctx.connection
            export_query = q.events_page(event_filter, shown_columns, max(export_rows, 1), 0)

            with export_col:  # the export query runs on click only, so the page never pays for it up front
                csv_download(lambda: connection.run(export_query, principal).df, "daivi-logs.csv",
                             f"Export CSV ({export_rows:,} newest rows)", key="export",
                             help=f"Exports at most {q.EXPORT_MAX_ROWS:,} events, newest first. Narrow the search for older ones.")
            caption = f"Events {first + 1:,}–{first + (0 if page_df is None else len(page_df)):,} of {total:,}, newest first."
            if total > q.MAX_PAGED_ROWS:
                caption += f" Paging reaches the newest {q.MAX_PAGED_ROWS:,}; narrow the search or the range for older events."
            caption += f" CSV export: up to {q.EXPORT_MAX_ROWS:,} rows."
            st.caption(caption)
            if page_df is not None:
                table = page_df.copy()
                column_config = {
                    "event_time": st.column_config.DatetimeColumn("time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                    "message": st.column_config.TextColumn("message", width="large"),
                }
                order = list(shown_columns)
                if "host" in shown_columns and inventory_hosts:
                    table["inventory"] = [inventory_url(h) if h in inventory_hosts else None for h in table["host"]]
                    column_config["inventory"] = st.column_config.LinkColumn("inventory", display_text="open ↗",
                                                                              help="The host in the Inventory view")
                    order.insert(order.index("host") + 1, "inventory")
                selection = st.dataframe(
                    table, key="events_table", hide_index=True, column_order=order, column_config=column_config,
                    on_select="rerun", selection_mode="single-row",
                )
                rows = selection.selection.rows if selection else []
                if rows:
                    event = table.iloc[rows[0]]
                    st.markdown(f"**Raw event** · {pd.Timestamp(event['event_time']):%Y-%m-%d %H:%M:%S} · host {literal(event['host'])}")
                    st.code(str(event["message"]), language=None, wrap_lines=True)
                else:
                    st.caption("Select a row to read its raw message.")

    if stats_tab.open:
        with stats_tab:
            stat_col, of_col, by_col = st.columns(3)
            stat = stat_col.selectbox("Statistic", list(q.STATS), key="stat", bind=URL, help="count, dc (distinct count), avg, p95")
            numeric_first = (*sl.NUMERIC_FIELDS, *(f for f in sl.FACET_FIELDS if f not in sl.NUMERIC_FIELDS))
            of_field = of_col.selectbox("of field", numeric_first, index=numeric_first.index("duration"), key="of", bind=URL,
                                        disabled=stat == "count",
                                        help="avg and p95 need a numeric field: status, bytes or duration (ms).")
            by_field = by_col.selectbox("by field", sl.FACET_FIELDS, index=sl.FACET_FIELDS.index("host"), key="by", bind=URL)
            stat_label = "events" if stat == "count" else f"{q.STATS[stat]} of {of_field}"
            try:
                table = run(q.stats_table(event_filter, stat, of_field, by_field))
                series = list(table["value"].head(q.MAX_SERIES))
                chart = run(q.stats_timechart(event_filter, stat, of_field, by_field, series, bucket_s)) if series else None
            except DaiviError as e:
                show_error(e)
            else:
                shown = table.drop(columns="stat") if stat == "count" else table  # count *is* the events column
                st.dataframe(
                    shown.rename(columns={"value": by_field, "stat": stat_label}), hide_index=True, key="stats_table",
                    column_config={stat_label: st.column_config.NumberColumn(format="%.2f" if stat in ("avg", "p95") else "%d")},
                )
                st.caption(f"Top {len(table)} {by_field} values by {stat_label}"
                           + (" (p95 is approximate, as Athena's approx_percentile)." if stat == "p95" else "."))
                if chart is not None:
                    st.plotly_chart(build_stats_timechart_figure(chart, stat_label, bucket_s), key="stats_chart")

    if errors_tab.open:
        with errors_tab:
            try:
                rate = run(q.error_rate(event_filter, bucket_s))
            except DaiviError as e:
                show_error(e)
            else:
                http, server = int(rate["http_events"].sum()), int(rate["server_errors"].sum())
                errors, events = int(rate["error_events"].sum()), int(rate["events"].sum())
                a, b = st.columns(2)
                a.metric("5xx share of HTTP responses", f"{server / http:.2%}" if http else "–", help=f"{server:,} of {http:,}")
                b.metric("ERROR/CRITICAL share of events", f"{errors / events:.2%}" if events else "–", help=f"{errors:,} of {events:,}")
                st.plotly_chart(build_error_rate_figure(rate, bucket_s), key="error_rate_chart")

show_query_stats(results)
