"""View state in the URL.

Widgets bind themselves to query parameters (`bind="query-params"`, keyed by
the widget key), so a URL reproduces a view. Streamlit drops invalid bound
values silently; `check_url_param` says so to the user first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st

from daivi_ui.text import literal

URL = "query-params"


def url_values(key: str) -> list[str]:
    """Raw values of a query parameter (repeated or comma-separated)."""
    try:
        raw = st.query_params.get_all(key)
    except Exception:  # a bound parameter may be hidden from st.query_params
        return []
    return [part for value in raw for part in value.split(",") if part != ""]


def check_url_param(key: str, valid: Iterable[str] | Callable[[str], bool], label: str | None = None) -> None:
    """Show a notice when the URL carries values for `key` that the view will ignore."""
    values = url_values(key)
    if not values:
        return
    is_valid = valid if callable(valid) else set(map(str, valid)).__contains__
    bad = [v for v in values if not is_valid(v)]
    if bad:
        shown = ", ".join(f"'{literal(v, 40)}'" for v in bad[:5])
        st.info(f"Ignored invalid value {shown} for **{literal(label or key)}** in the URL; using the default.", icon=":material/info:")
