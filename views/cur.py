"""CUR drill-down: from the bill to the line item.

Billing period -> account -> service -> usage type / operation -> resource ->
line items, with a breadcrumb back; the invoice waterfall reconciled with the
billing lakehouse; RI/SP coverage, utilization and expiries; allocation by tag
with a chargeback table; top resources; data transfer. The drill path lives in
the URL (`period`, `account`, `service`, `usage_type`, `operation`, `resource`),
the other choices in URL-bound widgets, so any view can be pasted into the wiki.
What each state computes is `daivi_data.models.cur`; the tabs' layout is `daivi_ui.cur_tabs`.
"""

from __future__ import annotations

import streamlit as st

from daivi_data.currency import choose_currency
from daivi_data.models import cur as model
from daivi_data.queries import cur as q
from daivi_ui import cur_tabs
from daivi_ui import figures_cur as fig
from daivi_ui.components import draw_open_tabs, empty_state, kpi_row, money_kpi
from daivi_ui.currency import pick_currency
from daivi_ui.page import open_page
from daivi_ui.state import URL, check_url_param, labelled_choice, peek_choice
from daivi_ui.text import literal

page = open_page("CUR drill-down", "From the bill to the line item: every figure is SQL over the Cost and Usage Report "
                 "(CUR 2.0) under your role's grants, one billing period at a time.", needs="cur")
ctx = page.ctx

# --- billing period: every period the data has; the URL's if it has data -----------------------
url_period = st.query_params.get("period")
span = model.period_span(ctx.connection.engine, ctx.today, url_period)
periods = page.derived(model.periods, page.run(q.period_line_items(*span)), span)
if not periods.available:
    empty_state("The CUR lakehouse has no line items you may see. Import a CUR export, or ask for access to more accounts.")
    st.stop()
chosen = model.choose_period(periods, url_period)
period = chosen.period
if chosen.invalid_url_value:
    st.info(f"Ignored invalid value '{literal(url_period, 40)}' for **billing period** in the URL (expected YYYY-MM); "
            f"showing {period}.", icon=":material/info:")
elif chosen.missing:
    hidden = " that your role may see" if model.rows_may_be_hidden(ctx.grants) else ""
    st.warning(f"No CUR line items for billing period **{literal(url_period, 40)}**{hidden}. "
               f"Periods with data: {periods.available[-1]} to {periods.available[0]}. Choose one below.",
               icon=":material/event_busy:")


def on_period_chosen() -> None:
    cur_tabs.set_drill_path(None, st.session_state["period_choice"])


# An embed shows the figures first and folds the period and basis into a one-line summary under them.
area = page.layout(summary=lambda: f"Billing period {period or 'not chosen'} · "
                                   f"{q.COST_BASIS_LABELS[peek_choice('basis', q.COST_BASIS_LABELS, model.DEFAULT_BASIS)].lower()} cost")
body = area.chart_area
st.session_state["period_choice"] = period
top = area.controls.container(horizontal=True, gap="small")  # wraps on a narrow screen instead of cutting labels
top.selectbox("Billing period", periods.available, key="period_choice", on_change=on_period_chosen,
              placeholder="Choose a period", help="The CUR partition every figure on this page reads.", width=150)
basis = labelled_choice(top.selectbox, "Cost basis", q.COST_BASIS_LABELS, key="basis", default=model.DEFAULT_BASIS, width=230,
                        help="Unblended: as invoiced. Amortized: RI/SP fees spread over the usage they cover (effective cost). "
                             "Net: after discounts. Public on-demand: list prices, without commitments.")
if period is None:
    page.stats()
    st.stop()

# --- currency: every figure below is in one; a period billed in several shows each total apart ----
in_period = page.derived(model.totals_per_currency, page.run(model.currency_totals(period)))
currency_choice = choose_currency({c: abs(v) for c, v in in_period.items()}, st.query_params.get("currency"))
currency = pick_currency(currency_choice, lambda: top, f"{period} is billed", in_period, width=120)
screen = cur_tabs.Screen(page, model.CurRequest(period, basis, currency), periods,
                         fig.COMPACT_HEIGHT_PX if ctx.embed else fig.CHART_HEIGHT_PX)

if ctx.shows("kpis") and not (ctx.embed and ctx.shows_everything):
    # The period's KPIs: on the page, and in an embed that asks for them (`show=kpis`).
    summary = page.run(screen.request.summary()).iloc[0]
    with body:
        k = kpi_row()
        for label, column, note in (("Unblended", "unblended_cost", f"Billing period {period}, as invoiced."),
                                    ("Amortized", "amortized_cost", None), ("Net unblended", "net_cost", None),
                                    ("On-demand list", "public_cost", "Public on-demand (list) prices, without commitments.")):
            money_kpi(k, label, summary[column], currency=currency, help=note)
        money_kpi(k, "Savings vs list", summary["public_cost"] - summary["amortized_cost"], currency=currency,
                  help="Public on-demand cost minus amortized cost: what commitments and discounts saved.")
    body.caption(model.cost_basis_sources(ctx.connection.engine))

check_url_param("tab", model.TABS, "tab")
if ctx.shows_everything:
    tabs = body.tabs(list(model.TABS), key="tab", bind=URL)
    drill_tab = tabs[0]
else:  # an embed of some parts only: the drill-down level's chart and/or table, no tabs
    tabs, drill_tab = [], body.container()

if getattr(drill_tab, "open", True) is not False:
    with drill_tab:
        cur_tabs.draw_drill_down(screen)
draw_open_tabs(dict(zip(model.TABS, tabs, strict=False)), {
    "Invoice": lambda: cur_tabs.draw_invoice(screen), "Commitments": lambda: cur_tabs.draw_commitments(screen),
    "Allocation": lambda: cur_tabs.draw_allocation(screen), "Top resources": lambda: cur_tabs.draw_top_resources(screen),
    "Data transfer": lambda: cur_tabs.draw_transfer(screen),
})
page.stats()
