"""Runs the MCP tools' queries: governed by the engine, cached per principal, audited per query, within a byte budget.

The Streamlit-free counterpart of `daivi_data.connection`. The cache key holds
the principal's cache key, the grants file's version, the engine's data version,
the query's name, SQL and bound values (and the row cap of open-ended SQL), so
two principals never share an entry, and neither edited grants nor a rebuilt
lakehouse are ever served from a stale one. Entries live for the app's
`cache_ttl_s` and at most its `cache_max_entries` are kept (least recently used
go first). A hit hands out a copy of the frame: a tool that reshapes its rows
never changes what the next caller is served.

Every query, cached or not, writes one audit record with `via="mcp"` and the
tool call that asked for it (tool name, arguments, bytes scanned, cost).

A `ToolCall` also carries the call's byte budget: on Athena, once the queries
of one tool call have scanned `max_bytes_scanned`, its next query is refused
before it starts. The workgroup's own per-query cutoff (checked at start-up,
see `check_workgroup_cutoff`) stops a single query that would scan more.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import boto3

from daivi_data.audit import outcome_of, write_audit_record
from daivi_data.engines import Engine, QueryResult
from daivi_data.engines.base import format_bytes
from daivi_data.errors import DaiviError, QueryFailed, SettingsError
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query
from daivi_data.settings import Settings

DEFAULT_MAX_BYTES_SCANNED = 10 * 1000**3  # 10 GB per tool call on Athena (about $0.05 at $5/TB)


@dataclass
class ToolCall:
    """One tool call: what the audit names, and the bytes its queries scanned so far."""

    tool: str
    arguments: dict
    max_bytes_scanned: int | None = None  # None: no budget (the embedded engine scans local files)
    bytes_scanned: int = 0
    cost_usd: float = 0.0
    queries: int = 0
    cached: int = 0

    def stats(self) -> dict:
        return {"queries": self.queries, "cached": self.cached, "bytes_scanned": self.bytes_scanned,
                "cost_usd": round(self.cost_usd, 6)}


@dataclass
class _Entry:
    result: QueryResult
    expires_at: float


@dataclass
class McpRunner:
    """Queries of MCP tool calls, as their principal, through one engine."""

    settings: Settings
    engine: Engine
    ttl_s: float | None = None  # default: the app's cache_ttl_s setting
    max_entries: int | None = None  # default: the app's cache_max_entries setting
    clock: Callable[[], float] = time.monotonic
    _cache: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    executed: int = field(default=0, init=False)  # queries the engine ran (not served from the cache)
    _ttl_s: float = field(default=0.0, init=False, repr=False)  # ttl_s, or the setting
    _max_entries: int = field(default=0, init=False, repr=False)  # max_entries, or the setting

    def __post_init__(self) -> None:
        self._ttl_s = self.settings.cache_ttl_s if self.ttl_s is None else self.ttl_s
        self._max_entries = self.settings.cache_max_entries if self.max_entries is None else self.max_entries

    def run(self, query: Query, principal: Principal, call: ToolCall) -> QueryResult:
        """A named query's result for `principal`, from the cache when the same principal ran it recently."""
        key = ("run", *self._scope(principal), query.name, query.sql, query.params)
        return self._audited(query, principal, call, key, lambda: self.engine.run(query, principal))

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int, call: ToolCall) -> QueryResult:
        """The first `max_rows` rows of open-ended SQL (the SQL tool's), for `principal` only."""
        key = ("open", *self._scope(principal), query.name, query.sql, query.params, max_rows)
        return self._audited(query, principal, call, key, lambda: self.engine.run_open_ended(query, principal, max_rows))

    def _scope(self, principal: Principal) -> tuple[str, str, str]:
        """Whose, under which grants and over which data: the part of every cache key that is not the query."""
        return principal.cache_key, load_policy(self.settings.grants_file).version, self.engine.data_version()

    def cached_entries(self) -> int:
        with self._lock:
            return len(self._cache)

    def _cached(self, key: tuple) -> QueryResult | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self.clock():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            result = entry.result
        return QueryResult(result.df.copy(), replace(result.stats, cached=True), result.sql)

    def _store(self, key: tuple, result: QueryResult) -> None:
        kept = QueryResult(result.df.copy(), replace(result.stats), result.sql)
        with self._lock:
            self._cache[key] = _Entry(kept, self.clock() + self._ttl_s)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def record_refusal(self, query: Query, principal: Principal, call: ToolCall, error: DaiviError) -> None:
        """An audit line for a query refused before it reached the engine (the SQL tool's guard)."""
        self._audit(query, principal, call, None, 0.0, outcome_of(error), error=error)

    def _audited(self, query: Query, principal: Principal, call: ToolCall, key: tuple,
                 execute: Callable[[], QueryResult]) -> QueryResult:
        started = time.perf_counter()
        try:
            result = self._cached(key)
            if result is None:
                self._check_budget(call)
                result = execute()
                result.stats.cached = False
                self._store(key, result)
                with self._lock:
                    self.executed += 1
        except DaiviError as e:
            self._audit(query, principal, call, None, time.perf_counter() - started, outcome_of(e), error=e)
            raise
        stats = result.stats
        call.queries += 1
        if stats.cached:
            call.cached += 1
        else:
            call.bytes_scanned += stats.bytes_scanned or 0
            call.cost_usd += stats.cost_usd or 0.0
        self._audit(query, principal, call, result, time.perf_counter() - started, "cached" if stats.cached else "ok")
        return result

    def _check_budget(self, call: ToolCall) -> None:
        if call.max_bytes_scanned is not None and call.bytes_scanned >= call.max_bytes_scanned:
            raise QueryFailed(
                f"This tool call has scanned {format_bytes(call.bytes_scanned)}, its limit of "
                f"{format_bytes(call.max_bytes_scanned)}; its remaining queries were not run. Narrow the date range "
                "or the filters and ask again."
            )

    def _audit(self, query: Query, principal: Principal, call: ToolCall, result: QueryResult | None,
               elapsed_s: float, outcome: str, error: DaiviError | None = None) -> None:
        stats = result.stats if result is not None else None
        fresh = stats is not None and not stats.cached
        details = {"tool": call.tool, "arguments": call.arguments,
                   "bytes_scanned": (stats.bytes_scanned or 0) if stats is not None and fresh else 0,
                   "cost_usd": (stats.cost_usd or 0.0) if stats is not None and fresh else 0.0}
        try:
            version = load_policy(self.settings.grants_file).version
        except DaiviError:
            version = ""  # a broken grants file: the query already failed closed, say so without a version
        write_audit_record(self.settings.audit_log, principal=principal, engine=self.engine.name, query=query,
                           rows=stats.rows if stats else None, elapsed_s=elapsed_s, outcome=outcome,
                           query_id=stats.query_id if stats else "", error=error, policy_version=version, via="mcp",
                           details=details, to_stdout=self.settings.audit_stdout)


