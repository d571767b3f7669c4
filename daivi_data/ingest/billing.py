"""The billing lakehouse derived from CUR line items: ONE derivation, used by the demo and by imports.

`cost_daily` is the daily sum of the line items by the billing dimensions
(day, account, service, region, usage type, line item type, currency and
cost allocation tags), with Cost Explorer's service names
(`demo.pricing.SERVICE_NAMES`). The currency is the line item's (mixed
currencies stay apart), amortized cost is the CUR view's formula
(`queries.cur.AMORTIZED_COST_SQL`), and `billing_period` is the line item's
own CUR billing period, not the month of its usage day: a charge billed in
October for a September day (FOCUS ChargePeriodStart vs BillingPeriodStart)
stays in October's invoice on both sides, so the CUR view's reconciliation
agrees to the cent. Date-range queries over `cost_daily` read the period
after their range too (`cost_analysis.billing_periods_between`), so such a
late charge still shows on its usage day.

Cost allocation tags: every user-defined CUR tag (`user_team` -> `team`) for
imports; the demo passes its four known keys.
`accounts` lists the accounts seen, with their CUR names; `budgets` is
written empty: an export holds no budgets.

A daily billing export can also be given instead (a CSV or Parquet file with
the catalog's `cost_daily` columns, e.g. from an existing billing pipeline):
it is imported as is and nothing is derived for `cost_daily`.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data import catalog
from daivi_data.demo.pricing import SERVICE_NAMES
from daivi_data.ingest._sql import as_double, as_utc_timestamp, as_varchar, catalog_select, ident, json_tags_to_map, lit
from daivi_data.queries.cur import AMORTIZED_COST_SQL

USER_TAG_PREFIX = "user_"


def _service_name_case() -> str:
    """Cost Explorer's service names for AWS product codes (the demo generator's table), as SQL."""
    whens = " ".join(f"WHEN {lit(code)} THEN {lit(name)}" for code, name in sorted(SERVICE_NAMES.items()))
    return f"CASE line_item_product_code {whens} END"


def _tags_sql(tag_keys: dict[str, str] | None) -> str:
    """Cost allocation tags from `resource_tags`: the given {CUR key: tag name}, or every `user_` key."""
    if tag_keys is not None:
        entries = ", ".join(f"{{'key': {lit(name)}, 'value': resource_tags[{lit(key)}]}}" for key, name in tag_keys.items())
        return f"map_from_entries(list_filter([{entries}], lambda e: COALESCE(e.value, '') <> ''))"
    return (
        "map_from_entries(list_transform(list_filter(map_entries(resource_tags), "
        f"lambda e: starts_with(e.key, {lit(USER_TAG_PREFIX)}) AND COALESCE(e.value, '') <> ''), "
        f"lambda e: {{'key': e.key[{len(USER_TAG_PREFIX) + 1}:], 'value': e.value}}))"
    )


def cost_daily_sql(cur_relation: str, tag_keys: dict[str, str] | None = None) -> str:
    """SELECT producing `daivi_billing.cost_daily` (catalog column order) from CUR rows in `cur_relation`,
    which must expose the `billing_period` partition column."""
    return f"""
SELECT
  CAST(line_item_usage_start_date AS DATE) AS usage_date,
  line_item_usage_account_id AS account_id,
  line_item_product_code AS service_code,
  MAX(COALESCE({_service_name_case()}, product_servicecode, line_item_product_code)) AS service_name,
  COALESCE(NULLIF(product_region_code, ''), 'global') AS region,
  COALESCE(line_item_usage_type, '') AS usage_type,
  line_item_line_item_type AS record_type,
  SUM(COALESCE(line_item_unblended_cost, 0)) AS unblended_cost,
  SUM({AMORTIZED_COST_SQL}) AS amortized_cost,
  SUM(COALESCE(line_item_net_unblended_cost, line_item_unblended_cost, 0)) AS net_unblended_cost,
  SUM(COALESCE(line_item_usage_amount, 0)) AS usage_quantity,
  COALESCE(line_item_currency_code, 'USD') AS currency,
  {_tags_sql(tag_keys)} AS tags,
  CAST(billing_period AS VARCHAR) AS billing_period
FROM {cur_relation}
GROUP BY ALL
"""


def accounts_sql(cur_relation: str) -> str:
    return f"""
SELECT line_item_usage_account_id AS account_id,
  COALESCE(MAX(line_item_usage_account_name), line_item_usage_account_id) AS account_name,
  CAST(NULL AS VARCHAR) AS ou, CAST(NULL AS VARCHAR) AS owner_email, CAST(NULL AS VARCHAR) AS environment
FROM {cur_relation}
GROUP BY line_item_usage_account_id
ORDER BY account_id
"""


def empty_budgets_sql() -> str:
    return """
SELECT CAST(NULL AS VARCHAR) AS budget_name, CAST(NULL AS VARCHAR) AS scope_type, CAST(NULL AS VARCHAR) AS scope_value,
  CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS DOUBLE) AS monthly_limit, CAST(NULL AS VARCHAR) AS currency
LIMIT 0
"""


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


def accounts_from_billing_sql(cost_daily_relation: str) -> str:
    return f"""
SELECT account_id, account_id AS account_name, CAST(NULL AS VARCHAR) AS ou, CAST(NULL AS VARCHAR) AS owner_email,
  CAST(NULL AS VARCHAR) AS environment
FROM {cost_daily_relation} GROUP BY account_id ORDER BY account_id
"""
