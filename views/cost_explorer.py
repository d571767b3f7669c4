"""Cost Explorer: cost over time by any dimension, what changed and why, forecast, anomalies and budgets.

A thin page: widgets (all bound to the URL) -> billing queries -> cost_analysis -> figures.
"""

import datetime as dt
import re
from functools import partial

import pandas as pd
import streamlit as st

from daivi_data import cost_analysis as ca
from daivi_data.cost_analysis import FORECAST_LEVEL
from daivi_data.currency import choose_currency, column_format
from daivi_data.data_span import anchor_day, empty_result_message
from daivi_data.errors import AccessDenied, DaiviError, InvalidRequest
from daivi_data.queries import billing
from daivi_data.queries.billing import CostFilter, CostScope, Dimension
from daivi_ui import figures_cost as fig
from daivi_ui import format as fmt
from daivi_ui.components import csv_download, empty_state, kpi, kpi_row, money_kpi, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.currency import in_currency, pick_currency
from daivi_ui.errors import show_error
from daivi_ui.state import URL, check_url_param, invalid_url_value_notice, labelled_choice, peek_choice, url_values
from daivi_ui.tables import labelled_config, money_column, percent_column, readable, show_table
from daivi_ui.text import literal

format_money = fmt.money

ACCOUNT_OPTION = re.compile(r"\((\d{12})\)\s*$")

ctx = app_context()
results = []  # every QueryResult behind the view, for the stats line


def run(query):
    result = ctx.run(query)
    results.append(result)
    return result.df


def stop_with(error: Exception) -> None:
    show_error(error)
    show_query_stats(results)
    st.stop()


if not ctx.embed:
    st.title("Cost Explorer")
    st.caption("AWS cost by service, account, OU, region, usage type, record type or tag, with what changed, "
               "a forecast, anomalies and budgets. Every figure is SQL run under your role's grants; the URL keeps the view.")

if not ctx.can_read("billing"):
    st.warning("Your role may not read the billing lakehouse. Ask the data platform team for access.")
    st.stop()

# --- the data's last complete day ------------------------------------------------------------
info = ctx.connection.engine.table_info("daivi_billing", "cost_daily")
if not info.exists or not info.latest_partition:
    empty_state("The billing lakehouse has no cost data yet. Build the demo (`make demo`) or import a billing export.")
    st.stop()
yesterday = ctx.today - dt.timedelta(days=1)
try:
    last_day = run(billing.data_end(min(info.latest_partition, ca.billing_period(yesterday))))["last_day"].iloc[0]
except DaiviError as e:
    stop_with(e)
as_of = anchor_day(ctx.today, pd.Timestamp(last_day).date() if pd.notna(last_day) else None)
last_day_text = f"{pd.Timestamp(last_day):%Y-%m-%d}" if pd.notna(last_day) else info.latest_partition

# --- layout: an embed shows the figures first, its controls folded into a one-line summary ------
DEFAULT_PRESET = "last-30-days"
BASIS_LABELS = {k: billing.COST_BASIS_LABELS[k] for k in billing.COST_BASES}
VIEW2_LABELS = {"facets": "Small multiples", "sankey": "Sankey"}
MODE_LABELS = {"include": "Include", "exclude": "Exclude"}
WIDE_PX, DATE_PX, NARROW_PX = 200, 130, 90  # control widths: the longest label of each fits
check_url_param("top", [str(n) for n in billing.TOP_N_CHOICES], "top N")


def embed_summary() -> str:
    """What the embedded figures show, in one line, before the controls that set it are drawn."""
    preset_key = peek_choice("range", ca.PRESETS, DEFAULT_PRESET)
    if preset_key == "custom":
        shown_range = ca.PRESETS["custom"]
    else:
        shown_range = f"{ca.PRESETS[preset_key]}, {fmt.date_range(*ca.preset_range(preset_key, as_of))}"
    group_value = st.session_state.get("group") or st.query_params.get("group") or "service"
    try:
        by = Dimension.parse(group_value).label
    except InvalidRequest:
        by = billing.DIMENSION_LABELS["service"]
    basis_key = peek_choice("basis", BASIS_LABELS, next(iter(BASIS_LABELS)))
    return f"{shown_range} · by {by.lower() if not by.startswith('Tag') else by} · {BASIS_LABELS[basis_key].lower()} cost"


if ctx.embed:
    chart_area = st.container()
    controls = st.expander(embed_summary(), icon=":material/tune:")
    body = st.container()
else:
    controls = st.container()
    chart_area = body = st.container()

# --- time, basis ------------------------------------------------------------------------------


