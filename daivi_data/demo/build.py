"""Build the whole demo lakehouse (all four lakehouses) into a folder, atomically.

The layout, the column types and the manifest are the lakehouse format's
(`daivi_data.lakehouse`), written by its one writer: one `part-00000.parquet`
per partition (a billing period or a day), so memory stays bounded at every
scale; the previous lakehouse stays as it was until the build is complete, and
an interrupted build leaves no half-written target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from daivi_data.demo import billing, cur, inventory, splunk
from daivi_data.demo.fleet import GROWTH_PER_MONTH, Fleet, build_fleet, day_date, epoch_day, expected_daily_cost
from daivi_data.demo.org import ACCOUNTS, PAYMENTS_ACCOUNT_IDS
from daivi_data.lakehouse import ACCOUNTS as ACCOUNTS_TABLE
from daivi_data.lakehouse import (
    BUDGETS,
    COST_DAILY,
    CUR,
    EVENTS,
    RESOURCES,
    SOURCE_ONLY_COLUMNS,
    LakehouseWriter,
    catalog_table,
    stored_select,
)

Progress = Callable[[float, str], None]


@dataclasses.dataclass(frozen=True)
class Scale:
    factor: float  # multiplies resource counts
    months: int  # billing periods of CUR and billing, including the current one
    snapshots: int  # daily inventory snapshots
    event_days: int  # days of Splunk events
    events_per_day: int  # weekday events before growth


SCALES: dict[str, Scale] = {
    "small": Scale(factor=0.3, months=3, snapshots=14, event_days=7, events_per_day=9_000),
    "medium": Scale(factor=5.2, months=13, snapshots=35, event_days=30, events_per_day=52_000),
    "large": Scale(factor=64.0, months=13, snapshots=90, event_days=90, events_per_day=250_000),
}



def default_end_date() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


class _Writer:
    """The lakehouse writer and the build's DuckDB: writes one table's partition from a SELECT of its stored columns."""

    def __init__(self, con: duckdb.DuckDBPyConnection, writer: LakehouseWriter) -> None:
        self.con = con
        self.writer = writer
        self.root = writer.tmp

    def write(self, table: str, inner_sql: str, order_by: str | None = None, partition: str | None = None) -> int:
        select = stored_select(catalog_table(table), inner_sql, order_by, SOURCE_ONLY_COLUMNS.get(table, ()))
        return self.writer.write_partition(self.con, table, select, partition)


def build_demo_lakehouse(out_dir: str | Path, scale: str = "medium", seed: int = 7,
                         end_date: dt.date | None = None, progress: Progress | None = None) -> dict:
    """Generate the demo lakehouse into `out_dir` and return its manifest (also written as manifest.json)."""
    if scale not in SCALES:
        raise ValueError(f"Unknown scale {scale!r}: use one of {', '.join(SCALES)}.")
    end_date = end_date or default_end_date()
    say = progress or (lambda _f, _m: None)
    with LakehouseWriter(Path(out_dir), "demo") as writer:
        fields = _build(writer, SCALES[scale], scale, seed, end_date, say)
        manifest = writer.commit(fields)
    say(1.0, "Demo lakehouse ready")
    return manifest


def _build(lakehouse: LakehouseWriter, sc: Scale, scale: str, seed: int, end_date: dt.date, progress: Progress) -> dict:
    """Write every table into the writer's staging folder; returns the demo's manifest fields."""
    t0 = time.perf_counter()
    progress(0.0, "Building the organization's fleet")
    fleet = build_fleet(seed, sc.factor, end_date)
    end = fleet.end
    periods = cur.month_ranges(_first_of_month(end_date, sc.months - 1), end)
    snap_days = list(range(end - sc.snapshots + 1, end + 1))
    event_days = list(range(end - sc.event_days + 1, end + 1))
    # Rough cost of each step for the progress bar: expected rows x relative cost of a row.
    cur_rows = float((expected_daily_cost(fleet.comps, end - 1) > 0).sum()) * (end - periods[0][1] + 1)
    weights = {"cur": 1.0 * cur_rows, "inv": 0.3 * len(fleet.resources) * len(snap_days),
               "ev": 0.6 * len(event_days) * sc.events_per_day}
    total_w = sum(weights.values())
    done = 0.05

    def step(kind: str, n: int, message: str) -> None:
        nonlocal done
        done += 0.93 * weights[kind] / total_w / n
        progress(min(done, 0.98), message)

    progress(0.05, f"Fleet ready: {len(fleet.resources):,} resources")
    con = duckdb.connect(config={"temp_directory": str(lakehouse.scratch / "duckdb"), "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false").fetchall()
    try:
        writer = _Writer(con, lakehouse)
        _write_cur_and_billing(con, writer, fleet, seed, periods, lambda m: step("cur", len(periods), m))
        con.register("accounts_arrow", billing.accounts_table())
        writer.write(ACCOUNTS_TABLE, "SELECT * FROM accounts_arrow", "account_id")
        base_period = periods[-2][0] if len(periods) > 1 else periods[-1][0]
        con.execute("CREATE OR REPLACE TEMP TABLE accounts AS SELECT * FROM accounts_arrow")
        budgets = billing.budgets_rows(con, str(writer.root / "daivi_billing/cost_daily/*/*.parquet"), base_period)
        con.register("budgets_arrow", budgets)
        writer.write(BUDGETS, "SELECT * FROM budgets_arrow")
        con.register("res", inventory.resources_arrow(fleet))
        for d in snap_days:
            part = day_date(d).isoformat()
            writer.write(RESOURCES, inventory.snapshot_sql(d), partition=part)  # the writer sorts by resource id
            step("inv", len(snap_days), f"Inventory snapshot {part}")
        gen = splunk.SplunkGenerator(fleet, seed, sc.events_per_day)
        for name, table in gen.lookup_tables().items():
            con.register(name, table)
        for d in event_days:
            con.register("ev", gen.day_events(d))
            part = day_date(d).isoformat()
            writer.write(EVENTS, splunk.EVENTS_SQL, "x.rn", part)
            con.unregister("ev")
            step("ev", len(event_days), f"Splunk events {part}")
        planted = _planted(con, writer.root, end_date)
    finally:
        con.close()
    return _manifest_fields(fleet, scale, seed, end_date, planted, time.perf_counter() - t0)


def _first_of_month(d: dt.date, months_back: int) -> int:
    y, m = d.year, d.month - months_back
    while m <= 0:
        y, m = y - 1, m + 12
    return epoch_day(dt.date(y, m, 1))


def _write_cur_and_billing(con, writer: _Writer, fleet: Fleet, seed: int, periods, step) -> None:
    gen = cur.CurGenerator(fleet, seed, periods[0][1])
    con.register("lines_arrow", cur.lines_sql_table(gen))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE lines AS
        SELECT * EXCLUDE (tag_team, tag_env, tag_cc, tag_app),
          map_from_entries(list_filter([
            {'key': 'user_team', 'value': tag_team}, {'key': 'user_environment', 'value': tag_env},
            {'key': 'user_cost_center', 'value': tag_cc}, {'key': 'user_application', 'value': tag_app}],
            lambda e: e.value IS NOT NULL)) AS tags
        FROM lines_arrow""")
    con.register("accts", pa.table({"acct": pa.array(range(len(ACCOUNTS)), pa.int32()),
                                    "account_id": [a.account_id for a in ACCOUNTS],
                                    "account_name": [a.account_name for a in ACCOUNTS]}))
    con.register("sps", pa.table({
        "idx": pa.array([s["idx"] for s in fleet.savings_plans], pa.int16()),
        "arn": [s["arn"] for s in fleet.savings_plans], "end_time": [s["end_time"] for s in fleet.savings_plans],
        "offering_type": [s["offering_type"] for s in fleet.savings_plans]}))
    con.register("ris", pa.table({
        "idx": pa.array([r["idx"] for r in fleet.reservations], pa.int16()),
        "arn": pa.array([r["arn"] for r in fleet.reservations], pa.string()),
        "end_time": pa.array([r["end_time"] for r in fleet.reservations], pa.string())}))
    current = periods[-1][0]
    for period, first, last in periods:
        fact = gen.month_facts(first, last)
        con.register("fact", fact)
        pairs = sorted({(int(d), int(s)) for d, s in zip(fact.column("day").cast(pa.int32()).to_numpy(),
                                                           fact.column("span").to_numpy(), strict=True)})
        con.register("ivals", pa.table({
            "day": pa.array([p[0] for p in pairs], pa.int32()).cast(pa.date32()),
            "span": pa.array([p[1] for p in pairs], pa.int16()),
            "interval": [f"{day_date(d).isoformat()}T00:00:00.000Z/{day_date(d + s).isoformat()}T00:00:00.000Z"
                         for d, s in pairs]}))
        month_first = day_date(first)
        invoice = "" if period == current else str(1_000_000_000 + (int(period.replace("-", "")) * 7919) % 899_999_999)
        # The fact rows are in their final order and DuckDB keeps the scan order.
        writer.write(CUR, cur.cur_select_sql(seed, period, month_first, invoice), partition=period)
        con.unregister("fact")
        glob = str(writer.root / f"daivi_cur/cur/billing_period={period}/*.parquet")
        writer.write(COST_DAILY, billing.cost_daily_sql(glob), billing.COST_DAILY_ORDER, period)
        step(f"CUR and billing {period}: {fact.num_rows:,} line items")


