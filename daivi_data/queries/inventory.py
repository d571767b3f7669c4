"""Named queries of the inventory view: resources by snapshot, their CUR cost and their hosts' log events.

Every query over `daivi_inventory.resources` carries a `snapshot_date`
predicate (one day, two days or a bounded range), every CUR query a
`billing_period` predicate and every Splunk query an `event_date` predicate:
Athena bills by bytes scanned and the tables are partitioned by those columns.
Values are bound; the only identifiers that vary (the table's selectable
columns, the positional aliases of required tag keys and tag filters) come from
the allow-list below or from a loop index, never from user text. The parts that
vary are built as sqlglot expressions (fixed condition texts parsed as Athena,
columns, literals, limits) and rendered once, never pasted into SQL text.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import sqlglot
from sqlglot import exp

from daivi_data.catalog import require_identifier
from daivi_data.errors import InvalidRequest
from daivi_data.inventory_terms import (
    EBS_SNAPSHOT,
    EBS_VOLUME,
    EC2_INSTANCE,
    ELASTIC_IP,
    INSTANCE_TYPES,
    PREVIOUS_GENERATION_FAMILIES,
    TAG_EQUALS,
    TAG_EXISTS,
    TAG_MISSING,
    TAG_NOT_EQUALS,
    TagCondition,
    old_snapshot_cutoff,
)
from daivi_data.queries import Query, make_query, sql_constant
from daivi_data.queries.overview import billing_period

RESOURCES = "daivi_inventory.resources"
ATHENA = "athena"
COST_WINDOW_DAYS = 30
EVENTS_WINDOW_DAYS = 7
RECENT_EVENT_DAYS = 2  # the event list reads the last days with events only (see host_events)
MAX_EVENTS = 200
MAX_HISTORY_DAYS = 400
MAX_PAGE_SIZE = 500
MAX_REQUIRED_TAGS = 20

# Columns a user may show in the search table (public name -> SQL). `tags` is the whole map.
SEARCH_COLUMNS: dict[str, str] = {
    "resource_id": "resource_id",
    "resource_name": "resource_name",
    "resource_type": "resource_type",
    "account_id": "account_id",
    "region": "region",
    "state": "state",
    "instance_type": "instance_type",
    "volume_type": "volume_type",
    "size_gb": "size_gb",
    "attached": "attached",
    "attached_to": "attached_to",
    "encrypted": "encrypted",
    "public": "public",
    "created_at": "created_at",
    "arn": "arn",
    "tags": "tags",
}
DEFAULT_SEARCH_COLUMNS = ("resource_id", "resource_name", "resource_type", "account_id", "region", "state", "tags")
# A stable order for pages: an id is unique within a snapshot.
SEARCH_ORDER = ("account_id", "resource_type", "resource_id")

# Everything the detail shows, except the raw configuration (excluded for some roles).
DETAIL_COLUMNS = ("resource_id", "resource_name", "resource_type", "account_id", "region", "arn", "state", "created_at",
                  "instance_type", "volume_type", "size_gb", "attached", "attached_to", "encrypted", "public", "tags")
# What a snapshot diff compares (see inventory_analysis.DIFF_FIELDS), plus the identity columns.
DIFF_COLUMNS = ("resource_id", "resource_type", "account_id", "region", "resource_name", "state", "instance_type",
                "volume_type", "size_gb", "attached", "attached_to", "encrypted", "public", "tags")
WASTE_COLUMNS = ("resource_id", "resource_type", "account_id", "region", "resource_name", "state", "created_at",
                 "instance_type", "volume_type", "size_gb", "attached", "attached_to")


@dataclass(frozen=True)
class ResourceFilter:
    """A search over one snapshot. Empty fields do not filter."""

    text: str = ""  # lower-cased fragment of id, name or ARN, matched literally
    tags: tuple[TagCondition, ...] = ()
    resource_types: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    def where(self) -> tuple[list[exp.Expr], dict[str, object]]:
        """SQL conditions (to be joined with AND) and their parameters."""
        parts: list[exp.Expr] = []
        params: dict[str, object] = {}
        if self.text:
            # strpos matches the fragment literally: no LIKE wildcards, no regex, whatever the user typed.
            parts.append(_condition("strpos(lower(resource_id), :text) > 0 OR strpos(lower(coalesce(resource_name, '')), :text) > 0"
                                    " OR strpos(lower(coalesce(arn, '')), :text) > 0"))
            params["text"] = self.text
        for i, cond in enumerate(self.tags):
            key = f"tag_key_{i}"
            params[key] = cond.key
            tag = exp.func("element_at", exp.column("tags"), exp.Placeholder(this=key))
            if cond.op == TAG_EXISTS:
                parts.append(exp.not_(tag.is_(exp.null())))
            elif cond.op == TAG_MISSING:
                parts.append(tag.is_(exp.null()))
            elif cond.op in (TAG_EQUALS, TAG_NOT_EQUALS):
                value = f"tag_value_{i}"
                params[value] = cond.value.lower()
                if cond.op == TAG_EQUALS:
                    parts.append(exp.EQ(this=exp.Lower(this=tag), expression=exp.Placeholder(this=value)))
                else:
                    parts.append(exp.NEQ(this=exp.func("coalesce", exp.Lower(this=tag), exp.Literal.string("")),
                                         expression=exp.Placeholder(this=value)))
            else:  # pragma: no cover - TagCondition is built by parse_tag_search
                raise InvalidRequest(f"Unknown tag operator {cond.op!r}.")
        for name, values, column in (("resource_types", self.resource_types, "resource_type"),
                                     ("accounts", self.accounts, "account_id"),
                                     ("regions", self.regions, "region"),
                                     ("states", self.states, "state")):
            if values:
                parts.append(exp.func("contains", exp.Placeholder(this=name), exp.column(column)))
                params[name] = tuple(values)
        return parts, params


def _condition(sql: str) -> exp.Expr:
    """A fixed condition text (written in this module, never from a request) as an expression."""
    return sqlglot.condition(sql, dialect=ATHENA)


def _columns(names) -> list[exp.Column]:
    return [exp.column(name) for name in names]


def _integer(value: int) -> exp.Expr:
    """A LIMIT or OFFSET: Athena cannot bind them, so a checked integer is written in."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{value!r} is not a whole number of rows.")
    return exp.Literal.number(value)