def is_iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


check_url_param("start", is_iso_date, "start date (YYYY-MM-DD)")
check_url_param("end", is_iso_date, "end date (YYYY-MM-DD)")

# Rows of fixed-width controls that wrap: a narrow window (or an 800 px one with the sidebar) stacks them
# instead of cutting "Last 30 days" to "Last 3".
row1 = controls.container(horizontal=True, gap="small")
# Labels on screen, short keys in the URL (`?range=last-30-days&grain=weekly`).
def start_custom_from_shown_range() -> None:
    """Switching to a custom range starts from the dates that were on screen, not from the default preset's."""
    shown = st.session_state.get("_cost_shown_range")
    if st.session_state.get("range") == "custom" and shown:
        st.session_state["start"], st.session_state["end"] = shown


preset = labelled_choice(row1.selectbox, "Time range", ca.PRESETS, key="range", default=DEFAULT_PRESET,
                         on_change=start_custom_from_shown_range,
                         help="Ranges are whole UTC days up to the last complete day of data. Previous month is the "
                              "last complete calendar month.", width=WIDE_PX)
default_start, default_end = ca.preset_range(DEFAULT_PRESET, as_of)
if preset == "custom":
    # Wide bounds: a future or reversed range must reach the check below and get its message,
    # not be dropped silently by the widget.
    bounds = {"min_value": dt.date(2000, 1, 1), "max_value": as_of + dt.timedelta(days=3 * 366)}
    start = row1.date_input("Start (UTC)", value=default_start, key="start", bind=URL, width=DATE_PX, **bounds)
    end = row1.date_input("End (UTC)", value=default_end, key="end", bind=URL, width=DATE_PX, **bounds)
else:
    start, end = ca.preset_range(preset, as_of)
    # Set every run: a keyed input would otherwise keep the dates of the preset chosen first.
    st.session_state["start_shown"], st.session_state["end_shown"] = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
    row1.text_input("Start (UTC)", disabled=True, key="start_shown", width=DATE_PX)
    row1.text_input("End (UTC)", disabled=True, key="end_shown", width=DATE_PX)
granularity = labelled_choice(row1.segmented_control, "Granularity", ca.GRANULARITIES, key="grain", default="daily", width="content")
basis = labelled_choice(row1.selectbox, "Cost basis", BASIS_LABELS, key="basis", width=WIDE_PX,
                        help="\n\n".join(f"**{billing.COST_BASIS_LABELS[k]}**: {v}" for k, v in billing.COST_BASIS_HELP.items()))

try:
    checked = ca.check_range(start, end, as_of)
except InvalidRequest as e:
    stop_with(e)
start, end = checked.start, checked.end
st.session_state["_cost_shown_range"] = (start, end)

# --- currency: every figure below is in one; a range billed in several shows each total apart --
try:
    by_currency = run(billing.currencies(start, end))
except DaiviError as e:
    stop_with(e)
in_range = dict(zip(by_currency["currency"], by_currency["unblended_cost"], strict=True))
choice = choose_currency(dict(zip(by_currency["currency"], by_currency["abs_cost"], strict=True)), st.query_params.get("currency"))
currency = pick_currency(choice, lambda: st.columns([1.4, 4.6])[0], "This range holds costs", in_range)
money = partial(format_money, currency=currency)
money_format = column_format(currency)
cost_kpi = partial(money_kpi, currency=currency)  # every figure below is in `currency`
cost_column = partial(money_column, currency=currency)

# --- dimensions (tag keys found in the range) -------------------------------------------------
try:
    tag_keys = run(billing.tag_keys(start, end))["tag_key"].dropna().astype(str).tolist()
    account_rows = run(billing.accounts())
except DaiviError as e:
    stop_with(e)
account_labels = {r.account_id: f"{r.account_name} ({r.account_id})" for r in account_rows.itertuples()}
account_ou = {r.account_id: r.ou for r in account_rows.itertuples()}
dimension_keys = [d for d in billing.DIMENSIONS if d != "tag"] + [f"tag:{k}" for k in tag_keys]


def account_id_of(value: str) -> str:
    """The id in an account option "name (123456789012)", or the value itself (a pasted id)."""
    match = ACCOUNT_OPTION.search(value)
    return match.group(1) if match else value.strip()


def invalid_dimension(what: str):
    """The notice for a group-by the URL names but the data lacks: a tag key gets the keys that do occur."""
    def notice(value: str) -> None:
        if value.startswith("tag:"):
            found = ", ".join(tag_keys) or "none"
            st.warning(f"Tag key '{literal(value[4:], 60)}' ({what}) does not occur in cost allocation tags between {start} and "
                       f"{end} (keys found: {literal(found)}); using the default.", icon=":material/sell:")
        else:
            invalid_url_value_notice([value], what)
    return notice


