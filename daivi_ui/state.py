"""View state in the URL.

Widgets bind themselves to query parameters (`bind="query-params"`, keyed by
the widget key), so a URL reproduces a view. Streamlit drops invalid bound
values silently; `check_url_param` says so to the user first.

A bound widget stores its *shown* text in the URL, so a widget that shows
labels ("Last 30 days") for short keys (`last-30-days`) cannot be bound:
`labelled_choice` keeps the key in the URL itself, reads old links that carry a
key (or a label), and shows the label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

import streamlit as st

from daivi_ui.text import literal

URL: Final = "query-params"
_SEEN = "_url_seen_{}"  # the URL value a labelled choice last read or wrote


def url_values(key: str) -> list[str]:
    """Raw values of a query parameter (repeated or comma-separated)."""
    try:
        raw = st.query_params.get_all(key)
    except Exception:  # a bound parameter may be hidden from st.query_params
        return []
    return [part for value in raw for part in value.split(",") if part != ""]


def invalid_url_value_notice(values: Iterable[str], label: str) -> None:
    """The notice for URL values a view ignores; the values shown literally (they come from whoever wrote the link)."""
    shown = ", ".join(f"'{literal(v, 40)}'" for v in list(values)[:5])
    st.info(f"Ignored invalid value {shown} for **{literal(label)}** in the URL; using the default.", icon=":material/info:")


def check_url_param(key: str, valid: Iterable[str] | Callable[[str], bool], label: str | None = None) -> None:
    """Show a notice when the URL carries values for `key` that the view will ignore."""
    values = url_values(key)
    if not values:
        return
    is_valid = valid if callable(valid) else set(map(str, valid)).__contains__
    bad = [v for v in values if not is_valid(v)]
    if bad:
        invalid_url_value_notice(bad, label or key)


def _option_for(text: str, labels: Mapping[str, str]) -> str | None:
    """The option a URL value names: its key, or (a link made while labels were in the URL) its label."""
    if text in labels:
        return text
    by_label = {label.casefold(): key for key, label in labels.items()}
    return by_label.get(text.strip().casefold())


def sync_choice_from_url(key: str, labels: Mapping[str, str], default: str, what: str,
                         on_invalid: Callable[[str], None] | None = None, sticky: bool = False) -> str:
    """The option a labelled choice holds in this run, after reading a URL that changed from outside.

    The URL wins when it differs from what this session last read or wrote there
    (a link was opened, the user went back, or a page switch dropped it). A `sticky`
    choice (the sign-in persona, drawn on every page) keeps its value when a page
    switch drops the parameter, and puts it back.
    """
    raw = st.query_params.get(key)
    seen_key = _SEEN.format(key)
    if raw is None and sticky and st.session_state.get(key) in labels:
        return st.session_state[key]
    if raw != st.session_state.get(seen_key, "\x00unset"):
        option = default if raw is None else _option_for(raw, labels)
        if option is None and raw is not None:  # (raw is None gives the default, never None)
            (on_invalid or (lambda value: invalid_url_value_notice([value], what)))(raw)
            option = default
        st.session_state[key] = option
        st.session_state[seen_key] = raw
    if st.session_state.get(key) not in labels:
        st.session_state[key] = default
    return st.session_state[key]


def write_choice_to_url(key: str, value: str | None, default: str) -> None:
    """Keep the option's key in the URL, and no parameter at all for the default (short links)."""
    seen_key = _SEEN.format(key)
    if value is None or value == default:
        if key in st.query_params:
            del st.query_params[key]
        st.session_state[seen_key] = None
        return
    if st.query_params.get(key) != value:
        st.query_params[key] = value
    st.session_state[seen_key] = value


def labelled_choice(widget: Callable, label: str, labels: Mapping[str, str], *, key: str, default: str | None = None,
                    what: str | None = None, on_invalid: Callable[[str], None] | None = None, sticky: bool = False,
                    **kwargs) -> str:
    """A selectbox / radio / segmented control that shows labels while the URL keeps the option keys.

    `widget` is the widget function (`st.selectbox`, `column.segmented_control`, ...);
    `labels` maps each option key to what the screen shows. Returns the chosen key.
    Pass the widget's other arguments (help, on_change, disabled, ...) as keywords. An invalid URL
    value gets a notice naming `what` (or the label), or whatever `on_invalid(value)` shows instead.
    """
    default = default if default is not None else next(iter(labels))
    sync_choice_from_url(key, labels, default, what or label.lower(), on_invalid, sticky)
    if widget.__name__ == "segmented_control":
        kwargs.setdefault("required", True)
    value = widget(label, list(labels), format_func=labels.__getitem__, key=key, **kwargs)
    write_choice_to_url(key, value, default)
    return value if value is not None else default


def peek_choice(key: str, labels: Mapping[str, str], default: str) -> str:
    """The option a labelled choice will hold when drawn later in this run (for a summary drawn above it)."""
    raw = st.query_params.get(key)
    if raw != st.session_state.get(_SEEN.format(key), "\x00unset"):
        return (_option_for(raw, labels) or default) if raw is not None else default
    value = st.session_state.get(key)
    return value if isinstance(value, str) and value in labels else default


def labelled_multichoice(widget: Callable, label: str, labels: Mapping[str, str], *, key: str, default: list[str],
                         what: str | None = None, **kwargs) -> list[str]:
    """A multiselect that shows labels while the URL keeps the option keys (`?cols=host,severity`).

    Like `labelled_choice`: a URL that changed from outside wins (keys or labels, repeated or
    comma-separated); unknown values get a notice; the default leaves no parameter.
    """
    seen_key = _SEEN.format(key)
    raw = ",".join(st.query_params.get_all(key)) if key in st.query_params else None  # "" is "none chosen"
    if raw != st.session_state.get(seen_key, "\x00unset"):
        chosen = [_option_for(v, labels) for v in url_values(key)]
        bad = [v for v, option in zip(url_values(key), chosen, strict=True) if option is None]
        if bad:
            invalid_url_value_notice(bad, what or label.lower())
        st.session_state[key] = [o for o in dict.fromkeys(chosen) if o is not None] or list(default)
        st.session_state[seen_key] = raw
    value = widget(label, list(labels), format_func=labels.__getitem__, key=key, **kwargs)
    written = None if list(value) == list(default) else ",".join(value)
    if written is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != written:
        st.query_params[key] = written
    st.session_state[seen_key] = written
    return list(value)

