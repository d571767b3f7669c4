"""Curated example queries for the SQL workbench: real questions, one per entry, per lakehouse.

Each is plain Athena SQL a user can read, edit and run in the workbench (so no
bound parameters: the workbench runs user SQL, which has none). The only values
formatted into the text are dates computed here from `as_of`, never user input.
Every query carries a predicate on the partition key of each partitioned table
it reads, and selects only the columns it needs, because Athena bills by bytes
scanned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from string import Template

from daivi_data.governance import RoleGrants

DEFAULT_KEY = "billing_cost_per_team_per_month"


@dataclass(frozen=True)
class SavedQuery:
    key: str
    title: str
    question: str  # the question it answers, shown beside it
    lakehouses: tuple[str, ...]  # every lakehouse it reads: shown only to roles that may read them all
    sql: str

    @property
    def label(self) -> str:
        return f"{self.title}"


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months_back(day: dt.date, n: int) -> list[str]:
    """`n` billing periods ending with the month of `day`, oldest first."""
    periods = []
    first = day.replace(day=1)
    for _ in range(n):
        periods.append(_month(first))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return periods[::-1]


def _sql(template: str, values: dict[str, object]) -> str:
    """Fill a query's dates (computed here from `as_of`, never user input) into its text."""
    return Template(template).substitute({k: str(v) for k, v in values.items()})


