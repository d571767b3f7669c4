"""The CUR view's pandas: coverage and utilization formulas on hand-made line items, the invoice
waterfall, reconciliation, chargeback, expiry buckets, inventory links and drill-path validation."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from daivi_data import cur_analysis as ca
from daivi_data.errors import InvalidRequest
from daivi_data.queries import cur as q

NAN = float("nan")


def line(kind: str, **values) -> dict:
    base = {"line_item_line_item_type": kind, "line_item_product_code": "AmazonEC2", "line_item_usage_type": "",
            "product_instance_type": "", "pricing_term": "", "pricing_public_on_demand_cost": NAN,
            "line_item_unblended_cost": 0.0}
    base.update(values)
    return base


def hand_made_usage() -> pd.DataFrame:
    return pd.DataFrame([
        # eligible and on demand: counts in the denominator only
        line("Usage", line_item_usage_type="USE1-BoxUsage:m5.large", product_instance_type="m5.large", pricing_term="OnDemand",
             pricing_public_on_demand_cost=10.0, line_item_unblended_cost=10.0),
        # covered by a reservation: unblended 0, public on-demand 20
        line("DiscountedUsage", line_item_usage_type="USE1-BoxUsage:m5.large", product_instance_type="m5.large",
             pricing_term="Reserved", pricing_public_on_demand_cost=20.0, reservation_effective_cost=12.0),
        # covered by a Savings Plan, and its negation (which must not count twice)
        line("SavingsPlanCoveredUsage", line_item_usage_type="USE1-BoxUsage:c5.large", product_instance_type="c5.large",
             pricing_public_on_demand_cost=30.0, line_item_unblended_cost=30.0),
        line("SavingsPlanNegation", line_item_usage_type="USE1-BoxUsage:c5.large", product_instance_type="c5.large",
             line_item_unblended_cost=-30.0),
        # not eligible: storage, spot, and a tax line
        line("Usage", line_item_usage_type="USE1-EBS:VolumeUsage.gp3", pricing_term="OnDemand",
             pricing_public_on_demand_cost=5.0, line_item_unblended_cost=5.0),
        line("Usage", line_item_usage_type="USE1-SpotUsage:m5.large", product_instance_type="m5.large", pricing_term="Spot",
             pricing_public_on_demand_cost=9.0, line_item_unblended_cost=3.0),
        line("Tax", line_item_unblended_cost=7.0),
        # eligible without an instance type: Fargate and Lambda duration (Compute Savings Plans cover them)
        line("Usage", line_item_product_code="AmazonECS", line_item_usage_type="USE1-Fargate-vCPU-Hours:perCPU",
             pricing_term="OnDemand", pricing_public_on_demand_cost=4.0, line_item_unblended_cost=4.0),
        line("Usage", line_item_product_code="AWSLambda", line_item_usage_type="USE1-Lambda-GB-Second",
             pricing_term="OnDemand", pricing_public_on_demand_cost=1.0, line_item_unblended_cost=1.0),
    ])


def test_coverage_components_of_hand_made_line_items():
    c = ca.coverage_components(hand_made_usage())
    assert c["ri_covered_od_cost"] == pytest.approx(20.0)
    assert c["sp_covered_od_cost"] == pytest.approx(30.0)
    assert c["on_demand_od_cost"] == pytest.approx(10.0 + 4.0 + 1.0)
    assert c["on_demand_cost"] == pytest.approx(15.0)


def test_coverage_is_covered_over_all_eligible_usage_at_public_prices():
    row = ca.with_coverage(ca.coverage_components(hand_made_usage()).to_frame().T).iloc[0]
    assert row["eligible_od_cost"] == pytest.approx(65.0)
    assert row["ri_coverage"] == pytest.approx(20 / 65)
    assert row["sp_coverage"] == pytest.approx(30 / 65)
    assert row["coverage"] == pytest.approx(50 / 65)


def test_sp_covered_usage_without_a_public_price_counts_at_its_unblended_on_demand_cost():
    items = pd.DataFrame([line("SavingsPlanCoveredUsage", product_instance_type="m5.large", line_item_unblended_cost=8.0)])
    assert ca.coverage_components(items)["sp_covered_od_cost"] == pytest.approx(8.0)


def test_coverage_is_nan_when_nothing_was_eligible_and_never_averaged_across_groups():
    df = pd.DataFrame({
        "g": ["a", "b", "c"],
        "ri_covered_od_cost": [90.0, 0.0, 0.0], "sp_covered_od_cost": [0.0, 0.0, 0.0],
        "on_demand_od_cost": [10.0, 10.0, 0.0], "on_demand_cost": [10.0, 10.0, 0.0],
    })
    per_group = ca.with_coverage(df).set_index("g")
    assert per_group.loc["a", "coverage"] == pytest.approx(0.9)
    assert per_group.loc["b", "coverage"] == 0.0
    assert np.isnan(per_group.loc["c", "coverage"])
    overall = ca.coverage_by(df.assign(all="x"), ["all"]).iloc[0]
    assert overall["coverage"] == pytest.approx(90 / 110)  # the mean of the ratios would say 0.45


def test_utilization_of_hand_made_fee_lines():
    items = pd.DataFrame([
        line("RIFee", line_item_unblended_cost=40.0, reservation_amortized_upfront_fee_for_billing_period=30.0,
             reservation_unused_amortized_upfront_fee_for_billing_period=3.0, reservation_unused_recurring_fee=4.0),
        line("RIFee", line_item_unblended_cost=10.0, reservation_amortized_upfront_fee_for_billing_period=0.0,
             reservation_unused_amortized_upfront_fee_for_billing_period=0.0, reservation_unused_recurring_fee=10.0),
        line("SavingsPlanRecurringFee", line_item_unblended_cost=20.0, savings_plan_total_commitment_to_date=24.0,
             savings_plan_used_commitment=18.0),
        line("SavingsPlanRecurringFee", line_item_unblended_cost=20.0, savings_plan_total_commitment_to_date=24.0,
             savings_plan_used_commitment=24.0),
        # usage lines carry no commitment: they must not dilute utilization
        line("DiscountedUsage", reservation_effective_cost=12.0, pricing_public_on_demand_cost=20.0),
        line("SavingsPlanCoveredUsage", savings_plan_savings_plan_effective_cost=18.0, line_item_unblended_cost=25.0),
    ])
    util = ca.with_utilization(ca.utilization_components(items)).set_index("commitment_type")
    assert util.loc["RI", "total_commitment"] == pytest.approx(80.0)
    assert util.loc["RI", "unused_commitment"] == pytest.approx(17.0)
    assert util.loc["RI", "utilization"] == pytest.approx(63 / 80)
    assert util.loc["SP", "total_commitment"] == pytest.approx(48.0)
    assert util.loc["SP", "utilization"] == pytest.approx(42 / 48)


def test_utilization_is_nan_without_commitments():
    util = ca.with_utilization(ca.utilization_components(pd.DataFrame([line("Usage", line_item_unblended_cost=3.0)])))
    assert util["utilization"].isna().all()


def by_type(**costs: float) -> pd.DataFrame:
    return pd.DataFrame({"line_item_type": list(costs), "unblended_cost": list(costs.values())})


def test_waterfall_steps_add_up_to_the_total_in_invoice_order():
    frame = by_type(Usage=1000.0, DiscountedUsage=0.0, SavingsPlanCoveredUsage=300.0, SavingsPlanNegation=-300.0,
                    SavingsPlanRecurringFee=220.0, RIFee=80.0, Credit=-50.0, Refund=-10.0, Tax=75.0, Fee=100.0,
                    EdpDiscount=-30.0)
    steps = ca.invoice_waterfall(frame)
    assert steps["step"].tolist() == ["Usage", "RI/SP fees", "SP negation", "Other fees", "Discounts", "Credits", "Refunds",
                                      "Tax", "Total"]
    relative = steps[steps["measure"] == "relative"]
    total = steps[steps["measure"] == "total"]["amount"].iloc[0]
    assert relative["amount"].sum() == pytest.approx(total) == pytest.approx(frame["unblended_cost"].sum())
    assert steps.set_index("step").loc["Usage", "amount"] == pytest.approx(1300.0)


def test_waterfall_of_an_empty_period_is_a_zero_total_and_unknown_types_are_other():
    assert ca.invoice_waterfall(by_type()).to_dict("records") == [{"step": "Total", "amount": 0.0, "measure": "total"}]
    steps = ca.invoice_waterfall(by_type(Usage=5.0, SomethingNew=2.0))
    assert steps["step"].tolist() == ["Usage", "Other", "Total"]


def test_reconciliation_shows_the_difference_per_line_item_type():
    cur = pd.DataFrame({"line_item_type": ["Usage", "Tax"], "unblended_cost": [100.0, 6.0], "amortized_cost": [90.0, 6.0]})
    billing = pd.DataFrame({"record_type": ["Usage", "Credit"], "unblended_cost": [99.0, -5.0], "amortized_cost": [90.0, -5.0]})
    rec = ca.reconcile_with_billing(cur, billing).set_index("line_item_type")
    assert rec.loc["Usage", "unblended_difference"] == pytest.approx(1.0)
    assert rec.loc["Tax", "billing_unblended"] == 0.0 and rec.loc["Credit", "cur_unblended"] == 0.0
    assert rec.loc["Total", "unblended_difference"] == pytest.approx(106.0 - 94.0)
    assert rec.loc["Total", "amortized_difference"] == pytest.approx(96.0 - 85.0)


def tag_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "tag_value": ["payments", "data", "", "payments", "", ""],
        "shared_cost": ["", "", "", "", "Tax", "Support"],
        "unblended_cost": [300.0, 100.0, 100.0, -20.0, 30.0, 50.0],
    })


@pytest.mark.parametrize("shared", [ca.SHARED_APART, ca.SHARED_PROPORTIONAL])
def test_chargeback_sums_to_the_period_total(shared):
    rows = tag_rows()
    table = ca.chargeback(rows, "unblended_cost", shared)
    assert table["total"].sum() == pytest.approx(rows["unblended_cost"].sum())
    assert set(table["tag_value"]) >= {"payments", "data", ca.UNTAGGED}


def test_chargeback_lists_shared_costs_apart_or_spreads_them_by_direct_cost():
    apart = ca.chargeback(tag_rows(), "unblended_cost", ca.SHARED_APART).set_index("tag_value")
    assert apart.loc["Shared: Tax", "total"] == 30.0 and apart.loc["Shared: Support", "total"] == 50.0
    assert apart.loc["payments", "total"] == pytest.approx(280.0)
    spread = ca.chargeback(tag_rows(), "unblended_cost", ca.SHARED_PROPORTIONAL).set_index("tag_value")
    assert "Shared: Tax" not in spread.index
    assert spread.loc["payments", "shared_cost"] == pytest.approx(80.0 * 280 / 480)
    assert ca.untagged_share(tag_rows(), "unblended_cost") == pytest.approx(100 / 480)


def test_chargeback_refuses_an_unknown_shared_mode():
    with pytest.raises(ValueError):
        ca.chargeback(tag_rows(), "unblended_cost", "ignore")


def test_expiry_buckets_by_days_left():
    today = dt.date(2026, 1, 1)
    ends = {0: "≤ 30 days", 30: "≤ 30 days", 31: "31–60 days", 60: "31–60 days", 61: "61–90 days", 90: "61–90 days", 91: "later"}
    df = pd.DataFrame({"end_date": [(today + dt.timedelta(days=d)).isoformat() for d in ends]})
    out = ca.with_expiry_buckets(df, today)
    assert out["days_left"].tolist() == list(ends)
    assert out["expires_in"].tolist() == list(ends.values())


@pytest.mark.parametrize("resource_id", [
    "i-0abc123", "arn:aws:s3:::bucket/key with space", "bucket-'quote\"-ü-日本", "a&resource=evil#frag?x=1"])
def test_inventory_link_encodes_the_whole_resource_id(resource_id):
    link = ca.inventory_link(resource_id)
    assert link.startswith("./inventory?resource=")
    value = link.split("=", 1)[1]
    assert not set(value) & set("&#?/:' \"=") and unquote(value) == resource_id


def test_top_resources_table_builds_a_daily_trend_and_week_change():
    days = pd.date_range("2026-01-01", periods=14, freq="D").date
    daily = pd.DataFrame({
        "cost_rank": 1, "resource_id": "i-1", "account_id": "411111111101", "service": "AmazonEC2", "region": "us-east-1",
        "usage_type": "BoxUsage", "cost": 21.0, "usage_date": days, "daily_cost": [1.0] * 7 + [2.0] * 7,
    }).drop(index=3)  # a day without cost shows as zero in the trend
    table = ca.top_resources_table(daily)
    row = table.iloc[0]
    assert len(row["trend"]) == 14 and row["trend"][3] == 0.0
    assert row["week_change"] == pytest.approx((2.0 - 6 / 7) / (6 / 7))
    assert row["inventory"] == "./inventory?resource=i-1"


def test_top_n_with_others_keeps_the_total():
    df = pd.DataFrame({"k": list("abcdef"), "v": [6.0, 5, 4, 3, 2, 1]})
    out = ca.top_n_with_others(df, "k", "v", 3)
    assert out["k"].tolist() == ["a", "b", "c", "Others (3)"] and out["v"].sum() == df["v"].sum()


def test_tag_key_label_strips_the_cur_user_prefix():
    assert ca.tag_key_label("user_cost_center") == "cost_center (user_cost_center)"
    assert ca.tag_key_label("aws:createdBy") == "aws:createdBy"


def test_transfer_pivot_has_every_category_and_a_total():
    df = pd.DataFrame({"category": ["Inter-AZ", "Internet egress", "Inter-AZ"], "service": ["AmazonEC2", "AmazonS3", "AmazonEC2"],
                       "unblended_cost": [1.0, 2.0, 3.0]})
    out = ca.transfer_by(df, "service").set_index("service")
    assert list(out.columns) == [*ca.TRANSFER_CATEGORIES, "total"]
    assert out.loc["AmazonEC2", "Inter-AZ"] == 4.0 and out.loc["AmazonEC2", "total"] == 4.0


# --- the typed request: bad input gets a message naming the field ---------------------------------

@pytest.mark.parametrize("period", ["2026-13", "26-01", "2026-1", "abc", "2026-01; DROP TABLE x", ""])
def test_bad_billing_periods_are_refused(period):
    with pytest.raises(InvalidRequest, match="Billing period"):
        q.DrillPath(period)


def test_drill_path_levels_and_steps_back():
    path = q.DrillPath("2026-01", account="411111111101", service="AmazonEC2", usage_type="USE1-BoxUsage:m5.large",
                       operation="RunInstances", resource="i-1")
    assert path.level == "line_item"
    assert path.up_to("resource").level == "resource" and path.up_to("resource").operation == "RunInstances"
    assert path.up_to("usage") == q.DrillPath("2026-01", account="411111111101", service="AmazonEC2")
    assert path.up_to("account") == q.DrillPath("2026-01")
    assert q.DrillPath("2026-01").down(account="411111111101").level == "service"


@pytest.mark.parametrize("values, message", [
    ({"account": "4111"}, "12-digit"),
    ({"account": "41111111110x"}, "12-digit"),
    ({"service": "AmazonEC2"}, "after the account"),
    ({"account": "411111111101", "usage_type": "X"}, "after the service"),
    ({"account": "411111111101", "service": "S", "usage_type": "U", "resource": "r" * 1025}, "at most 1024"),
    ({"account": "411111111101", "service": "S", "usage_type": "U", "resource": "i-1\n2"}, "control characters"),
    ({"account": "411111111101", "service": ""}, "Service is empty"),
])
def test_bad_drill_paths_are_refused_with_a_message(values, message):
    with pytest.raises(InvalidRequest, match=message):
        q.DrillPath("2026-01", **values)


def test_resource_ids_with_quotes_and_unicode_are_valid_drill_values():
    path = q.DrillPath("2026-01", account="411111111101", service="AmazonS3", usage_type="U", resource="bucket-'quote\"-ü-日本")
    assert path.url_params()["resource"] == "bucket-'quote\"-ü-日本"


def test_tag_keys_with_spaces_are_values_but_not_too_long():
    assert q.require_tag_key("user_cost center") == "user_cost center"
    with pytest.raises(InvalidRequest, match="at most 128"):
        q.require_tag_key("k" * 129)
    with pytest.raises(InvalidRequest, match="Tag key is empty"):
        q.require_tag_key("")


def test_shift_period_crosses_years():
    assert q.shift_period("2026-01", -1) == "2025-12"
    assert q.shift_period("2026-11", -23) == "2024-12"
    assert q.shift_period("2025-12", 1) == "2026-01"


def test_waterfall_continues_to_the_net_total_with_the_discounts_only_net_cost_carries():
    frame = by_type(Usage=1000.0, Tax=60.0, Credit=-10.0).assign(net_cost=[970.0, 60.0, -10.0])
    steps = ca.invoice_waterfall(frame, "unblended_cost", net_column="net_cost")
    assert steps["step"].tolist() == ["Usage", "Credits", "Tax", "Total", ca.NET_DISCOUNT_STEP, ca.NET_TOTAL_STEP]
    assert steps["measure"].tolist() == ["relative", "relative", "relative", "total", "relative", "total"]
    by_step = steps.set_index("step")["amount"]
    assert by_step[ca.NET_DISCOUNT_STEP] == pytest.approx(-30.0) and by_step[ca.NET_TOTAL_STEP] == pytest.approx(1020.0)
    # No net-only discount: no extra steps.
    same = ca.invoice_waterfall(frame.assign(net_cost=frame["unblended_cost"]), "unblended_cost", net_column="net_cost")
    assert same["step"].iloc[-1] == "Total"


def test_chargeback_treats_missing_values_like_empty_ones():
    """Athena's CSV results turn '' into NA: the untagged and direct rows must not drop out of the total."""
    rows = tag_rows()
    athena = rows.assign(tag_value=rows["tag_value"].replace("", pd.NA), shared_cost=rows["shared_cost"].replace("", pd.NA))
    table = ca.chargeback(athena, "unblended_cost")
    assert table["total"].sum() == pytest.approx(rows["unblended_cost"].sum())
    assert table.set_index("tag_value").loc[ca.UNTAGGED, "total"] == pytest.approx(100.0)
    assert ca.untagged_share(athena, "unblended_cost") == pytest.approx(100 / 480)
