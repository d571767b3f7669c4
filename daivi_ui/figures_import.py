"""The Import page's figure: rows per table of the current lakehouse."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from daivi_ui.text import literal_labels

BAR_COLOR = "#4c78a8"


@literal_labels
def build_table_rows_figure(tables: pd.DataFrame) -> go.Figure:
    """Horizontal bars: rows per table, the largest on top."""
    ordered = tables.sort_values("Rows")
    fig = go.Figure(go.Bar(x=ordered["Rows"], y=ordered["Table"], orientation="h", marker_color=BAR_COLOR,
                           hovertemplate="%{y}: %{x:,} rows<extra></extra>"))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=60 + 28 * len(ordered),
                      xaxis_title="rows", yaxis_title=None)
    return fig