def check_workgroup_cutoff(settings: Settings, max_bytes: int, session: boto3.Session | None = None) -> int:
    """The Athena workgroup's per-query bytes-scanned cutoff; SettingsError unless it is enforced and at most `max_bytes`.

    The MCP server's byte budget counts what finished queries scanned; only
    the workgroup's `BytesScannedCutoffPerQuery` (with the workgroup's settings
    enforced, so a query cannot override them) stops one query mid-scan.
    """
    session = session or boto3.Session(region_name=settings.athena.region)
    athena = session.client("athena", region_name=settings.athena.region)
    name = settings.athena.workgroup
    config = athena.get_work_group(WorkGroup=name)["WorkGroup"].get("Configuration", {})
    cutoff = config.get("BytesScannedCutoffPerQuery")
    if not config.get("EnforceWorkGroupConfiguration") or cutoff is None or cutoff > max_bytes:
        raise SettingsError(
            f"Athena workgroup `{name}` must enforce its configuration with a bytes-scanned cutoff per query of at most "
            f"{format_bytes(max_bytes)} (BytesScannedCutoffPerQuery) before the MCP server serves it; it has "
            f"{'no cutoff' if cutoff is None else format_bytes(cutoff)}"
            f"{'' if config.get('EnforceWorkGroupConfiguration') else ', not enforced'}."
        )
    return int(cutoff)
