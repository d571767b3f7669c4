"""Page model of the CUR drill-down: a request read from widget and URL values -> the named queries -> result frames.

No Streamlit here. The view asks this module which queries a state needs, runs them as the
signed-in principal (`page.run`), and hands the frames back to the functions below through
`page.derived`, so a rerun redoes no pandas work. Every function that takes frames is pure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from daivi_data import cur_analysis as ca
from daivi_data.currency import require_currency
from daivi_data.engines import Engine
from daivi_data.errors import DaiviError, InvalidRequest
from daivi_data.governance import RoleGrants
from daivi_data.queries import Query
from daivi_data.queries import cur as q

TABS = ("Drill-down", "Invoice", "Commitments", "Allocation", "Top resources", "Data transfer")
COMMITMENT_TREND_MONTHS = 3  # daily coverage costs one CUR month scan per month shown (~0.2 s each on large)
EXPIRY_HORIZON_DAYS = 90
EXPIRY_BUCKETS = ("≤ 30 days", "31–60 days", "61–90 days")
CHART_KINDS = ("Bar", "Treemap")
DEFAULT_BASIS = "unblended"
DEFAULT_TAG_KEY = "user_team"
# Ratios before the dollar components they come from, so the narrow coverage tables show them first.
COVERAGE_COLUMNS_FIRST = ("coverage", "ri_coverage", "sp_coverage", "on_demand_cost", "eligible_od_cost",
                          "ri_covered_od_cost", "sp_covered_od_cost", "on_demand_od_cost")
COVERAGE_RATIOS = ("ri_coverage", "sp_coverage", "coverage", "RI_utilization", "SP_utilization", "utilization")
COMMITMENT_MONEY = (*ca.COVERAGE_COMPONENTS, "eligible_od_cost", "total_commitment", "unused_commitment", "used_commitment")
LINE_ITEM_COSTS = (("Unblended", "unblended_cost"), ("Amortized", "amortized_cost"), ("Net", "net_cost"),
                   ("Public on-demand", "public_cost"))
# The drill level's column that names a row (the view adds the labels: they are vocabulary).
LEVEL_LABEL = {"account": "account_label", "service": "service_name", "usage": "usage_label", "resource": "resource_id"}
LEVEL_KEY_COLUMNS = {"account": ["account_id", "account_name"], "service": ["service_name", "service"],
                     "usage": ["usage_type", "operation"], "resource": ["resource_id"]}


# --- billing periods -----------------------------------------------------------------------------

def period_span(engine: Engine, today: dt.date, url_period: str | None) -> tuple[str, int]:
    """(last period, months) the period list covers: every period the data has, however old, and the one in the URL.

    The list itself is `q.period_line_items` over this span: the page's first query reads no cost column."""
    latest, partitions = None, 0
    try:
        info = engine.table_info("daivi_cur", "cur")
        latest, partitions = info.latest_partition, info.partitions
    except (AttributeError, DaiviError):
        pass  # engines without cheap metadata: this month is the anchor
    return q.period_span_to_list(q.period_of(today), latest, partitions, url_period)


def rows_may_be_hidden(grants: RoleGrants) -> bool:
    """True when the role's CUR grant filters rows, so "no data" may mean "not yours to see"."""
    grant = grants.grant_for("daivi_cur", "cur")
    return grant is None or bool(grant.row_filter)


def cost_basis_sources(engine: Engine) -> str:
    """Which export column each cost basis comes from, for the export families the lakehouse holds."""
    families = q.export_families(getattr(engine, "manifest", None) or {})
    return f"Where each basis comes from ({' and '.join(sorted(families))}): {q.cost_basis_sources(families)}"


@dataclass(frozen=True)
class Periods:
    line_items: dict[str, int]  # per period with line items
    available: tuple[str, ...]  # newest first
    default: str | None  # the newest period holding the bulk of the data
    span: tuple[str, int]  # (last period, months) the list covers: what the period chart reads


def periods(line_items: pd.DataFrame, span: tuple[str, int]) -> Periods:
    """The periods from `q.period_line_items` rows over `span`."""
    counts = {str(p): int(n) for p, n in zip(line_items["billing_period"], line_items["line_items"], strict=True) if n > 0}
    available = tuple(sorted(counts, reverse=True))
    return Periods(counts, available, q.default_period(counts) if available else None, span)


