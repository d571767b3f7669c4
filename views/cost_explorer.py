"""Cost Explorer: cost over time by any dimension, what changed and why, forecast, anomalies and budgets.

A thin page: widgets (all bound to the URL) -> billing queries -> cost_analysis -> figures.
"""

import datetime as dt
import re
from functools import partial

import pandas as pd
import streamlit as st

from daivi_data import cost_analysis as ca
from daivi_data.currency import choose_currency, column_format, totals_text
from daivi_data.data_span import anchor_day, empty_result_message
from daivi_data.errors import AccessDenied, DaiviError, InvalidRequest
from daivi_data.queries import billing
from daivi_data.queries.billing import CostFilter, CostScope, Dimension
from daivi_ui import figures_cost as fig
from daivi_ui.components import csv_download, empty_state, format_money, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.currency import in_currency
from daivi_ui.errors import show_error
from daivi_ui.state import URL, check_url_param, url_values
from daivi_ui.text import literal

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

# --- time, basis ------------------------------------------------------------------------------
DEFAULT_PRESET = "last-30-days"
check_url_param("range", ca.PRESETS, "time range")
check_url_param("grain", ca.GRANULARITIES, "granularity")
check_url_param("basis", billing.COST_BASES, "cost basis")
check_url_param("compare", ca.COMPARISONS, "comparison")
check_url_param("chart", fig.CHART_TYPES, "chart type")
check_url_param("top", [str(n) for n in billing.TOP_N_CHOICES], "top N")


def is_iso_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


check_url_param("start", is_iso_date, "start date (YYYY-MM-DD)")
check_url_param("end", is_iso_date, "end date (YYYY-MM-DD)")

row1 = st.columns([2, 1.4, 1.4, 2.2, 1.6])
# No format_func on URL-bound widgets: Streamlit stores the *formatted* option in the URL,
# so the options themselves are the readable URL values.
preset = row1[0].selectbox("Time range", list(ca.PRESETS), index=list(ca.PRESETS).index(DEFAULT_PRESET), key="range", bind=URL)
default_start, default_end = ca.preset_range(DEFAULT_PRESET, as_of)
if preset == "custom":
    # Wide bounds: a future or reversed range must reach the check below and get its message,
    # not be dropped silently by the widget.
    bounds = {"min_value": dt.date(2000, 1, 1), "max_value": as_of + dt.timedelta(days=3 * 366)}
    start = row1[1].date_input("Start", value=default_start, key="start", bind=URL, **bounds)
    end = row1[2].date_input("End", value=default_end, key="end", bind=URL, **bounds)
else:
    start, end = ca.preset_range(preset, as_of)
    row1[1].text_input("Start", value=f"{start:%Y-%m-%d}", disabled=True, key="start_shown")
    row1[2].text_input("End", value=f"{end:%Y-%m-%d}", disabled=True, key="end_shown")
granularity = row1[3].segmented_control("Granularity", list(ca.GRANULARITIES), default="daily", required=True, key="grain", bind=URL)
basis = row1[4].selectbox("Cost basis", list(billing.COST_BASES), key="basis", bind=URL,
                          help="\n\n".join(f"**{billing.COST_BASIS_LABELS[k]}**: {v}" for k, v in billing.COST_BASIS_HELP.items()))

try:
    checked = ca.check_range(start, end, as_of)
except InvalidRequest as e:
    stop_with(e)
start, end = checked.start, checked.end

# --- currency: every figure below is in one; a range billed in several shows each total apart --
try:
    by_currency = run(billing.currencies(start, end))
except DaiviError as e:
    stop_with(e)
in_range = dict(zip(by_currency["currency"], by_currency["unblended_cost"], strict=True))
choice = choose_currency(dict(zip(by_currency["currency"], by_currency["abs_cost"], strict=True)), st.query_params.get("currency"))
if choice.notice:
    st.info(literal(choice.notice), icon=":material/info:")
currency = choice.currency
if choice.several:
    if st.query_params.get("currency") != currency:
        st.query_params["currency"] = currency
    currency = st.columns([1.4, 4.6])[0].selectbox(
        "Currency", list(choice.available), key="currency", bind=URL,
        help="Amounts in different currencies are never added: every figure on this page is in this one.")
    st.caption(f"This range holds costs in {len(choice.available)} currencies; every figure below is in **{literal(currency)}**. "
               f"Unblended per currency (not added): {literal(totals_text(in_range, format_money))}.")
money = partial(format_money, currency=currency)
money_format = column_format(currency)

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


