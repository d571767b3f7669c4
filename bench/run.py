"""The bench of issue 19: every target against its measured value and ratio, in one run, side by side.

    python -m bench.run [--lakehouse /tmp/lh_medium] [--scale medium] [--repeat 5] [--skip-pandas] [--skip-pages]
                        [--only-pages] [--load-json bench-load.json]

Builds the demo lakehouse at that scale if it is absent. Then, on one machine
in one run (the machine's load is printed with the results):

1. Overview queries: warm time through the engine (governed, transpiled) as
   admin and as the Payments team lead, through the Streamlit connection
   (`LakehouseConnection.run`: audit, cache key, engine) with its cache cleared
   and served from its cache, raw DuckDB on the same SQL, and a vectorised
   pandas baseline (Arrow read of the needed partitions and columns, datetime64
   comparisons; no per-row Python objects).
2. Heavy view states (bench/views.py): the page's full query set, built with
   the real query builders, through the engine as admin and as the team lead,
   through the connection with its cache cleared, and on raw DuckDB.
3. Cached reruns: each view state's page through AppTest, run until warm, then
   timed again; the script is compiled once (AppTest's per-run script cache is
   shared), so the time is the page's own work: the script, pandas, figures,
   cache lookups and AppTest's reading of the messages.
4. The targets of issue 19 with the measured value and the ratio measured/target.

Every repetition runs every measurement once, in a rotated order (interleaved,
not blocked), after one warm-up pass; the medians are printed. Not a test: it
prints numbers, it does not pass or fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from bench.views import ViewState, view_states
from daivi_data.engines.duckdb import DuckDBEngine, translate
from daivi_data.errors import DaiviError
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query, make_query, overview
from daivi_data.settings import PROJECT_ROOT, load_settings

ADMIN = Principal(user_id="bench:admin", email="bench@daivi.example", display_name="bench", role="admin")
TEAM_LEAD = Principal(user_id="bench:teamlead", email="lead@daivi.example", display_name="lead", role="team-lead-payments")

VIEW_TARGET_MS = 1000.0
RERUN_TARGET_MS = 100.0
RUNS_PER_S_TARGET = 10.0
BUILD_TARGET_S = {"medium": 30.0, "large": 180.0}


# --- measuring ---------------------------------------------------------------------------------------

@dataclass
class Timing:
    """One measured thing: a callable and its timings over the repetitions."""

    label: str
    fn: Callable[[], object]
    seconds: list[float] = field(default_factory=list)
    failed: str = ""

    @property
    def ms(self) -> float:
        return statistics.median(self.seconds) * 1e3 if self.seconds else float("nan")


def measure_interleaved(timings: list[Timing], repeat: int) -> None:
    """One warm-up pass, then `repeat` passes over every timing, each pass starting one further along."""
    live = list(timings)
    for t in live:
        try:
            t.fn()
        except DaiviError as e:  # e.g. a grant refuses the team lead: shown as n/a
            t.failed = type(e).__name__
    live = [t for t in live if not t.failed]
    for rep in range(repeat):
        shift = rep % len(live) if live else 0
        for t in live[shift:] + live[:shift]:
            started = time.perf_counter()
            t.fn()
            t.seconds.append(time.perf_counter() - started)


def machine_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


# --- pandas baselines (vectorised) --------------------------------------------------------------------

def read_partitions(root: Path, db: str, table: str, columns: list[str], partitions: list[str] | None = None) -> pd.DataFrame:
    """The named partition folders (or the whole table) of `columns` into pandas, through one Arrow scan."""
    folder = root / db / table
    paths = [str(f) for d in ([folder / p for p in partitions] if partitions else [folder]) if d.exists()
             for f in sorted(d.rglob("*.parquet"))]
    return ds.dataset(paths, format="parquet").to_table(columns=columns).to_pandas()


@dataclass
class Case:
    query: Query
    baseline: Callable[[Path], pd.DataFrame]


def overview_cases(manifest: dict) -> list[Case]:
    end = dt.date.fromisoformat(manifest["end_date"])
    month_start, prev_start = pd.Timestamp(end.replace(day=1)), overview.previous_month_start(end)
    prev_same = pd.Timestamp(overview.same_day_previous_month(end))
    period, prev_period = overview.billing_period(end), overview.billing_period(prev_start)
    latest_snapshot = manifest["tables"]["daivi_inventory.resources"]["max_partition"]
    now = dt.datetime.combine(end, dt.time(23, 59, 59))

    def mtd(root: Path) -> pd.DataFrame:
        df = read_partitions(root, "daivi_billing", "cost_daily", ["usage_date", "unblended_cost"],
                             [f"billing_period={period}", f"billing_period={prev_period}"])
        day = pd.to_datetime(df["usage_date"])
        return pd.DataFrame({"month_to_date": [df["unblended_cost"][day >= month_start].sum()],
                             "previous_month_to_date": [df["unblended_cost"][(day < month_start) & (day <= prev_same)].sum()]})

    def cur_month(root: Path) -> pd.DataFrame:
        df = read_partitions(root, "daivi_cur", "cur", ["line_item_unblended_cost", "line_item_usage_account_id"],
                             [f"billing_period={period}"])
        return pd.DataFrame({"line_items": [len(df)], "unblended_cost": [df["line_item_unblended_cost"].sum()],
                             "accounts": [df["line_item_usage_account_id"].nunique()]})

    def inventory(root: Path) -> pd.DataFrame:
        df = read_partitions(root, "daivi_inventory", "resources", ["resource_type", "account_id"], [f"snapshot_date={latest_snapshot}"])
        return pd.DataFrame({"resources": [len(df)], "resource_types": [df["resource_type"].nunique()],
                             "accounts": [df["account_id"].nunique()]})

    def splunk(root: Path) -> pd.DataFrame:
        since = now - dt.timedelta(hours=24)
        df = read_partitions(root, "daivi_splunk", "events", ["event_time", "severity", "http_status", "host"],
                             [f"event_date={since.date()}", f"event_date={now.date()}"])
        w = df[(df["event_time"] >= pd.Timestamp(since)) & (df["event_time"] < pd.Timestamp(now))]
        errors = w["severity"].isin(["ERROR", "CRITICAL"]) | (w["http_status"] >= 500)
        return pd.DataFrame({"events": [len(w)], "errors": [int(errors.sum())], "hosts": [w["host"].nunique()]})

    def cost_by_service_month(root: Path) -> pd.DataFrame:
        df = read_partitions(root, "daivi_billing", "cost_daily", ["service_code", "unblended_cost", "usage_date"])
        df["month"] = pd.to_datetime(df["usage_date"]).dt.to_period("M")
        return df.groupby(["month", "service_code"], as_index=False, observed=True)["unblended_cost"].sum()

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


# --- the paths being compared -------------------------------------------------------------------------

class Paths:
    """The ways of running a query: engine, connection (cache cleared or hit) and raw DuckDB."""

    def __init__(self, lakehouse: Path, audit_log: Path):
        # Warm means a restricted role's extracts are built (once per lakehouse and grant version; the app builds
        # them in the background at the role's first query): eager builds them in the warm-up pass.
        self.settings = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(lakehouse.resolve()),
                                                           "DAIVI_AUDIT_LOG": str(audit_log), "DAIVI_ENGINE": "duckdb",
                                                           "DAIVI_ROLE_EXTRACTS": "eager"})
        self.policy = load_policy(self.settings.grants_file)
        self.engine = DuckDBEngine(self.settings.lakehouse_path, self.policy, role_extracts="eager", share_results=False)
        from daivi_data.connection import LakehouseConnection, clear_cached

        self.connection = LakehouseConnection("bench", settings=self.settings)
        # Cache cleared: the connection's per-principal caches and the engine's results shared within a role.
        self._clear = lambda: (clear_cached(), self.connection.engine.clear_shared_results())
        # Raw DuckDB: views over the same files, the same transpiled SQL, no governance, no wrapper.
        self.raw = duckdb.connect(config={"threads": 2})
        self.raw.execute("SET integer_division = true")
        for folder in sorted(lakehouse.glob("daivi_*/*")):
            db, table = folder.parent.name, folder.name
            self.raw.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
            part = any(p.is_dir() for p in folder.iterdir())
            hive = ", hive_partitioning = true, hive_types_autocast = true" if part else ""
            pattern = f"{folder}/**/*.parquet" if part else f"{folder}/*.parquet"
            self.raw.execute(f"CREATE VIEW \"{db}\".\"{table}\" AS SELECT * FROM read_parquet('{pattern}'{hive})")  # noqa: S608

    def engine_run(self, queries: list[Query], principal: Principal) -> Callable[[], None]:
        return lambda: [self.engine.run(q, principal) for q in queries]

    def connection_uncached(self, queries: list[Query], principal: Principal) -> Callable[[], None]:
        def run() -> None:
            for q in queries:
                self._clear()
                self.connection.run(q, principal)
        return run

    def connection_cached(self, queries: list[Query], principal: Principal) -> Callable[[], None]:
        return lambda: [self.connection.run(q, principal) for q in queries]

    def raw_run(self, queries: list[Query]) -> Callable[[], None]:
        grants = self.policy.for_role("admin")
        prepared = []
        for q in queries:
            sql, names = translate(q.sql, grants)
            prepared.append((sql, {n: list(v) if isinstance(v, tuple) else v for n, v in q.params if n in names}))
        return lambda: [self.raw.execute(sql, params).df() for sql, params in prepared]


def extract_builds(lakehouse: Path, policy) -> list[tuple[str, int, int, float]]:
    """(role, restricted tables, rows written, seconds) of building each restricted role's extracts once, one role at a time."""
    rows = []
    for role in sorted(policy.roles):
        grants = policy.for_role(role)
        restricted = [t for _db, t, g in grants.readable_tables() if not g.is_full]
        if not restricted:
            continue
        engine = DuckDBEngine(lakehouse, policy, role_extracts="eager")
        started = time.perf_counter()
        engine._database(grants, policy)
        seconds = time.perf_counter() - started
        written = sum(pq.ParquetFile(f).metadata.num_rows for f in engine.extracts._dir.rglob("*.parquet"))
        engine.extracts.close()
        rows.append((role, len(restricted), written, seconds))
    return rows


