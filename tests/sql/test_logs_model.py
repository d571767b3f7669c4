"""The Logs page model on the small lakehouse: its one-scan overview and its narrowed Events pages
return exactly what the separate queries return (each checked against independent SQL in
test_splunk_queries.py), per persona."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data.models import logs as model
from daivi_data.queries import splunk as q
from tests.helpers import principal

FIELDS = ("index", "sourcetype", "host", "severity", "status", "user", "client_ip")


@pytest.fixture(scope="module")
def newest(engine) -> dt.datetime:
    latest = dt.date.fromisoformat(engine.table_info("daivi_splunk", "events").latest_partition)
    return engine.run(q.newest_event_time(latest), principal("admin")).df["newest"][0].to_pydatetime()


def search_filter(newest: dt.datetime, range_key: str, search: str) -> q.EventFilter:
    return model.event_filter(model.LogsRequest(search=search, range_key=range_key), newest, newest)


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.columns) == list(b.columns) and a.astype(str).reset_index(drop=True).equals(b.astype(str).reset_index(drop=True))


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
@pytest.mark.parametrize("search", ["", "error", '"timed out" OR status>=500', "severity=ERROR", '"connection pool exhausted"',
                                    "time*out", "host=web-* NOT status=2*", "NOT index=security method=GET duration>100"])
@pytest.mark.parametrize(("range_key", "split"), [("24h", "severity"), ("7d", "host"), ("24h", "client_ip")])
def test_overview_is_the_summary_timeline_and_top_values_in_one_query(engine, newest, persona, search, range_key, split):
    f = search_filter(newest, range_key, search)
    who = principal(persona)
    got = model.overview_of(engine.run(model.overview_query(f, split, FIELDS), who).df)
    bucket_s = q.auto_bucket_seconds(f.time_range)
    summary = engine.run(q.event_summary(f), who).df.iloc[0]
    assert got.total == summary["events"]
    if got.total:
        assert (got.first_event, got.last_event) == (summary["first_event"], summary["last_event"])
    assert frames_equal(got.timeline, engine.run(q.timeline(f, split, bucket_s), who).df)
    assert frames_equal(got.top_values, engine.run(q.top_values_by_field(f, FIELDS), who).df)


def test_the_overview_keeps_the_busiest_series_and_groups_the_rest(engine, newest):
    f = search_filter(newest, "7d", "")
    got = model.overview_of(engine.run(model.overview_query(f, "client_ip", ()), principal("admin")).df)
    assert set(got.timeline["value"]) - {q.OTHER} and len(set(got.timeline["value"])) <= q.MAX_SERIES + 1
    assert q.OTHER in set(got.timeline["value"]) and got.top_values.empty


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
@pytest.mark.parametrize("search", ["", "error OR status>=400", '"connection pool exhausted"', "time*out NOT severity=INFO",
                                    "host=web-* status!=200"])
def test_events_pages_read_from_the_newest_buckets_are_the_pages_of_the_whole_range(engine, newest, persona, search):
    f = search_filter(newest, "7d", search)
    who = principal(persona)
    overview = model.overview_of(engine.run(model.overview_query(f, "severity", ()), who).df)
    columns = ["host", "severity", "message"]
    deepest = model.page_count(overview.total)
    for page in sorted({1, 2, deepest // 2 or 1, deepest}):
        query = model.events_page_query(f, overview.timeline, columns, page)
        whole = q.events_page(f, [*model.shown_columns(columns), "host", "message"], q.PAGE_SIZE, (page - 1) * q.PAGE_SIZE)
        assert frames_equal(engine.run(query, who).df, engine.run(whole, who).df), page
    first = model.events_page_query(f, overview.timeline, columns, 1)
    later = overview.timeline[overview.timeline["bucket"] > overview.timeline["bucket"].min()]["events"].sum()
    # The first page scans only the latest buckets when they hold a page, else the whole range.
    assert (first.param_dict["start_time"] > f.time_range.start) == (later >= q.PAGE_SIZE)
    export = model.export_query(f, overview.timeline, columns, overview.total)
    everything = q.events_page(f, model.shown_columns(columns), model.export_rows(overview.total), 0)
    assert frames_equal(engine.run(export, who).df, engine.run(everything, who).df)


def test_a_search_matching_nothing_scans_the_whole_range(engine, newest):
    f = search_filter(newest, "24h", '"no such phrase anywhere"')
    overview = model.overview_of(engine.run(model.overview_query(f, "severity", model.PANEL_FIELDS), principal("admin")).df)
    assert overview.total == 0 and overview.first_event is None and overview.top_values.empty
    assert model.newest_rows_range(f, overview.timeline, q.PAGE_SIZE) == f.time_range
