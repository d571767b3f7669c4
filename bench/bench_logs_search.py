"""Time the Logs view's Events-tab query set for a search over the last 7 days, per persona.

    python -m bench.bench_logs_search [--lakehouse /tmp/lh_medium] [--repeat 5] [--search '"timed out"']

Runs, through the governed engine (transpile, grants, bound values), the queries the Logs page
runs for its Events tab (`bench.views.logs_queries`), interleaving the repetitions, and prints the median and the best
time of each query and of the whole set. Not a test: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.views import logs_queries
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.settings import load_settings

PERSONAS = {"admin": "admin", "team-lead": "team-lead-payments"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakehouse", type=Path, default=Path("/tmp/lh_medium"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--search", default='"timed out"')
    args = parser.parse_args()
    settings = load_settings()
    engine = DuckDBEngine(args.lakehouse, load_policy(settings.grants_file), role_extracts="eager", share_results=False)
    principals = {name: Principal(user_id=f"bench:{name}", email=f"{name}@daivi.example", display_name=name, role=role)
                  for name, role in PERSONAS.items()}
    queries = {name: logs_queries(engine, p, args.search) for name, p in principals.items()}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):  # interleaved: every query of every persona once per round
        for name, principal in principals.items():
            total = 0.0
            for i, query in enumerate(queries[name], 1):
                started = time.perf_counter()
                engine.run(query, principal)
                elapsed = time.perf_counter() - started
                total += elapsed
                times.setdefault((name, f"{i}. {query.name}"), []).append(elapsed)  # a query may run twice (inventory_hosts)
            times.setdefault((name, "= the page's queries"), []).append(total)
    print(f"search {args.search!r} over 7 days, {args.lakehouse}, {args.repeat} interleaved rounds")
    print(f"{'persona':10} {'query':35} {'median s':>9} {'best s':>7}")
    for (name, query), ts in times.items():
        print(f"{name:10} {query:35} {statistics.median(ts):9.3f} {min(ts):7.3f}")


if __name__ == "__main__":
    main()
