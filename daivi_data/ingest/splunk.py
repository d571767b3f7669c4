"""Splunk search exports (JSON lines or CSV) -> daivi_splunk.events.

Splunk's export writes one event per line (`{"preview":false,"result":{...}}`,
or the bare event object) or a CSV with `_time`, `_raw`, `host`, `source`,
`sourcetype`, `index` and every extracted field. Multi-valued fields arrive
as JSON arrays; the first value is kept. HTTP fields come from the usual
extracted field names (`method`, `uri_path`, `status`, `bytes`, `clientip`,
...) and, when those are absent, from `_raw` if it is an access-log line in
the common/combined format. Severity comes from a level field, else from the
raw text, else from the HTTP status.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable

from daivi_data import catalog
from daivi_data.ingest._sql import as_utc_timestamp, catalog_select, ident, lit

EVENTS = catalog.SPLUNK.table("events")
REQUIRED = ("_time",)

FIELD_ALIASES = {
    "host": ("host",),
    "source": ("source",),
    "sourcetype": ("sourcetype",),
    "index_name": ("index",),
    "account_id": ("account_id", "aws_account_id", "accountid"),
    "severity": ("severity", "log_level", "level", "loglevel"),
    "http_method": ("method", "http_method", "request_method"),
    "http_path": ("uri_path", "http_path", "path", "uri", "url"),
    "http_status": ("status", "http_status", "status_code", "response_code"),
    "bytes": ("bytes", "bytes_out", "response_size", "size"),
    "duration_ms": ("duration_ms", "response_time_ms", "duration", "response_time", "request_time"),
    "user_name": ("user", "user_name", "username"),
    "client_ip": ("clientip", "client_ip", "src_ip", "src", "remote_addr"),
}
# host ident authuser [date] "METHOD path proto" status bytes
ACCESS_LOG = r'^(\S+) \S+ (\S+) \[[^\]]*\] "([A-Z]+) (\S+)[^"]*" (\d{3}) (\d+|-)'
LEVEL_IN_RAW = r"\b(DEBUG|INFO|WARN|WARNING|ERROR|ERR|CRITICAL|FATAL)\b"


def _first_of(field: Callable[[str], str], available: set[str], names: tuple[str, ...]) -> str:
    present = [field(n) for n in names if n in available]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"


def _events_select(reader: str, field: Callable[[str], str], available: set[str]) -> str:
    raw = field("_raw") if "_raw" in available else "CAST(NULL AS VARCHAR)"

    def pick(name: str) -> str:
        return _first_of(field, available, FIELD_ALIASES[name])

    def from_raw(group: int) -> str:
        return f"NULLIF(regexp_extract({raw}, {lit(ACCESS_LOG)}, {group}), '')"

    status = f"TRY_CAST(COALESCE({pick('http_status')}, {from_raw(5)}) AS INTEGER)"
    level = f"upper(COALESCE({pick('severity')}, NULLIF(regexp_extract({raw}, {lit(LEVEL_IN_RAW)}, 1), '')))"
    severity = f"""CASE
        WHEN {level} IN ('WARNING', 'WARN') THEN 'WARN'
        WHEN {level} IN ('ERR', 'ERROR') THEN 'ERROR'
        WHEN {level} IN ('FATAL', 'CRITICAL', 'CRIT') THEN 'CRITICAL'
        WHEN {level} IN ('DEBUG', 'INFO') THEN {level}
        WHEN {status} >= 500 THEN 'ERROR'
        WHEN {status} >= 400 THEN 'WARN'
        ELSE 'INFO' END"""
    event_time = as_utc_timestamp(field("_time"))
    epoch = f"TRY_CAST({field('_time')} AS DOUBLE)"
    exprs = {
        # `_time` is ISO text with an offset; a bare number is epoch seconds.
        "event_time": f"COALESCE({event_time}, CASE WHEN {epoch} IS NOT NULL THEN timezone('UTC', to_timestamp({epoch})) END)",
        "index_name": pick("index_name"),
        "sourcetype": pick("sourcetype"),
        "source": pick("source"),
        "host": pick("host"),
        "account_id": pick("account_id"),
        "severity": severity,
        "http_method": f"COALESCE(upper({pick('http_method')}), {from_raw(3)})",
        "http_path": f"COALESCE({pick('http_path')}, {from_raw(4)})",
        "http_status": status,
        "bytes": f"TRY_CAST(COALESCE({pick('bytes')}, {from_raw(6)}) AS BIGINT)",
        "duration_ms": f"TRY_CAST({pick('duration_ms')} AS DOUBLE)",
        "user_name": f"COALESCE({pick('user_name')}, NULLIF({from_raw(2)}, '-'))",
        "client_ip": f"COALESCE({pick('client_ip')}, {from_raw(1)})",
        "message": raw,
    }
    exprs["event_date"] = f"CAST({exprs['event_time']} AS DATE)"
    extra = {"_source_file": "filename", "_raw_time": field("_time")}
    inner = f"SELECT\n  {catalog_select(EVENTS, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_raw_time),
  CASE WHEN event_time IS NULL THEN '_time is missing or not a timestamp' END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, '_time=' || COALESCE(_raw_time, '(empty)'),
            '_raw=' || left(COALESCE(message, '(empty)'), 80)) AS _reject_detail,
  md5(concat_ws('|', CAST(event_time AS VARCHAR), host, source, sourcetype, index_name, message)) AS _dup_key
FROM ({inner})
"""


def build_select_csv(reader: str, headers: list[str]) -> str:
    def field(name: str) -> str:
        return f"NULLIF(TRIM({ident(name)}), '')"

    return _events_select(reader, field, set(headers))


def build_select_jsonl(files: list[str]) -> str:
    """Events from Splunk JSON lines, streamed: each line is parsed once, for every field at once.

    One `json_extract` call per field (about forty, most of them aliases) made DuckDB parse each
    event forty times and hold every parse of a chunk at once: a 36 MB export outgrew a 512 MB
    limit. Extracting the list of all paths in one call parses each line once; the per-field
    work is then on the small extracted values.
    """
    listing = "[" + ", ".join(lit(f) for f in files) + "]"
    # A field absent from an event extracts as NULL, so every alias can be tried on every line.
    names = sorted({alias for aliases in FIELD_ALIASES.values() for alias in aliases} | {"_raw", "_time"})
    paths = "[" + ", ".join(lit(f'$."{n}"') for n in names) + "]"
    reader = (
        f"(SELECT filename, json_extract(COALESCE(json_extract(json, '$.result'), json), {paths}) AS _fields "
        f"FROM read_ndjson_objects({listing}, filename = true))"
    )
    position = {n: i + 1 for i, n in enumerate(names)}

    def field(name: str) -> str:
        value = f"_fields[{position[name]}]"
        # Multi-valued fields are arrays: keep the first value.
        return (f"NULLIF(CASE WHEN json_type({value}) = 'ARRAY' THEN json_extract_string({value}, '$[0]') "
                f"ELSE json_extract_string({value}, '$') END, '')")

    return _events_select(reader, field, set(names))
