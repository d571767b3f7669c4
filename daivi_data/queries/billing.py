"""Cost Explorer queries over the billing lakehouse (`daivi_billing.cost_daily`, `accounts`, `budgets`).

Every query over `cost_daily` carries a `billing_period` predicate derived from
its date range, plus the `usage_date` range itself. Dimensions and cost bases
come from the allow-lists below; filter values are bound values in WHERE,
never SQL text. A tag key is a map key checked against AWS's tag-key alphabet
(no quotes) and written as a literal, because a group-by dimension stands in the
SELECT list, where Athena cannot bind.

Each query is a constant SQL template whose variable parts (`__name__` where a column
would stand) are sqlglot expressions: a dimension, a cost column, the WHERE condition,
a program-computed date. No SQL text is formatted from values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import sqlglot
from sqlglot import exp

from daivi_data.catalog import require_identifier
from daivi_data.currency import DEFAULT_CURRENCY, require_currency
from daivi_data.errors import InvalidRequest
from daivi_data.lakehouse.costs import BILLING_COST_COLUMNS
from daivi_data.periods import billing_periods_between
from daivi_data.queries import Query, make_query

UNTAGGED = "(untagged)"
NO_OU = "(no OU)"
OTHERS = "Others"  # the groups beyond the top N (cost_analysis.OTHERS)

# Public dimension name -> SQL over `c` = cost_daily and `a` = accounts (Athena). `__tag__` stands
# for the tag key, written in as a string literal (see Dimension.expression).
DIMENSIONS: dict[str, str] = {
    "service": "c.service_name",
    "account": "c.account_id",
    "ou": "coalesce(a.ou, '(no OU)')",
    "region": "c.region",
    "usage_type": "c.usage_type",
    "record_type": "c.record_type",
    "tag": "coalesce(nullif(element_at(c.tags, __tag__), ''), '(untagged)')",
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
    def expression(self) -> exp.Expr:
        """The dimension's expression over `c` (and `a`); a tag key is checked (AWS's alphabet) and written as a literal:
        Athena binds values only in WHERE, and a group-by dimension stands in the SELECT list."""
        expression = _parsed(require_identifier(self.name, DIMENSIONS, "Dimension"))
        if self.name == "tag":
            return _with_parts(expression, tag=exp.Literal.string(check_tag_key(self.tag_key)))
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


# --- building queries ---------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _parsed_once(sql: str) -> exp.Expr:
    return sqlglot.parse_one(sql, read="athena")


def _parsed(sql: str) -> exp.Expr:
    """A constant SQL text of this module as an expression (a fresh copy: callers change it)."""
    return _parsed_once(sql).copy()


def _with_parts(tree: exp.Expr, **parts: exp.Expr) -> exp.Expr:
    """`tree` with each column named `__name__` replaced by the expression `parts[name]`."""
    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__") and node.name.endswith("__"):
            return parts[node.name[2:-2]].copy()
        return node

    return tree.transform(swap)


# Building and printing a query's tree costs milliseconds, every rerun of a page: a query built for
# the same (hashable, frozen) arguments is the same `Query`, so it is built once.
_built_once = lru_cache(maxsize=512)


def _tree(template: str, **parts: exp.Expr) -> exp.Select:
    return cast(exp.Select, _with_parts(_parsed(template), **parts))  # every template is a SELECT


def _render(tree: exp.Expr, joins: tuple[exp.Expr, ...] = ()) -> str:
    """`tree` (with `joins` added to its scan of cost_daily) as Athena SQL."""
    if joins:
        scan = next(s for s in tree.find_all(exp.Select) if (f := s.args.get("from_")) and f.this.name == "cost_daily")
        for join in joins:
            scan.append("joins", join)
    return tree.sql(dialect="athena", normalize_functions="lower", pretty=True)


def _sql(template: str, joins: tuple[exp.Expr, ...] = (), **parts: exp.Expr) -> str:
    """A constant template with its parts filled in (and `joins` added to the scan of cost_daily), as Athena SQL."""
    return _render(_tree(template, **parts), joins)


def _with_second_level(tree: exp.Select, group2: exp.Expr | None) -> exp.Select:
    """`tree` (grouped by its first columns, `GROUP BY 1[, 2]`) with `group2` as one more leading column."""
    if group2 is None:
        return tree
    columns = tree.expressions
    keys = len(tree.args["group"].expressions)
    tree.set("expressions", [*columns[:keys], exp.alias_(group2, "group2"), *columns[keys:]])
    tree.args["group"].append("expressions", exp.Literal.number(keys + 1))
    return tree


def _date(day: dt.date) -> exp.Expr:
    """A date the program computed, as a typed literal (Athena binds values only in WHERE; these split SUMs)."""
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("date"))


_ACCOUNTS_JOIN = _parsed_once("SELECT 1 FROM daivi_billing.cost_daily c "
                              "LEFT JOIN daivi_billing.accounts a ON a.account_id = c.account_id").args["joins"][0]
_CURRENCY_TEST = _parsed_once("coalesce(c.currency, 'USD') = :currency")
_USAGE_ONLY = exp.In(this=exp.column("record_type", "c"), expressions=[exp.Literal.string(t) for t in USAGE_RECORD_TYPES])
_PERIOD_AND_RANGE = _parsed_once("contains(:periods, c.billing_period) AND c.usage_date BETWEEN :start_date AND :end_date")
_PARTITIONS, _RANGE = _PERIOD_AND_RANGE.this, _PERIOD_AND_RANGE.expression
assert DEFAULT_CURRENCY == "USD" and NO_OU in DIMENSIONS["ou"] and UNTAGGED in DIMENSIONS["tag"]


def _where(scope: CostScope, start: dt.date, end: dt.date) -> tuple[list[exp.Expr], dict[str, object]]:
    """WHERE conditions over `c` (and `a`), to be ANDed: partitions, date range and filters, with their parameters."""
    params: dict[str, object] = {"periods": billing_periods_between(start, end), "start_date": start, "end_date": end}
    conditions = [_PARTITIONS.copy(), _RANGE.copy()]
    for i, f in enumerate(scope.filters):
        if not f.values:
            continue
        params[f"filter_{i}"] = f.values
        test = exp.func("contains", exp.Placeholder(this=f"filter_{i}"), f.dimension.expression)
        conditions.append(exp.not_(test) if f.exclude else test)
    if scope.currency is not None:
        conditions.append(_CURRENCY_TEST.copy())
        params["currency"] = scope.currency
    return conditions, params


def _joins(needs_accounts: bool) -> tuple[exp.Expr, ...]:
    return (_ACCOUNTS_JOIN.copy(),) if needs_accounts else ()


def _cost(basis: str) -> exp.Expr:
    return _parsed(require_identifier(basis, COST_BASES, "Cost basis"))


@_built_once
def group_totals(scope: CostScope, group: Dimension, group2: Dimension | None, compare_start: dt.date, compare_end: dt.date) -> Query:
    """Cost per group (and second-level group) in the range and in the comparison period.

    One scan over both periods: `cost` is the range, `previous` the comparison.
    The comparison period must lie before the range.
    """
    if compare_end >= scope.start:
        raise InvalidRequest("The comparison period must end before the range starts.")
    where, params = _where(scope, compare_start, scope.end)
    needs_accounts = scope.needs_accounts or group.needs_accounts or (group2 is not None and group2.needs_accounts)
    tree = _tree("""
