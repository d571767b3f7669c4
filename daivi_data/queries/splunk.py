"""Named queries of the Logs view over `daivi_splunk.events`.

Every query prunes partitions (`event_date BETWEEN :start_date AND :end_date`)
and filters `event_time` to the half-open range [start, end). A user's search
arrives compiled by `daivi_data.search_language` (a fragment over allow-listed
columns with `:s<n>` placeholders); field names chosen in widgets go through
`field_column()`. Values are always bound; the parts of a query that vary
(allow-listed columns, the program's own numbers and labels, the compiled search)
are sqlglot expressions filled into constant templates (`_render`), never text
pasted into SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from daivi_data.errors import InvalidRequest
from daivi_data.queries import Query, built_once, make_query
from daivi_data.search_language import FACET_FIELDS, FIELDS, NUMERIC_FIELDS, CompiledSearch, compile_search, lookup_field

MAX_RANGE_DAYS = 31
TARGET_BUCKETS = 120
# Bucket sizes a timeline may use, smallest first (seconds).
BUCKET_SIZES_S = (1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
RELATIVE_RANGES: dict[str, dt.timedelta] = {
    "15m": dt.timedelta(minutes=15),
    "1h": dt.timedelta(hours=1),
    "4h": dt.timedelta(hours=4),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
RELATIVE_RANGE_LABELS = {"15m": "Last 15 minutes", "1h": "Last hour", "4h": "Last 4 hours", "24h": "Last 24 hours", "7d": "Last 7 days"}
TOP_VALUES_LIMIT = 10
MAX_SERIES = 8  # stacked / split series before the rest becomes "other"
PAGE_SIZE = 50
MAX_PAGED_ROWS = 10_000  # deepest row the Events table pages to (OFFSET cost grows with depth)
EXPORT_MAX_ROWS = 10_000
STATS_GROUPS_LIMIT = 50
NEWEST_EVENT_LOOKBACK_DAYS = 7
ERROR_SEVERITIES = ("ERROR", "CRITICAL")
OTHER = "other"
NONE_VALUE = "(none)"

# Columns the Events table may show (the partition column is implied by event_time).
EVENT_COLUMNS = (
    "event_time", "index_name", "sourcetype", "source", "host", "account_id", "severity", "http_method",
    "http_path", "http_status", "bytes", "duration_ms", "user_name", "client_ip", "message",
)
EVENT_ORDER = ("event_time", "host", "source", "message")  # events_page's order: newest first, then these
DEFAULT_EVENT_COLUMNS = ("event_time", "index_name", "host", "severity", "http_status", "message")
STATS = {"count": "count", "dc": "distinct count", "avg": "average", "p95": "95th percentile"}


@dataclass(frozen=True)
class TimeRange:
    """A half-open UTC range [start, end) of naive datetimes."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self):
        if self.end <= self.start:
            raise InvalidRequest(f"The time range ends ({self.end:%Y-%m-%d %H:%M}) before it starts ({self.start:%Y-%m-%d %H:%M}).")

    @property
    def start_date(self) -> dt.date:
        return self.start.date()

    @property
    def end_date(self) -> dt.date:
        """The partition holding the last instant of the range (end is exclusive)."""
        return (self.end - dt.timedelta(microseconds=1)).date()

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S} – {self.end:%Y-%m-%d %H:%M:%S} UTC"


def relative_range(key: str, anchor: dt.datetime) -> TimeRange:
    """The preset range `key` ending at `anchor` (exclusive)."""
    if key not in RELATIVE_RANGES:
        raise InvalidRequest(f"Time range {key!r} is not one of: {', '.join(RELATIVE_RANGES)}.")
    return TimeRange(anchor - RELATIVE_RANGES[key], anchor)


def bounded_range(start: dt.datetime, end: dt.datetime) -> tuple[TimeRange, str | None]:
    """A range of at most MAX_RANGE_DAYS (its last days), and a notice when it was shortened."""
    requested = TimeRange(start, end)
    limit = dt.timedelta(days=MAX_RANGE_DAYS)
    if end - start <= limit:
        return requested, None
    bounded = TimeRange(end - limit, end)
    notice = (
        f"The range {start:%Y-%m-%d} – {end:%Y-%m-%d} spans {(end - start).days} days; the Logs view searches at most "
        f"{MAX_RANGE_DAYS} days at a time, so it shows the last {MAX_RANGE_DAYS}: {bounded.label()}."
    )
    return bounded, notice


