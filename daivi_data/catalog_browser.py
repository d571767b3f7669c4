"""What the SQL workbench's catalog browser shows a principal: only what their grants let them read.

Databases, tables and columns come from `catalog.py`, filtered by the role's
grants exactly as Lake Formation filters Glue for a principal: a table without
a grant is absent, an excluded column is absent (not greyed out). Row counts and
freshness come from a governed query per table (so a row-filtered role sees its
own count) over the latest partition only, which `engine.table_info` finds from
metadata without scanning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from daivi_data import catalog
from daivi_data.engines.base import TableInfo
from daivi_data.governance import RoleGrants
from daivi_data.queries import Query, make_query

STARTER_ROW_LIMIT = 100
# The column that says how recent a table's data is (within its latest partition).
FRESHNESS_COLUMNS = {
    ("daivi_billing", "cost_daily"): "usage_date",
    ("daivi_cur", "cur"): "line_item_usage_start_date",
    ("daivi_inventory", "resources"): "snapshot_date",
    ("daivi_splunk", "events"): "event_time",
}


@dataclass(frozen=True)
class VisibleTable:
    lakehouse: str
    database: str
    table: catalog.Table
    columns: tuple[catalog.Column, ...]  # the permitted columns only
    row_filtered: bool  # the role sees a subset of the rows

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def full_name(self) -> str:
        return f"{self.database}.{self.table.name}"

    @property
    def partition_keys(self) -> tuple[str, ...]:
        return self.table.partition_keys


@dataclass(frozen=True)
class VisibleDatabase:
    lakehouse: str
    title: str
    database: str
    tables: tuple[VisibleTable, ...]


def visible_catalog(grants: RoleGrants) -> tuple[VisibleDatabase, ...]:
    """The databases, tables and columns `grants` allow, in catalog order; nothing else."""
    databases = []
    for lh in catalog.LAKEHOUSES.values():
        tables = []
        for table in lh.tables:
            grant = grants.grant_for(lh.default_database, table.name)
            if grant is None:
                continue
            excluded = {c.lower() for c in grant.excluded_columns}
            columns = tuple(c for c in table.columns if c.name.lower() not in excluded)
            tables.append(VisibleTable(lh.key, lh.default_database, table, columns, bool(grant.row_filter)))
        if tables:
            databases.append(VisibleDatabase(lh.key, lh.title, lh.default_database, tuple(tables)))
    return tuple(databases)


def columns_frame(table: VisibleTable) -> pd.DataFrame:
    """One row per permitted column: name (a key marks the partition key), type, description."""
    return pd.DataFrame(
        {
            "column": [f"{c.name} 🔑" if c.name in table.partition_keys else c.name for c in table.columns],
            "type": [c.type for c in table.columns],
            "description": [c.description for c in table.columns],
        }
    )


def _partition_literal(table: VisibleTable, value: str) -> str:
    """A partition value as an Athena literal (DATE '...' for date partitions)."""
    key_type = table.table.column(table.partition_keys[0]).type
    escaped = value.replace("'", "''")
    return f"DATE '{escaped}'" if key_type == "date" else f"'{escaped}'"


def starter_sql(table: VisibleTable, latest_partition: str | None) -> str:
    """A first SELECT over `table`: its permitted columns, its latest partition, a small LIMIT."""
    names = [c.name for c in table.columns]
    lines: list[str] = []
    line: list[str] = []
    for name in names:
        if line and len(", ".join([*line, name])) > 90:
            lines.append(", ".join(line))
            line = []
        line.append(name)
    lines.append(", ".join(line))
    select = ",\n  ".join(lines)
    where = ""
    if table.partition_keys:
        key = table.partition_keys[0]
        value = _partition_literal(table, latest_partition) if latest_partition else "…"
        where = f"\nWHERE {key} = {value}"
    return f"SELECT\n  {select}\nFROM {table.full_name}{where}\nLIMIT {STARTER_ROW_LIMIT}"


def _partition_value(table: VisibleTable, value: str) -> str | dt.date:
    key_type = table.table.column(table.partition_keys[0]).type
    return dt.date.fromisoformat(value) if key_type == "date" else value


def table_stats_query(table: VisibleTable, info: TableInfo) -> Query:
    """Governed row count (of the latest partition, for partitioned tables) and the newest data time.

    Identifiers come from the catalog (the allow-list); the partition value is bound.
    """
    freshness = FRESHNESS_COLUMNS.get((table.database, table.name))
    newest = f", MAX({freshness}) AS newest" if freshness else ", CAST(NULL AS varchar) AS newest"
    name = f"catalog.table_stats.{table.full_name}"
    if table.partition_keys and info.latest_partition:
        key = table.partition_keys[0]
        return make_query(
            name,
            f"SELECT COUNT(*) AS row_count{newest} FROM {table.full_name} WHERE {key} = :partition",  # noqa: S608
            partition=_partition_value(table, info.latest_partition),
        )
    return make_query(name, f"SELECT COUNT(*) AS row_count{newest} FROM {table.full_name}")  # noqa: S608


def describe_stats(table: VisibleTable, info: TableInfo, row_count: int | None, newest: object) -> str:
    """One line: rows (and which partition they are from), partitions, newest data."""
    if not info.exists:
        return "No data yet."
    parts = []
    if row_count is not None:
        scope = f" in partition {info.latest_partition}" if table.partition_keys and info.latest_partition else ""
        parts.append(f"{row_count:,} rows{scope}" + (" visible to your role" if table.row_filtered else ""))
    if table.partition_keys:
        parts.append(f"{info.partitions} partitions, latest {info.latest_partition or '–'}")
    if newest is not None and not pd.isna(newest):
        freshness = FRESHNESS_COLUMNS.get((table.database, table.name))
        is_date = freshness is not None and table.table.column(freshness).type == "date"
        if isinstance(newest, dt.datetime):  # pandas returns DATE columns as midnight timestamps
            text = newest.date().isoformat() if is_date else newest.isoformat(sep=" ", timespec="minutes")
        else:
            text = str(newest)
        parts.append(f"newest data {text}")
    return " · ".join(parts)
