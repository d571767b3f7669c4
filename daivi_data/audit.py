"""Audit log: one JSON line per query outcome — ok, cached, denied, refused, failed or timed out.

Each line names the principal and role, the policy version the query was judged
under, the query (named queries by name and parameters; ad-hoc SQL in full, up to
`MAX_AUDIT_SQL_CHARS`, since that is what a security review needs) and the outcome.
Lines go to the audit file and, with `audit_stdout`, to stdout as well (a container's
log stream outlives the container). Never credentials or tokens: a principal's
token is not a field of the record, and error messages are the user-facing ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import threading
from pathlib import Path

from daivi_data.errors import AccessDenied, DaiviError, InvalidRequest, QueryTimeout
from daivi_data.identity import Principal
from daivi_data.queries import Query

MAX_AUDIT_SQL_CHARS = 20_000
AD_HOC_PREFIX = "workbench."  # queries whose SQL a user wrote: kept in full
OUTCOMES = ("ok", "cached", "denied", "refused", "failed", "timed_out")

_lock = threading.Lock()


def outcome_of(error: DaiviError) -> str:
    """The audit outcome of a query that raised `error`."""
    if isinstance(error, AccessDenied):
        return "denied"
    if isinstance(error, QueryTimeout):
        return "timed_out"
    if isinstance(error, InvalidRequest):
        return "refused"
    return "failed"


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def write_audit_record(path: Path, *, principal: Principal, engine: str, query: Query, rows: int | None,
                       elapsed_s: float, outcome: str, query_id: str = "", error: DaiviError | None = None,
                       policy_version: str = "", via: str = "app", details: dict | None = None,
                       to_stdout: bool = False) -> None:
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "via": via,
        "principal": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "source": principal.source,
        "engine": engine,
        "policy_version": policy_version,
        "query": query.name,
        "sql_sha256": hashlib.sha256(query.sql.encode()).hexdigest()[:16],
        "params": {k: _jsonable(v) for k, v in query.params},
        "rows": rows,
        "elapsed_s": round(elapsed_s, 4),
        "outcome": outcome,
        "query_id": query_id,
    }
    if query.name.startswith(AD_HOC_PREFIX):
        record["sql"] = query.sql[:MAX_AUDIT_SQL_CHARS]
        record["sql_truncated"] = len(query.sql) > MAX_AUDIT_SQL_CHARS
    if error is not None:
        record["error"] = {"type": type(error).__name__, "message": str(error)[:500]}
    if details:
        record["details"] = details
    line = json.dumps(record, default=str, ensure_ascii=False) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
        if to_stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
