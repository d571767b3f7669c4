"""The page's currency: chosen from the data, never a mix; axes, tables and CSVs say which it is."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from daivi_data.currency import choose_currency, column_format, money_prefix, require_currency, totals_text
from daivi_data.errors import InvalidRequest
from daivi_ui.components import format_money
from daivi_ui.currency import in_currency


def test_the_currency_with_the_most_cost_is_the_default_and_a_known_url_value_wins():
    totals = {"EUR": 12.0, "USD": 300.0, "JPY": 0.5}
    assert choose_currency(totals).currency == "USD"
    assert choose_currency(totals).available == ("USD", "EUR", "JPY") and choose_currency(totals).several
    assert choose_currency(totals, "EUR").currency == "EUR" and not choose_currency(totals, "EUR").notice
    unknown = choose_currency(totals, "GBP")
    assert unknown.currency == "USD" and "No amounts in 'GBP' here; showing USD" in unknown.notice
    assert not choose_currency({"USD": 1.0}).several
    assert choose_currency({}).currency == "USD"


def test_codes_are_checked_before_they_reach_a_query():
    assert require_currency("EUR") == "EUR"
    for bad in ("eur", "EURO", "E'R", "", None):
        with pytest.raises(InvalidRequest):
            require_currency(bad)


def test_amounts_say_their_currency_and_are_never_added():
    assert money_prefix("USD") == "$" and money_prefix("EUR") == "EUR "
    assert column_format("USD") == "dollar" and column_format("CHF") == "%.2f CHF"
    assert totals_text({"EUR": 12.5, "USD": 300.0}, format_money) == f"{format_money(300.0)} · {format_money(12.5, 'EUR')}"


def test_money_axes_take_the_page_currency():
    fig = go.Figure(go.Bar(x=["a"], y=[1.0]))
    fig.update_yaxes(tickprefix="$")
    fig.update_xaxes(tickprefix="")
    assert in_currency(fig, "EUR").layout.yaxis.tickprefix == "EUR "
    assert in_currency(fig, "EUR").layout.xaxis.tickprefix == ""
    usd = go.Figure(go.Bar(x=["a"], y=[1.0]))
    usd.update_yaxes(tickprefix="$")
    assert in_currency(usd, "USD").layout.yaxis.tickprefix == "$"


def test_a_dollar_tick_format_takes_the_page_currency_too():
    # The movers chart formats its signed axis with "$,.0f" (−$2,500): in EUR no "$" may stay.
    fig = go.Figure(go.Bar(x=[-2500.0, 900.0], y=["a", "b"], orientation="h"))
    fig.update_xaxes(tickformat="$,.0f")
    axis = in_currency(fig, "EUR").layout.xaxis
    assert (axis.tickprefix, axis.tickformat) == ("EUR ", ",.0f")
