"""Pure pandas behind the CUR view: invoice waterfall, reconciliation, RI/SP coverage and
utilization, chargeback, top resources and data transfer summaries.

No Streamlit and no SQL here. The query builders in `daivi_data.queries.cur`
return per-group sums of cost *components*; the ratios the page shows are
computed from those sums here, so a coverage of 80 % always means the same
formula whatever the grouping. `coverage_components` and
`utilization_components` apply the same classification to raw line items:
they are the reference the SQL is tested against, and what the unit tests
exercise on hand-made line items.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import numpy as np
import pandas as pd

# --- invoice waterfall ------------------------------------------------------------------------

# Line item type -> invoice step, in the order the waterfall shows them.
WATERFALL_STEPS: tuple[str, ...] = (
    "Usage", "RI/SP fees", "SP negation", "Other fees", "Discounts", "Credits", "Refunds", "Tax", "Other",
)
_STEP_OF_TYPE = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "RIFee": "RI/SP fees",
    "SavingsPlanRecurringFee": "RI/SP fees",
    "SavingsPlanUpfrontFee": "RI/SP fees",
    "SavingsPlanNegation": "SP negation",
    "Fee": "Other fees",
    "EdpDiscount": "Discounts",
    "BundledDiscount": "Discounts",
    "PrivateRateDiscount": "Discounts",
    "DistributorDiscount": "Discounts",
    "Discount": "Discounts",
    "Credit": "Credits",
    "Refund": "Refunds",
    "Tax": "Tax",
}
TOTAL_STEP = "Total"
RECONCILE_TOLERANCE_USD = 0.01  # differences below a cent are rounding, not a discrepancy


def waterfall_step(line_item_type: str) -> str:
    return _STEP_OF_TYPE.get(line_item_type, "Other")


NET_DISCOUNT_STEP = "Discounts in net cost"
NET_TOTAL_STEP = "Net total"


def invoice_waterfall(by_type: pd.DataFrame, cost_column: str = "unblended_cost", net_column: str | None = None) -> pd.DataFrame:
    """Steps (step, amount, measure) from usage to the total: one 'relative' row per non-empty step, then the total.

    `by_type` has `line_item_type` and `cost_column`. The total is the plain sum of
    the line items, so the steps always add up to it. With `net_column`, the
    discounts that only the net cost carries (EDP, private pricing) follow as one
    more step, down to the net total.
    """
    if by_type.empty:
        return pd.DataFrame({"step": [TOTAL_STEP], "amount": [0.0], "measure": ["total"]})
    steps = (
        by_type.assign(step=by_type["line_item_type"].map(waterfall_step))
        .groupby("step", as_index=False)[cost_column].sum()
        .rename(columns={cost_column: "amount"})
    )
    steps["order"] = steps["step"].map(WATERFALL_STEPS.index)
    steps = steps[steps["amount"].round(2) != 0].sort_values("order").drop(columns="order")
    steps["measure"] = "relative"
    total = float(by_type[cost_column].sum())
    rows = [steps, pd.DataFrame({"step": [TOTAL_STEP], "amount": [total], "measure": ["total"]})]
    if net_column is not None:
        net = float(by_type[net_column].sum())
        if round(net - total, 2) != 0:
            rows.append(pd.DataFrame({"step": [NET_DISCOUNT_STEP, NET_TOTAL_STEP], "amount": [net - total, net],
                                      "measure": ["relative", "total"]}))
    return pd.concat(rows, ignore_index=True)


def reconcile_with_billing(cur_by_type: pd.DataFrame, billing_by_type: pd.DataFrame) -> pd.DataFrame:
    """Per line item type: CUR vs billing lakehouse unblended and amortized cost, and the differences; a 'Total' row last."""
    cur = cur_by_type.rename(columns={"unblended_cost": "cur_unblended", "amortized_cost": "cur_amortized"})[
        ["line_item_type", "cur_unblended", "cur_amortized"]]
    billing = billing_by_type.rename(columns={
        "record_type": "line_item_type", "unblended_cost": "billing_unblended", "amortized_cost": "billing_amortized"})[
        ["line_item_type", "billing_unblended", "billing_amortized"]]
    out = cur.merge(billing, on="line_item_type", how="outer").fillna(0.0).sort_values("line_item_type")
    total = out.drop(columns="line_item_type").sum().to_frame().T
    total.insert(0, "line_item_type", TOTAL_STEP)
    out = pd.concat([out, total], ignore_index=True)
    # Float sums of the same line items differ in the last bits; round that noise away (and -0.0 with it).
    out["unblended_difference"] = (out["cur_unblended"] - out["billing_unblended"]).round(6) + 0.0
    out["amortized_difference"] = (out["cur_amortized"] - out["billing_amortized"]).round(6) + 0.0
    return out[["line_item_type", "cur_unblended", "billing_unblended", "unblended_difference",
                "cur_amortized", "billing_amortized", "amortized_difference"]]


# --- commitments: coverage and utilization ----------------------------------------------------

COVERAGE_COMPONENTS = ("ri_covered_od_cost", "sp_covered_od_cost", "on_demand_od_cost", "on_demand_cost")
UTILIZATION_COMPONENTS = ("total_commitment", "unused_commitment")


def _col(items: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    if name in items:
        return items[name]
    return pd.Series(default, index=items.index)


def eligible_on_demand_mask(items: pd.DataFrame) -> pd.Series:
    """Usage billed on demand that an RI or Savings Plan could have covered (the SQL's ELIGIBLE_ON_DEMAND_SQL)."""
    usage_type = _col(items, "line_item_usage_type").fillna("")
    instance = _col(items, "product_instance_type").fillna("") != ""
    fargate = usage_type.str.contains("Fargate-vCPU-Hours", regex=False) | usage_type.str.contains("Fargate-GB-Hours", regex=False)
    lam = (_col(items, "line_item_product_code") == "AWSLambda") & usage_type.str.contains("Lambda-GB-Second", regex=False)
    return (items["line_item_line_item_type"] == "Usage") & (_col(items, "pricing_term") == "OnDemand") & (instance | fargate | lam)


def coverage_components(items: pd.DataFrame) -> pd.Series:
    """Covered and uncovered eligible usage of raw CUR line items, in public on-demand dollars.

    RI-covered usage (DiscountedUsage) and SP-covered usage (SavingsPlanCoveredUsage) count
    at their public on-demand cost; eligible on-demand usage at its public cost too
    (`on_demand_od_cost`) and at what was paid (`on_demand_cost`).
    """
    kind = items["line_item_line_item_type"]
    public = _col(items, "pricing_public_on_demand_cost", np.nan).astype(float)
    unblended = _col(items, "line_item_unblended_cost", 0.0).astype(float).fillna(0.0)
    eligible = eligible_on_demand_mask(items)
    return pd.Series({
        "ri_covered_od_cost": float(public.fillna(0.0)[kind == "DiscountedUsage"].sum()),
        "sp_covered_od_cost": float(public.fillna(unblended)[kind == "SavingsPlanCoveredUsage"].sum()),
        "on_demand_od_cost": float(public.fillna(unblended)[eligible].sum()),
        "on_demand_cost": float(unblended[eligible].sum()),
    })


def with_coverage(df: pd.DataFrame) -> pd.DataFrame:
    """Add eligible_od_cost and RI, SP and total coverage (fractions; NaN where nothing was eligible).

    coverage = covered usage / all eligible usage, both at public on-demand prices,
    as Cost Explorer's coverage reports define it.
    """
    out = df.copy()
    out["eligible_od_cost"] = out["ri_covered_od_cost"] + out["sp_covered_od_cost"] + out["on_demand_od_cost"]
    denominator = out["eligible_od_cost"].where(out["eligible_od_cost"] > 0)
    out["ri_coverage"] = out["ri_covered_od_cost"] / denominator
    out["sp_coverage"] = out["sp_covered_od_cost"] / denominator
    out["coverage"] = (out["ri_covered_od_cost"] + out["sp_covered_od_cost"]) / denominator
    return out


def coverage_by(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum the coverage components by `keys`, then add the coverage ratios (never average ratios)."""
    grouped = df.groupby(keys, as_index=False, dropna=False)[list(COVERAGE_COMPONENTS)].sum()
    return with_coverage(grouped)


def utilization_components(items: pd.DataFrame) -> pd.DataFrame:
    """Commitment bought and unused per commitment type ('RI', 'SP') from raw line items.

    SP: every SavingsPlanRecurringFee line carries the commitment of its interval
    (`savings_plan_total_commitment_to_date`) and the part that covered usage
    (`savings_plan_used_commitment`). RI: the RIFee line carries the amortized
    upfront fee plus the recurring fee (its unblended cost), and the unused part of each.
    """
    def num(name: str) -> pd.Series:
        return _col(items, name, 0.0).astype(float).fillna(0.0)

    kind = items["line_item_line_item_type"]
    ri, sp = kind == "RIFee", kind == "SavingsPlanRecurringFee"
    ri_total = num("reservation_amortized_upfront_fee_for_billing_period") + num("line_item_unblended_cost")
    ri_unused = num("reservation_unused_amortized_upfront_fee_for_billing_period") + num("reservation_unused_recurring_fee")
    sp_total = num("savings_plan_total_commitment_to_date")
    sp_unused = sp_total - num("savings_plan_used_commitment")
    return pd.DataFrame({
        "commitment_type": ["RI", "SP"],
        "total_commitment": [float(ri_total[ri].sum()), float(sp_total[sp].sum())],
        "unused_commitment": [float(ri_unused[ri].sum()), float(sp_unused[sp].sum())],
    })


def with_utilization(df: pd.DataFrame) -> pd.DataFrame:
    """Add used_commitment and utilization = used / total commitment (NaN where nothing was committed)."""
    out = df.copy()
    out["used_commitment"] = out["total_commitment"] - out["unused_commitment"]
    out["utilization"] = out["used_commitment"] / out["total_commitment"].where(out["total_commitment"] > 0)
    return out


def utilization_by(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = df.groupby(keys, as_index=False, dropna=False)[list(UTILIZATION_COMPONENTS)].sum()
    return with_utilization(grouped)


EXPIRY_BUCKETS_DAYS = (30, 60, 90)


def with_expiry_buckets(df: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Add days_left and the bucket ('≤ 30 days', '31–60 days', '61–90 days') of each commitment's end date."""
    out = df.copy()
    end = pd.to_datetime(out["end_date"], errors="coerce").dt.date
    out["days_left"] = [(e - today).days if isinstance(e, dt.date) else None for e in end]
    labels = []
    for days in out["days_left"]:
        label = "later"
        lower = 0
        for upper in EXPIRY_BUCKETS_DAYS:
            if days is not None and lower <= days <= upper:
                label = f"≤ {upper} days" if lower == 0 else f"{lower + 1}–{upper} days"
                break
            lower = upper
        labels.append(label)
    out["expires_in"] = labels
    return out


# --- allocation -------------------------------------------------------------------------------

UNTAGGED = "(untagged)"


def with_blanks(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`df` with missing values in text `columns` as ''.

    Athena's CSV results (through awswrangler) come back with '' as NA; DuckDB keeps
    ''. Grouping must treat both alike, or the NA rows silently drop out of a total.
    """
    return df.assign(**{c: df[c].astype(object).where(df[c].notna(), "") for c in columns if c in df})
SHARED_APART = "apart"
SHARED_PROPORTIONAL = "proportional"


def chargeback(by_tag: pd.DataFrame, cost_column: str = "unblended_cost", shared: str = SHARED_APART) -> pd.DataFrame:
    """One row per tag value (untagged included) whose `total` column sums to the period total.

    `by_tag` has tag_value ('' = untagged), shared_cost ('' or 'Tax'/'Support') and
    `cost_column`. Shared costs are either listed apart, one row each
    ('Shared: Tax'), or spread over the values in proportion to their direct cost.
    """
    if shared not in (SHARED_APART, SHARED_PROPORTIONAL):
        raise ValueError(f"shared must be {SHARED_APART!r} or {SHARED_PROPORTIONAL!r}")
    by_tag = with_blanks(by_tag, ["tag_value", "shared_cost"])
    direct = by_tag[by_tag["shared_cost"] == ""]
    values = direct.assign(tag_value=direct["tag_value"].replace("", UNTAGGED)).groupby("tag_value", as_index=False)[cost_column].sum()
    values = values.rename(columns={cost_column: "direct_cost"}).sort_values("direct_cost", ascending=False, ignore_index=True)
    shared_rows = by_tag[by_tag["shared_cost"] != ""].groupby("shared_cost", as_index=False)[cost_column].sum()
    direct_total = float(values["direct_cost"].sum())
    values["share_of_direct"] = values["direct_cost"] / direct_total if direct_total else np.nan
    if shared == SHARED_PROPORTIONAL and direct_total:
        shared_total = float(shared_rows[cost_column].sum())
        values["shared_cost"] = values["share_of_direct"] * shared_total
        values["total"] = values["direct_cost"] + values["shared_cost"]
        return values
    values["shared_cost"] = 0.0
    values["total"] = values["direct_cost"]
    apart = pd.DataFrame({
        "tag_value": "Shared: " + shared_rows["shared_cost"],
        "direct_cost": 0.0,
        "share_of_direct": np.nan,
        "shared_cost": shared_rows[cost_column].astype(float),
        "total": shared_rows[cost_column].astype(float),
    })
    return pd.concat([values, apart], ignore_index=True) if not apart.empty else values


def untagged_share(by_tag: pd.DataFrame, cost_column: str = "unblended_cost") -> float:
    """Share of the direct (non-shared) cost that carries no value for the tag key (NaN if there is none)."""
    by_tag = with_blanks(by_tag, ["tag_value", "shared_cost"])
    direct = by_tag[by_tag["shared_cost"] == ""]
    total = float(direct[cost_column].sum())
    return float(direct.loc[direct["tag_value"] == "", cost_column].sum()) / total if total else float("nan")


def tag_key_label(key: str) -> str:
    """'user_cost_center' -> 'cost_center (user_cost_center)': CUR 2.0 prefixes user tags with 'user_'."""
    return f"{key[5:]} ({key})" if key.startswith("user_") and len(key) > 5 else key


# --- drill levels, top resources, data transfer ------------------------------------------------


def top_n_with_others(df: pd.DataFrame, label: str, value: str, n: int = 20, others: str = "Others") -> pd.DataFrame:
    """The n largest rows by `value` and one row summing the rest (for a readable chart)."""
    ordered = df.sort_values(value, ascending=False)
    head = ordered.head(n)[[label, value]]
    rest = ordered.iloc[n:]
    if rest.empty:
        return head.reset_index(drop=True)
    extra = pd.DataFrame({label: [f"{others} ({len(rest)})"], value: [float(rest[value].sum())]})
    return pd.concat([head, extra], ignore_index=True)


def inventory_link(resource_id: str) -> str:
    """The Inventory view's URL of a resource; the id is URL-encoded whole (ARNs carry ':' and '/')."""
    return f"./inventory?resource={quote(str(resource_id), safe='')}"


TREND_WINDOW_DAYS = 7


def top_resources_table(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per resource (rank order) with its daily costs as a list, the change of its last week and its inventory link."""
    columns = ["cost_rank", "resource_id", "account_id", "service", "region", "usage_type", "cost"]
    if daily.empty:
        return pd.DataFrame(columns=[*columns, "trend", "week_change", "inventory"])
    days = pd.date_range(daily["usage_date"].min(), daily["usage_date"].max(), freq="D")
    # One pivot for all resources (a per-resource loop costs ~10 ms each on every rerun).
    grid = (daily.assign(usage_date=pd.to_datetime(daily["usage_date"]))
            .pivot_table(index="cost_rank", columns="usage_date", values="daily_cost", aggfunc="sum", fill_value=0.0)
            .reindex(columns=days, fill_value=0.0))
    values = grid.to_numpy(dtype=float)
    last = values[:, -TREND_WINDOW_DAYS:].mean(axis=1)
    if values.shape[1] >= 2 * TREND_WINDOW_DAYS:
        before = values[:, -2 * TREND_WINDOW_DAYS:-TREND_WINDOW_DAYS].mean(axis=1)
        change = np.where(before > 0, (last - before) / np.where(before > 0, before, 1.0), np.nan)
    else:
        change = np.full(len(values), np.nan)
    out = daily.drop_duplicates("cost_rank").set_index("cost_rank").loc[grid.index].reset_index()[columns]
    out["cost_rank"] = out["cost_rank"].astype(int)
    out["cost"] = out["cost"].astype(float)
    out["trend"] = [[round(v, 4) for v in row] for row in values.tolist()]
    out["week_change"] = change
    out["inventory"] = [inventory_link(r) for r in out["resource_id"]]
    return out.sort_values("cost_rank", ignore_index=True)


TRANSFER_CATEGORIES = ("Inter-region", "Internet egress", "Inter-AZ", "Other transfer")


def transfer_by(df: pd.DataFrame, index: str) -> pd.DataFrame:
    """Data transfer cost pivoted: one row per `index` value, one column per category, and a total (largest first)."""
    if df.empty:
        return pd.DataFrame(columns=[index, *TRANSFER_CATEGORIES, "total"])
    pivot = df.pivot_table(index=index, columns="category", values="unblended_cost", aggfunc="sum", fill_value=0.0)
    pivot = pivot.reindex(columns=list(TRANSFER_CATEGORIES), fill_value=0.0)
    pivot["total"] = pivot.sum(axis=1)
    return pivot.sort_values("total", ascending=False).reset_index()
