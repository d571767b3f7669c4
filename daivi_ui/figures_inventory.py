"""Plotly figures of the inventory view. Each builder takes a DataFrame and returns a `go.Figure` (no `st.*`)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from daivi_data.currency import DEFAULT_CURRENCY, money_prefix, shown_code
from daivi_ui.figures_cost import OTHERS_COLOR, PALETTE
from daivi_ui.text import literal_labels
from daivi_ui.vocabulary import account_label

# Approximate location (lat, lon) of each AWS region's data centers, for the region map.
REGION_COORDINATES: dict[str, tuple[float, float]] = {
    "us-east-1": (38.9, -77.4),  # N. Virginia
    "us-east-2": (40.0, -83.0),  # Ohio
    "us-west-1": (37.4, -121.9),  # N. California
    "us-west-2": (45.8, -119.7),  # Oregon
    "ca-central-1": (45.5, -73.6),  # Montreal
    "ca-west-1": (51.0, -114.1),  # Calgary
    "sa-east-1": (-23.5, -46.6),  # São Paulo
    "mx-central-1": (20.6, -100.4),  # Querétaro
    "eu-west-1": (53.3, -6.3),  # Ireland
    "eu-west-2": (51.5, -0.1),  # London
    "eu-west-3": (48.9, 2.4),  # Paris
    "eu-central-1": (50.1, 8.7),  # Frankfurt
    "eu-central-2": (47.4, 8.5),  # Zurich
    "eu-north-1": (59.3, 18.1),  # Stockholm
    "eu-south-1": (45.5, 9.2),  # Milan
    "eu-south-2": (41.6, -0.9),  # Spain
    "me-south-1": (26.1, 50.6),  # Bahrain
    "me-central-1": (24.5, 54.4),  # UAE
    "il-central-1": (32.1, 34.8),  # Tel Aviv
    "af-south-1": (-33.9, 18.4),  # Cape Town
    "ap-south-1": (19.1, 72.9),  # Mumbai
    "ap-south-2": (17.4, 78.5),  # Hyderabad
    "ap-east-1": (22.3, 114.2),  # Hong Kong
    "ap-southeast-1": (1.35, 103.8),  # Singapore
    "ap-southeast-2": (-33.9, 151.2),  # Sydney
    "ap-southeast-3": (-6.2, 106.8),  # Jakarta
    "ap-southeast-4": (-37.8, 145.0),  # Melbourne
    "ap-southeast-5": (3.1, 101.7),  # Malaysia
    "ap-northeast-1": (35.7, 139.7),  # Tokyo
    "ap-northeast-2": (37.6, 127.0),  # Seoul
    "ap-northeast-3": (34.7, 135.5),  # Osaka
}
# plotly.js fetches the world outline of geo maps from cdn.plot.ly unless told otherwise; the app serves
# its own copy (static/topojson, `server.enableStaticServing`), relative to the page so a base path works.
MAP_PLOTLY_CONFIG = {"topojsonURL": "./app/static/topojson/"}
CHART_HEIGHT_PX = 340
# Global services (S3 buckets' control plane, CloudFront, Route 53, IAM) carry an empty region.
GLOBAL_REGION_LABEL = "global"
TOP_N_BARS = 15


def _layout(fig: go.Figure, height: int = CHART_HEIGHT_PX) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="")
    return fig


def label_accounts(frame: pd.DataFrame, names: dict[str, str] | None, column: str = "account_id") -> pd.DataFrame:
    """`column` as 'payments-prod (411111111101)' where the account's name is known (ids stay unique)."""
    if not names:
        return frame
    out = frame.copy()
    out[column] = out[column].map(lambda a: account_label(a, names.get(a)))
    return out


@literal_labels
def build_count_bar_figure(counts: pd.DataFrame, dimension: str, title: str, top_n: int = TOP_N_BARS) -> go.Figure:
    """Horizontal bars of `resources` by `dimension`, the largest on top; the rest summed as 'other'."""
    totals = counts.groupby(dimension, dropna=False)["resources"].sum().sort_values(ascending=False)
    if len(totals) > top_n:
        rest = totals.iloc[top_n:].sum()
        totals = pd.concat([totals.iloc[:top_n], pd.Series({f"{len(totals) - top_n} others": rest})])
    frame = totals.rename_axis(dimension).reset_index(name="resources").iloc[::-1]
    frame[dimension] = frame[dimension].map(lambda v: blank_label(v, dimension))
    fig = px.bar(frame, x="resources", y=dimension, orientation="h", title=title, text="resources")
    fig.update_traces(textposition="outside", cliponaxis=False)
    # long labels push the plot right instead of being cut, and the longest bar leaves room for its count (900 px)
    fig.update_yaxes(title="", type="category", automargin=True)
    fig.update_xaxes(title="resources", range=[0, max(float(frame["resources"].max()), 1.0) * 1.2])
    return _layout(fig, height=max(CHART_HEIGHT_PX, 24 * len(frame) + 80))


def blank_label(value: object, dimension: str) -> str:
    """How an empty dimension value reads on a chart: global services have no region."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) == "":
        return GLOBAL_REGION_LABEL if dimension == "region" else "(none)"
    return str(value)


def region_points(counts: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Resources per region with coordinates, and the regions the map cannot place (e.g. 'global')."""
    totals = counts.groupby("region", dropna=False)["resources"].sum().reset_index()
    known = totals["region"].isin(list(REGION_COORDINATES))
    points = totals[known].copy()
    points["lat"] = points["region"].map(lambda r: REGION_COORDINATES[r][0])
    points["lon"] = points["region"].map(lambda r: REGION_COORDINATES[r][1])
    unplaced = [blank_label(r, "region") for r in totals.loc[~known, "region"]]
    return points.reset_index(drop=True), unplaced


