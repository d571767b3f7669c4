"""The billing lakehouse derived from CUR line items: the ONE derivation, used by the demo and by imports.

`cost_daily` is the daily sum of the line items by the billing dimensions
(day, account, service, region, usage type, line item type, currency and
cost allocation tags), with Cost Explorer's service names (`services.SERVICE_NAMES`).
The currency is the line item's (mixed currencies stay apart), each cost column
sums the line item formula of `costs.BILLING_COST_COLUMNS`, and `billing_period`
is the line item's own CUR billing period, not the month of its usage day: a
charge billed in October for a September day (FOCUS ChargePeriodStart vs
BillingPeriodStart) stays in October's invoice on both sides, so the CUR view's
reconciliation agrees to the cent. Date-range queries over `cost_daily` read the
period after their range too (`cost_analysis.billing_periods_between`), so such
a late charge still shows on its usage day.

Cost allocation tags: every user-defined CUR tag (`user_team` -> `team`), or the
given {CUR key: tag name}. `accounts` lists the accounts seen, with their CUR
names; `budgets` is empty unless someone sets budgets (exports hold none).
"""

# SQL here is built from the catalog and constant tables: values go through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data.lakehouse.costs import BILLING_COST_COLUMNS
from daivi_data.lakehouse.services import SERVICE_NAMES
from daivi_data.lakehouse.sql import lit

USER_TAG_PREFIX = "user_"


def _service_name_case() -> str:
    """Cost Explorer's service names for AWS product codes, as SQL."""
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
    costs = "\n  ".join(f"SUM({formula}) AS {column}," for column, formula in BILLING_COST_COLUMNS.items())
    return f"""
SELECT
  CAST(line_item_usage_start_date AS DATE) AS usage_date,
  line_item_usage_account_id AS account_id,
  line_item_product_code AS service_code,
  MAX(COALESCE({_service_name_case()}, product_servicecode, line_item_product_code)) AS service_name,
  COALESCE(NULLIF(product_region_code, ''), 'global') AS region,
  COALESCE(line_item_usage_type, '') AS usage_type,
  line_item_line_item_type AS record_type,
  {costs}
  SUM(COALESCE(line_item_usage_amount, 0)) AS usage_quantity,
  COALESCE(line_item_currency_code, 'USD') AS currency,
  {_tags_sql(tag_keys)} AS tags,
  CAST(billing_period AS VARCHAR) AS billing_period
FROM {cur_relation}
GROUP BY ALL
"""


def accounts_sql(cur_relation: str) -> str:
    """`daivi_billing.accounts` from CUR rows: every usage account, with its CUR name."""
    return f"""
SELECT line_item_usage_account_id AS account_id,
  COALESCE(MAX(line_item_usage_account_name), line_item_usage_account_id) AS account_name,
  CAST(NULL AS VARCHAR) AS ou, CAST(NULL AS VARCHAR) AS owner_email, CAST(NULL AS VARCHAR) AS environment
FROM {cur_relation}
GROUP BY line_item_usage_account_id
ORDER BY account_id
"""


def accounts_from_billing_sql(cost_daily_relation: str) -> str:
    """`daivi_billing.accounts` from `cost_daily` rows (a billing export has no account names)."""
    return f"""
SELECT account_id, account_id AS account_name, CAST(NULL AS VARCHAR) AS ou, CAST(NULL AS VARCHAR) AS owner_email,
  CAST(NULL AS VARCHAR) AS environment
FROM {cost_daily_relation} GROUP BY account_id ORDER BY account_id
"""


def empty_budgets_sql() -> str:
    return """
SELECT CAST(NULL AS VARCHAR) AS budget_name, CAST(NULL AS VARCHAR) AS scope_type, CAST(NULL AS VARCHAR) AS scope_value,
  CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS DOUBLE) AS monthly_limit, CAST(NULL AS VARCHAR) AS currency
LIMIT 0
"""
