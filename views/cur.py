"""CUR drill-down: from the bill to the line item.

Billing period -> account -> service -> usage type / operation -> resource ->
line items, with a breadcrumb back; the invoice waterfall reconciled with the
billing lakehouse; RI/SP coverage, utilization and expiries; allocation by tag
with a chargeback table; top resources; data transfer. The drill path lives in
the URL (`period`, `account`, `service`, `usage_type`, `operation`, `resource`),
the other choices in URL-bound widgets, so any view can be pasted into the wiki.
"""

from __future__ import annotations

import hashlib
from functools import partial

import pandas as pd
import streamlit as st

from daivi_data import cur_analysis as ca
from daivi_data.currency import choose_currency
from daivi_data.data_span import empty_result_message, line_items_per_period
from daivi_data.errors import DaiviError, InvalidRequest
from daivi_data.queries import Query
from daivi_data.queries import cur as q
from daivi_ui import components
from daivi_ui import figures_cur as fig
from daivi_ui import format as fmt
from daivi_ui.components import draw_open_tabs, empty_state, kpi, kpi_row, money_kpi, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.currency import in_currency, pick_currency
from daivi_ui.errors import show_error
from daivi_ui.state import URL, check_url_param, labelled_choice, peek_choice
from daivi_ui.tables import money_column, percent_column, show_table
from daivi_ui.text import literal
from daivi_ui.vocabulary import account_label, service_name, with_service_names

COMMITMENT_TREND_MONTHS = 3  # daily coverage costs one CUR month scan per month shown (~0.2 s each on large)
TABS = ("Drill-down", "Invoice", "Commitments", "Allocation", "Top resources", "Data transfer")
# Ratios before the dollar components they come from, so the narrow coverage tables show them first.
COVERAGE_COLUMNS_FIRST = ("coverage", "ri_coverage", "sp_coverage", "on_demand_cost", "eligible_od_cost",
                          "ri_covered_od_cost", "sp_covered_od_cost", "on_demand_od_cost")
MONEY = money_column()
PERCENT = percent_column()
format_money = fmt.money


def csv_download(df: pd.DataFrame, file_name: str, key: str, total_row: pd.Series | None = None) -> None:
    """The table as CSV with its money rounded to the cent, still adding up (to its total row, if any)."""
    amounts = fmt.money_columns(df, also=ca.TRANSFER_CATEGORIES)
    # The CSV names its currency (a `currency` column), as every figure on the page is in it.
    components.csv_download(fmt.round_money_columns(df, amounts, total_row), file_name, key=key, currency=currency)

ctx = app_context()
results = []  # every QueryResult behind what is drawn, for the stats line


def run(query: Query) -> pd.DataFrame:
    """The query's rows, run as the signed-in user; its stats are kept for the caption under the view."""
    result = ctx.run(query)
    results.append(result)
    return result.df


if not ctx.can_read("cur"):
    st.warning(f"Your role (`{ctx.principal.role}`) has no access to the billing CUR lakehouse, so this view is not "
               "available to you. Daily cost is in Cost Explorer; ask the data platform team for CUR access.",
               icon=":material/lock:")
    st.stop()

if not ctx.embed:
    st.title("CUR drill-down")
    st.caption("From the bill to the line item: every figure is SQL over the Cost and Usage Report (CUR 2.0) "
               "under your role's grants, one billing period at a time.")
chart_height = fig.COMPACT_HEIGHT_PX if ctx.embed else fig.CHART_HEIGHT_PX


# --- billing period --------------------------------------------------------------------------

def period_span() -> tuple[str, int]:
    """(last period, months) to list: every period the data has, however old, and the one in the URL."""
    latest, partitions = None, 0
    try:
        info = ctx.connection.engine.table_info("daivi_cur", "cur")
        latest, partitions = info.latest_partition, info.partitions
    except (AttributeError, DaiviError):
        pass  # engines without cheap metadata: this month is the anchor
    return q.period_span_to_list(q.period_of(ctx.today), latest, partitions, st.query_params.get("period"))


try:
    period_totals = run(q.period_totals(*period_span()))
except DaiviError as e:
    show_error(e)
    st.stop()
period_totals = period_totals[period_totals["line_items"] > 0]
if period_totals.empty:
    empty_state("The CUR lakehouse has no line items you may see. Import a CUR export, or ask for access to more accounts.")
    st.stop()
