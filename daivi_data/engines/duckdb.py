"""The embedded engine: DuckDB in-process over the local Parquet lakehouse, governed by construction.

Queries arrive in Athena dialect. Each runs in three layers, any one of which
would hold the grants on its own:

1. `governance.govern` resolves every name by scope, qualifies catalog tables,
   renames CTEs, allows only known scalar/aggregate/window functions and refuses
   what the role may not read (with a message that names it);
2. sqlglot writes DuckDB SQL from that tree, and `duckdb_guard` checks the text
   as DuckDB's own parser reads it: only the role's relations and the query's CTEs,
   only allow-listed functions, no table function but UNNEST;
3. the SQL runs in the role's own DuckDB database (`RoleDatabase`), which holds
   only the tables the role may read: fully granted tables as views over their
   folders; restricted ones (row filter or excluded columns) as views over the
   role's extracts (engines/role_extracts.py: the table written once per data and
   grant version with only the allowed rows and columns), or, until those are
   built, as pyarrow datasets already projected and filtered — so no excluded row
   or column exists in it either way. File access is then switched off and the
   configuration locked: the only files it can open are the folders of tables the
   role may read whole, its own extracts and its spill folder. No setting, no
   path, no other role's data is reachable.

Translations are cached by (SQL, role grants); values are bound as DuckDB named parameters.

Results are shared between the principals of one role (`_shared_results`): here a
query's rows are a function of the role's grants, the SQL and its values only
(the role's database is chosen by its grants, nothing else of the principal
reaches it), so the key is exactly those — the `RoleGrants` value (role, every
grant, policy version), the governed SQL, the bound values and the data version.
Two roles never share an entry even when their grants read alike, and an edited
grants file starts new entries. The connection above still keeps each principal's
own copy and writes each principal's audit line (outcome `cached` for a shared
result). Twenty people of one role opening the same view run its queries once.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import sqlglot
from sqlglot import exp

from daivi_data import catalog
from daivi_data.engines.base import QueryResult, QueryStats, TableInfo
from daivi_data.engines.duckdb_guard import check_duckdb_sql
from daivi_data.engines.role_extracts import ExtractSpec, RoleExtracts, extract_key
from daivi_data.errors import AccessDenied, DataUnavailable, InvalidRequest, QueryFailed, QueryTimeout, SettingsError
from daivi_data.governance import Policy, PolicyStore, RoleGrants, govern
from daivi_data.identity import Principal
from daivi_data.lakehouse.layout import MANIFEST
from daivi_data.lakehouse.manifest import FORMAT as LAKEHOUSE_FORMAT
from daivi_data.lakehouse.manifest import format_of as lakehouse_format
from daivi_data.lakehouse.manifest import is_outdated
from daivi_data.queries import Query
from daivi_data.result_cache import ExactCache, exact_key

log = logging.getLogger(__name__)

DUCKDB_THREADS = 2
INTERRUPT_RETRY_S = 0.05
QUERY_WORKERS = 16  # queries run off the caller's thread so a late one can be abandoned on time
MAX_ROLE_DATABASES = 16  # open per-role databases kept (least recently used closed first)
SHARED_RESULTS_TTL_S = 600  # as the connection's per-principal cache
SHARED_RESULTS = 1_000  # entries: every query of every view for a few dozen roles
ROLE_MEMORY_SHARE = 0.4  # of physical memory, per role database (DuckDB's default is 80% each)
_HIVE_TYPES = {"billing_period": "VARCHAR", "snapshot_date": "DATE", "event_date": "DATE"}
_ARROW_HIVE_TYPES = {"billing_period": pa.string(), "snapshot_date": pa.date32(), "event_date": pa.date32()}


def read_manifest(root: Path) -> dict:
    """The lakehouse manifest, or DataUnavailable with what to do next."""
    path = root / MANIFEST
    if not path.exists():
        raise DataUnavailable(
            f"No lakehouse at {root} (or it was never finished). Build the demo with `make demo`, "
            "or import your exports with `python -m daivi_data.ingest`."
        )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        raise DataUnavailable(f"The lakehouse manifest in {root} is unreadable. Rebuild it with `make demo`.") from None
    if is_outdated(manifest):  # its tables lack columns the queries read
        raise DataUnavailable(
            f"The lakehouse at {root} has layout version {lakehouse_format(manifest)}; this version of the app reads "
            f"version {LAKEHOUSE_FORMAT}. Rebuild the demo with `make demo`, or import your exports again with "
            "`python -m daivi_data.ingest` (without --merge).")
    return manifest


def governed_relations(grants: RoleGrants) -> frozenset[tuple[str, str]]:
    """(database, table) of every relation a role's database holds."""
    return frozenset((db, table.name) for db, table, _grant in grants.readable_tables())


