"""The billing lakehouse, derived from the generated CUR.

`cost_daily` is an aggregate of the CUR partition just written (read back from
its Parquet files) by the lakehouse's one derivation (`lakehouse.cost_daily_sql`),
which imports use too, so billing totals equal CUR sums for the same keys by
construction, demo or imported.
`accounts` comes from `org.py`; `budgets` are sized from the last full month of
cost so that some of them are overrun at the current run rate.
"""

from __future__ import annotations

import pyarrow as pa

from daivi_data import catalog, lakehouse
from daivi_data.demo.org import ACCOUNTS, OUS
from daivi_data.lakehouse import SERVICE_NAMES

# CUR tag key -> cost allocation tag name in billing.
TAG_KEYS = (("user_team", "team"), ("user_environment", "environment"), ("user_cost_center", "cost_center"),
            ("user_application", "application"))


def cost_daily_sql(cur_glob: str) -> str:
    """The billing derivation that imports use too (`lakehouse.cost_daily_sql`), over one written CUR partition."""
    relation = lakehouse.table_relation(cur_glob, catalog.CUR.table("cur").partition_keys)
    return lakehouse.cost_daily_sql(relation, dict(TAG_KEYS))


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
