"""Layout of the CUR view's tabs: drill-down, invoice, commitments, allocation, top resources, data transfer.

Layout only: each tab asks `daivi_data.models.cur` for its queries and result frames (through the
page, so queries run as the signed-in user and pandas work is cached per principal) and draws them.
Figures come from `page.figure` (cached as plotly dicts), except the selectable period chart: it is
built on every run, so its element id never changes between runs and a click on a bar is not lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from daivi_data import cur_analysis as ca
from daivi_data.data_span import empty_result_message
from daivi_data.errors import InvalidRequest
from daivi_data.models import cur as model
from daivi_data.queries import cur as q
from daivi_ui import figures_cur as fig
from daivi_ui import format as fmt
from daivi_ui.components import csv_download, empty_state, kpi, kpi_row, money_kpi
from daivi_ui.currency import in_currency
from daivi_ui.errors import show_error
from daivi_ui.page import Page
from daivi_ui.state import URL, check_url_param, labelled_choice
from daivi_ui.tables import header, money_column, percent_column, show_table
from daivi_ui.text import literal
from daivi_ui.vocabulary import account_label, service_name, with_service_names

PERCENT = percent_column()


@dataclass(frozen=True)
class Screen:
    """What every tab draws from: the page, the request (period, basis, currency), the periods, the chart height."""

    page: Page
    request: model.CurRequest
    periods: model.Periods
    chart_height: int

    @property
    def period(self) -> str:
        return self.request.period

    @property
    def money(self) -> dict:
        return money_column(currency=self.request.currency)

    def money_kpi(self, row, label: str, value: float | None, **kwargs) -> None:
        money_kpi(row, label, value, currency=self.request.currency, **kwargs)

    def exact(self, value: float | None) -> str:
        return fmt.money(value, self.request.currency)

    def csv(self, df: pd.DataFrame | Callable[[], pd.DataFrame], name: str, key: str, total_row: pd.Series | None = None) -> None:
        """The table as CSV named for the period, money to the cent and still adding up, in the page's currency."""
        csv_download(df, f"cur-{name}-{self.period}.csv", key=key, currency=self.request.currency, cents=True,
                     money_also=ca.TRANSFER_CATEGORIES, total_row=total_row)

    def chart(self, figure, key: str) -> object:
        return st.plotly_chart(in_currency(figure, self.request.currency), key=key)


def frame_key(*parts: object) -> str:
    """A widget key that changes with the data shown, so a stale selection never carries over."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


# --- drill-down ----------------------------------------------------------------------------------

def set_drill_path(path: q.DrillPath | None, period_value: str | None = None) -> None:
    """Write a drill path to the URL (and forget the deeper levels)."""
    params = path.url_params() if path else {"period": period_value}
    for name in q.DRILL_PARAMS:
        if params.get(name) is not None:
            st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]


def with_labels(level: str, df: pd.DataFrame) -> pd.DataFrame:
    """The level's rows with the column that names them (account label, service name, usage type / operation)."""
    if level == "account":
        return df.assign(account_label=[account_label(a, n) for a, n in zip(df["account_id"], df["account_name"], strict=True)])
    if level == "service":  # the name everyone knows, the product code stays the key in the URL
        return df.assign(service_name=df["service"].map(service_name))
    if level == "usage":
        return df.assign(usage_label=df["usage_type"] + df["operation"].map(lambda o: f" / {o}" if o else ""))
    return df


def breadcrumb(path: q.DrillPath) -> None:
    crumbs = model.breadcrumb(path, service_name)
    with st.container(horizontal=True, gap="small", key="breadcrumb"):
        for i, (label, level) in enumerate(crumbs):
            last = i == len(crumbs) - 1
            st.button(literal(label, 57), key=f"crumb_{level}", disabled=last, type="tertiary" if not last else "secondary",
                      icon=":material/chevron_right:" if i else ":material/home:", on_click=set_drill_path,
                      args=(path.up_to(level),), help=literal(label, 2_000) if len(label) > 57 else None)


