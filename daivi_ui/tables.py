"""Tables as people read them: human headers, Yes/No, blanks for missing values, one money and percent format.

`show_table(df, key=..., column_config=...)` is `st.dataframe` with every column
that has no label of its own given a human header (`account_id` -> "Account ID"),
booleans shown as Yes/No and missing text as a blank instead of "None". The
frame's own column names stay as they are, so code and tests keep using them.

Negative money and percentages read with a true minus sign (−$1,207.13, −4.2%), as on the
rest of the screen. Streamlit's number formats cannot write one (its presets and printf
formats write a hyphen), so a table whose money or percent columns hold a negative value
gets its cells' text from a pandas Styler: the column keeps its numbers, so it still sorts
as numbers and `st.dataframe` returns them. A Styler costs about 10 µs a cell on every rerun,
so tables over `MAX_STYLED_CELLS` keep Streamlit's formats (and its hyphen).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from daivi_data.currency import COLUMN_FORMATS, DEFAULT_CURRENCY, column_format
from daivi_ui import format as fmt

# Words that are not just the column name with spaces: ids, acronyms, the cost bases' names.
HEADERS: dict[str, str] = {
    "account_id": "Account ID", "account_name": "Account", "account_label": "Account", "resource_id": "Resource ID",
    "resource_name": "Name", "resource_type": "Type", "arn": "ARN", "ou": "OU", "usage_type": "Usage type",
    "unblended_cost": "Unblended", "amortized_cost": "Amortized", "net_cost": "Net unblended",
    "net_unblended_cost": "Net unblended", "public_cost": "Public on-demand", "savings": "Savings vs on-demand",
    "line_items": "Line items", "line_item_type": "Line item type", "line_item_id": "Line item ID",
    "on_demand_cost": "On-demand", "eligible_od_cost": "Eligible on-demand", "ri_covered_od_cost": "Covered by RIs",
    "sp_covered_od_cost": "Covered by SPs", "on_demand_od_cost": "On-demand (not covered)", "ri_coverage": "RI coverage",
    "sp_coverage": "SP coverage", "RI_utilization": "RI utilization", "SP_utilization": "SP utilization",
    "billing_period": "Billing period", "usage_date": "Date", "snapshot_date": "Snapshot", "event_time": "Time (UTC)",
    "usage_gb": "Usage (GB)", "from_region": "From region", "to_region": "To region", "tag_value": "Tag value",
    "direct_cost": "Direct cost", "shared_cost": "Shared cost", "share_of_direct": "Share of direct",
    "monthly_cost": "Monthly cost", "monthly_savings": "Savings per month", "compliance_pct": "Compliance %",
    "client_ip": "Client IP", "created_time": "Created (UTC)", "pct_used": "Used",
}
ACRONYMS = {"id": "ID", "ri": "RI", "sp": "SP", "az": "AZ", "gb": "GB", "ip": "IP", "arn": "ARN", "ou": "OU", "url": "URL",
            "utc": "UTC", "sql": "SQL", "cur": "CUR", "http": "HTTP", "od": "on-demand", "pct": "%", "kms": "KMS", "ebs": "EBS", "ec2": "EC2"}
PERCENT_STEP = 0.001  # Streamlit shows a percent column with (decimals of the step - 2) decimals: one
MAX_STYLED_CELLS = 2_000  # a Styler's cell text costs ~25 ms of every rerun at this size
_PRINTF_CURRENCY = re.compile(r"^%\.2f ([A-Z]{3})$")  # `column_format` of a currency without a Streamlit preset
_PRESET_CURRENCY = {preset: code for code, preset in COLUMN_FORMATS.items()}


def header(name: str) -> str:
    """A column name as a header: `account_id` -> "Account ID", `week_change` -> "Week change"."""
    if name in HEADERS:
        return HEADERS[name]
    words = [ACRONYMS.get(w.lower(), w) for w in str(name).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def money_column(label: str | None = None, currency: str = DEFAULT_CURRENCY, **kwargs) -> ColumnConfig:
    """A money column in `currency`: its sign and cents (none for JPY); in `show_table`, negatives as −$1,207.13."""
    return st.column_config.NumberColumn(label, format=column_format(currency or DEFAULT_CURRENCY), **kwargs)


def percent_column(label: str | None = None, **kwargs) -> ColumnConfig:
    """A ratio column (0.064) shown as a percentage with one decimal (6.4%), as everywhere else."""
    return st.column_config.NumberColumn(label, format="percent", step=PERCENT_STEP, **kwargs)


def readable(df: pd.DataFrame, formatted: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Booleans as Yes/No and missing text as blanks; whole-number columns with gaps (an HTTP status that
    a log line lacks) as text with blanks. Other numbers, dates and the `formatted` columns keep their types."""
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if column not in formatted and _whole_numbers_with_gaps(series):
            # All text (not ints among blanks): Arrow would otherwise fall back to converting a mixed column per rerun.
            out[column] = series.astype("Int64").astype(str).where(series.notna(), "")
            continue
        if pd.api.types.is_bool_dtype(series) or (series.dtype == object and _holds_booleans(series)):
            out[column] = series.map(fmt.yes_no)
        elif isinstance(series.dtype, pd.StringDtype):
            out[column] = series.astype(object).where(series.notna(), "")
        elif series.dtype == object:
            if series.map(lambda v: isinstance(v, (list, dict, tuple))).any():
                continue  # charts in cells (line chart columns) and maps keep their values
            out[column] = series.where(series.notna(), "")
    return out


