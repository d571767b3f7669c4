"""Logs: Splunk-style search, timeline, fields, events and stats over the Splunk lakehouse (layout over `models.logs`)."""

import datetime as dt

import pandas as pd
import streamlit as st

from daivi_data import search_language as sl
from daivi_data.errors import DaiviError
from daivi_data.models import logs as model
from daivi_data.queries import splunk as q
from daivi_ui import figures_logs as figures
from daivi_ui.components import csv_download, empty_state
from daivi_ui.errors import show_error
from daivi_ui.page import open_page
from daivi_ui.state import URL, check_url_param, labelled_choice, labelled_multichoice, peek_choice
from daivi_ui.tables import header, show_table
from daivi_ui.text import code_literal, literal

FIELD_LABELS = {f: header(f) for f in sl.FACET_FIELDS}
EXTRA_FIELD_LABELS = {f: "None" if f == model.NO_FIELD else header(f) for f in model.EXTRA_FIELD_OPTIONS}

# --- callbacks: they edit widget state before the widgets are drawn -----------------------------


def reset_page() -> None:
    st.session_state["page"] = 1


def add_clause(field: str, value: str, exclude: bool) -> None:
    st.session_state["q"] = sl.with_clause(st.session_state.get("q") or "", field, value, exclude)
    reset_page()


def zoom_to_selection() -> None:
    chart = st.session_state.get("timeline")
    span = figures.selected_span(chart.get("selection") if chart else None)
    if span:
        st.session_state["range"] = "custom"
        st.session_state["from"], st.session_state["to"] = model.whole_minutes(*span)
        reset_page()


def range_changed() -> None:
    shown = st.session_state.get("_logs_shown_range")  # a custom range starts from the span on screen
    if st.session_state.get("range") == "custom" and shown:
        st.session_state["from"], st.session_state["to"] = shown
    reset_page()


page = open_page("Logs", "Search the events exported from Splunk: exact counts, computed under your role's grants.", needs="splunk")
ctx = page.ctx
info = page.table_with_data("daivi_splunk", "events",
                            "The Splunk lakehouse has no events yet. Import an export or build the demo lakehouse.")
newest = model.newest_of(page.run(q.newest_event_time(dt.date.fromisoformat(info.latest_partition))))

# --- controls: labels on screen ("Last 24 hours"), short keys in the URL (`?range=24h`) -----------

check_url_param("tab", model.TABS, "tab")
check_url_param("from", model.is_url_datetime, "from (YYYY-MM-DDTHH:MM)")
check_url_param("to", model.is_url_datetime, "to (YYYY-MM-DDTHH:MM)")
searched = st.session_state.get("q") or st.query_params.get("q") or ""
layout = page.layout(lambda: f"{literal(searched, 60) if searched else 'All events'} · "
                             f"{model.RANGE_LABELS[peek_choice('range', model.RANGE_LABELS, model.DEFAULT_RANGE)]} (UTC)")
controls = layout.controls
row = controls.container(horizontal=True, gap="small", vertical_alignment="bottom")  # wraps on a narrow screen
search = row.text_input("Search", key="q", bind=URL, on_change=reset_page, placeholder='error status>=500 NOT index=security "timed out"',
                        help=sl.SEARCH_HELP, icon=":material/search:", width="stretch")
range_key = labelled_choice(row.selectbox, "Time range", model.RANGE_LABELS, key="range", default=model.DEFAULT_RANGE,
                            on_change=range_changed, width=190, help=model.HELP["range"])
anchor = labelled_choice(row.selectbox, "Relative to", model.ANCHOR_LABELS, key="anchor", default="latest", on_change=reset_page,
                         disabled=range_key == "custom", width=170, help=model.HELP["anchor"])