def _planted(con, root: Path, end_date: dt.date) -> dict:
    latest = root / f"daivi_inventory/resources/snapshot_date={end_date.isoformat()}/*.parquet"
    old = (end_date - dt.timedelta(days=180)).isoformat()
    queries = {
        "unattached_volumes": "resource_type = 'AWS::EC2::Volume' AND state = 'available' AND NOT attached",
        "stopped_instances": "resource_type = 'AWS::EC2::Instance' AND state = 'stopped'",
        "unassociated_eips": "resource_type = 'AWS::EC2::EIP' AND state = 'unassociated'",
        "old_snapshots": f"resource_type = 'AWS::EC2::Snapshot' AND state = 'completed' "
                         f"AND created_at < TIMESTAMP '{old} 00:00:00'",
        "previous_generation_instances": "resource_type = 'AWS::EC2::Instance' AND state IN ('running', 'stopped') "
                                         "AND split_part(instance_type, '.', 1) IN ('m4', 'c4', 'r4', 't2')",
        "gp2_volumes": "resource_type = 'AWS::EC2::Volume' AND state IN ('available', 'in-use') "
                       "AND volume_type = 'gp2'",
    }
    planted = {k: [r[0] for r in con.execute(f"SELECT resource_id FROM read_parquet('{latest}') WHERE {where} "  # noqa: S608
                                             "ORDER BY resource_id").fetchall()]
               for k, where in queries.items()}
    planted["previous_generation"] = planted["previous_generation_instances"]  # the name the inventory view uses
    return planted