@dataclass(frozen=True)
class PeriodChoice:
    period: str | None  # None: the URL asked for a period without data, the user must choose
    invalid_url_value: bool = False  # the URL's value was not a month (it is ignored, the default shown)
    missing: bool = False  # the URL's month has no line items (this role may see)


def choose_period(periods: Periods, url_period: str | None) -> PeriodChoice:
    if not url_period:
        return PeriodChoice(periods.default)
    try:
        q.require_period(url_period)
    except InvalidRequest:
        return PeriodChoice(periods.default, invalid_url_value=True)
    if url_period not in periods.available:
        return PeriodChoice(None, missing=True)
    return PeriodChoice(url_period)


def currency_totals(period: str) -> Query:
    """The chosen period's unblended total and line items per currency (one partition: what picks the currency)."""
    return q.period_totals(period, months=1)


def totals_per_currency(period_totals: pd.DataFrame) -> dict[str, float]:
    """{currency: unblended total} of one period from `currency_totals` (amounts of different currencies are never added)."""
    rows = period_totals[period_totals["line_items"] > 0]
    return dict(zip(rows["currency"], rows["unblended_cost"], strict=True))


def period_trend_query(periods: Periods) -> Query:
    """Every listed period's unblended total per currency: the period chart (the drill-down's top level only)."""
    return q.period_totals(*periods.span)