@lru_cache(maxsize=4096)  # every query of every view, a few dozen roles
def translate(sql: str, grants: RoleGrants) -> tuple[str, tuple[str, ...]]:
    """Athena SQL -> governed, checked DuckDB SQL, and its parameter names (cached per SQL and role)."""
    try:
        parsed = sqlglot.parse(sql, read="athena")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        first = e.errors[0] if isinstance(e, sqlglot.errors.ParseError) and e.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        raise QueryFailed(f"SQL syntax error{where}: {first.get('description', str(e))}.") from None
    # A trailing `; -- comment` parses as a comment-only Semicolon node: not a statement.
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1:
        raise InvalidRequest("Exactly one SQL statement is allowed.")
    tree = govern(statements[0], grants)
    names = tuple(dict.fromkeys(p.name for p in tree.find_all(exp.Placeholder)))
    duck_sql = tree.sql(dialect="duckdb")
    check_duckdb_sql(duck_sql, governed_relations(grants))
    return duck_sql, names


def _memory_limit() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "4GB"
    return f"{max(1, int(total * ROLE_MEMORY_SHARE / 2**20))}MB"


class RoleDatabase:
    """A DuckDB database that holds one role's governed relations and can reach nothing else."""

    def __init__(self, root: Path, grants: RoleGrants, policy: Policy, extracts: RoleExtracts, data_version: str):
        self.grants = grants
        self.relations = governed_relations(grants)
        # Extracts this database reads as pyarrow datasets because they were not built yet: once they
        # are, the engine opens a new database for the same grants that reads them natively.
        self.pending_extracts: tuple[ExtractSpec, ...] = ()
        self._spill = tempfile.mkdtemp(prefix="daivi-duckdb-")
        self._datasets: dict[str, ds.Dataset] = {}  # registered per cursor: DuckDB keeps registrations per connection
        con = duckdb.connect(":memory:", config={"threads": DUCKDB_THREADS, "temp_directory": self._spill,
                                                 "memory_limit": _memory_limit()})
        readable_folders = []
        for db, table, grant in grants.readable_tables():
            folder = (root / db / table.name).resolve()
            if not any(folder.rglob("*.parquet")):
                continue  # a missing table: queries on it fail with a clear message
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
            view = f'"{db}"."{table.name}"'  # identifiers come from the catalog
            if not grant.is_full:
                spec = extract_spec(root, db, table, grant, policy, data_version)
                dataset = spec.dataset
                extract = extracts.folder(spec)
                if extract is None:
                    self.pending_extracts += (spec,) if extracts.mode != "off" else ()
                    name = f"__governed__{db}__{table.name}"
                    self._datasets[name] = dataset
                    con.register(name, dataset)
                    con.execute(f'CREATE VIEW {view} AS SELECT * FROM "{name}"')  # noqa: S608
                    continue
                folder = extract  # holds only the role's rows and columns: the raw table stays unreachable
            readable_folders.append(str(folder) + os.sep)
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {_parquet_scan(folder, table)}")  # noqa: S608
        # Athena's `5 / 2` is 2; DuckDB's is 2.5 unless told otherwise.
        con.execute("SET GLOBAL integer_division = true")
        folders = ", ".join("'" + f.replace("'", "''") + "'" for f in readable_folders)
        con.execute(f"SET GLOBAL allowed_directories = [{folders}]")
        self.readable_folders = tuple(readable_folders)
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")
        self._con = con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor that sees the role's relations (and nothing more)."""
        cursor = self._con.cursor()
        for name, dataset in self._datasets.items():
            cursor.register(name, dataset)
        return cursor

    def close(self) -> None:
        self._con.close()
        shutil.rmtree(self._spill, ignore_errors=True)


def _parquet_scan(folder: Path, table: catalog.Table) -> str:
    pattern = str(folder / ("**/*.parquet" if table.partition_keys else "*.parquet")).replace("'", "''")
    if not table.partition_keys:
        return f"read_parquet('{pattern}')"
    types = ", ".join(f"'{k}': '{_HIVE_TYPES[k]}'" for k in table.partition_keys)
    return f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{{types}}})"


def extract_spec(root: Path, db: str, table: catalog.Table, grant, policy: Policy, data_version: str) -> ExtractSpec:
    """What the role extract of a restricted table holds: its governed dataset, keyed by data version and grant."""
    folder = (root / db / table.name).resolve()
    dataset = governed_dataset(folder, table, grant, policy)
    return ExtractSpec(db, table, folder, dataset, extract_key(data_version, db, table.name, dataset.schema.names,
                                                               grant.row_filter))


