"""The Home page model: one card per lakehouse, its headline figure anchored where the data ends, as the views do.

Streamlit-free. `views/home.py` runs the queries each card needs (named here) and lays out the
`Card` the functions below return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from daivi_data.data_span import data_end_note, minute_after

# lakehouse -> (database, table, blurb)
CARDS = {
    "billing": ("daivi_billing", "cost_daily", "Daily AWS cost"),
    "cur": ("daivi_cur", "cur", "Cost and Usage Report line items"),
    "inventory": ("daivi_inventory", "resources", "Every AWS resource, daily snapshots"),
    "splunk": ("daivi_splunk", "events", "Log events exported from Splunk"),
}
TITLES = {"billing": "Billing", "cur": "Billing CUR", "inventory": "Inventory", "splunk": "Splunk"}
# The figure a card shows is the one its view opens with: the same range, basis and anchoring.
VIEW_PARAMS = {"billing": {"range": "month-to-date"}, "splunk": {"range": "24h"}}


def or_zero(value):
    """SQL NULL (None, NaN or pd.NA, depending on the engine's column type) as 0."""
    return 0 if pd.isna(value) else value


@dataclass(frozen=True)
class MonthToDate:
    """The billing card: unblended cost from the 1st to `as_of` in the largest currency, and the same days a month before."""

    as_of: dt.date
    currency: str
    amount: float
    previous: float
    others: dict[str, float] = field(default_factory=dict)  # other currencies' month to date, never added
    note: str | None = None

    @property
    def change(self) -> float | None:
        return (self.amount - self.previous) / self.previous if self.previous else None


def month_to_date(rows: pd.DataFrame, as_of: dt.date, today: dt.date) -> MonthToDate:
    """From `overview.billing_month_to_date` rows (one per currency, the largest first)."""
    row = rows.iloc[0] if not rows.empty else {"currency": "USD", "month_to_date": 0, "previous_month_to_date": 0}
    others = {str(c): float(or_zero(v)) for c, v in zip(rows["currency"][1:], rows["month_to_date"][1:], strict=True)}
    return MonthToDate(as_of, str(row["currency"]), float(or_zero(row["month_to_date"])),
                       float(or_zero(row["previous_month_to_date"])), others, data_end_note(today, as_of))


@dataclass(frozen=True)
class CurPeriod:
    """The CUR card: line items of the CUR view's default period, unblended per currency (never added)."""

    period: str
    line_items: int
    unblended: dict[str, float]
    accounts: int | None  # when there is one currency (one row)
    note: str | None

    @property
    def month(self) -> dt.date:
        return dt.date.fromisoformat(f"{self.period}-01")


def cur_period(rows: pd.DataFrame, period: str, this_period: str) -> CurPeriod:
    """From `overview.cur_month_summary` rows of `period` (one per currency)."""
    note = f"Showing billing period {period}: the newest that holds the bulk of the data." if period < this_period else None
    return CurPeriod(period, int(rows["line_items"].sum()),
                     {str(c): float(or_zero(v)) for c, v in zip(rows["currency"], rows["unblended_cost"], strict=True)},
                     int(rows["accounts"].iloc[0]) if len(rows) == 1 else None, note)


@dataclass(frozen=True)
class Snapshot:
    day: dt.date
    resources: int
    resource_types: int
    accounts: int
    note: str | None


def inventory_snapshot(rows: pd.DataFrame, day: dt.date, today: dt.date) -> Snapshot:
    """From the `overview.inventory_snapshot_summary` row."""
    row = rows.iloc[0]
    return Snapshot(day, int(or_zero(row["resources"])), int(or_zero(row["resource_types"])), int(or_zero(row["accounts"])),
                    data_end_note(today, day))


def splunk_anchor(now: dt.datetime, newest: dt.datetime | None) -> dt.datetime:
    """Where "the last 24 h" ends: as the Logs view's default ("relative to the newest event"), the minute after the
    newest event; with no event, the minute after now. Whole minutes, so the same 24 h is the same query (cached)."""
    return minute_after(newest if newest is not None else now)


@dataclass(frozen=True)
class Events:
    anchor: dt.datetime
    live: bool  # the 24 h end now (the data reaches the current minute)
    events: int
    errors: int
    hosts: int
    note: str | None


def last_24h(rows: pd.DataFrame, anchor: dt.datetime, now: dt.datetime, today: dt.date, has_events: bool) -> Events:
    """From the `overview.splunk_last_24h` row."""
    row = rows.iloc[0]
    return Events(anchor, anchor >= minute_after(now), int(or_zero(row["events"])), int(or_zero(row["errors"])),
                  int(or_zero(row["hosts"])), data_end_note(today, anchor.date()) if has_events else None)


def newest_event(rows: pd.DataFrame) -> dt.datetime | None:
    newest = rows["newest"].iloc[0]
    return None if pd.isna(newest) else pd.Timestamp(newest).to_pydatetime()