@literal_labels
def build_region_map_figure(counts: pd.DataFrame) -> go.Figure:
    """Bubbles on a world map: resources per AWS region."""
    points, _ = region_points(counts)
    fig = px.scatter_geo(points, lat="lat", lon="lon", size="resources", text="region", hover_name="region",
                         hover_data={"resources": ":,", "lat": False, "lon": False}, size_max=40,
                         projection="natural earth", title="Where they run")
    fig.update_traces(textposition="top center", marker={"color": "#1f77b4", "line": {"width": 1, "color": "white"}})
    fig.update_geos(showcountries=True, countrycolor="#d0d0d0", showland=True, landcolor="#f4f4f4")
    return _layout(fig, height=380)


TREND_TOP_TYPES = 8


@literal_labels
def build_trend_figure(trend: pd.DataFrame, top_n: int = TREND_TOP_TYPES) -> go.Figure:
    """Resources per snapshot, stacked by resource type (the `top_n` largest; the rest as 'other types')."""
    frame = trend.copy()
    largest = frame.groupby("resource_type")["resources"].sum().nlargest(top_n).index
    frame["resource_type"] = frame["resource_type"].where(frame["resource_type"].isin(largest), "other types")
    frame = frame.groupby(["snapshot_date", "resource_type"], as_index=False)["resources"].sum()
    # The cost charts' colour-blind-safe palette and Others grey (Streamlit's theme would pair red with green).
    fig = px.area(frame, x="snapshot_date", y="resources", color="resource_type", title="Resources over snapshots",
                  color_discrete_sequence=PALETTE, color_discrete_map={"other types": OTHERS_COLOR})
    fig.update_xaxes(title="snapshot")
    fig.update_yaxes(title="resources")
    return _layout(fig)


# Low compliance vermillion, full compliance blue (the Okabe-Ito pair of the cost charts): red to green
# is the pair a colour-blind reader cannot tell apart.
COMPLIANCE_SCALE = [(0.0, "#D55E00"), (0.5, "#F0E442"), (1.0, "#0072B2")]


@literal_labels
def build_compliance_figure(by: pd.DataFrame, dimension: str, title: str, top_n: int = TOP_N_BARS) -> go.Figure:
    """Compliance percent per account or type, the worst `top_n` first."""
    frame = by.head(top_n).iloc[::-1].copy()
    frame[dimension] = frame[dimension].astype(str)
    # One decimal, as the "Compliant" tile above the chart (60.4%): "30% of 23" beside it read as another format.
    frame["label"] = frame.apply(lambda r: f"{r['compliance_pct']:.1f}% of {int(r['resources']):,}", axis=1)
    fig = px.bar(frame, x="compliance_pct", y=dimension, orientation="h", text="label", title=title,
                 range_x=[0, 118], color="compliance_pct", color_continuous_scale=COMPLIANCE_SCALE, range_color=[0, 100])
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_yaxes(title="", type="category")
    fig.update_xaxes(title="compliant resources (%)")
    fig.update_layout(coloraxis_showscale=False)
    return _layout(fig, height=max(CHART_HEIGHT_PX, 24 * len(frame) + 80))


@literal_labels
def build_waste_figure(summary: pd.DataFrame, with_cost: bool, currency: str = DEFAULT_CURRENCY) -> go.Figure:
    """Per waste category: the monthly savings at stake in `currency` (or the resource count without CUR access)."""
    frame = summary.iloc[::-1].copy()
    value = "monthly_savings" if with_cost else "resources"
    frame[value] = frame[value].fillna(0.0)
    prefix = money_prefix(currency)
    text = frame[value].map(lambda v: f"{prefix}{v:,.0f}") if with_cost else frame[value].map(lambda v: f"{int(v):,}")
    fig = px.bar(frame, x=value, y="category_label", orientation="h", text=text,
                 title="Monthly savings at stake by finding" if with_cost else "Resources by finding")
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_yaxes(title="")
    # room on the right for the longest bar's label, which would be cut at 900 px otherwise
    fig.update_xaxes(title=f"{shown_code(currency)} per month (estimate)" if with_cost else "resources",
                     range=[0, max(float(frame[value].max()), 1.0) * 1.25])
    return _layout(fig, height=300)


@literal_labels
def build_daily_cost_figure(daily: pd.DataFrame, currency: str = DEFAULT_CURRENCY) -> go.Figure:
    """A resource's CUR cost per day in one currency, stacked by line item type."""
    fig = px.bar(daily, x="usage_date", y="cost", color="line_item_type", title="Daily cost (CUR, unblended)")
    fig.update_xaxes(title="")
    fig.update_yaxes(title=shown_code(currency), tickprefix=money_prefix(currency))
    return _layout(fig, height=300)


@literal_labels
def build_severity_figure(counts: pd.DataFrame) -> go.Figure:
    """Log events of a host by severity."""
    order = ["DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"]
    frame = counts.copy()
    frame["severity"] = pd.Categorical(frame["severity"], categories=order + sorted(set(frame["severity"]) - set(order)), ordered=True)
    frame = frame.sort_values("severity")
    colors = {"DEBUG": "#9e9e9e", "INFO": "#0072B2", "WARN": "#E69F00", "ERROR": "#D55E00", "CRITICAL": "#CC79A7"}  # colour-blind-safe
    fig = px.bar(frame, x="severity", y="events", color="severity", color_discrete_map=colors, text="events",
                 title="Events by severity")
    fig.update_layout(showlegend=False)
    return _layout(fig, height=260)

