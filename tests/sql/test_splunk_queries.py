"""Logs view queries on the small lakehouse, against independent SQL written by hand, per persona.

The independent SQL deliberately uses other constructs than the compiled
search (ILIKE, IS DISTINCT FROM, epoch arithmetic, quantile_cont), so a bug in
the compiler or the bucket expression cannot hide in both.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlglot
from sqlglot import exp

from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.queries import splunk as q
from tests.helpers import PAYMENTS_ACCOUNT_IDS, principal

PAYMENTS = "(" + ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS) + ")"
TEAMLEAD_FILTER = f"account_id IN {PAYMENTS} AND index_name <> 'security'"
EVENTS = "daivi_splunk.events"


def scalar(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()[0][0]


@pytest.fixture(scope="module")
def newest(raw_duckdb) -> dt.datetime:
    return scalar(raw_duckdb, f"SELECT MAX(event_time) FROM {EVENTS}")


@pytest.fixture(scope="module")
def day(newest) -> q.TimeRange:
    """The 24 hours before the newest event (the view's default)."""
    anchor = newest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return q.relative_range("24h", anchor)


@pytest.fixture(scope="module")
def week(newest) -> q.TimeRange:
    anchor = newest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return q.relative_range("7d", anchor)


@pytest.fixture(scope="module")
def manifest(small_lakehouse) -> dict:
    return json.loads((small_lakehouse / "manifest.json").read_text())


def independent_count(con, tr: q.TimeRange, where: str = "TRUE", persona: str = "admin") -> int:
    extra = f" AND {TEAMLEAD_FILTER}" if persona == "teamlead" else ""
    return scalar(con, f"SELECT COUNT(*) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND ({where}){extra}",
                  tr.start, tr.end)


def test_newest_event_time_is_the_max(engine, raw_duckdb, newest):
    latest = dt.date.fromisoformat(engine.table_info("daivi_splunk", "events").latest_partition)
    assert engine.run(q.newest_event_time(latest), principal("ops")).df["newest"][0] == newest
    lead = engine.run(q.newest_event_time(latest), principal("teamlead")).df["newest"][0]
    assert lead == scalar(raw_duckdb, f"SELECT MAX(event_time) FROM {EVENTS} WHERE {TEAMLEAD_FILTER}")


# search -> the same condition, written independently
SEARCHES = [
    ("", "TRUE"),
    ("status>=500", "http_status >= 500"),
    ("status=5*", "CAST(http_status AS VARCHAR) LIKE '5%'"),
    ("severity=error OR severity=CRITICAL", "severity IN ('ERROR', 'CRITICAL')"),
    ("NOT index=web", "index_name IS DISTINCT FROM 'web'"),
    ("index!=web", "index_name IS NOT NULL AND index_name <> 'web'"),
    ("error", "message ILIKE '%error%'"),
    ('"timed out" OR timeout', "message ILIKE '%timed out%' OR message ILIKE '%timeout%'"),
    ("method=POST duration>500", "http_method ILIKE 'post' AND duration_ms > 500"),
    ("user=* NOT status=2*", "user_name IS NOT NULL AND NOT coalesce(CAST(http_status AS VARCHAR) LIKE '2%', false)"),
    ("(index=web OR index=app) bytes>=10000", "index_name IN ('web', 'app') AND bytes >= 10000"),
]


@pytest.mark.parametrize("persona", ["admin", "ops", "teamlead"])
@pytest.mark.parametrize(("search", "where"), SEARCHES, ids=[s or "<all>" for s, _ in SEARCHES])
def test_event_count_matches_independent_sql(engine, raw_duckdb, day, search, where, persona):
    f = q.EventFilter.of(day, search)
    got = engine.run(q.event_summary(f), principal(persona)).df["events"][0]
    assert got == independent_count(raw_duckdb, day, where, "admin" if persona == "ops" else persona)


def test_the_searches_are_not_trivial(raw_duckdb, day):
    """Each search of the table above selects some but not all events (else the comparison proves little)."""
    total = independent_count(raw_duckdb, day)
    assert total > 1000
    for search, where in SEARCHES[1:]:
        assert 0 < independent_count(raw_duckdb, day, where) < total, search


def test_teamlead_sees_only_payments_and_no_security(engine, raw_duckdb, week):
    f = q.EventFilter.of(week, "")
    lead = engine.run(q.top_values(f, "account"), principal("teamlead")).df
    assert set(lead["value"]) <= set(PAYMENTS_ACCOUNT_IDS) and len(lead) > 0
    indexes = engine.run(q.top_values(f, "index"), principal("teamlead")).df
    assert "security" not in set(indexes["value"])
    assert engine.run(q.event_summary(q.EventFilter.of(week, "index=security")), principal("teamlead")).df["events"][0] == 0
    assert engine.run(q.event_summary(q.EventFilter.of(week, "index=security")), principal("admin")).df["events"][0] > 0


def test_finance_has_no_splunk_grant(engine, day):
    with pytest.raises(AccessDenied, match="daivi_splunk.events"):
        engine.run(q.event_summary(q.EventFilter.of(day, "")), principal("finance"))


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
@pytest.mark.parametrize("field", ["index", "sourcetype", "host", "severity", "status", "user"])
def test_top_values_match_independent_group_by(engine, raw_duckdb, day, field, persona):
    column = q.field_column(field)
    f = q.EventFilter.of(day, "")
    got = engine.run(q.top_values(f, field), principal(persona)).df
    extra = f" AND {TEAMLEAD_FILTER}" if persona == "teamlead" else ""
    expected = raw_duckdb.execute(
        f"SELECT CAST({column} AS VARCHAR) AS value, COUNT(*) AS n FROM {EVENTS} "
        f"WHERE event_time >= ? AND event_time < ? AND {column} IS NOT NULL {extra} GROUP BY 1 ORDER BY n DESC, value LIMIT ?",
        [day.start, day.end, q.TOP_VALUES_LIMIT],
    ).fetchall()
    assert [(v, int(n)) for v, n in zip(got["value"], got["events"], strict=True)] == expected
    distinct = scalar(raw_duckdb, f"SELECT COUNT(DISTINCT {column}) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? {extra}",
                      day.start, day.end)
    with_field = independent_count(raw_duckdb, day, f"{column} IS NOT NULL", persona)
    assert got["distinct_values"][0] == distinct
    assert got["events_with_field"][0] == with_field


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
@pytest.mark.parametrize("search", ["", "status>=400 OR severity=ERROR"])
def test_top_values_of_all_fields_in_one_scan_match_independent_group_by(engine, raw_duckdb, day, persona, search):
    fields = ("index", "sourcetype", "host", "severity", "status", "user", "method")
    f = q.EventFilter.of(day, search)
    got = engine.run(q.top_values_by_field(f, fields), principal(persona)).df
    assert set(got["field"]) == set(fields)
    where = "TRUE" if not search else "(http_status >= 400 OR severity = 'ERROR')"
    extra = f" AND {TEAMLEAD_FILTER}" if persona == "teamlead" else ""
    for field in fields:
        column = q.field_column(field)
        expected = raw_duckdb.execute(
            f"SELECT CAST({column} AS VARCHAR) AS value, COUNT(*) AS n, COUNT(*) OVER () AS d, SUM(COUNT(*)) OVER () AS w "
            f"FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND {column} IS NOT NULL AND {where} {extra} "
            f"GROUP BY 1 ORDER BY n DESC, value LIMIT ?",
            [day.start, day.end, q.TOP_VALUES_LIMIT],
        ).fetchall()
        part = got[got["field"] == field]
        assert [(v, int(n), int(d), int(w)) for v, n, d, w in
                zip(part["value"], part["events"], part["distinct_values"], part["events_with_field"], strict=True)] == \
            [(v, int(n), int(d), int(w)) for v, n, d, w in expected], field


def test_top_values_follow_the_search(engine, raw_duckdb, day):
    got = engine.run(q.top_values(q.EventFilter.of(day, "status>=500"), "host"), principal("admin")).df
    expected = scalar(raw_duckdb, f"SELECT COUNT(*) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND http_status >= 500 "
                                  "AND host = ?", day.start, day.end, got["value"][0])
    assert got["events"][0] == expected


@pytest.mark.parametrize("split", ["severity", "index", "host"])
def test_timeline_buckets_match_independent_epoch_arithmetic(engine, raw_duckdb, day, split):
    bucket_s = q.auto_bucket_seconds(day)
    assert day.seconds / bucket_s <= q.TARGET_BUCKETS
    f = q.EventFilter.of(day, "")
    got = engine.run(q.timeline(f, split, bucket_s), principal("admin")).df
    assert got["events"].sum() == independent_count(raw_duckdb, day)
    assert got["value"].nunique() <= q.MAX_SERIES + 2  # top values, "other", "(none)"
    per_bucket = got.groupby("bucket")["events"].sum()
    expected = raw_duckdb.execute(
        f"SELECT TIMESTAMP '1970-01-01' + to_seconds(floor(epoch(event_time))::BIGINT // {bucket_s} * {bucket_s}) AS bucket, COUNT(*) "
        f"FROM {EVENTS} WHERE event_time >= ? AND event_time < ? GROUP BY 1 ORDER BY 1",
        [day.start, day.end],
    ).fetchall()
    assert [(b.to_pydatetime(), int(n)) for b, n in per_bucket.items()] == [(b, int(n)) for b, n in expected]


def test_timeline_by_severity_totals(engine, raw_duckdb, day):
    got = engine.run(q.timeline(q.EventFilter.of(day, ""), "severity", 3600), principal("ops")).df
    totals = got.groupby("value")["events"].sum().to_dict()
    expected = dict(raw_duckdb.execute(
        f"SELECT COALESCE(severity, '(none)'), COUNT(*) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? GROUP BY 1",
        [day.start, day.end]).fetchall())
    assert totals == expected


def test_events_page_is_newest_first_and_pages_continue(engine, raw_duckdb, day):
    f = q.EventFilter.of(day, "status>=400")
    first = engine.run(q.events_page(f, ["host", "http_status", "message"], 50, 0), principal("admin")).df
    second = engine.run(q.events_page(f, ["host", "http_status", "message"], 50, 50), principal("admin")).df
    assert list(first.columns) == ["event_time", "host", "http_status", "message"]
    both = list(first["event_time"]) + list(second["event_time"])
    assert both == sorted(both, reverse=True) and len(both) == 100
    expected = raw_duckdb.execute(
        f"SELECT event_time FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND http_status >= 400 "
        "ORDER BY event_time DESC LIMIT 100", [day.start, day.end]).fetchall()
    assert [t.to_pydatetime() for t in both] == [r[0] for r in expected]
    assert (first["http_status"] >= 400).all()


def test_events_page_and_export_are_bounded():
    tr = q.TimeRange(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))
    f = q.EventFilter.of(tr, "")
    assert f"OFFSET 0 LIMIT {q.EXPORT_MAX_ROWS}" in " ".join(q.events_page(f, ["host"], q.EXPORT_MAX_ROWS, 0).sql.split())
    with pytest.raises(InvalidRequest):
        q.events_page(f, ["host"], q.EXPORT_MAX_ROWS + 1, 0)
    with pytest.raises(InvalidRequest):
        q.events_page(f, ["host"], q.PAGE_SIZE, q.MAX_PAGED_ROWS)
    with pytest.raises(InvalidRequest, match="Unknown event column 'event_date; DROP'"):
        q.events_page(f, ["event_date; DROP"], 10, 0)