def _in_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def saved_queries(as_of: dt.date) -> tuple[SavedQuery, ...]:
    """The example queries, with their date ranges ending at `as_of` (the lakehouse's last full day)."""
    period = _month(as_of)
    last_3 = _in_list(_months_back(as_of, 3))
    week_ago = as_of - dt.timedelta(days=6)
    day_before = as_of - dt.timedelta(days=1)
    values = {"period": period, "last_3": last_3, "as_of": as_of, "day_before": day_before, "week_ago": week_ago}
    return (
        SavedQuery(
            DEFAULT_KEY,
            "Cost per team per month",
            "What did each team (cost allocation tag `team`) cost in each of the last three months?",
            ("billing",),
            _sql("""-- Unblended cost per team (tag `team`) and month, last three billing periods.
SELECT
  billing_period,
  COALESCE(element_at(tags, 'team'), '(untagged)') AS team,
  ROUND(SUM(unblended_cost), 2) AS unblended_cost
FROM daivi_billing.cost_daily
WHERE billing_period IN ($last_3)
GROUP BY 1, 2
ORDER BY billing_period, unblended_cost DESC""", values),
        ),
        SavedQuery(
            "billing_untagged_spend",
            "Untagged spend by account",
            "How much of this month's spend carries no `team` tag, per account and service?",
            ("billing",),
            _sql("""-- Spend without a `team` tag this month: who should tag what.
SELECT
  account_id,
  service_code,
  ROUND(SUM(unblended_cost), 2) AS untagged_cost
FROM daivi_billing.cost_daily
WHERE billing_period = '$period'
  AND record_type = 'Usage'
  AND element_at(tags, 'team') IS NULL
GROUP BY account_id, service_code
HAVING SUM(unblended_cost) > 0
ORDER BY untagged_cost DESC""", values),
        ),
        SavedQuery(
            "billing_cost_by_ou",
            "Month to date by organizational unit",
            "Which organizational units spend the most this month, and across how many accounts?",
            ("billing",),
            _sql("""-- Month-to-date cost per OU (joins the accounts table).
SELECT
  a.ou,
  COUNT(DISTINCT c.account_id) AS accounts,
  ROUND(SUM(c.unblended_cost), 2) AS unblended_cost
FROM daivi_billing.cost_daily AS c
JOIN daivi_billing.accounts AS a ON a.account_id = c.account_id
WHERE c.billing_period = '$period'
GROUP BY a.ou
ORDER BY unblended_cost DESC""", values),
        ),
        SavedQuery(
            "cur_cost_by_line_item_type",
            "Cost by line item type",
            "How does this month's bill split into usage, RI/Savings Plan fees, credits, refunds and tax?",
            ("cur",),
            _sql("""-- This month's CUR line items by type.
SELECT
  line_item_line_item_type,
  COUNT(*) AS line_items,
  ROUND(SUM(line_item_unblended_cost), 2) AS unblended_cost
FROM daivi_cur.cur
WHERE billing_period = '$period'
GROUP BY line_item_line_item_type
ORDER BY unblended_cost DESC""", values),
        ),
        SavedQuery(
            "cur_untagged_resources",
            "Most expensive untagged resources",
            "Which resources cost the most this month without a `team` tag?",
            ("cur",),
            _sql("""-- Resource-level line items without a user `team` tag (CUR tag keys are prefixed user_).
SELECT
  line_item_resource_id,
  line_item_product_code,
  line_item_usage_account_id,
  ROUND(SUM(line_item_unblended_cost), 2) AS unblended_cost
FROM daivi_cur.cur
WHERE billing_period = '$period'
  AND line_item_resource_id <> ''
  AND element_at(resource_tags, 'user_team') IS NULL
GROUP BY 1, 2, 3
ORDER BY unblended_cost DESC
LIMIT 50""", values),
        ),
        SavedQuery(
            "orphaned_volumes_cost",
            "Orphaned volumes and their cost",
            "Which EBS volumes are unattached in the latest snapshot, and what did they cost this month?",
            ("inventory", "cur"),
            _sql("""-- Unattached EBS volumes (inventory, $as_of) joined to their CUR cost this month.
SELECT
  r.resource_id,
  r.account_id,
  r.region,
  r.size_gb,
  r.volume_type,
  ROUND(COALESCE(SUM(c.line_item_unblended_cost), 0), 2) AS cost_this_month
FROM daivi_inventory.resources AS r
LEFT JOIN daivi_cur.cur AS c
  ON c.line_item_resource_id = r.resource_id
  AND c.billing_period = '$period'
WHERE r.snapshot_date = DATE '$as_of'
  AND r.resource_type = 'AWS::EC2::Volume'
  AND NOT r.attached
GROUP BY 1, 2, 3, 4, 5
ORDER BY cost_this_month DESC""", values),
        ),
        SavedQuery(
            "inventory_resources_by_type",
            "Resources by type and state",
            "What runs where: resources per type and state in the latest snapshot?",
            ("inventory",),
            _sql("""-- Latest snapshot ($as_of): resources per type and state.
SELECT
  resource_type,
  state,
  COUNT(*) AS resources,
  COUNT(DISTINCT account_id) AS accounts
FROM daivi_inventory.resources
WHERE snapshot_date = DATE '$as_of'
GROUP BY resource_type, state
ORDER BY resources DESC""", values),
        ),
        SavedQuery(
            "inventory_public_unencrypted",
            "Public or unencrypted resources",
            "Which resources are public or unencrypted in the latest snapshot?",
            ("inventory",),
            _sql("""-- Latest snapshot ($as_of): security posture.
SELECT
  resource_type,
  COUNT_IF(public) AS public_resources,
  COUNT_IF(NOT encrypted) AS unencrypted_resources,
  COUNT(*) AS resources
FROM daivi_inventory.resources
WHERE snapshot_date = DATE '$as_of'
GROUP BY resource_type
HAVING COUNT_IF(public) > 0 OR COUNT_IF(NOT encrypted) > 0
ORDER BY public_resources DESC, unencrypted_resources DESC""", values),
        ),
        SavedQuery(
            "splunk_5xx_rate_by_host",
            "5xx rate by host",
            "Which hosts served the highest share of HTTP 5xx responses in the last two days?",
            ("splunk",),
            _sql("""-- HTTP 5xx share per host, $day_before to $as_of.
SELECT
  host,
  COUNT(*) AS requests,
  COUNT_IF(http_status >= 500) AS errors_5xx,
  ROUND(100.0 * COUNT_IF(http_status >= 500) / COUNT(*), 2) AS pct_5xx
FROM daivi_splunk.events
WHERE event_date BETWEEN DATE '$day_before' AND DATE '$as_of'
  AND http_status IS NOT NULL
GROUP BY host
ORDER BY pct_5xx DESC, requests DESC""", values),
        ),
        SavedQuery(
            "splunk_errors_per_day",
            "Errors per day and index",
            "How many ERROR/CRITICAL events did each index log per day over the last week?",
            ("splunk",),
            _sql("""-- ERROR and CRITICAL events per day and index, $week_ago to $as_of.
SELECT
  event_date,
  index_name,
  COUNT(*) AS error_events
FROM daivi_splunk.events
WHERE event_date BETWEEN DATE '$week_ago' AND DATE '$as_of'
  AND severity IN ('ERROR', 'CRITICAL')
GROUP BY event_date, index_name
ORDER BY event_date, index_name""", values),
        ),
    )


def saved_queries_for(grants: RoleGrants, as_of: dt.date) -> tuple[SavedQuery, ...]:
    """The examples whose lakehouses the role may all read."""
    return tuple(q for q in saved_queries(as_of) if all(grants.can_read_lakehouse(lh) for lh in q.lakehouses))


def saved_query(key: str, as_of: dt.date) -> SavedQuery | None:
    return next((q for q in saved_queries(as_of) if q.key == key), None)
