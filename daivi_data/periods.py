"""The billing calendar: billing periods (YYYY-MM), month and quarter bounds, the open month.

One module for what "a period" means, used by the queries, the analysis, the lakehouse and imports.
"""

from __future__ import annotations

import datetime as dt

from daivi_data.errors import InvalidRequest


def billing_period(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    return add_months(quarter_start(day), 3) - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` shifted by whole months, clamped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def open_day(as_of: dt.date) -> dt.date:
    """The first day without complete data: its month and quarter are the open ones to forecast.

    On the 1st of a month (as_of the last day of the previous one) the previous month is closed:
    its cost is final, and the forecast moves on to the new month and quarter.
    """
    return as_of + dt.timedelta(days=1)


LATE_BILLING_MONTHS = 1  # a charge may be billed in the period after its usage day (FOCUS ChargePeriod vs BillingPeriod)


def billing_periods_between(start: dt.date, end: dt.date) -> tuple[str, ...]:
    """Every 'YYYY-MM' partition that may hold a day of [start, end]: the partition predicate.

    `cost_daily` is partitioned by the CUR billing period that billed a charge, so the
    period after the range is read too (a late charge sits there, on its own usage day).
    """
    if start > end:
        raise InvalidRequest(f"Start date {start} is after end date {end}.")
    periods = []
    cursor = month_start(start)
    while cursor <= add_months(month_start(end), LATE_BILLING_MONTHS):
        periods.append(billing_period(cursor))
        cursor = add_months(cursor, 1)
    return tuple(periods)
