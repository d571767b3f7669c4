"""Cost Explorer's parts, drawn: filters, KPIs, chart, breakdown table and the four tabs. Layout only.

Every frame and figure comes from the page model (`daivi_data.models.cost_explorer`) through
`page.derived` / `page.figure`, so a rerun redoes no pandas or plotly work. The few functions
here that `page.derived` calls only add the page's money format to a model function.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

import pandas as pd
import streamlit as st

from daivi_data import cost_analysis as ca
from daivi_data.errors import AccessDenied, DaiviError, InvalidRequest
from daivi_data.models import cost_explorer as model
from daivi_data.queries import billing
from daivi_data.queries.billing import CostFilter, Dimension
from daivi_ui import figures_cost as fig
from daivi_ui import format as fmt
from daivi_ui.components import cost_change_delta, csv_download, empty_state, kpi, kpi_row, money_kpi
from daivi_ui.currency import in_currency
from daivi_ui.errors import show_error
from daivi_ui.page import Page
from daivi_ui.state import URL, invalid_url_value_notice, labelled_choice, labelled_multichoice, url_values
from daivi_ui.tables import labelled_config, money_column, percent_column, readable
from daivi_ui.text import literal


@dataclass(frozen=True)
class CostView:
    """What every part of the view draws from."""

    page: Page
    request: model.CostRequest
    groups: model.Groups
    totals: pd.DataFrame
    series: pd.DataFrame
    forecasts: model.Forecasts
    account_labels: dict[str, str]
    service_codes: dict[str, str]  # service name -> product code (the CUR view's key)
    chart: str = "bar"  # stacked bar, area or line (one level only)

    @property
    def currency(self) -> str:
        return self.request.currency

    def money(self, value: float | None) -> str:
        return fmt.money(value, self.currency)

    def cost_column(self, label: str | None = None, **kwargs):
        return money_column(label, currency=self.currency, **kwargs)

    def labels_for(self, dimension: Dimension | None) -> dict[str, str]:
        return self.account_labels if dimension is not None and dimension.name == "account" else {}

    @property
    def range_label(self) -> str:
        return fmt.date_range(self.request.start, self.request.end)

    @property
    def compare_label(self) -> str:
        return fmt.date_range(*self.request.compare_range)


# --- filters ----------------------------------------------------------------------------------

def invalid_dimension(what: str, tag_keys: list[str], start: dt.date, end: dt.date):
    """The notice for a group-by the URL names but the data lacks: a tag key gets the keys that do occur."""
    def notice(value: str) -> None:
        if value.startswith("tag:"):
            found = ", ".join(tag_keys) or "none"
            st.warning(f"Tag key '{literal(value[4:], 60)}' ({what}) does not occur in cost allocation tags between {start} and "
                       f"{end} (keys found: {literal(found)}); using the default.", icon=":material/sell:")
        else:
            invalid_url_value_notice([value], what)
    return notice


def filter_controls(page: Page, controls, options: dict[str, list[str]], account_labels: dict[str, str], tag_keys: list[str],
                    start: dt.date, end: dt.date) -> tuple[list[CostFilter], list[str]]:
    """The Filters box: one multiselect (and include/exclude) per dimension. Returns the filters and the tag's values."""
    filters: list[CostFilter] = []
    tag_options: list[str] = []
    active = sum(1 for d in billing.DIMENSIONS if url_values(f"f_{d}") or st.session_state.get(f"f_{d}"))
    # An embed's controls are already folded away, and expanders do not nest.
    box = (controls.container() if page.ctx.embed else
           controls.expander(f"Filters{f' ({active} active)' if active else ''}", expanded=bool(active), icon=":material/filter_alt:"))
    columns = box.columns(3)
    for i, dim in enumerate((*model.PLAIN_DIMENSIONS, "tag")):
        with columns[i % 3]:
            if dim == "tag":
                tag_key, values, tag_options = _tag_filter(page, tag_keys, start, end)
                dimension = Dimension("tag", tag_key) if tag_key else None
            else:
                dimension, values = Dimension(dim), _values_filter(dim, options[dim], account_labels)
            mode = labelled_choice(st.radio, f"{billing.DIMENSION_LABELS[dim]} filter mode", model.MODE_LABELS, key=f"m_{dim}",
                                   horizontal=True, label_visibility="collapsed")
            try:
                made = model.make_filter(dimension, values, mode) if dimension else None
            except InvalidRequest as e:
                page.stop_with(e)
            if made is not None:
                filters.append(made)
    return filters, tag_options


