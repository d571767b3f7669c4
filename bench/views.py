"""The heavy view states the benchmarks measure: each one's full query set, built with the real query builders.

A view state is what a person opens (a page, its URL parameters, a persona) and
the queries that page runs for it, in the page's order. Queries that depend on
an earlier result (Cost Explorer's top N needs the totals; Logs' time range
needs the newest event) run that earlier query on the engine to build the next
one, as the page does. Kept in step with views/*.py by hand: when a page changes
its queries, change its state here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from daivi_data import clock
from daivi_data import cost_analysis as ca
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.identity import Principal
from daivi_data.models import cur as cur_model
from daivi_data.queries import Query, billing
from daivi_data.queries import cur as cq
from daivi_data.queries import inventory as iq
from daivi_data.queries import splunk as sq
from daivi_data.queries.billing import CostFilter, CostScope, Dimension

CURRENCY = "USD"
LOGS_PHRASE = '"connection pool exhausted"'  # a quoted phrase: a substring match over every message of the range

Build = Callable[[DuckDBEngine, Principal], list[Query]]


@dataclass(frozen=True)
class ViewState:
    name: str
    page: str  # url path of the page (AppTest switch_page target is views/<file>)
    script: str  # views/<file>.py
    params: dict[str, str] = field(default_factory=dict)  # URL query parameters that open this state
    build: Build | None = None


def _as_of(engine: DuckDBEngine) -> dt.date:
    return dt.date.fromisoformat(engine.manifest["end_date"])


def cost_explorer_queries(engine: DuckDBEngine, principal: Principal, preset: str, granularity: str, group: Dimension,
                          group2: Dimension | None, filters: tuple[CostFilter, ...], all_tabs: bool) -> list[Query]:
    """The queries Cost Explorer runs for one view, in its order (top N needs the totals first)."""
    as_of = _as_of(engine)
    latest_period = engine.table_info("daivi_billing", "cost_daily").latest_partition
    start, end = ca.preset_range(preset, as_of)
    scope = CostScope(start, end, "unblended", filters)
    compare = ca.comparison_range(start, end)
    queries = [billing.data_end(latest_period), billing.tag_keys(start, end), billing.accounts(),
               billing.dimension_values(CostScope(start, end)), billing.group_totals(scope, group, group2, *compare)]
    totals = engine.run(queries[-1], principal).df
    keep = tuple(ca.top_groups(totals.groupby("group1")["cost"].sum(), 10))
    keep2 = tuple(ca.top_groups(totals.groupby("group2")["cost"].sum(), 10)) if group2 is not None else ()
    queries.append(billing.cost_series(scope, granularity, group, keep, group2, keep2))
    history_start = min(ca.quarter_start(as_of), as_of - dt.timedelta(days=ca.FORECAST_TRAINING_DAYS - 1))
    queries.append(billing.daily_totals(scope.with_range(history_start, as_of)))
    if all_tabs:
        detect_start = max(start, end - dt.timedelta(days=91))
        by_day_query = billing.daily_by_group(scope.with_range(detect_start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), end),
                                              Dimension("service"))
        queries.append(by_day_query)
        by_day = engine.run(by_day_query, principal).df
        events = ca.detect_anomalies(by_day.rename(columns={"group1": "group"}), detect_start, end).head(10)
        if not events.empty:
            first = min(events["first_day"]) - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS)
            queries.append(billing.anomaly_details(scope.with_range(first, max(events["last_day"])), Dimension("service"),
                                                   tuple(sorted(set(events["group"].astype(str))))))
        queries += [billing.budgets(), billing.budget_scope_costs(as_of, "unblended", ca.BUDGET_RUN_RATE_DAYS)]
    return queries


def _cur_period(engine: DuckDBEngine) -> str:
    return engine.table_info("daivi_cur", "cur").latest_partition


def _cur_common(engine: DuckDBEngine) -> list[Query]:
    """What every CUR tab runs first: the periods' line items, the period's totals per currency and its summary
    (latest period, as the page defaults). The periods' costs are the drill-down's period chart, not these tabs'."""
    period = _cur_period(engine)
    return [cq.period_line_items(*cur_model.period_span(engine, clock.today(), None)), cur_model.currency_totals(period),
            cq.period_summary(period, CURRENCY)]


def cur_allocation(engine: DuckDBEngine, _principal: Principal) -> list[Query]:
    period = _cur_period(engine)
    return [*_cur_common(engine), cq.tag_keys(period), cq.cost_by_tag(period, "user_team", CURRENCY)]


