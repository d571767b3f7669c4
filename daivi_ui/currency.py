"""Money axes and the currency picker in the page's currency (the figure builders draw dollars; a page in EUR says EUR).

Money table columns are `daivi_ui.tables.money_column(label, currency=...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from daivi_data.currency import CurrencyChoice, money_prefix, totals_text
from daivi_ui.components import format_money
from daivi_ui.state import URL
from daivi_ui.text import literal


def in_currency(fig: go.Figure, currency: str) -> go.Figure:
    """The figure with every '$' axis prefix replaced by `currency`'s (unchanged for USD)."""
    prefix = money_prefix(currency)
    if prefix == "$":
        return fig
    fig.for_each_xaxis(lambda axis: axis.update(tickprefix=prefix) if axis.tickprefix == "$" else None)
    fig.for_each_yaxis(lambda axis: axis.update(tickprefix=prefix) if axis.tickprefix == "$" else None)
    return fig


CURRENCY_HELP = "Amounts in different currencies are never added: every figure on this page is in this one."


def pick_currency(choice: CurrencyChoice, place: Callable[[], DeltaGenerator], scope: str, unblended: dict[str, float], **selectbox_options: Any) -> str:
    """The page's currency: the only one in scope, else the user's pick (kept in the URL), with each total shown apart.

    `place` makes the container for the picker (only made when there is a choice); `scope` opens the caption
    ("This range holds costs", "2024-09 is billed"); `unblended` is the total per currency.
    """
    if choice.notice:
        st.info(literal(choice.notice), icon=":material/info:")
    if not choice.several:
        return choice.currency
    if st.query_params.get("currency") != choice.currency:
        st.query_params["currency"] = choice.currency
    currency = place().selectbox("Currency", list(choice.available), key="currency", bind=URL, help=CURRENCY_HELP,
                                 **selectbox_options)
    st.caption(f"{scope} in {len(choice.available)} currencies; every figure below is in **{literal(currency)}**. "
               f"Unblended per currency (not added): {literal(totals_text(unblended, format_money))}.")
    return currency
