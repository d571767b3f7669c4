"""The production engine: Amazon Athena through awswrangler, as the signed-in user's own role.

Every query runs with a boto3 session of the principal's IAM role (see
`daivi_data.aws.credentials`), so Lake Formation decides which rows and columns
come back. The query's `:name` placeholders become Athena execution parameters
(`paramstyle="qmark"`, one typed literal each, `daivi_data.aws.literals`) and
its default database names become the configured ones, and date partition keys
Glue declares `string` are compared as text. Results are written under the
role session's own `aws:userid` prefix, which the role's IAM policy confines
the session to, encrypted SSE-S3 or SSE-KMS, and read back by awswrangler: the
CSV result by default, or Parquet files when UNLOAD is on (unordered queries
only: UNLOAD's files come back in no order). A query the workgroup's bytes
guard cancels says so, with the limit.

awswrangler's `read_sql_query` waits without a time limit, so the engine uses
its two halves (`start_query_execution`, `get_query_results`) around a wait
loop of its own that stops the query with `StopQueryExecution` at the
configured limit. awswrangler's result cache (`athena_cache_settings`) is off
on purpose: it matches SQL across every user of the workgroup.

Open-ended SQL (the workbench's) goes through `run_open_ended` instead: a
PyAthena cursor on a connection built for that one call from the principal's
own boto3 session, with the same S3 prefix and encryption. It pages through
`GetQueryResults` only as far as the rows asked for, so a large result is
never downloaded whole, and it stops the query in Athena at the time limit.
PyAthena's own result cache (`cache_size`) and Athena's result reuse stay off
for the same reason as awswrangler's.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Hashable

import awswrangler as wr
import boto3
import botocore.exceptions
import pandas as pd
import pyathena
import pyathena.error
import sqlglot
from pyathena.converter import DefaultTypeConverter
from pyathena.cursor import Cursor
from pyathena.model import AthenaQueryExecution
from pyathena.util import RetryConfig

from daivi_data import catalog
from daivi_data.aws.credentials import CredentialProvider, retry_config
from daivi_data.aws.errors import daivi_error, failed_query_error, is_expired_credentials
from daivi_data.aws.literals import to_qmark
from daivi_data.engines.base import QueryResult, QueryStats, TableInfo
from daivi_data.errors import AccessDenied, BytesLimitExceeded, DaiviError, QueryFailed, QueryTimeout, SettingsError
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query
from daivi_data.settings import Settings

log = logging.getLogger(__name__)

# Athena bills bytes scanned rounded up to the megabyte, at least 10 MB per query.
BILLING_UNIT_BYTES = 1_000_000
MIN_BILLED_BYTES = 10 * BILLING_UNIT_BYTES
BYTES_PER_TB = 1_000_000_000_000
POLL_FIRST_S = 0.2
POLL_MAX_S = 2.0
TABLE_INFO_TTL_S = 300
NO_RESULT_CACHE: wr.typing.AthenaCacheSettings = {"max_cache_seconds": 0}
_FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
_AWS_USERID = re.compile(r"AROA[A-Z0-9]+:[A-Za-z0-9_+=,.@-]{2,64}")  # role id : role session name
MAX_PAGE_ROWS = 1000  # GetQueryResults returns at most this many rows per call
# Athena's own text for these types, as awswrangler's CSV result shows them (PyAthena would parse maps and
# arrays into dicts and lists, which a result table cannot show when their shapes differ row to row).
_KEPT_AS_TEXT = ("array", "map", "row", "struct", "json", "varbinary")
_INTEGER_TYPES = ("tinyint", "smallint", "integer", "int", "bigint")
_FLOAT_TYPES = ("float", "real", "double")


def _projected(table: dict) -> bool:
    """Whether a Glue table uses partition projection (Athena computes its partitions; Glue lists none)."""
    return str(table.get("Parameters", {}).get("projection.enabled", "")).lower() == "true"


def _gigabytes(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 100_000_000 else f"{n / 1e6:,.0f} MB"


def cost_usd(bytes_scanned: int, price_per_tb_usd: float) -> float:
    """What Athena charges for a query that scanned `bytes_scanned` bytes."""
    billed = max(math.ceil(bytes_scanned / BILLING_UNIT_BYTES) * BILLING_UNIT_BYTES, MIN_BILLED_BYTES)
    return billed / BYTES_PER_TB * price_per_tb_usd


def like_embedded_engine(df: pd.DataFrame) -> pd.DataFrame:
    """Column types as the embedded engine returns them, so a page behaves the same on both engines.

    awswrangler reads DATE as Python date objects and DECIMAL as Decimal objects;
    DuckDB gives datetime64 and float64. Everything else already matches.
    """
    for column in df.columns:
        if df[column].dtype != object:
            continue
        sample = df[column].dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            df[column] = pd.to_datetime(df[column]).astype("datetime64[us]")
        elif isinstance(first, decimal.Decimal):
            df[column] = df[column].astype("float64")
    return df


def is_ordered(sql: str) -> bool:
    """Whether the outermost query sorts its result (ORDER BY), which UNLOAD's several output files would lose."""
    tree = sqlglot.parse_one(sql, read="athena")
    return tree.args.get("order") is not None


