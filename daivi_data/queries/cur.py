"""Named queries of the CUR drill-down view (`daivi_cur.cur`, CUR 2.0 columns).

Every query here reads one billing period (`billing_period = :period`) or a
bounded range of them (`billing_period BETWEEN :first_period AND :last_period`):
Athena bills by bytes scanned and the CUR is the largest table we have.
Values a user chooses (account, service, usage type, resource id, tag key) are
bound parameters; the only user choice that shapes SQL text is the cost basis,
and it comes from `COST_BASES`.

Cost semantics (unblended, amortized, net, public on-demand) are the lakehouse's
one set of formulas, `daivi_data.lakehouse.costs`, which the billing derivation
sums too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from daivi_data.catalog import require_identifier
from daivi_data.currency import DEFAULT_CURRENCY, require_currency
from daivi_data.errors import InvalidRequest
from daivi_data.lakehouse.costs import (  # the one set of cost formulas, and where each basis comes from
    AMORTIZED_COST_SQL,
    COST_BASIS_SOURCES,
    NET_COST_SQL,
    PUBLIC_COST_SQL,
    UNBLENDED_COST_SQL,
)
from daivi_data.queries import Query, built_once, make_query, sql_constant

CUR_TABLE = "daivi_cur.cur"
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
MAX_VALUE_CHARS = 256  # usage types, operations and product codes are far shorter
MAX_RESOURCE_ID_CHARS = 1024  # ARNs can be long; anything longer is not a resource id
MAX_TAG_KEY_CHARS = 128  # AWS's own limit on tag keys
MAX_LEVEL_ROWS = 1000  # rows per drill level table (the rest are summed as "others" on screen)
MAX_LINE_ITEMS = 1000
TOP_RESOURCES_ALLOWED = (10, 25, 50, 100)
PERIODS_LOOKBACK = 24  # months listed in the period overview at least (more when the data goes further back)
STRAGGLER_SHARE = 0.02  # a period with fewer line items than this share of the largest one is not the default
NO_RESOURCE = "(no resource id)"  # drill value for line items without a resource id

USAGE_LINE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")

# Public name -> SQL expression of one line item's cost. The allow-list for the cost basis.
COST_BASES: dict[str, str] = {
    "unblended": UNBLENDED_COST_SQL,
    "amortized": AMORTIZED_COST_SQL,
    "net": NET_COST_SQL,
    "public": PUBLIC_COST_SQL,
}
COST_BASIS_LABELS = {
    "unblended": "Unblended",
    "amortized": "Amortized (effective)",
    "net": "Net unblended",
    "public": "Public on-demand (list)",
}
COST_COLUMNS = {"unblended": "unblended_cost", "amortized": "amortized_cost", "net": "net_cost", "public": "public_cost"}


def cost_basis_sources(formats: set[str]) -> str:
    """'Unblended: line_item_unblended_cost · ...' for the export families the data came from ('CUR', 'FOCUS')."""
    families = [f for f in COST_BASIS_SOURCES if f in formats] or ["CUR"]
    parts = []
    for basis, label in COST_BASIS_LABELS.items():
        sources = " | ".join(f"{family}: {COST_BASIS_SOURCES[family][basis]}" if len(families) > 1 else COST_BASIS_SOURCES[family][basis]
                             for family in families)
        parts.append(f"{label}: {sources}")
    return " · ".join(parts)


def export_families(manifest: dict) -> set[str]:
    """{'CUR', 'FOCUS'}: the cost export families an imported lakehouse holds (the demo generates CUR)."""
    formats = {s.get("format", "") for s in manifest.get("report", {}).get("sources", []) if s.get("table") == CUR_TABLE}
    families = {"FOCUS" if f == "FOCUS" else "CUR" for f in formats}
    return families or {"CUR"}

# Shared costs kept out of the per-tag chargeback: tax, and the support plan.
SHARED_COST_SQL = """CASE WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
      WHEN line_item_product_code LIKE 'AWSSupport%' OR line_item_product_code = 'OCBPremiumSupport' THEN 'Support'
      ELSE '' END"""

# Usage that a Savings Plan or an RI could cover, billed on demand. Instance usage carries an
# instance type; Fargate and Lambda are covered by Compute Savings Plans without one.
ELIGIBLE_ON_DEMAND_SQL = """line_item_line_item_type = 'Usage' AND pricing_term = 'OnDemand'
      AND (COALESCE(product_instance_type, '') <> ''
           OR line_item_usage_type LIKE '%Fargate-vCPU-Hours%' OR line_item_usage_type LIKE '%Fargate-GB-Hours%'
           OR (line_item_product_code = 'AWSLambda' AND line_item_usage_type LIKE '%Lambda-GB-Second%'))"""

# 'm5.large' -> 'm5', 'db.r6g.large' -> 'r6g', 'r6g.large.search' -> 'r6g' (product_instance_family holds
# the category, e.g. 'General purpose', not the family).
INSTANCE_FAMILY_SQL = """COALESCE(NULLIF(element_at(split(regexp_replace(COALESCE(product_instance_type, ''), '[.]search$', ''), '.'), -2), ''),
      '(no instance type)')"""

TRANSFER_CATEGORY_SQL = """CASE
      WHEN product_transfer_type = 'IntraRegion' OR line_item_usage_type LIKE '%DataTransfer-Regional-Bytes%' THEN 'Inter-AZ'
      WHEN product_transfer_type LIKE 'InterRegion%' OR line_item_usage_type LIKE '%-AWS-Out-Bytes%'
        OR line_item_usage_type LIKE '%-AWS-In-Bytes%' THEN 'Inter-region'
      WHEN product_transfer_type IN ('AWS Outbound', 'CloudFront Outbound') OR line_item_usage_type LIKE '%DataTransfer-Out-Bytes%'
        OR line_item_usage_type LIKE '%DataTransfer-Out-OBytes%' THEN 'Internet egress'
      ELSE 'Other transfer' END"""

TRANSFER_FILTER_SQL = """line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
      AND (product_product_family = 'Data Transfer' OR COALESCE(product_transfer_type, '') <> ''
           OR line_item_usage_type LIKE '%DataTransfer%' OR line_item_usage_type LIKE '%-AWS-Out-Bytes%'
           OR line_item_usage_type LIKE '%-AWS-In-Bytes%')"""


# --- typed request ---------------------------------------------------------------------------


def require_period(value: str) -> str:
    """A billing period 'YYYY-MM', or InvalidRequest naming the field."""
    if not isinstance(value, str) or not PERIOD_RE.match(value):
        raise InvalidRequest(f"Billing period {str(value)[:40]!r} is not a month like 2026-11 (YYYY-MM).")
    return value


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_period(period: str, months: int) -> str:
    """'2026-11' shifted by `months` (negative goes back)."""
    year, month = map(int, require_period(period).split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_span_to_list(this_month: str, latest_partition: str | None, partitions: int,
                        requested: str | None = None) -> tuple[str, int]:
    """(last period, number of months) the period overview must cover so that it lists every period the
    data has, at any age: from this month (or the newest partition, if later) back past the oldest one.

    Partition metadata gives the newest partition and how many there are; going back that many
    months from the newest covers them all when they are consecutive, and a period asked for
    by URL is always included, however old.
    """
    last = max(require_period(this_month), latest_partition) if latest_partition and PERIOD_RE.match(latest_partition) else this_month
    first = shift_period(last, -(PERIODS_LOOKBACK - 1))
    if latest_partition and PERIOD_RE.match(latest_partition):
        first = min(first, shift_period(latest_partition, -(max(partitions, 1) - 1)))
    if requested and PERIOD_RE.match(requested):
        first = min(first, requested)
    months = months_between(first, last) + 1
    return last, months


def months_between(first: str, last: str) -> int:
    """Whole months from `first` to `last` ('2026-01' to '2026-03' is 2)."""
    fy, fm = map(int, require_period(first).split("-"))
    ly, lm = map(int, require_period(last).split("-"))
    return (ly * 12 + lm) - (fy * 12 + fm)


def default_period(line_items_by_period: dict[str, int]) -> str | None:
    """The newest billing period that holds the bulk of the data: a period with only a few straggler
    rows (a late charge billed a month after the rest of an export) is listed but not opened by default."""
    if not line_items_by_period:
        return None
    largest = max(line_items_by_period.values())
    bulk = [p for p, n in line_items_by_period.items() if n >= STRAGGLER_SHARE * largest]
    return max(bulk)


def _require_text(value: str, field: str, max_chars: int) -> str:
    if not isinstance(value, str) or value == "":
        raise InvalidRequest(f"{field} is empty.")
    if len(value) > max_chars:
        raise InvalidRequest(f"{field} is {len(value)} characters long; at most {max_chars} are allowed.")
    if any(ord(c) < 32 for c in value):
        raise InvalidRequest(f"{field} contains control characters.")
    return value


def require_account(value: str) -> str:
    if not isinstance(value, str) or not ACCOUNT_RE.match(value):
        raise InvalidRequest(f"Account {str(value)[:40]!r} is not a 12-digit AWS account id.")
    return value


def require_tag_key(value: str) -> str:
    """A tag key: AWS's tag-key alphabet (letters, digits, spaces and _.:/=+-@; no quote), within AWS's length limit.

    It stands in a SELECT list, where Athena cannot bind, so `sql_constant` writes it in and refuses anything else.
    """
    return _require_text(value, "Tag key", MAX_TAG_KEY_CHARS)


DRILL_LEVELS = ("account", "service", "usage", "resource", "line_item")
DRILL_LEVEL_TITLES = {
    "account": "Accounts",
    "service": "Services",
    "usage": "Usage types and operations",
    "resource": "Resources",
    "line_item": "Line items",
}
# URL query parameters of the drill path, outermost first.
DRILL_PARAMS = ("period", "account", "service", "usage_type", "operation", "resource")


@dataclass(frozen=True)
class DrillPath:
    """Where the user is in billing period -> account -> service -> usage type/operation -> resource -> line items.

    A value at one level requires every level above it; `level` is the level
    whose rows are listed next.
    """

    period: str
    account: str | None = None
    service: str | None = None
    usage_type: str | None = None
    operation: str | None = None
    resource: str | None = None
    currency: str | None = None  # the page's currency (not a drill level): every sum in one currency

    def __post_init__(self) -> None:
        require_period(self.period)
        if self.currency is not None:
            require_currency(self.currency)
        if self.account is not None:
            require_account(self.account)
        if self.service is not None:
            _require_text(self.service, "Service", MAX_VALUE_CHARS)
        if self.usage_type is not None:
            _require_text(self.usage_type, "Usage type", MAX_VALUE_CHARS)
        if self.operation is not None and self.operation != "":
            _require_text(self.operation, "Operation", MAX_VALUE_CHARS)
        if self.resource is not None:
            _require_text(self.resource, "Resource id", MAX_RESOURCE_ID_CHARS)
        chain = [("account", self.account), ("service", self.service), ("usage type", self.usage_type), ("resource", self.resource)]
        for (outer, outer_value), (inner, inner_value) in zip(chain, chain[1:], strict=False):
            if inner_value is not None and outer_value is None:
                raise InvalidRequest(f"A {inner} can only be chosen after the {outer}.")
        if self.operation is not None and self.usage_type is None:
            raise InvalidRequest("An operation can only be chosen after the usage type.")

    @property
    def level(self) -> str:
        if self.account is None:
            return "account"
        if self.service is None:
            return "service"
        if self.usage_type is None:
            return "usage"
        if self.resource is None:
            return "resource"
        return "line_item"

    def down(self, **values: str) -> DrillPath:
        return replace(self, **values)

    def up_to(self, level: str) -> DrillPath:
        """The path whose listed level is `level` (a breadcrumb step back)."""
        keep = DRILL_LEVELS.index(level)
        fields = ("account", "service", "usage_type", "resource")
        cleared: dict[str, Any] = {f: None for i, f in enumerate(fields) if i >= keep}
        if keep <= 2:
            cleared["operation"] = None
        return replace(self, **cleared)

    def url_params(self) -> dict[str, str]:
        out = {"period": self.period}
        for name in DRILL_PARAMS[1:]:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


# --- SQL as sqlglot expressions ----------------------------------------------------------------
# Queries are built as sqlglot trees, never as formatted statement text: the fragments parsed here are this
# module's constants, allow-listed expressions and literals written by `sql_constant`; every value is bound.

ATHENA = "athena"
Fragment = str | exp.Expr


def _select(*columns: Fragment, where: Iterable[Fragment] = (), table: Fragment = CUR_TABLE) -> exp.Select:
    """SELECT `columns` FROM `table` WHERE all of `where`."""
    select = exp.select(*columns, dialect=ATHENA).from_(table, dialect=ATHENA)
    return select.where(*where, dialect=ATHENA) if where else select


def _query(name: str, select: exp.Query, **params: object) -> Query:
    return make_query(f"cur.{name}", select.sql(dialect=ATHENA, pretty=True), **params)


def _all_costs(aggregate: bool = True) -> list[str]:
    """Every cost basis of a line item (summed, or as it is), named by `COST_COLUMNS`."""
    return [f"SUM({sql}) AS {COST_COLUMNS[basis]}" if aggregate else f"{sql} AS {COST_COLUMNS[basis]}"
            for basis, sql in COST_BASES.items()]


def _in_period(period: str) -> str:
    require_period(period)
    return "billing_period = :period"


def _in_periods(first_period: str, last_period: str) -> str:
    if require_period(first_period) > require_period(last_period):
        raise InvalidRequest(f"First period {first_period} is after last period {last_period}.")
    return "billing_period BETWEEN :first_period AND :last_period"


def _drill_filters(path: DrillPath) -> tuple[list[str], dict[str, object]]:
    """WHERE conditions (fixed fragments only) and bound values for a drill path."""
    clauses = ["billing_period = :period"]
    params: dict[str, object] = {"period": path.period}
    if path.account is not None:
        clauses.append("line_item_usage_account_id = :account")
        params["account"] = path.account
    if path.service is not None:
        clauses.append("line_item_product_code = :service")
        params["service"] = path.service
    if path.usage_type is not None:
        clauses.append("line_item_usage_type = :usage_type")
        params["usage_type"] = path.usage_type
    if path.operation is not None:
        clauses.append("COALESCE(line_item_operation, '') = :operation")
        params["operation"] = path.operation
    if path.resource is not None:
        if path.resource == NO_RESOURCE:
            clauses.append("COALESCE(line_item_resource_id, '') = ''")
        else:
            clauses.append("line_item_resource_id = :resource")
            params["resource"] = path.resource
    return clauses + _in_currency(path.currency), params | _currency_param(path.currency)


def _in_currency(currency: str | None, column: str = "line_item_currency_code") -> list[str]:
    """The WHERE condition that keeps one currency (a fixed column name; the code is bound), or none."""
    return [f"COALESCE({column}, '{DEFAULT_CURRENCY}') = :currency"] if currency is not None else []


def _currency_param(currency: str | None) -> dict[str, str]:
    return {"currency": require_currency(currency)} if currency is not None else {}


def cost_basis_sql(basis: str) -> str:
    return require_identifier(basis, COST_BASES, "Cost basis")


# --- query builders --------------------------------------------------------------------------


@built_once
def period_line_items(last_period: str, months: int = PERIODS_LOOKBACK) -> Query:
    """Line items per billing period over the `months` periods up to `last_period` (periods without any: no row).

    Runs on every page load: which periods the role has data in, and which one opens by default. It reads no
    column of the line items (Parquet metadata answers the count; a row filter reads its own column), where the
    periods' costs read every line item's cost (`period_totals`, ~10x slower on `large`).
    """
    first_period = shift_period(last_period, -(months - 1))
    select = _select("billing_period", "COUNT(*) AS line_items", where=[_in_periods(first_period, last_period)])
    return _query("period_line_items", select.group_by("1", dialect=ATHENA).order_by("1", dialect=ATHENA),
                  first_period=first_period, last_period=last_period)


@built_once
def period_totals(last_period: str, months: int = PERIODS_LOOKBACK) -> Query:
    """Unblended cost and line items per billing period and currency over the `months` periods up to `last_period`.

    Reads only the cost column: the other bases of one period come from `period_summary` (all four over
    13 months cost ~10x more). Over many periods it is the CUR page's costliest query: the page runs it
    for the period chart only, and `months=1` for the chosen period's total per currency.
    """
    first_period = shift_period(last_period, -(months - 1))
    # Grouped by the stored currency first, COALESCE after: DuckDB then groups the dictionary-encoded column
    # as it is read instead of hashing a new text per line item (~1.7x faster on `large`).
    per_stored_currency = _select("billing_period", "line_item_currency_code AS currency", f"SUM({UNBLENDED_COST_SQL}) AS unblended_cost",
                                  "COUNT(*) AS line_items", where=[_in_periods(first_period, last_period)]).group_by("1", "2", dialect=ATHENA)
    select = _select("billing_period", f"COALESCE(currency, '{DEFAULT_CURRENCY}') AS currency", "SUM(unblended_cost) AS unblended_cost",
                     "CAST(SUM(line_items) AS BIGINT) AS line_items", table=per_stored_currency.subquery("per_stored_currency"))
    return _query("period_totals", select.group_by("1", "2", dialect=ATHENA).order_by("1", "2", dialect=ATHENA), first_period=first_period, last_period=last_period)


@built_once
def period_summary(period: str, currency: str | None = None) -> Query:
    """Every cost basis of one billing period, and how many accounts it spans."""
    select = _select(*_all_costs(), "COUNT(*) AS line_items", "COUNT(DISTINCT line_item_usage_account_id) AS accounts",
                     where=[_in_period(period), *_in_currency(currency)])
    return _query("period_summary", select, period=period, **_currency_param(currency))


# Per drill level: the columns that name a row, and the expressions it is grouped by.
_LEVEL_GROUPS = {
    "account": (["line_item_usage_account_id AS account_id", "MAX(line_item_usage_account_name) AS account_name"],
                ["line_item_usage_account_id"]),
    "service": (["line_item_product_code AS service"], ["line_item_product_code"]),
    "usage": (["line_item_usage_type AS usage_type", "COALESCE(line_item_operation, '') AS operation"],
              ["line_item_usage_type", "COALESCE(line_item_operation, '')"]),
    "resource": ([f"COALESCE(NULLIF(line_item_resource_id, ''), {sql_constant(NO_RESOURCE)}) AS resource_id"],
                 [f"COALESCE(NULLIF(line_item_resource_id, ''), {sql_constant(NO_RESOURCE)})"]),
}


@built_once
def drill_level(path: DrillPath, basis: str = "unblended") -> Query:
    """The rows of the path's current level (accounts, services, ...) with every cost basis.

    At most MAX_LEVEL_ROWS rows, the largest by the chosen basis; `total_rows` is the
    number of rows there would be without that cap.
    """
    if path.level == "line_item":
        return line_items(path)
    columns, group = _LEVEL_GROUPS[path.level]
    where, params = _drill_filters(path)
    select = _select(*columns, *_all_costs(), "COUNT(*) AS line_items", "COUNT(*) OVER () AS total_rows", where=where)
    select = select.group_by(*group, dialect=ATHENA).order_by(f"SUM({cost_basis_sql(basis)}) DESC", dialect=ATHENA).limit(MAX_LEVEL_ROWS)
    return _query(f"drill_{path.level}", select, **params)


@built_once
def line_items(path: DrillPath) -> Query:
    """The line items at the end of a drill path (at most MAX_LINE_ITEMS, in time order)."""
    where, params = _drill_filters(path)
    select = _select(
        "identity_line_item_id AS line_item_id", "line_item_usage_start_date AS usage_start", "line_item_usage_end_date AS usage_end",
        "line_item_line_item_type AS line_item_type", "line_item_usage_type AS usage_type", "line_item_operation AS operation",
        "line_item_availability_zone AS availability_zone", "line_item_usage_amount AS usage_amount", "pricing_unit", "pricing_term",
        "line_item_unblended_rate AS unblended_rate", *_all_costs(aggregate=False),
        "reservation_reservation_a_r_n AS reservation_arn", "savings_plan_savings_plan_a_r_n AS savings_plan_arn",
        "line_item_line_item_description AS description", "COUNT(*) OVER () AS total_rows", where=where)
    select = select.order_by("line_item_usage_start_date", "identity_line_item_id", dialect=ATHENA).limit(MAX_LINE_ITEMS)
    return _query("line_items", select, **params)


@built_once
def invoice_by_line_item_type(period: str, currency: str | None = None) -> Query:
    """Every basis per line item type: the waterfall's steps."""
    select = _select("line_item_line_item_type AS line_item_type", *_all_costs(), "COUNT(*) AS line_items",
                     where=[_in_period(period), *_in_currency(currency)])
    return _query("invoice_by_line_item_type", select.group_by("line_item_line_item_type", dialect=ATHENA), period=period, **_currency_param(currency))