def auto_bucket_seconds(time_range: TimeRange, target: int = TARGET_BUCKETS) -> int:
    """The smallest standard bucket that splits the range into at most `target` bars."""
    for size in BUCKET_SIZES_S:
        if time_range.seconds / size <= target:
            return size
    return BUCKET_SIZES_S[-1]


def bucket_origin(time_range: TimeRange, bucket_s: int) -> dt.datetime:
    """The range start floored to the bucket size, so bars start on round times (13:05, not 13:04:37)."""
    epoch = dt.datetime(1970, 1, 1)
    offset = int((time_range.start - epoch).total_seconds()) // bucket_s * bucket_s
    return epoch + dt.timedelta(seconds=offset)


def field_column(name: str, *, numeric: bool = False) -> str:
    """The column of a field chosen in a widget (allow-listed), optionally required to be numeric."""
    field = lookup_field(name)
    if numeric and not field.numeric:
        raise InvalidRequest(f"{field.name} is not numeric; choose one of: {', '.join(NUMERIC_FIELDS)}.")
    return field.column


def _facet_column(name: str) -> str:
    if lookup_field(name).name not in FACET_FIELDS:
        raise InvalidRequest(f"Field {name!r} cannot be grouped by; choose one of: {', '.join(FACET_FIELDS)}.")
    return field_column(name)


@dataclass(frozen=True)
class EventFilter:
    """What every Logs query filters by: a time range and a compiled search."""

    time_range: TimeRange
    search: CompiledSearch

    @classmethod
    def of(cls, time_range: TimeRange, search: str) -> EventFilter:
        return cls(time_range, compile_search(search))

    def condition(self) -> exp.Expr:
        """The partition and time predicates, and the compiled search (allow-listed columns and placeholders only)."""
        return exp.and_(_parse(_RANGE_CONDITION), exp.paren(sqlglot.condition(self.search.sql, dialect=ATHENA)))

    def params(self) -> dict[str, object]:
        tr = self.time_range
        return {"start_date": tr.start_date, "end_date": tr.end_date, "start_time": tr.start, "end_time": tr.end, **self.search.params}


_RANGE_CONDITION = "event_date BETWEEN :start_date AND :end_date AND event_time >= :start_time AND event_time < :end_time"

# --- building the SQL: constant templates whose `__hole__` names are filled with sqlglot expressions ----------
# Nothing a request holds is written into SQL text: values are bound placeholders; the parts that vary
# (allow-listed columns, the program's own numbers and labels, the compiled search) are expressions.

ATHENA = "athena"
Hole = exp.Expr | list[exp.Expr]


@lru_cache(maxsize=64)
def _parsed(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read=ATHENA)


def _parse(sql: str) -> exp.Expr:
    """A constant SQL text of this module as a (fresh) expression."""
    return _parsed(sql).copy()


def _render(template: str, **holes: Hole) -> str:
    """`template` (a constant) with each `__name__` column replaced by `holes[name]` (a list fills a list in place)."""
    tree = _parse(template)
    for column in list(tree.find_all(exp.Column)):
        name = column.name
        if not (name.startswith("__") and name.endswith("__")):
            continue
        value = holes[name.strip("_")]
        target: exp.Expr = column
        if isinstance(value, list) and isinstance(column.parent, exp.Ordered):  # sort keys, each sorted as the hole is
            target, value = column.parent, [_sorted_as(column.parent, v) for v in value]
        if isinstance(value, list):
            parent, key = target.parent, target.arg_key
            assert parent is not None and key is not None  # a hole is always inside the template's tree
            siblings = parent.args[key]
            at = siblings.index(target)
            parent.set(key, [*siblings[:at], *(v.copy() for v in value), *siblings[at + 1:]])
        else:
            target.replace(value.copy())
    return tree.sql(dialect=ATHENA, pretty=True)


def _sorted_as(key: exp.Ordered, value: exp.Expr) -> exp.Ordered:
    ordered = key.copy()
    ordered.set("this", value.copy())
    return ordered


def _query(name: str, template: str, holes: dict[str, Hole], **params: object) -> Query:
    return make_query(name, _render(template, **holes), **params)


