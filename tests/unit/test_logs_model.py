"""The Logs page model without Streamlit or an engine: ranges, notices, the overview split, the Events window."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data.errors import InvalidRequest
from daivi_data.models import logs as model
from daivi_data.queries import splunk as q

NEWEST = dt.datetime(2026, 11, 30, 17, 42, 13)
NOW = dt.datetime(2026, 12, 1, 9, 0, 30)


def test_a_preset_counts_back_from_the_newest_event_or_from_now():
    latest, _ = model.time_range(model.LogsRequest(range_key="4h"), NEWEST, NOW)
    assert (latest.start, latest.end) == (dt.datetime(2026, 11, 30, 13, 43), dt.datetime(2026, 11, 30, 17, 43))
    now, notice = model.time_range(model.LogsRequest(range_key="15m", anchor="now"), NEWEST, NOW)
    assert (now.start, now.end, notice) == (dt.datetime(2026, 12, 1, 8, 46), dt.datetime(2026, 12, 1, 9, 1), None)
    # a role that sees no event counts back from now
    assert model.time_range(model.LogsRequest(range_key="1h"), None, NOW)[0].end == dt.datetime(2026, 12, 1, 9, 1)
    assert "Relative to the newest event, 2026-11-30 17:42 UTC" in model.range_caption(model.LogsRequest(range_key="4h"), latest, NEWEST)
    assert model.range_caption(model.LogsRequest(range_key="15m", anchor="now"), now, NEWEST).startswith("Relative to now · ")


def test_a_custom_range_is_bounded_with_a_notice_and_needs_both_ends():
    start, end = dt.datetime(2025, 1, 1), dt.datetime(2026, 2, 1)
    tr, notice = model.time_range(model.LogsRequest(range_key="custom", start=start, end=end), NEWEST, NOW)
    assert tr.end == end and tr.end - tr.start == dt.timedelta(days=q.MAX_RANGE_DAYS) and "at most 31 days" in notice
    with pytest.raises(InvalidRequest, match="Pick a start and an end"):
        model.time_range(model.LogsRequest(range_key="custom", start=start), NEWEST, NOW)
    assert model.preset_range(model.LogsRequest(range_key="custom"), NEWEST, NOW).seconds == 24 * 3600  # From/To start there
    with pytest.raises(InvalidRequest, match="Time range 'forever'"):
        model.time_range(model.LogsRequest(range_key="forever"), NEWEST, NOW)


def test_a_timeline_selection_widens_to_whole_minutes():
    assert model.whole_minutes(dt.datetime(2026, 1, 1, 9, 0, 40), dt.datetime(2026, 1, 1, 10, 15, 0, 1)) == (
        dt.datetime(2026, 1, 1, 9, 0), dt.datetime(2026, 1, 1, 10, 16))
    assert model.whole_minutes(dt.datetime(2026, 1, 1, 9), dt.datetime(2026, 1, 1, 10))[1] == dt.datetime(2026, 1, 1, 10)


def test_a_search_for_an_index_the_row_filter_hides_is_named():
    row_filter = "account_id IN ('1') AND index_name <> 'security'"
    assert model.hidden_indexes_asked_for('index="security" error', row_filter) == ["security"]
    assert model.hidden_indexes_asked_for("INDEX = security", row_filter) == ["security"]
    assert model.hidden_indexes_asked_for("index=securityx", row_filter) == []
    assert model.hidden_indexes_asked_for("index=security", None) == []
    assert "`team-lead-payments`" in model.hidden_index_notice("team-lead-payments", ["security"])


@pytest.mark.parametrize(("part", "whole", "text"), [(0, 10, "0.0%"), (1, 3, "33.3%"), (1, 5_000, "0.02%"), (1, 100_000, "<0.01%")])
def test_shares_never_show_a_non_zero_count_as_zero(part, whole, text):
    assert model.share_text(part, whole) == text


def overview_rows() -> pd.DataFrame:
    b = pd.to_datetime(["2026-11-30 10:00", "2026-11-30 11:00", "2026-11-30 12:00"])
    first = pd.to_datetime(["2026-11-30 10:05", "2026-11-30 11:01", "2026-11-30 11:30", "2026-11-30 12:10"])
    last = pd.to_datetime(["2026-11-30 10:55", "2026-11-30 11:59", "2026-11-30 11:40", "2026-11-30 12:50"])
    return pd.DataFrame({
        "part": ["host", "host", q.TIMELINE_PART, q.TIMELINE_PART, q.TIMELINE_PART, q.TIMELINE_PART],
        "bucket": [pd.NaT, pd.NaT, b[2], b[0], b[1], b[1]],
        "value": ["web-1", "web-2", "INFO", "INFO", "INFO", "ERROR"],
        "events": [7, 3, 40, 20, 30, 5],
        "first_event": [pd.NaT, pd.NaT, first[3], first[0], first[1], first[2]],
        "last_event": [pd.NaT, pd.NaT, last[3], last[0], last[1], last[2]],
        "distinct_values": [2, 2, None, None, None, None],
        "events_with_field": [10, 10, None, None, None, None],
    })


def test_the_overview_splits_into_count_timeline_and_fields():
    got = model.overview_of(overview_rows())
    assert got.total == 95
    assert (got.first_event, got.last_event) == (pd.Timestamp("2026-11-30 10:05"), pd.Timestamp("2026-11-30 12:50"))
    assert list(got.timeline.columns) == ["bucket", "value", "events"]
    assert list(got.timeline["events"]) == [20, 5, 30, 40]  # by bucket, then value
    assert list(got.values_of("host")["value"]) == ["web-1", "web-2"] and got.values_of("user").empty
    assert model.field_caption(got.values_of("host"), "host", got.total) == "10 of 95 events have host; top 2 with exact counts."


def test_the_events_window_starts_at_the_bucket_that_holds_the_newest_rows():
    got = model.overview_of(overview_rows())
    f = q.EventFilter.of(q.TimeRange(dt.datetime(2026, 11, 30, 9, 30), dt.datetime(2026, 11, 30, 13)), "error")
    assert model.newest_rows_range(f, got.timeline, 40).start == dt.datetime(2026, 11, 30, 12)  # 40 in the last bucket
    assert model.newest_rows_range(f, got.timeline, 41).start == dt.datetime(2026, 11, 30, 11)
    assert model.newest_rows_range(f, got.timeline, 95).start == dt.datetime(2026, 11, 30, 10)
    assert model.newest_rows_range(f, got.timeline, 96) == f.time_range  # fewer match: the whole range
    page_3 = model.events_page_query(f, got.timeline, ["host"], page=1)
    assert page_3.param_dict["start_time"] == dt.datetime(2026, 11, 30, 11)  # 50 rows: the last two buckets
    assert page_3.param_dict["start_date"] == dt.date(2026, 11, 30) and page_3.param_dict["s0"] == "(?is)error"
    # a bucket that starts before the range never widens it
    early = q.EventFilter.of(q.TimeRange(dt.datetime(2026, 11, 30, 10, 30), dt.datetime(2026, 11, 30, 13)), "")
    assert model.newest_rows_range(early, got.timeline, 95).start == dt.datetime(2026, 11, 30, 10, 30)


def test_events_paging_captions_and_columns():
    assert model.page_count(0) == 1 and model.page_count(51) == 2 and model.page_count(10**9) == q.MAX_PAGED_ROWS // q.PAGE_SIZE
    caption = model.events_caption(50, 50, 20_000)
    assert caption.startswith("Events 51–100 of 20,000, newest first.") and "Paging reaches the newest 10,000" in caption
    assert model.shown_columns(["host", "event_time", "message"]) == ["event_time", "host", "message"]
    page = pd.DataFrame({"event_time": [1, 2], "host": ["web-1", "db-1"], "message": ["a", "b"]})
    table = model.events_table(page, {"web-1": "/inventory?host=web-1"})
    assert table["inventory"][0] == "/inventory?host=web-1" and pd.isna(table["inventory"][1]) and "inventory" not in page
    assert model.column_order(["event_time", "host", "message"], table) == ["event_time", "host", "inventory", "message"]
    assert model.column_order(["event_time", "message"], model.events_table(page, {})) == ["event_time", "message"]
    assert model.inventory_hosts_query("2026-11-30", ["web-1", "", "db-1"], known={"web-1"}).param_dict["hosts"] == ("db-1",)
    assert model.inventory_hosts_query(None, ["web-1"]) is None and model.inventory_hosts_query("2026-11-30", ["web-1"], {"web-1"}) is None


def test_stats_and_error_shares():
    table = pd.DataFrame({"value": ["web", "app"], "events": [5, 3], "stat": [5.0, 3.0]})
    assert list(model.stats_shown(table, "count", "index", "events").columns) == ["index", "events"]
    assert list(model.stats_shown(table, "avg", "index", "average of duration").columns) == ["index", "events", "average of duration"]
    assert model.stat_label("p95", "duration") == "95th percentile of duration"
    assert "approximate" in model.stats_caption(2, "index", "p95", "p95") and model.stats_caption(2, "index", "events", "count").endswith(".")
    rate = pd.DataFrame({"events": [10, 10], "http_events": [4, 0], "server_errors": [1, 0], "error_events": [2, 3]})
    assert model.error_shares(rate) == [("5xx share of HTTP responses", 1, 4), ("ERROR/CRITICAL share of events", 5, 20)]
    assert (model.percent_of(1, 4), model.percent_of(0, 0)) == ("25.00%", "–")
