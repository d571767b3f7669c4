"""The shapes MCP tools return: JSON-safe rows, pages, and the envelope every result shares.

Every value a row holds is a JSON scalar, list or object: dates and times as
ISO 8601 text, missing values as null, maps (tags) as objects. Text from the
data (names, tags, log messages) stays a field value; nothing here joins it
into prose.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

MAX_PAGE_ROWS = 500  # rows one tool call returns at most
DEFAULT_PAGE_ROWS = 50
MAX_OFFSET = 100_000
CURRENCY = "USD"  # inventory cost figures: the CUR sums the inventory view shows (dollar-billed accounts)


class CallStats(BaseModel):
    """What the call cost: queries run (and served from the cache), bytes scanned on Athena and its price."""

    queries: int
    cached: int
    bytes_scanned: int = Field(description="Bytes Athena scanned for this call (0 on the embedded engine or when cached).")
    cost_usd: float = Field(description="What Athena charged for those bytes, in USD.")


class Caller(BaseModel):
    """Who the answer is for: the grants role the call ran under."""

    email: str
    role: str


class Page(BaseModel):
    offset: int
    limit: int
    total_rows: int = Field(description="Rows there are in all (before paging).")
    next_offset: int | None = Field(description="Pass as `offset` for the next page; null on the last page.")


class ToolResult(BaseModel):
    """The envelope every tool result shares."""

    caller: Caller
    stats: CallStats
    notes: list[str] = Field(default_factory=list, description="Adjustments made to the request (a clamped date range, …).")


def json_value(value: object) -> Any:
    """One cell as a JSON value (None for NaN/NaT/NA)."""
    if value is None:
        return None
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        # DuckDB and PyArrow hand a map over as a list of (key, value) pairs or {"key", "value"} dicts.
        if items and all(isinstance(i, dict) and set(i) == {"key", "value"} for i in items):
            return {str(i["key"]): json_value(i["value"]) for i in items}
        return [json_value(v) for v in items]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as JSON objects, column names as keys."""
    columns = [str(c) for c in df.columns]
    return [dict(zip(columns, (json_value(v) for v in row), strict=True)) for row in df.itertuples(index=False, name=None)]


def page_of(df: pd.DataFrame, offset: int, limit: int) -> tuple[list[dict[str, Any]], Page]:
    """Rows [offset, offset + limit) of a frame the query returned whole, and where the next page starts."""
    total = len(df)
    rows = records(df.iloc[offset:offset + limit])
    following = offset + limit if offset + limit < total else None
    return rows, Page(offset=offset, limit=limit, total_rows=total, next_offset=following)