available = sorted(set(period_totals["billing_period"]), reverse=True)


def rows_may_be_hidden() -> bool:
    """True when the role's CUR grant filters rows, so "no data" may mean "not yours to see"."""
    grant = ctx.grants.grant_for("daivi_cur", "cur")
    return grant is None or bool(grant.row_filter)


url_period = st.query_params.get("period")
period_default = q.default_period(line_items_per_period(period_totals))
period = period_default
if url_period:
    try:
        q.require_period(url_period)
    except InvalidRequest:
        st.info(f"Ignored invalid value '{literal(url_period, 40)}' for **billing period** in the URL (expected YYYY-MM); "
                f"showing {period}.", icon=":material/info:")
    else:
        if url_period not in available:
            st.warning(f"No CUR line items for billing period **{literal(url_period, 40)}**{' that your role may see' if rows_may_be_hidden() else ''}. "
                       f"Periods with data: {available[-1]} to {available[0]}. Choose one below.",
                       icon=":material/event_busy:")
            period = None
        else:
            period = url_period


def set_drill_path(path: q.DrillPath | None, period_value: str | None = None) -> None:
    """Write a drill path to the URL (and forget the deeper levels)."""
    params = path.url_params() if path else {"period": period_value}
    for name in q.DRILL_PARAMS:
        if params.get(name) is not None:
            st.query_params[name] = params[name]
        elif name in st.query_params:
            del st.query_params[name]


def on_period_chosen() -> None:
    set_drill_path(None, st.session_state["period_choice"])


# An embed shows the figures first and folds the period and basis into a one-line summary under them.
if ctx.embed:
    body = st.container()
    basis_shown = q.COST_BASIS_LABELS[peek_choice("basis", q.COST_BASIS_LABELS, "unblended")].lower()
    controls = st.expander(f"Billing period {period or 'not chosen'} · {basis_shown} cost", icon=":material/tune:")
else:
    controls = st.container()
    body = st.container()

st.session_state["period_choice"] = period
top = controls.container(horizontal=True, gap="small")  # wraps on a narrow screen instead of cutting labels
top.selectbox("Billing period", available, key="period_choice", on_change=on_period_chosen, placeholder="Choose a period",
                 help="The CUR partition every figure on this page reads.", width=150)
basis = labelled_choice(top.selectbox, "Cost basis", q.COST_BASIS_LABELS, key="basis", default="unblended", width=230,
                        help="Unblended: as invoiced. Amortized: RI/SP fees spread over the usage they cover (effective cost). "
                             "Net: after discounts. Public on-demand: list prices, without commitments.")
cost_col = q.COST_COLUMNS[basis]
if period is None:
    show_query_stats(results)
    st.stop()

# --- currency: every figure below is in one; a period billed in several shows each total apart ----
period_rows = period_totals[period_totals["billing_period"] == period]
in_period = dict(zip(period_rows["currency"], period_rows["unblended_cost"], strict=True))
choice = choose_currency({c: abs(v) for c, v in in_period.items()}, st.query_params.get("currency"))
currency = pick_currency(choice, lambda: top, f"{period} is billed", in_period, width=120)
money = partial(format_money, currency=currency)
MONEY = money_column(currency=currency)
cost_kpi = partial(money_kpi, currency=currency)  # every figure below is in `currency`

if ctx.shows("kpis") and not (ctx.embed and ctx.shows_everything):
    # The period's KPIs: on the page, and in an embed that asks for them (`show=kpis`).
    try:
        summary = run(q.period_summary(period, currency)).iloc[0]
    except DaiviError as e:
        show_error(e)
        st.stop()
    with body:
        k = kpi_row()
        cost_kpi(k, "Unblended", summary["unblended_cost"], help=f"Billing period {period}, as invoiced.")
        cost_kpi(k, "Amortized", summary["amortized_cost"])
        cost_kpi(k, "Net unblended", summary["net_cost"])
        cost_kpi(k, "On-demand list", summary["public_cost"], help="Public on-demand (list) prices, without commitments.")
        cost_kpi(k, "Savings vs list", summary["public_cost"] - summary["amortized_cost"],
                  help="Public on-demand cost minus amortized cost: what commitments and discounts saved.")
    families = q.export_families(getattr(ctx.connection.engine, "manifest", None) or {})
    body.caption(f"Where each basis comes from ({' and '.join(sorted(families))}): {q.cost_basis_sources(families)}")

