"""The billing lakehouse derived from imported CUR line items, when no daily billing export is given.

`cost_daily` is the daily sum of the line items by the billing dimensions
(day, account, service, region, usage type, line item type, currency and
cost allocation tags), the same grain and keys as the demo generator's
derivation (`demo.billing.cost_daily_sql`), with service names from the
demo's `SERVICE_NAMES`. Where real exports need more than generated data,
this one differs on purpose: the currency is the line item's (mixed
currencies stay apart instead of all becoming USD), every user-defined CUR
tag becomes a cost allocation tag (`user_team` -> `team`; the demo keeps its
four known keys), and amortized cost is the CUR view's formula
(`queries.cur.AMORTIZED_COST_SQL`, which also zeroes RI upfront fees and SP
upfront fees), so the Cost Explorer and the CUR view agree to the cent.
Its `billing_period` is the month of the usage day, which is what the Cost
Explorer prunes on.
`accounts` lists the accounts seen, with their CUR names; `budgets` is
written empty: an export holds no budgets.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data.demo.pricing import SERVICE_NAMES
from daivi_data.ingest._sql import lit
from daivi_data.queries.cur import AMORTIZED_COST_SQL

USER_TAG_PREFIX = "user_"


def _service_name_case() -> str:
    """Cost Explorer's service names for AWS product codes (the demo generator's table), as SQL."""
    whens = " ".join(f"WHEN {lit(code)} THEN {lit(name)}" for code, name in sorted(SERVICE_NAMES.items()))
    return f"CASE line_item_product_code {whens} END"


def cost_daily_sql(cur_relation: str) -> str:
    """SELECT producing `daivi_billing.cost_daily` (catalog column order) from CUR rows in `cur_relation`."""
    tags = (
        "map_from_entries(list_transform(list_filter(map_entries(resource_tags), "
        f"lambda e: starts_with(e.key, {lit(USER_TAG_PREFIX)}) AND COALESCE(e.value, '') <> ''), "
        f"lambda e: {{'key': e.key[{len(USER_TAG_PREFIX) + 1}:], 'value': e.value}}))"
    )
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
  {tags} AS tags,
  strftime(CAST(line_item_usage_start_date AS DATE), '%Y-%m') AS billing_period
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