def tag_key_missing_notice(param: str, what: str) -> None:
    """A clearer notice than the generic one when the URL names a tag key that is not in the data."""
    bad = [v for v in url_values(param) if v.startswith("tag:") and v not in dimension_keys]
    if bad:
        found = ", ".join(tag_keys) or "none"
        st.warning(f"Tag key '{literal(bad[0][4:], 60)}' ({what}) does not occur in cost allocation tags between {start} and {end} "
                   f"(keys found: {literal(found)}); using the default.", icon=":material/sell:")


tag_key_missing_notice("group", "group by")
tag_key_missing_notice("group2", "then by")
check_url_param("group", lambda v: v in dimension_keys or v.startswith("tag:"), "group by")
check_url_param("group2", lambda v: v in dimension_keys or v == "none" or v.startswith("tag:"), "then by")

row2 = st.columns([2, 2, 1, 2.2, 1.6])
group_key = row2[0].selectbox("Group by", dimension_keys, key="group", bind=URL)
group2_key = row2[1].selectbox("Then by", ["none"] + dimension_keys, key="group2", bind=URL,
                               help="A second level, shown as small multiples or a Sankey.")
top_n = row2[2].selectbox("Top N", billing.TOP_N_CHOICES, index=1, key="top", bind=URL, help="Groups beyond the top N are summed as Others.")
chart = row2[3].segmented_control("Chart", list(fig.CHART_TYPES), default="bar", required=True, key="chart", bind=URL)
compare_mode = row2[4].selectbox("Compare with", list(ca.COMPARISONS), key="compare", bind=URL,
                                 help="previous: the equal period just before (same days of the previous months for month ranges); "
                                      "year: the same dates a year earlier.")
if not ctx.embed:
    st.caption(f"**{billing.COST_BASIS_LABELS[basis]} cost**: {billing.COST_BASIS_HELP[basis]}")

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


MODES = ("include", "exclude")
filters: list[CostFilter] = []
option_sets: dict[str, set[str]] = {}
active = sum(1 for d in billing.DIMENSIONS if url_values(f"f_{d}") or st.session_state.get(f"f_{d}"))
with st.expander(f"Filters{f' ({active} active)' if active else ''}", expanded=bool(active) and not ctx.embed, icon=":material/filter_alt:"):
    columns = st.columns(3)
    plain = [d for d in billing.DIMENSIONS if d != "tag"]
    column_of = {"service": "service_name", "account": "account_id", "ou": "ou", "region": "region",
                 "usage_type": "usage_type", "record_type": "record_type"}
    for i, dim in enumerate(plain + ["tag"]):
        with columns[i % 3]:
            if dim == "tag":
                check_url_param("m_tag", MODES, "tag filter mode")
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
                mode = st.radio("Tag filter mode", list(MODES), horizontal=True, key="m_tag", bind=URL,
                                label_visibility="collapsed")
                if tag_key and values:
                    try:
                        filters.append(CostFilter(Dimension("tag", tag_key), tuple(values), exclude=mode == "exclude"))
                    except InvalidRequest as e:
                        stop_with(e)
                continue
            check_url_param(f"m_{dim}", MODES, f"{billing.DIMENSION_LABELS[dim]} filter mode")
            opts = options_for(column_of[dim])
            option_sets[dim] = set(opts)
            if dim == "account":
                # Readable options ("name (id)") that still carry the id: the URL stores the option text.
                opts = [account_labels.get(v, v) for v in opts]
            values = st.multiselect(billing.DIMENSION_LABELS[dim], opts, key=f"f_{dim}", bind=URL, accept_new_options=True,
                                    placeholder="Any")
            mode = st.radio(f"{billing.DIMENSION_LABELS[dim]} filter mode", list(MODES), horizontal=True,
                            key=f"m_{dim}", bind=URL, label_visibility="collapsed")
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
month_fc = ca.forecast_period(daily_series, as_of, ca.month_start(as_of), ca.month_end(as_of))
quarter_fc = ca.forecast_period(daily_series, as_of, ca.quarter_start(as_of), ca.quarter_end(as_of))

compare_label = f"{compare_start:%b %d, %Y} – {compare_end:%b %d, %Y}"
range_label = f"{start:%b %d, %Y} – {end:%b %d, %Y}"
month_name, quarter_name = f"{as_of:%B}", f"Q{(as_of.month - 1) // 3 + 1} {as_of.year}"
kpis = st.columns(5)
kpis[0].metric("Total", fig.format_kpi_money(total, currency), border=True, help=f"{range_label}: {money(total)}.")
kpis[1].metric("Change", fig.format_kpi_money(total - previous_total, currency), f"{change:+.1%}" if change is not None else None,
               delta_color="inverse", border=True,
               help=f"vs {ca.COMPARISONS[compare_mode].lower()}, {compare_label}: {money(previous_total)}.")
