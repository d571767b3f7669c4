"""Negative money and percentages in tables read with a true minus sign, as on the rest of the screen, while the
columns keep their numbers (so they sort as numbers): which columns get their text from `minus_sign_formats`."""

from __future__ import annotations

import pandas as pd

from daivi_ui.format import MINUS
from daivi_ui.tables import minus_sign_formats, money_column, percent_column


def frame() -> pd.DataFrame:
    return pd.DataFrame({"name": ["a", "b"], "cost": [20.52, -1207.13], "eur": [-3.0, 1.0], "gbp": [-1.5, 2.0],
                         "share": [0.1, -0.042], "positive": [1.0, 2.0], "count": [-1, 2]})


def test_money_and_percent_columns_with_a_negative_read_with_a_minus_sign_in_their_currency():
    formats = minus_sign_formats(frame(), {"cost": money_column(), "eur": money_column(currency="EUR"),
                                           "gbp": money_column("Pounds", currency="GBP"), "share": percent_column(),
                                           "positive": money_column(), "name": "Name"})
    assert set(formats) == {"cost", "eur", "gbp", "share"}  # `positive` has nothing negative; `count` is no money
    assert formats["cost"](-1207.13) == f"{MINUS}$1,207.13" and formats["cost"](20.52) == "$20.52"
    assert formats["eur"](-3.0) == f"{MINUS}EUR 3.00"
    assert formats["gbp"](-1.5) == f"{MINUS}GBP 1.50"
    assert formats["share"](-0.042) == f"{MINUS}4.2%"
    assert "-" not in formats["cost"](-0.004)  # rounds to zero: no "−$0.00" either


def test_tables_without_negatives_or_config_keep_streamlits_formats():
    df = frame()
    assert minus_sign_formats(df[df["cost"] > 0], {"cost": money_column(), "share": percent_column()}) == {}
    assert minus_sign_formats(df, None) == {}
    assert minus_sign_formats(df, {"missing_column": money_column()}) == {}

