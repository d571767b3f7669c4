"""Headline figures for the Home page's lakehouse cards (one bounded query per lakehouse)."""

from __future__ import annotations

import datetime as dt

from daivi_data.queries import Query, make_query, sql_constant


def billing_period(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month_start(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def same_day_previous_month(day: dt.date) -> dt.date:
    """The same day of month one month earlier, clamped to that month's last day."""
    last = day.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=min(day.day, last.day))


def billing_month_to_date(as_of: dt.date) -> Query:
    """Unblended cost from the 1st to `as_of`, and over the same days of the previous month, per currency (never added)."""
    month_start = as_of.replace(day=1)
    prev_start = previous_month_start(as_of)
    return make_query(
        "overview.billing_month_to_date",
        f"""
        SELECT COALESCE(currency, 'USD') AS currency,
          SUM(CASE WHEN usage_date >= {sql_constant(month_start)} THEN unblended_cost ELSE 0 END) AS month_to_date,
          SUM(CASE WHEN usage_date < {sql_constant(month_start)} AND usage_date <= {sql_constant(same_day_previous_month(as_of))}
              THEN unblended_cost ELSE 0 END) AS previous_month_to_date,
          MAX(usage_date) AS latest_day
        FROM daivi_billing.cost_daily
        WHERE billing_period IN (:period, :previous_period)
          AND usage_date BETWEEN :prev_start AND :as_of
        GROUP BY 1
        ORDER BY 2 DESC, 1
        """,  # noqa: S608 - dates computed here, written in (Athena binds only in WHERE)
        period=billing_period(as_of),
        previous_period=billing_period(prev_start),
        prev_start=prev_start,
        as_of=as_of,
    )


def cur_month_summary(as_of: dt.date) -> Query:
    """Line items, unblended cost and accounts of the period of `as_of`, per currency (never added)."""
    return make_query(
        "overview.cur_month_summary",
        """
        SELECT COALESCE(line_item_currency_code, 'USD') AS currency, COUNT(*) AS line_items,
               SUM(line_item_unblended_cost) AS unblended_cost,
               COUNT(DISTINCT line_item_usage_account_id) AS accounts
        FROM daivi_cur.cur
        WHERE billing_period = :period
        GROUP BY 1
        ORDER BY 3 DESC, 1
        """,
        period=billing_period(as_of),
    )


def inventory_snapshot_summary(snapshot: dt.date) -> Query:
    return make_query(
        "overview.inventory_snapshot_summary",
        """
        SELECT COUNT(*) AS resources, COUNT(DISTINCT resource_type) AS resource_types,
               COUNT(DISTINCT account_id) AS accounts
        FROM daivi_inventory.resources
        WHERE snapshot_date = :snapshot
        """,
        snapshot=snapshot,
    )


def splunk_last_24h(now: dt.datetime) -> Query:
    since = now - dt.timedelta(hours=24)
    return make_query(
        "overview.splunk_last_24h",
        """
        SELECT COUNT(*) AS events,
               COUNT_IF(severity IN ('ERROR', 'CRITICAL') OR http_status >= 500) AS errors,
               COUNT(DISTINCT host) AS hosts
        FROM daivi_splunk.events
        WHERE event_date BETWEEN :since_date AND :now_date
          AND event_time >= :since AND event_time < :now
        """,
        since_date=since.date(),
        now_date=now.date(),
        since=since,
        now=now,
    )
