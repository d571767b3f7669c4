"""How failures reach the user: one short message, never a traceback."""

from __future__ import annotations

import logging

import streamlit as st

from daivi_data.errors import DaiviError
from daivi_ui.text import literal

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 2_000


def show_error(error: Exception) -> None:
    """Render an error as a short message with what to do next."""
    if isinstance(error, DaiviError):
        st.error(f"**{literal(error.title)}.** {literal(error, MAX_ERROR_CHARS)}", icon=":material/error:")
    else:
        # Unexpected: log the details for the maintainers, show the user a calm line.
        log.exception("unexpected error")
        st.error("**Unexpected error.** The details were logged; please try again or report it.", icon=":material/error:")


def stop_with_error(error: Exception) -> None:
    show_error(error)
    st.stop()
