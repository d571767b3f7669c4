"""The four DAIVI lakehouses: databases, tables, columns, partitions.

This module is the data contract shared by the demo generator, the importers,
the named queries and the real Glue tables. Column types are Athena (Trino)
types. It is also the identifier allow-list: any table, column, dimension or
sort key that reaches SQL text must be looked up here first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daivi_data.errors import InvalidRequest


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    partition_keys: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise InvalidRequest(f"Unknown column {name!r} in table {self.name!r}.")


@dataclass(frozen=True)
class Lakehouse:
    key: str  # short, stable id used in settings, URLs and grants
    title: str
    default_database: str
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise InvalidRequest(f"Unknown table {name!r} in lakehouse {self.key!r}.")


def _cols(*specs: tuple[str, str] | tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


TAG_MAP = "map(varchar, varchar)"

BILLING = Lakehouse(
    key="billing",
    title="Billing",
    default_database="daivi_billing",
    tables=(
        Table(
            name="cost_daily",
            description="Daily AWS cost: one row per day x account x service x region x "
            "usage type x record type x cost allocation tag set.",
            columns=_cols(
                ("usage_date", "date", "Day of usage (UTC)."),
                ("account_id", "varchar", "12-digit linked account id."),
                ("service_code", "varchar", "AWS product code, e.g. AmazonEC2."),
                ("service_name", "varchar", "Service name as Cost Explorer shows it."),
                ("region", "varchar", "Region code, or 'global'."),
                ("usage_type", "varchar", "Usage type, e.g. USE1-BoxUsage:m5.large."),
                ("record_type", "varchar", "Line item type: Usage, Tax, Credit, Refund, ..."),
                ("unblended_cost", "double", "Cost at the rate charged on the day."),
                ("amortized_cost", "double", "Upfront and recurring RI/SP fees spread over usage."),
                ("net_unblended_cost", "double", "Unblended cost after discounts."),
                ("usage_quantity", "double", "Usage amount in the usage type's unit."),
                ("currency", "varchar", "ISO currency code."),
                ("tags", TAG_MAP, "Cost allocation tags (team, environment, cost_center, application)."),
                ("billing_period", "varchar", "Partition: 'YYYY-MM'."),
            ),
            partition_keys=("billing_period",),
        ),
        Table(
            name="accounts",
            description="Accounts of the organization with their OU and owner.",
            columns=_cols(
                ("account_id", "varchar"),
                ("account_name", "varchar"),
                ("ou", "varchar", "Organizational unit."),
                ("owner_email", "varchar"),
                ("environment", "varchar", "prod, staging, dev, sandbox, shared."),
            ),
        ),
        Table(
            name="budgets",
            description="Monthly budgets and their scope.",
            columns=_cols(
                ("budget_name", "varchar"),
                ("scope_type", "varchar", "account, ou, service or total."),
                ("scope_value", "varchar", "The account id, OU or service code; '' for total."),
                ("account_id", "varchar", "Account id for account budgets, else NULL."),
                ("monthly_limit", "double"),
                ("currency", "varchar"),
            ),
        ),
    ),
)

CUR = Lakehouse(
    key="cur",
    title="Billing CUR",
    default_database="daivi_cur",
    tables=(
        Table(
            name="cur",
            description="AWS Cost and Usage Report 2.0 line items (hourly/daily granularity).",
            columns=_cols(
                ("identity_line_item_id", "varchar"),
                ("identity_time_interval", "varchar"),
                ("bill_invoice_id", "varchar"),
                ("bill_billing_entity", "varchar"),
                ("bill_bill_type", "varchar"),
                ("bill_payer_account_id", "varchar"),
                ("bill_billing_period_start_date", "timestamp"),
                ("bill_billing_period_end_date", "timestamp"),
                ("line_item_usage_account_id", "varchar"),
                ("line_item_usage_account_name", "varchar"),
                ("line_item_line_item_type", "varchar"),
                ("line_item_usage_start_date", "timestamp"),
                ("line_item_usage_end_date", "timestamp"),
                ("line_item_product_code", "varchar"),
                ("line_item_usage_type", "varchar"),
                ("line_item_operation", "varchar"),
                ("line_item_availability_zone", "varchar"),
                ("line_item_resource_id", "varchar"),
                ("line_item_usage_amount", "double"),
                ("line_item_normalization_factor", "double"),
                ("line_item_normalized_usage_amount", "double"),
                ("line_item_currency_code", "varchar"),
                ("line_item_unblended_rate", "varchar"),
                ("line_item_unblended_cost", "double"),
                ("line_item_blended_cost", "double"),
                ("line_item_net_unblended_cost", "double"),
                ("line_item_line_item_description", "varchar"),
                ("line_item_legal_entity", "varchar"),
                ("product_servicecode", "varchar"),
                ("product_product_family", "varchar"),
                ("product_region_code", "varchar"),
                ("product_instance_type", "varchar"),
                ("product_instance_family", "varchar"),
                ("product_from_region_code", "varchar"),
                ("product_to_region_code", "varchar"),
                ("product_transfer_type", "varchar"),
                ("pricing_term", "varchar"),
                ("pricing_unit", "varchar"),
                ("pricing_public_on_demand_rate", "varchar"),
                ("pricing_public_on_demand_cost", "double"),
                ("reservation_reservation_a_r_n", "varchar"),
                ("reservation_effective_cost", "double"),
                ("reservation_amortized_upfront_fee_for_billing_period", "double"),
                ("reservation_unused_amortized_upfront_fee_for_billing_period", "double"),
                ("reservation_recurring_fee_for_usage", "double"),
                ("reservation_unused_recurring_fee", "double"),
                ("reservation_end_time", "varchar"),
                ("savings_plan_savings_plan_a_r_n", "varchar"),
                ("savings_plan_savings_plan_effective_cost", "double"),
                ("savings_plan_savings_plan_rate", "double"),
                ("savings_plan_used_commitment", "double"),
                ("savings_plan_total_commitment_to_date", "double"),
                ("savings_plan_recurring_commitment_for_billing_period", "double"),
                ("savings_plan_amortized_upfront_commitment_for_billing_period", "double"),
                ("savings_plan_offering_type", "varchar"),
                ("savings_plan_end_time", "varchar"),
                ("effective_cost", "double",
                 "The export's own effective (amortized) cost of the line item, when it has one (FOCUS EffectiveCost); "
                 "NULL for CUR exports, whose amortized cost is derived from the RI and Savings Plan columns."),
                ("resource_tags", TAG_MAP, "Tags; user-defined keys are prefixed 'user_'."),
                ("billing_period", "varchar", "Partition: 'YYYY-MM'."),
            ),
            partition_keys=("billing_period",),
        ),
    ),
)

INVENTORY = Lakehouse(
    key="inventory",
    title="Inventory",
    default_database="daivi_inventory",
    tables=(
        Table(
            name="resources",
            description="Daily snapshot of every AWS resource in the organization.",
            columns=_cols(
                ("account_id", "varchar"),
                ("region", "varchar"),
                ("resource_type", "varchar", "AWS Config type, e.g. AWS::EC2::Instance."),
                ("resource_id", "varchar", "Joins to CUR line_item_resource_id."),
                ("arn", "varchar"),
                ("resource_name", "varchar", "Name tag or hostname; joins to Splunk host."),
                ("state", "varchar", "running, stopped, available, in-use, ..."),
                ("created_at", "timestamp"),
                ("tags", TAG_MAP),
                ("instance_type", "varchar"),
                ("volume_type", "varchar"),
                ("size_gb", "double"),
                ("attached", "boolean", "Volume attached / EIP associated."),
                ("attached_to", "varchar"),
                ("encrypted", "boolean"),
                ("public", "boolean"),
                ("configuration", "varchar", "Raw AWS Config configuration JSON."),
                ("snapshot_date", "date", "Partition: day of the snapshot."),
            ),
            partition_keys=("snapshot_date",),
        ),
    ),
)

SPLUNK = Lakehouse(
    key="splunk",
    title="Splunk",
    default_database="daivi_splunk",
    tables=(
        Table(
            name="events",
            description="Log events exported from Splunk.",
            columns=_cols(
                ("event_time", "timestamp"),
                ("index_name", "varchar", "Splunk index (web, app, security)."),
                ("sourcetype", "varchar"),
                ("source", "varchar"),
                ("host", "varchar", "Joins to inventory resource_name."),
                ("account_id", "varchar", "Account of the host."),
                ("severity", "varchar", "DEBUG, INFO, WARN, ERROR, CRITICAL."),
                ("http_method", "varchar"),
                ("http_path", "varchar"),
                ("http_status", "integer"),
                ("bytes", "bigint"),
                ("duration_ms", "double"),
                ("user_name", "varchar"),
                ("client_ip", "varchar"),
                ("message", "varchar", "The raw event (_raw)."),
                ("event_date", "date", "Partition: day of event_time."),
            ),
            partition_keys=("event_date",),
        ),
    ),
)

LAKEHOUSES: dict[str, Lakehouse] = {lh.key: lh for lh in (BILLING, CUR, INVENTORY, SPLUNK)}


def lakehouse(key: str) -> Lakehouse:
    try:
        return LAKEHOUSES[key]
    except KeyError:
        raise InvalidRequest(f"Unknown lakehouse {key!r}.") from None


def require_identifier(value: str, allowed: dict[str, str] | tuple[str, ...], what: str) -> str:
    """Return the SQL for an identifier chosen by a user, or raise.

    `allowed` maps a public name to its SQL expression (or lists the names
    allowed verbatim). Nothing outside it ever reaches SQL text.
    """
    if isinstance(allowed, dict):
        if value in allowed:
            return allowed[value]
    elif value in allowed:
        return value
    names = ", ".join(sorted(allowed))
    raise InvalidRequest(f"{what} {value!r} is not one of: {names}.")
