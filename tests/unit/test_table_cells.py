"""`table_cells`: what `show_table` makes of a frame before drawing it, a pure function of the frame and its config
(so `Page.table` can cache it): readable cells, and the columns whose negatives need a true minus sign."""

from __future__ import annotations

import pandas as pd

from daivi_ui.format import MINUS
from daivi_ui.tables import MAX_STYLED_CELLS, money_column, number_formats, percent_column, table_cells


def test_cells_are_readable_and_negative_money_gets_its_minus_sign():
    df = pd.DataFrame({"name": ["a", None], "cost": [1.0, -2.5], "share": [0.5, 0.1], "ok": [True, False]})
    config = {"cost": money_column(), "share": percent_column()}
    cells = table_cells(df, frozenset(config), number_formats(config))
    assert list(cells.shown["name"]) == ["a", ""] and list(cells.shown["ok"]) == ["Yes", "No"]
    assert set(cells.minus_signs) == {"cost"}  # no negative share: Streamlit's own format
    assert cells.minus_signs["cost"](-2.5) == f"{MINUS}$2.50"
    assert df["name"].isna().tolist() == [False, True]  # the frame itself is left as it was


def test_no_styler_for_charts_in_cells_or_large_tables():
    config = {"cost": money_column()}
    charts = pd.DataFrame({"cost": [-1.0], "trend": [[1.0, 2.0]]})
    assert table_cells(charts, frozenset(config), number_formats(config)).minus_signs == {}
    large = pd.DataFrame({"cost": [-1.0] * (MAX_STYLED_CELLS + 1)})
    assert table_cells(large, frozenset(config), number_formats(config)).minus_signs == {}


def test_number_formats_keep_only_configured_number_formats():
    config = {"cost": money_column(currency="EUR"), "share": percent_column(), "name": "Name"}
    assert dict(number_formats(config)).keys() == {"cost", "share"}
    assert number_formats(None) == ()