dimension_labels = {k: Dimension.parse(k).label for k in dimension_keys}
row2 = controls.container(horizontal=True, gap="small")
group_key = labelled_choice(row2.selectbox, "Group by", dimension_labels, key="group", default="service", width=WIDE_PX,
                            on_invalid=invalid_dimension("group by"))
group2_key = labelled_choice(row2.selectbox, "Then by", {"none": "None", **dimension_labels}, key="group2", default="none",
                             width=WIDE_PX,
                             on_invalid=invalid_dimension("then by"), help="A second level, shown as small multiples or a Sankey.")
top_n = row2.selectbox("Top N", billing.TOP_N_CHOICES, index=1, key="top", bind=URL, help="Groups beyond the top N are summed as Others.",
                       width=NARROW_PX)
chart = labelled_choice(row2.segmented_control, "Chart", fig.CHART_TYPES, key="chart", default="bar", width="content")
compare_mode = labelled_choice(row2.selectbox, "Compare with", ca.COMPARISONS, key="compare", default="previous", width=WIDE_PX,
                               help="Previous period: the equal period just before (the same days of the previous months "
                                    "for month ranges). Same period last year: the same dates a year earlier.")
if not ctx.embed:
    controls.caption(f"**{billing.COST_BASIS_LABELS[basis]} cost**: {billing.COST_BASIS_HELP[basis]}")

group = Dimension.parse(group_key)
group2 = Dimension.parse(group2_key) if group2_key not in ("none", group_key) else None
if group2_key == group_key:
    st.info("“Then by” is the same as “Group by”; showing one level.", icon=":material/info:")

# --- filters ----------------------------------------------------------------------------------
try:
    options_df = run(billing.dimension_values(CostScope(start, end, basis, currency=currency)))
except DaiviError as e:
    stop_with(e)


def options_for(column: str) -> list[str]:
    part = options_df[options_df[column].notna()].sort_values("cost", ascending=False)
    return part[column].astype(str).tolist()


filters: list[CostFilter] = []
option_sets: dict[str, set[str]] = {}
active = sum(1 for d in billing.DIMENSIONS if url_values(f"f_{d}") or st.session_state.get(f"f_{d}"))
# An embed's controls are already folded away, and expanders do not nest.
filters_box = (controls.container() if ctx.embed else
               controls.expander(f"Filters{f' ({active} active)' if active else ''}", expanded=bool(active), icon=":material/filter_alt:"))
with filters_box:
    columns = st.columns(3)
    plain = [d for d in billing.DIMENSIONS if d != "tag"]
    column_of = {"service": "service_name", "account": "account_id", "ou": "ou", "region": "region",
                 "usage_type": "usage_type", "record_type": "record_type"}
    for i, dim in enumerate(plain + ["tag"]):
        with columns[i % 3]:
            if dim == "tag":
                if url_values("ftag") and url_values("ftag")[0] not in tag_keys:
                    st.warning(f"Tag key '{literal(url_values('ftag')[0], 60)}' does not occur in the range (keys found: "
                               f"{literal(', '.join(tag_keys) or 'none')}); the tag filter is off.", icon=":material/sell:")
                tag_key = st.selectbox("Tag key", tag_keys, index=None, placeholder="Filter by a tag…", key="ftag", bind=URL)
                values_options: list[str] = []
                if tag_key:
                    try:
                        values_options = run(billing.tag_values(start, end, tag_key))["tag_value"].astype(str).tolist()
                    except DaiviError as e:
                        show_error(e)
                option_sets["tag"] = set(values_options)
                values = st.multiselect(f"Values of {tag_key or 'the tag'}", values_options, key="f_tag", bind=URL, disabled=not tag_key,
                                        accept_new_options=True, placeholder=f"Any ({billing.UNTAGGED} = no such tag)")
                mode = labelled_choice(st.radio, "Tag filter mode", MODE_LABELS, key="m_tag", horizontal=True,
                                       label_visibility="collapsed")
                if tag_key and values:
                    try:
                        filters.append(CostFilter(Dimension("tag", tag_key), tuple(values), exclude=mode == "exclude"))
                    except InvalidRequest as e:
                        stop_with(e)
                continue
            opts = options_for(column_of[dim])
            option_sets[dim] = set(opts)
            if dim == "account":
                # Readable options ("name (id)") that still carry the id: the URL stores the option text.
                opts = [account_labels.get(v, v) for v in opts]
            values = st.multiselect(billing.DIMENSION_LABELS[dim], opts, key=f"f_{dim}", bind=URL, accept_new_options=True,
                                    placeholder="Any")
            mode = labelled_choice(st.radio, f"{billing.DIMENSION_LABELS[dim]} filter mode", MODE_LABELS, key=f"m_{dim}",
                                   horizontal=True, label_visibility="collapsed")
            if dim == "account":
                values = [account_id_of(v) for v in values]
            if values:
                try:
                    filters.append(CostFilter(Dimension(dim), tuple(values), exclude=mode == "exclude"))
                except InvalidRequest as e:
                    stop_with(e)

