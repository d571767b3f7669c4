"""A second opinion on governed SQL, from DuckDB's own parser, before DuckDB runs it.

`governance.govern` rewrites the user's Athena SQL and sqlglot writes DuckDB SQL
from the result. This checks that text as DuckDB itself will read it
(`json_serialize_sql`): one SELECT; every relation either a CTE of the query or
one of the role's governed relations; every function on the DuckDB allow-list;
no table function but UNNEST; no catalog or schema prefix on a function. Any
disagreement between sqlglot's reading and DuckDB's is refused here instead of
being executed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import duckdb

from daivi_data.errors import AccessDenied
from daivi_data.governance.functions import DUCKDB_FUNCTIONS, SESSION_NAMES

ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest"})
# DuckDB table references that show metadata or pivot by values the query does not name.
DENIED_TABLE_REFS = frozenset({"PIVOT", "SHOW_REF", "COLUMN_DATA", "DELIM_GET", "BOUND_TABLE_REF"})

_parser_lock = threading.Lock()
_parser: duckdb.DuckDBPyConnection | None = None


def _parser_connection() -> duckdb.DuckDBPyConnection:
    """A DuckDB with no data and no file access, used only to parse."""
    global _parser
    if _parser is None:
        con = duckdb.connect(":memory:")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        _parser = con
    return _parser


def parse_duckdb(sql: str) -> dict:
    """DuckDB's own parse tree of `sql` (json_serialize_sql), or AccessDenied when it is not one SELECT."""
    with _parser_lock:
        raw = _parser_connection().execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error") or len(tree.get("statements", ())) != 1:
        raise AccessDenied("Only one read-only query can run on the lakehouse.")
    return tree["statements"][0]


def _nodes(value: object) -> Iterator[dict]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _cte_names(tree: dict) -> set[str]:
    names: set[str] = set()
    for node in _nodes(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            names.update(entry["key"].lower() for entry in cte_map.get("map", ()))
    return names


def check_duckdb_sql(sql: str, relations: frozenset[tuple[str, str]]) -> None:
    """AccessDenied unless `sql` reads only `relations` (schema, table) and its own CTEs, with allowed functions."""
    statement = parse_duckdb(sql)
    if statement.get("node", {}).get("type") not in ("SELECT_NODE", "SET_OPERATION_NODE", "CTE_NODE", "RECURSIVE_CTE_NODE"):
        raise AccessDenied("Only read-only queries (SELECT, WITH, UNION) can run on the lakehouse.")
    ctes = _cte_names(statement)
    for node in _nodes(statement):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            schema, table = node.get("schema_name", "").lower(), node.get("table_name", "").lower()
            if node.get("catalog_name") or not ((schema, table) in relations or (not schema and table in ctes)):
                raise AccessDenied(f"The query names a relation outside your grants: {table!r}.")
        elif kind == "TABLE_FUNCTION":
            function = node.get("function", {})
            if str(function.get("function_name", "")).lower() not in ALLOWED_TABLE_FUNCTIONS:
                raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")
        elif kind in DENIED_TABLE_REFS:
            raise AccessDenied("Only lakehouse tables can be queried (no PIVOT, SHOW, DESCRIBE or SUMMARIZE).")
        names = node.get("column_names") if node.get("class") == "COLUMN_REF" else None
        if names and len(names) == 1 and str(names[0]).lower() in SESSION_NAMES:
            raise AccessDenied(f"{node['column_names'][0]} is not available in governed queries.")
        if "function_name" in node:
            name = str(node["function_name"]).lower()
            if node.get("schema") or node.get("catalog") or name not in DUCKDB_FUNCTIONS:
                raise AccessDenied(f"Function {node['function_name']}() is not available in governed queries.")
