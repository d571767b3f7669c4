"""Cost Explorer queries over the billing lakehouse (`daivi_billing.cost_daily`, `accounts`, `budgets`).

Every query over `cost_daily` carries a `billing_period` predicate derived from
its date range, plus the `usage_date` range itself. Dimensions and cost bases
come from the allow-lists below; filter values are bound values in WHERE,
never SQL text. A tag key is a map key checked against AWS's tag-key alphabet
(no quotes) and written as a literal, because a group-by dimension stands in the
SELECT list, where Athena cannot bind (see `daivi_data.queries.sql_constant`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from daivi_data.catalog import require_identifier
from daivi_data.cost_analysis import billing_periods_between
from daivi_data.currency import DEFAULT_CURRENCY, require_currency
from daivi_data.errors import InvalidRequest
from daivi_data.lakehouse.costs import BILLING_COST_COLUMNS
from daivi_data.queries import Query, make_query, sql_constant

UNTAGGED = "(untagged)"
CURRENCY_CLAUSE = f"COALESCE(c.currency, '{DEFAULT_CURRENCY}') = :currency"
NO_OU = "(no OU)"

# Public dimension name -> (label, SQL over `c` = cost_daily and `a` = accounts).
# `{tag}` is replaced by the tag key, as a literal (see Dimension.sql).
DIMENSIONS: dict[str, str] = {
    "service": "c.service_name",
    "account": "c.account_id",
    "ou": f"coalesce(a.ou, '{NO_OU}')",
    "region": "c.region",
    "usage_type": "c.usage_type",
    "record_type": "c.record_type",
    "tag": f"coalesce(nullif(element_at(c.tags, {{tag}}), ''), '{UNTAGGED}')",
}
DIMENSION_LABELS: dict[str, str] = {
    "service": "Service", "account": "Account", "ou": "OU", "region": "Region",
    "usage_type": "Usage type", "record_type": "Record type", "tag": "Tag",
}
# Public name -> the `cost_daily` column of that basis (each sums one formula of `lakehouse.costs`).
COST_BASES: dict[str, str] = {column.removesuffix("_cost"): f"c.{column}" for column in BILLING_COST_COLUMNS}
COST_BASIS_LABELS: dict[str, str] = {
    "unblended": "Unblended",
    "amortized": "Amortized",
    "net_unblended": "Net unblended",
}
COST_BASIS_HELP: dict[str, str] = {
    "unblended": "What each usage line cost at the rate charged that day; upfront RI/SP fees land on the day of purchase.",
    "amortized": "Upfront and recurring Reserved Instance / Savings Plan fees spread over the usage they cover: the run rate.",
    "net_unblended": "Unblended cost after discounts (private pricing, EDP, credits applied to usage).",
}
GRANULARITY_SQL: dict[str, str] = {
    "daily": "c.usage_date",
    "weekly": "CAST(date_trunc('week', c.usage_date) AS date)",
    "monthly": "CAST(date_trunc('month', c.usage_date) AS date)",
}
# Line item types that reflect behaviour; anomalies ignore scheduled fees, tax, credits and refunds.
USAGE_RECORD_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
_USAGE_ONLY = "c.record_type IN (" + ", ".join(f"'{t}'" for t in USAGE_RECORD_TYPES) + ")"
# The dimensions whose drivers explain an anomaly.
DRIVER_DIMENSIONS = ("account", "region", "usage_type")
MAX_FILTER_VALUES = 500
MAX_FILTER_VALUE_CHARS = 256
TAG_KEY_PATTERN = re.compile(r"^[\w.:/=+@ -]{1,128}$")  # AWS's tag key alphabet
TOP_N_CHOICES = (5, 10, 15, 20, 30)


@dataclass(frozen=True)
class Dimension:
    """A group-by or filter dimension: one of DIMENSIONS, with its tag key when it is `tag`."""

    name: str
    tag_key: str = ""

    @classmethod
    def parse(cls, text: str) -> Dimension:
        """'service' or 'tag:<key>' -> Dimension; anything else is refused."""
        if text.startswith("tag:"):
            return cls("tag", check_tag_key(text[4:]))
        require_identifier(text, {k: v for k, v in DIMENSIONS.items() if k != "tag"}, "Dimension")
        return cls(text)

    @property
    def key(self) -> str:
        return f"tag:{self.tag_key}" if self.name == "tag" else self.name

    @property
    def label(self) -> str:
        return f"Tag: {self.tag_key}" if self.name == "tag" else DIMENSION_LABELS[self.name]

    @property
    def needs_accounts(self) -> bool:
        return self.name == "ou"

    @property
    def sql(self) -> str:
        """The dimension's SQL expression over `c` (and `a`)."""
        expression = require_identifier(self.name, DIMENSIONS, "Dimension")
        if self.name == "tag":
            # A tag key is a map key, checked against AWS's tag-key alphabet (no quotes), and written in:
            # Athena binds values only in WHERE, and a group-by dimension stands in the SELECT list.
            return expression.replace("{tag}", sql_constant(check_tag_key(self.tag_key)))
        return expression


