"""One way to write money, percentages, dates and blanks on every screen, and CSV money that adds up."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_ui import format as fmt


@pytest.mark.parametrize(("value", "exact", "short"), [
    (20.519, "$20.52", "$20.52"),  # small amounts keep their cents
    (-1207.13, "−$1,207.13", "−$1,207"),  # a real minus sign
    (324_307.2, "$324,307.20", "$324.3k"),
    (1_030_000, "$1,030,000.00", "$1.03M"),
    (999_951, "$999,951.00", "$1.00M"),  # never "$1000.0k"
    (9_999.6, "$9,999.60", "$10.0k"),
    (2.5e9, "$2,500,000,000.00", "$2.50B"),
    (-0.004, "$0.00", "$0.00"),  # no "−$0.00"
    (None, "–", "–"),
    (float("nan"), "–", "–"),
])
def test_money_exact_and_short(value, exact, short):
    assert fmt.money(value) == exact
    assert fmt.money_short(value) == short


def test_short_money_fits_a_kpi_tile():
    for value in (0.01, 999.99, 1_000, 9_999, 12_345.67, 999_949, 54_321_000, 999_000_000_000):
        assert len(fmt.money_short(-value)) <= 8, fmt.money_short(-value)


def test_money_names_its_currency():
    # As the charts' axes and the currency module write it: "$" for USD, the ISO code before other amounts.
    assert fmt.money(1234.5, "EUR") == "EUR 1,234.50"
    assert fmt.money_short(-1234.5, "CHF") == "−CHF 1,234"
    assert fmt.money(1, currency="usd") == "$1.00"
    assert fmt.money(1, currency="<b>") == "XXX 1.00"  # a code from the data that is not ISO 4217 never reaches the screen


def test_percent_has_one_format():
    assert fmt.percent(0.064, signed=True) == "+6.4%"
    assert fmt.percent(-0.037, signed=True) == "−3.7%"
    assert fmt.percent(0.5) == "50.0%"
    assert fmt.percent(None) == "–"


def test_yes_no_and_blanks():
    assert [fmt.yes_no(v) for v in (True, False, None, "true", pd.NA)] == ["Yes", "No", "", "Yes", ""]
    assert [fmt.blank(v) for v in (None, float("nan"), pd.NA, "x", 0)] == ["", "", "", "x", "0"]


def test_ranges_say_their_time_zone():
    assert fmt.date_range(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "Nov 01 – Nov 30, 2026 (UTC)"
    assert fmt.date_range(dt.date(2025, 12, 1), dt.date(2026, 1, 31)) == "Dec 01, 2025 – Jan 31, 2026 (UTC)"


def test_csv_money_is_rounded_to_the_cent_and_the_total_still_adds_up():
    # Three thirds of a dollar: rounded on their own they make $0.99, not the $1.00 total.
    df = pd.DataFrame({"group": ["a", "b", "c", "Total"], "cost": [1 / 3, 1 / 3, 1 / 3, 1.0], "previous": [0.125, 0.125, 0.25, 0.5]})
    out = fmt.round_money_columns(df, ["cost", "previous"], df["group"] == "Total")
    assert out["cost"].tolist()[-1] == 1.0
    for column in ("cost", "previous"):
        rows = out.loc[out["group"] != "Total", column]
        assert round(rows.sum(), 2) == out[column].iloc[-1]
        assert all(round(v, 2) == v for v in rows)
        assert (rows - df.loc[df["group"] != "Total", column]).abs().max() < 0.01


def test_csv_money_without_a_total_row_adds_up_to_the_rounded_sum():
    df = pd.DataFrame({"unblended_cost": [1 / 3] * 3, "line_items": [1, 2, 3], "name": ["a", "b", "c"]})
    assert fmt.money_columns(df) == ["unblended_cost"]
    out = fmt.round_money_columns(df, fmt.money_columns(df))
    assert sorted(out["unblended_cost"].tolist()) == [0.33, 0.33, 0.34]  # sums to $1.00, as the exact amounts do
    assert out["line_items"].tolist() == [1, 2, 3]


def test_tables_read_as_people_write_them():
    from daivi_ui.tables import header, readable

    df = pd.DataFrame({"http_status": [200.0, float("nan")], "attached": [True, None], "name": ["x", None],
                       "unblended_cost": [1.5, float("nan")]})
    out = readable(df, frozenset({"unblended_cost"}))
    # A whole-number column with gaps is text throughout (Arrow converts a mixed int/str column on every rerun).
    assert out["http_status"].tolist() == ["200", ""] and out["attached"].tolist() == ["Yes", ""] and out["name"].tolist() == ["x", ""]
    assert out["unblended_cost"].iloc[0] == 1.5  # a formatted money column keeps its numbers
    assert [header(c) for c in ("account_id", "eligible_od_cost", "http_status", "week_change")] == [
        "Account ID", "Eligible on-demand", "HTTP status", "Week change"]
