"""Shared fixtures: the `small` demo lakehouse (built once per test session) and app settings.

The session's clock is stopped when it starts (`DAIVI_TEST_NOW`, daivi_data/clock.py):
every test, and every app server or command line a test starts, reads the same
"today", so a run that crosses midnight UTC still agrees with itself. Set
`DAIVI_TEST_NOW=2027-03-01T00:30:00Z` before pytest to run the tests on another day.

The lakehouse ends yesterday (UTC), like a real export, so the app's relative
ranges (month to date, last 24 hours) have data. Everything else about it is
fixed by the seed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from daivi_data import clock
from daivi_data.governance import load_policy
from daivi_data.lakehouse.manifest import is_outdated, read_manifest
from daivi_data.queries import inventory as inventory_queries
from daivi_data.settings import load_settings
from tests.helpers import SEED, demo_end_date, principal

# Modules whose tests build or import whole lakehouses (a minute of the unit + sql tiers between them), and
# the type check (`make typecheck`): marked `slow`, so `make test-fast` leaves them to `make test`.
SLOW_MODULES = ("tests/unit/test_demo_generator.py", "tests/sql/test_ingest_roundtrip.py", "tests/sql/test_ingest_memory.py",
                "tests/unit/test_typecheck.py")


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite the committed query snapshots (tests/fixtures/query_snapshots) instead of comparing; "
                          "also DAIVI_UPDATE_SNAPSHOTS=1")


@pytest.fixture(scope="session")
def update_snapshots(request) -> bool:
    """Whether snapshot tests rewrite their files (then review and commit the diff) instead of comparing."""
    return request.config.getoption("--update-snapshots") or os.environ.get("DAIVI_UPDATE_SNAPSHOTS") == "1"


def pytest_configure(config):
    """Stop the clock for the whole session, before any test module computes a date (an outer value wins)."""
    os.environ.setdefault(clock.TEST_NOW_ENV, clock.stopped_clock_value(dt.datetime.now(dt.UTC)))


def pytest_report_header(config):
    return f"clock stopped at {os.environ.get(clock.TEST_NOW_ENV)} ({clock.TEST_NOW_ENV})"


def pytest_collection_modifyitems(config, items):
    root = Path(config.rootpath)
    missing = [m for m in SLOW_MODULES if not (root / m).exists()]
    if missing:  # a renamed module would silently join the fast loop
        raise pytest.UsageError(f"tests/conftest.py SLOW_MODULES names missing files: {missing}")
    slow = {root / m for m in SLOW_MODULES}
    for item in items:
        if item.path in slow:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_lakehouse(tmp_path_factory) -> Path:
    """Path of the `small` demo lakehouse, built once per session (or DAIVI_TEST_LAKEHOUSE to reuse one that ends yesterday)."""
    reuse = os.environ.get("DAIVI_TEST_LAKEHOUSE")
    if reuse and (Path(reuse) / "manifest.json").exists() and not is_outdated(read_manifest(Path(reuse))):
        manifest = json.loads((Path(reuse) / "manifest.json").read_text())
        if manifest.get("end_date") == demo_end_date().isoformat():
            return Path(reuse)
        # Built on another day (its "yesterday" is not the session's) or of an older layout: build a fresh one.
    from daivi_data.demo import build_demo_lakehouse

    out = tmp_path_factory.mktemp("lakehouse") / "small"
    build_demo_lakehouse(out, scale="small", seed=SEED, end_date=demo_end_date())
    return out


@pytest.fixture(scope="session")
def app_env(small_lakehouse, tmp_path_factory) -> dict[str, str]:
    """Environment that points the app at the small lakehouse, with no secrets file."""
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    return {
        "DAIVI_LAKEHOUSE_PATH": str(small_lakehouse),
        "DAIVI_AUDIT_LOG": str(audit),
        "DAIVI_SECRETS_FILE": str(tmp_path_factory.mktemp("nosecrets") / "secrets.toml"),
        "DAIVI_ENGINE": "duckdb",
        "DAIVI_AUTH_MODE": "demo",
    }


@pytest.fixture(scope="session")
def settings(app_env):
    return load_settings(secrets={}, environ=app_env)


@pytest.fixture(scope="session")
def engine(settings):
    """The embedded engine over the small lakehouse (no Streamlit involved), restricted roles reading their
    extracts: the state a running app reaches once a role's extracts are built (built here before its first query)."""
    from daivi_data.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="eager")


@pytest.fixture(scope="session")
def engine_without_extracts(settings):
    """The same engine with restricted roles reading pyarrow datasets: what answers while extracts are built."""
    from daivi_data.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="off")


@pytest.fixture(scope="session")
def raw_duckdb(small_lakehouse):
    """A plain DuckDB connection with one view per table: for independent expected values."""
    import duckdb

    con = duckdb.connect()
    for folder in sorted(small_lakehouse.glob("daivi_*/*")):
        db, table = folder.parent.name, folder.name
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
        partitioned = any(p.is_dir() for p in folder.iterdir())
        pattern = f"{folder}/**/*.parquet" if partitioned else f"{folder}/*.parquet"
        con.execute(f"CREATE VIEW \"{db}\".\"{table}\" AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = {str(partitioned).lower()})")
    return con


@pytest.fixture
def as_persona():
    return principal


@pytest.fixture(scope="session")
def two_currencies(small_lakehouse, tmp_path_factory) -> dict:
    """A copy of the small lakehouse whose CUR line items of one account are billed in EUR (amounts unchanged):
    the copied lakehouse, the account billed in EUR, the snapshot and an unattached volume of that account with cost."""
    out = tmp_path_factory.mktemp("two-currencies") / "lh"
    shutil.copytree(small_lakehouse, out)
    planted = json.loads((out / "manifest.json").read_text())["planted"]["unattached_volumes"]
    snapshot = dt.date.fromisoformat(sorted(p.name.split("=")[1] for p in (out / "daivi_inventory/resources").glob("*=*"))[-1])
    con = duckdb.connect()
    start, end, _, _ = inventory_queries.cost_window(snapshot)
    cur = f"read_parquet('{out}/daivi_cur/cur/*/*.parquet', hive_partitioning=true)"
    volume, account, cost = con.execute(
        f"SELECT line_item_resource_id, line_item_usage_account_id, SUM(line_item_unblended_cost) FROM {cur} "
        "WHERE list_contains(?, line_item_resource_id) AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ? "
        "GROUP BY 1, 2 HAVING SUM(line_item_unblended_cost) > 0 ORDER BY 1 LIMIT 1", [planted, start, end]).fetchall()[0]
    for part in (out / "daivi_cur/cur").glob("*/*.parquet"):
        rewritten = part.with_suffix(".tmp")
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN line_item_usage_account_id = '{account}' THEN 'EUR' "
                    f"ELSE line_item_currency_code END AS line_item_currency_code) FROM read_parquet('{part}')) "
                    f"TO '{rewritten}' (FORMAT parquet)")
        rewritten.replace(part)
    return {"path": out, "account": account, "volume": volume, "cost": cost, "snapshot": snapshot}
