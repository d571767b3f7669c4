"""SQL text for the lakehouse format: quoting, and the catalog's column types in DuckDB (the one type map).

Every writer of the format (the demo generator, the importers, the derivations)
casts each column to `duck_type` of its catalog type, so a table reads the same
whoever wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable

from daivi_data import catalog

DUCK_TYPES: dict[str, str] = {
    "varchar": "VARCHAR",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    catalog.TAG_MAP: "MAP(VARCHAR, VARCHAR)",
}
# The type of each partition key in a folder name ('billing_period=2024-09' is text, the others are days).
PARTITION_TYPES: dict[str, str] = {"billing_period": "VARCHAR", "snapshot_date": "DATE", "event_date": "DATE"}


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def duck_type(catalog_type: str) -> str:
    return DUCK_TYPES[catalog_type]


def null_of(catalog_type: str) -> str:
    return f"CAST(NULL AS {duck_type(catalog_type)})"


def catalog_select(table: catalog.Table, exprs: dict[str, str], extra: dict[str, str] | None = None) -> str:
    """SELECT list in the catalog's column order, each cast to its catalog type (NULL when `exprs` has none),
    plus `extra` columns."""
    parts = []
    for col in table.columns:
        expr = exprs.get(col.name)
        parts.append(f"CAST({expr} AS {duck_type(col.type)}) AS {ident(col.name)}" if expr else f"{null_of(col.type)} AS {ident(col.name)}")
    for name, expr in (extra or {}).items():
        parts.append(f"{expr} AS {ident(name)}")
    return ",\n  ".join(parts)


def stored_select(table: catalog.Table, inner_sql: str, order_by: str | None = None, absent: Iterable[str] = ()) -> str:
    """SELECT exactly the columns a file of `table` stores (partition keys live in folder names), typed,
    from the rows of `inner_sql`; the `absent` columns, which `inner_sql` does not produce, are NULL."""
    absent = set(absent)
    cols = ",\n  ".join(f"{null_of(c.type)} AS {ident(c.name)}" if c.name in absent else
                        f"CAST(x.{ident(c.name)} AS {duck_type(c.type)}) AS {ident(c.name)}"
                        for c in table.columns if c.name not in table.partition_keys)
    order = f"\nORDER BY {order_by}" if order_by else ""
    return f"SELECT\n  {cols}\nFROM ({inner_sql}) x{order}"


def table_relation(glob: str, partition_keys: Iterable[str], union_by_name: bool = False) -> str:
    """A DuckDB relation over a table's Parquet files (`glob`), with its partition keys read from the folder names."""
    keys = tuple(partition_keys)
    if not keys:
        return f"read_parquet({lit(glob)}{', union_by_name = true' if union_by_name else ''})"
    types = ", ".join(f"{lit(k)}: {PARTITION_TYPES[k]}" for k in keys)
    union = ", union_by_name = true" if union_by_name else ""
    return f"read_parquet({lit(glob)}, hive_partitioning = true, hive_types = {{{types}}}{union})"