@pytest.mark.parametrize("stat", ["count", "dc", "avg", "p95"])
def test_stats_table_matches_independent_aggregates(engine, raw_duckdb, day, stat):
    f = q.EventFilter.of(day, "")
    of_field = "user" if stat == "dc" else "duration"
    got = engine.run(q.stats_table(f, stat, of_field, "index"), principal("admin")).df.set_index("value")
    independent = {
        "count": "COUNT(*)", "dc": "COUNT(DISTINCT user_name)", "avg": "AVG(duration_ms)", "p95": "quantile_cont(duration_ms, 0.95)",
    }[stat]
    expected = dict(raw_duckdb.execute(
        f"SELECT COALESCE(index_name, '(none)'), {independent} FROM {EVENTS} WHERE event_time >= ? AND event_time < ? GROUP BY 1",
        [day.start, day.end]).fetchall())
    assert set(got.index) == set(expected)
    for value, row in got.iterrows():
        if expected[value] is None:
            assert row["stat"] != row["stat"]  # NaN: no numeric values in that group
        elif stat == "p95":  # approximate (t-digest), as on Athena
            assert row["stat"] == pytest.approx(expected[value], rel=0.05)
        else:
            assert row["stat"] == pytest.approx(expected[value])
    assert list(got["stat"].dropna()) == sorted(got["stat"].dropna(), reverse=True)


