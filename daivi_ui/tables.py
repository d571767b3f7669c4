"""Tables as people read them: human headers, Yes/No, blanks for missing values, one money and percent format.

`show_table(df, key=..., column_config=...)` is `st.dataframe` with every column
that has no label of its own given a human header (`account_id` -> "Account ID"),
booleans shown as Yes/No and missing text as a blank instead of "None". The
frame's own column names stay as they are, so code and tests keep using them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from daivi_data.currency import DEFAULT_CURRENCY, column_format
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
            "utc": "UTC", "sql": "SQL", "http": "HTTP", "od": "on-demand", "pct": "%", "kms": "KMS", "ebs": "EBS", "ec2": "EC2"}
PERCENT_STEP = 0.001  # Streamlit shows a percent column with (decimals of the step - 2) decimals: one


def header(name: str) -> str:
    """A column name as a header: `account_id` -> "Account ID", `week_change` -> "Week change"."""
    if name in HEADERS:
        return HEADERS[name]
    words = [ACRONYMS.get(w.lower(), w) for w in str(name).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def money_column(label: str | None = None, currency: str = "USD", **kwargs) -> dict:
    """A money column: two decimals with the currency's sign."""
    return st.column_config.NumberColumn(label, format=column_format(currency or DEFAULT_CURRENCY), **kwargs)


def percent_column(label: str | None = None, **kwargs) -> dict:
    """A ratio column (0.064) shown as a percentage with one decimal (6.4%), as everywhere else."""
    return st.column_config.NumberColumn(label, format="percent", step=PERCENT_STEP, **kwargs)


def readable(df: pd.DataFrame, formatted: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Booleans as Yes/No and missing text as blanks; whole-number columns with gaps (an HTTP status that
    a log line lacks) as text with blanks. Other numbers, dates and the `formatted` columns keep their types."""
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if column not in formatted and _whole_numbers_with_gaps(series):
            out[column] = series.astype("Int64").astype(object).where(series.notna(), "")
            continue
        if pd.api.types.is_bool_dtype(series) or (series.dtype == object and _holds_booleans(series)):
            out[column] = series.map(fmt.yes_no)
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            if series.map(lambda v: isinstance(v, (list, dict, tuple))).any():
                continue  # charts in cells (line chart columns) and maps keep their values
            out[column] = series.map(lambda v: "" if fmt.blank(v) == "" else v)
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


def labelled_config(df: pd.DataFrame, column_config: dict | None = None) -> dict:
    """`column_config` with a human header for every column of `df` that has no label yet."""
    config = dict(column_config or {})
    for column in df.columns:
        given = config.get(column)
        if given is None:
            config[column] = header(column)
        elif isinstance(given, dict) and not given.get("label"):
            config[column] = {**given, "label": header(column)}
    return config


def show_table(df: pd.DataFrame, *, key: str, column_config: dict | None = None, **kwargs):
    """`st.dataframe` with human headers, Yes/No and blanks; returns what `st.dataframe` returns."""
    kwargs.setdefault("hide_index", True)
    return st.dataframe(readable(df, frozenset(column_config or ())), key=key, column_config=labelled_config(df, column_config),
                        **kwargs)