def _text(value: str) -> exp.Literal:
    """A label of this module's own ('(none)', 'other', a field name): a string literal, escaped by sqlglot."""
    return exp.Literal.string(value)


def _number(value: int) -> exp.Expr:
    """A count the program checked (LIMIT, OFFSET, a rank, a bucket size): Athena cannot bind these."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{value!r} is not a whole number.")
    return exp.Literal.number(value)


def _timestamp(value: dt.datetime) -> exp.Expr:
    return exp.cast(exp.Literal.string(f"{value:%Y-%m-%d %H:%M:%S}"), exp.DataType.build("timestamp"))


def _value_of(column: str) -> exp.Expr:
    """A facet column's value as text, NULL as NONE_VALUE."""
    return exp.func("coalesce", exp.cast(exp.column(column), exp.DataType.build("varchar")), _text(NONE_VALUE))


def _bucket_expr(time_range: TimeRange, bucket_s: int) -> exp.Expr:
    # Integer seconds since a round origin, floored to the bucket (integer division in both engines).
    # Both are the program's own numbers, written in: Athena binds values only in WHERE.
    if bucket_s not in BUCKET_SIZES_S:
        raise InvalidRequest(f"Bucket size {bucket_s!r} is not one of: {', '.join(map(str, BUCKET_SIZES_S))} seconds.")
    origin, size = _timestamp(bucket_origin(time_range, bucket_s)), _number(bucket_s)
    return _parse(_BUCKET).transform(lambda n: origin.copy() if _is(n, "origin") else size.copy() if _is(n, "size") else n)


_BUCKET = "date_add('second', date_diff('second', __origin__, event_time) / __size__ * __size__, __origin__)"


def _is(node: exp.Expr, hole: str) -> bool:
    return isinstance(node, exp.Column) and node.name == f"__{hole}__"


@built_once
def newest_event_time(latest_date: dt.date) -> Query:
    """The newest event the principal can see, looking back a few partitions from `latest_date`."""
    return make_query(
        "splunk.newest_event_time",
        """
        SELECT MAX(event_time) AS newest
        FROM daivi_splunk.events
        WHERE event_date BETWEEN :since_date AND :latest_date
        """,
        since_date=latest_date - dt.timedelta(days=NEWEST_EVENT_LOOKBACK_DAYS),
        latest_date=latest_date,
    )


@built_once
def event_summary(f: EventFilter) -> Query:
    """Matching events: count and first/last event time."""
    return _query("splunk.event_summary", """
        SELECT COUNT(*) AS events, MIN(event_time) AS first_event, MAX(event_time) AS last_event
        FROM daivi_splunk.events
        WHERE __where__
        """, {"where": f.condition()}, **f.params())


@built_once
def timeline(f: EventFilter, split_field: str, bucket_s: int) -> Query:
    """Events per bucket and per value of `split_field` (the top MAX_SERIES values; the rest as 'other')."""
    return _query("splunk.timeline", """
        WITH matched AS (
          SELECT event_time, __value__ AS value
          FROM daivi_splunk.events
          WHERE __where__
        ),
        top_values AS (
          SELECT value FROM matched GROUP BY value ORDER BY COUNT(*) DESC, value LIMIT __series__
        )
        SELECT __bucket__ AS bucket,
               CASE WHEN value IN (SELECT value FROM top_values) THEN value ELSE __other__ END AS value,
               COUNT(*) AS events
        FROM matched
        GROUP BY 1, 2
        ORDER BY 1, 2
        """, {"value": _value_of(_facet_column(split_field)), "where": f.condition(), "series": _number(MAX_SERIES),
              "bucket": _bucket_expr(f.time_range, bucket_s), "other": _text(OTHER)}, **f.params())


@built_once
def top_values(f: EventFilter, field: str, limit: int = TOP_VALUES_LIMIT) -> Query:
    """The most frequent values of a field with exact counts, how many distinct values, and events having it."""
    column = exp.column(_facet_column(field))
    return _query("splunk.top_values", """
        SELECT value, events, distinct_values, events_with_field
        FROM (
          SELECT value, events,
                 COUNT(*) OVER () AS distinct_values,
                 CAST(SUM(events) OVER () AS BIGINT) AS events_with_field
          FROM (
            SELECT CAST(__column__ AS VARCHAR) AS value, COUNT(*) AS events
            FROM daivi_splunk.events
            WHERE __where__ AND __column__ IS NOT NULL
            GROUP BY 1
          ) AS counted
        ) AS ranked
        ORDER BY events DESC, value
        LIMIT __limit__
        """, {"column": column, "where": f.condition(), "limit": _count(limit, "limit")}, **f.params())


