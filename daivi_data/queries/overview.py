"""Headline figures for the Home page's lakehouse cards (one bounded query per lakehouse)."""

from __future__ import annotations

import datetime as dt

import sqlglot
from sqlglot import exp

from daivi_data.queries import Query, built_once, make_query, sql_constant

ATHENA = "athena"


def billing_period(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month_start(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def same_day_previous_month(day: dt.date) -> dt.date:
    """The same day of month one month earlier, clamped to that month's last day."""
    last = day.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=min(day.day, last.day))


def _date(day: dt.date) -> exp.Expr:
    """A date computed here as an Athena DATE literal (the one literal maker writes it; no text from a request)."""
    return sqlglot.parse_one(sql_constant(day), read=ATHENA)


def _sum_if(condition: exp.Expr) -> exp.Expr:
    """SUM(CASE WHEN condition THEN unblended_cost ELSE 0 END)."""
    return exp.func("SUM", exp.Case().when(condition, exp.column("unblended_cost")).else_(exp.Literal.number(0)))


@built_once
def billing_month_to_date(as_of: dt.date) -> Query:
    """Unblended cost from the 1st to `as_of`, and over the same days of the previous month, per currency (never added)."""
    month_start = as_of.replace(day=1)
    prev_start = previous_month_start(as_of)
    # The two sums' bounds stand outside WHERE, where Athena cannot bind: dates computed here, written in as literals.
    this_month = exp.GTE(this=exp.column("usage_date"), expression=_date(month_start))
    previous_days = exp.and_(exp.LT(this=exp.column("usage_date"), expression=_date(month_start)),
                             exp.LTE(this=exp.column("usage_date"), expression=_date(same_day_previous_month(as_of))))
    tree = (exp.select("COALESCE(currency, 'USD') AS currency", dialect=ATHENA)
            .select(exp.alias_(_sum_if(this_month), "month_to_date"), exp.alias_(_sum_if(previous_days), "previous_month_to_date"))
            .select("MAX(usage_date) AS latest_day", dialect=ATHENA)
            .from_("daivi_billing.cost_daily", dialect=ATHENA)
            .where("billing_period IN (:period, :previous_period) AND usage_date BETWEEN :prev_start AND :as_of", dialect=ATHENA)
            .group_by("1").order_by("2 DESC", "1", dialect=ATHENA))
    return make_query(
        "overview.billing_month_to_date",
        tree.sql(dialect=ATHENA, pretty=True),
        period=billing_period(as_of),
        previous_period=billing_period(prev_start),
        prev_start=prev_start,
        as_of=as_of,
    )


@built_once
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


@built_once
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


@built_once
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