def _values_filter(dim: str, options: list[str], account_labels: dict[str, str]) -> list[str]:
    label = billing.DIMENSION_LABELS[dim]
    if dim != "account":
        return st.multiselect(label, options, key=f"f_{dim}", bind=URL, accept_new_options=True, placeholder="Any")
    # Account names on screen, ids in the URL; an old link's "name (id)" still names its account.
    named = [k for k in model.account_keys(url_values("f_account"), account_labels) if k in account_labels]
    keys = list(dict.fromkeys([*options, *named]))
    return labelled_multichoice(st.multiselect, label, {k: account_labels.get(k, k) for k in keys}, key="f_account", default=[],
                                what="account filter", placeholder="Any")


def _tag_filter(page: Page, tag_keys: list[str], start: dt.date, end: dt.date) -> tuple[str | None, list[str], list[str]]:
    asked = url_values("ftag")
    if asked and asked[0] not in tag_keys:
        st.warning(f"Tag key '{literal(asked[0], 60)}' does not occur in the range (keys found: "
                   f"{literal(', '.join(tag_keys) or 'none')}); the tag filter is off.", icon=":material/sell:")
    tag_key = st.selectbox("Tag key", tag_keys, index=None, placeholder="Filter by a tag…", key="ftag", bind=URL)
    found = page.try_run(billing.tag_values(start, end, tag_key)) if tag_key else None
    options = found["tag_value"].astype(str).tolist() if found is not None else []
    values = st.multiselect(f"Values of {tag_key or 'the tag'}", options, key="f_tag", bind=URL, disabled=not tag_key,
                            accept_new_options=True, placeholder=f"Any ({billing.UNTAGGED} = no such tag)")
    return tag_key, values, options


# --- KPIs, chart, table -------------------------------------------------------------------------

def draw_kpis(v: CostView) -> None:
    r, g, fc = v.request, v.groups, v.forecasts
    row = kpi_row()
    cost_kpi = partial(money_kpi, currency=v.currency)
    cost_kpi(row, "Total", g.total, help=f"{v.range_label}.")
    cost_kpi(row, "Change", g.total - g.previous_total, **cost_change_delta(g.change), help=f"vs {ca.COMPARISONS[r.compare].lower()}, {v.compare_label}: {v.money(g.previous_total)}.")
    cost_kpi(row, "Average per day", g.total / r.days, help=f"Over the {r.days} days of the range.")
    intervals = []
    for forecast, what in ((fc.month, fc.month_name), (fc.quarter, fc.quarter_name)):
        if forecast is None:
            kpi(row, f"Forecast {what}", fmt.MISSING, help="Not enough history (two weeks) to forecast.")
            continue
        cost_kpi(row, f"Forecast {what}", forecast.total,
                 help=f"End of {what}, {forecast.level:.0%} interval {v.money(forecast.low)} – {v.money(forecast.high)}; "
                      f"{v.money(forecast.actual)} so far. See the Forecast tab for the method.")
        intervals.append(f"{what} {fmt.money_short(forecast.low, v.currency)} – {fmt.money_short(forecast.high, v.currency)}")
    notes = [f"{v.range_label} vs {v.compare_label}", f"{billing.COST_BASIS_LABELS[r.basis].lower()} cost",
             f"data through {fmt.day(r.as_of)} (UTC)"]
    if intervals:
        notes.append(f"forecast {ca.FORECAST_LEVEL:.0%} intervals: {', '.join(intervals)}")
    if not g.previous_total:
        notes.append("no cost in the comparison period (before the data starts?), so no % change")
    if model.partial_bucket(r.start, r.end, r.granularity):
        notes.append(f"the first or last {r.granularity.removesuffix('ly')} of the chart is partial")
    st.caption(" · ".join(notes))


def _filter_to(state: dict[str, object]) -> None:
    """Set the Filters to `state` (widget keys -> values): the widgets, and then the URL, follow."""
    for key, value in state.items():
        st.session_state[key] = value


