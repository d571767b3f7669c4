"""FOCUS 1.x (FinOps Open Cost and Usage Specification) -> daivi_cur.cur.

FOCUS files come from AWS, Azure, GCP and OCI alike (CSV or Parquet). Each row
becomes one CUR line item, keeping the provider in `bill_billing_entity`
(CUR's own "who bills this" column, 'AWS' for CUR rows) and the invoice
issuer in `line_item_legal_entity`. Cost bases:

- BilledCost    -> line_item_unblended_cost (also blended and net unblended:
                   FOCUS BilledCost already includes every negotiated discount)
- ListCost      -> pricing_public_on_demand_cost
- EffectiveCost -> effective_cost, the amortized basis of every row as the
                   file states it (`lakehouse.costs`), with or without a
                   commitment; also the RI/SP effective-cost column CUR keeps for
                   the row's line item type (reservation_effective_cost for
                   DiscountedUsage, savings_plan_savings_plan_effective_cost for
                   SavingsPlanCoveredUsage, the unused-fee columns for RIFee /
                   SavingsPlanRecurringFee), which the commitment views read.
- ChargeCategory (+ CommitmentDiscount*) -> line_item_line_item_type:
  Usage -> Usage | DiscountedUsage | SavingsPlanCoveredUsage (used commitment)
           | RIFee | SavingsPlanRecurringFee (unused commitment);
  Purchase -> Fee | RIFee | SavingsPlanRecurringFee | SavingsPlanUpfrontFee;
  Tax -> Tax; Credit -> Credit; Adjustment -> Refund (negative) or Fee.

Literal `NULL` strings are missing values; `Tags` is a JSON object whose keys
become `resource_tags` keys with CUR's `user_` prefix.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from daivi_data.ingest._sql import (
    as_double,
    as_utc_timestamp,
    as_varchar,
    bad_number,
    catalog_select,
    ident,
    json_tags_to_map,
    unique_map,
)
from daivi_data.ingest.cur2 import CUR_TABLE

NULL_STRINGS = ("", "NULL")
REQUIRED = ("BilledCost", "ChargePeriodStart", "ChargeCategory", "BillingCurrency", "ServiceName", "BillingPeriodStart")


def missing_required(types: dict[str, str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in types]
    if "ProviderName" not in types and "ServiceProviderName" not in types:
        missing.append("ProviderName")
    if "SubAccountId" not in types and "BillingAccountId" not in types:
        missing.append("SubAccountId")
    return missing


def build_select(reader: str, types: dict[str, str]) -> str:
    def col(name: str) -> str:
        return as_varchar(ident(name)) if name in types else "CAST(NULL AS VARCHAR)"

    def num(name: str) -> str:
        return as_double(ident(name), types[name]) if name in types else "CAST(NULL AS DOUBLE)"

    def ts(name: str) -> str:
        return as_utc_timestamp(ident(name), types[name]) if name in types else "CAST(NULL AS TIMESTAMP)"

    def first(*names: str) -> str:
        present = [col(n) for n in names if n in types]
        return f"COALESCE({', '.join(present)})" if present else "CAST(NULL AS VARCHAR)"

    provider = first("ServiceProviderName", "ProviderName")
    category = col("ChargeCategory")
    commitment = col("CommitmentDiscountId")
    ctype = first("CommitmentDiscountType", "CommitmentDiscountCategory")
    is_sp = f"(COALESCE({ctype}, '') ILIKE '%saving%')"
    unused = f"(COALESCE({col('CommitmentDiscountStatus')}, '') = 'Unused')"
    billed = num("BilledCost")
    effective = num("EffectiveCost") if "EffectiveCost" in types else billed
    line_type = f"""CASE {category}
        WHEN 'Usage' THEN CASE
            WHEN {commitment} IS NULL THEN 'Usage'
            WHEN {unused} THEN CASE WHEN {is_sp} THEN 'SavingsPlanRecurringFee' ELSE 'RIFee' END
            WHEN {is_sp} THEN 'SavingsPlanCoveredUsage' ELSE 'DiscountedUsage' END
        WHEN 'Purchase' THEN CASE
            WHEN {commitment} IS NULL THEN 'Fee'
            WHEN {is_sp} AND {col('ChargeFrequency')} = 'One-Time' THEN 'SavingsPlanUpfrontFee'
            WHEN {is_sp} THEN 'SavingsPlanRecurringFee'
            WHEN {col('ChargeFrequency')} = 'One-Time' THEN 'Fee'
            ELSE 'RIFee' END
        WHEN 'Tax' THEN 'Tax'
        WHEN 'Credit' THEN 'Credit'
        WHEN 'Adjustment' THEN CASE WHEN {billed} < 0 THEN 'Refund' ELSE 'Fee' END
        ELSE {category} END"""
    start, end = ts("ChargePeriodStart"), ts("ChargePeriodEnd")
    iso = "'%Y-%m-%dT%H:%M:%SZ'"
    service = first("x_ServiceCode", "ServiceName")
    pricing_term = f"CASE {col('PricingCategory')} WHEN 'Standard' THEN 'OnDemand' WHEN 'Dynamic' THEN 'Spot' ELSE {col('PricingCategory')} END"
    # The tag keys a provider sets itself keep their own prefix; the rest are the user's, as in CUR.
    prefix = "CASE WHEN lower(k) LIKE 'aws:%' THEN '' ELSE 'user_' END"
    if "Tags" not in types:
        tags = None
    elif types["Tags"].upper().startswith("MAP"):
        # Parquet exports may carry Tags as a map rather than JSON text.
        m = f"CAST({ident('Tags')} AS MAP(VARCHAR, VARCHAR))"
        tags = unique_map(f"list_transform(COALESCE(map_keys({m}), []::VARCHAR[]), lambda k: "
                          f"{{'key': ({prefix}) || regexp_replace(trim(k), '[^0-9A-Za-z]+', '_', 'g'), 'value': {m}[k]}})")
    else:
        tags = json_tags_to_map(ident("Tags"), prefix)
    exprs = {
        "identity_line_item_id": first("Id", "x_LineItemId") if ("Id" in types or "x_LineItemId" in types) else
        "md5(concat_ws('|', " + ", ".join(f"COALESCE(CAST({ident(c)} AS VARCHAR), '')" for c in types) + "))",
        "identity_time_interval": f"strftime({start}, {iso}) || '/' || strftime({end}, {iso})",
        "bill_invoice_id": col("InvoiceId"),
        "bill_billing_entity": provider,
        "bill_payer_account_id": col("BillingAccountId"),
        "bill_billing_period_start_date": ts("BillingPeriodStart"),
        "bill_billing_period_end_date": ts("BillingPeriodEnd"),
        "line_item_usage_account_id": first("SubAccountId", "BillingAccountId"),
        "line_item_usage_account_name": first("SubAccountName", "BillingAccountName"),
        "line_item_line_item_type": line_type,
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": end,
        "line_item_product_code": service,
        "line_item_usage_type": first("x_UsageType", "ConsumedUnit", "PricingUnit"),
        "line_item_operation": col("x_Operation"),
        "line_item_availability_zone": col("AvailabilityZone"),
        "line_item_resource_id": col("ResourceId"),
        "line_item_usage_amount": f"COALESCE({num('ConsumedQuantity')}, {num('PricingQuantity')})",
        "line_item_currency_code": f"upper({col('BillingCurrency')})",  # ISO 4217, as the views filter on it
        "line_item_unblended_rate": col("ContractedUnitPrice"),
        "line_item_unblended_cost": billed,
        "line_item_blended_cost": billed,
        "line_item_net_unblended_cost": billed,
        "line_item_line_item_description": col("ChargeDescription"),
        "line_item_legal_entity": first("InvoiceIssuerName", "PublisherName"),
        "product_servicecode": service,
        "product_product_family": col("ServiceCategory"),
        "product_region_code": first("RegionId", "Region"),
        "pricing_term": pricing_term,
        "pricing_unit": col("PricingUnit"),
        "pricing_public_on_demand_rate": col("ListUnitPrice"),
        "pricing_public_on_demand_cost": num("ListCost"),
        "reservation_reservation_a_r_n": f"CASE WHEN NOT {is_sp} THEN {commitment} END",
        "reservation_effective_cost": f"CASE WHEN {commitment} IS NOT NULL AND NOT {is_sp} AND NOT {unused} AND {category} = 'Usage' THEN {effective} ELSE 0 END",
        "reservation_unused_amortized_upfront_fee_for_billing_period": "CAST(0 AS DOUBLE)",
        "reservation_unused_recurring_fee": f"CASE WHEN {commitment} IS NOT NULL AND NOT {is_sp} AND ({unused} OR {category} = 'Purchase') THEN {effective} ELSE 0 END",
        "savings_plan_savings_plan_a_r_n": f"CASE WHEN {is_sp} THEN {commitment} END",
        "savings_plan_savings_plan_effective_cost": f"CASE WHEN {is_sp} AND NOT {unused} AND {category} = 'Usage' THEN {effective} ELSE 0 END",
        "savings_plan_total_commitment_to_date": f"CASE WHEN {is_sp} AND ({unused} OR {category} = 'Purchase') THEN {effective} ELSE 0 END",
        "savings_plan_used_commitment": "CAST(0 AS DOUBLE)",
        "savings_plan_offering_type": f"CASE WHEN {is_sp} THEN {col('CommitmentDiscountName')} END",
        "effective_cost": num("EffectiveCost"),
        "billing_period": f"strftime({ts('BillingPeriodStart')}, '%Y-%m')",
    }
    if tags:
        exprs["resource_tags"] = tags
    else:
        exprs["resource_tags"] = "CAST(MAP() AS MAP(VARCHAR, VARCHAR))"
    extra = {
        "_source_file": "filename",
        "_raw_start": col("ChargePeriodStart"),
        "_raw_cost": col("BilledCost"),
        "_bad_cost": bad_number(ident("BilledCost"), types["BilledCost"]),
        "_dup_key": "CAST(NULL AS VARCHAR)",
    }
    inner = f"SELECT\n  {catalog_select(CUR_TABLE, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_raw_start, _raw_cost, _bad_cost, _dup_key),
  CASE
    WHEN line_item_usage_start_date IS NULL THEN 'ChargePeriodStart is missing or not a timestamp'
    WHEN _bad_cost THEN 'BilledCost is not a number'
    WHEN line_item_usage_account_id IS NULL THEN 'SubAccountId and BillingAccountId are both empty'
    WHEN billing_period IS NULL THEN 'BillingPeriodStart is missing or not a timestamp'
  END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, 'ChargePeriodStart=' || COALESCE(_raw_start, '(empty)'),
            'BilledCost=' || COALESCE(_raw_cost, '(empty)')) AS _reject_detail,
  COALESCE(_dup_key, md5(concat_ws('|', identity_line_item_id, identity_time_interval, line_item_usage_account_id,
           line_item_resource_id, line_item_unblended_cost))) AS _dup_key
FROM ({inner})
"""
