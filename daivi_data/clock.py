"""Today's date and the current time for every view, in UTC, with two overrides.

- `DAIVI_TODAY=YYYY-MM-DD` freezes the calendar day (the time of day still runs),
  so "previous month on the 1st of a month" can be shown and tested on any day.
- `DAIVI_TEST_NOW=YYYY-MM-DDTHH:MM:SSZ` stops the clock at one UTC instant. The test
  session sets it once when it starts (tests/conftest.py), so every test, and the
  Streamlit servers and command lines the tests start (they inherit the environment),
  read the same "today", even across midnight UTC.

Both are read only when set. `DAIVI_TEST_NOW` is for tests only: a deployment on AWS
signs in through the load balancer (`DAIVI_AUTH_MODE=proxy`, deploy/stack.py), and a
stopped clock there is refused (an error on every page) rather than served; a malformed
value is refused too, never read as "now".
"""

from __future__ import annotations

import datetime as dt
import os

from daivi_data.errors import SettingsError

ENV = "DAIVI_TODAY"
TEST_NOW_ENV = "DAIVI_TEST_NOW"


def stopped_clock_value(instant: dt.datetime) -> str:
    """The `DAIVI_TEST_NOW` value that stops the clock at `instant` (an aware datetime)."""
    return instant.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stopped_at() -> dt.datetime | None:
    """The instant `DAIVI_TEST_NOW` names, naive UTC, or None when it is not set."""
    value = os.environ.get(TEST_NOW_ENV, "").strip()
    if not value:
        return None
    if os.environ.get("DAIVI_AUTH_MODE", "").strip() == "proxy":
        raise SettingsError(f"{TEST_NOW_ENV} stops the clock for tests; it is refused with DAIVI_AUTH_MODE=proxy (a deployment). Unset it.")
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        instant = None
    if instant is None or instant.utcoffset() != dt.timedelta(0):
        raise SettingsError(f"{TEST_NOW_ENV}={value[:30]!r} is not a UTC instant: use YYYY-MM-DDTHH:MM:SSZ, or unset it.")
    return instant.replace(tzinfo=None)


def _utc_now() -> dt.datetime:
    """The current time (or the test session's instant), naive UTC, whole seconds."""
    return _stopped_at() or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """The current UTC date, or the date `DAIVI_TODAY` names."""
    frozen = os.environ.get(ENV, "").strip()
    if not frozen:
        return _utc_now().date()
    try:
        return dt.date.fromisoformat(frozen)
    except ValueError:
        raise SettingsError(f"{ENV}={frozen[:20]!r} is not a date: use YYYY-MM-DD, or unset it.") from None


def now() -> dt.datetime:
    """The current UTC time as a naive datetime (the lakehouses store UTC), on `today()`'s date."""
    return dt.datetime.combine(today(), _utc_now().time())