def on_drill_choice(widget_key: str, path: q.DrillPath, level: str, df: pd.DataFrame) -> None:
    rows = df[df[model.LEVEL_LABEL[level]] == st.session_state.get(widget_key)]
    if not rows.empty:
        set_drill_path(model.child_path(path, level, rows.iloc[0]))


def nothing_here_message(screen: Screen, path: q.DrillPath) -> str:
    chosen = [f"{name.replace('_', ' ')} **{literal(value)}**" for name, value in path.url_params().items() if name != "period"]
    ctx = screen.page.ctx
    return empty_result_message(f"No CUR line items in {path.period} for {', '.join(chosen) or 'any account'}",
                                data_ends=screen.periods.available[0], asked_from=path.period, role=ctx.principal.role,
                                row_filtered=model.rows_may_be_hidden(ctx.grants)) + " Step back with the breadcrumb."


def draw_period_level(screen: Screen, path: q.DrillPath) -> None:
    """The top of the drill path: unblended cost per billing period; clicking a bar opens that period."""
    bars = screen.page.derived(model.period_trend, screen.page.run(model.period_trend_query(screen.periods)), screen.request.currency)
    chart = fig.build_period_trend_figure(bars, "unblended_cost", f"Billing periods (unblended) · showing {path.period}",
                                          fig.COMPACT_HEIGHT_PX, selected=path.period)
    # Keyed by the period shown, so a past click does not pull the view back after another choice.
    event = st.plotly_chart(in_currency(chart, screen.request.currency), key=f"period_chart_{path.period}", on_select="rerun",
                            selection_mode="points")
    points = event.selection.points if event is not None else []
    chosen = points[0].get("x") if points else None
    if chosen in screen.periods.available and chosen != path.period:
        set_drill_path(None, chosen)
        st.rerun()


def draw_line_items(screen: Screen, path: q.DrillPath, level: model.DrillLevel) -> None:
    st.subheader(f"Line items of {literal(path.resource)}")
    if path.resource != q.NO_RESOURCE:
        st.link_button("Open in inventory", screen.page.ctx.link("inventory", resource=path.resource), icon=":material/inventory_2:")
    show_table(model.line_items_shown(level.rows), key=f"line_items_{frame_key(path)}",
               column_config=dict.fromkeys(q.COST_COLUMNS.values(), screen.money))
    if level.total_rows > len(level.rows):
        st.caption(f"Showing the first {len(level.rows):,} of {level.total_rows:,} line items (in time order); the CSV has the same rows.")
    row = kpi_row()
    for name, column in model.LINE_ITEM_COSTS:
        screen.money_kpi(row, f"{name} (these line items)", level.rows[column].sum())
    screen.csv(level.rows, "line-items", key="csv_line_items")


def draw_drill_level(screen: Screen, path: q.DrillPath) -> None:
    page, ctx, basis = screen.page, screen.page.ctx, screen.request.basis
    if path.level == "account" and not ctx.embed:
        draw_period_level(screen, path)
    df = page.run(q.drill_level(path, basis))
    if df.empty:
        st.warning(nothing_here_message(screen, path), icon=":material/search_off:")
        return
    level = page.derived(model.drill_level, df, path.level, basis)
    if path.level == "line_item":
        draw_line_items(screen, path, level)
        return
    rows = page.derived(with_labels, path.level, level.rows)
    label, title = model.LEVEL_LABEL[path.level], f"{q.DRILL_LEVEL_TITLES[path.level]} · {screen.request.basis_label} cost"
    check_url_param("chart", model.CHART_KINDS, "chart")
    chart_wanted = ctx.shows("chart")
    chart_kind = st.segmented_control("Chart", list(model.CHART_KINDS), default="Bar", key="chart", bind=URL,
                                      label_visibility="collapsed") if chart_wanted and ctx.shows_everything else "Bar"
    if level.chart_column and level.chart_column != screen.request.cost_column:
        shown = level.chart_column.replace("_", " ")
        st.caption(f"Nothing here costs more than $0 {screen.request.basis_label.lower()} "
                   f"(covered by commitments or credited); the chart shows the {shown}.")
        title = f"{q.DRILL_LEVEL_TITLES[path.level]} · {shown}"
    if chart_wanted and level.chart_column:
        builder = fig.build_level_treemap_figure if chart_kind == "Treemap" else fig.build_level_bar_figure
        screen.chart(page.figure(builder, rows, label, level.chart_column, title, screen.chart_height), f"drill_chart_{path.level}")
    elif chart_wanted:
        st.caption("Nothing at this level has a positive cost on any basis, so there is no chart; the table lists it.")
    if ctx.shows("table"):
        draw_level_table(screen, path, level, rows)