def _manifest_fields(fleet: Fleet, scale: str, seed: int, end_date: dt.date, planted: dict, seconds: float) -> dict:
    """The demo's part of the manifest (the writer adds the format, the time and the table statistics)."""
    return {
        "scale": scale,
        "seed": seed,
        "end_date": end_date.isoformat(),
        "build_seconds": round(seconds, 2),
        "incidents": fleet.incidents,
        "planted": planted,
        "personas": {
            "admin": {"description": "Platform admin: sees everything.", "account_ids": None},
            "finance": {"description": "FinOps analyst: all billing and CUR, no logs.", "account_ids": None},
            "ops": {"description": "Ops engineer: inventory and Splunk for all accounts; start with the incidents.",
                    "account_ids": None, "incident_ids": [i["id"] for i in fleet.incidents]},
            "teamlead": {"description": "Team lead of Payments: only the Payments OU accounts.", "ou": "Payments",
                         "account_ids": list(PAYMENTS_ACCOUNT_IDS)},
        },
        "trends": {
            "usage_growth_per_month": GROWTH_PER_MONTH,
            "step_changes": [dict(s, date=s["date"].isoformat()) for s in fleet.steps],
        },
        "commitments": {
            "savings_plans": [{k: s[k] for k in ("arn", "account_id", "commitment", "payment", "term_years",
                                                 "end_time", "offering_type")} for s in fleet.savings_plans],
            "reservations": [{k: r[k] for k in ("arn", "account_id", "product", "usage_type", "count", "payment",
                                                "term_years", "end_time")} for r in fleet.reservations],
        },
    }
