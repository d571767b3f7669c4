"""The embedded engine: DuckDB in-process over the local Parquet lakehouse.

Queries arrive in Athena dialect; each is parsed once, governed for the
principal's role (see `governance.govern`), transpiled to DuckDB with sqlglot
and cached by (SQL, role). Values are bound as DuckDB named parameters.
The connection cannot touch files outside the lakehouse folder, so SQL cannot
read around the grants even through a table function that slipped by.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
import time
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import sqlglot
from sqlglot import exp

from daivi_data import catalog
from daivi_data.engines.base import QueryResult, QueryStats, TableInfo
from daivi_data.errors import AccessDenied, DataUnavailable, InvalidRequest, QueryFailed, QueryTimeout
from daivi_data.governance import Policy, RoleGrants, govern
from daivi_data.identity import Principal
from daivi_data.queries import Query

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
DUCKDB_THREADS = 2
INTERRUPT_RETRY_S = 0.05
QUERY_WORKERS = 16  # queries run off the caller's thread so a late one can be abandoned on time
_HIVE_TYPES = {"billing_period": "VARCHAR", "snapshot_date": "DATE", "event_date": "DATE"}


def read_manifest(root: Path) -> dict:
    """The lakehouse manifest, or DataUnavailable with what to do next."""
    path = root / MANIFEST
    if not path.exists():
        raise DataUnavailable(
            f"No lakehouse at {root} (or it was never finished). Build the demo with `make demo`, "
            "or import your exports with `python -m daivi_data.ingest`."
        )
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        raise DataUnavailable(f"The lakehouse manifest in {root} is unreadable. Rebuild it with `make demo`.") from None


@lru_cache(maxsize=512)
def translate(sql: str, grants: RoleGrants) -> tuple[str, tuple[str, ...]]:
    """Athena SQL -> governed DuckDB SQL, and its parameter names (cached per SQL and role)."""
    try:
        statements = sqlglot.parse(sql, read="athena")
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        raise QueryFailed(f"SQL syntax error{where}: {first.get('description', str(e))}.") from None
    # A trailing `; -- comment` parses as a comment-only Semicolon node: not a statement.
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1:
        raise InvalidRequest("Exactly one SQL statement is allowed.")
    tree = govern(statements[0], grants)
    names = tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder)))
    return tree.sql(dialect="duckdb"), names


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, root: Path, policy: Policy, timeout_s: float = 60.0):
        self.root = Path(root)
        self.policy = policy
        self.timeout_s = timeout_s
        self.manifest = read_manifest(self.root)
        self._con = self._connect()
        self._workers = concurrent.futures.ThreadPoolExecutor(max_workers=QUERY_WORKERS, thread_name_prefix="duckdb-query")

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:", config={"threads": DUCKDB_THREADS})
        for lh in catalog.LAKEHOUSES.values():
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{lh.default_database}"')
            for table in lh.tables:
                folder = self.root / lh.default_database / table.name
                files = list(folder.rglob("*.parquet"))[:1]
                if not files:
                    continue  # a missing table: queries on it fail with a clear message
                pattern = str(folder / ("**/*.parquet" if table.partition_keys else "*.parquet")).replace("'", "''")
                hive = ""
                if table.partition_keys:
                    types = ", ".join(f"'{k}': '{_HIVE_TYPES[k]}'" for k in table.partition_keys)
                    hive = f", hive_partitioning = true, hive_types = {{{types}}}"
                # Identifiers come from the catalog; the path is quoted above.
                view = f'"{lh.default_database}"."{table.name}"'
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{pattern}'{hive})")  # noqa: S608
        # Athena's `5 / 2` is 2; DuckDB's is 2.5 unless told otherwise.
        con.execute("SET GLOBAL integer_division = true")
        root = str(self.root.resolve()).replace("'", "''")
        con.execute(f"SET GLOBAL allowed_directories = ['{root}']")
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")
        return con

    def data_version(self) -> str:
        return f"duckdb:{self.root}:{self.manifest.get('generated_at', '')}"

    def table_info(self, database: str, table: str) -> TableInfo:
        folder = self.root / database / table
        parts = sorted(p.name.split("=", 1)[1] for p in folder.glob("*=*") if p.is_dir())
        exists = folder.exists() and any(folder.rglob("*.parquet"))
        return TableInfo(database, table, len(parts), parts[-1] if parts else None, exists)

    def run(self, query: Query, principal: Principal) -> QueryResult:
        grants = self.policy.for_role(principal.role)
        sql, names = translate(query.sql, grants)
        values = query.param_dict
        params = {n: list(values[n]) if isinstance(values[n], tuple) else values[n] for n in names}
        cursor = self._con.cursor()
        started = time.perf_counter()
        future = self._workers.submit(_fetch_df, cursor, sql, params)
        future.add_done_callback(lambda _: cursor.close())
        try:
            df = future.result(timeout=self.timeout_s)
        except (concurrent.futures.TimeoutError, duckdb.InterruptException):
            # The user gets the answer now; the query is interrupted (repeatedly: an
            # interrupt is not honoured in every phase) until DuckDB lets go of it.
            threading.Thread(target=_interrupt_until_done, args=(cursor, future), daemon=True).start()
            raise QueryTimeout(
                f"The query ran longer than {self.timeout_s:.0f} s and was stopped. Narrow the date range or add filters."
            ) from None
        except duckdb.PermissionException:
            raise AccessDenied("The query tried to read outside the lakehouse.") from None
        except (duckdb.IOException, duckdb.InvalidInputException) as e:
            log.warning("query %s failed reading the lakehouse: %s", query.name, e)
            raise DataUnavailable(
                f"A lakehouse file could not be read (corrupt or half written). Rebuild the lakehouse with `make demo`. ({_first_line(e)})"
            ) from None
        except duckdb.CatalogException as e:
            raise DataUnavailable(f"A table is missing from the lakehouse: {_first_line(e)}") from None
        except duckdb.Error as e:
            raise QueryFailed(_first_line(e)) from None
        elapsed = time.perf_counter() - started
        return QueryResult(df=df, stats=QueryStats(engine=self.name, rows=len(df), elapsed_s=elapsed), sql=sql)

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """At most the first `max_rows` rows of `query`: in process there is no download to save, so it is `run`, cut."""
        result = self.run(query, principal)
        if len(result.df) > max_rows:
            result.df = result.df.head(max_rows)
            result.stats.rows = max_rows
        return result


def _fetch_df(cursor: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    return cursor.execute(sql, params).df()


def _interrupt_until_done(cursor: duckdb.DuckDBPyConnection, future: concurrent.futures.Future) -> None:
    while not future.done():
        cursor.interrupt()
        try:
            future.result(timeout=INTERRUPT_RETRY_S)
        except Exception:  # noqa: S110 - the outcome of an abandoned query is of no use to anyone
            pass


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:300]