def _filter_to_clicked_group(group: Dimension) -> None:
    """A click on a bar (or a point of a line) filters the view to that group."""
    event = st.session_state.get("cost_chart")
    points = event.selection.points if event is not None else []
    clicked = points[0].get("legendgroup") if points else None
    if not clicked or clicked == ca.OTHERS:
        return
    _filter_to(model.filter_state(group, clicked))


def draw_chart(v: CostView) -> None:
    r, g, page = v.request, v.groups, v.page
    labels1, labels2 = v.labels_for(r.group), v.labels_for(r.group2)
    view2 = "facets"
    if r.group2 is not None:
        view2 = labelled_choice(st.segmented_control, "Second level as", model.VIEW2_LABELS, key="view2", default="facets")
    if r.group2 is None:
        figure = page.figure(fig.build_cost_trend_figure, v.series, g.order1, v.chart,
                             r.granularity, labels1, page.ctx.embed)
        st.plotly_chart(in_currency(figure, v.currency), key="cost_chart", selection_mode="points",
                        on_select=partial(_filter_to_clicked_group, r.group) if page.ctx.shows_everything else "ignore")
        if not page.ctx.embed:
            st.caption(f"Click a bar to filter the view to its {r.group.label if r.group.name == 'tag' else r.group.label.lower()}.")
    elif view2 == "sankey":
        figure = page.figure(fig.build_sankey_figure, page.derived(model.pair_totals, v.series), g.order1, g.order2, labels1, labels2,
                             r.group.label, r.group2.label)
        # Streamlit reports clicks on bars and points, not on Sankey nodes: the table's rows below are the targets.
        st.plotly_chart(in_currency(figure, v.currency), key="cost_chart")
    else:
        figure = page.figure(fig.build_facet_figure, v.series, g.order1, g.order2, labels1, labels2, page.ctx.embed)
        st.plotly_chart(in_currency(figure, v.currency), key="cost_chart")


def draw_table(v: CostView) -> None:
    r, g, page = v.request, v.groups, v.page
    result = page.derived(model.breakdown, v.totals, g, r.group, r.group2, v.labels_for(r.group), v.labels_for(r.group2))
    selectable = {"on_select": "rerun", "selection_mode": "single-row"} if page.ctx.shows_everything else {}
    picked = page.table(result.table, key=model.selection_key(r), column_config={
        "Cost": v.cost_column(), "Previous period": v.cost_column(help=v.compare_label), "Change": v.cost_column(),
        "Share": percent_column(), "Change %": percent_column(),
    }, **selectable)
    if not page.ctx.shows_everything:
        return
    _row_actions(v, result, picked.selection.rows if picked is not None else [])
    with st.container(horizontal=True, gap="small"):  # buttons as wide as their labels, wrapping when narrow
        csv_download(lambda: model.breakdown_csv(result, r.group.label, g.others_count, r.top_n, fmt.round_money_columns),
                     f"cost-breakdown-{r.start}-{r.end}.csv", "Table as CSV", key="download_table", currency=r.currency)
        csv_download(lambda: model.series_csv(v.series, r.group, r.group2, fmt.round_money_columns),
                     f"cost-series-{r.granularity}-{r.start}-{r.end}.csv", "Series as CSV", key="download_series",
                     currency=r.currency)


def _row_actions(v: CostView, result: model.Breakdown, rows: list[int]) -> None:
    """What the selected row of the breakdown can do: filter the view to it, or open it in the CUR drill-down."""
    action = model.row_action(result, rows[0], v.request.group, v.request.group2, v.request, v.service_codes) if rows else None
    if action is None:
        # A role without the CUR (ops) is not pointed at a view it cannot open.
        prompt = "Select a group's row to filter the view to it" + (" or open it in the CUR drill-down." if v.page.ctx.can_read("cur") else ".")
        st.caption(prompt if not rows else "Others and Total are not one group: select a group's row to act on it.")
        return
    with st.container(horizontal=True, gap="small", key="row_actions"):
        st.button(f"Filter to {literal(action.label, 60)}", key="filter_to_row", icon=":material/filter_alt:", on_click=_filter_to,
                  args=(action.filter_state,))
        if action.cur_params is not None and v.page.ctx.can_read("cur"):
            st.link_button("Open in CUR drill-down", v.page.ctx.link("cur", **action.cur_params), icon=":material/receipt_long:",
                           help=f"The CUR line items of {literal(action.cur_what)}.")
        elif v.page.ctx.can_read("cur"):
            st.caption("The CUR drill-down opens an account, or a service of one account: filter to one account to open a service.")