@built_once
def billing_by_record_type(period: str, currency: str | None = None) -> Query:
    """The billing lakehouse's totals for the same period, per record type (the reconciliation's other side)."""
    select = _select("record_type", "SUM(unblended_cost) AS unblended_cost", "SUM(amortized_cost) AS amortized_cost",
                     "SUM(net_unblended_cost) AS net_cost", table="daivi_billing.cost_daily",
                     where=[_in_period(period), *_in_currency(currency, "currency")])
    return _query("billing_by_record_type", select.group_by("record_type", dialect=ATHENA), period=period, **_currency_param(currency))


# The coverage components of a group of line items, in public on-demand dollars (see `cur_analysis.coverage_components`).
_COVERAGE_COMPONENTS = [
    "SUM(CASE WHEN line_item_line_item_type = 'DiscountedUsage' THEN COALESCE(pricing_public_on_demand_cost, 0) ELSE 0 END)"
    " AS ri_covered_od_cost",
    "SUM(CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage'"
    " THEN COALESCE(pricing_public_on_demand_cost, line_item_unblended_cost, 0) ELSE 0 END) AS sp_covered_od_cost",
    f"SUM(CASE WHEN {ELIGIBLE_ON_DEMAND_SQL} THEN COALESCE(pricing_public_on_demand_cost, line_item_unblended_cost, 0) ELSE 0 END)"
    " AS on_demand_od_cost",
    f"SUM(CASE WHEN {ELIGIBLE_ON_DEMAND_SQL} THEN COALESCE(line_item_unblended_cost, 0) ELSE 0 END) AS on_demand_cost",
]
_COVERAGE_SUMS = [f"SUM({name}) AS {name}" for name in ("ri_covered_od_cost", "sp_covered_od_cost", "on_demand_od_cost", "on_demand_cost")]
_COVERAGE_FILTER = f"line_item_line_item_type IN ('DiscountedUsage', 'SavingsPlanCoveredUsage') OR ({ELIGIBLE_ON_DEMAND_SQL})"


