"""Small shared widgets: query stats, CSV export, KPI row, empty state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd
import streamlit as st

from daivi_data.engines import QueryResult
from daivi_data.errors import DaiviError
from daivi_ui import format as fmt
from daivi_ui.errors import show_error
from daivi_ui.text import csv_bytes


def show_query_stats(results: Iterable[QueryResult]) -> None:
    """One caption line for all queries behind a view: rows, time, and bytes/cost on Athena."""
    results = list(results)
    if not results:
        return
    rows = sum(r.stats.rows for r in results)
    elapsed = sum(r.stats.elapsed_s for r in results)
    cached = sum(r.stats.cached for r in results)
    text = f"{len(results)} queries · {rows:,} rows · {elapsed:.2f} s engine time"
    scanned = [r.stats.bytes_scanned for r in results if r.stats.bytes_scanned is not None]
    if scanned:
        from daivi_data.engines.base import format_bytes

        cost = sum(r.stats.cost_usd or 0.0 for r in results)
        text += f" · scanned {format_bytes(sum(scanned))}, ${cost:.4f}"
    if cached:
        text += f" · {cached} from cache"
    st.caption(text)


def csv_download(df: pd.DataFrame | Callable[[], pd.DataFrame], file_name: str, label: str = "Download CSV",
                 key: str | None = None, help: str | None = None, currency: str | None = None, *,
                 cents: bool = False, money_also: Iterable[str] = (), total_row: pd.Series | None = None) -> None:
    """A CSV button whose file is made when it is clicked (a rerun does not turn 20k rows into text).

    `df` may be a function, for an export whose query should run only on the click. Every
    download goes through `csv_bytes`: text cells that a spreadsheet would run as formulas are neutralized.
    Amounts in `currency` carry it in a `currency` column, so a CSV never loses which currency it is in.
    With `cents`, the money columns (by name, and `money_also`) are rounded to the cent and still add up:
    to the `total_row` rows (a boolean mask), if any.
    """

    def frame() -> pd.DataFrame:
        data = df() if callable(df) else df
        if cents:
            data = fmt.round_money_columns(data, fmt.money_columns(data, also=money_also), total_row)
        return data.assign(currency=currency) if currency is not None and "currency" not in data.columns else data

    st.download_button(label, data=lambda: csv_bytes(frame()), file_name=file_name, mime="text/csv",
                       key=key or f"download-{file_name}", icon=":material/download:", on_click="ignore", help=help)


def empty_state(message: str) -> None:
    st.info(message, icon=":material/search_off:")


def format_money(value: float | None, currency: str = "USD") -> str:
    """The exact amount (−$1,207.13); kept here for callers of the old name, see `daivi_ui.format`."""
    return fmt.money(value, currency)


def draw_open_tabs(tabs: Mapping[str, AbstractContextManager[Any]], draw: Mapping[str, Callable[[], None]]) -> None:
    """Draw only the open tabs of URL-bound `st.tabs`, so a closed tab runs no query.

    A `DaiviError` in one tab is shown inside that tab and leaves the others alone.
    """
    for label, draw_tab in draw.items():
        container = tabs[label]
        if getattr(container, "open", True):  # a plain container (an embed without tabs) is always open
            with container:
                try:
                    draw_tab()
                except DaiviError as e:
                    show_error(e)


KPI_MIN_WIDTH_PX = 160  # five tiles fit a 900 px embed; narrower screens wrap them onto a second line
# A tile's label is cut with an ellipsis past its width less the padding and help icon (54 px of a 160 px tile);
# a 14 px label averages about 6.2 px a character, so a long label widens its tile rather than losing its end.
LABEL_PX_PER_CHAR = 6.5
TILE_CHROME_PX = 56


def kpi_width(label: str) -> int:
    """The width of a KPI tile whose label is shown whole: `KPI_MIN_WIDTH_PX`, or wider for a long label."""
    return max(KPI_MIN_WIDTH_PX, round(LABEL_PX_PER_CHAR * len(label)) + TILE_CHROME_PX)


def kpi_row():
    """A row of KPI tiles that wraps instead of cutting figures (an 800 px window, a 900 px iframe)."""
    return st.container(horizontal=True, gap="small")


def cost_change_delta(change: float | None) -> dict:
    """`st.metric`'s delta arguments for a relative change in cost: "−5.2%" with a true minus sign, as every other
    figure on screen. Streamlit takes only a leading hyphen for a fall, so the arrow and colour are set from the
    number itself: a rise up and red, a fall down and green, no change grey."""
    text = fmt.percent(change, signed=True)
    if change is None or text == fmt.MISSING:
        return {"delta": None}
    if text.strip("+" + fmt.MINUS) == fmt.percent(0.0):
        return {"delta": text, "delta_arrow": "off", "delta_color": "gray"}
    rise = change > 0
    return {"delta": text, "delta_arrow": "up" if rise else "down", "delta_color": "red" if rise else "green"}


def money_kpi(row, label: str, value: float | None, *, currency: str = "USD", delta: str | None = None,
              help: str | None = None, **kwargs) -> None:
    """A KPI tile with the amount short enough to fit ($324.3k) and the exact amount in its help."""
    exact = fmt.money(value, currency)
    row.metric(label, fmt.money_short(value, currency), delta, help=f"{exact}. {help}" if help else f"{exact}.",
               border=True, width=kpi_width(label), **kwargs)


def kpi(row, label: str, value: str, delta: str | None = None, **kwargs) -> None:
    """A KPI tile that is not money (a count, a percentage), the same size as `money_kpi`'s."""
    row.metric(label, value, delta, border=True, width=kpi_width(label), **kwargs)