# --- the tabs -----------------------------------------------------------------------------------

def draw_changes(v: CostView) -> None:
    r, g, page = v.request, v.groups, v.page
    labels = v.labels_for(r.group)
    moved = page.derived(model.movers, g, r.group.label, labels)
    st.markdown(f"**{literal(r.group.label)}** between {v.compare_label} and {v.range_label}: total change "
                f"**{v.money(moved.total_change)}**" + (f" ({fmt.percent(g.change, signed=True)})" if g.change is not None else "") + ".")
    if moved.table.empty:
        empty_state("No group changed between the two periods.")
        return
    st.plotly_chart(in_currency(page.figure(fig.build_movers_figure, moved.increases, moved.decreases, labels), v.currency),
                    key="movers_chart")
    page.table(moved.table, key="movers", column_config={
        "previous": v.cost_column("Previous"), "current": v.cost_column("Current"), "change": v.cost_column("Change"),
        "change_pct": percent_column("Change %"),
        "contribution_pp": st.column_config.NumberColumn("Contribution (pp)", format="%+.1f", help="Percentage points of the total % change."),
        "share_of_change": percent_column("Share of change"),
    })


def anomaly_table(found: model.Anomalies, detail: pd.DataFrame, dimension: Dimension, labels: dict[str, str],
                  account_labels: dict[str, str], currency: str) -> pd.DataFrame:
    """The model's anomaly table with its drivers' amounts in `currency` (for `page.derived`)."""
    return model.anomaly_table(found, detail, dimension, labels, account_labels, partial(fmt.money, currency=currency))


def draw_anomalies(v: CostView) -> None:
    r, page = v.request, v.page
    key = labelled_choice(st.selectbox, "Detect anomalies by", {d: label for d, label in billing.DIMENSION_LABELS.items() if d != "tag"},
                          key="anomaly_by", default="service", what="anomalies by")
    dimension = Dimension(key)
    detect_start, _ = model.anomaly_range(r)
    shown_range = fmt.date_range(detect_start, r.end)
    with st.spinner(f"Looking for anomalies by {dimension.label.lower()} in {shown_range}…", show_time=True):
        daily = page.try_run(model.anomaly_daily_query(r, dimension))
        found = page.derived(model.anomalies, daily if daily is not None else pd.DataFrame(columns=["usage_date", "group1", "cost"]),
                             detect_start, r.end)
    if not page.ctx.embed:
        st.caption(ca.ANOMALY_METHOD)
    if found.events.empty:
        empty_state(f"No anomalies by {literal(dimension.label.lower())} in {shown_range}.")
        return
    count = len(found.events)
    st.markdown(f"**{count} anomal{'y' if count == 1 else 'ies'}** between {shown_range}, largest impact first.")
    details_query = model.anomaly_details_query(r, dimension, found)
    detail = page.try_run(details_query) if details_query is not None else None
    labels = v.labels_for(dimension)
    table = page.derived(anomaly_table, found, detail if detail is not None else pd.DataFrame(), dimension, labels,
                         v.account_labels, v.currency)
    picked = page.table(table, key="anomalies", on_select="rerun", selection_mode="single-row", column_config={
        "Cost": v.cost_column(), "Expected": v.cost_column(help="Median of the previous days, times the event's days."),
        "Impact": v.cost_column(), "Score": st.column_config.NumberColumn(format="%.1f", help="Robust z: scaled MADs from the median."),
    })
    # One click charts an anomaly: the selected row, else the largest.
    rows = picked.selection.rows if picked is not None else []
    event = found.shown.iloc[rows[0] if rows and rows[0] < len(found.shown) else 0]
    figure = page.figure(fig.build_anomaly_figure, found.daily, event["group"], event["first_day"], event["last_day"],
                         labels.get(event["group"], event["group"]))
    st.plotly_chart(in_currency(figure, v.currency), key="anomaly_chart")
    # The chart has no legend: the caption names what it shows.
    shown = labels.get(event["group"], event["group"])
    st.caption(f"Daily cost of {literal(shown)}, {'the selected' if rows else 'the largest'} anomaly's "
               f"{literal(dimension.label.lower())}, the event shaded. Select a row to chart another.")