SELECT __group1__ AS group1,
  SUM(CASE WHEN c.usage_date >= __range_start__ THEN __cost__ ELSE 0 END) AS cost,
  SUM(CASE WHEN c.usage_date BETWEEN __compare_from__ AND __compare_to__ THEN __cost__ ELSE 0 END) AS previous
FROM daivi_billing.cost_daily c
WHERE __where__
GROUP BY 1
""", group1=group.expression, cost=_cost(scope.basis), where=exp.and_(*where), range_start=_date(scope.start),
                 compare_from=_date(compare_start), compare_to=_date(compare_end))
    sql = _render(_with_second_level(tree, group2.expression if group2 is not None else None), _joins(needs_accounts))
    return make_query("billing.group_totals", sql, **params)


@_built_once
def cost_series(scope: CostScope, granularity: str, group: Dimension, keep: tuple[str, ...],
                group2: Dimension | None = None, keep2: tuple[str, ...] = ()) -> Query:
    """Cost per period and group over the range; groups outside `keep` are summed as 'Others'.

    The inner query sums the scan per period and group; only its few rows meet the
    fold into 'Others'. The kept groups are values from data, so they are bound, and
    Athena binds only in WHERE: each summed row meets both rows of a constant
    (kept = true/false) relation, and WHERE keeps the one whose flag matches the bound
    test. Folding after summing, not per line item, evaluates the group expression
    (a map lookup for a tag) once per row instead of three times on twice the rows:
    2.5x faster on the large demo for a tag over 12 months.
    """
    bucket = _parsed(require_identifier(granularity, GRANULARITY_SQL, "Granularity"))
    where, params = _where(scope, scope.start, scope.end)
    joins = _joins(scope.needs_accounts or group.needs_accounts or (group2 is not None and group2.needs_accounts))
    fold: list[exp.Expr] = []
    keep_rows: list[exp.Expr] = []

    def label(column: str, values: tuple[str, ...], flag: str) -> exp.Expr:
        if not values:
            return exp.Literal.string(OTHERS)
        params[flag] = values
        keep_rows.append(exp.Join(this=exp.values([(True,), (False,)], alias=f"{flag}_rows", columns=[flag]), kind="CROSS"))
        test = exp.func("coalesce", exp.func("contains", exp.Placeholder(this=flag), exp.column(column, "x")), exp.false())
        fold.append(exp.EQ(this=exp.column(flag), expression=test))
        return exp.Case().when(exp.column(flag), exp.column(column, "x")).else_(exp.Literal.string(OTHERS))

    sums = _with_second_level(_tree("""
