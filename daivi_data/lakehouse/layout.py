"""Where a lakehouse keeps what: databases, tables, partition folders and the manifest.

    <root>/<database>/<table>/<partition key>=<value>/*.parquet   partitioned tables
    <root>/<database>/<table>/*.parquet                            the others
    <root>/manifest.json                                           written last

The partition column lives only in the folder name, never in the files. A
folder without a manifest is unfinished (or not a lakehouse at all).
"""

from __future__ import annotations

from pathlib import Path

from daivi_data import catalog
from daivi_data.lakehouse.sql import table_relation

MANIFEST = "manifest.json"

CUR = "daivi_cur.cur"
COST_DAILY = "daivi_billing.cost_daily"
ACCOUNTS = "daivi_billing.accounts"
BUDGETS = "daivi_billing.budgets"
RESOURCES = "daivi_inventory.resources"
EVENTS = "daivi_splunk.events"
TABLES = (CUR, COST_DAILY, ACCOUNTS, BUDGETS, RESOURCES, EVENTS)
# Within a partition, the columns whose values an input covers whole: a merge replaces the rows of
# those values only. An AWS Config snapshot is one account's resources in one region on one day, so
# merging it must not drop the other accounts' (or regions') resources of that day. Other tables
# replace whole partitions (a CUR export holds every account of its billing period).
MERGE_KEYS: dict[str, tuple[str, ...]] = {RESOURCES: ("account_id", "region")}
# Tables looked up by one key (a resource's history reads one id from every daily snapshot): each file is
# written sorted by that key in small row groups, so the Parquet min/max statistics of all but one row group
# exclude the key and DuckDB and Athena skip them (on `large`, 90 of ~450 row groups read instead of all 90
# snapshots whole: ~4.5x faster). Smaller groups skip a little more but slow the scans of whole snapshots
# (the 90-day trend by type: 4,096-row groups 2.2x its time, 8,192-row groups 1.5x). Other tables keep the default.
CLUSTER_KEYS: dict[str, tuple[str, ...]] = {RESOURCES: ("resource_id",)}
CLUSTERED_ROW_GROUP_ROWS = 8192
DEFAULT_ROW_GROUP_ROWS = 122_880
# Columns of the contract that only some sources carry, beyond what CUR 2.0 itself has: the demo
# generator writes them NULL, and a CUR 2.0 export of the lakehouse leaves them out.
SOURCE_ONLY_COLUMNS: dict[str, tuple[str, ...]] = {CUR: ("effective_cost",)}  # FOCUS EffectiveCost


def catalog_table(qualified: str) -> catalog.Table:
    """'daivi_cur.cur' -> its catalog table (by the default database names the layout uses)."""
    database, name = qualified.split(".")
    for lh in catalog.LAKEHOUSES.values():
        if lh.default_database == database:
            return lh.table(name)
    raise KeyError(qualified)


def table_dir(root: Path, qualified: str) -> Path:
    database, name = qualified.split(".")
    return Path(root) / database / name


def partition_folder(key: str, value: str) -> str:
    return f"{key}={value}"


def partitions(folder: Path) -> list[str]:
    """The partition folder names ('billing_period=2024-09') under a table's folder, sorted."""
    return sorted(p.name for p in folder.glob("*=*") if p.is_dir()) if folder.is_dir() else []


def table_relation_sql(root: Path, qualified: str, union_by_name: bool = False) -> str:
    """A DuckDB relation over every file of a table, partition keys included."""
    table = catalog_table(qualified)
    pattern = "**/*.parquet" if table.partition_keys else "*.parquet"
    return table_relation(str(table_dir(root, qualified) / pattern), table.partition_keys, union_by_name)


def is_lakehouse(root: Path) -> bool:
    return (Path(root) / MANIFEST).is_file()


def row_group_rows(qualified: str) -> int:
    """Rows per Parquet row group of a table's files."""
    return CLUSTERED_ROW_GROUP_ROWS if qualified in CLUSTER_KEYS else DEFAULT_ROW_GROUP_ROWS
