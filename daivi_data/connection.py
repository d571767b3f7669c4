"""The Streamlit boundary: an `st.connection` over the lakehouse engine, with a per-principal cache.

Pages call `connection.run(query, principal)`; the SQL workbench calls
`connection.run_open_ended(query, principal, max_rows)` for user SQL whose
result size nobody bounded (on Athena a PyAthena cursor that reads only the
first rows and can cancel). Results are cached with `st.cache_data`; the cache
key always holds the principal's cache key, the engine's data version and the
grants' policy version, so two users never share a cached result, a rebuilt
lakehouse is never served from a stale entry and nothing computed under edited
grants is served after the edit. Every call — ok, cached, denied, refused,
failed or timed out — is written to the audit log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from streamlit.connections import BaseConnection

from daivi_data.audit import outcome_of, write_audit_record
from daivi_data.engines import Engine, QueryResult, create_engine
from daivi_data.errors import DaiviError
from daivi_data.governance import policy_store
from daivi_data.identity import Principal
from daivi_data.queries import Query
from daivi_data.settings import Settings, load_settings

RESULT_TTL_S = 600
MAX_CACHED_RESULTS = 500
CONNECTION_NAME = "lakehouse"

_executed = threading.local()
T = TypeVar("T")


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_CACHED_RESULTS, show_spinner=False)
def _run_cached(
    principal_key: str,
    data_version: str,
    policy_version: str,
    query_name: str,
    sql: str,
    params: tuple,
    _engine: Engine,
    _query: Query,
    _principal: Principal,
) -> QueryResult:
    # The hashed arguments above are the cache key: principal, data, grants, and the
    # query's full text and values. `_principal` is unhashed only because
    # `principal_key` already determines it (role included).
    _executed.flag = True
    return _engine.run(_query, _principal)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_CACHED_RESULTS, show_spinner=False)
def _run_open_ended_cached(
    principal_key: str,
    data_version: str,
    policy_version: str,
    query_name: str,
    sql: str,
    params: tuple,
    max_rows: int,
    _engine: Engine,
    _query: Query,
    _principal: Principal,
) -> QueryResult:
    # Keyed like `_run_cached`, principal first: a chart option changed in the workbench reruns the page,
    # and must not run (and bill) the same query again, but another user never gets these rows.
    _executed.flag = True
    return _engine.run_open_ended(_query, _principal, max_rows)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_CACHED_RESULTS, show_spinner=False)
def _derived_cached(principal_key: str, data_version: str, policy_version: str, function: str, inputs: tuple,
                    _compute: Callable[..., object]) -> object:
    # Keyed like the query cache, principal first; `function` names the pure function and `inputs` are
    # everything it reads, so the key determines the value.
    return _compute(*inputs)


class LakehouseConnection(BaseConnection[Engine]):
    """`st.connection("lakehouse", type=LakehouseConnection)`."""

    def _connect(self, settings: Settings | None = None, **_: object) -> Engine:
        self.settings = settings or load_settings()
        return create_engine(self.settings)

    @property
    def engine(self) -> Engine:
        return self._instance

    def run(self, query: Query, principal: Principal) -> QueryResult:
        """Run a named query as `principal`, from the cache when the same principal ran it before under the same grants."""
        engine = self.engine
        return self._audited(query, principal, lambda data, version: _run_cached(
            principal.cache_key, data, version, query.name, query.sql, query.params, engine, query, principal))

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """The first `max_rows` rows of open-ended SQL (the workbench's) as `principal`; cached for that principal only."""
        engine = self.engine
        return self._audited(query, principal, lambda data, version: _run_open_ended_cached(
            principal.cache_key, data, version, query.name, query.sql, query.params, max_rows,
            engine, query, principal))

    def derived(self, principal: Principal, compute: Callable[..., T], *inputs) -> T:
        """`compute(*inputs)` (pandas work on query results), cached like query results: per principal, data and grants."""
        version = policy_store(self.settings.grants_file).current().version
        name = f"{compute.__module__}.{compute.__qualname__}"
        return _derived_cached(principal.cache_key, self.engine.data_version(), version, name, inputs, compute)  # type: ignore[return-value]

    def record_refusal(self, query: Query, principal: Principal, error: DaiviError) -> None:
        """An audit line for a query refused before it reached the engine (the workbench's SQL guard)."""
        self._write(query, principal, rows=None, elapsed_s=0.0, outcome=outcome_of(error), error=error)

    def _audited(self, query: Query, principal: Principal, call: Callable[[str, str], QueryResult]) -> QueryResult:
        """`call(data_version, policy_version)`, with one audit record whatever happens."""
        _executed.flag = False
        started = time.perf_counter()
        version = ""
        try:
            version = policy_store(self.settings.grants_file).current().version
            data = self.engine.data_version()
            result = call(data, version)
            result.versions = (data, version)
        except DaiviError as e:
            self._write(query, principal, rows=None, elapsed_s=time.perf_counter() - started, outcome=outcome_of(e),
                        error=e, policy_version=version)
            raise
        cached = not _executed.flag
        result.stats.cached = cached
        self._write(query, principal, rows=result.stats.rows, elapsed_s=time.perf_counter() - started,
                    outcome="cached" if cached else "ok", query_id=result.stats.query_id, policy_version=version)
        return result

    def _write(self, query: Query, principal: Principal, **fields) -> None:
        write_audit_record(self.settings.audit_log, principal=principal, engine=self.engine.name, query=query,
                           to_stdout=self.settings.audit_stdout, **fields)
