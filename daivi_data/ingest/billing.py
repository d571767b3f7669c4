"""A daily billing export -> daivi_billing.cost_daily, imported as is.

A CSV or Parquet file with the catalog's `cost_daily` columns (e.g. from an
existing billing pipeline) is imported as it is: nothing is derived for
`cost_daily`. Billing derived from CUR line items is `lakehouse.billing`.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data import catalog
from daivi_data.ingest._sql import as_double, as_utc_timestamp, as_varchar, catalog_select, ident, json_tags_to_map

COST_DAILY = catalog.BILLING.table("cost_daily")
EXPORT_REQUIRED = ("usage_date", "account_id", "service_code", "unblended_cost")


def export_missing_required(types: dict[str, str]) -> list[str]:
    return [c for c in EXPORT_REQUIRED if c not in types]


def export_select(reader: str, types: dict[str, str]) -> str:
    """A daily billing export with the catalog's own column names -> `cost_daily` staging rows."""
    exprs: dict[str, str] = {}
    for col in COST_DAILY.columns:
        if col.name not in types:
            continue
        ref, typ = ident(col.name), types[col.name]
        if col.type == "double":
            exprs[col.name] = as_double(ref, typ)
        elif col.type == "date":
            exprs[col.name] = f"CAST({as_utc_timestamp(ref, typ)} AS DATE)"
        elif col.type == catalog.TAG_MAP:
            exprs[col.name] = (f"CAST({ref} AS MAP(VARCHAR, VARCHAR))" if typ.upper().startswith("MAP") else json_tags_to_map(ref))
        else:
            exprs[col.name] = as_varchar(ref)
    exprs.setdefault("service_name", exprs["service_code"])
    exprs.setdefault("region", "'global'")
    exprs.setdefault("record_type", "'Usage'")
    exprs["currency"] = f"upper({exprs['currency']})" if "currency" in exprs else "'USD'"
    exprs.setdefault("tags", "CAST(MAP() AS MAP(VARCHAR, VARCHAR))")
    for basis in ("amortized_cost", "net_unblended_cost"):
        exprs.setdefault(basis, exprs["unblended_cost"])
    month = f"strftime({exprs['usage_date']}, '%Y-%m')"
    # The export's own billing period when it has one (a late charge stays in the invoice that billed it).
    exprs["billing_period"] = f"COALESCE({exprs['billing_period']}, {month})" if "billing_period" in exprs else month
    extra = {"_source_file": "filename", "_raw_date": as_varchar(ident("usage_date")), "_raw_cost": as_varchar(ident("unblended_cost"))}
    inner = f"SELECT\n  {catalog_select(COST_DAILY, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_raw_date, _raw_cost),
  CASE
    WHEN usage_date IS NULL THEN 'usage_date is missing or not a date'
    WHEN unblended_cost IS NULL AND _raw_cost IS NOT NULL THEN 'unblended_cost is not a number'
    WHEN account_id IS NULL THEN 'account_id is missing'
  END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, 'usage_date=' || COALESCE(_raw_date, '(empty)'),
            'unblended_cost=' || COALESCE(_raw_cost, '(empty)')) AS _reject_detail
FROM ({inner})
"""
