"""Plotly figures of the Cost Explorer. Builders return `go.Figure`; no Streamlit calls in here."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from daivi_data.cost_analysis import OTHERS, Forecast
from daivi_ui.text import literal_labels

CHART_TYPES = {"bar": "Stacked bar", "area": "Area", "line": "Line"}
OTHERS_COLOR = "#B0B7C3"
# Colour-blind-safe: Okabe & Ito's palette (without black, unreadable on a dark theme), then Tol's "safe"
# colours (without its grey, which is Others'). Increases and decreases are vermillion and blue, never red/green.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"] + [
    c for c in px.colors.qualitative.Safe if c.lower() not in ("#888888", "rgb(136, 136, 136)")]
INCREASE, DECREASE = "#D55E00", "#0072B2"
ALERT_FILL = "rgba(230, 159, 0, 0.25)"  # a row that needs attention (an overrun budget), beside its words
CHART_HEIGHT_PX = 420
COMPACT_HEIGHT_PX = 320


def group_colors(groups: list[str]) -> dict[str, str]:
    """A stable color per group, grey for 'Others', so the chart and the Sankey agree."""
    colors, i = {}, 0
    for g in groups:
        if g == OTHERS:
            colors[g] = OTHERS_COLOR
        else:
            colors[g] = PALETTE[i % len(PALETTE)]
            i += 1
    return colors


def _layout(fig: go.Figure, height: int, y_title: str = "Cost (USD)") -> go.Figure:
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        yaxis_title=y_title, xaxis_title=None, yaxis_tickprefix="$", yaxis_tickformat=",.0f",
    )
    return fig


@literal_labels
def build_cost_trend_figure(series: pd.DataFrame, order: list[str], chart: str = "bar", granularity: str = "daily",
                            labels: dict[str, str] | None = None, compact: bool = False) -> go.Figure:
    """Cost over time, one trace per group in `order` (largest first, 'Others' last).

    `series` has columns period, group1, cost.
    """
    labels = labels or {}
    colors = group_colors(order)
    fig = go.Figure()
    for group in order:
        part = series[series["group1"] == group].sort_values("period")
        if part.empty:
            continue
        name = labels.get(group, group)
        hover = f"{name}: $%{{y:,.2f}}<extra></extra>"
        # legendgroup carries the group's key: a click on a bar reports it, and the page filters to it.
        if chart == "bar":
            fig.add_bar(x=part["period"], y=part["cost"], name=name, marker_color=colors[group], hovertemplate=hover,
                        legendgroup=str(group))
        elif chart == "area":
            fig.add_scatter(x=part["period"], y=part["cost"], name=name, mode="lines", stackgroup="cost",
                            line={"color": colors[group], "width": 0.5}, hovertemplate=hover, legendgroup=str(group))
        else:
            fig.add_scatter(x=part["period"], y=part["cost"], name=name, mode="lines+markers",
                            line={"color": colors[group]}, marker={"size": 4}, hovertemplate=hover, legendgroup=str(group))
    if chart == "bar":
        fig.update_layout(barmode="relative")
    fig.update_layout(showlegend=True)  # plotly hides a one-series legend; the name still matters
    fig.update_xaxes(hoverformat="%b %Y" if granularity == "monthly" else "%b %d, %Y")
    return _layout(fig, COMPACT_HEIGHT_PX if compact else CHART_HEIGHT_PX)


@literal_labels
def build_facet_figure(series: pd.DataFrame, order1: list[str], order2: list[str], labels1: dict[str, str] | None = None,
                       labels2: dict[str, str] | None = None, compact: bool = False) -> go.Figure:
    """Two-level grouping as small multiples: one stacked bar chart per first-level group.

    `series` has columns period, group1, group2, cost.
    """
    labels1, labels2 = labels1 or {}, labels2 or {}
    frame = series[series["group1"].isin(order1)].copy()
    frame["g1"] = frame["group1"].map(lambda g: labels1.get(g, g))
    frame["g2"] = frame["group2"].map(lambda g: labels2.get(g, g))
    colors = {labels2.get(g, g): c for g, c in group_colors(order2).items()}
    facet_order = [labels1.get(g, g) for g in order1 if g in set(frame["group1"])]
    rows = max(1, (len(facet_order) + 2) // 3)
    fig = px.bar(frame, x="period", y="cost", color="g2", facet_col="g1", facet_col_wrap=3,
                 category_orders={"g1": facet_order, "g2": [labels2.get(g, g) for g in order2]},
                 color_discrete_map=colors, facet_row_spacing=min(0.12, 0.6 / rows), facet_col_spacing=0.04)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_yaxes(matches=None, showticklabels=True, tickprefix="$", tickformat="~s", title=None)
    fig.update_xaxes(title=None)
    height = (COMPACT_HEIGHT_PX if compact else 260) * rows
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, barmode="relative",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None})
    return fig


@literal_labels
def build_sankey_figure(totals: pd.DataFrame, order1: list[str], order2: list[str], labels1: dict[str, str] | None = None,
                        labels2: dict[str, str] | None = None, title1: str = "", title2: str = "") -> go.Figure:
    """Two-level grouping as a Sankey: first-level groups flow into second-level groups.

    `totals` has columns group1, group2, cost (positive costs only: a Sankey cannot show credits).
    """
    labels1, labels2 = labels1 or {}, labels2 or {}
    # Ten or more nodes a side make a tangle: the largest SANKEY_MAX_NODES flow on their own, the rest as Others.
    order1, order2 = _capped(order1), _capped(order2)
    frame = totals.assign(group1=_others_beyond(totals["group1"], order1), group2=_others_beyond(totals["group2"], order2))
    frame = frame.groupby(["group1", "group2"], as_index=False)["cost"].sum()
    frame = frame[(frame["cost"] > 0) & frame["group1"].isin(order1) & frame["group2"].isin(order2)]
    nodes1 = [g for g in order1 if g in set(frame["group1"])]
    nodes2 = [g for g in order2 if g in set(frame["group2"])]
    index1 = {g: i for i, g in enumerate(nodes1)}
    index2 = {g: len(nodes1) + i for i, g in enumerate(nodes2)}
    c1, c2 = group_colors(order1), group_colors(order2)
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": [labels1.get(g, g) for g in nodes1] + [labels2.get(g, g) for g in nodes2],
              "color": [c1[g] for g in nodes1] + [c2[g] for g in nodes2], "pad": 12, "thickness": 14},
        link={"source": [index1[g] for g in frame["group1"]], "target": [index2[g] for g in frame["group2"]],
              "value": frame["cost"].tolist(), "color": [_translucent(c1[g]) for g in frame["group1"]], "hovertemplate": "%{source.label} → %{target.label}: $%{value:,.2f}<extra></extra>"},
    ))
    fig.update_layout(height=max(CHART_HEIGHT_PX, 24 * max(len(nodes1), len(nodes2))), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title={"text": f"{title1} → {title2}", "font": {"size": 13}})
    return fig


SANKEY_MAX_NODES = 6


def _capped(order: list[str]) -> list[str]:
    """The first SANKEY_MAX_NODES groups of `order` (largest first), then Others when anything is left."""
    named = [g for g in order if g != OTHERS]
    return named[:SANKEY_MAX_NODES] + ([OTHERS] if len(named) > SANKEY_MAX_NODES or OTHERS in order else [])


def _others_beyond(groups: pd.Series, kept: list[str]) -> pd.Series:
    keep = set(kept)
    return groups.map(lambda g: g if g in keep else OTHERS)


def _translucent(color: str, alpha: float = 0.35) -> str:
    """'#RRGGBB' -> 'rgba(r, g, b, alpha)': Sankey links in their source's color, lighter than the nodes."""
    if not color.startswith("#") or len(color) != 7:
        return color
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


