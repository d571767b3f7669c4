"""CUR 2.0 line items of the demo organization, one billing period at a time.

Numbers are computed with numpy (one array element per line item), strings are
joined and formatted by DuckDB, which writes the Parquet partition.

Daily granularity: one line per component (resource x usage type, or account
x usage type for usage without a resource) per day, `line_item_usage_start_date`
at 00:00 UTC and the end one day later.

Semantics (CUR 2.0), kept consistent with `billing.cost_daily`:

- `Usage`: on-demand usage. unblended = usage x on-demand rate,
  net_unblended = unblended x (1 - 3% EDP discount).
- `DiscountedUsage`: usage covered by a reserved instance. unblended = 0,
  `reservation_effective_cost` = hours x (amortized upfront + recurring rate).
- `SavingsPlanCoveredUsage`: usage covered by a Compute Savings Plan.
  unblended = on-demand cost, `savings_plan_savings_plan_effective_cost` =
  usage x savings plan rate. Each has a `SavingsPlanNegation` line with
  unblended = -on-demand cost (usage amount 0), so covered usage nets to zero
  unblended in the using account and the plan's cost appears as its fee.
- `SavingsPlanRecurringFee`: one line per plan per day in the management
  account: unblended = recurring commitment of the day,
  `savings_plan_total_commitment_to_date` = commitment of the day (recurring +
  amortized upfront), `savings_plan_used_commitment` = effective cost of the
  usage it covered that day.
- `RIFee`: one line per reservation per day (a simplification of AWS's monthly
  line, so that utilization is visible per day): unblended = recurring fee of
  the day, with the unused amortized upfront and unused recurring fee of the day.
- `Credit` (negative): promotional / migration credits for some accounts and
  services, per day. `Refund` (negative): a few one-off SLA refunds.
- `Tax`: per account x product code per billing period, dated on the first of
  the month (as Cost Explorer shows it), on month-to-date charges (6%).
- `Fee`: AWS Support (Business) per billing period in the management account,
  dated on the first of the month, on the month's charges.

Amortized cost (see `billing.AMORTIZED_SQL`): Usage -> unblended;
SavingsPlanCoveredUsage -> savings plan effective cost; SavingsPlanNegation -> 0;
SavingsPlanRecurringFee -> unused commitment (total - used); DiscountedUsage ->
reservation effective cost; RIFee -> unused amortized upfront + unused recurring
fee; everything else -> unblended. Blended cost equals unblended.

Savings plans are applied each day to eligible usage (EC2 instances, Fargate,
Lambda duration, not covered by a reservation) in order of highest discount,
until the day's commitment is used up; a line is covered whole or not at all.
Reserved instances cover, each day, the first `count` running instances of
their exact usage type and operation anywhere in the organization.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa

from daivi_data.demo import pricing as P
from daivi_data.demo.ahead import Ahead
from daivi_data.demo.fleet import (
    DAYS_PER_MONTH,
    GROWTH_PER_MONTH,
    Q_HOURS,
    Q_MONTHLY,
    Fleet,
    day_date,
    epoch_day,
    expected_daily_cost,
)
from daivi_data.demo.org import ACCOUNTS, ACCOUNTS_BY_NAME, PAYER_ACCOUNT_ID

EDP_DISCOUNT = 0.03
TAX_RATE = 0.06
LINE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation",
              "SavingsPlanRecurringFee", "RIFee", "Tax", "Credit", "Refund", "Fee")
LT = {name: i for i, name in enumerate(LINE_TYPES)}
PRICING_TERM = ("OnDemand", "Reserved", "OnDemand", "OnDemand", "", "Reserved", "", "", "", "")

# (account, product code, start days before end, end days before end, share credited, description)
CREDITS: tuple[tuple[str, str, int, int, float, str], ...] = (
    ("data-ml-prod", "AmazonSageMaker", 210, 30, 0.25, "EDP Promotional Credit - SageMaker adoption"),
    ("retail-catalog-prod", "AmazonEC2", 300, -30, 0.15, "MAP 2.0 Migration Acceleration Program credit"),
    ("sandbox-ml-lab", "AmazonSageMaker", 100, -30, 1.0, "AWS Cloud Credit for Research"),
)
# (days before end, account, product code, region, share of a normal day, description)
REFUNDS: tuple[tuple[int, str, str, str, float, str], ...] = (
    (12, "retail-web-prod", "AmazonEC2", "us-east-1", 0.5, "Refund: SLA credit for impaired EC2 instances in use1-az4"),
    (75, "payments-prod", "AmazonRDS", "us-east-1", 0.8, "Refund: Amazon RDS Multi-AZ SLA credit"),
    (160, "data-lake-prod", "AmazonS3", "us-east-1", 0.3, "Refund: duplicate S3 Glacier retrieval charges"),
    (250, "platform-ci", "AmazonEC2", "us-east-1", 0.4, "Refund: EC2 capacity reservation billed in error"),
    (330, "retail-catalog-prod", "AmazonCloudWatch", "us-east-1", 0.6, "Refund: CloudWatch Logs ingestion billing issue"),
)

_INSTANCE_CATEGORY = {"t": "General purpose", "m": "General purpose", "c": "Compute optimized",
                      "r": "Memory optimized", "g": "GPU instance", "p": "GPU instance", "i": "Storage optimized"}

FACT_SCHEMA = pa.schema([
    ("rn", pa.int64()), ("ci", pa.int32()), ("day", pa.date32()), ("span", pa.int16()), ("lt", pa.int8()),
    ("qty", pa.float64()), ("unblended", pa.float64()), ("net", pa.float64()), ("od_cost", pa.float64()),
    ("sp", pa.int16()), ("sp_rate", pa.float64()), ("sp_eff", pa.float64()), ("sp_total", pa.float64()),
    ("sp_used", pa.float64()), ("sp_recurring", pa.float64()), ("sp_upfront", pa.float64()),
    ("ri", pa.int16()), ("ri_eff", pa.float64()), ("ri_recurring_usage", pa.float64()),
    ("ri_upfront_bp", pa.float64()), ("ri_unused_upfront", pa.float64()), ("ri_unused_recurring", pa.float64()),
])
_NUMERIC = [f.name for f in FACT_SCHEMA if f.name not in ("rn", "ci", "day", "span", "lt", "sp", "ri")]


def _category(itype: str) -> str:
    fam = P.instance_family(itype) if itype else ""
    return _INSTANCE_CATEGORY.get(fam[:1], "") if fam else ""


class CurGenerator:
    """Expands the fleet's components into daily line items, month by month."""

    def __init__(self, fleet: Fleet, seed: int, start_day: int) -> None:
        self.fleet = fleet
        self.seed = seed
        self.start_day = start_day
        self.end = fleet.end
        comps = fleet.comps
        self.n_comps = len(comps)
        self.acct = comps["acct"].to_numpy(np.int32)
        self.product = comps["product"].to_numpy()
        products = list(P.PRODUCT_CODES)
        self.pidx = np.array([products.index(p) for p in self.product], dtype=np.int32)
        self.start = comps["start"].to_numpy(float)
        self.stop = comps["end"].to_numpy(float)
        self.qmodel = comps["qmodel"].to_numpy(np.int8)
        self.units = comps["units"].to_numpy(float)
        self.asg = comps["asg"].to_numpy(bool)
        self.weekend = comps["weekend"].to_numpy(float)
        self.grow = comps["grow"].to_numpy(bool)
        self.sigma = comps["sigma"].to_numpy(float)
        self.rate = comps["rate"].to_numpy(float)
        self.sp_ok = comps["sp_ok"].to_numpy(bool)
        self.sp_disc = comps["sp_disc"].to_numpy(float)
        self.region = comps["region"].to_numpy()
        # Step changes apply to usage that is not instance hours.
        self.step_from = np.full(self.n_comps, np.inf)
        self.step_factor = np.ones(self.n_comps)
        for s in fleet.steps:
            if s["service_code"] == "AmazonEC2":
                continue  # EC2 steps happen through the fleet (instances removed or added)
            a = [a.account_id for a in ACCOUNTS].index(s["account_id"])
            m = (self.acct == a) & (self.product == s["service_code"]) & (self.qmodel != Q_HOURS)
            self.step_from[m] = epoch_day(s["date"])
            self.step_factor[m] = s["factor"]
        self.extra = fleet.incident_extra
        # Reservations: component -> reservation index.
        self.ris = fleet.reservations
        self.sps = fleet.savings_plans
        key = comps["ri_key"].to_numpy()
        self.ri_of = np.full(self.n_comps, -1, dtype=np.int16)
        for r in self.ris:
            self.ri_of[key == r["key"]] = r["idx"]
        self.lines = self._pseudo_lines(comps)
        self._ahead: Ahead[pa.Table] | None = None

    # ------------------------------------------------------------------ dimension of line item strings
    def _pseudo_lines(self, comps: pd.DataFrame) -> pd.DataFrame:
        """Components plus pseudo-components for fee, tax, credit, refund lines: one string row per `ci`."""
        base = comps[["ci", "acct", "product", "usage_type", "operation", "region", "az", "resource_id", "family",
                      "itype", "norm", "from_region", "to_region", "transfer_type", "unit", "rate_str", "desc",
                      "servicecode", "sku", "tag_team", "tag_env", "tag_cc", "tag_app"]].copy()
        base["icategory"] = [_category(t) for t in base["itype"]]
        base["ri_label"] = np.where(base["product"] == "AmazonRDS", "PostgreSQL", "Linux/UNIX (Amazon VPC)")
        extra = []
        n = len(base)
        payer = [a.account_id for a in ACCOUNTS].index(PAYER_ACCOUNT_ID)

        def row(**kw) -> None:
            nonlocal n
            r = {"ci": n, "acct": payer, "product": "", "usage_type": "", "operation": "", "region": "", "az": "",
                 "resource_id": "", "family": "", "itype": "", "norm": 0.0, "from_region": "", "to_region": "",
                 "transfer_type": "", "unit": "", "rate_str": "", "desc": "", "servicecode": "", "sku": "",
                 "tag_team": None, "tag_env": None, "tag_cc": None, "tag_app": None, "icategory": "",
                 "ri_label": ""}
            r.update(kw)
            r["servicecode"] = r["servicecode"] or r["product"]
            extra.append(r)
            n += 1
            return n - 1

        self.sp_ci = [row(product="ComputeSavingsPlans", usage_type=s["usage_type"], resource_id=s["arn"],
                          family="Savings Plan", unit="Hrs", rate_str=f"{s['commitment'] * (1 - s['upfront_share']):.10f}",
                          desc=s["description"], acct=s["acct"]) for s in self.sps]
        self.ri_ci = [row(product=r["product"], usage_type=r["fee_usage_type"], operation=r["operation"],
                          region=r["region"], family="Compute Instance" if r["product"] == "AmazonEC2" else
                          "Database Instance", itype=r["instance_type"], icategory=_category(r["instance_type"]),
                          norm=P.normalization_factor(r["instance_type"]), unit="Hrs",
                          rate_str=f"{r['recurring_rate']:.10f}",
                          desc=f"USD {r['recurring_rate']:.4f} hourly fee per "
                               f"{'PostgreSQL' if r['product'] == 'AmazonRDS' else 'Linux/UNIX (Amazon VPC)'}, "
                               f"{r['instance_type']} instance", acct=r["acct"]) for r in self.ris]
        products = list(P.PRODUCT_CODES)
        self.tax_base = n
        for a in range(len(ACCOUNTS)):
            for p in products:
                row(product=p, acct=a, desc=f"Tax for product code {p}", family="")
        self.credit_ci: dict[tuple[int, str], int] = {}
        for k, (name, product, *_rest, desc) in enumerate(CREDITS):
            a = ACCOUNTS.index(ACCOUNTS_BY_NAME[name])
            for region in sorted(set(self.region[(self.acct == a) & (self.product == product)])):
                self.credit_ci[(k, region)] = row(product=product, acct=a, region=region, desc=desc)
        self.refund_ci = [row(product=product, acct=ACCOUNTS.index(ACCOUNTS_BY_NAME[name]), region=region,
                              desc=desc) for _d, name, product, region, _f, desc in REFUNDS]
        self.support_ci = row(product="AWSSupportBusiness", usage_type="Dollar", unit="Dollar",
                              desc="AWS Support (Business)")
        lines = pd.concat([base, pd.DataFrame(extra)], ignore_index=True)
        self.line_acct = lines["acct"].to_numpy(np.int32)
        self.line_pidx = np.array([products.index(p) if p in products else -1 for p in lines["product"]],
                                  dtype=np.int32)
        return lines

    # ------------------------------------------------------------------ one billing period
    def month_facts(self, first: int, last: int) -> pa.Table:
        """Fact rows (numbers only) for days first..last (epoch days, inclusive) of one month; the following
        month's are computed in the background meanwhile (a build asks for the months in turn)."""
        if self._ahead is None:
            self._ahead = Ahead(self._month_facts, self._next_month)
        return self._ahead(first, last)

    def _next_month(self, args: tuple[int, int]) -> tuple[int, int] | None:
        first = args[1] + 1
        if first > self.end:
            return None
        month = day_date(first)
        return first, min(self.end, first + calendar.monthrange(month.year, month.month)[1] - 1)

    def _month_facts(self, first: int, last: int) -> pa.Table:
        month = day_date(first)
        rng = np.random.default_rng([self.seed, 2, month.year, month.month])
        days = np.arange(first, last + 1)
        nd = len(days)
        alive = (self.start[:, None] < days[None, :] + 1) & (self.stop[:, None] > days[None, :])
        di, ci = np.nonzero(alive.T)  # day-major, then component order
        d = days[di]
        ov = np.minimum(self.stop[ci], d + 1) - np.maximum(self.start[ci], d)
        dow = (d + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        weekend = dow >= 5
        growth = (1 + GROWTH_PER_MONTH) ** ((d - self.end) / DAYS_PER_MONTH)
        month_len = calendar.monthrange(month.year, month.month)[1]
        qm = self.qmodel[ci]
        units = self.units[ci]
        wk = np.where(weekend, self.weekend[ci], 1.0)
        grow = np.where(self.grow[ci], growth, 1.0)
        sigma = self.sigma[ci]
        noise = np.exp(sigma * rng.standard_normal(len(ci)) - 0.5 * sigma * sigma)
        q = np.where(
            qm == Q_HOURS, 24.0 * units * ov * np.where(self.asg[ci], wk, 1.0),
            np.where(qm == Q_MONTHLY, units * ov / month_len * grow, units * ov * wk * grow * noise),
        )
        q = q * np.where(d >= self.step_from[ci], self.step_factor[ci], 1.0)
        for c, day, extra in self.extra:
            hit = np.flatnonzero((ci == c) & (d == day))
            q[hit] += extra
        q = np.round(q, 8)
        od = q * self.rate[ci]

        # Reserved instances.
        ri_row = np.full(len(ci), -1, dtype=np.int16)
        ri_id = self.ri_of[ci]
        fee_rows: list[dict] = []
        for r in self.ris:
            m = (ri_id == r["idx"]) & (d >= r["start"]) & (d < r["end"])
            active = (days >= r["start"]) & (days < r["end"])
            if not active.any():
                continue
            idx = np.flatnonzero(m)
            used = np.zeros(nd)
            if len(idx):
                rank = _rank_within(d[idx])
                cov = idx[rank < r["count"]]
                ri_row[cov] = r["idx"]
                used = np.bincount(di[cov], weights=q[cov], minlength=nd)
            cap = r["count"] * 24.0
            unused = np.maximum(0.0, cap - used)
            for j in np.flatnonzero(active):
                fee_rows.append({
                    "ci": self.ri_ci[r["idx"]], "day": days[j], "lt": LT["RIFee"], "qty": cap,
                    "unblended": r["recurring_rate"] * cap, "net": r["recurring_rate"] * cap, "ri": r["idx"],
                    "ri_upfront_bp": r["upfront_rate"] * cap, "ri_unused_upfront": r["upfront_rate"] * unused[j],
                    "ri_unused_recurring": r["recurring_rate"] * unused[j],
                })
        ri_cov = ri_row >= 0
        ri_rates = {r["idx"]: (r["upfront_rate"], r["recurring_rate"]) for r in self.ris}
        up = np.zeros(len(ci))
        rec = np.zeros(len(ci))
        for k, (u, rr) in ri_rates.items():
            mk = ri_row == k
            up[mk] = u
            rec[mk] = rr

        # Savings plans.
        sp_row = np.full(len(ci), -1, dtype=np.int16)
        caps = np.zeros((len(self.sps), nd))
        for s in self.sps:
            caps[s["idx"]] = np.where((days >= s["start"]) & (days < s["end"]), s["commitment"] * 24.0, 0.0)
        disc = self.sp_disc[ci]
        sp_cost = od * (1 - disc)
        elig = np.flatnonzero(self.sp_ok[ci] & ~ri_cov & (od > 0))
        used_sp = np.zeros((len(self.sps), nd))
        if len(elig) and len(self.sps):
            order = np.lexsort((ci[elig], -disc[elig], di[elig]))
            e = elig[order]
            for s in range(len(self.sps)):  # fill each plan in turn with what the previous ones left
                cs = _cumsum_within(di[e], sp_cost[e])
                fits = cs <= caps[s, di[e]] + 1e-9
                sel = e[fits]
                sp_row[sel] = s
                used_sp[s] = np.bincount(di[sel], weights=sp_cost[sel], minlength=nd)
                e = e[~fits]
        sp_cov = sp_row >= 0
        for s in self.sps:
            for j in np.flatnonzero(caps[s["idx"]] > 0):
                total = caps[s["idx"], j]
                recurring = total * (1 - s["upfront_share"])
                fee_rows.append({
                    "ci": self.sp_ci[s["idx"]], "day": days[j], "lt": LT["SavingsPlanRecurringFee"], "qty": 24.0,
                    "unblended": recurring, "net": recurring, "sp": s["idx"], "sp_total": total,
                    "sp_used": used_sp[s["idx"], j], "sp_recurring": recurring, "sp_upfront": total - recurring,
                })

        # Usage-like rows.
        lt = np.where(ri_cov, LT["DiscountedUsage"], np.where(sp_cov, LT["SavingsPlanCoveredUsage"], LT["Usage"]))
        unblended = np.where(ri_cov, 0.0, od)
        n = len(ci)
        z = np.zeros(n)
        cols = {
            "ci": ci, "day": d, "lt": lt, "qty": q, "unblended": unblended, "net": unblended * (1 - EDP_DISCOUNT),
            "od_cost": od, "sp": sp_row, "sp_rate": np.where(sp_cov, self.rate[ci] * (1 - disc), 0.0),
            "sp_eff": np.where(sp_cov, sp_cost, 0.0), "sp_total": z, "sp_used": z, "sp_recurring": z,
            "sp_upfront": z, "ri": ri_row, "ri_eff": np.where(ri_cov, q * (up + rec), 0.0),
            "ri_recurring_usage": np.where(ri_cov, q * rec, 0.0), "ri_upfront_bp": z, "ri_unused_upfront": z,
            "ri_unused_recurring": z,
        }
        parts = [cols]
        neg = np.flatnonzero(sp_cov)
        if len(neg):
            parts.append({
                "ci": ci[neg], "day": d[neg], "lt": np.full(len(neg), LT["SavingsPlanNegation"]),
                "qty": np.zeros(len(neg)), "unblended": -od[neg], "net": -od[neg] * (1 - EDP_DISCOUNT),
                "sp": sp_row[neg],
            })
        if fee_rows:
            parts.append(_records(fee_rows))
        # Credits: a share of the day's on-demand charges of the account x service, per region.
        for (k, region), cid in self.credit_ci.items():
            name, product, from_off, to_off, share, _desc = CREDITS[k]
            a = ACCOUNTS.index(ACCOUNTS_BY_NAME[name])
            lo, hi = self.end - from_off, self.end - to_off
            m = (self.acct[ci] == a) & (self.product[ci] == product) & (self.region[ci] == region) & \
                (d >= lo) & (d < hi)
            if not m.any():
                continue
            per_day = np.bincount(di[m], weights=unblended[m], minlength=nd)
            j = np.flatnonzero(per_day > 0)
            amount = -np.round(per_day[j] * share, 6)
            parts.append({"ci": np.full(len(j), cid), "day": days[j], "lt": np.full(len(j), LT["Credit"]),
                          "unblended": amount, "net": amount})
        for i, (off, name, product, _region, share, _desc) in enumerate(REFUNDS):
            day = self.end - off
            if not first <= day <= last:
                continue
            a = ACCOUNTS.index(ACCOUNTS_BY_NAME[name])
            m = (self.acct == a) & (self.product == product)
            normal = float(expected_daily_cost(self.fleet.comps[m], day).sum()) if m.any() else 0.0
            amount = -round(max(50.0, share * normal), 2)
            parts.append({"ci": np.array([self.refund_ci[i]]), "day": np.array([day]),
                          "lt": np.array([LT["Refund"]]), "unblended": np.array([amount]),
                          "net": np.array([amount])})
        fact = _concat(parts)
        # Tax (per account x product) and support fee, on the first day of the month, for the whole month.
        acct = self.line_acct[fact["ci"]]
        pidx = self.line_pidx[fact["ci"]]
        key = acct * len(P.PRODUCT_CODES) + pidx
        charged = np.bincount(key, weights=fact["unblended"], minlength=len(ACCOUNTS) * len(P.PRODUCT_CODES))
        taxable = np.flatnonzero(charged > 0.005)
        tax = np.round(charged[taxable] * TAX_RATE, 6)
        month_first = epoch_day(month)
        gross = float(fact["unblended"][np.isin(fact["lt"], [0, 1, 2, 3, 4, 5])].sum())
        support = _business_support(gross)
        tail = {
            "ci": np.r_[self.tax_base + taxable, self.support_ci],
            "day": np.full(len(taxable) + 1, month_first),
            "lt": np.r_[np.full(len(taxable), LT["Tax"]), LT["Fee"]],
            "unblended": np.r_[tax, support], "net": np.r_[tax, support],
            "qty": np.r_[np.zeros(len(taxable)), support],
        }
        fact = _concat([fact, tail])
        fact["span"] = np.where(np.isin(fact["lt"], [LT["Tax"], LT["Fee"]]), month_len, 1).astype(np.int16)
        # Stable row order: day, account, product, component, line type.
        order = np.lexsort((fact["lt"], fact["ci"], self.line_pidx[fact["ci"]], self.line_acct[fact["ci"]],
                            fact["day"]))
        arrays = []
        for f in FACT_SCHEMA:
            if f.name == "rn":
                arrays.append(pa.array(np.arange(len(order), dtype=np.int64)))
            elif f.name == "day":
                arrays.append(pa.array(fact["day"][order].astype(np.int32), type=pa.date32()))
            else:
                arrays.append(pa.array(fact[f.name][order].astype(f.type.to_pandas_dtype())))
        return pa.Table.from_arrays(arrays, schema=FACT_SCHEMA)


def _business_support(charges: float) -> float:
    """AWS Business support: 10% of the first $10K, 7% to $80K, 5% to $250K, 3% above (minimum $100)."""
    tiers = ((10_000, 0.10), (80_000, 0.07), (250_000, 0.05), (math.inf, 0.03))
    fee, low = 0.0, 0.0
    for high, pct in tiers:
        if charges > low:
            fee += (min(charges, high) - low) * pct
        low = high
    return round(max(100.0, fee), 2)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal (sorted) group values."""
    n = len(groups)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _cumsum_within(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    offset = np.repeat(np.r_[0.0, cs[starts[1:] - 1]], lengths)
    return cs - offset


def _records(rows: list[dict]) -> dict[str, np.ndarray]:
    keys = sorted({k for r in rows for k in r})
    missing = {"sp": -1, "ri": -1}
    return {k: np.array([r.get(k, missing.get(k, 0)) for r in rows]) for k in keys}


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n_total = sum(len(p["ci"]) for p in parts)
    defaults = {"sp": -1, "ri": -1}
    for f in FACT_SCHEMA:
        if f.name in ("rn", "span"):
            continue
        chunks = []
        for p in parts:
            m = len(p["ci"])
            chunks.append(p[f.name] if f.name in p else np.full(m, defaults.get(f.name, 0)))
        out[f.name] = np.concatenate(chunks) if chunks else np.zeros(n_total)
    return out


def month_ranges(start_day: int, end_day: int) -> list[tuple[str, int, int]]:
    """[(billing_period 'YYYY-MM', first epoch day, last epoch day)] covering start..end inclusive."""
    out = []
    d = day_date(start_day)
    end = day_date(end_day)
    while d <= end:
        nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        last = min(end, nxt - dt.timedelta(days=1))
        out.append((f"{d.year:04d}-{d.month:02d}", epoch_day(d), epoch_day(last)))
        d = nxt
    return out


def lines_sql_table(gen: CurGenerator) -> pa.Table:
    """The string dimension of line items as an Arrow table (tags still as four columns)."""
    lines = gen.lines
    cols = {}
    for c in lines.columns:
        if c in ("ci", "acct"):
            cols[c] = pa.array(lines[c].to_numpy(np.int32))
        elif c == "norm":
            cols[c] = pa.array(lines[c].to_numpy(float))
        else:
            vals = lines[c].to_numpy(dtype=object)
            if not c.startswith("tag_"):
                vals = np.where(pd.isna(vals), "", vals)
            cols[c] = pa.array(vals, type=pa.string(), from_pandas=True)
    return pa.table(cols)


def cur_select_sql(seed: int, billing_period: str, month_first: dt.date, invoice_id: str) -> str:
    """SQL over fact/lines/accts/ivals/sps/ris that yields the catalog's CUR columns (without the partition)."""
    period_start = month_first.isoformat()
    nxt = dt.date(month_first.year + (month_first.month == 12), month_first.month % 12 + 1, 1).isoformat()
    term = "CASE f.lt " + " ".join(f"WHEN {i} THEN '{t}'" for i, t in enumerate(PRICING_TERM)) + " END"
    ltype = "CASE f.lt " + " ".join(f"WHEN {i} THEN '{t}'" for i, t in enumerate(LINE_TYPES)) + " END"
    return f"""
SELECT
  f.rn AS _rn,
  md5(concat_ws(':', {int(seed)}, '{billing_period}', f.lt, f.ci, f.day)) AS identity_line_item_id,
  iv.interval AS identity_time_interval,
  '{invoice_id}' AS bill_invoice_id,
  'AWS' AS bill_billing_entity,
  'Anniversary' AS bill_bill_type,
  '{PAYER_ACCOUNT_ID}' AS bill_payer_account_id,
  TIMESTAMP '{period_start} 00:00:00' AS bill_billing_period_start_date,
  TIMESTAMP '{nxt} 00:00:00' AS bill_billing_period_end_date,
  a.account_id AS line_item_usage_account_id,
  a.account_name AS line_item_usage_account_name,
  {ltype} AS line_item_line_item_type,
  CAST(f.day AS TIMESTAMP) AS line_item_usage_start_date,
  CAST(f.day + CAST(f.span AS INTEGER) AS TIMESTAMP) AS line_item_usage_end_date,
  c.product AS line_item_product_code,
  c.usage_type AS line_item_usage_type,
  c.operation AS line_item_operation,
  c.az AS line_item_availability_zone,
  c.resource_id AS line_item_resource_id,
  f.qty AS line_item_usage_amount,
  c.norm AS line_item_normalization_factor,
  f.qty * c.norm AS line_item_normalized_usage_amount,
  'USD' AS line_item_currency_code,
  CASE WHEN f.lt = 1 THEN '0.0000000000' WHEN f.lt IN (6, 7, 8, 9) THEN '' ELSE c.rate_str END
    AS line_item_unblended_rate,
  f.unblended AS line_item_unblended_cost,
  f.unblended AS line_item_blended_cost,
  f.net AS line_item_net_unblended_cost,
  CASE f.lt
    WHEN 1 THEN 'USD 0.0 hourly fee per ' || c.ri_label || ', ' || c.itype || ' instance'
    WHEN 3 THEN 'SavingsPlanNegation used by AccountId : ' || a.account_id || ' and UsageSku : ' || c.sku
    ELSE c."desc" END AS line_item_line_item_description,
  'Amazon Web Services, Inc.' AS line_item_legal_entity,
  c.servicecode AS product_servicecode,
  c.family AS product_product_family,
  c.region AS product_region_code,
  c.itype AS product_instance_type,
  c.icategory AS product_instance_family,
  c.from_region AS product_from_region_code,
  c.to_region AS product_to_region_code,
  c.transfer_type AS product_transfer_type,
  {term} AS pricing_term,
  c.unit AS pricing_unit,
  CASE WHEN f.lt IN (0, 1, 2) THEN c.rate_str ELSE '' END AS pricing_public_on_demand_rate,
  f.od_cost AS pricing_public_on_demand_cost,
  coalesce(r.arn, '') AS reservation_reservation_a_r_n,
  f.ri_eff AS reservation_effective_cost,
  f.ri_upfront_bp AS reservation_amortized_upfront_fee_for_billing_period,
  f.ri_unused_upfront AS reservation_unused_amortized_upfront_fee_for_billing_period,
  f.ri_recurring_usage AS reservation_recurring_fee_for_usage,
  f.ri_unused_recurring AS reservation_unused_recurring_fee,
  coalesce(r.end_time, '') AS reservation_end_time,
  coalesce(s.arn, '') AS savings_plan_savings_plan_a_r_n,
  f.sp_eff AS savings_plan_savings_plan_effective_cost,
  f.sp_rate AS savings_plan_savings_plan_rate,
  f.sp_used AS savings_plan_used_commitment,
  f.sp_total AS savings_plan_total_commitment_to_date,
  f.sp_recurring AS savings_plan_recurring_commitment_for_billing_period,
  f.sp_upfront AS savings_plan_amortized_upfront_commitment_for_billing_period,
  CASE WHEN f.lt IN (2, 3, 4) THEN s.offering_type ELSE '' END AS savings_plan_offering_type,
  coalesce(s.end_time, '') AS savings_plan_end_time,
  CASE WHEN f.lt IN (0, 1, 2, 3) THEN c.tags ELSE MAP {{}}::MAP(VARCHAR, VARCHAR) END AS resource_tags
FROM fact f
JOIN lines c ON c.ci = f.ci
JOIN accts a ON a.acct = c.acct
JOIN ivals iv ON iv.day = f.day AND iv.span = f.span
LEFT JOIN ris r ON r.idx = f.ri
LEFT JOIN sps s ON s.idx = f.sp
"""  # noqa: S608