def test_stats_of_text_field_needs_a_numeric_field(day):
    with pytest.raises(InvalidRequest, match="host is not numeric"):
        q.stats_table(q.EventFilter.of(day, ""), "avg", "host", "index")


def test_stats_timechart_groups_the_rest_as_other(engine, raw_duckdb, day):
    f = q.EventFilter.of(day, "")
    got = engine.run(q.stats_timechart(f, "count", "duration", "host", ["no-such-host"], 3600), principal("admin")).df
    assert set(got["value"]) <= {"no-such-host", "other"}
    assert got["stat"].sum() == independent_count(raw_duckdb, day)


def test_error_rate_matches_independent_counts(engine, raw_duckdb, week):
    f = q.EventFilter.of(week, "")
    got = engine.run(q.error_rate(f, q.auto_bucket_seconds(week)), principal("admin")).df
    http, server, errors = raw_duckdb.execute(
        f"SELECT COUNT(http_status), COUNT(*) FILTER (WHERE http_status >= 500), "
        f"COUNT(*) FILTER (WHERE severity IN ('ERROR', 'CRITICAL')) FROM {EVENTS} WHERE event_time >= ? AND event_time < ?",
        [week.start, week.end]).fetchone()
    assert (got["http_events"].sum(), got["server_errors"].sum(), got["error_events"].sum()) == (http, server, errors)
    assert server > 0 and errors > 0
    shares = got.dropna(subset=["server_error_share"])
    assert ((shares["server_error_share"] >= 0) & (shares["server_error_share"] <= 1)).all()
    assert got["error_share"].iloc[0] == pytest.approx(got["error_events"].iloc[0] / got["events"].iloc[0])