# --- cached reruns through AppTest --------------------------------------------------------------------

def _share_script_cache() -> None:
    """AppTest makes a new ScriptCache per run, so every run recompiles Home.py and the page: share one instead."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared
    local_script_runner.ScriptCache = lambda: shared


def page_reruns(states: list[ViewState], lakehouse: Path, audit_log: Path, repeat: int) -> dict[str, Timing]:
    os.environ.update({"DAIVI_LAKEHOUSE_PATH": str(lakehouse.resolve()), "DAIVI_ENGINE": "duckdb", "DAIVI_AUTH_MODE": "demo",
                       "DAIVI_AUDIT_LOG": str(audit_log)})
    _share_script_cache()
    from streamlit import logger
    from streamlit.testing.v1 import AppTest

    os.environ["STREAMLIT_LOGGER_LEVEL"] = "error"  # AppTest re-reads the config: keep its per-run warnings out of the table
    logger.set_log_level("error")
    timings = {}
    for state in states:
        at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=600)
        at.query_params["persona"] = "admin"
        at.run()
        for key, value in state.params.items():
            at.query_params[key] = value
        at.switch_page(f"views/{state.script}")
        at.run()  # first run: queries reach the engine
        if at.exception:
            print(f"  ! {state.name}: {[e.value for e in at.exception][:1]}")
        if os.environ.get("BENCH_SHOW_PAGES"):  # check that the state opened what it says
            print(f"  {state.name}: url {dict(at.query_params)}; "
                  f"headings {[h.value for h in at.subheader][:3]}; metrics {[m.label for m in at.metric][:3]}; "
                  f"text {[m.value[:60] for m in at.markdown if '**' in m.value][:2]}")
        timings[state.name] = Timing(state.name, lambda at=at: at.run())
    measure_interleaved(list(timings.values()), repeat)
    return timings


# --- printing -----------------------------------------------------------------------------------------

def _cell(t: Timing | None, width: int, digits: int = 1) -> str:
    if t is None:
        return f"{'-':>{width}}"
    return f"{'n/a':>{width}}" if t.failed else f"{t.ms:{width}.{digits}f}"


def print_overview(cases: list[Case], rows: dict[str, dict[str, Timing]]) -> None:
    header = (f"{'query':36} {'engine ms':>10} {'team-lead':>10} {'conn ms':>9} {'cached ms':>10} {'raw ms':>8} "
              f"{'x raw':>6} {'pandas ms':>10} {'x pandas':>9}")
    print(header + "\n" + "-" * len(header))
    for case in cases:
        r = rows[case.query.name]
        pandas_t = r.get("pandas")
        ratio_pandas = f"{pandas_t.ms / r['engine'].ms:9.1f}" if pandas_t else f"{'-':>9}"
        print(f"{case.query.name:36} {_cell(r['engine'], 10)} {_cell(r['lead'], 10)} {_cell(r['conn'], 9)} "
              f"{_cell(r['cached'], 10, 2)} {_cell(r['raw'], 8)} {r['engine'].ms / r['raw'].ms:6.2f} "
              f"{_cell(pandas_t, 10)} {ratio_pandas}")
    print("x raw = engine / raw DuckDB (1.0 = no overhead); x pandas = pandas / engine (higher = engine faster); "
          "conn = LakehouseConnection.run with its cache cleared.")


def print_views(states: list[ViewState], rows: dict[str, dict[str, Timing]], counts: dict[str, int]) -> None:
    header = (f"{'view state (full query set)':52} {'queries':>7} {'engine ms':>10} {'team-lead':>10} {'conn ms':>9} "
              f"{'raw ms':>8} {'x raw':>6}")
    print(header + "\n" + "-" * len(header))
    for s in states:
        r = rows[s.name]
        print(f"{s.name:52} {counts[s.name]:7d} {_cell(r['engine'], 10)} {_cell(r['lead'], 10)} {_cell(r['conn'], 9)} "
              f"{_cell(r['raw'], 8)} {r['engine'].ms / r['raw'].ms:6.2f}")


def target_row(name: str, measured: float, target: float, unit: str, higher_is_better: bool = False) -> str:
    if measured != measured:  # NaN: not measured in this run
        return f"{name:58} {'-':>10} {target:>9g} {unit:5} {'-':>6}  not measured"
    ratio = measured / target
    met = ratio >= 1 if higher_is_better else ratio <= 1
    return f"{name:58} {measured:10.1f} {target:>9g} {unit:5} {ratio:6.2f}  {'met' if met else 'MISSED'}"


def print_targets(scale: str, manifest: dict, views: dict[str, dict[str, Timing]], reruns: dict[str, Timing],
                  load: dict | None) -> None:
    header = f"{'target (issue 19), scale ' + scale:58} {'measured':>10} {'target':>9} {'unit':5} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    for name, r in views.items():
        worst = max((t.ms for t in (r["engine"], r["lead"], r["conn"]) if not t.failed), default=float("nan"))
        print(target_row(f"view warm: {name}", worst, VIEW_TARGET_MS, "ms"))
    for name, t in reruns.items():
        print(target_row(f"rerun: {name}", t.ms if not t.failed else float("nan"), RERUN_TARGET_MS, "ms"))
    runs_per_s = load["runs_per_s"] if load else float("nan")
    label = f"throughput, {load['sessions']} sessions (bench/load.py)" if load else "throughput, 25 sessions (bench/load.py)"
    print(target_row(label, runs_per_s, RUNS_PER_S_TARGET, "run/s", higher_is_better=True))
    if scale in BUILD_TARGET_S:
        print(target_row(f"{scale} build (manifest build_seconds)", float(manifest.get("build_seconds", "nan")),
                         BUILD_TARGET_S[scale], "s"))
    print("ratio = measured / target (throughput: measured / target, higher is better); "
          "view time = the slowest of engine admin, engine team lead and connection (cache cleared).")


# --- main ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lakehouse", type=Path, default=Path("data/lakehouse-large"))
    parser.add_argument("--scale", default="large", choices=("small", "medium", "large"), help="scale to build if absent")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pandas", action="store_true", help="skip the pandas baselines")
    parser.add_argument("--skip-pages", action="store_true", help="skip the cached reruns through AppTest")
    parser.add_argument("--only-pages", action="store_true",
                        help="only the cached reruns through AppTest (no overview or view-state queries)")
    parser.add_argument("--load-json", type=Path, help="results of bench/load.py --json, to show in the targets")
    args = parser.parse_args(argv)

    if not (args.lakehouse / "manifest.json").exists():
        from daivi_data.demo import build_demo_lakehouse

        print(f"building the {args.scale} demo lakehouse into {args.lakehouse} ...", flush=True)
        build_demo_lakehouse(args.lakehouse, scale=args.scale)

    from streamlit import logger

    logger.set_log_level("error")  # outside a server, st.cache_data warns on every call that it has no runtime
    audit_log = Path(tempfile.mkdtemp(prefix="daivi-bench-")) / "audit.jsonl"
    paths = Paths(args.lakehouse, audit_log)
    manifest = paths.engine.manifest
    scale = manifest.get("scale", "?")
    cur_rows = manifest["tables"]["daivi_cur.cur"]["rows"]
    print(f"lakehouse {args.lakehouse} (scale {scale}, {cur_rows:,} CUR rows), median of {args.repeat} interleaved warm runs")
    print(machine_line() + " at start\n")

    states = view_states(paths.engine)
    view_rows: dict[str, dict[str, Timing]] = {}
    if not args.only_pages:
        view_rows = measure_queries(args, paths, manifest, states)

    reruns: dict[str, Timing] = {}
    if not args.skip_pages or args.only_pages:
        reruns = page_reruns(states, args.lakehouse, audit_log, args.repeat)
        print(f"\n{'page state, cached rerun through AppTest (admin)':52} {'ms':>8}")
        for name, t in reruns.items():
            print(f"{name:52} {_cell(t, 8)}")

    load = json.loads(args.load_json.read_text()) if args.load_json else None
    print()
    print_targets(scale, manifest, view_rows, reruns, load)
    print("\n" + machine_line() + " at end")
    return 0


def measure_queries(args: argparse.Namespace, paths: Paths, manifest: dict, states: list[ViewState]) -> dict[str, dict[str, Timing]]:
    """Parts 1 and 2: the overview queries and the heavy view states' query sets, printed; the view rows returned."""
    cases = overview_cases(manifest)
    overview_rows: dict[str, dict[str, Timing]] = {}
    for case in cases:
        q = [case.query]
        overview_rows[case.query.name] = {
            "engine": Timing("engine", paths.engine_run(q, ADMIN)), "lead": Timing("lead", paths.engine_run(q, TEAM_LEAD)),
            "conn": Timing("conn", paths.connection_uncached(q, ADMIN)), "cached": Timing("cached", paths.connection_cached(q, ADMIN)),
            "raw": Timing("raw", paths.raw_run(q)),
            **({} if args.skip_pandas else {"pandas": Timing("pandas", lambda b=case.baseline: b(args.lakehouse))}),
        }
    measure_interleaved([t for r in overview_rows.values() for t in r.values()], args.repeat)
    print_overview(cases, overview_rows)

    view_rows: dict[str, dict[str, Timing]] = {}
    counts = {}
    for s in states:
        admin_q, lead_q = s.build(paths.engine, ADMIN), s.build(paths.engine, TEAM_LEAD)
        counts[s.name] = len(admin_q)
        view_rows[s.name] = {"engine": Timing("engine", paths.engine_run(admin_q, ADMIN)),
                             "lead": Timing("lead", paths.engine_run(lead_q, TEAM_LEAD)),
                             "conn": Timing("conn", paths.connection_uncached(admin_q, ADMIN)),
                             "raw": Timing("raw", paths.raw_run(admin_q))}
    measure_interleaved([t for r in view_rows.values() for t in r.values()], args.repeat)
    print()
    print_views(states, view_rows, counts)
    print(f"\n{'role extracts, built once per lakehouse and grant version':58} {'tables':>6} {'rows':>12} {'s':>7}")
    for role, tables, written, seconds in extract_builds(args.lakehouse, paths.policy):
        print(f"{role:58} {tables:6} {written:12,} {seconds:7.1f}")
    print("(the app builds them in the background at the role's first query, which reads pyarrow datasets meanwhile)")
    return view_rows


if __name__ == "__main__":
    raise SystemExit(main())
