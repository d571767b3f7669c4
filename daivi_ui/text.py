"""The one escaping path for text that comes from a URL or from data.

Streamlit renders Markdown in notices, captions, subheaders and widget labels:
links, images (which the browser fetches), LaTeX, `:color[...]` directives and
emoji codes. A value from the URL or from the lakehouse (a resource name, a log
field, a tag) goes through `literal()` before it reaches any of them, so it
shows as the characters it is and nothing else. Downloads go through
`csv_bytes()`, which neutralizes cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pandas as pd
import plotly.graph_objects as go

# CommonMark lets any ASCII punctuation be escaped with a backslash; Streamlit's own
# directives (`:red[…]`, `:material/…:`, emoji `:smile:`) and LaTeX (`$…$`) are made of it too.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'^%@;,/?])")
# Line breaks and other control characters: a value is shown on one line (no heading, list or code block).
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# Streamlit turns bare URLs, `www.` names and e-mail addresses in rendered text into links, escaped or
# not; an invisible word joiner inside each (after `:`, before `.` and `@`) leaves them plain text.
_AUTOLINK_TRIGGERS = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?=@)")
WORD_JOINER = "\u2060"
MAX_LITERAL_CHARS = 500
P = ParamSpec("P")  # a notice quotes a value; it does not reprint a whole log event

# OWASP CSV injection: a cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def literal(value: object, max_chars: int = MAX_LITERAL_CHARS) -> str:
    """`value` as Markdown that shows exactly its characters: special characters escaped, on one line, never a link."""
    text = _CONTROL.sub(" ", str(value)).strip()
    if len(text) > max_chars:
        text = text[:max_chars] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK_TRIGGERS.sub(WORD_JOINER, text))


def code_literal(value: object, max_chars: int = MAX_LITERAL_CHARS) -> str:
    """`value` as an inline code span (monospace), which Markdown never interprets: fenced by more backticks than it holds."""
    text = _CONTROL.sub(" ", str(value)).strip()
    if len(text) > max_chars:
        text = text[:max_chars] + "…"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def neutralize_formula(value: object) -> object:
    """A text cell that would start a spreadsheet formula, prefixed with a quote (OWASP); anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(df: pd.DataFrame) -> bytes:
    """`df` as UTF-8 CSV with every text cell and header that could run as a formula neutralized.

    Numbers stay numbers: only text cells are touched (a negative amount is a number, not a formula).
    """
    safe = df.copy()
    safe.columns = [neutralize_formula(str(c)) for c in safe.columns]
    for column in safe.columns:
        series = safe[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            safe[column] = series.map(neutralize_formula)
    # Text quoted always: pandas leaves a lone carriage return unquoted, which splits the row in a spreadsheet.
    return safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


# --- charts -------------------------------------------------------------------------------------------
# Plotly draws labels, hover text and legend names as its own pseudo-HTML: `<a href>` becomes a
# link and `<b>` bold. Data values are entity-escaped, which plotly shows as the characters again.
_PLOTLY_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_TRACE_TEXT = ("x", "y", "text", "hovertext", "labels", "ids", "parents", "customdata", "name", "legendgroup")


_Shown = TypeVar("_Shown")


def plotly_text(value: _Shown) -> _Shown:
    """A string as plotly text that shows its characters (no tags, no links); anything else as is."""
    return value.translate(_PLOTLY_ENTITIES) if isinstance(value, str) else value  # type: ignore[return-value]


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return plotly_text(value)
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value if isinstance(value, (list, tuple)) else value.tolist()
        if any(isinstance(v, (str, list, tuple)) for v in items):
            return [_escaped(v) for v in items]
    return value


def literal_figure(fig: go.Figure) -> go.Figure:
    """`fig` with every data-derived text (categories, labels, hover text, names, titles) shown literally."""
    for trace in fig.data:
        for attr in _TRACE_TEXT:
            if attr in trace and trace[attr] is not None:
                trace[attr] = _escaped(trace[attr])
        for part in ("node", "link"):  # Sankey
            if part in trace and trace[part] is not None and trace[part]["label"] is not None:
                trace[part]["label"] = _escaped(trace[part]["label"])
    for axis in [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
        for attr in ("categoryarray", "ticktext"):
            if fig.layout[axis][attr] is not None:
                fig.layout[axis][attr] = _escaped(fig.layout[axis][attr])
        if fig.layout[axis].title.text:
            fig.layout[axis].title.text = plotly_text(fig.layout[axis].title.text)
    if fig.layout.title.text:
        fig.layout.title.text = plotly_text(fig.layout.title.text)
    for annotation in fig.layout.annotations or ():
        annotation.text = plotly_text(annotation.text)
    return fig


def literal_labels(build: Callable[P, go.Figure]) -> Callable[P, go.Figure]:
    """Decorator for figure builders: the figure they return shows data text literally (`literal_figure`)."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        return literal_figure(build(*args, **kwargs))

    return wrapper