@built_once
def coverage_by_day(first_period: str, last_period: str, currency: str | None = None) -> Query:
    """Commitment-eligible usage per day, in public on-demand dollars: covered by RI, by SP, and on demand."""
    select = _select("billing_period", "CAST(line_item_usage_start_date AS DATE) AS usage_date", *_COVERAGE_COMPONENTS,
                     where=[_in_periods(first_period, last_period), *_in_currency(currency), _COVERAGE_FILTER])
    select = select.group_by("billing_period", "CAST(line_item_usage_start_date AS DATE)", dialect=ATHENA).order_by("usage_date", dialect=ATHENA)
    return _query("coverage_by_day", select, first_period=first_period, last_period=last_period, **_currency_param(currency))


@built_once
def coverage_by_account_family(period: str, currency: str | None = None) -> Query:
    """Commitment-eligible usage of one period per account, service and instance family.

    Grouped per instance type first: the family's regular expression then runs once per type, not per line item.
    """
    per_type = _select("line_item_usage_account_id AS account_id", "MAX(line_item_usage_account_name) AS account_name",
                       "line_item_product_code AS service", "product_instance_type", *_COVERAGE_COMPONENTS,
                       where=[_in_period(period), *_in_currency(currency), _COVERAGE_FILTER])
    per_type = per_type.group_by("line_item_usage_account_id", "line_item_product_code", "product_instance_type", dialect=ATHENA)
    select = _select("account_id", "MAX(account_name) AS account_name", "service", f"{INSTANCE_FAMILY_SQL} AS instance_family",
                     *_COVERAGE_SUMS, table=per_type.subquery("per_instance_type"))
    select = select.group_by("account_id", "service", INSTANCE_FAMILY_SQL, dialect=ATHENA)
    return _query("coverage_by_account_family", select, period=period, **_currency_param(currency))