def _grouped_field(names: list[str], columns: list[str], first: tuple[exp.Expr, str] | None = None) -> exp.Case:
    """Which grouping set a GROUPING SETS row belongs to: the name of the one column grouped (`first` tested first)."""
    tests = [first] if first else []
    tests += [(exp.column(c), n) for n, c in zip(names, columns, strict=True)]
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.func("grouping", column), expression=_number(0)), true=_text(name))
                         for column, name in tests])


@built_once
def top_values_by_field(f: EventFilter, fields: tuple[str, ...] | list[str], limit: int = TOP_VALUES_LIMIT) -> Query:
    """`top_values` for several fields in one scan (GROUPING SETS): the Fields panel's single query.

    Athena bills each query for the columns it reads, and a message search
    makes every query read `message`; one grouped query reads it once.
    """
    names = list(dict.fromkeys(lookup_field(name).name for name in fields))
    if not names:
        raise InvalidRequest("Choose at least one field.")
    columns = [_facet_column(name) for name in names]
    as_text = [exp.cast(exp.column(c), exp.DataType.build("varchar")) for c in columns]  # only the grouped column is non-NULL
    return _query("splunk.top_values_by_field", """
        SELECT field, value, events, distinct_values, events_with_field
        FROM (
          SELECT field, value, events,
                 COUNT(*) OVER (PARTITION BY field) AS distinct_values,
                 CAST(SUM(events) OVER (PARTITION BY field) AS BIGINT) AS events_with_field,
                 ROW_NUMBER() OVER (PARTITION BY field ORDER BY events DESC, value) AS value_rank
          FROM (
            SELECT __field__ AS field, __value__ AS value, COUNT(*) AS events
            FROM daivi_splunk.events
            WHERE __where__
            GROUP BY GROUPING SETS (__sets__)
          ) AS counted
          WHERE value IS NOT NULL
        ) AS ranked
        WHERE value_rank <= __limit__
        ORDER BY field, events DESC, value
        """, {"field": _grouped_field(names, columns), "value": exp.func("coalesce", *as_text), "where": f.condition(),
              "sets": [exp.Tuple(expressions=[exp.column(c)]) for c in columns], "limit": _count(limit, "limit")}, **f.params())


TIMELINE_PART = "_timeline"  # the overview's rows for the timeline (field names never start with "_")


@built_once
def search_overview(f: EventFilter, split_field: str, bucket_s: int, fields: tuple[str, ...] | list[str],
                    limit: int = TOP_VALUES_LIMIT) -> Query:
    """The count, first and last event, timeline and Fields panel of a search, in one scan of the matching events.

    Rows with `part` = TIMELINE_PART are `timeline`'s (bucket, value, events; first/last event per row);
    the others are `top_values_by_field`'s (part = the field). A message search is the costly part of a
    query (every message read and matched); one scan with GROUPING SETS does it once instead of three times.
    """
    names = list(dict.fromkeys(lookup_field(name).name for name in fields))
    columns = [_facet_column(name) for name in names]
    aliases = [f"f{i}" for i in range(len(columns))]
    facets = [exp.alias_(exp.cast(exp.column(c), exp.DataType.build("varchar")), a) for c, a in zip(columns, aliases, strict=True)]
    return _query("splunk.search_overview", """
        SELECT part, bucket, CASE WHEN part = __timeline__ AND series_rank > __series__ THEN __other__ ELSE value END AS value,
               CAST(SUM(events) AS BIGINT) AS events, MIN(first_event) AS first_event, MAX(last_event) AS last_event,
               MAX(distinct_values) AS distinct_values, MAX(events_with_field) AS events_with_field
        FROM (
          SELECT part, bucket, value, events, first_event, last_event,
                 COUNT(*) OVER (PARTITION BY part) AS distinct_values,
                 CAST(SUM(events) OVER (PARTITION BY part) AS BIGINT) AS events_with_field,
                 ROW_NUMBER() OVER (PARTITION BY part ORDER BY events DESC, value) AS value_rank,
                 DENSE_RANK() OVER (PARTITION BY part ORDER BY series_events DESC, value) AS series_rank
          FROM (
            SELECT part, bucket, value, events, first_event, last_event,
                   SUM(events) OVER (PARTITION BY part, value) AS series_events
            FROM (
              SELECT __part__ AS part, bucket, COALESCE(series, __facets__) AS value,
                     COUNT(*) AS events, MIN(event_time) AS first_event, MAX(event_time) AS last_event
              FROM (
                SELECT event_time, __bucket__ AS bucket, __series_value__ AS series, __facet_columns__
                FROM daivi_splunk.events
                WHERE __where__
              ) AS matched
              GROUP BY GROUPING SETS ((bucket, series), __sets__)
            ) AS counted
            WHERE value IS NOT NULL
          ) AS per_series
        ) AS ranked
        WHERE part = __timeline__ OR value_rank <= __limit__
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 4 DESC, 3
        """, {
        "timeline": _text(TIMELINE_PART), "series": _number(MAX_SERIES), "other": _text(OTHER),
        "part": _grouped_field(names, aliases, first=(exp.column("series"), TIMELINE_PART)),
        "facets": [exp.column(a) for a in aliases], "bucket": _bucket_expr(f.time_range, bucket_s),
        "series_value": _value_of(_facet_column(split_field)), "facet_columns": facets, "where": f.condition(),
        "sets": [exp.Tuple(expressions=[exp.column(a)]) for a in aliases], "limit": _count(limit, "limit"),
    }, **f.params())