def _as_text(value: str | None) -> str | None:
    return value


def open_ended_converter() -> DefaultTypeConverter:
    """PyAthena's converter, with complex types kept as Athena's text."""
    converter = DefaultTypeConverter()
    converter.update(dict.fromkeys(_KEPT_AS_TEXT, _as_text))
    return converter


def frame_from_rows(rows: list[tuple], description: list[tuple] | None) -> pd.DataFrame:
    """Cursor rows as a DataFrame typed like awswrangler's (and so like the embedded engine's) results."""
    description = description or []
    names = [d[0] for d in description]
    df = pd.DataFrame.from_records(rows, columns=names) if rows else pd.DataFrame(columns=names, dtype=object)
    for i, (_name, kind, *_rest) in enumerate(description):
        kind = str(kind).lower()
        column = df.iloc[:, i]
        if kind in _INTEGER_TYPES:
            df.isetitem(i, column.astype("Int64"))
        elif kind in _FLOAT_TYPES:
            df.isetitem(i, column.astype("float64"))
        elif kind == "boolean":
            df.isetitem(i, column.astype("boolean"))
        elif kind.startswith("timestamp"):
            df.isetitem(i, pd.to_datetime(column))
    return like_embedded_engine(df)


class _PastTimeLimit(Exception):
    """Raised from PyAthena's poll loop when the query ran past the time limit."""


class _PollWatch:
    """PyAthena's `on_poll` callback: remembers the latest execution, waits with backoff, enforces the limit.

    PyAthena polls in a loop of its own; with `poll_interval=0` this callback does
    the waiting, so the back-off and the clock are the engine's (and a test's fake).
    """

    def __init__(self, engine: AthenaEngine, started: float):
        self.engine = engine
        self.started = started
        self.delay = POLL_FIRST_S
        self.execution: AthenaQueryExecution | None = None

    def __call__(self, execution: AthenaQueryExecution) -> None:
        self.execution = execution
        if execution.state in _FINAL_STATES:
            return
        remaining = self.started + self.engine.settings.query_timeout_s - self.engine._clock()
        if remaining <= 0:
            raise _PastTimeLimit
        self.engine._sleep(min(self.delay, remaining))
        self.delay = min(self.delay * 1.5, POLL_MAX_S)