def level_table(rows: pd.DataFrame, columns: tuple[str, ...], inventory_links: tuple[str | None, ...] | None) -> pd.DataFrame:
    """The level's table columns, and each resource's link to the inventory view (for `page.derived`)."""
    shown = rows[list(columns)]
    return shown if inventory_links is None else shown.assign(inventory=list(inventory_links))


def draw_level_table(screen: Screen, path: q.DrillPath, level: model.DrillLevel, rows: pd.DataFrame) -> None:
    config = dict.fromkeys((*q.COST_COLUMNS.values(), "savings"), screen.money)
    links = None
    if path.level == "resource":  # links keep the demo persona: made per run, cheap to key
        links = tuple(screen.page.ctx.link("inventory", resource=r) if r != q.NO_RESOURCE else None for r in rows["resource_id"])
        config["inventory"] = st.column_config.LinkColumn("Inventory", display_text="Open in inventory")
    shown = screen.page.derived(level_table, rows, tuple(level.table_columns), links)
    st.caption("Choose a row (or pick it below) to go one level down.")
    event = screen.page.table(shown, on_select="rerun", selection_mode="single-row",
                              key=f"drill_table_{frame_key(path, screen.request.basis)}", column_config=config)
    if level.total_rows > len(rows):
        st.caption(f"Showing the {len(rows):,} largest of {level.total_rows:,} rows; the rest are in 'Others' on the chart only.")
    choice_key = f"drill_choice_{frame_key(path)}"
    label = model.LEVEL_LABEL[path.level]
    st.selectbox(f"Drill into {q.DRILL_LEVEL_TITLES[path.level].lower()[:-1] if path.level != 'usage' else 'usage type / operation'}",
                 rows[label].tolist(), index=None, key=choice_key, placeholder="Choose…",
                 on_change=on_drill_choice, args=(choice_key, path, path.level, rows))
    screen.csv(shown, path.level, key=f"csv_drill_{path.level}")
    selected = event.selection.rows if event is not None else []
    if selected:
        set_drill_path(model.child_path(path, path.level, rows.iloc[selected[0]]))
        st.rerun()


def draw_drill_down(screen: Screen) -> None:
    try:
        path = screen.request.drill_path({name: st.query_params.get(name) for name in q.DRILL_PARAMS[1:]})
    except InvalidRequest as e:
        show_error(e)
        st.button("Back to all accounts", key="drill_reset", on_click=set_drill_path,
                  args=(q.DrillPath(screen.period, currency=screen.request.currency),))
        return
    breadcrumb(path)
    draw_drill_level(screen, path)


# --- invoice -------------------------------------------------------------------------------------