def period_trend(period_totals: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The period bars of one currency, from `period_trend_query`."""
    return period_totals[(period_totals["currency"] == currency) & (period_totals["line_items"] > 0)]


# --- the request ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CurRequest:
    """One billing period in one currency, on one cost basis: what every tab reads."""

    period: str
    basis: str
    currency: str

    def __post_init__(self) -> None:
        q.require_period(self.period)
        q.cost_basis_sql(self.basis)
        require_currency(self.currency)

    @property
    def cost_column(self) -> str:
        return q.COST_COLUMNS[self.basis]

    @property
    def basis_label(self) -> str:
        return q.COST_BASIS_LABELS[self.basis]

    def drill_path(self, url_values: dict[str, str | None]) -> q.DrillPath:
        """The drill path the URL names below the period (InvalidRequest for a malformed one)."""
        return q.DrillPath(self.period, **{name: url_values.get(name) for name in q.DRILL_PARAMS[1:]}, currency=self.currency)

    def summary(self) -> Query:
        return q.period_summary(self.period, self.currency)


# --- drill-down ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DrillLevel:
    rows: pd.DataFrame  # largest first by the basis; blanks instead of NA; `savings` vs public on-demand
    total_rows: int  # rows there would be without the query's cap
    chart_column: str | None  # what the chart shows: the basis, or what covered usage effectively cost; None: nothing positive
    table_columns: tuple[str, ...]


def drill_level(df: pd.DataFrame, level: str, basis: str) -> DrillLevel:
    """A drill level's rows (from `q.drill_level`) as the page shows them; labels are added by the view."""
    total_rows = int(df["total_rows"].iloc[0]) if not df.empty else 0
    cost = q.COST_COLUMNS[basis]
    df = df.drop(columns="total_rows")
    if level == "line_item":
        return DrillLevel(df, total_rows, None, tuple(df.columns))
    df = ca.with_blanks(df, ["account_name", "service", "usage_type", "operation", "resource_id"])
    df = df.sort_values(cost, ascending=False, ignore_index=True)
    df["savings"] = df["public_cost"] - df["amortized_cost"]
    chart: str | None = cost
    if not (df[cost] > 0).any():
        # RI-covered usage is $0 unblended, SP-covered usage nets to $0: chart what it effectively cost instead.
        chart = next((c for c in ("amortized_cost", "public_cost") if (df[c] > 0).any()), None)
    columns = (*LEVEL_KEY_COLUMNS[level], cost, *(c for c in q.COST_COLUMNS.values() if c != cost), "savings", "line_items")
    return DrillLevel(df, total_rows, chart, columns)


def line_items_shown(items: pd.DataFrame) -> pd.DataFrame:
    """Line items without the id column when the export has no ids."""
    return items.drop(columns=["line_item_id"]) if items["line_item_id"].isna().all() else items


def child_path(path: q.DrillPath, level: str, row: pd.Series) -> q.DrillPath:
    """The path one level down, into the chosen row."""
    if level == "account":
        return path.down(account=row["account_id"])
    if level == "service":
        return path.down(service=row["service"])
    if level == "usage":
        return path.down(usage_type=row["usage_type"], operation=row["operation"])
    return path.down(resource=row["resource_id"])


def breadcrumb(path: q.DrillPath, service_name) -> list[tuple[str, str]]:
    """(label, level it leads back to) for each step of the path; `service_name` names a product code."""
    crumbs = [(f"All accounts · {path.period}", "account")]
    if path.account is not None:
        crumbs.append((f"Account {path.account}", "service"))
    if path.service is not None:
        crumbs.append((service_name(path.service), "usage"))
    if path.usage_type is not None:
        crumbs.append((path.usage_type + (f" / {path.operation}" if path.operation else ""), "resource"))
    if path.resource is not None:
        crumbs.append((path.resource, "line_item"))
    return crumbs


# --- invoice -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Invoice:
    steps: pd.DataFrame  # the waterfall, to the total and then to the net total
    table: pd.DataFrame  # every basis per line item type, in waterfall order


def invoice(by_type: pd.DataFrame) -> Invoice:
    steps = ca.invoice_waterfall(by_type, "unblended_cost", net_column="net_cost")
    table = by_type.assign(step=by_type["line_item_type"].map(ca.waterfall_step)).sort_values(
        "step", key=lambda s: s.map(ca.WATERFALL_STEPS.index))
    return Invoice(steps, table[["step", "line_item_type", *q.COST_COLUMNS.values(), "line_items"]])


@dataclass(frozen=True)
class Reconciliation:
    table: pd.DataFrame  # per line item type, a Total row last
    cur_unblended: float
    billing_unblended: float
    unblended_difference: float  # rounded to the cent
    amortized_difference: float
    billing_empty: bool

    @property
    def agrees(self) -> bool:
        return max(abs(self.unblended_difference), abs(self.amortized_difference)) < ca.RECONCILE_TOLERANCE_USD


def reconciliation(by_type: pd.DataFrame, billing: pd.DataFrame) -> Reconciliation:
    table = ca.reconcile_with_billing(by_type, billing)
    total = table[table["line_item_type"] == ca.TOTAL_STEP].iloc[0]
    return Reconciliation(table, float(total["cur_unblended"]), float(total["billing_unblended"]),
                          round(float(total["unblended_difference"]), 2) + 0.0,
                          round(float(total["amortized_difference"]), 2) + 0.0, billing.empty)


# --- commitments ---------------------------------------------------------------------------------

def commitment_span(period: str) -> tuple[str, str]:
    """(first, last) period of the commitment trends."""
    return q.shift_period(period, -(COMMITMENT_TREND_MONTHS - 1)), period


@dataclass(frozen=True)
class Commitments:
    first_period: str
    coverage: dict[str, float]  # this period's coverage ratios and components (NaN ratios when nothing was eligible)
    utilization: dict[str, float]  # this period's utilization per commitment type ('RI', 'SP'), where any was bought
    daily: pd.DataFrame  # coverage per day over the trend
    monthly_utilization: pd.DataFrame
    trend: pd.DataFrame  # coverage and utilization per period
    by_account: pd.DataFrame
    by_family: pd.DataFrame
    utilization_table: pd.DataFrame  # this period, per commitment type, account and family
    uncovered: pd.DataFrame  # eligible on-demand spend per account, service (product code) and family


def commitments(period: str, daily: pd.DataFrame, utilization: pd.DataFrame, breakdown: pd.DataFrame) -> Commitments:
    """Coverage and utilization from the component sums of `q.coverage_by_day`, `q.commitment_utilization` and
    `q.coverage_by_account_family` (ratios are always computed from summed components, never averaged)."""
    daily = ca.with_coverage(daily)
    utilization = ca.with_blanks(utilization, ["account_name"])
    breakdown = ca.with_blanks(breakdown, ["account_name"])
    this_period = ca.coverage_by(daily[daily["billing_period"] == period].assign(p=period), ["p"]) if not daily.empty else None
    coverage = this_period.iloc[0].drop("p").to_dict() if this_period is not None and not this_period.empty else {}
    util_period = ca.utilization_by(utilization[utilization["billing_period"] == period], ["commitment_type"])
    monthly_util = ca.utilization_by(utilization, ["billing_period", "commitment_type"])
    monthly_cov = ca.coverage_by(daily, ["billing_period"]) if not daily.empty else daily
    trend = monthly_cov
    if not monthly_util.empty and not monthly_cov.empty:
        per_type = monthly_util.pivot_table(index="billing_period", columns="commitment_type", values="utilization")
        trend = monthly_cov.merge(per_type.add_suffix("_utilization").reset_index(), on="billing_period", how="outer")
    uncovered = (breakdown[breakdown["on_demand_cost"] > 0]
                 .groupby(["account_id", "account_name", "service", "instance_family"], as_index=False)["on_demand_cost"].sum()
                 .sort_values("on_demand_cost", ascending=False))
    return Commitments(
        first_period=commitment_span(period)[0],
        coverage=coverage,
        utilization=dict(zip(util_period["commitment_type"], util_period["utilization"], strict=True)),
        daily=daily,
        monthly_utilization=monthly_util,
        trend=trend,
        by_account=ca.coverage_by(breakdown, ["account_id", "account_name"]).sort_values("eligible_od_cost", ascending=False),
        by_family=ca.coverage_by(breakdown, ["instance_family"]).sort_values("eligible_od_cost", ascending=False),
        utilization_table=ca.utilization_by(utilization[utilization["billing_period"] == period],
                                            ["commitment_type", "account_id", "account_name", "family"]),
        uncovered=uncovered,
    )


@dataclass(frozen=True)
class Expiring:
    table: pd.DataFrame
    counts: dict[str, int]  # per bucket, every bucket present
    monthly_cost: dict[str, float]


def expiring(df: pd.DataFrame, today: dt.date) -> Expiring:
    """Commitments ending in the next 90 days, in 30-day buckets."""
    table = ca.with_expiry_buckets(df, today)
    counts, costs = {}, {}
    for bucket in EXPIRY_BUCKETS:
        rows = table[table["expires_in"] == bucket] if not table.empty else table
        counts[bucket] = int(rows["arn"].count()) if not rows.empty else 0
        costs[bucket] = float(rows["monthly_cost"].sum()) if not rows.empty else 0.0
    return Expiring(table, counts, costs)


# --- allocation ----------------------------------------------------------------------------------

def default_tag_key(keys: list[str]) -> str:
    return DEFAULT_TAG_KEY if DEFAULT_TAG_KEY in keys else keys[0]


@dataclass(frozen=True)
class Allocation:
    table: pd.DataFrame  # the chargeback, one row per tag value (and per shared cost when kept apart)
    period_total: float
    shared_total: float
    untagged_share: float
    values: int  # tag values that carry direct cost


def allocation(by_tag: pd.DataFrame, cost_column: str, shared: str) -> Allocation:
    table = ca.chargeback(by_tag, cost_column, shared)
    owned = by_tag["shared_cost"].fillna("") == ""
    return Allocation(table, float(by_tag[cost_column].sum()), float(by_tag.loc[~owned, cost_column].sum()),
                      ca.untagged_share(by_tag, cost_column),
                      int((table["direct_cost"] != 0).sum()) - int((table["tag_value"] == ca.UNTAGGED).any()))


# --- top resources and data transfer -------------------------------------------------------------

def top_resources_export(table: pd.DataFrame) -> pd.DataFrame:
    """The top resources as CSV cells: the daily trend as space-separated amounts."""
    return table.assign(trend=table["trend"].map(lambda t: " ".join(f"{v:.2f}" for v in t)))


@dataclass(frozen=True)
class Transfer:
    by_category: dict[str, float]  # every category, in the order shown
    by_service: pd.DataFrame  # product codes; the view names them
    by_account: pd.DataFrame  # by `account` (the view's label column)
    routes: pd.DataFrame  # inter-region, largest first


def transfer(df: pd.DataFrame) -> Transfer:
    """Data transfer pivots of `q.data_transfer` rows with an `account` label column (labels are vocabulary: the view's)."""
    sums = df.groupby("category")["unblended_cost"].sum()
    routes = (df[df["category"] == "Inter-region"].groupby(["from_region", "to_region"], as_index=False)[["unblended_cost", "usage_gb"]]
              .sum().sort_values("unblended_cost", ascending=False))
    return Transfer({c: float(sums.get(c, 0.0)) for c in ca.TRANSFER_CATEGORIES}, ca.transfer_by(df, "service"),
                    ca.transfer_by(df, "account"), routes)