class AthenaEngine:
    name = "athena"

    def __init__(self, settings: Settings, *, credentials: CredentialProvider | None = None,
                 base_session: Callable[[], boto3.Session] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        athena = settings.athena
        if not athena.s3_output.startswith("s3://") or "'" in athena.s3_output:
            raise SettingsError("Setting `daivi.athena.s3_output` must be an s3:// URL (s3://bucket/prefix/).")
        self.settings = settings
        self._base_session = base_session or (lambda: boto3.Session(region_name=athena.region))
        self.credentials = credentials or CredentialProvider(settings, base_session=self._base_session)
        self._clock = clock
        self._sleep = sleep
        self._database_map = {catalog.LAKEHOUSES[k].default_database: v for k, v in settings.databases.items()}
        self._table_info: dict[tuple[str, str], tuple[float, TableInfo]] = {}
        self._text_dates: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()
        # Every awswrangler AWS call: adaptive rate limiting with exponential backoff on throttling.
        wr.config.botocore_config = retry_config(settings)

    # --- Engine protocol ----------------------------------------------------------------------

    def result_scope(self, principal: Principal) -> Hashable:
        """Per person: each query runs in the person's own role session (its cost and audit are theirs)."""
        return principal.cache_key

    def data_version(self) -> str:
        # Athena has no manifest to version: results expire with the cache TTL instead.
        dbs = ",".join(f"{k}={v}" for k, v in sorted(self.settings.databases.items()))
        return f"athena:{self.settings.athena.region}:{self.settings.athena.workgroup}:{self.settings.athena.catalog}:{dbs}"

    def output_location(self, principal: Principal) -> str:
        """The principal's own S3 prefix for query results: `{s3_output}/{aws:userid}/`.

        `aws:userid` of the role session ("AROA…:RoleSessionName") is what the
        role's IAM policy confines the session to (`policies.results_access_policy`),
        so no user can read another's results, the admin's unfiltered ones included.
        """
        user_id = self.credentials.results_user_id(principal)
        if not _AWS_USERID.fullmatch(user_id):
            raise QueryFailed("STS returned an unexpected role session id; ask the platform team to check the app's role.")
        return f"{self.settings.athena.s3_output.rstrip('/')}/{user_id}/"

    def prepare(self, query: Query) -> tuple[str, list[str]]:
        """(SQL as Athena receives it, execution parameters): `?` markers, configured database names,
        date partition keys compared as text where Glue declares them `string`."""
        return to_qmark(query.sql, query.param_dict, self._database_map, self.text_date_keys())

    def text_date_keys(self) -> frozenset[str]:
        """The contract's date partition keys that Glue declares `string` (a crawler's default), cached a few minutes."""
        with self._lock:
            if self._text_dates and self._clock() - self._text_dates[0] < TABLE_INFO_TTL_S:
                return self._text_dates[1]
        found: set[str] = set()
        for key, lakehouse in catalog.LAKEHOUSES.items():
            for table in lakehouse.tables:
                dates = {c.name for c in table.columns if c.name in table.partition_keys and c.type == "date"}
                if not dates:
                    continue
                try:
                    described = self._glue().get_table(DatabaseName=self.settings.databases[key], Name=table.name)["Table"]
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    # The contract's type then: a missing table shows its own message when a query reaches it.
                    log.warning("could not read the partition keys of %s from Glue: %s", table.name, type(e).__name__)
                    continue
                found |= {k["Name"] for k in described.get("PartitionKeys", [])
                          if k["Name"] in dates and k.get("Type", "").lower() == "string"}
        keys = frozenset(found)
        with self._lock:
            self._text_dates = (self._clock(), keys)
        return keys

    def run(self, query: Query, principal: Principal) -> QueryResult:
        sql, params = self.prepare(query)
        return self._as_principal(principal, query, lambda session: self._run_once(query, sql, params, principal, session))

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """At most the first `max_rows` rows of `query` (open-ended SQL: the workbench's), through a PyAthena cursor.

        Only as many `GetQueryResults` pages as those rows need are read; the
        query is stopped in Athena (StopQueryExecution) when it runs past the
        time limit. UNLOAD is not used here: the first rows come from the API.
        """
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, not {max_rows}")
        sql, params = self.prepare(query)
        return self._as_principal(
            principal, query, lambda session: self._run_cursor(query, sql, params, principal, session, max_rows))

    def table_info(self, database: str, table: str) -> TableInfo:
        """Existence and newest partition of a table, from the Glue Data Catalog (cached for a few minutes)."""
        name = self._database_map.get(database, database)
        key = (name, table)
        with self._lock:
            cached = self._table_info.get(key)
            if cached and self._clock() - cached[0] < TABLE_INFO_TTL_S:
                return cached[1]
        info = self._glue_table_info(name, table)
        with self._lock:
            self._table_info[key] = (self._clock(), info)
        return info

    # --- internals ----------------------------------------------------------------------------

    def _encryption(self) -> tuple[str, str | None]:
        key = self.settings.athena.kms_key
        return ("SSE_KMS", key) if key else ("SSE_S3", None)

    def _excluded_columns(self, principal: Principal) -> dict[str, str]:
        """column -> table, of the columns the role's grants exclude (to name them in access errors)."""
        try:
            grants = load_policy(self.settings.grants_file).for_role(principal.role)
        except (AccessDenied, SettingsError):
            return {}
        return {c.lower(): f"{g.database}.{g.table}" for g in grants.grants for c in g.excluded_columns}

    def _as_principal(self, principal: Principal, query: Query, call: Callable[[boto3.Session], QueryResult]) -> QueryResult:
        """`call` with the principal's role session; renews expired credentials once; AWS failures as DaiviError."""
        excluded = self._excluded_columns(principal)
        for attempt in (1, 2):
            session = self.credentials.session_for(principal)
            try:
                return call(session)
            except DaiviError:
                raise
            except Exception as e:  # noqa: BLE001 - every AWS failure becomes one typed message
                # PyAthena wraps the botocore error it got; the cause says what AWS said.
                cause = e.__cause__ if isinstance(e, pyathena.error.Error) and e.__cause__ is not None else e
                if attempt == 1 and is_expired_credentials(cause):
                    # The role's credentials expired under us (clock skew, revoked session): renew once.
                    log.info("credentials of %s expired during %s; assuming the role again", principal.user_id, query.name)
                    self.credentials.invalidate(principal)
                    continue
                log.warning("athena query %s for %s failed: %s", query.name, principal.user_id, type(cause).__name__)
                raise daivi_error(cause, action="the query", excluded_columns=excluded) from None
        raise AssertionError("unreachable")

    def _run_cursor(self, query: Query, sql: str, params: list[str], principal: Principal, session: boto3.Session,
                    max_rows: int) -> QueryResult:
        athena = self.settings.athena
        encryption, kms_key = self._encryption()
        started = self._clock()
        watch = _PollWatch(self, started)
        # A connection of this principal's session for this one query: nothing (client, cursor, credentials)
        # outlives the call, so no other principal can ever be handed it.
        connection = pyathena.connect(
            session=session, region_name=athena.region, work_group=athena.workgroup,
            s3_staging_dir=self.output_location(principal), encryption_option=encryption, kms_key=kms_key,
            schema_name=None, catalog_name=athena.catalog, config=retry_config(self.settings),
            # botocore already retries throttling (adaptive mode); PyAthena's own retries would multiply them.
            retry_config=RetryConfig(attempt=1), poll_interval=0, on_poll=watch,
            converter=open_ended_converter(), result_reuse_enable=False,
        )
        try:
            with connection.cursor() as cursor:
                cursor.arraysize = min(max_rows + 1, MAX_PAGE_ROWS)  # + 1: the first page starts with the header row
                try:
                    cursor.execute(sql, params or None, paramstyle="qmark", cache_size=0, result_reuse_enable=False)
                except _PastTimeLimit:
                    self._stop(cursor, principal)
                    raise QueryTimeout(
                        f"The query ran longer than {self.settings.query_timeout_s:g} s and was cancelled in Athena "
                        f"(id {cursor.query_id}). Narrow the date range or add filters."
                    ) from None
                except pyathena.error.OperationalError:
                    error = self._error_for_state(watch.execution, cursor.query_id, query, principal)
                    if error is None:
                        raise  # not the query's end state (a failed API call): its cause says what AWS said
                    raise error from None
                rows = cursor.fetchmany(max_rows)
                df = frame_from_rows(rows, cursor.description)
                query_id = cursor.query_id or ""
                scanned = int(cursor.data_scanned_in_bytes or 0)
                engine_ms = cursor.engine_execution_time_in_millis
        finally:
            connection.close()
        elapsed = engine_ms / 1000 if engine_ms else self._clock() - started
        log.info("athena cursor query %s (%s) for %s: first %d rows, %d bytes scanned", query_id, query.name,
                 principal.user_id, len(df), scanned)
        return QueryResult(
            df=df,
            stats=QueryStats(engine=self.name, rows=len(df), elapsed_s=elapsed, query_id=query_id, bytes_scanned=scanned,
                             cost_usd=cost_usd(scanned, athena.price_per_tb_usd)),
            sql=sql,
        )

    def _stop(self, cursor: Cursor, principal: Principal) -> None:
        try:
            cursor.cancel()  # StopQueryExecution
        except pyathena.error.Error as e:
            log.warning("could not stop athena query %s of %s: %s", cursor.query_id, principal.user_id, type(e.__cause__ or e).__name__)

    def _error_for_state(self, execution: AthenaQueryExecution | None, query_id: str | None, query: Query,
                         principal: Principal) -> DaiviError | None:
        """The typed error of a query that ended FAILED or CANCELLED (PyAthena raises a bare OperationalError)."""
        if execution is None:
            return None
        if execution.state == AthenaQueryExecution.STATE_FAILED:
            log.warning("athena cursor query %s (%s) for %s FAILED", query_id, query.name, principal.user_id)
            return failed_query_error(execution.state_change_reason or "", excluded_columns=self._excluded_columns(principal))
        if execution.state == AthenaQueryExecution.STATE_CANCELLED:
            return self._cancelled(query_id or "", execution.state_change_reason or "", execution.data_scanned_in_bytes,
                                   self.credentials.session_for(principal))
        return None

    def _cancelled(self, query_id: str, reason: str, scanned: int | None, session: boto3.Session) -> DaiviError:
        """Why Athena cancelled a query the app did not stop: the workgroup's bytes guard, or something else."""
        cutoff = self._bytes_cutoff(session)
        over = cutoff is not None and (scanned or 0) >= cutoff
        if over or "scanned" in reason.lower() or "cutoff" in reason.lower():
            limit = f" of {_gigabytes(cutoff)} per query" if cutoff else ""
            return BytesLimitExceeded(
                f"Athena stopped the query (id {query_id}): it would scan more than the workgroup's limit{limit}. "
                "Narrow the date range or add filters, so it reads fewer partitions."
            )
        return QueryFailed(f"Athena cancelled the query (id {query_id}). Try again; if it keeps happening, ask the platform team.")

    def _bytes_cutoff(self, session: boto3.Session) -> int | None:
        """The workgroup's BytesScannedCutoffPerQuery (None: no limit, or the role may not read the workgroup)."""
        try:
            workgroup = session.client("athena", config=retry_config(self.settings)).get_work_group(
                WorkGroup=self.settings.athena.workgroup)["WorkGroup"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            log.warning("could not read workgroup %s: %s", self.settings.athena.workgroup, type(e).__name__)
            return None
        return workgroup.get("Configuration", {}).get("BytesScannedCutoffPerQuery")

    def _run_once(self, query: Query, sql: str, params: list[str], principal: Principal,
                  session: boto3.Session) -> QueryResult:
        athena = self.settings.athena
        output = self.output_location(principal)
        encryption, kms_key = self._encryption()
        unload_path = ""
        text = sql
        # UNLOAD writes several files in no order: a query whose result order matters reads Athena's CSV instead.
        if athena.unload and not is_ordered(sql):
            # Large results: Parquet files instead of one CSV. The path is ours (settings + uuid), never user input.
            unload_path = f"{output}unload/{uuid.uuid4().hex}/"
            text = f"UNLOAD ({sql}) TO '{unload_path}' WITH (format = 'PARQUET', compression = 'SNAPPY')"
        started = self._clock()
        query_id = wr.athena.start_query_execution(
            sql=text, s3_output=output, workgroup=athena.workgroup, encryption=encryption, kms_key=kms_key,
            params=params or None, paramstyle="qmark", boto3_session=session,
            athena_cache_settings=NO_RESULT_CACHE, data_source=athena.catalog,
        )
        execution = self._wait(query_id, session, started, query.name)
        status = execution["Status"]
        if status["State"] == "FAILED":
            reason = status.get("StateChangeReason", "")
            log.warning("athena query %s (%s) for %s FAILED", query_id, query.name, principal.user_id)
            raise failed_query_error(reason, excluded_columns=self._excluded_columns(principal))
        if status["State"] == "CANCELLED":
            raise self._cancelled(query_id, status.get("StateChangeReason", ""),
                                  execution.get("Statistics", {}).get("DataScannedInBytes"), session)
        if unload_path:
            df = self._read_unload(unload_path, session)
        else:
            df = wr.athena.get_query_results(query_execution_id=query_id, boto3_session=session, use_threads=False)
        df = like_embedded_engine(df)
        stats = execution.get("Statistics", {})
        scanned = int(stats.get("DataScannedInBytes", 0))
        engine_ms = stats.get("EngineExecutionTimeInMillis")
        elapsed = engine_ms / 1000 if engine_ms else self._clock() - started
        log.info("athena query %s (%s) for %s: %d rows, %d bytes scanned", query_id, query.name, principal.user_id, len(df), scanned)
        return QueryResult(
            df=df,
            stats=QueryStats(engine=self.name, rows=len(df), elapsed_s=elapsed, query_id=query_id, bytes_scanned=scanned,
                             cost_usd=cost_usd(scanned, athena.price_per_tb_usd)),
            sql=text,
        )

    def _wait(self, query_id: str, session: boto3.Session, started: float, name: str) -> dict:
        """The final QueryExecution of `query_id`; stops it with StopQueryExecution past the time limit."""
        client = session.client("athena", config=retry_config(self.settings))
        limit = self.settings.query_timeout_s
        delay = POLL_FIRST_S
        while True:
            execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution["Status"]["State"] in _FINAL_STATES:
                return execution
            remaining = started + limit - self._clock()
            if remaining <= 0:
                try:
                    wr.athena.stop_query_execution(query_execution_id=query_id, boto3_session=session)
                except botocore.exceptions.ClientError as e:
                    log.warning("could not stop athena query %s: %s", query_id, type(e).__name__)
                raise QueryTimeout(
                    f"The query ran longer than {limit:g} s and was cancelled in Athena (id {query_id}). "
                    "Narrow the date range or add filters."
                )
            self._sleep(min(delay, remaining))
            delay = min(delay * 1.5, POLL_MAX_S)

    def _read_unload(self, path: str, session: boto3.Session) -> pd.DataFrame:
        try:
            return wr.s3.read_parquet(path=path, boto3_session=session, use_threads=False)
        except wr.exceptions.NoFilesFound:
            return pd.DataFrame()  # UNLOAD writes no file for an empty result

    def _glue_table_info(self, database: str, table: str) -> TableInfo:
        try:
            glue = self._glue()
            glue.get_database(Name=database)
        except botocore.exceptions.BotoCoreError as e:  # no credentials, no network
            return self._lookup_failed(database, table, e)
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                return TableInfo(database, table, 0, None, exists=False,
                                 note=f"Database `{database}` does not exist in the Glue Data Catalog.")
            return self._lookup_failed(database, table, e)
        try:
            described = glue.get_table(DatabaseName=database, Name=table)["Table"]
            partition_keys = described.get("PartitionKeys", [])
            values: list[str] = []
            if partition_keys:
                pages = glue.get_paginator("get_partitions").paginate(
                    DatabaseName=database, TableName=table, ExcludeColumnSchema=True,
                )
                values = ["/".join(p["Values"]) for page in pages for p in page.get("Partitions", [])]
            if partition_keys and not values and _projected(described):
                # Partition projection: Glue lists no partitions; the data's own folders say how fresh it is.
                values = self._partition_folders(described, partition_keys[0]["Name"])
        except botocore.exceptions.BotoCoreError as e:
            return self._lookup_failed(database, table, e)
        except botocore.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                return TableInfo(database, table, 0, None, exists=False,
                                 note=f"Table `{database}.{table}` does not exist in the Glue Data Catalog.")
            return self._lookup_failed(database, table, e)
        return TableInfo(database, table, len(values), max(values) if values else None, exists=True)

    def _glue(self):
        return self._base_session().client("glue", config=retry_config(self.settings))

    def _partition_folders(self, described: dict, key: str) -> list[str]:
        """The values of partition `key` in the table's S3 folders, listed with the app's role.

        The folders are where `storage.location.template` puts them (CUR 2.0 Data
        Exports write `…/data/BILLING_PERIOD=2026-03/`), else Hive's
        `{location}/{key}=value/`. A template with another variable before `key`
        is not listed (the freshness line then says nothing).
        """
        location = described.get("StorageDescriptor", {}).get("Location", "").rstrip("/")
        template = described.get("Parameters", {}).get("storage.location.template") or f"{location}/{key}=${{{key}}}/"
        before = template.split("${" + key + "}", 1)[0]
        if "${" in before or not before.startswith("s3://") or "${" + key + "}" not in template:
            return []
        bucket, _, prefix = before.removeprefix("s3://").partition("/")
        s3 = self._base_session().client("s3", config=retry_config(self.settings))
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        return [p["Prefix"][len(prefix):].rstrip("/") for page in pages for p in page.get("CommonPrefixes", [])]

    def _lookup_failed(self, database: str, table: str, error: Exception) -> TableInfo:
        # Freshness is a nicety: a catalog the app may not describe must not block the queries themselves.
        message = str(daivi_error(error, action=f"looking up {database}.{table} in Glue"))
        log.warning("glue lookup of %s.%s failed: %s", database, table, type(error).__name__)
        return TableInfo(database, table, 0, None, exists=True, note=message)