def draw_invoice(screen: Screen) -> None:
    page, period = screen.page, screen.period
    by_type = page.run(q.invoice_by_line_item_type(period, screen.request.currency))
    invoice = page.derived(model.invoice, by_type)
    screen.chart(page.figure(fig.build_waterfall_figure, invoice.steps,
                              f"Invoice {period}: from usage to the total, then to the net total", screen.chart_height),
                 "invoice_waterfall")
    page.table(invoice.table, key="invoice_table", column_config=dict.fromkeys(q.COST_COLUMNS.values(), screen.money))
    screen.csv(invoice.table, "invoice", key="csv_invoice")

    st.subheader("Reconciliation with the billing lakehouse")
    if not page.ctx.can_read("billing"):
        st.info("Your role may not read the billing lakehouse, so the CUR totals cannot be reconciled here.")
        return
    rec = page.derived(model.reconciliation, by_type, page.run(q.billing_by_record_type(period, screen.request.currency)))
    c = kpi_row()
    screen.money_kpi(c, "CUR unblended", rec.cur_unblended)
    screen.money_kpi(c, "Billing lakehouse unblended", rec.billing_unblended)
    screen.money_kpi(c, "Difference (CUR − billing)", rec.unblended_difference)
    if rec.billing_empty:
        st.warning(f"The billing lakehouse has no rows for {period}: nothing to reconcile against.")
    elif rec.agrees:
        st.success(f"CUR and billing lakehouse agree for {period} (unblended and amortized, within a cent).")
    else:
        st.warning(f"CUR and billing lakehouse differ for {period} by {screen.exact(rec.unblended_difference)} unblended "
                   f"and {screen.exact(rec.amortized_difference)} amortized; the table shows which line item types.")
    page.table(rec.table, key="reconcile_table", column_config={c: screen.money for c in rec.table.columns if c != "line_item_type"})
    screen.csv(rec.table, "reconciliation", key="csv_reconcile", total_row=rec.table["line_item_type"] == ca.TOTAL_STEP)


# --- commitments ---------------------------------------------------------------------------------

def draw_commitments(screen: Screen) -> None:
    page, period, currency = screen.page, screen.period, screen.request.currency
    first, _ = model.commitment_span(period)
    result = page.derived(model.commitments, period, page.run(q.coverage_by_day(first, period, currency)),
                          page.run(q.commitment_utilization(first, period, currency)),
                          page.run(q.coverage_by_account_family(period, currency)))
    cov = result.coverage
    c = kpi_row()
    kpi(c, "Coverage (RI + SP)", fmt.percent(cov.get("coverage")), help="Eligible usage covered by a commitment, at public on-demand prices.")
    kpi(c, "RI coverage", fmt.percent(cov.get("ri_coverage")))
    kpi(c, "SP coverage", fmt.percent(cov.get("sp_coverage")))
    kpi(c, "RI utilization", fmt.percent(result.utilization.get("RI")))
    kpi(c, "SP utilization", fmt.percent(result.utilization.get("SP")))
    screen.money_kpi(c, "Eligible on-demand", cov.get("on_demand_cost", 0.0),
                     help="On-demand spend that an RI or a Savings Plan could have covered.")

    if result.daily.empty:
        empty_state(f"No commitment-eligible usage between {first} and {period}.")
    else:
        span = fmt.date_range(pd.Timestamp(result.daily["usage_date"].min()).date(), pd.Timestamp(result.daily["usage_date"].max()).date())
        st.plotly_chart(page.figure(fig.build_coverage_trend_figure, result.daily, f"Coverage of eligible usage per day, {span}",
                                     screen.chart_height), key="coverage_chart")
    if not result.monthly_utilization.empty:
        st.plotly_chart(page.figure(fig.build_utilization_trend_figure, result.monthly_utilization,
                                     "Utilization of commitments per period", fig.COMPACT_HEIGHT_PX), key="utilization_chart")
    config = {**dict.fromkeys(model.COMMITMENT_MONEY, screen.money), **dict.fromkeys(model.COVERAGE_RATIOS, PERCENT)}
    with st.expander("Coverage and utilization per period"):
        page.table(result.trend, key="commit_trend_table", column_config=config)
        screen.csv(result.trend, "commitment-trend", key="csv_commit_trend")

    left, right = st.columns(2)
    for column, title, table, key, name, first_columns in (
            (left, "account", result.by_account, "coverage_account_table", "coverage-by-account", ("account_id", "account_name")),
            (right, "instance family", result.by_family, "coverage_family_table", "coverage-by-family", ("instance_family",))):
        with column:
            st.subheader(f"Coverage by {title} · {period}")
            page.table(table, key=key, column_config=config, column_order=(*first_columns, *model.COVERAGE_COLUMNS_FIRST))
            screen.csv(table, name, key=f"csv_cov_{name.rsplit('-', 1)[1]}")

    st.subheader(f"Utilization by account and family · {period}")
    if result.utilization_table.empty:
        empty_state(f"No RI or Savings Plan fees in {period}.")
    else:
        page.table(result.utilization_table, key="utilization_table", column_config=config)
        screen.csv(result.utilization_table, "utilization", key="csv_util")

    st.subheader(f"Eligible on-demand spend not covered · {period}")
    if result.uncovered.empty:
        st.success("All eligible usage was covered by a commitment.")
    else:
        uncovered = page.derived(with_service_names, result.uncovered)
        page.table(uncovered, key="uncovered_table", column_config={"on_demand_cost": screen.money})
        screen.csv(uncovered, "uncovered", key="csv_uncovered")
    draw_expiring(screen)