# --- planted incidents show as spikes -----------------------------------------------------------


def incident(manifest: dict, kind: str) -> dict:
    found = [i for i in manifest["incidents"] if i["kind"] == kind]
    assert found, f"the demo manifest lists no {kind} incident"
    return found[0]


def peak_bucket(engine, tr: q.TimeRange, search: str, bucket_s: int) -> tuple[dt.datetime, int, float]:
    """The bucket with most matching events, its count, and the median count of the buckets."""
    df = engine.run(q.timeline(q.EventFilter.of(tr, search), "severity", bucket_s), principal("admin")).df
    per_bucket = df.groupby("bucket")["events"].sum()
    # Buckets without a matching event count as zero.
    n_buckets = int(tr.seconds // bucket_s)
    median = float(per_bucket.sort_values().iloc[len(per_bucket) // 2]) if len(per_bucket) > n_buckets / 2 else 0.0
    return per_bucket.idxmax().to_pydatetime(), int(per_bucket.max()), median


def around(inc: dict, days: int = 3) -> q.TimeRange:
    start = dt.datetime.fromisoformat(inc["start"])
    end = dt.datetime.fromisoformat(inc["end"])
    middle = start + (end - start) / 2
    return q.TimeRange(middle - dt.timedelta(days=days / 2), middle + dt.timedelta(days=days / 2))


def test_5xx_storm_is_a_spike_on_its_host(engine, manifest):
    inc = incident(manifest, "http_5xx_storm")
    tr = around(inc)
    peak, count, median = peak_bucket(engine, tr, f"host={inc['host']} status>=500", 3600)
    assert dt.datetime.fromisoformat(inc["start"]) - dt.timedelta(hours=1) <= peak <= dt.datetime.fromisoformat(inc["end"])
    assert count >= 5 * max(median, 1)
    # and the error-rate panel over the whole fleet shows it too
    rate = engine.run(q.error_rate(q.EventFilter.of(tr, ""), 3600), principal("admin")).df.set_index("bucket")
    peak_rate = rate["server_errors"].idxmax().to_pydatetime()
    assert dt.datetime.fromisoformat(inc["start"]) - dt.timedelta(hours=1) <= peak_rate <= dt.datetime.fromisoformat(inc["end"])


def test_cryptomining_shows_in_the_security_index(engine, manifest, raw_duckdb):
    inc = incident(manifest, "cryptomining")
    tr = around(inc, days=6)
    peak, count, median = peak_bucket(engine, tr, f"index=security account={inc['account_id']}", 3600)
    assert dt.datetime.fromisoformat(inc["start"]) - dt.timedelta(hours=1) <= peak <= dt.datetime.fromisoformat(inc["end"])
    assert count >= 5 * max(median, 1)


# --- bad input: clear messages, bounded results ---------------------------------------------


@pytest.mark.parametrize(
    ("search", "where"),
    [
        ("user=\"x'; DROP TABLE daivi_splunk.events; --\"", "user_name = 'x''; DROP TABLE daivi_splunk.events; --'"),
        ("\"' OR 1=1 --\"", "contains(lower(message), ''' or 1=1 --')"),
        ("host=\"Zürich-ü-💥\"", "host = 'Zürich-ü-💥'"),
        ("message=\"%\"", "message = '%'"),
        ("_", "contains(message, '_')"),  # as a LIKE wildcard it would match every message
        ("\"100%\"", "contains(message, '100%')"),
    ],
)
def test_metacharacters_and_unicode_are_matched_literally(engine, raw_duckdb, day, search, where):
    got = engine.run(q.event_summary(q.EventFilter.of(day, search)), principal("admin")).df["events"][0]
    total = independent_count(raw_duckdb, day)
    assert got == independent_count(raw_duckdb, day, where) < total
    assert total > 0  # and the table is still there


def test_a_range_over_a_year_is_bounded(engine, raw_duckdb, newest):
    end = newest + dt.timedelta(seconds=1)
    tr, notice = q.bounded_range(end - dt.timedelta(days=400), end)
    assert tr.end == end and tr.end - tr.start == dt.timedelta(days=q.MAX_RANGE_DAYS)
    assert "at most 31 days" in notice and "400 days" in notice
    got = engine.run(q.event_summary(q.EventFilter(tr, q.compile_search(""))), principal("admin")).df["events"][0]
    assert got == independent_count(raw_duckdb, tr)


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(InvalidRequest, match="ends .* before it starts"):
        q.TimeRange(dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 1))


def test_inventory_hosts_are_resources(engine, raw_duckdb, day):
    hosts = list(engine.run(q.top_values(q.EventFilter.of(day, ""), "host"), principal("admin")).df["value"])
    snapshot = dt.date.fromisoformat(engine.table_info("daivi_inventory", "resources").latest_partition)
    got = set(engine.run(q.inventory_hosts(snapshot, [*hosts, "not-a-host"]), principal("ops")).df["host"])
    expected = {h for h in hosts if scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? "
                                                       "AND resource_name = ?", snapshot, h)}
    assert got == expected and got


# --- SQL shape -------------------------------------------------------------------------------


def all_queries(tr: q.TimeRange):
    f = q.EventFilter.of(tr, 'zzneedle host=qqhost* NOT "x y"')
    return [
        q.event_summary(f), q.timeline(f, "severity", 300), q.top_values(f, "host"), q.events_page(f, ["host"], 10, 0),
        q.top_values_by_field(f, ["host", "status"]), q.search_overview(f, "host", 300, ["index", "status"]),
        q.stats_table(f, "p95", "duration", "host"), q.stats_timechart(f, "avg", "bytes", "host", ["a"], 300),
        q.error_rate(f, 300),
    ]


def test_every_query_filters_time_and_binds_the_search(day):
    # The bound event_date partition predicate of every query: tests/sql/test_query_contract.py.
    for query in all_queries(day):
        tree = sqlglot.parse_one(query.sql, read="athena")
        columns = {c.name for w in tree.find_all(exp.Where) for c in w.find_all(exp.Column)}
        assert "event_time" in columns, query.name
        params = query.param_dict
        assert params["start_date"] == day.start_date and params["end_date"] == day.end_date
        # the user's values are bound, never in the SQL text
        assert "zzneedle" not in query.sql and "qqhost" not in query.sql
        assert "zzneedle" in str(params.values())


def test_end_date_partition_excludes_the_exclusive_midnight():
    tr = q.TimeRange(dt.datetime(2026, 11, 23, 0, 0), dt.datetime(2026, 11, 24, 0, 0))
    assert (tr.start_date, tr.end_date) == (dt.date(2026, 11, 23), dt.date(2026, 11, 23))


@pytest.mark.parametrize(("hours", "bucket_s"), [(0.25, 10), (1, 30), (4, 300), (24, 900), (24 * 7, 3 * 3600), (24 * 31, 12 * 3600)])
def test_auto_bucket_size(hours, bucket_s):
    start = dt.datetime(2026, 11, 1)
    assert q.auto_bucket_seconds(q.TimeRange(start, start + dt.timedelta(hours=hours))) == bucket_s