unknown = [(f.dimension.label, v) for f in filters for v in f.values
           if v not in option_sets.get(f.dimension.name, set())]
if unknown:
    shown = "; ".join(f"{literal(label)}: '{literal(value, 60)}'" for label, value in unknown[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    st.warning(f"No cost in this range matches filter value {shown}{more}. Values are matched exactly, as plain text.",
               icon=":material/filter_alt_off:")

scope = CostScope(start, end, basis, tuple(filters), currency)
compare_start, compare_end = ca.comparison_range(start, end, compare_mode)
if checked.notice:
    st.info(checked.notice, icon=":material/event:")

# --- totals, series, KPIs ---------------------------------------------------------------------
try:
    totals = run(billing.group_totals(scope, group, group2, compare_start, compare_end))
except DaiviError as e:
    stop_with(e)

has_current = not totals.empty and (totals["cost"].abs() > 0).any()
if not has_current:
    nothing = f"No cost between {start:%Y-%m-%d} and {end:%Y-%m-%d}"
    if filters:
        empty_state(f"{nothing} for the selected filters. Widen the range or clear filters.")
    else:
        grant = ctx.grants.grant_for("daivi_billing", "cost_daily")
        empty_state(empty_result_message(nothing, data_ends=last_day_text, asked_from=f"{start:%Y-%m-%d}",
                                         role=ctx.principal.role, row_filtered=grant is None or bool(grant.row_filter)))
    show_query_stats(results)
    st.stop()


def labels_for(dimension: Dimension | None) -> dict[str, str]:
    return account_labels if dimension is not None and dimension.name == "account" else {}


labels1, labels2 = labels_for(group), labels_for(group2)
current_by_group = totals.groupby("group1")["cost"].sum()
previous_by_group = totals.groupby("group1")["previous"].sum()
keep = ca.top_groups(current_by_group, top_n)
keep2: list[str] = []
if group2 is not None:
    keep2 = ca.top_groups(totals.groupby("group2")["cost"].sum(), top_n)
try:
    # A second level over a long range is the slowest query of the view: say what is happening.
    with st.spinner(f"Summing cost by {group.label.lower()}{f' and {group2.label.lower()}' if group2 else ''}…",
                    show_time=True):
        series = run(billing.cost_series(scope, granularity, group, tuple(keep), group2, tuple(keep2)))
except DaiviError as e:
    stop_with(e)
series["period"] = pd.to_datetime(series["period"])

order1 = keep + ([ca.OTHERS] if len(current_by_group) > len(keep) else [])
order2 = keep2 + ([ca.OTHERS] if group2 is not None and totals["group2"].nunique() > len(keep2) else [])
total = float(totals["cost"].sum())
previous_total = float(totals["previous"].sum())
change = ca.pct_change(total, previous_total)

# Forecast history: the current quarter and the training window, with the same filters and basis.
history_start = min(ca.quarter_start(as_of), as_of - dt.timedelta(days=ca.FORECAST_TRAINING_DAYS - 1))
try:
    history = run(billing.daily_totals(scope.with_range(history_start, as_of)))
except DaiviError as e:
    stop_with(e)
history["usage_date"] = pd.to_datetime(history["usage_date"]).dt.date
daily_series = history.set_index("usage_date")["cost"]
# The open month and quarter: on the 1st (data through the last day of a closed month) the new ones.
open_day = ca.open_day(as_of)
month_fc = ca.forecast_period(daily_series, as_of, ca.month_start(open_day), ca.month_end(open_day))
quarter_fc = ca.forecast_period(daily_series, as_of, ca.quarter_start(open_day), ca.quarter_end(open_day))

compare_label = fmt.date_range(compare_start, compare_end)
range_label = fmt.date_range(start, end)
month_name, quarter_name = f"{open_day:%b}", f"Q{(open_day.month - 1) // 3 + 1} {open_day.year}"


def draw_kpis() -> None:
    row = kpi_row()
    cost_kpi(row, "Total", total, help=f"{range_label}.")
    cost_kpi(row, "Change", total - previous_total, delta=fmt.delta_percent(change) if change is not None else None,
              delta_color="inverse", help=f"vs {ca.COMPARISONS[compare_mode].lower()}, {compare_label}: {money(previous_total)}.")
    cost_kpi(row, "Average per day", total / checked.days, help=f"Over the {checked.days} days of the range.")
    intervals = []
    for fc, what in ((month_fc, month_name), (quarter_fc, quarter_name)):
        if fc is None:
            kpi(row, f"Forecast {what}", fmt.MISSING, help="Not enough history (two weeks) to forecast.")
        else:
            cost_kpi(row, f"Forecast {what}", fc.total,
                      help=f"End of {what}, {fc.level:.0%} interval {money(fc.low)} – {money(fc.high)}; "
                           f"{money(fc.actual)} so far. See the Forecast tab for the method.")
            intervals.append(f"{what} {fmt.money_short(fc.low, currency)} – {fmt.money_short(fc.high, currency)}")
    notes = [f"{range_label} vs {compare_label}", f"{billing.COST_BASIS_LABELS[basis].lower()} cost",
             f"data through {fmt.day(as_of)} (UTC)"]
    if intervals:
        notes.append(f"forecast {FORECAST_LEVEL:.0%} intervals: {', '.join(intervals)}")
    if not previous_total:
        notes.append("no cost in the comparison period (before the data starts?), so no % change")
    if granularity != "daily":
        after = end + dt.timedelta(days=1)
        if ca.bucket_starts(start, start, granularity)[0] != start or ca.bucket_starts(after, after, granularity)[0] != after:
            notes.append(f"the first or last {granularity.removesuffix('ly')} of the chart is partial")
    st.caption(" · ".join(notes))


def filter_to_clicked_group() -> None:
    """A click on a bar (or a point of a line) filters the view to that group: the Filters below, and the URL, follow."""
    event = st.session_state.get("cost_chart")
    points = event.selection.points if event is not None else []
    clicked = points[0].get("legendgroup") if points else None
    if not clicked or clicked == ca.OTHERS:
        return
    if group.name == "tag":
        st.session_state["ftag"], st.session_state["f_tag"] = group.tag_key, [clicked]
        st.session_state["m_tag"] = "include"
        return
    value = account_labels.get(clicked, clicked) if group.name == "account" else clicked
    st.session_state[f"f_{group.name}"] = [value]
    st.session_state[f"m_{group.name}"] = "include"


def draw_chart() -> None:
    view2 = "facets"
    if group2 is not None:
        view2 = labelled_choice(st.segmented_control, "Second level as", VIEW2_LABELS, key="view2", default="facets")
    if group2 is None:
        st.plotly_chart(in_currency(fig.build_cost_trend_figure(series, order1, chart, granularity, labels1, compact=ctx.embed), currency),
                        key="cost_chart",
                        on_select=filter_to_clicked_group if ctx.shows_everything else "ignore", selection_mode="points")
        if not ctx.embed:
            st.caption(f"Click a bar to filter the view to its {group.label.lower() if group.name != 'tag' else group.label}.")
    elif view2 == "sankey":
        pair_totals = series.groupby(["group1", "group2"], as_index=False)["cost"].sum()
        st.plotly_chart(in_currency(fig.build_sankey_figure(pair_totals, order1, order2, labels1, labels2, group.label, group2.label),
                                    currency), key="cost_chart")
    else:
        st.plotly_chart(in_currency(fig.build_facet_figure(series, order1, order2, labels1, labels2, compact=ctx.embed), currency),
                        key="cost_chart")


def breakdown() -> pd.DataFrame:
    """The table under the chart: one row per group (or pair of groups), Others, and the total."""
    if group2 is None:
        table = ca.breakdown_table(current_by_group, previous_by_group, keep)
        table.insert(0, group.label, [labels1.get(g, g) for g in table["group"]])
    else:
        keep_set, keep2_set = set(keep), set(keep2)
        mapped = totals.assign(
            g1=[g if g in keep_set else ca.OTHERS for g in totals["group1"]],
            g2=[g if g in keep2_set else ca.OTHERS for g in totals["group2"]],
        )
        pair = mapped.groupby(["g1", "g2"])[["cost", "previous"]].sum()
        table = ca.breakdown_table(pair["cost"], pair["previous"])
        table.insert(0, group.label, [labels1.get(g[0], g[0]) if isinstance(g, tuple) else g for g in table["group"]])
        table.insert(1, group2.label, [labels2.get(g[1], g[1]) if isinstance(g, tuple) else "" for g in table["group"]])
    return table.drop(columns="group").rename(columns={
        "cost": "Cost", "share": "Share", "previous": "Previous period", "change": "Change", "change_pct": "Change %"})


def rows_of(table: pd.DataFrame) -> list[str]:
    """What each row of the breakdown is: a group, the sum of the groups beyond the top N, or the total."""
    labels = table[group.label] if group2 is None else table[group.label] + "\x1f" + table[group2.label]
    return ["total" if first == "Total" and i == len(table) - 1 else "others" if ca.OTHERS in str(label).split("\x1f") else "group"
            for i, (first, label) in enumerate(zip(table[group.label], labels, strict=True))]


def for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """The breakdown for a spreadsheet: money to the cent with the total still the sum, and each row's kind said."""
    kinds = rows_of(table)
    out = table.assign(Row=kinds)
    out = fmt.round_money_columns(out, ["Cost", "Previous period"], out["Row"] == "total")
    out["Change"] = (out["Cost"] - out["Previous period"]).round(2)
    others = len(current_by_group) - len(keep)
    out.loc[out["Row"] == "others", group.label] = out.loc[out["Row"] == "others", group.label].replace(
        ca.OTHERS, f"(the {others} other {group.label.lower()} values beyond the top {top_n})")
    return out[["Row", *table.columns]]


def draw_table() -> None:
    table = breakdown()
    show_table(table, key="breakdown", column_config={
        "Cost": cost_column(), "Previous period": cost_column(help=compare_label), "Change": cost_column(),
        "Share": percent_column(), "Change %": percent_column(),
    })
    if not ctx.shows_everything:
        return
    export = st.columns(4)
    with export[0]:
        csv_download(for_csv(table), f"cost-breakdown-{start}-{end}.csv", "Table as CSV", key="download_table")
    with export[1]:
        series_out = series.assign(period=series["period"].dt.date, Row=["others" if g == ca.OTHERS else "group" for g in series["group1"]])
        series_out = fmt.round_money_columns(series_out, ["cost"]).rename(
            columns={"group1": group.key, "group2": group2.key if group2 else "group2"})
        csv_download(series_out, f"cost-series-{granularity}-{start}-{end}.csv", "Series as CSV", key="download_series")


# Not embedded: KPIs, chart, table. Embedded: the chart first, then the controls' summary, KPIs and table.
with body:
    if ctx.shows("kpis"):
        draw_kpis()
with chart_area:
    if ctx.shows("chart"):
        draw_chart()
with body:
    if ctx.shows_everything:
        show_query_stats(results)
    if ctx.shows("table"):
        draw_table()
if not ctx.shows_everything:
    st.stop()

# --- what changed, anomalies, forecast, budgets -----------------------------------------------
TABS = ("What changed", "Anomalies", "Forecast", "Budgets")
check_url_param("tab", TABS, "tab")
# Bound to the URL, the tabs run lazily: only the open tab's queries run.
tabs = st.tabs(list(TABS), key="tab", bind=URL, default=TABS[0])


def draw_changes() -> None:
    increases, decreases, total_change = ca.top_movers(current_by_group, previous_by_group, n=5)
    st.markdown(f"**{literal(group.label)}** between {compare_label} and {range_label}: "
                f"total change **{money(total_change)}**"
                + (f" ({fmt.percent(change, signed=True)})" if change is not None else "") + ".")
    if increases.empty and decreases.empty:
        empty_state("No group changed between the two periods.")
    else:
        st.plotly_chart(in_currency(fig.build_movers_figure(increases, decreases, labels1), currency), key="movers_chart")
        movers = pd.concat([increases, decreases], ignore_index=True)
        movers.insert(0, group.label, [labels1.get(g, g) for g in movers["group"]])
        show_table(
            movers.drop(columns="group"), key="movers",
            column_config={
                "previous": cost_column("Previous"), "current": cost_column("Current"), "change": cost_column("Change"),
                "change_pct": percent_column("Change %"),
                "contribution_pp": st.column_config.NumberColumn("Contribution (pp)", format="%+.1f",
                                                                 help="Percentage points of the total % change."),
                "share_of_change": percent_column("Share of change"),
            },
        )


def draw_anomalies() -> None:
    anomaly_key = labelled_choice(st.selectbox, "Detect anomalies by",
                                  {d: label for d, label in billing.DIMENSION_LABELS.items() if d != "tag"},
                                  key="anomaly_by", default="service", what="anomalies by")
    anomaly_dim = Dimension(anomaly_key)
    # The detector looks at the last 92 days of the range at most, with its baseline window before.
    detect_start = max(start, end - dt.timedelta(days=91))
    with st.spinner(f"Looking for anomalies by {anomaly_dim.label.lower()} in {fmt.date_range(detect_start, end)}…", show_time=True):
        try:
            by_day = run(billing.daily_by_group(scope.with_range(detect_start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), end),
                                                anomaly_dim))
        except DaiviError as e:
            show_error(e)
            by_day = pd.DataFrame(columns=["usage_date", "group1", "cost"])
        by_day["usage_date"] = pd.to_datetime(by_day["usage_date"]).dt.date
        events = ca.detect_anomalies(by_day.rename(columns={"group1": "group"}), detect_start, end)
    if not ctx.embed:
        st.caption(ca.ANOMALY_METHOD)
    if events.empty:
        empty_state(f"No anomalies by {literal(anomaly_dim.label.lower())} in {fmt.date_range(detect_start, end)}.")
    else:
        shown_events = events.head(10)
        labels_a = labels_for(anomaly_dim)
        st.markdown(f"**{len(events)} anomal{'y' if len(events) == 1 else 'ies'}** between {fmt.date_range(detect_start, end)}, "
                    "largest impact first.")
        detail = pd.DataFrame()
        try:
            first = min(shown_events["first_day"]) - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS)
            detail = run(billing.anomaly_details(scope.with_range(first, max(shown_events["last_day"])), anomaly_dim,
                                                 tuple(sorted(set(shown_events["group"].astype(str))))))
        except DaiviError as e:
            show_error(e)
        if not detail.empty:
            detail["driver_dim"] = ["account" if pd.notna(a) else "region" if pd.notna(r) else "usage_type"
                                    for a, r in zip(detail["account_id"], detail["region"], strict=True)]
            detail["driver"] = detail["account_id"].fillna(detail["region"]).fillna(detail["usage_type"])
            detail = detail.rename(columns={"group1": "group"})
        anomaly_rows = []
        for event in shown_events.itertuples(index=False):
            drivers = ca.anomaly_drivers(detail, pd.Series(event._asdict())) if not detail.empty else pd.DataFrame()
            top = {}
            for dim_name in billing.DRIVER_DIMENSIONS:
                part = drivers[drivers["driver_dim"] == dim_name] if not drivers.empty else drivers
                top[dim_name] = ", ".join(
                    f"{account_labels.get(r.driver, r.driver) if dim_name == 'account' else r.driver} ({money(r.change)})"
                    for r in part.head(2).itertuples()
                )
            days = f"{event.first_day}" if event.days == 1 else f"{event.first_day} → {event.last_day}"
            anomaly_rows.append({
                "When": days, anomaly_dim.label: labels_a.get(event.group, event.group), "Kind": event.direction,
                "Cost": event.cost, "Expected": event.expected, "Impact": event.impact, "Score": event.peak_score,
                "Accounts": top["account"], "Regions": top["region"], "Usage types": top["usage_type"],
            })
        anomaly_table = pd.DataFrame(anomaly_rows)
        # Drivers along the detection dimension would only repeat the group itself.
        same = {"account": "Accounts", "region": "Regions", "usage_type": "Usage types"}.get(anomaly_key)
        if same:
            anomaly_table = anomaly_table.drop(columns=same)
        picked = show_table(anomaly_table, key="anomalies", on_select="rerun", selection_mode="single-row", column_config={
            "Cost": cost_column(),
            "Expected": cost_column(help="Median of the previous days, times the event's days."),
            "Impact": cost_column(),
            "Score": st.column_config.NumberColumn(format="%.1f", help="Robust z: scaled MADs from the median."),
        })
        # One click charts an anomaly: the selected row, else the largest.
        rows = picked.selection.rows if picked is not None else []
        chosen = rows[0] if rows and rows[0] < len(shown_events) else 0
        event = shown_events.iloc[chosen]
        st.plotly_chart(in_currency(fig.build_anomaly_figure(by_day, event["group"], event["first_day"], event["last_day"],
                                                             labels_a.get(event["group"], event["group"])), currency), key="anomaly_chart")
        which = "the selected" if rows else "the largest"
        st.caption(f"Daily cost of {which} anomaly's {literal(anomaly_dim.label.lower())}, the event shaded. "
                   "Select a row to chart another.")


