"""Cost Explorer: cost over time by any dimension, what changed and why, forecast, anomalies and budgets.

Layout only: widgets (bound to the URL) -> `CostRequest` -> the page model's queries and frames
(`daivi_data.models.cost_explorer`, through `page.run` / `page.derived`) -> `daivi_ui.cost_explorer_tabs`.
"""

import datetime as dt

import streamlit as st

from daivi_data import cost_analysis as ca
from daivi_data.currency import choose_currency
from daivi_data.data_span import empty_result_message
from daivi_data.errors import InvalidRequest
from daivi_data.models import cost_explorer as model
from daivi_data.queries import billing
from daivi_data.queries.billing import CostScope, Dimension
from daivi_ui import cost_explorer_tabs as tabs
from daivi_ui import format as fmt
from daivi_ui.components import empty_state
from daivi_ui.currency import pick_currency
from daivi_ui.page import open_page
from daivi_ui.state import URL, check_url_param, labelled_choice, peek_choice
from daivi_ui.text import literal
from daivi_ui.vocabulary import account_label

WIDE_PX, DATE_PX, NARROW_PX = 200, 130, 90  # control widths: the longest label of each fits

page = open_page("Cost Explorer", "AWS cost by service, account, OU, region, usage type, record type or tag, with what "
                 "changed, a forecast, anomalies and budgets. Every figure is SQL run under your role's grants; the URL "
                 "keeps the view.", needs="billing")
ctx = page.ctx

# --- the data's last complete day ------------------------------------------------------------
info = page.table_with_data("daivi_billing", "cost_daily",
                            "The billing lakehouse has no cost data yet. Build the demo (`make demo`) or import a billing export.")
last_day = page.run(model.data_end_query(info.latest_partition, ctx.today))["last_day"].iloc[0]
as_of, data_end = model.anchored(ctx.today, last_day, info.latest_partition)

check_url_param("top", [str(n) for n in billing.TOP_N_CHOICES], "top N")
area = page.layout(summary=lambda: model.embed_summary(
    peek_choice("range", ca.PRESETS, model.DEFAULT_PRESET), st.session_state.get("group") or st.query_params.get("group"),
    peek_choice("basis", model.BASIS_LABELS, "unblended"), as_of, fmt.date_range))
controls = area.controls

# --- time, basis ------------------------------------------------------------------------------
check_url_param("start", model.is_iso_date, "start date (YYYY-MM-DD)")
check_url_param("end", model.is_iso_date, "end date (YYYY-MM-DD)")
# Rows of fixed-width controls that wrap: a narrow window stacks them instead of cutting "Last 30 days".
row1 = controls.container(horizontal=True, gap="small")


def start_custom_from_shown_range() -> None:
    """Switching to a custom range starts from the dates that were on screen, not from the default preset's."""
    shown = st.session_state.get("_cost_shown_range")
    if st.session_state.get("range") == "custom" and shown:
        st.session_state["start"], st.session_state["end"] = shown


preset = labelled_choice(row1.selectbox, "Time range", ca.PRESETS, key="range", default=model.DEFAULT_PRESET,
                         on_change=start_custom_from_shown_range,
                         help="Ranges are whole UTC days up to the last complete day of data. Previous month is the "
                              "last complete calendar month.", width=WIDE_PX)
# Start and End wrap together: at 900 px End went to the next line, beside Granularity, away from its Start.
dates = row1.container(horizontal=True, gap="small", width="content")
if preset == "custom":
    default_start, default_end = ca.preset_range(model.DEFAULT_PRESET, as_of)
    # Wide bounds: a future or reversed range must reach the check below and get its message.
    bounds = {"min_value": dt.date(2000, 1, 1), "max_value": as_of + dt.timedelta(days=3 * 366)}
    start = dates.date_input("Start (UTC)", value=default_start, key="start", bind=URL, width=DATE_PX, **bounds)
    end = dates.date_input("End (UTC)", value=default_end, key="end", bind=URL, width=DATE_PX, **bounds)
else:
    start, end = ca.preset_range(preset, as_of)
    # Set every run: a keyed input would otherwise keep the dates of the preset chosen first.
    st.session_state["start_shown"], st.session_state["end_shown"] = f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"
    dates.text_input("Start (UTC)", disabled=True, key="start_shown", width=DATE_PX)
    dates.text_input("End (UTC)", disabled=True, key="end_shown", width=DATE_PX)
granularity = labelled_choice(row1.segmented_control, "Granularity", ca.GRANULARITIES, key="grain", default="daily", width="content")
basis = labelled_choice(row1.selectbox, "Cost basis", model.BASIS_LABELS, key="basis", width=WIDE_PX,
                        help="\n\n".join(f"**{billing.COST_BASIS_LABELS[k]}**: {v}" for k, v in billing.COST_BASIS_HELP.items()))
try:
    checked = ca.check_range(start, end, as_of)
except InvalidRequest as e:
    page.stop_with(e)
start, end = checked.start, checked.end
st.session_state["_cost_shown_range"] = (start, end)

# --- currency: every figure below is in one; a range billed in several shows each total apart --
by_currency = page.run(billing.currencies(start, end))
in_range = dict(zip(by_currency["currency"], by_currency["unblended_cost"], strict=True))
choice = choose_currency(dict(zip(by_currency["currency"], by_currency["abs_cost"], strict=True)), st.query_params.get("currency"))
currency = pick_currency(choice, lambda: st.columns([1.4, 4.6])[0], "This range holds costs", in_range)