def _resources(*columns: exp.Expr | str) -> exp.Select:
    return exp.select(*columns, dialect=ATHENA).from_(RESOURCES, dialect=ATHENA)


def _sql_text(build: Callable[..., exp.Expr]) -> Callable[..., str]:
    """`build(*shape)` rendered as Athena SQL once per shape (hashable arguments): a page's rerun renders nothing."""
    @functools.lru_cache(maxsize=256)
    @functools.wraps(build)
    def text(*shape) -> str:
        return build(*shape).sql(dialect=ATHENA, pretty=True)

    return text


def _select_list(columns: tuple[str, ...] | list[str]) -> list[exp.Column]:
    if not columns:
        raise InvalidRequest("Pick at least one column to show.")
    exprs = [require_identifier(c, SEARCH_COLUMNS, "Column") for c in columns]
    if "resource_id" not in columns:
        exprs.insert(0, "resource_id")
    return _columns(dict.fromkeys(exprs))


def _check_range(since: dt.date, until: dt.date, what: str = "date range") -> None:
    if since > until:
        raise InvalidRequest(f"The {what} starts ({since}) after it ends ({until}).")


# --- snapshots and overview --------------------------------------------------------------------

def account_names() -> Query:
    """account_id, account_name from the billing lakehouse (a small table without partitions), for chart labels."""
    return make_query(
        "inventory.account_names",
        """
        SELECT account_id, account_name
        FROM daivi_billing.accounts
        """,
    )


def snapshot_dates(since: dt.date, until: dt.date) -> Query:
    """snapshot_date, resources: the snapshots in a range (what the principal can see of each)."""
    _check_range(since, until)
    return make_query(
        "inventory.snapshot_dates",
        """
        SELECT snapshot_date, COUNT(*) AS resources
        FROM daivi_inventory.resources
        WHERE snapshot_date BETWEEN :since AND :until
        GROUP BY snapshot_date
        ORDER BY snapshot_date
        """,
        since=since, until=until,
    )


