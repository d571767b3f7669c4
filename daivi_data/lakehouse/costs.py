"""The cost bases of a CUR line item, as SQL over `daivi_cur.cur` columns: the one set of formulas.

The CUR view's queries, the billing derivation (`cost_daily`) and so the Cost
Explorer all read these; the semantics follow the CUR 2.0 user guide and the
CUDOS dashboards:

- unblended: `line_item_unblended_cost` as invoiced;
- amortized (effective): the export's own effective cost of the line item when
  it has one (`effective_cost`: FOCUS EffectiveCost, which a FOCUS file sets on
  every row, with or without a commitment); otherwise CUR's formula: usage
  covered by a Savings Plan at its SP effective cost, RI-covered usage at the
  reservation effective cost, unused RI/SP commitment on the fee lines, and the
  fee lines that amortization spreads (SP negation, SP/RI upfront fees) at zero;
- net: `line_item_net_unblended_cost` (after discounts), unblended where absent;
- public on-demand (list): what the usage would cost at public prices, without
  commitments (fee, negation and upfront lines at zero; tax, credits and
  refunds as charged).
"""

from __future__ import annotations

UNBLENDED_COST_SQL = "COALESCE(line_item_unblended_cost, 0)"
# CUR 2.0's amortized cost of a line item, from its RI and Savings Plan columns.
CUR_AMORTIZED_COST_SQL = """CASE line_item_line_item_type
      WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(savings_plan_savings_plan_effective_cost, 0)
      WHEN 'SavingsPlanRecurringFee' THEN COALESCE(savings_plan_total_commitment_to_date, 0) - COALESCE(savings_plan_used_commitment, 0)
      WHEN 'SavingsPlanNegation' THEN 0
      WHEN 'SavingsPlanUpfrontFee' THEN 0
      WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
      WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0) + COALESCE(reservation_unused_recurring_fee, 0)
      WHEN 'Fee' THEN CASE WHEN COALESCE(reservation_reservation_a_r_n, '') <> '' THEN 0 ELSE COALESCE(line_item_unblended_cost, 0) END
      ELSE COALESCE(line_item_unblended_cost, 0) END"""
AMORTIZED_COST_SQL = f"""COALESCE(effective_cost, {CUR_AMORTIZED_COST_SQL})"""
NET_COST_SQL = "COALESCE(line_item_net_unblended_cost, line_item_unblended_cost, 0)"
PUBLIC_COST_SQL = """CASE
      WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
        THEN COALESCE(pricing_public_on_demand_cost, line_item_unblended_cost, 0)
      WHEN line_item_line_item_type IN ('RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0
      WHEN line_item_line_item_type = 'Fee' AND COALESCE(reservation_reservation_a_r_n, '') <> '' THEN 0
      ELSE COALESCE(line_item_unblended_cost, 0) END"""

# `daivi_billing.cost_daily` cost column -> the line item formula it sums (the billing derivation's bases).
BILLING_COST_COLUMNS: dict[str, str] = {
    "unblended_cost": UNBLENDED_COST_SQL,
    "amortized_cost": AMORTIZED_COST_SQL,
    "net_unblended_cost": NET_COST_SQL,
}

# Which column of the source export each basis comes from, per export family (said on screen).
COST_BASIS_SOURCES: dict[str, dict[str, str]] = {
    "CUR": {
        "unblended": "line_item_unblended_cost",
        "amortized": "reservation_effective_cost / savings_plan_savings_plan_effective_cost on covered usage, "
                     "unused RI/SP fees, line_item_unblended_cost elsewhere",
        "net": "line_item_net_unblended_cost",
        "public": "pricing_public_on_demand_cost",
    },
    "FOCUS": {
        "unblended": "BilledCost",
        "amortized": "EffectiveCost",
        "net": "BilledCost",
        "public": "ListCost",
    },
}