kpis[2].metric("Average per day", fig.format_kpi_money(total / checked.days, currency), border=True, help=f"Over the {checked.days} days of the range.")
for column, fc, what in ((kpis[3], month_fc, month_name), (kpis[4], quarter_fc, quarter_name)):
    if fc is None:
        column.metric(f"Forecast {what}", "–", border=True, help="Not enough history (two weeks) to forecast.")
    else:
        column.metric(f"Forecast {what}", fig.format_kpi_money(fc.total, currency), border=True,
                      help=f"End of {what}: {money(fc.total)}, {fc.level:.0%} interval {money(fc.low)} – "
                           f"{money(fc.high)}; {money(fc.actual)} so far. See the Forecast tab for the method.")
        column.caption(f"{fc.level:.0%}: {fig.format_kpi_money(fc.low, currency)} – {fig.format_kpi_money(fc.high, currency)}")
notes = [f"{range_label} vs {compare_label}", f"{billing.COST_BASIS_LABELS[basis].lower()} cost", f"data through {as_of:%b %d, %Y}"]
if not previous_total:
    notes.append("no cost in the comparison period (before the data starts?), so no % change")
if granularity != "daily":
    after = end + dt.timedelta(days=1)
    if ca.bucket_starts(start, start, granularity)[0] != start or ca.bucket_starts(after, after, granularity)[0] != after:
        notes.append(f"the first or last {granularity.removesuffix('ly')} of the chart is partial")
st.caption(" · ".join(notes))

# --- chart ------------------------------------------------------------------------------------
view2 = "facets"
if group2 is not None:
    check_url_param("view2", ("facets", "sankey"), "second-level view")
    view2 = st.segmented_control("Second level as", ["facets", "sankey"], default="facets", required=True, key="view2", bind=URL)
if group2 is None:
    st.plotly_chart(in_currency(fig.build_cost_trend_figure(series, order1, chart, granularity, labels1, compact=ctx.embed), currency),
                    key="cost_chart")
elif view2 == "sankey":
    pair_totals = series.groupby(["group1", "group2"], as_index=False)["cost"].sum()
    st.plotly_chart(fig.build_sankey_figure(pair_totals, order1, order2, labels1, labels2, group.label, group2.label), key="cost_chart")
else:
    st.plotly_chart(in_currency(fig.build_facet_figure(series, order1, order2, labels1, labels2, compact=ctx.embed), currency),
                    key="cost_chart")
show_query_stats(results)

# --- breakdown table --------------------------------------------------------------------------
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
table = table.drop(columns="group").rename(columns={
    "cost": "Cost", "share": "Share", "previous": "Previous period", "change": "Change", "change_pct": "Change %"})
st.dataframe(
    table, hide_index=True, key="breakdown",
    column_config={
        "Cost": st.column_config.NumberColumn(format=money_format),
        "Previous period": st.column_config.NumberColumn(format=money_format, help=compare_label),
        "Change": st.column_config.NumberColumn(format=money_format),
        "Share": st.column_config.NumberColumn(format="percent"),
        "Change %": st.column_config.NumberColumn(format="percent"),
    },
)
export = st.columns(4)
with export[0]:
    csv_download(table, f"cost-breakdown-{start}-{end}.csv", "Table as CSV", currency=currency, key="download_table")
with export[1]:
    series_out = series.assign(period=series["period"].dt.date).rename(columns={"group1": group.key, "group2": group2.key if group2 else "group2"})
    csv_download(series_out, f"cost-series-{granularity}-{start}-{end}.csv", "Series as CSV", currency=currency, key="download_series")

# --- what changed, anomalies, forecast, budgets -----------------------------------------------
TABS = ("What changed", "Anomalies", "Forecast", "Budgets")
check_url_param("tab", TABS, "tab")
# Bound to the URL, the tabs run lazily: only the open tab's queries run.
tabs = st.tabs(list(TABS), key="tab", bind=URL, default=TABS[0])


def draw_changes() -> None:
    increases, decreases, total_change = ca.top_movers(current_by_group, previous_by_group, n=5)
    st.markdown(f"**{literal(group.label)}** between {compare_label} and {start:%b %d} – {end:%b %d, %Y}: "
                f"total change **{money(total_change)}**"
                + (f" ({change:+.1%})" if change is not None else "") + ".")
    if increases.empty and decreases.empty:
        empty_state("No group changed between the two periods.")
    else:
        st.plotly_chart(in_currency(fig.build_movers_figure(increases, decreases, labels1), currency), key="movers_chart")
        movers = pd.concat([increases, decreases], ignore_index=True)
        movers.insert(0, group.label, [labels1.get(g, g) for g in movers["group"]])
        st.dataframe(
            movers.drop(columns="group"), hide_index=True, key="movers",
            column_config={
                "previous": st.column_config.NumberColumn("Previous", format=money_format),
                "current": st.column_config.NumberColumn("Current", format=money_format),
                "change": st.column_config.NumberColumn("Change", format=money_format),
                "change_pct": st.column_config.NumberColumn("Change %", format="percent"),
                "contribution_pp": st.column_config.NumberColumn("Contribution (pp)", format="%+.2f",
                                                                 help="Percentage points of the total % change."),
                "share_of_change": st.column_config.NumberColumn("Share of change", format="percent"),
            },
        )