@built_once
def events_page(f: EventFilter, columns: tuple[str, ...] | list[str], limit: int = PAGE_SIZE, offset: int = 0) -> Query:
    """Matching events, newest first (ties: host, source, message, then the other chosen columns): the chosen columns
    (always with event_time) for one page."""
    chosen = [c for c in columns if c in EVENT_COLUMNS]
    unknown = [c for c in columns if c not in EVENT_COLUMNS]
    if unknown:
        raise InvalidRequest(f"Unknown event column {unknown[0]!r}; choose from: {', '.join(EVENT_COLUMNS)}.")
    selected = list(dict.fromkeys(["event_time", *chosen]))
    if not 1 <= limit <= EXPORT_MAX_ROWS or offset < 0 or offset + limit > max(MAX_PAGED_ROWS, EXPORT_MAX_ROWS):
        raise InvalidRequest(f"Events can be read {EXPORT_MAX_ROWS:,} at a time, up to row {MAX_PAGED_ROWS:,}.")
    # Ties on the order's keys are broken by the other shown columns: the order is total over what is shown,
    # and a top-N whose sort keys are all it shows reads each row once (DuckDB otherwise reads the page's rows a
    # second time, `message` included, to fetch the columns that are not keys).
    ties: list[exp.Expr] = [exp.column(c) for c in selected if c not in EVENT_ORDER]
    return _query("splunk.events_page", """
        SELECT __columns__
        FROM daivi_splunk.events
        WHERE __where__
        ORDER BY event_time DESC, host, source, message, __ties__
        OFFSET __offset__ LIMIT __limit__
        """, {"columns": [exp.column(c) for c in selected], "where": f.condition(), "ties": ties, "offset": _number(offset),
              "limit": _number(limit)}, **f.params())


