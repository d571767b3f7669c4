"""The workbench's quick chart: one plotly figure from a result table and the user's x / y / color."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from daivi_data.models.workbench import numeric_columns
from daivi_ui.text import literal_labels

__all__ = ["CHART_KINDS", "build_quick_chart", "numeric_columns"]

CHART_KINDS = ("bar", "line", "scatter")
MAX_CHART_ROWS = 5_000  # a browser stays responsive; the table and CSV still have every row


@literal_labels
def build_quick_chart(df: pd.DataFrame, x: str, y: str, color: str | None = None, kind: str = "bar") -> go.Figure:
    """A bar, line or scatter chart of `y` over `x`, one trace per `color` value."""
    data = df.head(MAX_CHART_ROWS)
    if color:
        # A numeric color column would become a continuous scale; the user asked for groups.
        data = data.assign(**{color: data[color].astype(str)})
    if kind == "line":
        data = data.sort_values(x)
        fig = px.line(data, x=x, y=y, color=color or None, markers=True)
    elif kind == "scatter":
        fig = px.scatter(data, x=x, y=y, color=color or None)
    else:
        fig = px.bar(data, x=x, y=y, color=color or None)
    if not pd.api.types.is_numeric_dtype(data[x]) and not pd.api.types.is_datetime64_any_dtype(data[x]):
        # Text such as '2026-09' is a category: plotly would otherwise guess dates and shift the bars.
        fig.update_xaxes(type="category")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=380, legend_title_text=color or "")
    return fig