request = model.LogsRequest(search=search or "", range_key=range_key, anchor=anchor)
try:
    preset = model.preset_range(request, newest, ctx.now)
    if not request.custom:  # under a preset the From/To inputs show its bounds (their default: kept out of the URL)
        st.session_state["from"], st.session_state["to"] = preset.start, preset.end
    from_col, to_col = controls.columns(2)
    start = from_col.datetime_input("From (UTC)", value=preset.start, key="from", bind=URL, step=60, disabled=not request.custom,
                                    on_change=reset_page)
    end = to_col.datetime_input("To (UTC)", value=preset.end, key="to", bind=URL, step=60, disabled=not request.custom,
                                on_change=reset_page)
    request = model.LogsRequest(request.search, range_key, anchor, start, end)
    if request.custom and (start is None or end is None):
        st.info("Pick a start and an end for the custom range.", icon=":material/schedule:")
        st.stop()
    time_range, notice = model.time_range(request, newest, ctx.now)
    controls.caption(model.range_caption(request, time_range, newest))
    event_filter = q.EventFilter.of(time_range, request.search)
except DaiviError as e:
    show_error(e)
    if isinstance(e, sl.SearchSyntaxError) and e.position:
        st.code(f"{search}\n{' ' * (e.position - 1)}^", language=None)  # point at the spot, as a compiler would
    st.stop()
if notice:
    layout.body.warning(notice, icon=":material/date_range:")
st.session_state["_logs_shown_range"] = (time_range.start, time_range.end)
grant = ctx.grants.grant_for("daivi_splunk", "events")
hidden = model.hidden_indexes_asked_for(request.search, grant.row_filter if grant else None)
if hidden:  # a search for an index the role cannot read says so, not a bare "no events match"
    layout.body.info(model.hidden_index_notice(ctx.principal.role, hidden), icon=":material/lock:")

# --- count, timeline and fields: one query ----------------------------------------------------------

bucket_s = q.auto_bucket_seconds(time_range)
split_col, info_col = layout.chart_area.columns([1, 3], vertical_alignment="bottom")
split_field = labelled_choice(split_col.selectbox, "Stack timeline by", FIELD_LABELS, key="split", default=model.DEFAULT_SPLIT)
fields = model.panel_fields(peek_choice("field", EXTRA_FIELD_LABELS, model.NO_FIELD))
overview = page.derived(model.overview_of, page.run(model.overview_query(event_filter, split_field, fields)))
total = overview.total
info_col.markdown(f"**{total:,} events** match · bars of {figures.bucket_label(bucket_s)} · drag across the bars to zoom")
if total == 0:
    empty_state(f"No events match this search in this range. {model.no_match_hint(newest, time_range)}")
    page.stats()
    st.stop()
layout.chart_area.plotly_chart(
    page.figure(figures.build_timeline_figure, overview.timeline, bucket_s, split_field, time_range.start, time_range.end),
    key="timeline", on_select=zoom_to_selection, selection_mode="box",
    config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "autoScale2d"]},
)
inventory_urls: dict[str, str] = {}


def link_inventory_hosts(hosts: list[str]) -> None:
    """Link hosts that are inventory resources to the Inventory view, as the signed-in persona (only if the role reads it)."""
    snapshot = ctx.connection.engine.table_info("daivi_inventory", "resources").latest_partition if ctx.can_read("inventory") else None
    if query := model.inventory_hosts_query(snapshot, hosts, known=inventory_urls):
        inventory_urls.update({host: ctx.link("inventory", host=host) for host in page.run(query)["host"]})


fields_col, main_col = st.columns([1.35, 3], gap="medium")
with fields_col:
    st.markdown("**Fields**")
    extra = labelled_choice(st.selectbox, "Another field", EXTRA_FIELD_LABELS, key="field", default=model.NO_FIELD)
    link_inventory_hosts(list(overview.values_of("host")["value"]))
    for field in fields:
        values = overview.values_of(field)
        distinct = int(values["distinct_values"].iloc[0]) if len(values) else 0
        with st.expander(f"{field} · {distinct:,} value{'s' if distinct != 1 else ''}", expanded=field in ("severity", "host", extra)):
            if values.empty:
                st.caption(f"No event in the range has {field}.")
                continue
            st.caption(model.field_caption(values, field, total))
            for i, (value, events) in enumerate(zip(values["value"].astype(str), values["events"].astype(int), strict=True)):
                label = f"[{literal(value)}]({inventory_urls[value]})" if field == "host" and value in inventory_urls else code_literal(value)
                text_col, plus_col, minus_col = st.columns([6, 1, 1], vertical_alignment="center", gap="xsmall")
                text_col.markdown(f"{label}  \n:gray[{events:,} · {model.share_text(events, total)}]")
                plus_col.button(":material/add:", key=f"include-{field}-{i}", help=f"Add {literal(f'{field}={value}')} to the search",
                                on_click=add_clause, args=(field, value, False), type="tertiary")
                minus_col.button(":material/remove:", key=f"exclude-{field}-{i}", help=f"Exclude: {literal(f'{field}!={value}')}",
                                 on_click=add_clause, args=(field, value, True), type="tertiary")