def counts_by_dimension(snapshot: dt.date) -> Query:
    """resource_type, account_id, region, state, resources: counts of one snapshot (overview and filter options)."""
    return make_query(
        "inventory.counts_by_dimension",
        """
        SELECT resource_type, account_id, region, state, COUNT(*) AS resources
        FROM daivi_inventory.resources
        WHERE snapshot_date = :snapshot
        GROUP BY resource_type, account_id, region, state
        """,
        snapshot=snapshot,
    )


def trend_by_type(since: dt.date, until: dt.date) -> Query:
    """snapshot_date, resource_type, resources over a range of snapshots."""
    _check_range(since, until)
    return make_query(
        "inventory.trend_by_type",
        """
        SELECT snapshot_date, resource_type, COUNT(*) AS resources
        FROM daivi_inventory.resources
        WHERE snapshot_date BETWEEN :since AND :until
        GROUP BY snapshot_date, resource_type
        ORDER BY snapshot_date, resource_type
        """,
        since=since, until=until,
    )


# Everything diff_snapshots compares, as one text per row: rows whose text differs between two dates
# may have changed (tags as JSON: a different key order gives a false alarm that pandas then drops,
# never a missed change). NULL gets a marker of its own so NULL -> '' counts as a change.
_NULL_MARK = exp.Literal.string("<null>")
_FINGERPRINT: exp.Expr = functools.reduce(
    lambda text, part: exp.DPipe(this=exp.DPipe(this=text, expression=exp.Literal.string("|")), expression=part),
    [cast(exp.Expr, exp.func("coalesce", exp.column(c), _NULL_MARK)) for c in ("resource_name", "state", "instance_type", "volume_type", "attached_to")]
    + [exp.func("coalesce", exp.cast(exp.column(c), "varchar"), _NULL_MARK) for c in ("size_gb", "attached", "encrypted", "public")]
    + [exp.func("coalesce", exp.func("json_format", exp.cast(exp.column("tags"), "json")), _NULL_MARK)],
)


def snapshot_changes(before: dt.date, after: dt.date, account_id: str | None = None) -> Query:
    """The compared attributes, on both dates, of the resources that differ between two snapshots.

    Resources present on one date only, or whose attributes differ, with
    their row of each date (snapshot_date + DIFF_COLUMNS); unchanged resources
    stay in the engine, so a diff of two large snapshots moves only what changed.
    """
    if before == after:
        raise InvalidRequest("Pick two different snapshot dates to compare.")
    params: dict[str, object] = {"before": before, "after": after}
    if account_id:
        params["account_id"] = account_id
    return make_query("inventory.snapshot_changes", _snapshot_changes_sql(bool(account_id)), **params)


@_sql_text
def _snapshot_changes_sql(one_account: bool) -> exp.Expr:
    pair = _resources("snapshot_date", *_columns(DIFF_COLUMNS), exp.alias_(_FINGERPRINT, "fingerprint")).where(
        _condition("snapshot_date IN (:before, :after)"))
    if one_account:
        pair = pair.where(_condition("account_id = :account_id"))
    differing = exp.select("resource_id").from_("pair").group_by("resource_id").having(
        _condition("COUNT(*) = 1 OR MIN(fingerprint) <> MAX(fingerprint)"))
    return (exp.select("snapshot_date", *_columns(DIFF_COLUMNS)).from_("pair")
            .where(_condition("resource_id IN (SELECT resource_id FROM differing)"))
            .with_("pair", as_=pair).with_("differing", as_=differing))


# --- search ------------------------------------------------------------------------------------

def search_count(snapshot: dt.date, flt: ResourceFilter) -> Query:
    """total: how many resources of a snapshot match a search."""
    return make_query("inventory.search_count", _search_sql(flt, None, 0, None), snapshot=snapshot, **flt.where()[1])


@_sql_text
def _search_sql(flt: ResourceFilter, columns: tuple[str, ...] | None, offset: int, limit: int | None) -> exp.Expr:
    """The count of a search (no `columns`), or its rows in a stable order from `offset`, at most `limit`."""
    if columns is None:
        return _resources(exp.alias_(exp.func("COUNT", exp.Star()), "total")).where(_SNAPSHOT_IS, *flt.where()[0])
    tree = _resources(*_select_list(columns)).where(_SNAPSHOT_IS, *flt.where()[0]).order_by(*_columns(SEARCH_ORDER))
    if offset:
        tree = tree.offset(_integer(offset))
    return tree.limit(_integer(limit)) if limit is not None else tree


