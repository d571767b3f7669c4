"""The Home page model without Streamlit: each card's figure, currencies never added, "the last 24 h" as Logs anchors it."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data.models import home as m

TODAY = dt.date(2026, 3, 10)


def test_month_to_date_keeps_other_currencies_apart_and_says_when_the_data_is_old():
    rows = pd.DataFrame({"currency": ["USD", "EUR"], "month_to_date": [120.0, None], "previous_month_to_date": [100.0, 5.0]})
    card = m.month_to_date(rows, dt.date(2026, 3, 9), TODAY)
    assert (card.currency, card.amount, card.previous, card.others) == ("USD", 120.0, 100.0, {"EUR": 0.0})
    assert card.change == pytest.approx(0.2) and card.note is None
    old = m.month_to_date(rows.iloc[0:0], dt.date(2025, 9, 30), TODAY)
    assert (old.amount, old.change, old.others) == (0.0, None, {})
    assert old.note.startswith("Data ends 2025-09-30")


def test_cur_period_names_accounts_for_one_currency_and_totals_per_currency_for_several():
    one = m.cur_period(pd.DataFrame({"currency": ["USD"], "line_items": [10], "unblended_cost": [5.0], "accounts": [3]}),
                       "2026-03", "2026-03")
    assert (one.line_items, one.accounts, one.unblended, one.note) == (10, 3, {"USD": 5.0}, None)
    several = m.cur_period(pd.DataFrame({"currency": ["USD", "JPY"], "line_items": [10, 4], "unblended_cost": [5.0, 900.0],
                                         "accounts": [3, 1]}), "2026-01", "2026-03")
    assert several.line_items == 14 and several.accounts is None and several.unblended == {"USD": 5.0, "JPY": 900.0}
    assert "2026-01" in several.note and several.month == dt.date(2026, 1, 1)


def test_the_last_24_hours_end_at_the_minute_after_the_newest_event_like_the_logs_view():
    now = dt.datetime(2026, 3, 10, 12, 30, 41)
    newest = dt.datetime(2026, 3, 9, 23, 58, 7, 500)
    assert m.splunk_anchor(now, newest) == dt.datetime(2026, 3, 9, 23, 59)
    # Without events: the minute after now, the same for every second of that minute (one cached query).
    assert m.splunk_anchor(now, None) == m.splunk_anchor(now.replace(second=2), None) == dt.datetime(2026, 3, 10, 12, 31)


def test_the_events_card_says_whether_its_24_hours_end_now_or_where_the_data_ends():
    row = pd.DataFrame({"events": [7], "errors": [None], "hosts": [2]})
    now = dt.datetime(2026, 3, 10, 12, 30, 41)
    live = m.last_24h(row, m.splunk_anchor(now, now - dt.timedelta(seconds=20)), now, TODAY, has_events=True)
    assert live.live and (live.events, live.errors, live.hosts) == (7, 0, 2) and live.note is None
    old = m.last_24h(row, dt.datetime(2026, 1, 2, 0, 1), now, TODAY, has_events=True)
    assert not old.live and old.note.startswith("Data ends 2026-01-02")


def test_newest_event_is_none_for_sql_null():
    assert m.newest_event(pd.DataFrame({"newest": [pd.NaT]})) is None
    assert m.newest_event(pd.DataFrame({"newest": [pd.Timestamp("2026-03-09 10:00")]})) == dt.datetime(2026, 3, 9, 10, 0)
