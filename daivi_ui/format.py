"""How numbers, dates and cells read on screen and in exports: one place for every view.

Money: `money()` is the exact figure (cents, thousands separators, a real minus
sign: −$1,207.13); `money_short()` is the figure that fits a KPI tile in a
900 px wiki iframe ($20.52, $1,207, $324.3k, $1.03M), with the exact figure
kept for the tile's help. Both take the currency code, so a view that shows
another currency than USD says so. Percentages have one format per view:
`percent()` with one decimal. Exports round money to the cent with
`round_money_columns()`, and a total row still equals the sum of the rows above it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import pandas as pd

from daivi_data.currency import DEFAULT_CURRENCY, decimals, money_prefix

MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss in front of a dollar sign
MISSING = "–"  # an en dash for "no figure"
TIME_ZONE = "UTC"  # every date and timestamp of the lakehouses is UTC


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _symbol(currency: str) -> tuple[str, str]:
    """(prefix, suffix) for a currency, as the charts' axes write it: "$" for USD, "EUR " for others."""
    return money_prefix((currency or DEFAULT_CURRENCY).upper()), ""


def money(value, currency: str = "USD", cents: bool = True) -> str:
    """The exact amount: $1,207.13, −$1,207.13 (two decimals unless `cents` is False)."""
    if _is_missing(value):
        return MISSING
    value = float(value)
    digits = decimals((currency or DEFAULT_CURRENCY).upper()) if cents else 0
    if round(value, digits) == 0:
        value = 0.0  # no "−$0.00"
    prefix, suffix = _symbol(currency)
    sign = MINUS if value < 0 else ""
    return f"{sign}{prefix}{abs(value):,.{digits}f}{suffix}"


def money_short(value, currency: str = "USD") -> str:
    """An amount short enough for a KPI tile: cents under $1,000, whole dollars under $10,000, then k / M / B.

    At most eight characters for any amount under a trillion, so five tiles fit in a row of a 900 px iframe.
    """
    if _is_missing(value):
        return MISSING
    value = float(value)
    size = abs(value)
    if round(size, 2) < 1_000:
        return money(value, currency)
    if round(size) < 10_000:
        return money(value, currency, cents=False)
    prefix, suffix = _symbol(currency)
    sign = MINUS if value < 0 else ""
    # Switch units where rounding would show 1000.0k or 1000.00M.
    if size >= 999_995_000:
        scaled, unit = size / 1e9, "B"
    elif size >= 999_950:
        scaled, unit = size / 1e6, "M"
    else:
        scaled, unit = size / 1e3, "k"
    # Three or four significant digits: $1.03M, $32.40M, $324.3k, $999.9M.
    digits = 1 if unit == "k" or round(scaled, 2) >= 100 else 2
    shown = f"{scaled:,.{digits}f}{unit}"
    return f"{sign}{prefix}{shown}{suffix}"


def percent(value, signed: bool = False, digits: int = 1) -> str:
    """A ratio as a percentage with one decimal: 0.064 -> 6.4% (or +6.4% when `signed`)."""
    if _is_missing(value) or (isinstance(value, float) and math.isinf(value)):
        return MISSING
    text = f"{abs(value):.{digits}%}"
    if float(value) < 0 and text.strip("0.%") != "":
        return MINUS + text
    return ("+" if signed else "") + text


def count(value) -> str:
    return MISSING if _is_missing(value) else f"{int(value):,}"


def yes_no(value) -> str:
    """Booleans as people write them: Yes / No, and a blank for "not recorded"."""
    if _is_missing(value):
        return ""
    if isinstance(value, str):
        return {"true": "Yes", "false": "No"}.get(value.strip().lower(), value)
    return "Yes" if bool(value) else "No"


def blank(value) -> str:
    """A cell's text with a blank (not "None", "nan" or "<NA>") where nothing is recorded."""
    return "" if _is_missing(value) else str(value)


def day(value: dt.date) -> str:
    """A date as finance writes it: Nov 30, 2026."""
    return f"{value:%b %d, %Y}"


def date_range(start: dt.date, end: dt.date, time_zone: str = TIME_ZONE) -> str:
    """A range of whole days with its time zone: Nov 01 – Nov 30, 2026 (UTC)."""
    first = f"{start:%b %d}" if start.year == end.year else day(start)
    return f"{first} – {day(end)} ({time_zone})"


def timestamp(value: dt.datetime, time_zone: str = TIME_ZONE) -> str:
    """A timestamp with its time zone: 2026-11-30 23:59 UTC."""
    return f"{value:%Y-%m-%d %H:%M} {time_zone}"


# --- exports ----------------------------------------------------------------------------------

def round_to_total(values: pd.Series, total: float | None = None) -> pd.Series:
    """Amounts rounded to the cent whose sum is `total` rounded to the cent (largest remainder).

    Rounding every row on its own can leave the rounded rows a cent or two off their
    rounded total; the cents that rounding lost go to the rows that lost the most.
    """
    values = values.astype(float).fillna(0.0)
    if values.empty:
        return values
    total = float(values.sum()) if total is None else float(total)
    cents = values * 100
    floors = cents.apply(math.floor)
    missing = int(round(total * 100 - floors.sum()))
    order = (cents - floors).sort_values(ascending=False, kind="mergesort").index
    bump = pd.Series(0, index=values.index)
    if missing > 0:
        bump[order[:missing]] = 1
    elif missing < 0:
        bump[order[::-1][:-missing]] = -1
    return (floors + bump) / 100


MONEY_SUFFIXES = ("cost", "savings", "total", "difference", "unblended", "commitment", "amount")


def money_columns(df: pd.DataFrame, also: Iterable[str] = ()) -> list[str]:
    """The numeric columns of `df` that hold money, by name (`unblended_cost`, `savings`, ...), plus `also`."""
    extra = set(also)
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])
            and (str(c).lower().endswith(MONEY_SUFFIXES) or c in extra)]


def round_money_columns(df: pd.DataFrame, columns: Iterable[str], total_row: pd.Series | None = None) -> pd.DataFrame:
    """A copy of `df` for a CSV: money columns rounded to the cent.

    With `total_row` (a boolean mask of the total rows), the other rows are rounded so that
    they add up to the rounded total exactly, as a spreadsheet SUM() will check; without one,
    they add up to the rounded sum of the exact amounts.
    """
    out = df.copy()
    for column in columns:
        if column not in out.columns:
            continue
        if total_row is None or not total_row.any():
            # No total row: the rounded rows still sum to the rounded sum of the exact ones.
            out[column] = round_to_total(out[column].astype(float)) if len(out) else out[column]
            continue
        total = round(float(out.loc[total_row, column].sum()), 2)
        out.loc[total_row, column] = total
        out.loc[~total_row, column] = round_to_total(out.loc[~total_row, column], total)
    return out
