"""The SQL workbench page model: history, result captions, quick-chart defaults and an embed's figures.

Pure and Streamlit-free; the guard itself (parse, refuse, limit) is `daivi_data.workbench`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from daivi_data.engines.base import QueryStats, format_bytes

HISTORY_SIZE = 10
MAX_COLOR_GROUPS = 30  # more groups than this make an unreadable legend
MAX_KPIS = 6  # an embed's `show=kpis` tiles: the columns of a one-row result, at most this many
NO_COLOR = "(none)"
EDITOR_HELP = ("One read-only SELECT / WITH query, run under your role's grants. Tables are `database.table` (see the catalog). "
               "The query is kept in the URL so you can share it.")


def editor_placeholder(as_of: dt.date) -> str:
    return ("SELECT service_code, SUM(unblended_cost) AS cost\nFROM daivi_billing.cost_daily\n"
            f"WHERE billing_period = '{as_of:%Y-%m}'\nGROUP BY 1 ORDER BY 2 DESC")


def rows_text(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def limits_caption(row_limit: int, timeout_s: float) -> str:
    return (f"Read-only · at most **{row_limit:,} rows** are shown (a LIMIT is added when the query has none) · "
            f"runs stop after {timeout_s:.0f} s.")


def with_history(history: list[dict], sql: str, outcome: str, at: str) -> list[dict]:
    """The session's history after a run: newest first, one entry per distinct query, at most HISTORY_SIZE."""
    if history and history[0]["sql"] == sql and history[0]["outcome"] == outcome:
        return history  # a rerun (e.g. a chart option changed), not a new run
    return [{"sql": sql, "outcome": outcome, "at": at}, *(h for h in history if h["sql"] != sql)][:HISTORY_SIZE]


def confirm_key(sql: str) -> str:
    """The widget key of a full-scan confirmation: one per query text (agreeing to one scan is not agreeing to the next)."""
    return "wb_confirm_scan_" + hashlib.sha256(sql.encode()).hexdigest()[:12]


def result_caption(stats: QueryStats, rows: int) -> str:
    cached = " · from cache" if stats.cached else ""
    if stats.bytes_scanned is not None:
        cost = f", ${stats.cost_usd:.4f}" if stats.cost_usd is not None else ""
        return f"Scanned **{format_bytes(stats.bytes_scanned)}**{cost} · {rows_text(rows)} in {stats.elapsed_s:.2f} s{cached}"
    return f"**{rows_text(rows)}** in {stats.elapsed_s:.2f} s on the embedded engine{cached}"


def truncation_warning(row_limit: int) -> str:
    return (f"The result has more than {row_limit:,} rows: showing the first {row_limit:,}. "
            "Aggregate, filter or add a LIMIT to see what matters.")


def embed_summary(sql: str) -> str:
    """An embed's one line over its folded editor: the query's first line."""
    first = next((line.strip() for line in sql.splitlines() if line.strip()), "")
    return f"SQL: {first}" if first else "SQL: the editor is empty"


# --- the quick chart ----------------------------------------------------------------------------


def numeric_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def chartable(df: pd.DataFrame) -> bool:
    """A quick chart needs a numeric column and at least two columns."""
    return bool(numeric_columns(df)) and len(df.columns) >= 2


def default_x(df: pd.DataFrame) -> str:
    """The first text column (a category to plot over), else the first column."""
    numbers = numeric_columns(df)
    return next((str(c) for c in df.columns if c not in numbers), str(df.columns[0]))


def y_options(df: pd.DataFrame, x: str) -> list[str]:
    numbers = numeric_columns(df)
    return [c for c in numbers if c != x] or numbers


def color_options(df: pd.DataFrame, x: str, y: str) -> list[str]:
    return [NO_COLOR, *(c for c in df.columns if c not in (x, y))]


def default_color(df: pd.DataFrame, options: list[str]) -> str:
    """A second text column with few values (team, service, ...) makes a useful default grouping."""
    numbers = numeric_columns(df)
    return next((c for c in options[1:] if c not in numbers and df[c].nunique() <= MAX_COLOR_GROUPS), NO_COLOR)


@dataclass(frozen=True)
class ChartChoice:
    x: str
    y: str
    color: str | None
    kind: str = "bar"


def default_chart(df: pd.DataFrame) -> ChartChoice:
    """The chart an embed draws without its options: the defaults the option boxes start from."""
    x = default_x(df)
    y = y_options(df, x)[-1]
    color = default_color(df, color_options(df, x, y))
    return ChartChoice(x, y, None if color == NO_COLOR else color)


def kpi_tiles(df: pd.DataFrame) -> list[tuple[str, object]]:
    """`show=kpis`: each column of a one-row result as a tile; any other result, its row count."""
    if len(df) == 1:
        return [(str(c), df[c].iloc[0]) for c in list(df.columns)[:MAX_KPIS]]
    return [("Rows", len(df))]


def kpi_text(value: object) -> str:
    """A tile's figure: whole numbers with separators, other numbers to two decimals, a dash for nothing."""
    if value is None or (isinstance(value, numbers.Real) and pd.isna(value)):
        return "–"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return str(value)
    return f"{value:,}" if isinstance(value, numbers.Integral) else f"{value:,.2f}"