def draw_anomalies() -> None:
    check_url_param("anomaly_by", [d for d in billing.DIMENSIONS if d != "tag"], "anomalies by")
    anomaly_key = st.selectbox("Detect anomalies by", [d for d in billing.DIMENSIONS if d != "tag"], key="anomaly_by", bind=URL)
    anomaly_dim = Dimension(anomaly_key)
    # The detector looks at the last 92 days of the range at most, with its baseline window before.
    detect_start = max(start, end - dt.timedelta(days=91))
    try:
        by_day = run(billing.daily_by_group(scope.with_range(detect_start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), end), anomaly_dim))
    except DaiviError as e:
        show_error(e)
        by_day = pd.DataFrame(columns=["usage_date", "group1", "cost"])
    by_day["usage_date"] = pd.to_datetime(by_day["usage_date"]).dt.date
    events = ca.detect_anomalies(by_day.rename(columns={"group1": "group"}), detect_start, end)
    if not ctx.embed:
        st.caption(ca.ANOMALY_METHOD)
    if events.empty:
        empty_state(f"No anomalies by {literal(anomaly_dim.label.lower())} between {detect_start} and {end}.")
    else:
        shown_events = events.head(10)
        labels_a = labels_for(anomaly_dim)
        st.markdown(f"**{len(events)} anomal{'y' if len(events) == 1 else 'ies'}** between {detect_start} and {end}, largest impact first.")
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
        st.dataframe(anomaly_table, hide_index=True, key="anomalies", column_config={
            "Cost": st.column_config.NumberColumn(format=money_format),
            "Expected": st.column_config.NumberColumn(format=money_format, help="Median of the previous days, times the event's days."),
            "Impact": st.column_config.NumberColumn(format=money_format),
            "Score": st.column_config.NumberColumn(format="%.1f", help="Robust z: scaled MADs from the median."),
        })
        top_event = shown_events.iloc[0]
        st.plotly_chart(in_currency(fig.build_anomaly_figure(by_day, top_event["group"], top_event["first_day"], top_event["last_day"],
                                                             labels_a.get(top_event["group"], top_event["group"])), currency),
                        key="anomaly_chart")
        st.caption(f"Daily cost of the largest anomaly's {literal(anomaly_dim.label.lower())}, the event shaded.")


def draw_forecast() -> None:
    st.markdown(ca.FORECAST_METHOD)
    for period, fc, what in (("month", month_fc, f"{as_of:%B %Y}"), ("quarter", quarter_fc, f"Q{(as_of.month - 1) // 3 + 1} {as_of.year}")):
        if fc is None:
            empty_state(f"Not enough history to forecast {what} (at least {ca.FORECAST_MIN_DAYS} days with the current filters).")
            continue
        st.markdown(f"**{what}**: {money(fc.actual)} through {fc.as_of:%b %d} + {money(fc.remaining)} forecast "
                    f"= **{money(fc.total)}** ({fc.level:.0%} interval {money(fc.low)} – {money(fc.high)}).")
        st.plotly_chart(in_currency(fig.build_forecast_figure(history, fc), currency), key=f"forecast_{period}")  # December ends a month and a quarter on one day


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
                st.dataframe(status, hide_index=True, key="budgets", column_config={
                    "budget_name": "Budget", "scope_type": "Scope", "scope_value": "Of",
                    "monthly_limit": st.column_config.NumberColumn("Limit", format=money_format),
                    "actual": st.column_config.NumberColumn("Actual (MTD)", format=money_format),
                    "pct_used": st.column_config.ProgressColumn("Used", format="percent", min_value=0.0, max_value=1.0),
                    "projected": st.column_config.NumberColumn("Projected month end", format=money_format),
                    "overrun_date": st.column_config.DateColumn("Projected overrun"),
                    "status": "Status",
                })


chart_queries = len(results)
for tab, draw in zip(tabs, (draw_changes, draw_anomalies, draw_forecast, draw_budgets), strict=True):
    if tab.open is not False:
        with tab:
            draw()
            show_query_stats(results[chart_queries:])  # this tab's own queries
