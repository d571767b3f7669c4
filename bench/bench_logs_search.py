"""Time the Logs view's Events-tab query set for a search over the last 7 days, per persona.

    python -m bench.bench_logs_search [--lakehouse /tmp/lh_medium] [--repeat 5] [--search '"timed out"']

Runs, through the governed engine (transpile, grants, bound values), the queries the Logs page
model runs for its default tab, interleaving the repetitions, and prints the median and the best
time of each query and of the whole set. Not a test: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.models import logs as model
from daivi_data.queries import splunk as q
from daivi_data.settings import load_settings

PERSONAS = {"admin": "admin", "team-lead": "team-lead-payments"}


def page_queries(engine: DuckDBEngine, principal: Principal, search: str) -> list:
    """The Events tab's queries for `search` over the 7 days before the newest event, as the page model builds them."""
    latest = dt.date.fromisoformat(engine.table_info("daivi_splunk", "events").latest_partition)
    newest = engine.run(q.newest_event_time(latest), principal).df["newest"][0].to_pydatetime()
    request = model.LogsRequest(search=search, range_key="7d", anchor="latest")
    f = model.event_filter(request, newest, newest)
    overview_query = model.overview_query(f, model.DEFAULT_SPLIT, model.panel_fields(model.NO_FIELD))
    overview = model.overview_of(engine.run(overview_query, principal).df)
    return [q.newest_event_time(latest), overview_query,
            model.events_page_query(f, overview.timeline, list(q.DEFAULT_EVENT_COLUMNS), page=1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakehouse", type=Path, default=Path("/tmp/lh_medium"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--search", default='"timed out"')
    args = parser.parse_args()
    settings = load_settings()
    engine = DuckDBEngine(args.lakehouse, load_policy(settings.grants_file))
    principals = {name: Principal(user_id=f"bench:{name}", email=f"{name}@daivi.example", display_name=name, role=role)
                  for name, role in PERSONAS.items()}
    queries = {name: page_queries(engine, p, args.search) for name, p in principals.items()}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):  # interleaved: every query of every persona once per round
        for name, principal in principals.items():
            total = 0.0
            for query in queries[name]:
                started = time.perf_counter()
                engine.run(query, principal)
                elapsed = time.perf_counter() - started
                total += elapsed
                times.setdefault((name, query.name), []).append(elapsed)
            times.setdefault((name, "= the page's queries"), []).append(total)
    print(f"search {args.search!r} over 7 days, {args.lakehouse}, {args.repeat} interleaved rounds")
    print(f"{'persona':10} {'query':32} {'median s':>9} {'best s':>7}")
    for (name, query), ts in times.items():
        print(f"{name:10} {query:32} {statistics.median(ts):9.3f} {min(ts):7.3f}")


if __name__ == "__main__":
    main()