def check_tag_key(key: str) -> str:
    if not TAG_KEY_PATTERN.match(key or ""):
        raise InvalidRequest(f"Tag key {key[:60]!r} is not a valid cost allocation tag key (1-128 letters, digits, spaces and _.:/=+-@).")
    return key


@dataclass(frozen=True)
class CostFilter:
    """Include (or exclude) rows whose dimension value is one of `values`."""

    dimension: Dimension
    values: tuple[str, ...]
    exclude: bool = False

    def __post_init__(self):
        if len(self.values) > MAX_FILTER_VALUES:
            raise InvalidRequest(
                f"Too many values selected for {self.dimension.label}: {len(self.values):,}; at most {MAX_FILTER_VALUES:,}. "
                "Select fewer values, or use Exclude for the few you do not want."
            )
        for v in self.values:
            if not isinstance(v, str) or len(v) > MAX_FILTER_VALUE_CHARS:
                raise InvalidRequest(f"A value of the {self.dimension.label} filter is longer than {MAX_FILTER_VALUE_CHARS} characters.")


@dataclass(frozen=True)
class CostScope:
    """What every Cost Explorer query shares: the range, the cost basis and the filters."""

    start: dt.date
    end: dt.date
    basis: str = "unblended"
    filters: tuple[CostFilter, ...] = ()
    currency: str | None = None  # every sum in one currency; None only where the data holds one

    def __post_init__(self):
        if self.start > self.end:
            raise InvalidRequest(f"Start date {self.start} is after end date {self.end}.")
        require_identifier(self.basis, COST_BASES, "Cost basis")
        if self.currency is not None:
            require_currency(self.currency)

    def with_range(self, start: dt.date, end: dt.date) -> CostScope:
        return CostScope(start, end, self.basis, self.filters, self.currency)

    @property
    def needs_accounts(self) -> bool:
        return any(f.dimension.needs_accounts for f in self.filters)


def _where(scope: CostScope, start: dt.date, end: dt.date) -> tuple[str, dict[str, object]]:
    """WHERE clause over `c` (and `a`): partitions, date range and filters, with its parameters."""
    params: dict[str, object] = {"periods": billing_periods_between(start, end), "start_date": start, "end_date": end}
    clauses = ["contains(:periods, c.billing_period)", "c.usage_date BETWEEN :start_date AND :end_date"]
    for i, f in enumerate(scope.filters):
        if not f.values:
            continue
        params[f"filter_{i}"] = f.values
        test = f"contains(:filter_{i}, {f.dimension.sql})"
        clauses.append(f"NOT {test}" if f.exclude else test)
    if scope.currency is not None:
        clauses.append(CURRENCY_CLAUSE)
        params["currency"] = scope.currency
    return "\n  AND ".join(clauses), params