# --- dimensions (tag keys found in the range) -------------------------------------------------
tag_keys = page.run(billing.tag_keys(start, end))["tag_key"].dropna().astype(str).tolist()
account_labels = {r.account_id: account_label(r.account_id, r.account_name) for r in page.run(billing.accounts()).itertuples()}
dimension_labels = model.dimension_labels(tag_keys)
row2 = controls.container(horizontal=True, gap="small")
group_key = labelled_choice(row2.selectbox, "Group by", dimension_labels, key="group", default=model.DEFAULT_GROUP, width=WIDE_PX,
                            on_invalid=tabs.invalid_dimension("group by", tag_keys, start, end))
group2_key = labelled_choice(row2.selectbox, "Then by", {"none": "None", **dimension_labels}, key="group2", default="none",
                             width=WIDE_PX, on_invalid=tabs.invalid_dimension("then by", tag_keys, start, end),
                             help="A second level, shown as small multiples or a Sankey.")
top_n = row2.selectbox("Top N", billing.TOP_N_CHOICES, index=1, key="top", bind=URL, help="Groups beyond the top N are summed as Others.",
                       width=NARROW_PX)
chart = labelled_choice(row2.segmented_control, "Chart", tabs.fig.CHART_TYPES, key="chart", default="bar", width="content")
compare = labelled_choice(row2.selectbox, "Compare with", ca.COMPARISONS, key="compare", default="previous", width=WIDE_PX,
                          help="Previous period: the equal period just before (the same days of the previous months "
                               "for month ranges). Same period last year: the same dates a year earlier.")
if not ctx.embed:
    controls.caption(f"**{billing.COST_BASIS_LABELS[basis]} cost**: {billing.COST_BASIS_HELP[basis]}")
group, group2 = Dimension.parse(group_key), model.second_level(group_key, group2_key)
if group2_key == group_key:
    st.info("“Then by” is the same as “Group by”; showing one level.", icon=":material/info:")

# --- filters ----------------------------------------------------------------------------------
values_in_range = page.run(billing.dimension_values(CostScope(start, end, basis, currency=currency)))
options = page.derived(model.filter_options, values_in_range)
filters, tag_options = tabs.filter_controls(page, controls, options, account_labels, tag_keys, start, end)
unknown = model.unknown_filter_values(filters, {**options, "tag": tag_options})
if unknown:
    shown = "; ".join(f"{literal(label)}: '{literal(value, 60)}'" for label, value in unknown[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    st.warning(f"No cost in this range matches filter value {shown}{more}. Values are matched exactly, as plain text.",
               icon=":material/filter_alt_off:")
request = model.CostRequest(start, end, as_of, granularity, basis, currency, group, group2, top_n, compare, tuple(filters))
if checked.notice:
    st.info(checked.notice, icon=":material/event:")

# --- totals, series, forecast -----------------------------------------------------------------
totals = page.run(model.totals_query(request))
groups = page.derived(model.group_totals, totals, top_n, group2 is not None)
if groups.empty:
    nothing = f"No cost between {start:%Y-%m-%d} and {end:%Y-%m-%d}"
    if filters:
        empty_state(f"{nothing} for the selected filters. Widen the range or clear filters.")
    else:
        grant = ctx.grants.grant_for("daivi_billing", "cost_daily")
        empty_state(empty_result_message(nothing, data_ends=data_end, asked_from=f"{start:%Y-%m-%d}",
                                         role=ctx.principal.role, row_filtered=grant is None or bool(grant.row_filter)))
    page.stats()
    st.stop()
# A second level over a long range is the slowest query of the view: say what is happening.
with st.spinner(f"Summing cost by {group.label.lower()}{f' and {group2.label.lower()}' if group2 else ''}…", show_time=True):
    series = page.derived(model.series_frame, page.run(model.series_query(request, groups)))
forecasts = page.derived(model.forecasts, page.run(model.history_query(request)), as_of)

view = tabs.CostView(page, request, groups, totals, series, forecasts, account_labels,
                     page.derived(model.service_codes, values_in_range), chart)
# Not embedded: KPIs, chart, table. Embedded: the chart first, then the controls' summary, KPIs and table.
with area.body:
    if ctx.shows("kpis"):
        tabs.draw_kpis(view)
with area.chart_area:
    if ctx.shows("chart"):
        tabs.draw_chart(view)
with area.body:
    if ctx.shows_everything:
        page.stats()
    if ctx.shows("table"):
        tabs.draw_table(view)
if not ctx.shows_everything:
    st.stop()

# --- what changed, anomalies, forecast, budgets -----------------------------------------------
check_url_param("tab", model.TABS, "tab")
# Bound to the URL, the tabs run lazily: only the open tab's queries run.
opened = st.tabs(list(model.TABS), key="tab", bind=URL, default=model.TABS[0])
chart_queries = page.mark()
for tab, draw in zip(opened, (tabs.draw_changes, tabs.draw_anomalies, tabs.draw_forecast, tabs.draw_budgets), strict=True):
    if tab.open is not False:
        with tab:
            draw(view)
            page.stats(since=chart_queries)  # this tab's own queries