def governed_dataset(folder: Path, table: catalog.Table, grant, policy: Policy) -> ds.Dataset:
    """The table's files as a pyarrow dataset: allowed columns only, rows filtered before anyone sees them."""
    partitioning = None
    if table.partition_keys:
        partitioning = ds.partitioning(pa.schema([(k, _ARROW_HIVE_TYPES[k]) for k in table.partition_keys]), flavor="hive")
    full = ds.dataset(folder, format="parquet", partitioning=partitioning)
    excluded = set(grant.excluded_columns)
    schema = pa.schema([f for f in full.schema if f.name not in excluded])
    dataset = ds.dataset(folder, format="parquet", partitioning=partitioning, schema=schema)
    if grant.row_filter:
        dataset = dataset.filter(policy.row_filter(grant.row_filter).arrow_expression(schema))
    return dataset


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, root: Path, policy: Policy | PolicyStore, timeout_s: float = 60.0, role_extracts: str = "background",
                 share_results: bool = True):
        self.root = Path(root)
        self.policy = policy  # a store (re-read on change) or a fixed Policy: both answer `.current()`
        self.timeout_s = timeout_s
        self.manifest = read_manifest(self.root)
        self.extracts = RoleExtracts(role_extracts)
        # Off for benchmarks that time the engine itself.
        self._shared_results = ExactCache(SHARED_RESULTS_TTL_S, SHARED_RESULTS) if share_results else None
        self._databases: OrderedDict[RoleGrants, RoleDatabase] = OrderedDict()
        self._databases_lock = threading.Lock()
        self._workers = concurrent.futures.ThreadPoolExecutor(max_workers=QUERY_WORKERS, thread_name_prefix="duckdb-query")
        if role_extracts == "background":
            try:
                self._schedule_extracts(self.policy.current())
            except SettingsError as e:  # a broken grants file: every query fails closed with its message, as before
                log.warning("role extracts not queued: %s", e)

    def _schedule_extracts(self, policy: Policy) -> None:
        """Every restricted table of every role, queued for its extract: built before most people arrive."""
        for role in policy.roles:
            for db, table, grant in policy.for_role(role).readable_tables():
                if not grant.is_full and any((self.root / db / table.name).rglob("*.parquet")):
                    self.extracts.folder(extract_spec(self.root, db, table, grant, policy, self.data_version()))

    def _database(self, grants: RoleGrants, policy: Policy) -> RoleDatabase:
        """The role's database for these exact grants (a new policy version gets a new one)."""
        with self._databases_lock:
            database = self._databases.get(grants)
            if database is not None and database.pending_extracts and all(
                    [self.extracts.folder(spec) for spec in database.pending_extracts]):  # (schedules a failed build again)
                database = None  # its extracts are built: a new database reads them (running queries keep the old)
            if database is None:
                stale = [g for g in self._databases if g.policy_version != grants.policy_version]
                for old in stale:  # queries still running on them keep their cursor; new ones never see old grants
                    self._databases.pop(old)
                database = self._databases[grants] = RoleDatabase(self.root, grants, policy, self.extracts, self.data_version())
                while len(self._databases) > MAX_ROLE_DATABASES:
                    self._databases.popitem(last=False)
            self._databases.move_to_end(grants)
            return database

    def data_version(self) -> str:
        return f"duckdb:{self.root}:{self.manifest.get('generated_at', '')}"

    def table_info(self, database: str, table: str) -> TableInfo:
        folder = self.root / database / table
        parts = sorted(p.name.split("=", 1)[1] for p in folder.glob("*=*") if p.is_dir())
        exists = folder.exists() and any(folder.rglob("*.parquet"))
        return TableInfo(database, table, len(parts), parts[-1] if parts else None, exists)

    def run(self, query: Query, principal: Principal) -> QueryResult:
        policy = self.policy.current()
        grants = policy.for_role(principal.role)
        sql, names = translate(query.sql, grants)
        if self._shared_results is None:
            return self._execute(query, sql, names, grants, policy)
        key = (grants, self.data_version(), sql, exact_key(query.params))
        result, computed = self._shared_results.get_or_compute(key, lambda: self._execute(query, sql, names, grants, policy))
        if not computed:
            result.stats.cached = True  # another principal of the role ran it: no query ran for this one
        return result

    def result_scope(self, principal: Principal) -> RoleGrants:
        """The role's grants (role, every grant, policy version): all that the rows of a query depend on here."""
        return self.policy.current().for_role(principal.role)

    def clear_shared_results(self) -> None:
        if self._shared_results is not None:
            self._shared_results.clear()

    def _execute(self, query: Query, sql: str, names: tuple[str, ...], grants: RoleGrants, policy: Policy) -> QueryResult:
        values = query.param_dict
        params = {n: list(v) if isinstance(v := values[n], tuple) else v for n in names}
        cursor = self._database(grants, policy).cursor()
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
            raise AccessDenied("The query tried to read outside your grants.") from None
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