def _from(needs_accounts: bool) -> str:
    base = "daivi_billing.cost_daily c"
    if needs_accounts:
        return base + "\nLEFT JOIN daivi_billing.accounts a ON a.account_id = c.account_id"
    return base


def _cost(scope: CostScope) -> str:
    return require_identifier(scope.basis, COST_BASES, "Cost basis")


def group_totals(scope: CostScope, group: Dimension, group2: Dimension | None, compare_start: dt.date, compare_end: dt.date) -> Query:
    """Cost per group (and second-level group) in the range and in the comparison period.

    One scan over both periods: `cost` is the range, `previous` the comparison.
    The comparison period must lie before the range.
    """
    if compare_end >= scope.start:
        raise InvalidRequest("The comparison period must end before the range starts.")
    where, params = _where(scope, compare_start, scope.end)
    select2, group_by = "", "1"
    if group2 is not None:
        select2, group_by = f", {group2.sql} AS group2", "1, 2"
    needs_accounts = scope.needs_accounts or group.needs_accounts or (group2 is not None and group2.needs_accounts)
    cost = _cost(scope)
    # Program-computed dates, written in: Athena binds values only in WHERE, and these split the SUMs.
    range_start, compare_from, compare_to = map(sql_constant, (scope.start, compare_start, compare_end))
    sql = f"""
SELECT {group.sql} AS group1{select2},
  SUM(CASE WHEN c.usage_date >= {range_start} THEN {cost} ELSE 0 END) AS cost,
  SUM(CASE WHEN c.usage_date BETWEEN {compare_from} AND {compare_to} THEN {cost} ELSE 0 END) AS previous
FROM {_from(needs_accounts)}
WHERE {where}
GROUP BY {group_by}
"""  # noqa: S608 - identifiers come from the allow-lists above; values are bound or typed constants
    return make_query("billing.group_totals", sql, **params)


def cost_series(scope: CostScope, granularity: str, group: Dimension, keep: tuple[str, ...],
                group2: Dimension | None = None, keep2: tuple[str, ...] = ()) -> Query:
    """Cost per period and group over the range; groups outside `keep` are summed as 'Others'.

    The kept groups are values from data, so they are bound, and Athena binds only
    in WHERE: every row meets both rows of a constant (kept = true/false) relation,
    and WHERE keeps the one whose flag matches the bound test. One scan.
    """
    bucket = require_identifier(granularity, GRANULARITY_SQL, "Granularity")
    where, params = _where(scope, scope.start, scope.end)
    joins, tests = [], []

    def label(dimension: Dimension, values: tuple[str, ...], flag: str) -> str:
        if not values:
            return "'Others'"
        params[flag] = values
        joins.append(f"CROSS JOIN (VALUES true, false) AS {flag}_rows ({flag})")
        tests.append(f"{flag} = coalesce(contains(:{flag}, {dimension.sql}), false)")
        return f"CASE WHEN {flag} THEN {dimension.sql} ELSE 'Others' END"

    label1 = label(group, keep, "keep")
    select2, group_by = "", "1, 2"
    if group2 is not None:
        select2, group_by = f", {label(group2, keep2, 'keep2')} AS group2", "1, 2, 3"
    needs_accounts = scope.needs_accounts or group.needs_accounts or (group2 is not None and group2.needs_accounts)
    newline = "\n"
    sql = f"""
SELECT {bucket} AS period, {label1} AS group1{select2}, SUM({_cost(scope)}) AS cost
FROM {_from(needs_accounts)}
{newline.join(joins)}
WHERE {where}{"".join(f"{newline}  AND {t}" for t in tests)}
GROUP BY {group_by}
ORDER BY 1
"""  # noqa: S608 - identifiers come from the allow-lists above; values are bound
    return make_query("billing.cost_series", sql, **params)