def search_page(snapshot: dt.date, flt: ResourceFilter, columns: tuple[str, ...], page: int, page_size: int) -> Query:
    """One page (1-based) of a search, in a stable order, with the picked columns."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"Page size must be between 1 and {MAX_PAGE_SIZE}.")
    if page < 1:
        raise InvalidRequest("Page numbers start at 1.")
    return make_query("inventory.search_page", _search_sql(flt, tuple(columns), (page - 1) * page_size, page_size),
                      snapshot=snapshot, **flt.where()[1])


def search_export(snapshot: dt.date, flt: ResourceFilter, columns: tuple[str, ...], max_rows: int) -> Query:
    """The whole result of a search (for the CSV export), capped at `max_rows` + 1 to detect a cut."""
    if max_rows < 1:
        raise InvalidRequest("An export needs room for at least one row.")
    return make_query("inventory.search_export", _search_sql(flt, tuple(columns), 0, max_rows + 1), snapshot=snapshot,
                      **flt.where()[1])


# --- tag compliance ----------------------------------------------------------------------------

def required_tag_values(snapshot: dt.date, keys: tuple[str, ...]) -> tuple[Query, dict[str, str]]:
    """Each resource of a snapshot with the values of the required tag keys.

    Returns the query and {tag key: result column}; columns are positional
    (`tag_0`, ...) because keys are values, not identifiers.
    """
    if not keys:
        raise InvalidRequest("No required tags are configured (setting `daivi.required_tags`).")
    if len(keys) > MAX_REQUIRED_TAGS:
        raise InvalidRequest(f"At most {MAX_REQUIRED_TAGS} required tags (setting `daivi.required_tags`).")
    columns = {key: f"tag_{i}" for i, key in enumerate(keys)}
    return make_query("inventory.required_tag_values", _required_tags_sql(tuple(keys)), snapshot=snapshot), columns


@_sql_text
def _required_tags_sql(keys: tuple[str, ...]) -> exp.Expr:
    # Tag keys stand in the SELECT list, where Athena cannot bind: checked against AWS's alphabet, written in as literals.
    values = [exp.alias_(exp.func("element_at", exp.column("tags"), _tag_key(key)), f"tag_{i}") for i, key in enumerate(keys)]
    return _resources(*_columns(("resource_id", "account_id", "resource_type", "resource_name")), *values).where(_SNAPSHOT_IS)


def _tag_key(key: str) -> exp.Literal:
    sql_constant(key)  # refuses a key outside AWS's tag alphabet (InvalidRequest), as a literal written in must
    return exp.Literal.string(key)


# --- waste -------------------------------------------------------------------------------------

# Which rows of a snapshot can be waste: orphans, stopped instances and their volumes, old snapshots,
# previous-generation and gp2. The pandas rules (inventory_analysis.classify_waste) decide; this
# only keeps the scan small. Shared by the candidate query and the CUR cost join.
def _type_is(resource_type: str) -> exp.Expr:
    return exp.EQ(this=exp.column("resource_type"), expression=exp.Literal.string(resource_type))


def _waste_predicate() -> exp.Expr:
    stopped = _condition("state = 'stopped'")
    stopped_instances = _resources("resource_id").where(_SNAPSHOT_IS, _type_is(EC2_INSTANCE), stopped)
    return exp.or_(
        exp.and_(_type_is(EBS_VOLUME), exp.or_(_condition("attached = false OR state = 'available' OR volume_type = 'gp2'"),
                                               exp.column("attached_to").isin(query=stopped_instances))),
        exp.and_(_type_is(EC2_INSTANCE), stopped),
        exp.and_(_type_is(ELASTIC_IP), _condition("attached = false")),
        exp.and_(_type_is(EBS_SNAPSHOT), _condition("created_at < :old_before")),
        exp.and_(exp.column("resource_type").isin(*(exp.Literal.string(t) for t in INSTANCE_TYPES)),
                 _condition("contains(:previous_families, split_part(replace(lower(instance_type), 'db.', ''), '.', 1))")),
    )


def _waste_costs_tree() -> exp.Expr:
    candidates = _resources("resource_id").where(_SNAPSHOT_IS, _WASTE_PREDICATE)
    return (exp.select("line_item_resource_id AS resource_id", "COALESCE(line_item_currency_code, 'USD') AS currency",
                       "SUM(line_item_unblended_cost) AS cost_30d", dialect=ATHENA)
            .from_("daivi_cur.cur", dialect=ATHENA)
            .where(_condition("billing_period IN (:period_start, :period_end) AND line_item_usage_start_date >= :cost_start "
                              "AND line_item_usage_start_date < :cost_end"),
                   exp.column("line_item_resource_id").isin(query=candidates))
            .group_by("line_item_resource_id", "COALESCE(line_item_currency_code, 'USD')", dialect=ATHENA))


_SNAPSHOT_IS = _condition("snapshot_date = :snapshot")
_WASTE_PREDICATE = _waste_predicate()
# The waste queries have one shape: rendered once.
_WASTE_CANDIDATES_SQL = _resources(*_columns(WASTE_COLUMNS)).where(_SNAPSHOT_IS, _WASTE_PREDICATE).sql(dialect=ATHENA, pretty=True)
_WASTE_COSTS_SQL = _waste_costs_tree().sql(dialect=ATHENA, pretty=True)


def waste_candidates(snapshot: dt.date, old_snapshot_days: int) -> Query:
    """Rows of a snapshot that a waste rule may flag (see inventory_analysis.classify_waste)."""
    return make_query(
        "inventory.waste_candidates", _WASTE_CANDIDATES_SQL,
        snapshot=snapshot, old_before=old_snapshot_cutoff(snapshot, old_snapshot_days),
        previous_families=tuple(sorted(PREVIOUS_GENERATION_FAMILIES)),
    )


def cost_window(snapshot: dt.date, days: int = COST_WINDOW_DAYS) -> tuple[dt.datetime, dt.datetime, str, str]:
    """[start, end) of the `days` days ending with the snapshot day, and the billing periods it touches."""
    start_day = snapshot - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(start_day, dt.time())
    end = dt.datetime.combine(snapshot + dt.timedelta(days=1), dt.time())
    return start, end, billing_period(start_day), billing_period(snapshot)


def waste_costs(snapshot: dt.date, old_snapshot_days: int) -> Query:
    """resource_id, currency, cost_30d: CUR unblended cost over the last 30 days of every waste candidate, per currency.

    Joins the CUR to the inventory by resource id (a semi-join on the
    candidate ids), so only candidate line items are summed and returned.
    Amounts of different currencies are never added (a row without a code counts as USD).
    """
    start, end, period_start, period_end = cost_window(snapshot)
    return make_query(
        "inventory.waste_costs", _WASTE_COSTS_SQL,
        snapshot=snapshot, old_before=old_snapshot_cutoff(snapshot, old_snapshot_days),
        previous_families=tuple(sorted(PREVIOUS_GENERATION_FAMILIES)),
        period_start=period_start, period_end=period_end, cost_start=start, cost_end=end,
    )


# --- detail and history ------------------------------------------------------------------------

def resource_detail(snapshot: dt.date, resource_id: str, include_configuration: bool) -> Query:
    """One resource on one snapshot: every attribute (and the raw configuration when the role may read it)."""
    return make_query("inventory.resource_detail", _resource_detail_sql(bool(include_configuration)), snapshot=snapshot,
                      resource_id=resource_id)


@_sql_text
def _resource_detail_sql(include_configuration: bool) -> exp.Expr:
    columns = DETAIL_COLUMNS + (("configuration",) if include_configuration else ())
    return _resources(*_columns(columns)).where(_SNAPSHOT_IS, _condition("resource_id = :resource_id"))


def resources_by_host(snapshot: dt.date, host: str) -> Query:
    """resource_id, resource_type, account_id, region, state of the resources named `host` (exact, case-insensitive)."""
    return make_query(
        "inventory.resources_by_host",
        """
        SELECT resource_id, resource_name, resource_type, account_id, region, state
        FROM daivi_inventory.resources
        WHERE snapshot_date = :snapshot AND lower(resource_name) = :host
        ORDER BY resource_type, resource_id
        """,
        snapshot=snapshot, host=host.strip().lower(),
    )


def resource_seen(resource_id: str, since: dt.date, until: dt.date) -> Query:
    """first_seen, last_seen, snapshots: where a resource appears in a range of snapshots.

    Reads only the id (and the partition value) of each snapshot, where `resource_history` reads
    every compared attribute: the detail asks this first and the history only for the days it shows.
    """
    _check_range(since, until)
    return make_query(
        "inventory.resource_seen",
        """
        SELECT MIN(snapshot_date) AS first_seen, MAX(snapshot_date) AS last_seen, COUNT(*) AS snapshots
        FROM daivi_inventory.resources
        WHERE snapshot_date BETWEEN :since AND :until AND resource_id = :resource_id
        """,
        resource_id=resource_id, since=since, until=until,
    )


def resource_history(resource_id: str, since: dt.date, until: dt.date) -> Query:
    """The compared attributes of one resource on each snapshot of a range (first/last seen, timeline)."""
    _check_range(since, until)
    return make_query("inventory.resource_history", _RESOURCE_HISTORY_SQL, resource_id=resource_id, since=since, until=until)


_RESOURCE_HISTORY_SQL = (_resources("snapshot_date", *_columns(DIFF_COLUMNS))
                         .where(_condition("snapshot_date BETWEEN :since AND :until AND resource_id = :resource_id"))
                         .order_by("snapshot_date").sql(dialect=ATHENA, pretty=True))


def resource_daily_cost(resource_id: str, snapshot: dt.date, days: int = COST_WINDOW_DAYS) -> Query:
    """usage_date, line_item_type, currency, cost: a resource's CUR cost per day and currency (never added) over the
    `days` days ending with `snapshot`."""
    start, end, period_start, period_end = cost_window(snapshot, days)
    return make_query(
        "inventory.resource_daily_cost",
        """
        SELECT CAST(line_item_usage_start_date AS DATE) AS usage_date, line_item_line_item_type AS line_item_type,
               COALESCE(line_item_currency_code, 'USD') AS currency, SUM(line_item_unblended_cost) AS cost
        FROM daivi_cur.cur
        WHERE billing_period IN (:period_start, :period_end)
          AND line_item_usage_start_date >= :cost_start AND line_item_usage_start_date < :cost_end
          AND line_item_resource_id = :resource_id
        GROUP BY CAST(line_item_usage_start_date AS DATE), line_item_line_item_type, COALESCE(line_item_currency_code, 'USD')
        ORDER BY usage_date
        """,
        resource_id=resource_id, period_start=period_start, period_end=period_end, cost_start=start, cost_end=end,
    )


def host_events(host: str, since: dt.date, until: dt.date, limit: int = MAX_EVENTS) -> Query:
    """The latest `limit` log events of a host between two event dates (inclusive).

    The page asks for the last two days that have events (see host_event_counts'
    latest_date): every column of a wide event is read for each row the sort
    considers, so a short window keeps this fast on a large lakehouse.
    """
    _check_range(since, until)
    return make_query("inventory.host_events", _host_events_sql(limit), host=host, since=since, until=until)


@_sql_text
def _host_events_sql(limit: int) -> exp.Expr:
    return (exp.select(*_columns(("event_time", "index_name", "sourcetype", "severity", "http_method", "http_path", "http_status",
                                  "duration_ms", "message"))).from_("daivi_splunk.events", dialect=ATHENA)
            .where(_condition("event_date BETWEEN :since AND :until AND host = :host"))
            .order_by("event_time DESC", dialect=ATHENA).limit(_integer(limit)))


def host_event_counts(host: str, until: dt.date, days: int = EVENTS_WINDOW_DAYS) -> Query:
    """severity, events, latest_date: a host's events by severity over the `days` days ending with `until`."""
    return make_query(
        "inventory.host_event_counts",
        """
        SELECT severity, COUNT(*) AS events, MAX(event_date) AS latest_date
        FROM daivi_splunk.events
        WHERE event_date BETWEEN :since AND :until AND host = :host
        GROUP BY severity
        """,
        host=host, since=until - dt.timedelta(days=days - 1), until=until,
    )
