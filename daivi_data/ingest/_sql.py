"""SQL text helpers for the importers: typed casts from export text, tags, readers (quoting and types: `lakehouse.sql`).

Importers build DuckDB SQL over the user's files. Identifiers come from the
files' own headers, so every one is quoted here; values from headers that end
up as SQL literals (tag keys, file names) go through `lit`.
"""

from __future__ import annotations

import re

from daivi_data.lakehouse.sql import catalog_select, duck_type, ident, lit, null_of

__all__ = [  # the lakehouse's own quoting and typing, and the importers' helpers
    "CSV_BUFFER_BYTES", "as_double", "as_utc_timestamp", "as_varchar", "bad_number", "catalog_select", "columns_map_to_tags",
    "duck_type", "ident", "json_tags_to_map", "lit", "null_of", "reader_sql", "sanitize_tag_key", "unique_map",
]

# DuckDB's CSV reader holds a buffer of this size per open file and thread (default 32 MiB); smaller
# buffers keep a many-file gzip export within the memory limit, and lines of a CUR stay far below it.
CSV_BUFFER_BYTES = 8 * 1024 * 1024


def as_varchar(expr: str) -> str:
    # Empty strings mean "no value" in every export format we read.
    return f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"


def as_double(expr: str, source_type: str = "VARCHAR") -> str:
    if source_type.upper() in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER") or source_type.upper().startswith("DECIMAL"):
        return f"CAST({expr} AS DOUBLE)"
    return f"TRY_CAST(NULLIF(TRIM(CAST({expr} AS VARCHAR)), '') AS DOUBLE)"


def as_utc_timestamp(expr: str, source_type: str = "VARCHAR") -> str:
    """Any timestamp text (ISO with Z or offset, or plain) or typed value -> naive UTC TIMESTAMP."""
    t = source_type.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"timezone('UTC', {expr})"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"CAST({expr} AS TIMESTAMP)"
    return f"timezone('UTC', TRY_CAST(NULLIF(TRIM(CAST({expr} AS VARCHAR)), '') AS TIMESTAMPTZ))"


def bad_number(expr: str, source_type: str = "VARCHAR") -> str:
    """True where a value is present but is not a number."""
    return f"({as_varchar(expr)} IS NOT NULL AND {as_double(expr, source_type)} IS NULL)"


def sanitize_tag_key(key: str) -> str:
    """Tag key as CUR 2.0 writes it into `resource_tags`: non-alphanumerics become '_'."""
    return re.sub(r"[^0-9A-Za-z]+", "_", key.strip())


def json_tags_to_map(json_expr: str, key_prefix_sql: str = "''") -> str:
    """A JSON object of tags (text) -> MAP(VARCHAR, VARCHAR); keys sanitized, first duplicate wins.

    `key_prefix_sql` is an SQL expression over the lambda variable `k` (the raw key)
    giving the prefix, e.g. `'user_'`.
    """
    j = f"TRY_CAST(NULLIF(TRIM(CAST({json_expr} AS VARCHAR)), '') AS JSON)"
    entries = (
        f"list_transform(CASE WHEN json_type({j}) = 'OBJECT' THEN json_keys({j}) ELSE []::VARCHAR[] END, "
        f"lambda k: {{'key': ({key_prefix_sql}) || regexp_replace(trim(k), '[^0-9A-Za-z]+', '_', 'g'), "
        f"'value': json_extract_string({j}, '$.\"' || replace(k, '\"', '\\\"') || '\"')}})"
    )
    return unique_map(entries)


def unique_map(entries_sql: str) -> str:
    """MAP from a list of {key, value} structs, dropping empty values and later duplicate keys."""
    kept = f"list_filter({entries_sql}, lambda e: e.value IS NOT NULL AND e.value <> '' AND e.key <> '')"
    return (
        f"map_from_entries(list_filter({kept}, "
        f"lambda e, i: list_position(list_transform({kept}, lambda x: x.key), e.key) = i))"
    )


def columns_map_to_tags(columns: dict[str, str]) -> str:
    """MAP built from tag columns: {map key: source column name}."""
    if not columns:
        return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    entries = ", ".join(f"{{'key': {lit(k)}, 'value': {as_varchar(ident(c))}}}" for k, c in columns.items())
    return unique_map(f"[{entries}]")


def reader_sql(files: list[str], kind: str, nullstr: tuple[str, ...] = ("",)) -> str:
    """A DuckDB table function over `files` that also yields a `filename` column."""
    listing = "[" + ", ".join(lit(f) for f in files) + "]"
    if kind == "parquet":
        return f"read_parquet({listing}, union_by_name = true, filename = true, hive_partitioning = false)"
    if kind == "csv":
        nulls = "[" + ", ".join(lit(n) for n in nullstr) + "]"
        return (
            # Callers group files by identical header: union_by_name keeps every file's reader open at once,
            # which costs a buffer per file and breaks the memory limit on exports of many large files.
            f"read_csv({listing}, header = true, all_varchar = true, union_by_name = false, filename = true, "
            f"delim = ',', quote = '\"', escape = '\"', nullstr = {nulls}, hive_partitioning = false, buffer_size = {CSV_BUFFER_BYTES})"
        )
    raise ValueError(kind)