# --- events, stats, error rate -----------------------------------------------------------------------

with main_col:
    events_tab, stats_tab, errors_tab = st.tabs(list(model.TABS), key="tab", bind=URL, on_change="rerun")
    if events_tab.open:
        with events_tab:
            columns = labelled_multichoice(st.multiselect, "Columns", {c: header(c) for c in q.EVENT_COLUMNS}, key="cols",
                                           default=list(q.DEFAULT_EVENT_COLUMNS))
            shown = model.shown_columns(columns)
            if not 1 <= int(st.session_state.get("page") or 1) <= model.page_count(total):
                st.session_state["page"] = 1
            page_col, export_col = st.columns([3, 2], vertical_alignment="center")
            number = page_col.pagination(model.page_count(total), key="page", bind=URL, max_visible_pages=7)
            events = page.try_run(model.events_page_query(event_filter, overview.timeline, columns, number))
            if events is not None and "host" in shown:
                link_inventory_hosts(list(events["host"].dropna().unique()))
            export, principal, connection = model.export_query(event_filter, overview.timeline, columns, total), ctx.principal, ctx.connection
            with export_col:  # the export query runs on click only, so the page never pays for it up front
                csv_download(lambda: connection.run(export, principal).df, "daivi-logs.csv",
                             f"Export CSV ({model.export_rows(total):,} newest rows)", key="export", help=model.HELP["export"])
            first = (number - 1) * q.PAGE_SIZE
            st.caption(model.events_caption(first, 0 if events is None else len(events), total))
            if events is not None:
                table = model.events_table(events, inventory_urls if "host" in shown else {})
                column_config = {"event_time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                                 "message": st.column_config.TextColumn("Message", width="large")}
                if "inventory" in table:
                    column_config["inventory"] = st.column_config.LinkColumn("Inventory", display_text="Open ↗",
                                                                              help="The host in the Inventory view")
                selection = show_table(table, key="events_table", column_order=model.column_order(shown, table),
                                       column_config=column_config, on_select="rerun", selection_mode="single-row")
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
            stat = labelled_choice(stat_col.selectbox, "Statistic", {k: v.capitalize() for k, v in q.STATS.items()}, key="stat",
                                   default="count", help=model.HELP["stat"])
            of_field = labelled_choice(of_col.selectbox, "Of field", {f: FIELD_LABELS[f] for f in model.NUMERIC_FIRST_FIELDS}, key="of",
                                       default="duration", disabled=stat == "count", help=model.HELP["of"])
            by_field = labelled_choice(by_col.selectbox, "By field", FIELD_LABELS, key="by", default="host")
            label = model.stat_label(stat, of_field)
            table = page.try_run(q.stats_table(event_filter, stat, of_field, by_field))
            series = [] if table is None else list(table["value"].head(q.MAX_SERIES))
            chart = page.try_run(q.stats_timechart(event_filter, stat, of_field, by_field, series, bucket_s)) if series else None
            if table is not None:
                show_table(model.stats_shown(table, stat, by_field, label), key="stats_table",
                           column_config={label: st.column_config.NumberColumn(format="%.2f" if stat in ("avg", "p95") else "%d")})
                st.caption(model.stats_caption(len(table), by_field, label, stat))
            if chart is not None:
                st.plotly_chart(page.figure(figures.build_stats_timechart_figure, chart, label, bucket_s), key="stats_chart")
    if errors_tab.open:
        with errors_tab:
            rate = page.try_run(q.error_rate(event_filter, bucket_s))
            if rate is not None:
                for metric_col, (label, part, whole) in zip(st.columns(2), model.error_shares(rate), strict=True):
                    metric_col.metric(label, model.percent_of(part, whole), help=f"{part:,} of {whole:,}")
                st.plotly_chart(page.figure(figures.build_error_rate_figure, rate, bucket_s), key="error_rate_chart")
page.stats()
