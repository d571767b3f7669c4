"""The billing lakehouse, derived from the generated CUR.

`cost_daily` is an aggregate of the CUR partition just written (read back from
its Parquet files), so billing totals equal CUR sums for the same keys by
construction. Amortized cost follows CUR semantics (see `AMORTIZED_SQL`).
`accounts` comes from `org.py`; `budgets` are sized from the last full month of
cost so that some of them are overrun at the current run rate.
"""

from __future__ import annotations

import pyarrow as pa

from daivi_data.demo.org import ACCOUNTS, OUS
from daivi_data.demo.pricing import SERVICE_NAMES

AMORTIZED_SQL = """CASE line_item_line_item_type
    WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
    WHEN 'SavingsPlanNegation' THEN 0
    WHEN 'SavingsPlanRecurringFee' THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
    WHEN 'DiscountedUsage' THEN reservation_effective_cost
    WHEN 'RIFee' THEN reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee
    ELSE line_item_unblended_cost END"""

# CUR tag key -> cost allocation tag name in billing.
TAG_KEYS = (("user_team", "team"), ("user_environment", "environment"), ("user_cost_center", "cost_center"),
            ("user_application", "application"))


def service_names_table() -> pa.Table:
    return pa.table({"service_code": list(SERVICE_NAMES), "service_name": list(SERVICE_NAMES.values())})


def cost_daily_sql(cur_glob: str) -> str:
    tag_cols = ",\n  ".join(f"resource_tags['{k}'] AS t_{v}" for k, v in TAG_KEYS)
    entries = ", ".join(f"{{'key': '{v}', 'value': t_{v}}}" for _k, v in TAG_KEYS)
    tag_names = ", ".join(f"t_{v}" for _k, v in TAG_KEYS)
    return f"""
WITH cur AS (
  SELECT
    CAST(line_item_usage_start_date AS DATE) AS usage_date,
    line_item_usage_account_id AS account_id,
    line_item_product_code AS service_code,
    coalesce(nullif(product_region_code, ''), 'global') AS region,
    line_item_usage_type AS usage_type,
    line_item_line_item_type AS record_type,
    line_item_unblended_cost AS unblended,
    {AMORTIZED_SQL} AS amortized,
    line_item_net_unblended_cost AS net,
    line_item_usage_amount AS qty,
    {tag_cols}
  FROM read_parquet('{cur_glob}')
), agg AS (
  SELECT usage_date, account_id, service_code, region, usage_type, record_type, {tag_names},
         sum(unblended) AS unblended_cost, sum(amortized) AS amortized_cost, sum(net) AS net_unblended_cost,
         sum(qty) AS usage_quantity
  FROM cur
  GROUP BY ALL
)
SELECT usage_date, account_id, agg.service_code, coalesce(s.service_name, agg.service_code) AS service_name,
       region, usage_type, record_type, unblended_cost, amortized_cost, net_unblended_cost, usage_quantity,
       'USD' AS currency,
       map_from_entries(list_filter([{entries}], lambda e: e.value IS NOT NULL)) AS tags
FROM agg LEFT JOIN service_names s ON s.service_code = agg.service_code
"""  # noqa: S608


COST_DAILY_ORDER = "usage_date, account_id, service_code, region, usage_type, record_type, CAST(tags AS VARCHAR)"


def accounts_table() -> pa.Table:
    return pa.table({
        "account_id": [a.account_id for a in ACCOUNTS],
        "account_name": [a.account_name for a in ACCOUNTS],
        "ou": [a.ou for a in ACCOUNTS],
        "owner_email": [a.owner_email for a in ACCOUNTS],
        "environment": [a.environment for a in ACCOUNTS],
    })


OU_BUDGET_FACTORS = {"Core": 1.12, "Payments": 1.03, "Retail": 0.96, "Data": 0.92, "Platform": 1.15, "Sandbox": 0.7}
ACCOUNT_BUDGET_FACTORS = (1.1, 0.92, 1.2, 0.97, 1.05, 0.88, 1.3, 1.0, 0.9, 1.15)
SERVICE_BUDGETS = (("AmazonEC2", 1.05), ("AmazonS3", 0.95), ("AmazonRDS", 1.1), ("AmazonSageMaker", 0.85))


def _nice(x: float) -> float:
    step = 100.0 if x < 10_000 else 1000.0 if x < 1_000_000 else 10_000.0
    return max(step, round(x / step) * step)


def budgets_rows(con, cost_glob: str, base_period: str) -> pa.Table:
    """Budgets sized from the net cost of `base_period`; factors below 1 will be overrun at the run rate."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _base AS
        SELECT c.account_id, a.ou, c.service_code, sum(c.net_unblended_cost) AS cost
        FROM read_parquet('{cost_glob}', hive_partitioning = true) c JOIN accounts a USING (account_id)
        WHERE c.billing_period = '{base_period}' AND c.record_type NOT IN ('Tax', 'Credit', 'Refund')
        GROUP BY ALL""").fetchall()  # noqa: S608
    rows: list[tuple] = []
    total = con.execute("SELECT sum(cost) FROM _base").fetchall()[0][0] or 0.0
    rows.append(("Organization total (monthly)", "total", "", None, _nice(total * 1.08)))
    for ou, cost in con.execute("SELECT ou, sum(cost) FROM _base GROUP BY ou").fetchall():
        if ou in OU_BUDGET_FACTORS:
            rows.append((f"OU {ou} (monthly)", "ou", ou, None, _nice(cost * OU_BUDGET_FACTORS[ou])))
    top = con.execute("""SELECT b.account_id, a.account_name, sum(cost) AS c FROM _base b
                         JOIN accounts a USING (account_id) GROUP BY ALL ORDER BY c DESC, b.account_id
                         LIMIT 10""").fetchall()
    for (account_id, name, cost), factor in zip(top, ACCOUNT_BUDGET_FACTORS, strict=False):
        rows.append((f"{name} (monthly)", "account", account_id, account_id, _nice(cost * factor)))
    for code, factor in SERVICE_BUDGETS:
        cost = con.execute("SELECT sum(cost) FROM _base WHERE service_code = ?", [code]).fetchall()[0][0] or 0.0
        rows.append((f"{SERVICE_NAMES[code]} (monthly)", "service", code, None, _nice(cost * factor)))
    rows.sort(key=lambda r: ({"total": 0, "ou": 1, "account": 2, "service": 3}[r[1]], r[0]))
    assert set(OU_BUDGET_FACTORS) == set(OUS)
    return pa.table({
        "budget_name": [r[0] for r in rows], "scope_type": [r[1] for r in rows], "scope_value": [r[2] for r in rows],
        "account_id": pa.array([r[3] for r in rows], type=pa.string()),
        "monthly_limit": pa.array([float(r[4]) for r in rows], type=pa.float64()),
        "currency": ["USD"] * len(rows),
    })
