"""Commitments (savings plans, reserved instances), incidents and step changes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from daivi_data.demo import pricing as P
from daivi_data.demo.fleet.components import expected_daily_cost
from daivi_data.demo.fleet.core import _acct, _Ctx, day_date, stable_hex
from daivi_data.demo.org import ACCOUNTS, PAYER_ACCOUNT_ID


def _commitments(ctx: _Ctx, comps: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    end = ctx.end
    acct_ids = [a.account_id for a in ACCOUNTS]
    # Reserved instances for the biggest steady Linux EC2 and RDS groups.
    ri_rows: list[dict] = []
    ref = end - 30
    cost = expected_daily_cost(comps, ref)
    key = comps["ri_key"].to_numpy()
    alive = cost > 0
    df = pd.DataFrame({"key": key[alive], "acct": comps["acct"].to_numpy()[alive],
                       "product": comps["product"].to_numpy()[alive], "rate": comps["rate"].to_numpy()[alive],
                       "itype": comps["itype"].to_numpy()[alive], "region": comps["region"].to_numpy()[alive],
                       "units": comps["units"].to_numpy()[alive]})
    df = df[df["key"] != ""]
    groups = df.groupby(["key", "product"]).agg(n=("acct", "size"), acct=("acct", lambda s: s.mode().iloc[0]),
                                                rate=("rate", "first"), itype=("itype", "first"),
                                                region=("region", "first")).reset_index()
    groups = groups[groups["n"] >= 2].sort_values(["n", "key"], ascending=[False, True])
    plans = [  # (product, end offset days, term years, payment, count factor)
        ("AmazonEC2", 25, 1, "Partial Upfront", 0.7), ("AmazonEC2", 52, 1, "No Upfront", 0.8),
        ("AmazonEC2", 83, 3, "Partial Upfront", 0.75), ("AmazonEC2", 700, 3, "All Upfront", 1.3),
        ("AmazonRDS", 400, 3, "Partial Upfront", 0.8), ("AmazonRDS", -100, 1, "No Upfront", 0.8),
    ]
    used: set[str] = set()
    for i, (product, end_off, term, payment, factor) in enumerate(plans):
        cand = groups[(groups["product"] == product) & ~groups["key"].isin(used)]
        if not len(cand):
            continue
        g = cand.iloc[0]
        used.add(g["key"])
        count = max(1, int(math.floor(g["n"] * factor)) + (2 if factor > 1 else 0))
        ri_end = end + end_off
        ri_start = ri_end - 365 * term
        od = float(g["rate"])
        eff = od * (0.6 if term == 1 else 0.42) * (1.03 if payment == "No Upfront" else 1.0)
        upfront_share = {"No Upfront": 0.0, "Partial Upfront": 0.5, "All Upfront": 1.0}[payment]
        ut, op = g["key"].split("|")
        region = g["region"]
        owner = acct_ids[int(g["acct"])]
        uid = stable_hex(f"{ctx.rng.integers(1 << 62)}", 32)
        if product == "AmazonEC2":
            arn = f"arn:aws:ec2:{region}:{owner}:reserved-instances/{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-" \
                  f"{uid[20:32]}"
        else:
            arn = f"arn:aws:rds:{region}:{owner}:ri:{g['itype'].replace('.', '-')}-ri-{uid[:6]}"
        fee_ut = ut.split("-", 1)[0] + "-HeavyUsage:" + str(g["itype"])
        ri_rows.append({
            "idx": i, "key": g["key"], "product": product, "usage_type": ut, "fee_usage_type": fee_ut,
            "operation": op, "region": region, "acct": int(g["acct"]), "account_id": owner, "arn": arn,
            "count": count, "od_rate": od, "upfront_rate": eff * upfront_share,
            "recurring_rate": eff * (1 - upfront_share), "start": float(ri_start), "end": float(ri_end),
            "end_time": day_date(ri_end).isoformat() + "T00:00:00.000Z", "term_years": term, "payment": payment,
            "instance_type": g["itype"],
            "description": f"{payment} {term}-year reservation: {count} x {g['itype']} in {region}",
        })
    # Compute Savings Plans bought in the management account: one old 3-year, one recent 1-year.
    elig = comps["sp_ok"].to_numpy(bool)
    disc = comps["sp_disc"].to_numpy(float)
    ri_covered_keys = {r["key"] for r in ri_rows if r["product"] == "AmazonEC2"}
    not_ri = ~np.isin(comps["ri_key"].to_numpy(), list(ri_covered_keys))
    def eligible_at(day: float) -> float:
        return float((expected_daily_cost(comps, day) * (1 - disc) * (elig & not_ri)).sum())
    sps = []
    payer = ACCOUNTS.index(next(a for a in ACCOUNTS if a.account_id == PAYER_ACCOUNT_ID))
    for i, (start_off, term, payment, share, ref_off) in enumerate(
        ((-520, 3, "No Upfront", 0.55, -390), (-160, 1, "Partial Upfront", 0.32, -30)),
    ):
        commitment = round(max(0.5, share * eligible_at(end + ref_off) / 24), 2)
        start = end + start_off
        sp_end = start + 365 * term
        uid = stable_hex(f"sp-{ctx.rng.integers(1 << 62)}", 32)
        sps.append({
            "idx": i, "arn": f"arn:aws:savingsplans::{PAYER_ACCOUNT_ID}:savingsplan/{uid[:8]}-{uid[8:12]}-"
                             f"{uid[12:16]}-{uid[16:20]}-{uid[20:32]}",
            "acct": payer, "account_id": PAYER_ACCOUNT_ID, "commitment": commitment,
            "upfront_share": 0.5 if payment == "Partial Upfront" else 0.0, "start": float(start),
            "end": float(sp_end), "end_time": day_date(sp_end).isoformat() + "T00:00:00.000Z",
            "term_years": term, "payment": payment, "offering_type": "ComputeSavingsPlans",
            "usage_type": f"ComputeSP:{term}yr{payment.replace(' ', '')}",
            "description": f"{term} year {payment} Compute Savings Plan",
        })
    return ri_rows, sps


def _add_incidents(ctx: _Ctx, res: pd.DataFrame, comps: pd.DataFrame) -> tuple[list[dict], list[tuple]]:
    """Plant incidents that show up in cost (several times the group's normal) and in the logs.

    `res` is the raw resource frame, `comps` the components of a probe build of it (for the normal cost of each
    account x service). Returns the incidents (with resource row ids in `rids`) and the extra usage to add as
    (resource row id, usage type, epoch day, extra quantity).
    """
    end = ctx.end
    rng = ctx.rng
    incidents: list[dict] = []
    extra: list[tuple[int, str, int, float]] = []
    base_cost = expected_daily_cost(comps, end - 20)

    def group_cost(acct: int, product: str) -> float:
        m = (comps["acct"].to_numpy() == acct) & (comps["product"].to_numpy() == product)
        return float(base_cost[m].sum())

    # 1. Leaked CI credentials used to mine crypto on GPU instances in a sandbox account, in a new region.
    acct = _acct("sandbox-hackathon")
    price = round(P.EC2_PRICES["p3.2xlarge"] * P.REGION_PRICE_FACTOR["ap-southeast-1"], 4)
    n = max(8, math.ceil(7 * group_cost(acct, "AmazonEC2") / (20 * price)))
    start, stop = end - 5 + 2.2 / 24, end - 4 + 19.7 / 24
    region = np.full(n, "ap-southeast-1", dtype=object)
    ids = ctx.rows.add("instance", acct, n, region=region, az=ctx.az(region), role="miner", app="",
                       itype="p3.2xlarge", created=start + np.arange(n) * 0.004, deleted=stop + np.arange(n) * 0.002,
                       traffic=6.0, public=True, incident="INC-1", untagged_p=1.0, encrypted=False)
    incidents.append({"id": "INC-1", "kind": "cryptomining", "start": _iso(start), "end": _iso(stop + 0.05),
                      "account_id": ACCOUNTS[acct].account_id, "service_code": "AmazonEC2",
                      "region": "ap-southeast-1", "usage_type": "APS1-BoxUsage:p3.2xlarge", "rids": ids,
                      "description": f"Leaked CI access key used to launch {n} p3.2xlarge instances for crypto mining "
                                     "in ap-southeast-1 (RunInstances burst in CloudTrail, SSH brute force and "
                                     "outbound traffic to a mining pool); terminated about 41 hours later."})
    # 2. A 5xx storm on one storefront host: retries through the NAT gateway and out to the internet.
    acct = _acct("retail-web-prod")
    hosts = res[(res["kind"] == "instance") & (res["acct"] == acct) & (res["role"] == "web") &
                (res["app"] == "storefront") & (res["created"] < end - 60) & ~np.isfinite(res["deleted"]) &
                ~np.isfinite(res["stopped"]) & (res["region"] == "us-east-1")]
    host = int(hosts.index[min(2, len(hosts) - 1)])
    day = end - 2
    ec2 = group_cost(acct, "AmazonEC2")
    nat = res.index[(res["kind"] == "nat") & (res["acct"] == acct) & (res["region"] == "us-east-1")]
    extra.append((host, "USE1-DataTransfer-Out-Bytes", day, 3.0 * ec2 / 0.09))
    extra.append((int(nat[0]), "USE1-NatGateway-Bytes", day, 3.0 * ec2 / 0.045))
    incidents.append({"id": "INC-2", "kind": "http_5xx_storm", "start": _iso(day + 9.0 / 24),
                      "end": _iso(day + 16.5 / 24), "account_id": ACCOUNTS[acct].account_id,
                      "service_code": "AmazonEC2", "region": "us-east-1", "usage_type": "USE1-NatGateway-Bytes",
                      "rids": np.array([host]),
                      "description": "Checkout dependency timed out; the storefront host answered 5xx and its "
                                     "clients retried, pulling payloads again through the NAT gateway and out to "
                                     "the internet (NAT and data transfer cost spike)."})
    # 3. S3 replication misconfigured to re-replicate every object version to us-west-2 for two days.
    acct = _acct("data-lake-prod")
    s3 = group_cost(acct, "AmazonS3")
    raw = res.index[(res["kind"] == "bucket") & (res["acct"] == acct) & (res["purpose"] == "raw")]
    for d, k in ((end - 10, 4.0), (end - 9, 5.5)):
        extra.append((int(raw[0]), "USE1-USW2-AWS-Out-Bytes", d, k * s3 / 0.02))
    etl = res[(res["kind"] == "instance") & (res["acct"] == acct) & (res["role"] == "etl") &
              ~np.isfinite(res["deleted"]) & (res["created"] < end - 30) & ~np.isfinite(res["stopped"])]
    incidents.append({"id": "INC-3", "kind": "s3_replication_loop", "start": _iso(end - 10 + 3.5 / 24),
                      "end": _iso(end - 8 + 1.0 / 24), "account_id": ACCOUNTS[acct].account_id,
                      "service_code": "AmazonS3", "region": "us-east-1", "usage_type": "USE1-USW2-AWS-Out-Bytes",
                      "rids": etl.index[:1].to_numpy(), "bucket_rid": int(raw[0]),
                      "description": "Replication rule on the raw data lake bucket changed to replicate all existing "
                                     "object versions to us-west-2; inter-region transfer spiked until the rule was "
                                     "fixed (replication errors in the ETL logs)."})
    # 4. A load test left running for three days in the EKS staging account (cost only).
    acct = _acct("platform-eks-staging")
    price = P.EC2_PRICES["c5.4xlarge"]
    n = max(10, math.ceil(6 * group_cost(acct, "AmazonEC2") / (22 * price)))
    start, stop = end - 18 + 6.0 / 24, end - 15 + 15.0 / 24
    region = np.full(n, "us-east-1", dtype=object)
    ids = ctx.rows.add("instance", acct, n, region=region, az=ctx.az(region), role="loadgen", app="loadtest",
                       itype="c5.4xlarge", created=start + rng.random(n) * 0.01, deleted=stop + rng.random(n) * 0.01,
                       traffic=20.0, incident="INC-4", untagged_p=1.0)
    incidents.append({"id": "INC-4", "kind": "load_test_left_running", "start": _iso(start), "end": _iso(stop),
                      "account_id": ACCOUNTS[acct].account_id, "service_code": "AmazonEC2", "region": "us-east-1",
                      "usage_type": "USE1-BoxUsage:c5.4xlarge", "rids": ids,
                      "description": f"{n} c5.4xlarge load generators started for a one-hour test were not torn "
                                     "down for three days."})
    return incidents, extra


def _iso(t: float) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(days=float(t))).replace(microsecond=0).isoformat()


STEPS: tuple[tuple[str, str, int, float, str], ...] = (
    ("data-ml-prod", "AmazonSageMaker", 75, 1.8, "New recommender training pipeline: SageMaker training x1.8"),
    ("retail-web-prod", "AmazonCloudFront", 200, 1.5, "EU storefront launch: CloudFront traffic +50%"),
    ("data-lake-prod", "AmazonS3", 150, 1.35, "Clickstream backfill lands 3 years of history in the raw bucket"),
    ("retail-checkout-prod", "AWSLambda", 110, 2.0, "Order events moved from EC2 workers to Lambda"),
)