SELECT __bucket__ AS period, __group1__ AS group1, SUM(__cost__) AS cost
FROM daivi_billing.cost_daily c
WHERE __where__
GROUP BY 1, 2
""", bucket=bucket, group1=group.expression, cost=_cost(scope.basis), where=exp.and_(*where)),
        group2.expression if group2 is not None else None)
    group1 = label("group1", keep, "keep")
    group2_label = label("group2", keep2, "keep2") if group2 is not None else None
    tree = _tree("""
SELECT x.period, __group1__ AS group1, SUM(x.cost) AS cost
FROM (SELECT 1) x
GROUP BY 1, 2
ORDER BY 1
""", group1=group1)
    tree.args["from_"].this.set("this", sums)  # `(SELECT 1) x` stands for the sums: a template holds no subquery part
    tree = _with_second_level(tree, group2_label)
    for join in keep_rows:
        tree.append("joins", join)
    if fold:
        tree.where(exp.and_(*fold), copy=False)
    return make_query("billing.cost_series", _render(tree, joins), **params)


@_built_once
def daily_totals(scope: CostScope) -> Query:
    """Total cost per day over the scope's range (the forecast's history)."""
    where, params = _where(scope, scope.start, scope.end)
    sql = _sql("""
SELECT c.usage_date, SUM(__cost__) AS cost
FROM daivi_billing.cost_daily c
WHERE __where__
GROUP BY 1
ORDER BY 1
""", _joins(scope.needs_accounts), cost=_cost(scope.basis), where=exp.and_(*where))
    return make_query("billing.daily_totals", sql, **params)


@_built_once
def daily_by_group(scope: CostScope, group: Dimension) -> Query:
    """Usage cost per day and group over the scope's range (the anomaly detector's input)."""
    where, params = _where(scope, scope.start, scope.end)
    sql = _sql("""
SELECT c.usage_date, __group1__ AS group1, SUM(__cost__) AS cost
FROM daivi_billing.cost_daily c
WHERE __where__
GROUP BY 1, 2
""", _joins(scope.needs_accounts or group.needs_accounts), group1=group.expression, cost=_cost(scope.basis),
               where=exp.and_(*where, _USAGE_ONLY.copy()))
    return make_query("billing.daily_by_group", sql, **params)


@_built_once
def anomaly_details(scope: CostScope, group: Dimension, groups: tuple[str, ...]) -> Query:
    """Daily usage cost of the given groups per account, region and usage type: what drove an anomaly.

    One scan; GROUPING SETS give three row kinds, told apart by which driver column is set.
    """
    where, params = _where(scope, scope.start, scope.end)
    params["anomaly_groups"] = groups
    in_groups = exp.func("contains", exp.Placeholder(this="anomaly_groups"), group.expression)
    sql = _sql("""
SELECT group1, usage_date, account_id, region, usage_type, SUM(cost) AS cost
FROM (
  SELECT __group1__ AS group1, c.usage_date, c.account_id, c.region, c.usage_type, __cost__ AS cost
  FROM daivi_billing.cost_daily c
  WHERE __where__
) x
GROUP BY GROUPING SETS ((group1, usage_date, account_id), (group1, usage_date, region), (group1, usage_date, usage_type))
""", _joins(scope.needs_accounts or group.needs_accounts), group1=group.expression, cost=_cost(scope.basis),
               where=exp.and_(*where, _USAGE_ONLY.copy(), in_groups))
    return make_query("billing.anomaly_details", sql, **params)


@_built_once
def dimension_values(scope: CostScope) -> Query:
    """Every value of every plain dimension in the range (unfiltered), largest cost first: filter options.

    A service's rows carry its product code too: the CUR view drills by code. The scan is summed once per
    combination of the plain columns (a few thousand rows on the large demo) before the accounts join and
    the six grouping sets, which then hash those rows instead of every line item.
    """
    where, params = _where(CostScope(scope.start, scope.end, scope.basis, currency=scope.currency), scope.start, scope.end)
    sql = _sql("""