def _whole_numbers_with_gaps(series: pd.Series) -> bool:
    """A nullable integer column, or a float one holding only whole numbers, with missing values."""
    if not series.isna().any() or pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_integer_dtype(series):
        return True
    values = series.dropna()
    return pd.api.types.is_float_dtype(series) and not values.empty and bool((values == values.round()).all())


def _holds_booleans(series: pd.Series) -> bool:
    values = series.dropna()
    return not values.empty and values.map(lambda v: isinstance(v, bool)).all()


# Counts read with thousands separators (4,774 line items), as in the KPIs; Streamlit writes a bare 4774.
COUNT_COLUMNS = frozenset({"line_items", "events", "resources"})


def labelled_config(df: pd.DataFrame, column_config: dict | None = None) -> dict:
    """`column_config` with a human header for every column of `df` that has no label yet."""
    config = dict(column_config or {})
    for column in df.columns:
        given = config.get(column)
        if given is None and column in COUNT_COLUMNS and pd.api.types.is_integer_dtype(df[column]):
            config[column] = st.column_config.NumberColumn(header(column), format="localized")
        elif given is None:
            config[column] = header(column)
        elif isinstance(given, dict) and not given.get("label"):
            config[column] = {**given, "label": header(column)}
    return config


def _number_format(config: object) -> str | None:
    return (config.get("type_config") or {}).get("format") if isinstance(config, dict) else None


def number_formats(column_config: dict | None) -> tuple[tuple[str, str], ...]:
    """(column, number format) of each configured column that has one: what `minus_sign_formats` reads of a config."""
    return tuple((column, number_format) for column, config in (column_config or {}).items()
                 if (number_format := _number_format(config)) is not None)


def minus_sign_formats(df: pd.DataFrame, column_config: dict | None) -> dict[str, Callable[[object], str]]:
    """The cell text of each money or percent column (by its `money_column`/`percent_column` format) that holds a negative
    number: the same text as everywhere else on screen, with a true minus sign. Empty when nothing is negative."""
    return _minus_sign_formats(df, number_formats(column_config))


def _minus_sign_formats(df: pd.DataFrame, formats_of: tuple[tuple[str, str], ...]) -> dict[str, Callable[[object], str]]:
    formats: dict[str, Callable[[object], str]] = {}
    for column, number_format in formats_of:
        if column not in df.columns or not pd.api.types.is_numeric_dtype(df[column]):
            continue
        if not (df[column] < 0).any():
            continue
        printf = _PRINTF_CURRENCY.match(number_format)
        currency = _PRESET_CURRENCY.get(number_format) or (printf.group(1) if printf else None)
        if currency is not None:
            formats[column] = partial(fmt.money, currency=currency)
        elif number_format == "percent":
            formats[column] = fmt.percent
    return formats


def _holds_collections(df: pd.DataFrame) -> bool:
    return any(df[c].map(lambda v: isinstance(v, (list, dict, tuple))).any() for c in df.columns if df[c].dtype == object)


def _plain_number(value: Any) -> str:
    """A float cell as Streamlit writes it unformatted (at most four decimals, no trailing zeros), a blank for none."""
    if fmt.blank(value) == "":
        return ""
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def _styled(shown: pd.DataFrame, formats: dict[str, Callable[[object], str]], config: dict) -> tuple[object, dict]:
    """`shown` as a Styler whose `formats` columns carry their text, and the config without those columns' number
    formats (a column's format wins over a Styler's text). Other float columns read as Streamlit would write them."""
    floats = {c: _plain_number for c in shown.columns if c not in formats and pd.api.types.is_float_dtype(shown[c])}
    config = {c: ({**v, "type_config": {k: x for k, x in v["type_config"].items() if k != "format"}} if c in formats else v)
              for c, v in config.items()}
    return shown.style.format({**floats, **formats}, na_rep=""), config


@dataclass(frozen=True)
class TableCells:
    """What `show_table` makes of a frame before drawing it: a function of the frame and its column config alone."""

    shown: pd.DataFrame  # `readable(df, formatted)`
    minus_signs: dict[str, Callable[[object], str]]  # the Styler's text per column; empty: Streamlit's own formats


def table_cells(df: pd.DataFrame, formatted: frozenset[str], formats_of: tuple[tuple[str, str], ...]) -> TableCells:
    """`df`'s cells as shown (`formatted`: the configured columns; `formats_of`: `number_formats(column_config)`)."""
    shown = readable(df, formatted)
    formats = _minus_sign_formats(df, formats_of) if df.size <= MAX_STYLED_CELLS else {}
    # A chart in a cell (LineChartColumn) needs its list, not a Styler's text.
    return TableCells(shown, formats if formats and not _holds_collections(shown) else {})


def show_table(df: pd.DataFrame, *, key: str, column_config: dict | None = None, cells: TableCells | None = None, **kwargs):
    """`st.dataframe` with human headers, Yes/No and blanks, negatives with a true minus sign; returns what `st.dataframe` returns.

    `cells` is `table_cells(df, frozenset(column_config), number_formats(column_config))` when the caller has it
    already (cached: `Page.table`)."""
    kwargs.setdefault("hide_index", True)
    if cells is None:
        cells = table_cells(df, frozenset(column_config or ()), number_formats(column_config))
    config = labelled_config(df, column_config)
    shown: object = cells.shown
    if cells.minus_signs:
        shown, config = _styled(cells.shown, cells.minus_signs, config)
    return st.dataframe(shown, key=key, column_config=config, **kwargs)
