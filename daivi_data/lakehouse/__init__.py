"""The lakehouse on disk: its one owner. Demo builds and imports both write through here, so they agree by construction.

- `layout`: databases, tables, partition folders, the manifest's place, merge keys;
- `manifest`: the manifest's one schema (read, write, format version);
- `writer`: the one writer (lock, staging folder, atomic swap, rollback, merges);
- `sql`: quoting and the catalog's DuckDB types (the one type map);
- `costs`: the cost bases of a CUR line item (unblended, amortized, net, public) and their source columns;
- `billing`: the one CUR -> daily billing derivation;
- `services`: AWS service names by product code.
"""

from daivi_data.lakehouse.billing import accounts_from_billing_sql, accounts_sql, cost_daily_sql, empty_budgets_sql
from daivi_data.lakehouse.costs import (
    AMORTIZED_COST_SQL,
    BILLING_COST_COLUMNS,
    COST_BASIS_SOURCES,
    NET_COST_SQL,
    PUBLIC_COST_SQL,
    UNBLENDED_COST_SQL,
)
from daivi_data.lakehouse.layout import (
    ACCOUNTS,
    BUDGETS,
    COST_DAILY,
    CUR,
    EVENTS,
    MANIFEST,
    MERGE_KEYS,
    RESOURCES,
    SOURCE_ONLY_COLUMNS,
    TABLES,
    catalog_table,
    table_relation_sql,
)
from daivi_data.lakehouse.manifest import FORMAT, read_manifest
from daivi_data.lakehouse.services import SERVICE_NAMES
from daivi_data.lakehouse.sql import catalog_select, duck_type, ident, lit, stored_select, table_relation
from daivi_data.lakehouse.writer import Carried, LakehouseError, LakehouseWriter, check_mergeable, check_target

__all__ = [
    "ACCOUNTS", "AMORTIZED_COST_SQL", "BILLING_COST_COLUMNS", "BUDGETS", "COST_BASIS_SOURCES", "COST_DAILY", "CUR", "EVENTS",
    "FORMAT", "MANIFEST", "MERGE_KEYS", "NET_COST_SQL", "PUBLIC_COST_SQL", "RESOURCES", "SERVICE_NAMES", "SOURCE_ONLY_COLUMNS",
    "TABLES", "UNBLENDED_COST_SQL", "Carried", "LakehouseError", "LakehouseWriter", "accounts_from_billing_sql", "accounts_sql",
    "catalog_select", "catalog_table", "check_mergeable", "check_target", "cost_daily_sql", "duck_type", "empty_budgets_sql",
    "ident", "lit", "read_manifest", "stored_select", "table_relation", "table_relation_sql",
]
