"""Benchmark the data module against raw DuckDB and a naive pandas baseline.

    python -m bench.run [--lakehouse data/lakehouse-large] [--scale large] [--repeat 5]

Builds the demo lakehouse at that scale if it is absent, then prints, for each
named query: the warm time through the data module (governed, transpiled engine
run), a cached rerun through the Streamlit connection, raw DuckDB on the same
SQL, and a load-the-columns-into-pandas-then-group baseline, with ratios. Not a
test: it prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from daivi_data.engines.duckdb import DuckDBEngine, translate
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query, overview
from daivi_data.settings import load_settings

ADMIN = Principal(user_id="bench:admin", email="bench@daivi.example", display_name="bench", role="admin")
TEAM_LEAD = Principal(user_id="bench:teamlead", email="lead@daivi.example", display_name="lead", role="team-lead-payments")


@dataclass
class Case:
    query: Query
    baseline: Callable[[Path], pd.DataFrame]  # naive pandas: read the needed columns, then compute


def _read(root: Path, db: str, table: str, columns: list[str], partitions: list[str] | None = None) -> pd.DataFrame:
    """Naive loader: every Parquet file of the table (or of the named partition folders) into pandas."""
    folder = root / db / table
    dirs = [folder / p for p in partitions] if partitions else [folder]
    files = [f for d in dirs for f in sorted(d.rglob("*.parquet"))]
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _cases(root: Path, manifest: dict) -> list[Case]:
    end = dt.date.fromisoformat(manifest["end_date"])
    month_start = end.replace(day=1)
    prev_start = overview.previous_month_start(end)
    prev_same = overview.same_day_previous_month(end)
    period, prev_period = overview.billing_period(end), overview.billing_period(prev_start)
    latest_snapshot = manifest["tables"]["daivi_inventory.resources"]["max_partition"]
    now = dt.datetime.combine(end, dt.time(23, 59, 59))

    def mtd(root: Path) -> pd.DataFrame:
        df = _read(root, "daivi_billing", "cost_daily", ["usage_date", "unblended_cost"],
                   [f"billing_period={period}", f"billing_period={prev_period}"])
        d = pd.to_datetime(df["usage_date"]).dt.date
        return pd.DataFrame({"month_to_date": [df.loc[d >= month_start, "unblended_cost"].sum()],
                             "previous_month_to_date": [df.loc[(d < month_start) & (d <= prev_same), "unblended_cost"].sum()]})

    def cur_month(root: Path) -> pd.DataFrame:
        df = _read(root, "daivi_cur", "cur", ["line_item_unblended_cost", "line_item_usage_account_id"], [f"billing_period={period}"])
        return pd.DataFrame({"line_items": [len(df)], "unblended_cost": [df["line_item_unblended_cost"].sum()],
                             "accounts": [df["line_item_usage_account_id"].nunique()]})

    def inventory(root: Path) -> pd.DataFrame:
        df = _read(root, "daivi_inventory", "resources", ["resource_type", "account_id"], [f"snapshot_date={latest_snapshot}"])
        return pd.DataFrame({"resources": [len(df)], "resource_types": [df["resource_type"].nunique()], "accounts": [df["account_id"].nunique()]})

    def splunk(root: Path) -> pd.DataFrame:
        since = now - dt.timedelta(hours=24)
        df = _read(root, "daivi_splunk", "events", ["event_time", "severity", "http_status", "host"],
                   [f"event_date={since.date()}", f"event_date={now.date()}"])
        w = df[(df["event_time"] >= since) & (df["event_time"] < now)]
        errors = w["severity"].isin(["ERROR", "CRITICAL"]) | (w["http_status"] >= 500)
        return pd.DataFrame({"events": [len(w)], "errors": [int(errors.sum())], "hosts": [w["host"].nunique()]})

    def cost_by_service_month(root: Path) -> pd.DataFrame:
        df = _read(root, "daivi_billing", "cost_daily", ["service_code", "unblended_cost", "usage_date"])
        df["month"] = pd.to_datetime(df["usage_date"]).dt.strftime("%Y-%m")
        return df.groupby(["month", "service_code"], as_index=False)["unblended_cost"].sum()

    from daivi_data.queries import make_query

    yearly = make_query(
        "bench.cost_by_service_month",
        """
        SELECT date_format(usage_date, '%Y-%m') AS month, service_code, SUM(unblended_cost) AS cost
        FROM daivi_billing.cost_daily
        WHERE billing_period BETWEEN :first AND :last
        GROUP BY 1, 2
        """,
        first="0000-00", last="9999-99",
    )
    return [
        Case(overview.billing_month_to_date(end), mtd),
        Case(overview.cur_month_summary(end), cur_month),
        Case(overview.inventory_snapshot_summary(dt.date.fromisoformat(latest_snapshot)), inventory),
        Case(overview.splunk_last_24h(now), splunk),
        Case(yearly, cost_by_service_month),
    ]


def _best(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: file metadata, transpile caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakehouse", type=Path, default=Path("data/lakehouse-large"))
    parser.add_argument("--scale", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pandas", action="store_true", help="skip the (slow) pandas baseline")
    args = parser.parse_args()

    if not (args.lakehouse / "manifest.json").exists():
        from daivi_data.demo import build_demo_lakehouse

        print(f"building the {args.scale} demo lakehouse into {args.lakehouse} …", flush=True)
        started = time.perf_counter()
        build_demo_lakehouse(args.lakehouse, scale=args.scale)
        print(f"built in {time.perf_counter() - started:.1f} s", flush=True)

    settings = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(args.lakehouse.resolve())})
    policy = load_policy(settings.grants_file)
    engine = DuckDBEngine(settings.lakehouse_path, policy)
    cases = _cases(args.lakehouse, engine.manifest)

    # Raw DuckDB: the same views, the same transpiled SQL, no governance, no wrapper.
    raw = duckdb.connect(config={"threads": 2})
    raw.execute("SET integer_division = true")
    for folder in sorted(args.lakehouse.glob("daivi_*/*")):
        db, table = folder.parent.name, folder.name
        raw.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
        part = any(p.is_dir() for p in folder.iterdir())
        hive = ", hive_partitioning = true, hive_types_autocast = true" if part else ""
        pattern = f"{folder}/**/*.parquet" if part else f"{folder}/*.parquet"
        raw.execute(f"CREATE VIEW \"{db}\".\"{table}\" AS SELECT * FROM read_parquet('{pattern}'{hive})")  # noqa: S608

    from daivi_data.connection import LakehouseConnection

    connection = LakehouseConnection("bench", settings=settings)

    header = f"{'query':38} {'module ms':>10} {'team-lead ms':>12} {'cached ms':>10} {'raw ms':>8} {'x raw':>6} {'pandas ms':>10} {'x pandas':>9}"
    print(f"\nlakehouse {args.lakehouse} (scale {engine.manifest.get('scale')}), median of {args.repeat} warm runs\n")
    print(header)
    print("-" * len(header))
    for case in cases:
        q = case.query
        module = _best(lambda q=q: engine.run(q, ADMIN), args.repeat)
        lead = _best(lambda q=q: engine.run(q, TEAM_LEAD), args.repeat)
        cached = _best(lambda q=q: connection.run(q, ADMIN), args.repeat)
        sql, names = translate(q.sql, policy.for_role("admin"))
        params = {n: list(v) if isinstance(v, tuple) else v for n, v in q.params if n in names}
        raw_s = _best(lambda sql=sql, params=params: raw.execute(sql, params).df(), args.repeat)
        pandas_s = float("nan") if args.skip_pandas else _best(lambda b=case.baseline: b(args.lakehouse), max(1, args.repeat // 2))
        print(f"{q.name:38} {module * 1e3:10.1f} {lead * 1e3:12.1f} {cached * 1e3:10.2f} {raw_s * 1e3:8.1f} "
              f"{module / raw_s:6.2f} {pandas_s * 1e3:10.1f} {pandas_s / module:9.1f}")
    print("\nx raw = data module / raw DuckDB (lower is better, 1.0 = no overhead); "
          "x pandas = pandas baseline / data module (higher = module faster).")


if __name__ == "__main__":
    main()