_COMMITMENT_TYPE = "CASE WHEN line_item_line_item_type = 'RIFee' THEN 'RI' ELSE 'SP' END"
_COMMITMENT_FEES = "line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee')"
# What a commitment fee line commits: the RI's amortized upfront and recurring fee, the SP's commitment of its interval.
_TOTAL_COMMITMENT = """CASE WHEN line_item_line_item_type = 'RIFee'
      THEN COALESCE(reservation_amortized_upfront_fee_for_billing_period, 0) + COALESCE(line_item_unblended_cost, 0)
      ELSE COALESCE(savings_plan_total_commitment_to_date, 0) END"""


@built_once
def commitment_utilization(first_period: str, last_period: str, currency: str | None = None) -> Query:
    """Commitment bought and used per period, kind (RI/SP), owning account and family.

    SP: the recurring fee lines carry the commitment of their hour/day and how much of
    it covered usage. RI: the monthly RIFee line carries the reservation's amortized
    upfront and recurring fee and the unused part of each.
    """
    select = _select(
        "billing_period", f"{_COMMITMENT_TYPE} AS commitment_type", "line_item_usage_account_id AS account_id",
        "MAX(line_item_usage_account_name) AS account_name",
        f"CASE WHEN line_item_line_item_type = 'RIFee' THEN {INSTANCE_FAMILY_SQL}"
        " ELSE COALESCE(NULLIF(savings_plan_offering_type, ''), '(none)') END AS family",
        f"SUM({_TOTAL_COMMITMENT}) AS total_commitment",
        """SUM(CASE WHEN line_item_line_item_type = 'RIFee'
             THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0) + COALESCE(reservation_unused_recurring_fee, 0)
             ELSE COALESCE(savings_plan_total_commitment_to_date, 0) - COALESCE(savings_plan_used_commitment, 0) END)
           AS unused_commitment""",
        where=[_in_periods(first_period, last_period), *_in_currency(currency), _COMMITMENT_FEES])
    select = select.group_by("1", "2", "3", "5", dialect=ATHENA).order_by("1", "2", "3", "5", dialect=ATHENA)
    return _query("commitment_utilization", select, first_period=first_period, last_period=last_period, **_currency_param(currency))


