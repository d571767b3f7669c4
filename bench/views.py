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
from daivi_data.currency import choose_currency
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.identity import Principal
from daivi_data.models import cost_explorer as model
from daivi_data.models import cur as cur_model
from daivi_data.models import logs as logs_model
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
    """The queries Cost Explorer runs for one view, in its order, built by its page model (top N needs the totals
    first; the currency is the one the range holds most of; anomalies by service, the tab's default)."""
    as_of = _as_of(engine)
    latest_period = engine.table_info("daivi_billing", "cost_daily").latest_partition
    start, end = ca.preset_range(preset, as_of)
    currencies_query = billing.currencies(start, end)
    by_currency = engine.run(currencies_query, principal).df
    currency = choose_currency(dict(zip(by_currency["currency"], by_currency["abs_cost"], strict=True))).currency
    request = model.CostRequest(start, end, as_of, granularity, "unblended", currency, group, group2, filters=filters)
    queries = [billing.data_end(latest_period), currencies_query, billing.tag_keys(start, end), billing.accounts(),
               billing.dimension_values(CostScope(start, end, request.basis, currency=currency)), model.totals_query(request)]
    groups = model.group_totals(engine.run(queries[-1], principal).df, request.top_n, group2 is not None)
    queries += [model.series_query(request, groups), model.history_query(request)]
    if all_tabs:
        dimension = Dimension("service")
        queries.append(model.anomaly_daily_query(request, dimension))
        detect_start, _ = model.anomaly_range(request)
        found = model.anomalies(engine.run(queries[-1], principal).df, detect_start, end)
        details = model.anomaly_details_query(request, dimension, found)
        queries += [details] if details is not None else []
        queries += [billing.budgets(), model.budget_daily_query(as_of, request.basis)]
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


def logs_queries(engine: DuckDBEngine, principal: Principal, search: str) -> list[Query]:
    """The Logs page's queries for `search` over the 7 days before the newest event, Events tab, page 1, built by
    its page model in the page's order: newest event, the overview, the hosts it links, the Events page."""
    latest = dt.date.fromisoformat(engine.table_info("daivi_splunk", "events").latest_partition)
    newest_query = sq.newest_event_time(latest)
    newest = logs_model.newest_of(engine.run(newest_query, principal).df)
    flt = logs_model.event_filter(logs_model.LogsRequest(search=search, range_key="7d", anchor="latest"), newest, clock.now())
    overview_query = logs_model.overview_query(flt, logs_model.DEFAULT_SPLIT, logs_model.panel_fields(logs_model.NO_FIELD))
    overview = logs_model.overview_of(engine.run(overview_query, principal).df)
    queries = [newest_query, overview_query]
    if overview.total == 0:
        return queries  # the page says nothing matches and stops
    can_read_inventory = engine.policy.current().for_role(principal.role).can_read_lakehouse("inventory")
    snapshot = engine.table_info("daivi_inventory", "resources").latest_partition if can_read_inventory else None
    linked: set[str] = set()

    def link(hosts: list[str]) -> None:  # the page's inventory links: hosts not linked yet are asked for
        if query := logs_model.inventory_hosts_query(snapshot, hosts, known=linked):
            queries.append(query)
            linked.update(engine.run(query, principal).df["host"])

    link(list(overview.values_of("host")["value"]))
    events_query = logs_model.events_page_query(flt, overview.timeline, list(sq.DEFAULT_EVENT_COLUMNS), page=1)
    queries.append(events_query)
    link(list(engine.run(events_query, principal).df["host"].dropna().unique()))
    return queries


def logs_phrase_week(engine: DuckDBEngine, principal: Principal) -> list[Query]:
    """Logs, last 7 days back from the newest event, a quoted phrase, the Events tab."""
    return logs_queries(engine, principal, LOGS_PHRASE)


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