def draw_forecast(v: CostView) -> None:
    fc, page = v.forecasts, v.page
    st.markdown(ca.FORECAST_METHOD)
    for period, forecast, what in (("month", fc.month, f"{fc.open_day:%B %Y}"), ("quarter", fc.quarter, fc.quarter_name)):
        if forecast is None:
            empty_state(f"Not enough history to forecast {what} (at least {ca.FORECAST_MIN_DAYS} days with the current filters).")
            continue
        st.markdown(f"**{what}**: {v.money(forecast.actual)} through {fmt.day(forecast.as_of)} + {v.money(forecast.remaining)} "
                    f"forecast = **{v.money(forecast.total)}** ({forecast.level:.0%} interval {v.money(forecast.low)} – "
                    f"{v.money(forecast.high)}).")
        # Keyed by period: December ends a month and a quarter on one day.
        st.plotly_chart(in_currency(page.figure(fig.build_forecast_figure, fc.history, forecast), v.currency), key=f"forecast_{period}")


def budget_status(budgets: pd.DataFrame, daily: pd.DataFrame, as_of: dt.date, account_labels: dict[str, str]) -> model.BudgetStatus:
    """The model's budget status with amounts and days as the page writes them (for `page.derived`)."""
    return model.budget_status(budgets, daily, as_of, account_labels, fmt.money, fmt.day)


def draw_budgets(v: CostView) -> None:
    r, page = v.request, v.page
    unavailable = f"Budgets are not available for your role (`{page.ctx.principal.role}`)"
    if page.ctx.grants.grant_for("daivi_billing", "budgets") is None:
        st.info(f"{unavailable}: it has no grant on `daivi_billing.budgets`.", icon=":material/lock:")
        return
    try:
        budgets = page.result(billing.budgets()).df
        daily = page.result(model.budget_daily_query(r.as_of, r.basis)).df
    except AccessDenied:
        st.info(f"{unavailable}.", icon=":material/lock:")
        return
    except DaiviError as e:
        show_error(e)
        return
    if budgets.empty:
        empty_state("No budgets are visible to your role.")
        return
    status = page.derived(budget_status, budgets, daily, r.as_of, v.account_labels)
    st.caption(f"{ca.BUDGET_METHOD} {billing.COST_BASIS_LABELS[r.basis]} cost, {r.as_of:%B %Y} through {r.as_of:%b %d}; "
               "budgets ignore the page's filters, and each is compared with cost in its own currency.")
    if status.other_currency:
        st.warning(f"{len(status.other_currency)} budget(s) are in a currency their scope has no cost in; they are not compared "
                   f"(no exchange rate is assumed): {literal(', '.join(status.other_currency))}.", icon=":material/currency_exchange:")
    table = status.table
    one_currency = set(table["currency"]) == {v.currency}
    money = v.cost_column if one_currency else (lambda label: st.column_config.NumberColumn(label, format="%.2f"))
    if one_currency:
        table = table.drop(columns="currency")
    # In points of a hundred: a ProgressColumn's "percent" preset writes two decimals (114.58%), the view's percentages one.
    table = table.assign(pct_used=table["pct_used"] * 100)
    config = labelled_config(table, {
        "budget_name": "Budget", "scope_type": "Scope", "scope_value": "Of", "status": "Status", "currency": "Currency",
        "monthly_limit": money("Limit"), "actual": money("Actual (MTD)"), "projected": money("Projected month end"),
        "pct_used": st.column_config.ProgressColumn("Used", format="%.1f%%", min_value=0.0, max_value=100.0),
        "over_since": "Went over on", "overrun_date": "Projected overrun",
    })
    # Over-budget rows stand out by colour and by their words (never colour alone).
    styled = readable(table).style.apply(lambda row: [f"background-color: {fig.ALERT_FILL}" if status.alert[row.name] else ""] * len(row),
                                         axis=1)
    st.dataframe(styled, hide_index=True, key="budgets", column_config=config)
