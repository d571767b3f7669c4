"""Typed errors of the data module.

Each carries a short, user-facing message (what happened and what to do next)
that pages show as is. Messages never contain credentials, tokens or tracebacks.
"""

from __future__ import annotations


class DaiviError(Exception):
    """Base class: `str(error)` is safe to show to the user."""

    title = "Something went wrong"


class SettingsError(DaiviError):
    title = "Configuration error"


class InvalidRequest(DaiviError):
    """Bad input from a user: an unknown dimension, a wrong type, a bad range."""

    title = "Invalid input"


class AccessDenied(DaiviError):
    """The principal may not read a table or column (Lake Formation would refuse too)."""

    title = "Access denied"


class DataUnavailable(DaiviError):
    """The lakehouse is missing, half written or corrupt."""

    title = "Data unavailable"


class QueryFailed(DaiviError):
    title = "Query failed"


class BytesLimitExceeded(QueryFailed):
    """Athena's workgroup stopped the query at its per-query bytes-scanned limit."""

    title = "Query too large"


class QueryTimeout(DaiviError):
    title = "Query timed out"


class Throttled(DaiviError):
    title = "Too many requests"


class NotSignedIn(DaiviError):
    title = "Not signed in"