def draw_expiring(screen: Screen) -> None:
    page, today, latest = screen.page, screen.page.ctx.today, screen.periods.default
    st.subheader(f"Commitments expiring in the next {model.EXPIRY_HORIZON_DAYS} days")
    st.caption(f"RIs and Savings Plans billed in {latest} (the latest full period) whose term ends by "
               f"{today + pd.Timedelta(days=model.EXPIRY_HORIZON_DAYS):%Y-%m-%d}.")
    expiring = page.derived(model.expiring, page.run(q.commitments_expiring(latest, today, model.EXPIRY_HORIZON_DAYS,
                                                                             screen.request.currency)), today)
    e = kpi_row()
    for bucket in model.EXPIRY_BUCKETS:
        cost = expiring.monthly_cost[bucket]
        kpi(e, f"Expiring in {bucket}", f"{expiring.counts[bucket]}", f"{fmt.money_short(cost, screen.request.currency)} in {latest}",
            delta_color="off", delta_arrow="off", help=f"{screen.exact(cost)} committed in {latest}.")
    if expiring.table.empty:
        empty_state("No RI or Savings Plan ends in the next 90 days.")
    else:
        page.table(expiring.table, key="expiring_table", column_config={"monthly_cost": screen.money})
        csv_download(expiring.table, f"cur-expiring-{latest}.csv", key="csv_expiring", currency=screen.request.currency,
                     cents=True)


# --- allocation ----------------------------------------------------------------------------------

def draw_allocation(screen: Screen) -> None:
    page, period, request = screen.page, screen.period, screen.request
    keys = page.run(q.tag_keys(period))["tag_key"].tolist()
    if not keys:
        empty_state(f"No line item of {period} carries a tag: nothing to allocate by.")
        return
    c = st.columns([2, 2, 3])
    tag_key = labelled_choice(c[0].selectbox, "Tag key", {k: ca.tag_key_label(k) for k in keys}, key="tag_key",
                              default=model.default_tag_key(keys), what="tag key",
                              help="Tag keys found on this period's line items (CUR 2.0 prefixes user tags with 'user_').")
    shared = labelled_choice(c[1].segmented_control, "Shared costs (tax, support)",
                             {ca.SHARED_APART: "Apart", ca.SHARED_PROPORTIONAL: "Spread proportionally"}, key="shared",
                             default=ca.SHARED_APART, what="shared costs",
                             help="Apart: one row per shared cost. Spread proportionally: over the values by their direct cost.")
    result = page.derived(model.allocation, page.run(q.cost_by_tag(period, tag_key, request.currency, request.basis)), request.cost_column, shared)
    m = kpi_row()
    screen.money_kpi(m, f"Total ({request.basis_label.lower()})", result.period_total)
    kpi(m, "Untagged share", fmt.percent(result.untagged_share),
        help=f"Share of the cost (shared costs excluded) whose line items carry no {tag_key}.")
    screen.money_kpi(m, "Shared costs", result.shared_total, help="Tax and the support plan: no team owns them.")
    kpi(m, "Values", f"{result.values:,}")
    screen.chart(page.figure(fig.build_allocation_figure, result.table, f"Chargeback by {ca.tag_key_label(tag_key)} · {period}",
                              screen.chart_height), "allocation_chart")
    page.table(result.table, key="chargeback_table", column_config={
        **dict.fromkeys(("direct_cost", "shared_cost", "total"), screen.money), "share_of_direct": PERCENT})
    st.caption(f"Chargeback total {screen.exact(result.table['total'].sum())} = period total {screen.exact(result.period_total)}.")
    screen.csv(result.table, "chargeback", key="csv_chargeback")


