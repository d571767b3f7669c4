"""The Streamlit boundary: an `st.connection` over the lakehouse engine, with a per-principal cache.

Pages call `connection.run(query, principal)`; the SQL workbench calls
`connection.run_open_ended(query, principal, max_rows)` for user SQL whose
result size nobody bounded (on Athena a PyAthena cursor that reads only the
first rows and can cancel). Results, and pandas work on them (`derived`), are
cached in process-wide `ExactCache`s (`daivi_data.result_cache`); the cache
key always holds the principal's cache key, the engine's data version and the
grants' policy version, so two users never share a cached result, a rebuilt
lakehouse is never served from a stale entry and nothing computed under edited
grants is served after the edit. Every call — ok, cached, denied, refused,
failed or timed out — is written to the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from streamlit.connections import BaseConnection

from daivi_data.audit import outcome_of, write_audit_record
from daivi_data.engines import Engine, QueryResult, create_engine
from daivi_data.errors import DaiviError
from daivi_data.governance import policy_store
from daivi_data.identity import Principal
from daivi_data.queries import Query
from daivi_data.result_cache import ExactCache, exact_key
from daivi_data.settings import Settings, load_settings

RESULT_TTL_S = 600
MAX_CACHED_RESULTS = 4_000  # per cache: a few dozen people's views (each ~150 results and derived values); measured RSS in docs/performance.md
CONNECTION_NAME = "lakehouse"

T = TypeVar("T")

# Process-wide, like `st.cache_data` before them: every session's script thread shares them. Each key starts with
# the principal's cache key, the engine's data version and the grants' policy version.
_results = ExactCache(RESULT_TTL_S, MAX_CACHED_RESULTS)  # + query name, SQL text and bound values
_open_ended_results = ExactCache(RESULT_TTL_S, MAX_CACHED_RESULTS)  # + the same and the row limit
_derived_values = ExactCache(RESULT_TTL_S, MAX_CACHED_RESULTS)  # + the function's name and its inputs (`exact_key`)


def clear_cached() -> None:
    """Forget every cached result and derived value (after an import or a rebuild; tests that need a cold cache)."""
    for cache in (_results, _open_ended_results, _derived_values):
        cache.clear()


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
        return self._audited(query, principal, lambda data, version: _results.get_or_compute(
            (principal.cache_key, data, version, query.name, query.sql, exact_key(query.params)),
            lambda: engine.run(query, principal)))

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """The first `max_rows` rows of open-ended SQL (the workbench's) as `principal`; cached for that principal only."""
        # A chart option changed in the workbench reruns the page, and must not run (and bill) the same query again.
        engine = self.engine
        return self._audited(query, principal, lambda data, version: _open_ended_results.get_or_compute(
            (principal.cache_key, data, version, query.name, query.sql, exact_key(query.params), max_rows),
            lambda: engine.run_open_ended(query, principal, max_rows)))

    def derived(self, principal: Principal, compute: Callable[..., T], *inputs) -> T:
        """`compute(*inputs)` (pandas work on query results), cached like query results: per principal, data and grants.

        `compute` is named by its module and qualified name and must be a pure function of `inputs`, so the key
        determines the value."""
        version = policy_store(self.settings.grants_file).current().version
        name = f"{compute.__module__}.{compute.__qualname__}"
        # Scoped as the engine says its rows are: per person on Athena, per role's grants on the embedded engine
        # (there the same query gives every person of a role the same rows, so pandas work on them is shared too).
        key = (self.engine.result_scope(principal), self.engine.data_version(), version, name, exact_key(inputs))
        return _derived_values.get_or_compute(key, lambda: compute(*inputs))[0]

    def record_refusal(self, query: Query, principal: Principal, error: DaiviError) -> None:
        """An audit line for a query refused before it reached the engine (the workbench's SQL guard)."""
        self._write(query, principal, rows=None, elapsed_s=0.0, outcome=outcome_of(error), error=error)

    def _audited(self, query: Query, principal: Principal,
                 call: Callable[[str, str], tuple[QueryResult, bool]]) -> QueryResult:
        """`call(data_version, policy_version)` -> (result, computed), with one audit record whatever happens."""
        started = time.perf_counter()
        version = ""
        try:
            version = policy_store(self.settings.grants_file).current().version
            data = self.engine.data_version()
            result, computed = call(data, version)
            result.versions = (data, version)
        except DaiviError as e:
            self._write(query, principal, rows=None, elapsed_s=time.perf_counter() - started, outcome=outcome_of(e),
                        error=e, policy_version=version)
            raise
        cached = not computed or result.stats.cached  # or another principal of the role ran it (the engine shares)
        result.stats.cached = cached
        self._write(query, principal, rows=result.stats.rows, elapsed_s=time.perf_counter() - started,
                    outcome="cached" if cached else "ok", query_id=result.stats.query_id, policy_version=version)
        return result

    def _write(self, query: Query, principal: Principal, **fields) -> None:
        write_audit_record(self.settings.audit_log, principal=principal, engine=self.engine.name, query=query,
                           to_stdout=self.settings.audit_stdout, **fields)