@built_once
def commitments_expiring(period: str, today: dt.date, horizon_days: int = 90, currency: str | None = None) -> Query:
    """RIs and Savings Plans seen in `period` whose term ends between today and today + horizon.

    End times are ISO-8601 text in the CUR; their first ten characters compare as dates.
    """
    if not 0 < horizon_days <= 3660:
        raise InvalidRequest(f"Expiry horizon of {horizon_days} days is outside 1..3660.")
    commitments = _select(
        f"{_COMMITMENT_TYPE} AS commitment_type",
        "CASE WHEN line_item_line_item_type = 'RIFee' THEN reservation_reservation_a_r_n ELSE savings_plan_savings_plan_a_r_n END AS arn",
        "MAX(line_item_usage_account_id) AS account_id", "MAX(line_item_usage_account_name) AS account_name",
        "MAX(CASE WHEN line_item_line_item_type = 'RIFee' THEN COALESCE(product_instance_type, product_instance_family)"
        " ELSE savings_plan_offering_type END) AS family",
        "MAX(substr(CASE WHEN line_item_line_item_type = 'RIFee' THEN reservation_end_time ELSE savings_plan_end_time END, 1, 10))"
        " AS end_date",
        f"SUM({_TOTAL_COMMITMENT}) AS monthly_cost",
        where=[_in_period(period), *_in_currency(currency), _COMMITMENT_FEES]).group_by("1", "2", dialect=ATHENA)
    select = _select("commitment_type", "arn", "account_id", "account_name", "family", "end_date", "monthly_cost",
                     table=commitments.subquery("commitments"), where=["end_date BETWEEN :from_day AND :to_day"])
    return _query("commitments_expiring", select.order_by("end_date", "arn", dialect=ATHENA), period=period, from_day=today.isoformat(),
                  to_day=(today + dt.timedelta(days=horizon_days)).isoformat(), **_currency_param(currency))