def draw_forecast() -> None:
    st.markdown(ca.FORECAST_METHOD)
    for period, fc, what in (("month", month_fc, f"{open_day:%B %Y}"), ("quarter", quarter_fc, quarter_name)):
        if fc is None:
            empty_state(f"Not enough history to forecast {what} (at least {ca.FORECAST_MIN_DAYS} days with the current filters).")
            continue
        st.markdown(f"**{what}**: {money(fc.actual)} through {fmt.day(fc.as_of)} + {money(fc.remaining)} forecast "
                    f"= **{money(fc.total)}** ({fc.level:.0%} interval {money(fc.low)} – {money(fc.high)}).")
        # Keyed by period: December ends a month and a quarter on one day.
        st.plotly_chart(in_currency(fig.build_forecast_figure(history, fc), currency), key=f"forecast_{period}")


def draw_budgets() -> None:
    if ctx.grants.grant_for("daivi_billing", "budgets") is None:
        st.info(f"Budgets are not available for your role (`{ctx.principal.role}`): it has no grant on `daivi_billing.budgets`.",
                icon=":material/lock:")
    else:
        try:
            budget_rows = run(billing.budgets())
            scope_costs = run(billing.budget_scope_costs(as_of, basis, ca.BUDGET_RUN_RATE_DAYS, currency))
        except AccessDenied:
            budget_rows = None
            st.info(f"Budgets are not available for your role (`{ctx.principal.role}`).", icon=":material/lock:")
        except DaiviError as e:
            budget_rows = None
            show_error(e)
        if budget_rows is not None:
            if budget_rows.empty:
                empty_state("No budgets are visible to your role.")
            else:
                long = []
                for scope_type, column in (("account", "account_id"), ("ou", "ou"), ("service", "service_code")):
                    part = scope_costs[scope_costs[column].notna()]
                    long += [{"scope_type": scope_type, "scope_value": v, "mtd": m, "recent": r}
                             for v, m, r in zip(part[column], part["mtd"], part["recent"], strict=True)]
                grand = scope_costs[scope_costs[["account_id", "ou", "service_code"]].isna().all(axis=1)]
                if not grand.empty:
                    long.append({"scope_type": "total", "scope_value": "", "mtd": grand["mtd"].iloc[0], "recent": grand["recent"].iloc[0]})
                status = ca.budget_status(budget_rows, pd.DataFrame(long, columns=["scope_type", "scope_value", "mtd", "recent"]), as_of)
                st.caption(f"{ca.BUDGET_METHOD} {billing.COST_BASIS_LABELS[basis]} cost, {as_of:%B %Y} through {as_of:%b %d}; "
                           "budgets ignore the page's filters.")
                status["scope_value"] = [account_labels.get(v, v) if t == "account" else v
                                         for t, v in zip(status["scope_type"], status["scope_value"], strict=True)]
                # The budget's name already says its scope; the columns that matter come first.
                status = status[["budget_name", "pct_used", "actual", "monthly_limit", "projected", "overrun_date", "status",
                                 "scope_type", "scope_value"]]
                status["status"] = [budget_status_text(r) for r in status.itertuples()]
                alert = [(used >= 1) or bool(fmt.blank(day)) for used, day in zip(status["pct_used"], status["overrun_date"], strict=True)]
                status["overrun_date"] = [fmt.day(d) if fmt.blank(d) else "" for d in status["overrun_date"]]
                config = labelled_config(status, {
                    "budget_name": "Budget", "scope_type": "Scope", "scope_value": "Of", "status": "Status",
                    "monthly_limit": cost_column("Limit"), "actual": cost_column("Actual (MTD)"),
                    "pct_used": st.column_config.ProgressColumn("Used", format="percent", min_value=0.0, max_value=1.0),
                    "projected": cost_column("Projected month end"),
                    "overrun_date": "Projected overrun",
                })
                # Over-budget rows stand out by colour and by their words (never colour alone).
                styled = readable(status).style.apply(
                    lambda row: [f"background-color: {fig.ALERT_FILL}" if alert[row.name] else ""] * len(row), axis=1)
                st.dataframe(styled, hide_index=True, key="budgets", column_config=config)


def budget_status_text(row) -> str:
    """A budget's status in words, with the amount over or the day it is projected to go over."""
    if row.actual > row.monthly_limit:
        return f"Over budget by {money(row.actual - row.monthly_limit)}"
    if row.overrun_date is not None and not pd.isna(row.overrun_date):
        return f"Projected over on {fmt.day(row.overrun_date)}"
    return "On track"


chart_queries = len(results)
for tab, draw in zip(tabs, (draw_changes, draw_anomalies, draw_forecast, draw_budgets), strict=True):
    if tab.open is not False:
        with tab:
            draw()
            show_query_stats(results[chart_queries:])  # this tab's own queries