@literal_labels
def build_movers_figure(increases: pd.DataFrame, decreases: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Horizontal bars of the largest increases (vermillion) and decreases (blue) between two periods."""
    labels = labels or {}
    frame = pd.concat([increases, decreases], ignore_index=True).sort_values("change")
    names = [labels.get(g, g) for g in frame["group"]]
    fig = go.Figure(go.Bar(
        x=frame["change"], y=names, orientation="h",
        marker_color=[INCREASE if c > 0 else DECREASE for c in frame["change"]],
        customdata=frame[["previous", "current", "contribution_pp"]].to_numpy(),
        hovertemplate="%{y}: %{x:$,.2f}<br>from %{customdata[0]:$,.2f} to %{customdata[1]:$,.2f}"
                      "<br>%{customdata[2]:+.2f} pp of the total change<extra></extra>",
    ))
    # Changes go below zero: a "$" format (not a "$" prefix, which writes "$−2,500") puts the sign first, −$2,500.
    fig.update_layout(height=max(220, 28 * len(frame) + 60), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_tickformat="$,.0f", yaxis={"automargin": True})
    return fig


@literal_labels
def build_anomaly_figure(daily: pd.DataFrame, group: str, first_day: dt.date, last_day: dt.date, label: str = "") -> go.Figure:
    """One group's daily cost with the anomalous event shaded. `daily` has usage_date, group1, cost."""
    part = daily[daily["group1"] == group].sort_values("usage_date")
    fig = go.Figure(go.Scatter(x=part["usage_date"], y=part["cost"], mode="lines", name=label or group,
                               hovertemplate="%{x|%b %d}: $%{y:,.2f}<extra></extra>"))
    fig.add_vrect(x0=pd.Timestamp(first_day) - pd.Timedelta(hours=12), x1=pd.Timestamp(last_day) + pd.Timedelta(hours=12),
                  fillcolor=INCREASE, opacity=0.15, line_width=0)
    fig.update_layout(height=200, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
                      yaxis_tickprefix="$", yaxis_tickformat=",.0f")
    return fig


@literal_labels
def build_forecast_figure(daily: pd.DataFrame, forecast: Forecast) -> go.Figure:
    """Cumulative cost of the period so far, the forecast to its end, and the interval drawn as a band."""
    part = daily[(daily["usage_date"] >= forecast.period_start) & (daily["usage_date"] <= forecast.as_of)].sort_values("usage_date")
    fig = go.Figure(go.Scatter(x=part["usage_date"], y=part["cost"].cumsum(), mode="lines", name="Actual (cumulative)",
                               line={"color": PALETTE[0]}, hovertemplate="%{x|%b %d, %Y}: $%{y:,.2f}<extra>Actual</extra>"))
    start = max(forecast.as_of, forecast.period_start - dt.timedelta(days=1))
    ends = [start, forecast.period_end]
    band = f"{forecast.level:.0%} interval"
    fig.add_scatter(x=ends, y=[forecast.actual, forecast.high], mode="lines", line={"width": 0}, showlegend=False,
                    hovertemplate="%{x|%b %d, %Y}: up to $%{y:,.2f}<extra>" + band + "</extra>")
    fig.add_scatter(x=ends, y=[forecast.actual, forecast.low], mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor="rgba(230, 159, 0, 0.25)", name=band,
                    hovertemplate="%{x|%b %d, %Y}: from $%{y:,.2f}<extra>" + band + "</extra>")
    fig.add_scatter(x=ends, y=[forecast.actual, forecast.total], mode="lines+markers", line={"dash": "dash", "color": PALETTE[1]},
                    name="Forecast", hovertemplate="%{x|%b %d, %Y}: $%{y:,.2f}<extra>Forecast</extra>")
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_tickprefix="$", yaxis_tickformat=",.0f",
                      legend={"orientation": "h", "y": 1.1})
    return fig