def cur_commitments(engine: DuckDBEngine, _principal: Principal) -> list[Query]:
    period = _cur_period(engine)
    first = cq.shift_period(period, -2)  # views/cur.py COMMITMENT_TREND_MONTHS = 3
    return [*_cur_common(engine), cq.coverage_by_day(first, period, CURRENCY), cq.commitment_utilization(first, period, CURRENCY),
            cq.coverage_by_account_family(period, CURRENCY), cq.commitments_expiring(period, clock.today(), 90, CURRENCY)]


def logs_phrase_week(engine: DuckDBEngine, principal: Principal) -> list[Query]:
    """Logs, last 7 days back from the newest event, a quoted phrase, the Events tab."""
    latest = dt.date.fromisoformat(engine.table_info("daivi_splunk", "events").latest_partition)
    newest_query = sq.newest_event_time(latest)
    newest = engine.run(newest_query, principal).df["newest"].iloc[0]
    anchor = (newest.to_pydatetime().replace(second=0, microsecond=0) + dt.timedelta(minutes=1))
    time_range = sq.relative_range("7d", anchor)
    flt = sq.EventFilter.of(time_range, LOGS_PHRASE)
    bucket_s = sq.auto_bucket_seconds(time_range)
    columns = [*dict.fromkeys(["event_time", *sq.DEFAULT_EVENT_COLUMNS]), "host", "message"]
    return [newest_query, sq.event_summary(flt), sq.timeline(flt, "severity", bucket_s),
            sq.top_values_by_field(flt, ("index", "sourcetype", "host", "severity", "status", "user")),
            sq.events_page(flt, columns, sq.PAGE_SIZE, 0)]


def detail_resource(engine: DuckDBEngine) -> tuple[str, str, dt.date]:
    """(resource id, name, snapshot): a named running EC2 instance of the latest snapshot (a host with logs)."""
    snapshot = engine.table_info("daivi_inventory", "resources").latest_partition
    path = engine.root / "daivi_inventory" / "resources" / f"snapshot_date={snapshot}" / "*.parquet"
    row = duckdb.sql(f"SELECT resource_id, resource_name FROM read_parquet('{path}') "  # noqa: S608 - the program's own path
                     "WHERE resource_type = 'AWS::EC2::Instance' AND state = 'running' AND resource_name IS NOT NULL "
                     "ORDER BY resource_id LIMIT 1").fetchall()[0]
    return row[0], row[1], dt.date.fromisoformat(snapshot)


def inventory_detail(engine: DuckDBEngine, principal: Principal) -> list[Query]:
    resource_id, name, snapshot = detail_resource(engine)
    first = dt.date.fromisoformat(engine.manifest["tables"]["daivi_inventory.resources"]["min_partition"])
    grant = engine.policy.for_role(principal.role).grant_for("daivi_inventory", "resources")
    with_configuration = grant is not None and "configuration" not in grant.excluded_columns  # as the page decides
    queries = [iq.resource_detail(snapshot, resource_id, with_configuration), iq.resource_history(resource_id, first, snapshot),
               iq.resource_daily_cost(resource_id, snapshot), iq.host_event_counts(name, snapshot)]
    counts = engine.run(queries[-1], principal).df
    if not counts.empty:
        last_day = max(dt.date.fromisoformat(str(d)[:10]) for d in counts["latest_date"])
        queries.append(iq.host_events(name, last_day - dt.timedelta(days=iq.RECENT_EVENT_DAYS - 1), last_day))
    return queries


def view_states(engine: DuckDBEngine) -> list[ViewState]:
    """The heavy states of issue 19, plus Cost Explorer's default view for comparison."""
    resource_id = detail_resource(engine)[0]
    tag_team = Dimension.parse("tag:team")
    return [
        ViewState("Cost Explorer default (30 d by service, all tabs)", "cost-explorer", "cost_explorer.py", {},
                  lambda e, p: cost_explorer_queries(e, p, "last-30-days", "daily", Dimension("service"), None, (), True)),
        ViewState("Cost Explorer 12 months by tag:team", "cost-explorer", "cost_explorer.py",
                  {"range": "last-12-months", "grain": "monthly", "group": "tag:team"},
                  lambda e, p: cost_explorer_queries(e, p, "last-12-months", "monthly", tag_team, None, (), True)),
        ViewState("CUR Allocation (latest period)", "cur", "cur.py", {"tab": "Allocation"}, cur_allocation),
        ViewState("CUR Commitments (3-month trend)", "cur", "cur.py", {"tab": "Commitments"}, cur_commitments),
        ViewState("Logs phrase search, 7 days", "logs", "logs.py", {"range": "7d", "q": LOGS_PHRASE}, logs_phrase_week),
        ViewState("Inventory resource detail", "inventory", "inventory.py", {"resource": resource_id, "tab": "Detail"},
                  inventory_detail),
    ]