check_url_param("tab", TABS, "tab")
if ctx.shows_everything:
    tabs = body.tabs(list(TABS), key="tab", bind=URL)
    drill_tab = tabs[0]
else:  # an embed of some parts only: the drill-down level's chart and/or table, no tabs
    tabs, drill_tab = [], body.container()


def frame_key(*parts: object) -> str:
    """A widget key that changes with the data shown, so a stale selection never carries over."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:12]


# --- drill-down ------------------------------------------------------------------------------

LEVEL_LABEL = {"account": "account_label", "service": "service_name", "usage": "usage_label", "resource": "resource_id"}


def drill_path_from_url() -> q.DrillPath:
    values = {name: st.query_params.get(name) for name in q.DRILL_PARAMS[1:]}
    return q.DrillPath(period, **values, currency=currency)


def breadcrumb(path: q.DrillPath) -> None:
    crumbs = [(f"All accounts · {path.period}", "account")]
    if path.account is not None:
        crumbs.append((f"Account {path.account}", "service"))
    if path.service is not None:
        crumbs.append((service_name(path.service), "usage"))
    if path.usage_type is not None:
        crumbs.append((path.usage_type + (f" / {path.operation}" if path.operation else ""), "resource"))
    if path.resource is not None:
        crumbs.append((path.resource, "line_item"))
    with st.container(horizontal=True, gap="small", key="breadcrumb"):
        for i, (label, level) in enumerate(crumbs):
            last = i == len(crumbs) - 1
            short = literal(label, 57)
            st.button(short, key=f"crumb_{level}", disabled=last, type="tertiary" if not last else "secondary",
                      icon=":material/chevron_right:" if i else ":material/home:",
                      on_click=set_drill_path, args=(path.up_to(level),), help=literal(label, 2_000) if len(label) > 57 else None)


def with_labels(level: str, df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    if level == "account":
        df["account_label"] = [account_label(a, n) for a, n in zip(df["account_id"], df["account_name"], strict=True)]
    elif level == "service":  # the name everyone knows, the product code stays the key in the URL
        df["service_name"] = df["service"].map(service_name)
    elif level == "usage":
        df["usage_label"] = df["usage_type"] + df["operation"].map(lambda o: f" / {o}" if o else "")
    return df


def child_path(path: q.DrillPath, level: str, row: pd.Series) -> q.DrillPath:
    if level == "account":
        return path.down(account=row["account_id"])
    if level == "service":
        return path.down(service=row["service"])
    if level == "usage":
        return path.down(usage_type=row["usage_type"], operation=row["operation"])
    return path.down(resource=row["resource_id"])


def on_drill_choice(widget_key: str, path: q.DrillPath, level: str, df: pd.DataFrame) -> None:
    label = st.session_state.get(widget_key)
    rows = df[df[LEVEL_LABEL[level]] == label]
    if not rows.empty:
        set_drill_path(child_path(path, level, rows.iloc[0]))


def nothing_here_message(path: q.DrillPath) -> str:
    chosen = [f"{name.replace('_', ' ')} **{literal(value)}**" for name, value in path.url_params().items() if name != "period"]
    where = ", ".join(chosen) if chosen else "any account"
    return empty_result_message(f"No CUR line items in {path.period} for {where}", data_ends=available[0], asked_from=path.period,
                                role=ctx.principal.role, row_filtered=rows_may_be_hidden()) + " Step back with the breadcrumb."


def draw_period_level(path: q.DrillPath) -> None:
    """The top of the drill path: unblended cost per billing period; clicking a bar opens that period."""
    in_currency_rows = period_totals[period_totals["currency"] == currency]
    chart = fig.build_period_trend_figure(in_currency_rows, "unblended_cost", f"Billing periods (unblended) · showing {path.period}",
                                          fig.COMPACT_HEIGHT_PX, selected=path.period)
    # Keyed by the period shown, so a past click does not pull the view back after another choice.
    event = st.plotly_chart(in_currency(chart, currency), key=f"period_chart_{path.period}", on_select="rerun", selection_mode="points")
    points = event.selection.points if event is not None else []
    chosen = points[0].get("x") if points else None
    if chosen in available and chosen != path.period:
        set_drill_path(None, chosen)
        st.rerun()


def draw_drill_level(path: q.DrillPath) -> None:
    level = path.level
    if level == "account" and not ctx.embed:
        draw_period_level(path)
    chart_wanted, table_wanted = ctx.shows("chart"), ctx.shows("table")
    df = run(q.drill_level(path, basis))
    if df.empty:
        st.warning(nothing_here_message(path), icon=":material/search_off:")
        return
    total_rows = int(df["total_rows"].iloc[0])
    df = df.drop(columns="total_rows")
    if level == "line_item":
        st.subheader(f"Line items of {literal(path.resource)}")
        if path.resource != q.NO_RESOURCE:
            st.link_button("Open in inventory", ctx.link("inventory", resource=path.resource), icon=":material/inventory_2:")
        shown = df.drop(columns=["line_item_id"]) if df["line_item_id"].isna().all() else df
        show_table(shown, key=f"line_items_{frame_key(path)}", column_config={
            c: MONEY for c in ("unblended_cost", "amortized_cost", "net_cost", "public_cost")})
        if total_rows > len(df):
            st.caption(f"Showing the first {len(df):,} of {total_rows:,} line items (in time order); the CSV has the same rows.")
        row = kpi_row()
        for name, col in (("Unblended", "unblended_cost"), ("Amortized", "amortized_cost"), ("Net", "net_cost"),
                          ("Public on-demand", "public_cost")):
            cost_kpi(row, f"{name} (these line items)", df[col].sum())
        csv_download(df, f"cur-line-items-{path.period}.csv", key="csv_line_items")
        return

    df = ca.with_blanks(df, ["account_name", "service", "usage_type", "operation", "resource_id"])
    df = with_labels(level, df).sort_values(cost_col, ascending=False, ignore_index=True)
    df["savings"] = df["public_cost"] - df["amortized_cost"]
    label = LEVEL_LABEL[level]
    title = f"{q.DRILL_LEVEL_TITLES[level]} · {q.COST_BASIS_LABELS[basis]} cost"
    check_url_param("chart", ("Bar", "Treemap"), "chart")
    chart_kind = st.segmented_control("Chart", ["Bar", "Treemap"], default="Bar", key="chart", bind=URL,
                                      label_visibility="collapsed") if chart_wanted and ctx.shows_everything else "Bar"
    builder = fig.build_level_treemap_figure if chart_kind == "Treemap" else fig.build_level_bar_figure
    chart_col = cost_col
    if not (df[cost_col] > 0).any():
        # RI-covered usage is $0 unblended, SP-covered usage nets to $0: chart what it effectively cost instead.
        chart_col = next((c for c in ("amortized_cost", "public_cost") if (df[c] > 0).any()), None)
        if chart_col:
            st.caption(f"Nothing here costs more than $0 {q.COST_BASIS_LABELS[basis].lower()} "
                       f"(covered by commitments or credited); the chart shows the {chart_col.replace('_', ' ')}.")
            title = f"{q.DRILL_LEVEL_TITLES[level]} · {chart_col.replace('_', ' ')}"
    if not chart_wanted:
        pass
    elif chart_col:
        st.plotly_chart(in_currency(builder(df, label, chart_col, title, chart_height), currency), key=f"drill_chart_{level}")
    else:
        st.caption("Nothing at this level has a positive cost on any basis, so there is no chart; the table lists it.")
    if not table_wanted:
        return

    columns = {
        "account": ["account_id", "account_name"], "service": ["service_name", "service"], "usage": ["usage_type", "operation"],
        "resource": ["resource_id"],
    }[level]
    shown = df[columns + [cost_col] + [c for c in q.COST_COLUMNS.values() if c != cost_col] + ["savings", "line_items"]]
    config = {c: MONEY for c in (*q.COST_COLUMNS.values(), "savings")}
    if level == "resource":
        shown = shown.assign(inventory=[ctx.link("inventory", resource=r) if r != q.NO_RESOURCE else None for r in shown["resource_id"]])
        config["inventory"] = st.column_config.LinkColumn("Inventory", display_text="Open in inventory")
    st.caption("Choose a row (or pick it below) to go one level down.")
    table_key = f"drill_table_{frame_key(path, basis)}"
    event = show_table(shown, on_select="rerun", selection_mode="single-row", key=table_key,
                         column_config=config)
    if total_rows > len(df):
        st.caption(f"Showing the {len(df):,} largest of {total_rows:,} rows; the rest are in 'Others' on the chart only.")
    choice_key = f"drill_choice_{frame_key(path)}"
    st.selectbox(f"Drill into {q.DRILL_LEVEL_TITLES[level].lower()[:-1] if level != 'usage' else 'usage type / operation'}",
                 df[label].tolist(), index=None, key=choice_key, placeholder="Choose…",
                 on_change=on_drill_choice, args=(choice_key, path, level, df))
    csv_download(shown, f"cur-{level}-{path.period}.csv", key=f"csv_drill_{level}")
    selected = event.selection.rows if event is not None else []
    if selected:
        set_drill_path(child_path(path, level, df.iloc[selected[0]]))
        st.rerun()


if getattr(drill_tab, "open", True) is not False:
    with drill_tab:
        try:
            path = drill_path_from_url()
        except InvalidRequest as e:
            show_error(e)
            st.button("Back to all accounts", key="drill_reset", on_click=set_drill_path, args=(q.DrillPath(period, currency=currency),))
        else:
            breadcrumb(path)
            try:
                draw_drill_level(path)
            except DaiviError as e:
                show_error(e)


# --- invoice ---------------------------------------------------------------------------------

def draw_invoice() -> None:
    by_type = run(q.invoice_by_line_item_type(period, currency))
    steps = ca.invoice_waterfall(by_type, "unblended_cost", net_column="net_cost")
    st.plotly_chart(in_currency(fig.build_waterfall_figure(steps, f"Invoice {period}: from usage to the total, then to the net total",
                                                        chart_height), currency),
                    key="invoice_waterfall")
    table = by_type.assign(step=by_type["line_item_type"].map(ca.waterfall_step)).sort_values(
        "step", key=lambda s: s.map(ca.WATERFALL_STEPS.index))
    table = table[["step", "line_item_type", "unblended_cost", "amortized_cost", "net_cost", "public_cost", "line_items"]]
    show_table(table, key="invoice_table", column_config={c: MONEY for c in q.COST_COLUMNS.values()})
    csv_download(table, f"cur-invoice-{period}.csv", key="csv_invoice")

    st.subheader("Reconciliation with the billing lakehouse")
    if not ctx.can_read("billing"):
        st.info("Your role may not read the billing lakehouse, so the CUR totals cannot be reconciled here.")
        return
    billing = run(q.billing_by_record_type(period, currency))
    rec = ca.reconcile_with_billing(by_type, billing)
    total = rec[rec["line_item_type"] == ca.TOTAL_STEP].iloc[0]
    c = kpi_row()
    cost_kpi(c, "CUR unblended", total["cur_unblended"])
    cost_kpi(c, "Billing lakehouse unblended", total["billing_unblended"])
    cost_kpi(c, "Difference (CUR − billing)", round(total["unblended_difference"], 2) + 0.0)
    if billing.empty:
        st.warning(f"The billing lakehouse has no rows for {period}: nothing to reconcile against.")
    elif abs(total["unblended_difference"]) < ca.RECONCILE_TOLERANCE_USD and abs(total["amortized_difference"]) < ca.RECONCILE_TOLERANCE_USD:
        st.success(f"CUR and billing lakehouse agree for {period} (unblended and amortized, within a cent).")
    else:
        st.warning(f"CUR and billing lakehouse differ for {period} by {money(round(total['unblended_difference'], 2) + 0.0)} unblended "
                   f"and {money(round(total['amortized_difference'], 2) + 0.0)} amortized; the table shows which line item types.")
    show_table(rec, key="reconcile_table", column_config={c: MONEY for c in rec.columns if c != "line_item_type"})
    csv_download(rec, f"cur-reconciliation-{period}.csv", key="csv_reconcile", total_row=rec["line_item_type"] == ca.TOTAL_STEP)


# --- commitments -----------------------------------------------------------------------------

def draw_commitments() -> None:
    first = q.shift_period(period, -(COMMITMENT_TREND_MONTHS - 1))
    daily = ca.with_coverage(run(q.coverage_by_day(first, period, currency)))
    utilization = ca.with_blanks(run(q.commitment_utilization(first, period, currency)), ["account_name"])
    breakdown = ca.with_blanks(run(q.coverage_by_account_family(period, currency)), ["account_name"])
    this_period = ca.coverage_by(daily[daily["billing_period"] == period].assign(p=period), ["p"]) if not daily.empty else None
    util_period = ca.utilization_by(utilization[utilization["billing_period"] == period], ["commitment_type"]).set_index("commitment_type")

    c = kpi_row()
    cov = this_period.iloc[0] if this_period is not None and not this_period.empty else None
    kpi(c, "Coverage (RI + SP)", fmt.percent(cov["coverage"] if cov is not None else None),
        help="Eligible usage covered by a commitment, at public on-demand prices.")
    kpi(c, "RI coverage", fmt.percent(cov["ri_coverage"] if cov is not None else None))
    kpi(c, "SP coverage", fmt.percent(cov["sp_coverage"] if cov is not None else None))
    kpi(c, "RI utilization", fmt.percent(util_period["utilization"].get("RI")))
    kpi(c, "SP utilization", fmt.percent(util_period["utilization"].get("SP")))
    cost_kpi(c, "Eligible on-demand", cov["on_demand_cost"] if cov is not None else 0.0,
              help="On-demand spend that an RI or a Savings Plan could have covered.")

    if daily.empty:
        empty_state(f"No commitment-eligible usage between {first} and {period}.")
    else:
        span = f"{daily['usage_date'].min():%Y-%m-%d} to {daily['usage_date'].max():%Y-%m-%d}"
        st.plotly_chart(fig.build_coverage_trend_figure(daily, f"Coverage of eligible usage per day, {span}", chart_height),
                        key="coverage_chart")
    monthly_util = ca.utilization_by(utilization, ["billing_period", "commitment_type"])
    if not monthly_util.empty:
        st.plotly_chart(fig.build_utilization_trend_figure(monthly_util, "Utilization of commitments per period", fig.COMPACT_HEIGHT_PX),
                        key="utilization_chart")
    monthly_cov = ca.coverage_by(daily, ["billing_period"]) if not daily.empty else daily
    trend = monthly_cov.merge(
        monthly_util.pivot_table(index="billing_period", columns="commitment_type", values="utilization").add_suffix("_utilization").reset_index(),
        on="billing_period", how="outer") if not monthly_util.empty and not monthly_cov.empty else monthly_cov
    with st.expander("Coverage and utilization per period"):
        show_table(trend, key="commit_trend_table", column_config={
            **{k: MONEY for k in (*ca.COVERAGE_COMPONENTS, "eligible_od_cost")},
            **{k: PERCENT for k in ("ri_coverage", "sp_coverage", "coverage", "RI_utilization", "SP_utilization")}})
        csv_download(trend, f"cur-commitment-trend-{period}.csv", key="csv_commit_trend")

    cov_cfg = {**{k: MONEY for k in (*ca.COVERAGE_COMPONENTS, "eligible_od_cost", "total_commitment", "unused_commitment", "used_commitment")},
               **{k: PERCENT for k in ("ri_coverage", "sp_coverage", "coverage", "utilization")}}
    left, right = st.columns(2)
    with left:
        st.subheader(f"Coverage by account · {period}")
        by_account = ca.coverage_by(breakdown, ["account_id", "account_name"]).sort_values("eligible_od_cost", ascending=False)
        show_table(by_account, key="coverage_account_table", column_config=cov_cfg,
                     column_order=("account_id", "account_name", *COVERAGE_COLUMNS_FIRST))
        csv_download(by_account, f"cur-coverage-by-account-{period}.csv", key="csv_cov_account")
    with right:
        st.subheader(f"Coverage by instance family · {period}")
        by_family = ca.coverage_by(breakdown, ["instance_family"]).sort_values("eligible_od_cost", ascending=False)
        show_table(by_family, key="coverage_family_table", column_config=cov_cfg,
                     column_order=("instance_family", *COVERAGE_COLUMNS_FIRST))
        csv_download(by_family, f"cur-coverage-by-family-{period}.csv", key="csv_cov_family")

    st.subheader(f"Utilization by account and family · {period}")
    util_table = ca.utilization_by(utilization[utilization["billing_period"] == period],
                                   ["commitment_type", "account_id", "account_name", "family"])
    if util_table.empty:
        empty_state(f"No RI or Savings Plan fees in {period}.")
    else:
        show_table(util_table, key="utilization_table", column_config=cov_cfg)
        csv_download(util_table, f"cur-utilization-{period}.csv", key="csv_util")

    st.subheader(f"Eligible on-demand spend not covered · {period}")
    uncovered = (with_service_names(breakdown[breakdown["on_demand_cost"] > 0])
                 .groupby(["account_id", "account_name", "service", "instance_family"], as_index=False)["on_demand_cost"].sum()
                 .sort_values("on_demand_cost", ascending=False))
    if uncovered.empty:
        st.success("All eligible usage was covered by a commitment.")
    else:
        show_table(uncovered, key="uncovered_table", column_config={"on_demand_cost": MONEY})
        csv_download(uncovered, f"cur-uncovered-{period}.csv", key="csv_uncovered")

    latest = period_default
    st.subheader("Commitments expiring in the next 90 days")
    st.caption(f"RIs and Savings Plans billed in {latest} (the latest full period) whose term ends by "
               f"{ctx.today + pd.Timedelta(days=90):%Y-%m-%d}.")
    expiring = ca.with_expiry_buckets(run(q.commitments_expiring(latest, ctx.today, 90, currency)), ctx.today)
    counts = expiring.groupby("expires_in")["arn"].count() if not expiring.empty else pd.Series(dtype=int)
    e = kpi_row()
    for bucket in ("≤ 30 days", "31–60 days", "61–90 days"):
        rows = expiring[expiring["expires_in"] == bucket] if not expiring.empty else expiring
        kpi(e, f"Expiring in {bucket}", f"{int(counts.get(bucket, 0))}",
            f"{fmt.money_short(rows['monthly_cost'].sum() if not rows.empty else 0.0, currency)} in {latest}",
            delta_color="off", delta_arrow="off",
            help=f"{money(rows['monthly_cost'].sum() if not rows.empty else 0.0)} committed in {latest}.")
    if expiring.empty:
        empty_state("No RI or Savings Plan ends in the next 90 days.")
    else:
        show_table(expiring, key="expiring_table", column_config={"monthly_cost": MONEY})
        csv_download(expiring, f"cur-expiring-{latest}.csv", key="csv_expiring")


# --- allocation ------------------------------------------------------------------------------

def draw_allocation() -> None:
    keys = run(q.tag_keys(period))
    if keys.empty:
        empty_state(f"No line item of {period} carries a tag: nothing to allocate by.")
        return
    options = keys["tag_key"].tolist()
    default = options.index("user_team") if "user_team" in options else 0
    c = st.columns([2, 2, 3])
    tag_key = labelled_choice(c[0].selectbox, "Tag key", {k: ca.tag_key_label(k) for k in options}, key="tag_key",
                              default=options[default], what="tag key",
                              help="Tag keys found on this period's line items (CUR 2.0 prefixes user tags with 'user_').")
    shared = labelled_choice(c[1].segmented_control, "Shared costs (tax, support)",
                             {ca.SHARED_APART: "Apart", ca.SHARED_PROPORTIONAL: "Spread proportionally"}, key="shared",
                             default=ca.SHARED_APART, what="shared costs",
                             help="Apart: one row per shared cost. Spread proportionally: over the values by their direct cost.")
    by_tag = run(q.cost_by_tag(period, tag_key, currency))
    table = ca.chargeback(by_tag, cost_col, shared)
    period_total = float(by_tag[cost_col].sum())
    shared_total = float(by_tag.loc[by_tag["shared_cost"] != "", cost_col].sum())
    m = kpi_row()
    cost_kpi(m, f"Total ({q.COST_BASIS_LABELS[basis].lower()})", period_total)
    kpi(m, "Untagged share", fmt.percent(ca.untagged_share(by_tag, cost_col)),
                help=f"Share of the cost (shared costs excluded) whose line items carry no {tag_key}.")
    cost_kpi(m, "Shared costs", shared_total, help="Tax and the support plan: no team owns them.")
    kpi(m, "Values", f"{(table['direct_cost'] != 0).sum() - int((table['tag_value'] == ca.UNTAGGED).any()):,}")
    st.plotly_chart(fig.build_allocation_figure(table, f"Chargeback by {ca.tag_key_label(tag_key)} · {period}", chart_height),
                    key="allocation_chart")
    show_table(table, key="chargeback_table", column_config={
        "direct_cost": MONEY, "shared_cost": MONEY, "total": MONEY, "share_of_direct": PERCENT})
    st.caption(f"Chargeback total {money(table['total'].sum())} = period total {money(period_total)}.")
    csv_download(table, f"cur-chargeback-{period}.csv", key="csv_chargeback")


# --- top resources ---------------------------------------------------------------------------

def draw_top_resources() -> None:
    check_url_param("top", [str(n) for n in q.TOP_RESOURCES_ALLOWED], "number of top resources")
    top_n = st.columns(4)[0].selectbox("Top resources", q.TOP_RESOURCES_ALLOWED, index=1, key="top", bind=URL)
    daily = run(q.top_resources(period, basis, top_n, currency))
    table = ca.top_resources_table(daily)
    if table.empty:
        empty_state(f"No line item of {period} carries a resource id.")
        return
    table = with_service_names(table).assign(inventory=[ctx.link("inventory", resource=r) for r in table["resource_id"]])
    show_table(table, key="top_resources_table", column_order=(
        "cost_rank", "resource_id", "cost", "trend", "week_change", "inventory", "service", "account_id", "region", "usage_type"),
                 column_config={
        "cost_rank": st.column_config.NumberColumn("#"),
        "resource_id": st.column_config.TextColumn("Resource", width="medium"),
        "cost": money_column(f"Cost ({q.COST_BASIS_LABELS[basis].lower()})", currency=currency),
        "trend": st.column_config.LineChartColumn("Daily cost"),
        "week_change": percent_column("7-day change", help="Average daily cost of the last 7 days vs the 7 before."),
        "inventory": st.column_config.LinkColumn("Inventory", display_text="Open in inventory"),
    })
    export = table.assign(trend=table["trend"].map(lambda t: " ".join(f"{v:.2f}" for v in t)))
    csv_download(export, f"cur-top-resources-{period}.csv", key="csv_top")


# --- data transfer ---------------------------------------------------------------------------

def draw_transfer() -> None:
    df = ca.with_blanks(run(q.data_transfer(period, currency)), ["account_name"])
    if df.empty:
        empty_state(f"No data transfer charges in {period}.")
        return
    by_category = df.groupby("category")["unblended_cost"].sum()
    m = kpi_row()
    for category in ca.TRANSFER_CATEGORIES:
        cost_kpi(m, category, by_category.get(category, 0.0))
    by_service = ca.transfer_by(with_service_names(df), "service")
    st.plotly_chart(fig.build_transfer_figure(by_service, f"Data transfer by service · {period} (unblended)", chart_height),
                    key="transfer_chart")
    cfg = {c: MONEY for c in (*ca.TRANSFER_CATEGORIES, "total", "unblended_cost")}
    st.subheader("By service")
    show_table(by_service, key="transfer_service_table", column_config=cfg)
    csv_download(by_service, f"cur-transfer-by-service-{period}.csv", key="csv_transfer_service")
    st.subheader("By account")
    accounts = df.assign(account=[account_label(a, n) for a, n in zip(df["account_id"], df["account_name"], strict=True)])
    by_account = ca.transfer_by(accounts, "account")
    show_table(by_account, key="transfer_account_table", column_config=cfg)
    csv_download(by_account, f"cur-transfer-by-account-{period}.csv", key="csv_transfer_account")
    st.subheader("Inter-region routes")
    routes = (df[df["category"] == "Inter-region"].groupby(["from_region", "to_region"], as_index=False)[["unblended_cost", "usage_gb"]]
              .sum().sort_values("unblended_cost", ascending=False))
    if routes.empty:
        empty_state("No inter-region transfer in this period.")
    else:
        show_table(routes, key="transfer_routes_table", column_config=cfg)
        csv_download(routes, f"cur-transfer-routes-{period}.csv", key="csv_transfer_routes")


draw_open_tabs(dict(zip(TABS, tabs, strict=False)), {
    "Invoice": draw_invoice, "Commitments": draw_commitments, "Allocation": draw_allocation,
    "Top resources": draw_top_resources, "Data transfer": draw_transfer,
})
show_query_stats(results)