@built_once
def tag_keys(period: str) -> Query:
    """The tag keys present on the period's line items.

    The distinct key sets come first (a few hundred), then are unnested: unnesting
    every line item's map is ~15x slower on `medium`.
    """
    key_sets = _select("map_keys(resource_tags) AS key_set", where=[_in_period(period)]).distinct()
    select = (_select("tag_key", table=key_sets.subquery("key_sets"))
              .join("UNNEST(key_sets.key_set) AS keys(tag_key)", join_type="cross", dialect=ATHENA)
              .group_by("tag_key", dialect=ATHENA).order_by("tag_key", dialect=ATHENA))
    return _query("tag_keys", select, period=period)


@built_once
def cost_by_tag(period: str, tag_key: str, currency: str | None = None, basis: str = "unblended") -> Query:
    """The cost on one basis (its `COST_COLUMNS` name) per value of one tag key ('' = untagged), with shared costs
    (tax, support) kept apart.

    One basis only: the amortized formula alone reads eight more columns of every line item. The tag key stands in
    the SELECT list, where Athena cannot bind: `sql_constant` writes it in, and refuses anything outside AWS's alphabet.
    """
    select = _select(f"COALESCE(element_at(resource_tags, {sql_constant(require_tag_key(tag_key))}), '') AS tag_value",
                     f"{SHARED_COST_SQL} AS shared_cost", f"SUM({cost_basis_sql(basis)}) AS {COST_COLUMNS[basis]}",
                     "COUNT(*) AS line_items", where=[_in_period(period), *_in_currency(currency)])
    return _query("cost_by_tag", select.group_by("1", "2", dialect=ATHENA), period=period, **_currency_param(currency))


