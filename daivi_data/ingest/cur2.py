"""CUR 2.0 (AWS Data Exports) -> daivi_cur.cur.

AWS writes a CUR 2.0 export as `<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.csv.gz`
(or `.snappy.parquet`), one folder per billing period, with the fixed CUR 2.0
schema: snake_case columns (`line_item_unblended_cost`, ...) that are the
catalog's own names, and `resource_tags` as a map (Parquet) or a JSON object
(CSV). Columns the export left out become NULL; the required ones must be there.

`cur_projection` is shared with the legacy CUR importer, which renames its
headers to these names first.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data import catalog
from daivi_data.ingest._sql import (
    as_double,
    as_utc_timestamp,
    as_varchar,
    bad_number,
    catalog_select,
    ident,
    json_tags_to_map,
)

CUR_TABLE = catalog.CUR.table("cur")
REQUIRED = (
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_product_code",
    "line_item_unblended_cost",
)
PERIOD_FROM_PATH = r"BILLING_PERIOD=(\d{4}-\d{2})"
# Fields that identify a line item when the export has no identity_line_item_id column.
_CONTENT_KEY = (
    "line_item_usage_account_id", "line_item_usage_start_date", "line_item_usage_end_date", "line_item_product_code",
    "line_item_usage_type", "line_item_operation", "line_item_resource_id", "line_item_line_item_type",
    "line_item_unblended_cost", "line_item_usage_amount",
)


def missing_required(available: set[str], billing_period_known: bool) -> list[str]:
    missing = [c for c in REQUIRED if c not in available]
    if "bill_billing_period_start_date" not in available and not billing_period_known:
        missing.append("bill_billing_period_start_date")
    return missing


def cur_projection(
    reader: str,
    source: dict[str, tuple[str, str]],
    tags_sql: str,
    period_from_path_sql: str,
) -> str:
    """SELECT over `reader` with the catalog's CUR columns and the staging columns.

    `source` maps catalog column -> (source column, source type). Staging columns:
    `_source_file`, `_reject_reason`, `_reject_detail`, `_dup_key`.
    """
    exprs: dict[str, str] = {}
    for col in CUR_TABLE.columns:
        if col.name not in source:
            continue
        name, typ = source[col.name]
        ref = ident(name)
        if col.type == "double":
            exprs[col.name] = as_double(ref, typ)
        elif col.type == "timestamp":
            exprs[col.name] = as_utc_timestamp(ref, typ)
        elif col.type == "varchar":
            exprs[col.name] = as_varchar(ref)
    exprs["resource_tags"] = tags_sql
    if "line_item_currency_code" in exprs:  # ISO 4217 in capitals: the views filter on it
        exprs["line_item_currency_code"] = f"upper({exprs['line_item_currency_code']})"
    start = exprs.get("bill_billing_period_start_date")
    from_row = f"strftime({start}, '%Y-%m')" if start else "NULL"
    exprs["billing_period"] = f"COALESCE({from_row}, {period_from_path_sql})"

    def raw(column: str) -> str:
        return as_varchar(ident(source[column][0])) if column in source else "NULL"

    cost_name, cost_type = source["line_item_unblended_cost"]
    if "identity_line_item_id" in source:
        dup_key = f"{raw('identity_line_item_id')} || '|' || COALESCE({raw('identity_time_interval')}, '')"
    else:
        dup_key = "md5(concat_ws('|', " + ", ".join(raw(c) for c in _CONTENT_KEY) + "))"
    extra = {
        "_source_file": "filename",
        "_raw_start": raw("line_item_usage_start_date"),
        "_raw_cost": raw("line_item_unblended_cost"),
        "_raw_id": raw("identity_line_item_id"),
        "_bad_cost": bad_number(ident(cost_name), cost_type),
        "_dup_key": dup_key,
    }
    inner = f"SELECT\n  {catalog_select(CUR_TABLE, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_raw_start, _raw_cost, _raw_id, _bad_cost),
  CASE
    WHEN line_item_usage_start_date IS NULL THEN 'line_item_usage_start_date is missing or not a timestamp'
    WHEN _bad_cost THEN 'line_item_unblended_cost is not a number'
    WHEN line_item_usage_account_id IS NULL THEN 'line_item_usage_account_id is missing'
    WHEN billing_period IS NULL THEN 'no billing period (bill_billing_period_start_date empty and no BILLING_PERIOD= folder)'
  END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, 'identity_line_item_id=' || _raw_id,
            'line_item_usage_start_date=' || COALESCE(_raw_start, '(empty)'),
            'line_item_unblended_cost=' || COALESCE(_raw_cost, '(empty)')) AS _reject_detail
FROM ({inner})
"""


def tags_expression(types: dict[str, str]) -> str:
    """`resource_tags` from a map column (Parquet) or a JSON object (CSV); an empty map when absent."""
    if "resource_tags" not in types:
        return "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    typ = types["resource_tags"].upper()
    if typ.startswith("MAP"):
        return "COALESCE(CAST(\"resource_tags\" AS MAP(VARCHAR, VARCHAR)), CAST(MAP() AS MAP(VARCHAR, VARCHAR)))"
    return json_tags_to_map('"resource_tags"')


def build_select(reader: str, types: dict[str, str]) -> str:
    source = {c: (c, t) for c, t in types.items() if c in CUR_TABLE.column_names}
    period = f"NULLIF(regexp_extract(filename, '{PERIOD_FROM_PATH}', 1), '')"
    return cur_projection(reader, source, tags_expression(types), period)
