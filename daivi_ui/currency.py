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
    """The figure with every '$' axis prefix or '$' tick format replaced by `currency`'s prefix (unchanged for USD)."""
    prefix = money_prefix(currency)
    if prefix == "$":
        return fig

    def relabel(axis) -> None:
        if axis.tickprefix == "$":
            axis.update(tickprefix=prefix)
        elif (axis.tickformat or "").startswith("$"):  # "$,.0f" (sign before the symbol): the code then the signed figure
            axis.update(tickprefix=prefix, tickformat=axis.tickformat[1:])

    fig.for_each_xaxis(relabel)
    fig.for_each_yaxis(relabel)
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
