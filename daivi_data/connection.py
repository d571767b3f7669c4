"""The Streamlit boundary: an `st.connection` over the lakehouse engine, with a per-principal cache.

Pages call `connection.run(query, principal)`; the SQL workbench calls
`connection.run_open_ended(query, principal, max_rows)` for user SQL whose
result size nobody bounded (on Athena a PyAthena cursor that reads only the
first rows and can cancel). Results are cached with `st.cache_data`; the cache
key always holds the principal's cache key and the engine's data version, so
two users never share a cached result and a rebuilt lakehouse is never served
from a stale entry. Every call, cached or not, is written to the audit log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.connections import BaseConnection

from daivi_data.audit import write_audit_record
from daivi_data.engines import Engine, QueryResult, create_engine
from daivi_data.errors import DaiviError
from daivi_data.identity import Principal
from daivi_data.queries import Query
from daivi_data.settings import Settings, load_settings

RESULT_TTL_S = 600
MAX_CACHED_RESULTS = 500
CONNECTION_NAME = "lakehouse"

_executed = threading.local()


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_CACHED_RESULTS, show_spinner=False)
def _run_cached(
    principal_key: str,
    data_version: str,
    query_name: str,
    sql: str,
    params: tuple,
    _engine: Engine,
    _query: Query,
    _principal: Principal,
) -> QueryResult:
    # The hashed arguments above are the cache key: principal, data, and the
    # query's full text and values. `_principal` is unhashed only because
    # `principal_key` already determines it (role included).
    _executed.flag = True
    return _engine.run(_query, _principal)


@st.cache_data(ttl=RESULT_TTL_S, max_entries=MAX_CACHED_RESULTS, show_spinner=False)
def _run_open_ended_cached(
    principal_key: str,
    data_version: str,
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


class LakehouseConnection(BaseConnection[Engine]):
    """`st.connection("lakehouse", type=LakehouseConnection)`."""

    def _connect(self, settings: Settings | None = None, **_: object) -> Engine:
        self.settings = settings or load_settings()
        return create_engine(self.settings)

    @property
    def engine(self) -> Engine:
        return self._instance

    def run(self, query: Query, principal: Principal) -> QueryResult:
        """Run a named query as `principal`, from the cache when the same principal ran it before."""
        engine = self.engine
        return self._audited(query, principal, lambda: _run_cached(
            principal.cache_key, engine.data_version(), query.name, query.sql, query.params, engine, query, principal))

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """The first `max_rows` rows of open-ended SQL (the workbench's) as `principal`; cached for that principal only."""
        engine = self.engine
        return self._audited(query, principal, lambda: _run_open_ended_cached(
            principal.cache_key, engine.data_version(), query.name, query.sql, query.params, max_rows,
            engine, query, principal))

    def _audited(self, query: Query, principal: Principal, call: Callable[[], QueryResult]) -> QueryResult:
        """`call()`, with one audit record whatever happens (ok, cached or the error's type)."""
        engine = self.engine
        _executed.flag = False
        started = time.perf_counter()
        try:
            result = call()
        except DaiviError as e:
            write_audit_record(self.settings.audit_log, principal=principal, engine=engine.name, query=query,
                               rows=None, elapsed_s=time.perf_counter() - started, outcome=f"error:{type(e).__name__}")
            raise
        cached = not _executed.flag
        result.stats.cached = cached
        write_audit_record(self.settings.audit_log, principal=principal, engine=engine.name, query=query,
                           rows=result.stats.rows, elapsed_s=time.perf_counter() - started,
                           outcome="cached" if cached else "ok", query_id=result.stats.query_id)
        return result