def daily_totals(scope: CostScope) -> Query:
    """Total cost per day over the scope's range (the forecast's history)."""
    where, params = _where(scope, scope.start, scope.end)
    sql = f"""
SELECT c.usage_date, SUM({_cost(scope)}) AS cost
FROM {_from(scope.needs_accounts)}
WHERE {where}
GROUP BY 1
ORDER BY 1
"""  # noqa: S608
    return make_query("billing.daily_totals", sql, **params)


def daily_by_group(scope: CostScope, group: Dimension) -> Query:
    """Usage cost per day and group over the scope's range (the anomaly detector's input)."""
    where, params = _where(scope, scope.start, scope.end)
    g1 = group.sql
    sql = f"""
SELECT c.usage_date, {g1} AS group1, SUM({_cost(scope)}) AS cost
FROM {_from(scope.needs_accounts or group.needs_accounts)}
WHERE {where}
  AND {_USAGE_ONLY}
GROUP BY 1, 2
"""  # noqa: S608
    return make_query("billing.daily_by_group", sql, **params)


def anomaly_details(scope: CostScope, group: Dimension, groups: tuple[str, ...]) -> Query:
    """Daily usage cost of the given groups per account, region and usage type: what drove an anomaly.

    One scan; GROUPING SETS give three row kinds, told apart by which driver column is set.
    """
    where, params = _where(scope, scope.start, scope.end)
    g1 = group.sql
    params["anomaly_groups"] = groups
    sql = f"""
SELECT group1, usage_date, account_id, region, usage_type, SUM(cost) AS cost
FROM (
  SELECT {g1} AS group1, c.usage_date, c.account_id, c.region, c.usage_type, {_cost(scope)} AS cost
  FROM {_from(scope.needs_accounts or group.needs_accounts)}
  WHERE {where}
    AND {_USAGE_ONLY}
    AND contains(:anomaly_groups, {g1})
) x
GROUP BY GROUPING SETS ((group1, usage_date, account_id), (group1, usage_date, region), (group1, usage_date, usage_type))
"""  # noqa: S608
    return make_query("billing.anomaly_details", sql, **params)


def dimension_values(scope: CostScope) -> Query:
    """Every value of every plain dimension in the range (unfiltered), largest cost first: filter options."""
    where, params = _where(CostScope(scope.start, scope.end, scope.basis, currency=scope.currency), scope.start, scope.end)
    cost = _cost(scope)
    sql = f"""
SELECT service_name, account_id, ou, region, usage_type, record_type, SUM(cost) AS cost
FROM (
  SELECT c.service_name, c.account_id, coalesce(a.ou, '{NO_OU}') AS ou, c.region, c.usage_type, c.record_type, {cost} AS cost
  FROM {_from(True)}
  WHERE {where}
) x
GROUP BY GROUPING SETS ((service_name), (account_id), (ou), (region), (usage_type), (record_type))
"""  # noqa: S608
    return make_query("billing.dimension_values", sql, **params)


def tag_keys(start: dt.date, end: dt.date) -> Query:
    """Cost allocation tag keys found in the range."""
    # Distinct key sets first (a handful), joined into strings because hashing a string is cheaper than
    # hashing a list; UNNEST then runs on a few rows, not on every line (about 6x faster than a plain
    # UNNEST on the large demo). '|' cannot occur in an AWS tag key, so the split is exact.
    sql = """
SELECT DISTINCT k AS tag_key
FROM (
  SELECT DISTINCT array_join(map_keys(c.tags), '|') AS keys
  FROM daivi_billing.cost_daily c
  WHERE contains(:periods, c.billing_period)
    AND c.usage_date BETWEEN :start_date AND :end_date
) x
CROSS JOIN UNNEST(split(keys, '|')) AS t (k)
WHERE k <> ''
ORDER BY 1
"""
    return make_query("billing.tag_keys", sql, periods=billing_periods_between(start, end), start_date=start, end_date=end)


