"""Money axes and tables in the page's currency (the figure builders draw dollars; a page in EUR says EUR)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from daivi_data.currency import column_format, money_prefix


def in_currency(fig: go.Figure, currency: str) -> go.Figure:
    """The figure with every '$' axis prefix replaced by `currency`'s (unchanged for USD)."""
    prefix = money_prefix(currency)
    if prefix == "$":
        return fig
    fig.for_each_xaxis(lambda axis: axis.update(tickprefix=prefix) if axis.tickprefix == "$" else None)
    fig.for_each_yaxis(lambda axis: axis.update(tickprefix=prefix) if axis.tickprefix == "$" else None)
    return fig


def money_column(currency: str, label: str | None = None, **kwargs) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format=column_format(currency), **kwargs)