# --- top resources and data transfer -------------------------------------------------------------

def draw_top_resources(screen: Screen) -> None:
    page, period, request = screen.page, screen.period, screen.request
    check_url_param("top", [str(n) for n in q.TOP_RESOURCES_ALLOWED], "number of top resources")
    top_n = st.columns(4)[0].selectbox("Top resources", q.TOP_RESOURCES_ALLOWED, index=1, key="top", bind=URL)
    table = page.derived(ca.top_resources_table, page.run(q.top_resources(period, request.basis, top_n, request.currency)))
    if table.empty:
        empty_state(f"No line item of {period} carries a resource id.")
        return
    table = with_service_names(table).assign(inventory=[page.ctx.link("inventory", resource=r) for r in table["resource_id"]])
    columns = ("cost_rank", "resource_id", "cost", "trend", "week_change", "inventory", "service", "account_id", "region", "usage_type")
    # Under two weeks of the period so far there is no week to compare with: no column of "None" in every row.
    week_change = table["week_change"].notna().any()
    show_table(table, key="top_resources_table", column_order=columns if week_change else tuple(c for c in columns if c != "week_change"),
               column_config={
        "cost_rank": st.column_config.NumberColumn("#"),
        "resource_id": st.column_config.TextColumn("Resource", width="medium"),
        "cost": money_column(f"Cost ({request.basis_label.lower()})", currency=request.currency),
        "trend": st.column_config.LineChartColumn("Daily cost"),
        "week_change": percent_column("7-day change", help="Average daily cost of the last 7 days vs the 7 before."),
        "inventory": st.column_config.LinkColumn("Inventory", display_text="Open in inventory"),
    })
    if not week_change:
        st.caption(f"No 7-day change: {period} has fewer than {2 * ca.TREND_WINDOW_DAYS} days of cost so far.")
    screen.csv(lambda: model.top_resources_export(table), "top-resources", key="csv_top")  # made on the click only


def transfer_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Data transfer rows with service names and an `account` label (the vocabulary every view uses)."""
    named = with_service_names(ca.with_blanks(df, ["account_name"]))
    return named.assign(account=[account_label(a, n) for a, n in zip(named["account_id"], named["account_name"], strict=True)])


def draw_transfer(screen: Screen) -> None:
    page, period = screen.page, screen.period
    df = page.run(q.data_transfer(period, screen.request.currency))
    if df.empty:
        empty_state(f"No data transfer charges in {period}.")
        return
    result = page.derived(model.transfer, page.derived(transfer_labels, df))
    m = kpi_row()
    for category, cost in result.by_category.items():
        screen.money_kpi(m, category, cost)
    screen.chart(page.figure(fig.build_transfer_figure, result.by_service, f"Data transfer by service · {period} (unblended)",
                              screen.chart_height), "transfer_chart")
    config = dict.fromkeys((*ca.TRANSFER_CATEGORIES, "total", "unblended_cost"), screen.money)
    for title, table, name, key in (("By service", result.by_service, "transfer-by-service", "transfer_service"),
                                    ("By account", result.by_account, "transfer-by-account", "transfer_account")):
        st.subheader(title)
        page.table(table, key=f"{key}_table", column_config=config)
        screen.csv(table, name, key=f"csv_{key}")
    st.subheader("Inter-region routes")
    if result.routes.empty:
        empty_state("No inter-region transfer in this period.")
    else:
        # Gigabytes to two decimals ("588.42"), not Streamlit's raw "588.4232".
        page.table(result.routes, key="transfer_routes_table",
                   column_config={**config, "usage_gb": st.column_config.NumberColumn(header("usage_gb"), format="%.2f")})
        screen.csv(result.routes, "transfer-routes", key="csv_transfer_routes")