def tag_values(start: dt.date, end: dt.date, tag_key: str) -> Query:
    """Values of one tag key in the range (untagged rows as '(untagged)'), largest cost first."""
    sql = f"""
SELECT coalesce(nullif(element_at(c.tags, {sql_constant(check_tag_key(tag_key))}), ''), '{UNTAGGED}') AS tag_value, SUM(c.unblended_cost) AS cost
FROM daivi_billing.cost_daily c
WHERE contains(:periods, c.billing_period)
  AND c.usage_date BETWEEN :start_date AND :end_date
GROUP BY 1
ORDER BY 2 DESC
"""  # noqa: S608 - UNTAGGED is a constant; the tag key is checked (AWS's alphabet) and in a SELECT list
    return make_query("billing.tag_values", sql, periods=billing_periods_between(start, end), start_date=start, end_date=end)


def accounts() -> Query:
    """Account names and OUs (the account dimension's labels)."""
    return make_query("billing.accounts", "SELECT account_id, account_name, ou FROM daivi_billing.accounts ORDER BY account_id")


def data_end(latest_period: str) -> Query:
    """The last day with cost data in the latest billing period."""
    return make_query("billing.data_end", "SELECT MAX(usage_date) AS last_day FROM daivi_billing.cost_daily WHERE billing_period = :period",
                      period=latest_period)


def budgets() -> Query:
    return make_query(
        "billing.budgets",
        "SELECT budget_name, scope_type, scope_value, account_id, monthly_limit, currency FROM daivi_billing.budgets ORDER BY budget_name",
    )


def currencies(start: dt.date, end: dt.date) -> Query:
    """Each currency in the range with its cost (absolute unblended, to rank them) and rows: never summed across."""
    return make_query("billing.currencies", f"""
SELECT COALESCE(c.currency, '{DEFAULT_CURRENCY}') AS currency, SUM(ABS(c.unblended_cost)) AS abs_cost,
  SUM(c.unblended_cost) AS unblended_cost, COUNT(*) AS rows
FROM daivi_billing.cost_daily c
WHERE contains(:periods, c.billing_period) AND c.usage_date BETWEEN :start_date AND :end_date
GROUP BY 1
ORDER BY 2 DESC
""", periods=billing_periods_between(start, end), start_date=start, end_date=end)  # noqa: S608 - constants only


def budget_scope_costs(as_of: dt.date, basis: str, run_rate_days: int, currency: str | None = None) -> Query:
    """Month-to-date cost per account, OU, service and in total, and over the last `run_rate_days` days (in `currency`)."""
    cost = require_identifier(basis, COST_BASES, "Cost basis")
    month_start = as_of.replace(day=1)
    recent_start = as_of - dt.timedelta(days=run_rate_days - 1)
    first = min(month_start, recent_start)
    sql = f"""
SELECT account_id, ou, service_code, SUM(mtd) AS mtd, SUM(recent) AS recent
FROM (
  SELECT c.account_id, coalesce(a.ou, '{NO_OU}') AS ou, c.service_code,
    CASE WHEN c.usage_date >= {sql_constant(month_start)} THEN {cost} ELSE 0 END AS mtd,
    CASE WHEN c.usage_date >= {sql_constant(recent_start)} THEN {cost} ELSE 0 END AS recent
  FROM daivi_billing.cost_daily c
  LEFT JOIN daivi_billing.accounts a ON a.account_id = c.account_id
  WHERE contains(:periods, c.billing_period)
    AND c.usage_date BETWEEN :start_date AND :end_date{f" AND {CURRENCY_CLAUSE}" if currency else ""}
) x
GROUP BY GROUPING SETS ((account_id), (ou), (service_code), ())
"""  # noqa: S608
    extra = {"currency": require_currency(currency)} if currency else {}
    return make_query("billing.budget_scope_costs", sql, periods=billing_periods_between(first, as_of),
                      start_date=first, end_date=as_of, **extra)