SELECT service_name, service_code, account_id, ou, region, usage_type, record_type, SUM(cost) AS cost
FROM (
  SELECT x.service_name, x.service_code, x.account_id, coalesce(a.ou, '(no OU)') AS ou, x.region, x.usage_type, x.record_type,
    x.cost
  FROM (
    SELECT c.service_name, c.service_code, c.account_id, c.region, c.usage_type, c.record_type, SUM(__cost__) AS cost
    FROM daivi_billing.cost_daily c
    WHERE __where__
    GROUP BY 1, 2, 3, 4, 5, 6
  ) x
  LEFT JOIN daivi_billing.accounts a ON a.account_id = x.account_id
) y
GROUP BY GROUPING SETS ((service_name, service_code), (account_id), (ou), (region), (usage_type), (record_type))
""", cost=_cost(scope.basis), where=exp.and_(*where))
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


@_built_once
def tag_values(start: dt.date, end: dt.date, tag_key: str) -> Query:
    """Values of one tag key in the range (untagged rows as '(untagged)'), largest cost first."""
    sql = _sql("""
SELECT __tag_value__ AS tag_value, SUM(c.unblended_cost) AS cost
FROM daivi_billing.cost_daily c
WHERE contains(:periods, c.billing_period)
  AND c.usage_date BETWEEN :start_date AND :end_date
GROUP BY 1
ORDER BY 2 DESC
""", tag_value=Dimension("tag", tag_key).expression)
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
    # Grouped by the column as stored first: DuckDB aggregates a dictionary-encoded column without hashing
    # every row's text, which the COALESCE would undo (about 2x faster on the large demo).
    return make_query("billing.currencies", """
SELECT COALESCE(x.currency, 'USD') AS currency, SUM(x.abs_cost) AS abs_cost, SUM(x.unblended_cost) AS unblended_cost,
  SUM(x.rows) AS rows
FROM (
  SELECT c.currency, SUM(ABS(c.unblended_cost)) AS abs_cost, SUM(c.unblended_cost) AS unblended_cost, COUNT(*) AS rows
  FROM daivi_billing.cost_daily c
  WHERE contains(:periods, c.billing_period) AND c.usage_date BETWEEN :start_date AND :end_date
  GROUP BY 1
) x
GROUP BY 1
ORDER BY 2 DESC
""", periods=billing_periods_between(start, end), start_date=start, end_date=end)


@_built_once
def budget_scope_costs(as_of: dt.date, basis: str, run_rate_days: int, currency: str | None = None) -> Query:
    """Month-to-date cost per account, OU, service and in total, and over the last `run_rate_days` days (in `currency`)."""
    month_start = as_of.replace(day=1)
    recent_start = as_of - dt.timedelta(days=run_rate_days - 1)
    first = min(month_start, recent_start)
    where = [_PARTITIONS.copy(), _RANGE.copy()]
    extra = {}
    if currency:
        where.append(_CURRENCY_TEST.copy())
        extra = {"currency": require_currency(currency)}
    sql = _sql("""
SELECT account_id, ou, service_code, SUM(mtd) AS mtd, SUM(recent) AS recent
FROM (
  SELECT c.account_id, coalesce(a.ou, '(no OU)') AS ou, c.service_code,
    CASE WHEN c.usage_date >= __month_start__ THEN __cost__ ELSE 0 END AS mtd,
    CASE WHEN c.usage_date >= __recent_start__ THEN __cost__ ELSE 0 END AS recent
  FROM daivi_billing.cost_daily c
  WHERE __where__
) x
GROUP BY GROUPING SETS ((account_id), (ou), (service_code), ())
""", _joins(True), month_start=_date(month_start), recent_start=_date(recent_start), cost=_cost(basis), where=exp.and_(*where))
    return make_query("billing.budget_scope_costs", sql, periods=billing_periods_between(first, as_of),
                      start_date=first, end_date=as_of, **extra)


@_built_once
def budget_daily_costs(as_of: dt.date, basis: str, run_rate_days: int) -> Query:
    """Daily cost per account, OU, service and in total, per currency, from the earlier of the month's first
    day and the run-rate window's through `as_of`: when a budget went over, in the budget's own currency."""
    first = min(as_of.replace(day=1), as_of - dt.timedelta(days=run_rate_days - 1))
    sql = _sql("""
SELECT usage_date, currency, account_id, ou, service_code, SUM(cost) AS cost
FROM (
  SELECT c.usage_date, COALESCE(c.currency, 'USD') AS currency, c.account_id,
    coalesce(a.ou, '(no OU)') AS ou, c.service_code, __cost__ AS cost
  FROM daivi_billing.cost_daily c
  WHERE contains(:periods, c.billing_period)
    AND c.usage_date BETWEEN :start_date AND :end_date
) x
GROUP BY GROUPING SETS ((usage_date, currency, account_id), (usage_date, currency, ou), (usage_date, currency, service_code),
  (usage_date, currency))
""", _joins(True), cost=_cost(basis))
    return make_query("billing.budget_daily_costs", sql, periods=billing_periods_between(first, as_of),
                      start_date=first, end_date=as_of)
