"""The tools' input types and result models: what the MCP SDK turns into each tool's input and output JSON schema.

Inputs are bounded here (lengths, ranges, allow-listed literals) so a call that
asks for too much is refused by the schema before any query is built. Every
result extends `ToolResult` (caller, stats, notes); a result with amounts says their
currency, and amounts of two currencies are never added.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from daivi_data import cur_analysis as cura
from daivi_data.mcp.results import CURRENCY, MAX_OFFSET, MAX_PAGE_ROWS, Page, ToolResult
from daivi_data.queries import billing as bq
from daivi_data.queries import inventory as iq
from daivi_data.queries import splunk as sq

Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="First row to return (0-based), for paging.")]
Limit = Annotated[int, Field(ge=1, le=MAX_PAGE_ROWS, description=f"Rows to return at most (1-{MAX_PAGE_ROWS}).")]
Basis = Literal["unblended", "amortized", "net_unblended"]
DimensionKey = Annotated[str, Field(
    max_length=140, description="service, account, ou, region, usage_type, record_type, or tag:<tag key> (e.g. tag:team).")]
StartDate = Annotated[dt.date | None, Field(description="First day (UTC), inclusive. Default: 30 days before the data's last day.")]
EndDate = Annotated[dt.date | None, Field(description="Last day (UTC), inclusive. Default: the data's last complete day.")]
LogRange = Literal["15m", "1h", "4h", "24h", "7d"]
Snapshot = Annotated[dt.date | None, Field(description="Inventory snapshot day; default the latest.")]
ShortTexts = Annotated[tuple[Annotated[str, Field(max_length=128)], ...], Field(max_length=500, description="Any of these values.")]
AccountIds = Annotated[tuple[Annotated[str, Field(pattern=r"^\d{12}$")], ...], Field(max_length=500, description="12-digit account ids.")]
SearchColumns = tuple[Literal[tuple(iq.SEARCH_COLUMNS)], ...]  # type: ignore[valid-type,misc]  # Literal of the allow-list, built at import
EventColumns = tuple[Literal[sq.EVENT_COLUMNS], ...]  # type: ignore[valid-type]
Currency = Annotated[str | None, Field(pattern=r"^[A-Z]{3}$", description=(
    "ISO 4217 code of the amounts to show (costs in different currencies are never added). Default: the currency "
    "with the most cost in scope."))]
Period = Annotated[str | None, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Billing period YYYY-MM; default the latest.")]
Search = Annotated[str, Field(max_length=2_000, description=(
    "The Logs view's search language: words and \"phrases\" in the message, field=value (host, status, severity, "
    "index, sourcetype, method, path, user, ...), !=, <, >, * wildcards, AND/OR/NOT and parentheses. Empty = every event."))]


class CostFilterIn(BaseModel):
    """Keep (or drop) cost whose `dimension` value is one of `values` (exact match, plain text)."""

    dimension: DimensionKey
    values: list[Annotated[str, Field(max_length=bq.MAX_FILTER_VALUE_CHARS)]] = Field(max_length=bq.MAX_FILTER_VALUES)
    exclude: bool = False


# --- results ------------------------------------------------------------------------------------

class TableColumn(BaseModel):
    name: str
    type: str
    description: str
    partition_key: bool


class CatalogTable(BaseModel):
    table: str = Field(description="database.table, as SQL names it.")
    description: str
    partition_keys: list[str]
    latest_partition: str | None
    row_filtered: bool = Field(description="True when the caller's grants show only some of the rows.")
    columns: list[TableColumn] = Field(description="Only the columns the caller may read.")


class CatalogDatabase(BaseModel):
    lakehouse: str
    title: str
    database: str
    tables: list[CatalogTable]


class CatalogResult(ToolResult):
    databases: list[CatalogDatabase]


class InOneCurrency(ToolResult):
    """Amounts of one currency only: the data may hold several, which are never added."""

    currency: str = Field(description="ISO 4217 code every amount of this result is in.")
    currencies: list[str] = Field(description="Every currency in scope, most cost first; ask again with `currency` for another.")


class CostRange(InOneCurrency):
    basis: str
    start: dt.date
    end: dt.date
    compare_start: dt.date
    compare_end: dt.date
    data_through: dt.date = Field(description="The last day with cost data (ranges are clamped to it).")


class CostByDimension(CostRange):
    group_by: str
    total: float = Field(description="Cost of the range, in `currency`.")
    previous_total: float = Field(description="Cost of the comparison period, in `currency`.")
    change_pct: float | None = Field(description="(total - previous_total) / previous_total, as a fraction; null without a previous cost.")
    groups: list[dict[str, Any]] = Field(
        description="group, cost, share (fraction of total), previous, change (in `currency`), change_pct (fraction).")
    page: Page


class Driver(BaseModel):
    driver: str
    current: float
    previous: float
    change: float


class Mover(BaseModel):
    group: str
    current: float
    previous: float
    change: float
    change_pct: float | None
    contribution_pp: float | None = Field(description="Percentage points of the total % change this group accounts for.")
    drivers: list[Driver] = Field(description="The values of `driver_by` within this group that moved the same way most.")


class CostChanges(CostRange):
    group_by: str
    driver_by: str
    total: float
    previous_total: float
    total_change: float
    change_pct: float | None
    increases: list[Mover]
    decreases: list[Mover]


class ForecastOut(BaseModel):
    period: str
    period_start: dt.date
    period_end: dt.date
    actual_to_date: float
    forecast_remaining: float
    forecast_total: float
    low: float
    high: float
    level: float = Field(description="Probability that the period's total falls between low and high.")


class CostForecast(InOneCurrency):
    basis: str
    data_through: dt.date
    method: str
    month: ForecastOut | None = Field(description="Null when there are fewer than 14 days of history.")
    quarter: ForecastOut | None


class Anomaly(BaseModel):
    group: str
    first_day: dt.date
    last_day: dt.date
    days: int
    direction: str = Field(description="spike or drop")
    cost: float
    expected: float
    impact: float = Field(description="cost - expected, in the result's currency.")
    score: float = Field(description="Robust z-score of the peak day (scaled MADs from the weekday baseline).")
    drivers: list[dict[str, Any]] = Field(
        description="driver_dim (account/region/usage_type), driver, event_cost, expected, change (in `currency`).")


class CostAnomalies(InOneCurrency):
    basis: str
    by: str
    detect_start: dt.date
    end: dt.date
    method: str
    anomalies: list[Anomaly]
    page: Page


class CurDrill(InOneCurrency):
    period: str
    level: str = Field(description="account, service, usage, resource or line_item: what the rows list.")
    rows: list[dict[str, Any]] = Field(description=(
        "Per row: the level's keys, unblended_cost, amortized_cost, net_cost, public_cost (public on-demand price) "
        "in `currency` and line_items; at the line_item level one row per CUR line item."))
    total_rows: int = Field(description="Rows at this level in all; the query returns the largest 1,000.")
    page: Page


class InvoiceReconciliation(InOneCurrency):
    period: str
    waterfall: list[dict[str, Any]] = Field(description="step, amount (in `currency`), measure (relative = a step, total = the sum).")
    reconciliation: list[dict[str, Any]] = Field(description=(
        "Per line item type (and Total): CUR vs billing lakehouse unblended and amortized cost and their differences, in `currency`."))
    balanced: bool = Field(description=f"True when every difference is below {cura.RECONCILE_TOLERANCE_USD} (a cent).")


class InventorySearch(ToolResult):
    snapshot: dt.date
    resources: list[dict[str, Any]]
    page: Page


class ResourceDetail(ToolResult):
    currency: str = Field(CURRENCY, description="The currency of cost_30d and daily_cost (amounts of others are never added).")
    currencies: list[str] = Field(default_factory=list, description="Every currency the resource's cost is in, most cost first.")
    snapshot: dt.date
    found: bool
    attributes: dict[str, Any] = Field(description="Every inventory attribute of the resource on the snapshot.")
    tags: dict[str, str]
    configuration: str | None = Field(description="Raw AWS Config JSON, when the caller's grants include it.")
    cost_30d: float | None = Field(
        description="CUR unblended cost over the 30 days ending with the snapshot, in `currency`; null without CUR access.")
    daily_cost: list[dict[str, Any]] = Field(description="usage_date, line_item_type, currency, cost (in `currency`).")
    event_counts: list[dict[str, Any]] = Field(description="severity, events over 7 days: the host's logs, when readable.")
    recent_events: list[dict[str, Any]] = Field(description="The host's latest log events (at most 50), when readable.")


class WasteFindings(ToolResult):
    currency: str = Field(CURRENCY, description="The currency of every cost and saving (cost in others is left out, never added).")
    currencies: list[str] = Field(default_factory=list, description="Every currency the waste's cost is in, most cost first.")
    snapshot: dt.date
    with_cost: bool = Field(description="False when the caller may not read the CUR: costs are then null, never guessed.")
    total_monthly_savings: float | None
    summary: list[dict[str, Any]] = Field(
        description="category, category_label, resources, monthly_cost, monthly_savings (`currency` per month).")
    findings: list[dict[str, Any]] = Field(description=(
        "category, resource_id, resource_type, account_id, region, resource_name, reason, monthly_cost, "
        "savings_fraction, monthly_savings (`currency` per month)."))
    page: Page


class LogsWindow(ToolResult):
    start: dt.datetime = Field(description="UTC, inclusive.")
    end: dt.datetime = Field(description="UTC, exclusive.")
    search: str


class LogsSearch(LogsWindow):
    events: list[dict[str, Any]] = Field(description="Matching events, newest first.")
    total_events: int
    page: Page


class LogsStats(LogsWindow):
    stat: str
    of_field: str
    by_field: str
    rows: list[dict[str, Any]] = Field(description="value (of by_field), events, stat.")


class LogsErrorRate(LogsWindow):
    bucket_s: int
    events: int
    http_events: int
    server_errors: int
    error_events: int
    server_error_share: float | None = Field(description="5xx responses / HTTP events over the window, a fraction.")
    error_share: float | None = Field(description="ERROR and CRITICAL events / all events, a fraction.")
    buckets: list[dict[str, Any]] = Field(description=(
        "bucket (start, UTC), events, http_events, server_errors, error_events, server_error_share, error_share."))


class SqlResult(ToolResult):
    sql: str = Field(description="The SQL as it ran (Athena dialect, row limit applied).")
    tables: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="True when the result had more rows than row_limit.")
    warnings: list[str]