@built_once
def top_resources(period: str, basis: str = "unblended", top_n: int = 25, currency: str | None = None) -> Query:
    """The `top_n` costliest resources of a period, one row per resource and day (their trend)."""
    if top_n not in TOP_RESOURCES_ALLOWED:
        raise InvalidRequest(f"Number of top resources {top_n!r} is not one of {', '.join(map(str, TOP_RESOURCES_ALLOWED))}.")
    cost = cost_basis_sql(basis)
    per_resource = _select(
        "line_item_resource_id AS resource_id", "MAX(line_item_usage_account_id) AS account_id",
        "MAX(line_item_product_code) AS service", "MAX(product_region_code) AS region", "MAX(line_item_usage_type) AS usage_type",
        f"SUM({cost}) AS cost", f"ROW_NUMBER() OVER (ORDER BY SUM({cost}) DESC, line_item_resource_id) AS cost_rank",
        where=[_in_period(period), "COALESCE(line_item_resource_id, '') <> ''", *_in_currency(currency)],
    ).group_by("line_item_resource_id", dialect=ATHENA)
    keys = ["r.cost_rank", "r.resource_id", "r.account_id", "r.service", "r.region", "r.usage_type", "r.cost"]
    select = (_select(*keys, "CAST(c.line_item_usage_start_date AS DATE) AS usage_date", f"SUM({cost}) AS daily_cost",
                      table=f"{CUR_TABLE} c",
                      where=["c.billing_period = :period", "r.cost_rank <= :top_n", *_in_currency(currency, "c.line_item_currency_code")])
              .with_("per_resource", as_=per_resource)
              .join("per_resource r", on="c.line_item_resource_id = r.resource_id", dialect=ATHENA)
              .group_by(*keys, "CAST(c.line_item_usage_start_date AS DATE)", dialect=ATHENA)
              .order_by("r.cost_rank", "usage_date", dialect=ATHENA))
    return _query("top_resources", select, period=period, top_n=top_n, **_currency_param(currency))


@built_once
def data_transfer(period: str, currency: str | None = None) -> Query:
    """Data transfer cost and GB of a period by category (inter-region, internet egress, inter-AZ), service, account and route."""
    select = _select(
        f"{TRANSFER_CATEGORY_SQL} AS category", "line_item_product_code AS service", "line_item_usage_account_id AS account_id",
        "MAX(line_item_usage_account_name) AS account_name",
        "COALESCE(NULLIF(product_from_region_code, ''), NULLIF(product_region_code, ''), '(unknown)') AS from_region",
        "COALESCE(NULLIF(product_to_region_code, ''), '(internet or same region)') AS to_region",
        "SUM(COALESCE(line_item_unblended_cost, 0)) AS unblended_cost", "SUM(COALESCE(line_item_usage_amount, 0)) AS usage_gb",
        where=[_in_period(period), *_in_currency(currency), TRANSFER_FILTER_SQL])
    return _query("data_transfer", select.group_by("1", "2", "3", "5", "6", dialect=ATHENA), period=period, **_currency_param(currency))
