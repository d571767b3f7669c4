"""Audit log: one JSON line per query, cached or not. Never credentials or tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path

from daivi_data.identity import Principal
from daivi_data.queries import Query

_lock = threading.Lock()


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def write_audit_record(path: Path, *, principal: Principal, engine: str, query: Query, rows: int | None,
                       elapsed_s: float, outcome: str, query_id: str = "", via: str = "app",
                       details: dict | None = None) -> None:
    """Append one record. `via` says which front end asked (app, mcp); `details` holds what that front end adds
    (for MCP: the tool, its arguments, bytes scanned and cost)."""
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "principal": principal.user_id,
        "email": principal.email,
        "role": principal.role,
        "source": principal.source,
        "engine": engine,
        "query": query.name,
        "sql_sha256": hashlib.sha256(query.sql.encode()).hexdigest()[:16],
        "params": {k: _jsonable(v) for k, v in query.params},
        "rows": rows,
        "elapsed_s": round(elapsed_s, 4),
        "outcome": outcome,
        "query_id": query_id,
        "via": via,
    }
    if details:
        record["details"] = {k: _jsonable(v) for k, v in details.items()}
    line = json.dumps(record, default=str) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(line)
