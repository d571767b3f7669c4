"""Today's date for every view, in UTC, with one override for demos and tests.

`DAIVI_TODAY=YYYY-MM-DD` freezes the calendar day (the time of day still runs),
so "previous month on the 1st of a month" can be shown and tested on any day.
"""

from __future__ import annotations

import datetime as dt
import os

from daivi_data.errors import SettingsError

ENV = "DAIVI_TODAY"


def today() -> dt.date:
    """The current UTC date, or the date `DAIVI_TODAY` names."""
    frozen = os.environ.get(ENV, "").strip()
    if not frozen:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(frozen)
    except ValueError:
        raise SettingsError(f"{ENV}={frozen[:20]!r} is not a date: use YYYY-MM-DD, or unset it.") from None


def now() -> dt.datetime:
    """The current UTC time as a naive datetime (the lakehouses store UTC), on `today()`'s date."""
    current = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return dt.datetime.combine(today(), current.time())
