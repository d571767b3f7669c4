"""Plotly figures of the CUR view. Each builder takes DataFrames and returns a `go.Figure`; no st.* here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from daivi_data.cur_analysis import TRANSFER_CATEGORIES, top_n_with_others
from daivi_ui.format import MINUS
from daivi_ui.text import literal_labels, plotly_text

CHART_HEIGHT_PX = 380
COMPACT_HEIGHT_PX = 280
BAR_ROWS = 20
# Colour-blind-safe (Okabe & Ito), as the Cost Explorer's: additions vermillion, deductions blue, totals dark blue.
POSITIVE, NEGATIVE, TOTAL = "#D55E00", "#56B4E9", "#0072B2"
RI_COLOR, SP_COLOR, ON_DEMAND_COLOR = "#0072B2", "#009E73", "#E69F00"
TRANSFER_COLORS = {"Inter-region": "#CC79A7", "Internet egress": "#D55E00", "Inter-AZ": "#E69F00", "Other transfer": "#7f7f7f"}


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      legend={"orientation": "h", "y": -0.15})
    return fig


@literal_labels
def build_level_bar_figure(df: pd.DataFrame, label: str, value: str, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """Horizontal bars of one drill level: the BAR_ROWS largest rows and the rest as 'Others'."""
    data = top_n_with_others(df, label, value, BAR_ROWS)
    data = data.iloc[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(x=data[value], y=data[label].astype(str), orientation="h", marker_color=TOTAL,
                           hovertemplate="%{y}<br>$%{x:,.2f}<extra></extra>"))
    fig.update_xaxes(tickprefix="$", separatethousands=True)
    return _layout(fig, title, max(height, 22 * len(data) + 80))


@literal_labels
def build_level_treemap_figure(df: pd.DataFrame, label: str, value: str, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """Treemap of one drill level (only positive costs can be areas; credits show in the table)."""
    data = df[df[value] > 0]
    fig = go.Figure(go.Treemap(labels=data[label].astype(str), parents=[""] * len(data), values=data[value],
                               texttemplate="%{label}<br>$%{value:,.0f}", hovertemplate="%{label}<br>$%{value:,.2f}<extra></extra>"))
    return _layout(fig, title, height)


@literal_labels
def build_period_trend_figure(periods: pd.DataFrame, value: str, title: str, height: int = COMPACT_HEIGHT_PX,
                              selected: str | None = None) -> go.Figure:
    """Cost per billing period; the period on screen (`selected`) stands out."""
    colors = [TOTAL if p == selected else "#9ecae1" for p in periods["billing_period"]] if selected else TOTAL
    fig = go.Figure(go.Bar(x=periods["billing_period"], y=periods[value], marker_color=colors,
                           hovertemplate="%{x}<br>$%{y:,.2f}<extra></extra>"))
    fig.update_yaxes(tickprefix="$", separatethousands=True)
    fig.update_xaxes(type="category")
    return _layout(fig, title, height)


@literal_labels
def build_waterfall_figure(steps: pd.DataFrame, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """Invoice waterfall: each step's amount relative to the previous, totals (invoice, net) as absolute bars."""
    fig = go.Figure(go.Waterfall(
        x=steps["step"], y=steps["amount"], measure=steps["measure"],
        text=[f"{MINUS if round(v) < 0 else ''}${abs(v):,.0f}" for v in steps["amount"]], textposition="outside",
        increasing={"marker": {"color": POSITIVE}}, decreasing={"marker": {"color": NEGATIVE}},
        totals={"marker": {"color": TOTAL}}, connector={"line": {"color": "#999"}},
        hovertemplate="%{x}<br>$%{y:,.2f}<extra></extra>",
    ))
    fig.update_yaxes(tickprefix="$", separatethousands=True)
    return _layout(fig, title, height)


@literal_labels
def build_coverage_trend_figure(daily: pd.DataFrame, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """RI, SP and on-demand shares of eligible usage per day (stacked to 100 %)."""
    fig = go.Figure()
    on_demand = 1 - daily["coverage"]
    for name, series, color in (("Reserved Instances", daily["ri_coverage"], RI_COLOR),
                                ("Savings Plans", daily["sp_coverage"], SP_COLOR),
                                ("On demand (not covered)", on_demand, ON_DEMAND_COLOR)):
        fig.add_trace(go.Scatter(x=daily["usage_date"], y=series, name=name, mode="lines", stackgroup="one",
                                 line={"color": color}, hovertemplate="%{x}<br>%{y:.1%}<extra>" + plotly_text(str(name)) + "</extra>"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _layout(fig, title, height)


@literal_labels
def build_utilization_trend_figure(monthly: pd.DataFrame, title: str, height: int = COMPACT_HEIGHT_PX) -> go.Figure:
    """Utilization per period and commitment type (RI, SP)."""
    fig = go.Figure()
    for kind, color in (("RI", RI_COLOR), ("SP", SP_COLOR)):
        rows = monthly[monthly["commitment_type"] == kind]
        if rows.empty:
            continue
        fig.add_trace(go.Bar(x=rows["billing_period"], y=rows["utilization"], name=kind, marker_color=color,
                             hovertemplate="%{x}<br>%{y:.1%}<extra>" + plotly_text(str(kind)) + "</extra>"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_xaxes(type="category")
    fig.update_layout(barmode="group")
    return _layout(fig, title, height)


@literal_labels
def build_allocation_figure(table: pd.DataFrame, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """Chargeback total per tag value; untagged and shared rows in grey so they stand out from owned cost."""
    data = top_n_with_others(table, "tag_value", "total", BAR_ROWS).iloc[::-1]
    colors = ["#7f7f7f" if str(v).startswith(("(untagged)", "Shared:")) else TOTAL for v in data["tag_value"]]
    fig = go.Figure(go.Bar(x=data["total"], y=data["tag_value"].astype(str), orientation="h", marker_color=colors,
                           hovertemplate="%{y}<br>$%{x:,.2f}<extra></extra>"))
    fig.update_xaxes(tickprefix="$", separatethousands=True)
    return _layout(fig, title, max(height, 22 * len(data) + 80))


@literal_labels
def build_transfer_figure(by_service: pd.DataFrame, title: str, height: int = CHART_HEIGHT_PX) -> go.Figure:
    """Stacked bars: data transfer cost per service, one colour per category."""
    data = by_service.head(BAR_ROWS).iloc[::-1]
    fig = go.Figure()
    for category in TRANSFER_CATEGORIES:
        if category in data and data[category].abs().sum() > 0:
            fig.add_trace(go.Bar(x=data[category], y=data["service"], name=category, orientation="h",
                                 marker_color=TRANSFER_COLORS[category],
                                 hovertemplate="%{y}<br>$%{x:,.2f}<extra>" + plotly_text(str(category)) + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickprefix="$", separatethousands=True)
    return _layout(fig, title, max(height, 26 * len(data) + 100))
