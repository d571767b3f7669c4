"""Plotly figures of the Logs view: the timeline, the stats timechart and the error-rate panel.

Builders take the DataFrames of `daivi_data.queries.splunk` and return a
`go.Figure`; no Streamlit calls here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from daivi_ui.text import literal_labels, plotly_text

SEVERITY_ORDER = ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")
SEVERITY_COLORS = {
    "DEBUG": "#9aa5b1",
    "INFO": "#4c78a8",
    "WARN": "#f2b134",
    "ERROR": "#e45756",
    "CRITICAL": "#8b0000",
    "(none)": "#d0d4d9",
    "other": "#bab0ac",
}
PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac")
TIMELINE_HEIGHT_PX = 260
TIME_AXIS_TITLE = "Time (UTC)"  # the events' times are UTC: an axis of bare "Dec 5, 2026 06:00" would not say so
CHART_HEIGHT_PX = 300


def bucket_label(bucket_s: int) -> str:
    """'15 min', '1 h', '1 day' for a bucket size in seconds."""
    if bucket_s % 86400 == 0:
        days = bucket_s // 86400
        return f"{days} day" + ("s" if days > 1 else "")
    if bucket_s % 3600 == 0:
        return f"{bucket_s // 3600} h"
    if bucket_s % 60 == 0:
        return f"{bucket_s // 60} min"
    return f"{bucket_s} s"


def _series_order(values: list[str], split_field: str) -> list[str]:
    if split_field == "severity":
        known = [v for v in SEVERITY_ORDER if v in values]
        return known + sorted(v for v in values if v not in known)
    # Largest series at the bottom of the stack; "other" and "(none)" last.
    special = [v for v in ("other", "(none)") if v in values]
    return [v for v in values if v not in special] + special


def _color(value: str, i: int, split_field: str) -> str:
    if split_field == "severity" or value in ("other", "(none)"):
        return SEVERITY_COLORS.get(value, PALETTE[i % len(PALETTE)])
    return PALETTE[i % len(PALETTE)]


@literal_labels
def build_timeline_figure(df: pd.DataFrame, bucket_s: int, split_field: str, start: dt.datetime, end: dt.datetime) -> go.Figure:
    """Stacked bars of events per bucket, one trace per value of the split field; drag to select a span."""
    fig = go.Figure()
    width_ms = bucket_s * 1000
    if not df.empty:
        totals = df.groupby("value")["events"].sum().sort_values(ascending=False)
        for i, value in enumerate(_series_order(list(totals.index), split_field)):
            part = df[df["value"] == value]
            # Bars are centred on x: shift by half a bucket so a bar covers [bucket, bucket + size).
            x = pd.to_datetime(part["bucket"]) + pd.to_timedelta(bucket_s / 2, unit="s")
            fig.add_trace(go.Bar(
                x=x, y=part["events"], name=str(value), width=width_ms, marker_color=_color(str(value), i, split_field),
                marker_line_width=0, customdata=part["bucket"],
                hovertemplate=f"%{{customdata|%Y-%m-%d %H:%M:%S}} UTC + {bucket_label(bucket_s)}<br>{plotly_text(str(value))}: %{{y:,}} events<extra></extra>",
            ))
    fig.update_layout(
        barmode="stack", bargap=0, height=TIMELINE_HEIGHT_PX, margin=dict(l=10, r=10, t=10, b=10),
        dragmode="select", selectdirection="h", hovermode="closest",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, title_text=""),
        yaxis_title=f"events / {bucket_label(bucket_s)}",
    )
    fig.update_xaxes(range=[start, end], type="date", title_text=TIME_AXIS_TITLE)
    return fig


@literal_labels
def build_stats_timechart_figure(df: pd.DataFrame, stat_label: str, bucket_s: int) -> go.Figure:
    """One line per value of the by-field: the statistic per bucket."""
    fig = go.Figure()
    if not df.empty:
        totals = df.groupby("value")["stat"].sum().sort_values(ascending=False)
        for i, value in enumerate(_series_order(list(totals.index), "")):
            part = df[df["value"] == value]
            fig.add_trace(go.Scatter(
                x=part["bucket"], y=part["stat"], name=str(value), mode="lines+markers", marker_size=4,
                line_color=_color(str(value), i, ""),
                hovertemplate=f"%{{x|%Y-%m-%d %H:%M}} UTC<br>{plotly_text(str(value))}: %{{y:,.2f}}<extra></extra>",
            ))
    fig.update_layout(
        height=CHART_HEIGHT_PX, margin=dict(l=10, r=10, t=10, b=10), hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), yaxis_title=f"{stat_label} per {bucket_label(bucket_s)}",
        xaxis_title=TIME_AXIS_TITLE,
    )
    return fig


@literal_labels
def build_error_rate_figure(df: pd.DataFrame, bucket_s: int) -> go.Figure:
    """The 5xx share of HTTP responses and the ERROR/CRITICAL share of events, per bucket, in percent."""
    fig = go.Figure()
    if not df.empty:
        fig.add_trace(go.Scatter(
            x=df["bucket"], y=df["server_error_share"] * 100, name="5xx share of HTTP responses", mode="lines",
            line_color="#e45756", customdata=df[["server_errors", "http_events"]],
            hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>5xx: %{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>",
        ))
        fig.add_trace(go.Scatter(
            x=df["bucket"], y=df["error_share"] * 100, name="ERROR/CRITICAL share of events", mode="lines",
            line_color="#8b0000", line_dash="dot", customdata=df[["error_events", "events"]],
            hovertemplate="%{x|%Y-%m-%d %H:%M} UTC<br>errors: %{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>",
        ))
    fig.update_layout(
        height=CHART_HEIGHT_PX, margin=dict(l=10, r=10, t=10, b=10), hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), yaxis_title=f"% per {bucket_label(bucket_s)}",
        xaxis_title=TIME_AXIS_TITLE,
    )
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return fig


def selected_span(selection: dict | None) -> tuple[dt.datetime, dt.datetime] | None:
    """The time span of a box selection on the timeline (plotly's selection state), or None."""
    if not selection:
        return None
    boxes = selection.get("box") or []
    for box in boxes:
        xs = box.get("x") or []
        if len(xs) == 2:
            try:
                a, b = (pd.Timestamp(x).to_pydatetime().replace(tzinfo=None) for x in xs)
            except (ValueError, TypeError):
                continue
            start, end = min(a, b), max(a, b)
            if end > start:
                return start.replace(microsecond=0), end.replace(microsecond=0) + dt.timedelta(seconds=1)
    return None