def _count(value: int, what: str) -> exp.Expr:
    """A row count for LIMIT / a rank bound (Athena cannot bind it there)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= EXPORT_MAX_ROWS:
        raise InvalidRequest(f"The {what} must be a whole number from 1 to {EXPORT_MAX_ROWS:,}, not {value!r}.")
    return _number(value)


_STATS = {
    "count": "CAST(COUNT(*) AS DOUBLE)",
    "dc": "CAST(COUNT(DISTINCT __column__) AS DOUBLE)",
    "avg": "AVG(__column__)",
    "p95": "approx_percentile(__column__, 0.95)",
}


def _stat_expr(stat: str, of_field: str) -> exp.Expr:
    if stat not in _STATS:
        raise InvalidRequest(f"Statistic {stat!r} is not one of: {', '.join(STATS)}.")
    column = exp.column(field_column(of_field, numeric=stat in ("avg", "p95"))) if stat != "count" else None
    return _parse(_STATS[stat]).transform(lambda n: column.copy() if column is not None and _is(n, "column") else n)


@built_once
def stats_table(f: EventFilter, stat: str, of_field: str, by_field: str, limit: int = STATS_GROUPS_LIMIT) -> Query:
    """Per value of `by_field`: events and the statistic of `of_field`, largest statistic first."""
    return _query("splunk.stats_table", """
        SELECT __value__ AS value, COUNT(*) AS events, __stat__ AS stat
        FROM daivi_splunk.events
        WHERE __where__
        GROUP BY 1
        ORDER BY 3 DESC NULLS LAST, 1
        LIMIT __limit__
        """, {"value": _value_of(_facet_column(by_field)), "stat": _stat_expr(stat, of_field), "where": f.condition(),
              "limit": _count(limit, "limit")}, **f.params())


@built_once
def stats_timechart(f: EventFilter, stat: str, of_field: str, by_field: str, series: list[str], bucket_s: int) -> Query:
    """The statistic per bucket for each value in `series` (others grouped as 'other')."""
    value = _value_of(_facet_column(by_field))
    if not series:
        raise InvalidRequest("The timechart needs at least one value to chart.")
    # Every event meets both rows of `k`; WHERE keeps the one whose flag says whether its value is a series.
    # The series are values from data: bound, so tested in WHERE, the one place Athena binds them.
    return _query("splunk.stats_timechart", """
        SELECT __bucket__ AS bucket, CASE WHEN kept THEN __value__ ELSE __other__ END AS value, __stat__ AS stat
        FROM daivi_splunk.events
        CROSS JOIN (VALUES true, false) AS k (kept)
        WHERE __where__ AND kept = contains(:series, __value__)
        GROUP BY 1, 2
        ORDER BY 1, 2
        """, {"bucket": _bucket_expr(f.time_range, bucket_s), "value": value, "other": _text(OTHER),
              "stat": _stat_expr(stat, of_field), "where": f.condition()}, series=tuple(series[:MAX_SERIES]), **f.params())


@built_once
def error_rate(f: EventFilter, bucket_s: int) -> Query:
    """Per bucket: events, HTTP events, 5xx responses, ERROR/CRITICAL events, and both shares (0..1)."""
    return _query("splunk.error_rate", """
        SELECT bucket, events, http_events, server_errors, error_events,
               CAST(server_errors AS DOUBLE) / NULLIF(http_events, 0) AS server_error_share,
               CAST(error_events AS DOUBLE) / NULLIF(events, 0) AS error_share
        FROM (
          SELECT __bucket__ AS bucket,
                 COUNT(*) AS events,
                 CAST(COUNT_IF(http_status IS NOT NULL) AS BIGINT) AS http_events,
                 CAST(COUNT_IF(http_status >= 500) AS BIGINT) AS server_errors,
                 CAST(COUNT_IF(severity IN (__severities__)) AS BIGINT) AS error_events
          FROM daivi_splunk.events
          WHERE __where__
          GROUP BY 1
        ) AS per_bucket
        ORDER BY bucket
        """, {"bucket": _bucket_expr(f.time_range, bucket_s), "severities": [_text(s) for s in ERROR_SEVERITIES],
              "where": f.condition()}, **f.params())


@built_once
def inventory_hosts(snapshot: dt.date, hosts: list[str]) -> Query:
    """Which of `hosts` are resources in the inventory snapshot (to link them to the Inventory view)."""
    return make_query(
        "splunk.inventory_hosts",
        """
        SELECT DISTINCT resource_name AS host
        FROM daivi_inventory.resources
        WHERE snapshot_date = :snapshot AND contains(:hosts, resource_name)
        """,
        snapshot=snapshot,
        hosts=tuple(sorted(set(hosts))),
    )


__all__ = [
    "DEFAULT_EVENT_COLUMNS", "EVENT_COLUMNS", "EXPORT_MAX_ROWS", "FIELDS", "MAX_PAGED_ROWS", "MAX_RANGE_DAYS", "PAGE_SIZE",
    "RELATIVE_RANGES", "STATS", "EventFilter", "TimeRange", "auto_bucket_seconds", "bounded_range", "error_rate",
    "event_summary", "events_page", "search_overview", "inventory_hosts", "newest_event_time", "relative_range", "stats_table",
    "stats_timechart", "timeline", "top_values",
]
