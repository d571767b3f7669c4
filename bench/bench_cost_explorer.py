"""Benchmark the Cost Explorer: its full query set warm, per query and per view, and a cached page rerun.

    python -m bench.bench_cost_explorer --lakehouse /path/to/large [--repeat 5]

For a few views (the default one, a year by usage type with a filter, two
levels by tag) it builds the same queries the page runs, in the same order,
and prints each query's median warm time through the data module (governed,
transpiled DuckDB run) as admin and as the team lead, the sum per view, and
the time of the same queries served from the per-principal result cache.
The page's cached rerun is measured by bench/run.py.
Not a test: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.views import cost_explorer_queries
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries.billing import CostFilter, Dimension
from daivi_data.settings import load_settings

ADMIN = Principal(user_id="bench:admin", email="bench@daivi.example", display_name="bench", role="admin")
TEAM_LEAD = Principal(user_id="bench:teamlead", email="lead@daivi.example", display_name="lead", role="team-lead-payments")


def median_s(fn, repeat: int) -> float:
    fn()  # warm: file metadata, the translate cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakehouse", type=Path, default=Path("data/lakehouse-large"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    settings = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(args.lakehouse.resolve())})
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="eager", share_results=False)
    manifest = engine.manifest
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
        queries = cost_explorer_queries(engine, ADMIN, preset, grain, group, group2, filters, all_tabs)
        lead_queries = cost_explorer_queries(engine, TEAM_LEAD, preset, grain, group, group2, filters, all_tabs)
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
    print("\nThe page's cached rerun (AppTest, script compiled once): python -m bench.run")


if __name__ == "__main__":
    main()
