"""Benchmark the Cost Explorer: its full query set warm, per query and per view, and a cached page rerun.

    python -m bench.bench_cost_explorer --lakehouse /path/to/large [--repeat 5]

For a few views (the default one, a year by usage type with a filter, two
levels by tag) it builds the same queries the page runs, in the same order,
and prints each query's median warm time through the data module (governed,
transpiled DuckDB run) as admin and as the team lead, the sum per view, and
the time of the same queries served from the per-principal result cache.
Then it runs the real page through AppTest twice and prints the server time
of the cached rerun (page script, pandas, figures; no query reaches DuckDB).
Not a test: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

from daivi_data import cost_analysis as ca
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query, billing
from daivi_data.queries.billing import CostFilter, CostScope, Dimension
from daivi_data.settings import PROJECT_ROOT, load_settings

ADMIN = Principal(user_id="bench:admin", email="bench@daivi.example", display_name="bench", role="admin")
TEAM_LEAD = Principal(user_id="bench:teamlead", email="lead@daivi.example", display_name="lead", role="team-lead-payments")


def view_queries(engine: DuckDBEngine, principal: Principal, as_of: dt.date, latest_period: str, preset: str, granularity: str,
                 group: Dimension, group2: Dimension | None, filters: tuple[CostFilter, ...], all_tabs: bool) -> list[Query]:
    """The queries the page runs for one view, in its order (top N needs the totals first)."""
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


def median_s(fn, repeat: int) -> float:
    fn()  # warm: file metadata, the translate cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cached_page_rerun_ms(lakehouse: Path, params: dict[str, str], repeat: int) -> tuple[float, float]:
    """(first run, median cached rerun) of the real page through AppTest, in ms."""
    os.environ.update({"DAIVI_LAKEHOUSE_PATH": str(lakehouse.resolve()), "DAIVI_ENGINE": "duckdb", "DAIVI_AUTH_MODE": "demo",
                       "DAIVI_AUDIT_LOG": "/dev/null"})
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=600)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("views/cost_explorer.py")
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    assert not at.exception, [e.value for e in at.exception]
    reruns = []
    for _ in range(repeat):
        started = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - started)
    return first * 1e3, statistics.median(reruns) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakehouse", type=Path, default=Path("data/lakehouse-large"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    settings = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(args.lakehouse.resolve())})
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file))
    manifest = engine.manifest
    as_of = dt.date.fromisoformat(manifest["end_date"])
    latest = engine.table_info("daivi_billing", "cost_daily").latest_partition
    rows = manifest["tables"]["daivi_billing.cost_daily"]["rows"]
    print(f"\nlakehouse {args.lakehouse} (scale {manifest.get('scale')}, cost_daily {rows:,} rows), median of {args.repeat} warm runs\n")

    from daivi_data.connection import LakehouseConnection

    connection = LakehouseConnection("bench", settings=settings)
    views = {
        "default: 30 days by service, daily": ("last-30-days", "daily", Dimension("service"), None, (), False),
        "  + every tab (anomalies, budgets)": ("last-30-days", "daily", Dimension("service"), None, (), True),
        "12 months by usage type, region filter": ("last-12-months", "monthly", Dimension("usage_type"), None,
                                                   (CostFilter(Dimension("region"), ("us-east-1",)),), True),
        "90 days, OU x tag:team, weekly": ("last-90-days", "weekly", Dimension("ou"), Dimension.parse("tag:team"), (), True),
    }
    header = f"{'view / query':44} {'admin ms':>9} {'team-lead ms':>13} {'cached ms':>10} {'rows':>8}"
    print(header)
    print("-" * len(header))
    for title, (preset, grain, group, group2, filters, all_tabs) in views.items():
        queries = view_queries(engine, ADMIN, as_of, latest, preset, grain, group, group2, filters, all_tabs)
        lead_queries = view_queries(engine, TEAM_LEAD, as_of, latest, preset, grain, group, group2, filters, all_tabs)
        total_admin = total_lead = total_cached = 0.0
        lines = []
        for q, lq in zip(queries, lead_queries, strict=False):
            admin_s = median_s(lambda q=q: engine.run(q, ADMIN), args.repeat)
            lead_s = median_s(lambda lq=lq: engine.run(lq, TEAM_LEAD), args.repeat)
            cached_s = median_s(lambda q=q: connection.run(q, ADMIN), args.repeat)
            total_admin, total_lead, total_cached = total_admin + admin_s, total_lead + lead_s, total_cached + cached_s
            lines.append(f"  {q.name:42} {admin_s * 1e3:9.1f} {lead_s * 1e3:13.1f} {cached_s * 1e3:10.2f} {engine.run(q, ADMIN).stats.rows:8,}")
        print(f"{title:44} {total_admin * 1e3:9.1f} {total_lead * 1e3:13.1f} {total_cached * 1e3:10.2f}  ({len(queries)} queries)")
        print("\n".join(lines))
    first_ms, rerun_ms = cached_page_rerun_ms(args.lakehouse, {"persona": "finance"}, args.repeat)
    print(f"\npage through AppTest (finance, default view): first run {first_ms:.0f} ms, cached rerun {rerun_ms:.0f} ms (median)")


if __name__ == "__main__":
    main()
