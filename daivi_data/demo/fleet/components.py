"""Cost components: what each resource (and each account's long tail of small services) bills per day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from daivi_data.demo import pricing as P
from daivi_data.demo.fleet.core import DAYS_PER_MONTH, HORIZON_DAYS, INF, Q_HOURS, Q_MONTHLY, Q_VARIABLE, _Ctx
from daivi_data.demo.org import ACCOUNTS

_COMP_DEFAULTS: dict[str, object] = {
    "rid": -1, "acct": 0, "product": "", "usage_type": "", "operation": "", "region": "", "az": "",
    "resource_id": "", "family": "", "itype": "", "ifamily": "", "norm": 0.0, "from_region": "", "to_region": "",
    "transfer_type": "", "unit": "", "rate": 0.0, "desc": "", "servicecode": "", "qmodel": Q_VARIABLE,
    "units": 1.0, "asg": False, "weekend": 1.0, "grow": False, "sigma": 0.0, "start": -INF, "end": INF,
    "sp_ok": False, "sp_disc": 0.0, "ri_key": "", "tag_team": None, "tag_env": None, "tag_cc": None,
    "tag_app": None, "incident": "",
}


class _Comps:
    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, frame: pd.DataFrame | None = None, n: int | None = None, **cols) -> None:
        if frame is not None:
            n = len(frame)
        if not n:
            return
        data = {}
        for key, default in _COMP_DEFAULTS.items():
            if key in cols:
                value = cols.pop(key)
            elif frame is not None and key in ("rid", "acct", "region", "az", "resource_id", "tag_team", "tag_env",
                                                "tag_cc", "tag_app", "incident"):
                value = frame.index.to_numpy() if key == "rid" else frame[key].to_numpy()
            else:
                value = default
            arr = np.asarray(value, dtype=object if isinstance(default, str) or default is None else None)
            data[key] = np.broadcast_to(arr, (n,))
        if cols:
            raise TypeError(f"unknown component columns {sorted(cols)}")
        self.parts.append(data)

    def frame(self) -> pd.DataFrame:
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        return pd.DataFrame(cols)


def _ut(region: np.ndarray | str, suffix: np.ndarray | str) -> np.ndarray:
    pre = np.vectorize(lambda r: P.REGION_PREFIX.get(r, ""), otypes=[object])(np.asarray(region, dtype=object))
    return np.char.add(np.char.add(pre.astype(str), "-"), np.asarray(suffix, dtype=str)).astype(object)


def _money(rate: float) -> str:
    return f"${rate:.4f}".rstrip("0").rstrip(".") if rate >= 0.01 else f"${rate:.8f}".rstrip("0")


def _life(r: pd.DataFrame, until: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    start = r["created"].to_numpy(float)
    end = r["deleted"].to_numpy(float)
    if until:
        end = np.minimum(end, r[until].to_numpy(float))
    return start, end


def _build_comps(ctx: _Ctx, res: pd.DataFrame) -> pd.DataFrame:
    c = _Comps()
    rng = ctx.rng
    kind = res["kind"]
    rf = np.vectorize(lambda r: P.REGION_PRICE_FACTOR.get(r, 1.0), otypes=[float])

    # --- EC2 instances: BoxUsage (split at a resize), data transfer out, inter-AZ.
    inst = res[kind == "instance"]
    if len(inst):
        for phase in ("old", "new"):
            if phase == "old":
                r = inst
                itype = r["itype"].to_numpy()
                start = r["created"].to_numpy(float)
                end = np.minimum.reduce([r["deleted"].to_numpy(float), r["stopped"].to_numpy(float),
                                         r["resized"].to_numpy(float)])
            else:
                r = inst[np.isfinite(inst["resized"].to_numpy(float))]
                if not len(r):
                    continue
                itype = r["itype_new"].to_numpy()
                start = r["resized"].to_numpy(float)
                end = np.minimum(r["deleted"].to_numpy(float), r["stopped"].to_numpy(float))
            region = r["region"].to_numpy()
            windows = r["platform"].to_numpy() == "Windows"
            base = np.array([P.EC2_PRICES[t] for t in itype])
            rate = np.round(base * rf(region) * np.where(windows, 1.0, 1.0) + np.where(
                windows, 0.092 * np.array([P.normalization_factor(t) for t in itype]) / 4, 0.0), 4)
            fam = np.array([P.instance_family(t) for t in itype], dtype=object)
            os_ = np.where(windows, "Windows", "Linux")
            op = np.where(windows, "RunInstances:0002", "RunInstances").astype(object)
            ut = _ut(region, np.char.add("BoxUsage:", itype.astype(str)))
            c.add(r, usage_type=ut, operation=op, product="AmazonEC2", servicecode="AmazonEC2",
                  family="Compute Instance", itype=itype, ifamily=fam,
                  norm=np.array([P.normalization_factor(t) for t in itype]), unit="Hrs", rate=rate,
                  desc=np.array([f"{_money(x)} per On Demand {o} {t} Instance Hour"
                                 for x, o, t in zip(rate, os_, itype, strict=True)], dtype=object),
                  qmodel=Q_HOURS, asg=r["asg"].to_numpy(), weekend=r["weekend"].to_numpy(float), start=start,
                  end=end, sp_ok=r["incident"].to_numpy() == "",
                  sp_disc=np.array([P.SP_DISCOUNT.get(f, 0.2) for f in fam]),
                  ri_key=np.where(windows, "", np.char.add(ut.astype(str), "|RunInstances")).astype(object))
        start, end = _life(inst, "stopped")
        region = inst["region"].to_numpy()
        m = inst["traffic"].to_numpy(float) > 0
        r = inst[m]
        c.add(r, usage_type=_ut(region[m], "DataTransfer-Out-Bytes"), operation="RunInstances",
              product="AmazonEC2", servicecode="AWSDataTransfer", family="Data Transfer", unit="GB",
              rate=0.09, desc="$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier",
              from_region=region[m], to_region="external", transfer_type="AWS Outbound",
              units=r["traffic"].to_numpy(float), weekend=r["weekend"].to_numpy(float), grow=True, sigma=0.35,
              start=start[m], end=end[m])
        m = inst["traffic2"].to_numpy(float) > 0
        r = inst[m]
        c.add(r, usage_type=_ut(region[m], "DataTransfer-Regional-Bytes"), operation="InterZone-Out",
              product="AmazonEC2", servicecode="AWSDataTransfer", family="Data Transfer", unit="GB", rate=0.01,
              desc="$0.010 per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs or ELB",
              from_region=region[m], to_region=region[m], transfer_type="IntraRegion",
              units=r["traffic2"].to_numpy(float), weekend=r["weekend"].to_numpy(float), grow=True, sigma=0.3,
              start=start[m], end=end[m])

    # --- EBS volumes (billed whether attached or not) and provisioned IOPS.
    vol = res[kind == "volume"]
    if len(vol):
        vt = vol["vtype"].to_numpy()
        region = vol["region"].to_numpy()
        rate = np.round(np.array([P.EBS_PRICES[t] for t in vt]) * rf(region), 4)
        start, end = _life(vol)
        c.add(vol, usage_type=_ut(region, np.char.add("EBS:VolumeUsage.", vt.astype(str))),
              operation=np.array([P.EBS_OPERATION[t] for t in vt], dtype=object), product="AmazonEC2",
              servicecode="AmazonEC2", family="Storage", unit="GB-Mo", rate=rate,
              desc=np.array([f"{_money(x)} per GB-month of {P.EBS_LABEL[t]} provisioned storage - "
                             f"{P.REGION_NAME[g]}" for x, t, g in zip(rate, vt, region, strict=True)], dtype=object),
              qmodel=Q_MONTHLY, units=vol["size_gb"].to_numpy(float), start=start, end=end)
        m = vol["iops"].to_numpy(float) > 0
        if m.any():
            r = vol[m]
            c.add(r, usage_type=_ut(region[m], "EBS:VolumeP-IOPS.piops"), operation="CreateVolume-P-IOPS",
                  product="AmazonEC2", servicecode="AmazonEC2", family="System Operation", unit="IOPS-Mo",
                  rate=0.065, desc="$0.065 per IOPS-month provisioned", qmodel=Q_MONTHLY,
                  units=r["iops"].to_numpy(float), start=start[m], end=end[m])

    snap = res[kind == "snapshot"]
    if len(snap):
        start, end = _life(snap)
        region = snap["region"].to_numpy()
        c.add(snap, usage_type=_ut(region, "EBS:SnapshotUsage"), operation="CreateSnapshot", product="AmazonEC2",
              servicecode="AmazonEC2", family="Storage Snapshot", unit="GB-Mo", rate=0.05,
              desc="$0.05 per GB-Month of snapshot data stored", qmodel=Q_MONTHLY,
              units=snap["size_gb"].to_numpy(float) * 0.45, start=start, end=end)

    # --- Elastic IPs: public IPv4 in use while associated, ElasticIP:IdleAddress once left behind.
    eip = res[kind == "eip"]
    if len(eip):
        region = eip["region"].to_numpy()
        start, end = _life(eip)
        det = eip["detached"].to_numpy(float)
        m = det > start
        c.add(eip[m], usage_type=_ut(region[m], "PublicIPv4:InUseAddress"), operation="AssociateAddressVPC",
              product="AmazonVPC", servicecode="AmazonVPC", family="IP Address", unit="Hrs", rate=0.005,
              desc="$0.005 per In-use public IPv4 address per hour", qmodel=Q_HOURS, start=start[m],
              end=np.minimum(end, det)[m])
        m = np.isfinite(det)
        c.add(eip[m], usage_type=_ut(region[m], "ElasticIP:IdleAddress"), operation="AssociateAddressVPC",
              product="AmazonEC2", servicecode="AmazonEC2", family="IP Address", unit="Hrs", rate=0.005,
              desc="$0.005 per Idle public IPv4 address per hour", qmodel=Q_HOURS, start=det[m], end=end[m])

    nat = res[kind == "nat"]
    if len(nat):
        region = nat["region"].to_numpy()
        start, end = _life(nat)
        rate = np.round(0.045 * rf(region), 4)
        c.add(nat, usage_type=_ut(region, "NatGateway-Hours"), operation="NatGateway", product="AmazonEC2",
              servicecode="AmazonEC2", family="NAT Gateway", unit="Hrs", rate=rate,
              desc="$0.045 per NAT Gateway Hour", qmodel=Q_HOURS, start=start, end=end)
        c.add(nat, usage_type=_ut(region, "NatGateway-Bytes"), operation="NatGateway", product="AmazonEC2",
              servicecode="AmazonEC2", family="NAT Gateway", unit="GB", rate=rate,
              desc="$0.045 per GB Data Processed by NAT Gateways", units=nat["traffic"].to_numpy(float),
              weekend=0.7, grow=True, sigma=0.25, start=start, end=end)

    alb = res[kind == "alb"]
    if len(alb):
        region = alb["region"].to_numpy()
        start, end = _life(alb)
        c.add(alb, usage_type=_ut(region, "LoadBalancerUsage"), operation="LoadBalancing:Application",
              product="AWSELB", servicecode="AWSELB", family="Load Balancer-Application", unit="Hrs",
              rate=np.round(0.0225 * rf(region), 4), desc="$0.0225 per Application LoadBalancer-hour (or partial hour)",
              qmodel=Q_HOURS, start=start, end=end)
        c.add(alb, usage_type=_ut(region, "LCUUsage"), operation="LoadBalancing:Application", product="AWSELB",
              servicecode="AWSELB", family="Load Balancer-Application", unit="LCU-Hrs",
              rate=np.round(0.008 * rf(region), 4), desc="$0.008 per used Application load balancer capacity unit-hour",
              units=24 * alb["traffic"].to_numpy(float), weekend=0.7, grow=True, sigma=0.2, start=start, end=end)

    bkt = res[kind == "bucket"]
    if len(bkt):
        region = bkt["region"].to_numpy()
        start, end = _life(bkt)
        glacier = bkt["vtype"].to_numpy() == "glacier"
        c.add(bkt, usage_type=_ut(region, np.where(glacier, "TimedStorage-GlacierByteHrs", "TimedStorage-ByteHrs")),
              operation=np.where(glacier, "GlacierStorage", "StandardStorage").astype(object), product="AmazonS3",
              servicecode="AmazonS3", family="Storage", unit="GB-Mo", rate=np.where(glacier, 0.0036, 0.023),
              desc=np.where(glacier, "$0.0036 per GB-Month of storage used in Glacier Flexible Retrieval",
                            "$0.023 per GB - first 50 TB / month of storage used").astype(object),
              qmodel=Q_MONTHLY, units=bkt["size_gb"].to_numpy(float), grow=True, start=start, end=end)
        c.add(bkt, usage_type=_ut(region, "Requests-Tier1"), operation="PutObject", product="AmazonS3",
              servicecode="AmazonS3", family="API Request", unit="Requests", rate=0.000005,
              desc="$0.005 per 1,000 PUT, COPY, POST, or LIST requests", units=bkt["traffic"].to_numpy(float) * 0.2,
              weekend=0.8, grow=True, sigma=0.4, start=start, end=end)
        m = bkt["purpose"].isin(["assets", "static-site", "raw", "curated", "models", "artifacts", "build-cache",
                                 "athena-results", "unload"]).to_numpy()
        c.add(bkt[m], usage_type=_ut(region[m], "Requests-Tier2"), operation="GetObject", product="AmazonS3",
              servicecode="AmazonS3", family="API Request", unit="Requests", rate=0.0000004,
              desc="$0.0004 per 10,000 GET and all other requests", units=bkt["traffic"].to_numpy(float)[m],
              weekend=0.8, grow=True, sigma=0.4, start=start[m], end=end[m])
        m = bkt["public"].to_numpy(bool)
        c.add(bkt[m], usage_type=_ut(region[m], "DataTransfer-Out-Bytes"), operation="GetObject",
              product="AmazonS3", servicecode="AWSDataTransfer", family="Data Transfer", unit="GB", rate=0.09,
              desc="$0.090 per GB - first 10 TB / month data transfer out beyond the global free tier",
              from_region=region[m], to_region="external", transfer_type="AWS Outbound",
              units=bkt["size_gb"].to_numpy(float)[m] * 0.3, weekend=0.8, grow=True, sigma=0.4, start=start[m],
              end=end[m])
        m = bkt["purpose"].to_numpy() == "raw"
        if m.any():
            c.add(bkt[m], usage_type=np.char.add(_ut(region[m], "USW2-AWS-Out-Bytes").astype(str), "").astype(object),
                  operation="PutObjectForRepl", product="AmazonS3", servicecode="AWSDataTransfer",
                  family="Data Transfer", unit="GB", rate=0.02,
                  desc="$0.020 per GB - US East (N. Virginia) data transfer to US West (Oregon)",
                  from_region=region[m], to_region="us-west-2", transfer_type="InterRegion Outbound",
                  units=bkt["size_gb"].to_numpy(float)[m] * 0.002, grow=True, sigma=0.3, start=start[m],
                  end=end[m])

    rds = res[kind == "rds"]
    if len(rds):
        region = rds["region"].to_numpy()
        start, end = _life(rds)
        multi = rds["multi_az"].to_numpy(bool)
        cls = rds["itype"].to_numpy()
        engine_code = np.where(rds["engine"].to_numpy() == "mysql", "CreateDBInstance:0002",
                               "CreateDBInstance:0014").astype(object)
        engine_name = np.where(rds["engine"].to_numpy() == "mysql", "MySQL", "PostgreSQL")
        rate = np.round(np.array([P.RDS_PRICES[x] for x in cls]) * rf(region) * np.where(multi, 2, 1), 4)
        ut = _ut(region, np.char.add(np.where(multi, "Multi-AZUsage:", "InstanceUsage:"), cls.astype(str)))
        c.add(rds, usage_type=ut, operation=engine_code, product="AmazonRDS", servicecode="AmazonRDS",
              family="Database Instance", itype=cls, ifamily=np.array([P.instance_family(x) for x in cls]),
              norm=np.array([P.normalization_factor(x) for x in cls]), unit="Hrs", rate=rate,
              desc=np.array([f"{_money(x)} per RDS {t} {'Multi-AZ ' if mz else ''}instance hour (or partial hour) "
                             f"running {e}" for x, t, mz, e in zip(rate, cls, multi, engine_name, strict=True)],
                            dtype=object),
              qmodel=Q_HOURS, start=start, end=end,
              ri_key=np.char.add(np.char.add(ut.astype(str), "|"), engine_code.astype(str)).astype(object))
        c.add(rds, usage_type=_ut(region, np.where(multi, "RDS:Multi-AZ-GP2-Storage", "RDS:GP2-Storage")),
              operation=engine_code, product="AmazonRDS", servicecode="AmazonRDS", family="Database Storage",
              unit="GB-Mo", rate=np.where(multi, 0.23, 0.115), desc="$0.115 per GB-month of provisioned gp2 storage",
              qmodel=Q_MONTHLY, units=rds["size_gb"].to_numpy(float), start=start, end=end)
        m = multi
        c.add(rds[m], usage_type=_ut(region[m], "RDS:ChargedBackupUsage"), operation=engine_code[m],
              product="AmazonRDS", servicecode="AmazonRDS", family="Storage Snapshot", unit="GB-Mo", rate=0.095,
              desc="$0.095 per additional GB-month of backup storage exceeding free allocation",
              qmodel=Q_MONTHLY, units=rds["size_gb"].to_numpy(float)[m] * 0.6, grow=True, start=start[m],
              end=end[m])

    ec = res[kind == "elasticache"]
    if len(ec):
        region = ec["region"].to_numpy()
        start, end = _life(ec)
        cls = ec["itype"].to_numpy()
        rate = np.round(np.array([P.ELASTICACHE_PRICES[x] for x in cls]) * rf(region), 4)
        c.add(ec, usage_type=_ut(region, np.char.add("NodeUsage:", cls.astype(str))),
              operation="CreateCacheCluster:0002", product="AmazonElastiCache", servicecode="AmazonElastiCache",
              family="Cache Instance", itype=cls, unit="Hrs", rate=rate,
              desc=np.array([f"{_money(x)} per {t} node-hour (or partial hour) running Redis" for x, t in
                             zip(rate, cls, strict=True)], dtype=object),
              qmodel=Q_HOURS, units=ec["units"].to_numpy(float), start=start, end=end)

    lam = res[kind == "lambda"]
    if len(lam):
        region = lam["region"].to_numpy()
        start, end = _life(lam)
        c.add(lam, usage_type=_ut(region, "Lambda-GB-Second"), operation="Invoke", product="AWSLambda",
              servicecode="AWSLambda", family="Serverless", unit="Lambda-GB-Second", rate=0.0000166667,
              desc="AWS Lambda - Total Compute - US East (N. Virginia)", units=lam["traffic"].to_numpy(float),
              weekend=0.6, grow=True, sigma=0.5, start=start, end=end, sp_ok=True, sp_disc=0.12)
        c.add(lam, usage_type=_ut(region, "Request"), operation="Invoke", product="AWSLambda",
              servicecode="AWSLambda", family="Serverless", unit="Requests", rate=0.0000002,
              desc="AWS Lambda - Total Requests - US East (N. Virginia)", units=lam["traffic2"].to_numpy(float),
              weekend=0.6, grow=True, sigma=0.5, start=start, end=end)

    ddb = res[kind == "dynamodb"]
    if len(ddb):
        region = ddb["region"].to_numpy()
        start, end = _life(ddb)
        c.add(ddb, usage_type=_ut(region, "TimedStorage-ByteHrs"), operation="StandardStorage",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB", family="Database Storage", unit="GB-Mo",
              rate=0.25, desc="$0.25 per GB-Month of storage used beyond first 25 free GB-Months", qmodel=Q_MONTHLY,
              units=ddb["size_gb"].to_numpy(float), grow=True, start=start, end=end)
        c.add(ddb, usage_type=_ut(region, "WriteRequestUnits"), operation="PayPerRequestThroughput",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB",
              family="Amazon DynamoDB PayPerRequest Throughput", unit="WriteRequestUnits", rate=0.00000125,
              desc="$1.25 per million write request units", units=ddb["traffic"].to_numpy(float) * 0.25,
              weekend=0.7, grow=True, sigma=0.3, start=start, end=end)
        c.add(ddb, usage_type=_ut(region, "ReadRequestUnits"), operation="PayPerRequestThroughput",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB",
              family="Amazon DynamoDB PayPerRequest Throughput", unit="ReadRequestUnits", rate=0.00000025,
              desc="$0.25 per million read request units", units=ddb["traffic"].to_numpy(float),
              weekend=0.7, grow=True, sigma=0.3, start=start, end=end)

    eks = res[kind == "eks"]
    if len(eks):
        start, end = _life(eks)
        c.add(eks, usage_type=_ut(eks["region"].to_numpy(), "AmazonEKS-Hours:perCluster"), operation="CreateOperation",
              product="AmazonEKS", servicecode="AmazonEKS", family="Compute", unit="Hrs", rate=0.10,
              desc="Amazon EKS cluster usage", qmodel=Q_HOURS, start=start, end=end)

    cf = res[kind == "cloudfront"]
    if len(cf):
        start, end = _life(cf)
        t = cf["traffic"].to_numpy(float)
        for zone, share in (("US", 0.65), ("EU", 0.35)):
            c.add(cf, usage_type=f"{zone}-DataTransfer-Out-Bytes", operation="WebDistribution",
                  product="AmazonCloudFront", servicecode="AmazonCloudFront", family="Data Transfer", unit="GB",
                  rate=0.085, desc=f"$0.085 per GB - first 10 TB / month data transfer out ({zone})",
                  to_region="external", transfer_type="CloudFront Outbound", units=t * share, weekend=0.8,
                  grow=True, sigma=0.2, start=start, end=end)
        c.add(cf, usage_type="US-Requests-Tier2-HTTPS", operation="WebDistribution", product="AmazonCloudFront",
              servicecode="AmazonCloudFront", family="Request", unit="Requests", rate=0.000001,
              desc="$0.0100 per 10,000 HTTPS Requests", units=t * 6000, weekend=0.8, grow=True, sigma=0.2,
              start=start, end=end)

    for k, prices, ut_pre, fam, op, label in (
        ("notebook", P.SAGEMAKER_PRICES, "Notebk:", "ML Instance", "RunInstance:Notebook", "Notebook"),
        ("endpoint", P.SAGEMAKER_PRICES, "Host:", "ML Instance", "RunInstance", "Hosting"),
        ("redshift", P.REDSHIFT_PRICES, "Node:", "Compute Instance", "RunComputeNode:0001", "Redshift"),
        ("opensearch", P.OPENSEARCH_PRICES, "ESInstance:", "Amazon OpenSearch Service Instance", "ESDomain",
         "OpenSearch"),
    ):
        r = res[kind == k]
        if not len(r):
            continue
        region = r["region"].to_numpy()
        start, end = _life(r)
        cls = r["itype"].to_numpy()
        rate = np.round(np.array([prices[x] for x in cls]) * rf(region), 4)
        product = {"notebook": "AmazonSageMaker", "endpoint": "AmazonSageMaker", "redshift": "AmazonRedshift",
                   "opensearch": "AmazonES"}[k]
        c.add(r, usage_type=_ut(region, np.char.add(ut_pre, cls.astype(str))), operation=op, product=product,
              servicecode=product, family=fam, itype=cls, unit="Hrs", rate=rate,
              desc=np.array([f"{_money(x)} per {label} {t} hour" for x, t in zip(rate, cls, strict=True)],
                            dtype=object),
              qmodel=Q_HOURS, units=r["units"].to_numpy(float), start=start, end=end)
        if k in ("redshift", "opensearch"):
            storage_ut = "RMS:ManagedStorage" if k == "redshift" else "ES:GP3-Storage"
            srate = 0.024 if k == "redshift" else 0.122
            c.add(r, usage_type=_ut(region, storage_ut), operation=op, product=product, servicecode=product,
                  family="Storage", unit="GB-Mo", rate=srate, desc=f"{_money(srate)} per GB-month of storage",
                  qmodel=Q_MONTHLY, units=r["size_gb"].to_numpy(float), grow=True, start=start, end=end)

    kms = res[kind == "kms"]
    if len(kms):
        start, end = _life(kms)
        c.add(kms, usage_type=_ut(kms["region"].to_numpy(), "KMS-Keys"), operation="CreateKey", product="awskms",
              servicecode="awskms", family="Encryption Key", unit="Keys", rate=1.0,
              desc="$1 per customer-managed key per month", qmodel=Q_MONTHLY, start=start, end=end)

    zone = res[kind == "zone"]
    if len(zone):
        start, end = _life(zone)
        c.add(zone, usage_type="HostedZone", operation="", product="AmazonRoute53", servicecode="AmazonRoute53",
              family="DNS Zone", unit="HostedZone", rate=0.5, desc="$0.50 per Hosted Zone for the first 25 Hosted Zones",
              qmodel=Q_MONTHLY, start=start, end=end)
        c.add(zone, usage_type="DNS-Queries", operation="", product="AmazonRoute53", servicecode="AmazonRoute53",
              family="DNS Query", unit="Queries", rate=0.0000004,
              desc="$0.40 per 1,000,000 queries for the first 1 Billion queries",
              units=zone["traffic"].to_numpy(float), weekend=0.8, grow=True, sigma=0.2, start=start, end=end)

    lg = res[kind == "loggroup"]
    if len(lg):
        region = lg["region"].to_numpy()
        start, end = _life(lg)
        c.add(lg, usage_type=_ut(region, "DataProcessing-Bytes"), operation="PutLogEvents",
              product="AmazonCloudWatch", servicecode="AmazonCloudWatch", family="Data Payload", unit="GB",
              rate=0.5, desc="$0.50 per GB custom log data ingested", units=lg["traffic"].to_numpy(float),
              weekend=0.8, grow=True, sigma=0.3, start=start, end=end)
        c.add(lg, usage_type=_ut(region, "TimedStorage-ByteHrs"), operation="HourlyStorageMetering",
              product="AmazonCloudWatch", servicecode="AmazonCloudWatch", family="Storage Snapshot", unit="GB-Mo",
              rate=0.03, desc="$0.03 per GB-mo of log storage", qmodel=Q_MONTHLY,
              units=lg["traffic"].to_numpy(float) * 25, grow=True, start=start, end=end)

    _long_tail(ctx, c, rng)
    comps = c.frame()
    comps["sigma"] = comps["sigma"].astype(float)
    return comps


# Account-level usage without a resource id: (workload or '*', product, usage type suffix, operation, unit, rate,
# product family, median $/day, weekend factor, quantity model, savings plan eligible)
LONG_TAIL: tuple[tuple, ...] = (
    ("*", "AWSConfig", "ConfigurationItemRecorded", "", "ConfigurationItemRecorded", 0.003, "Management Tools", 1.2,
     0.9, Q_VARIABLE, False),
    ("*", "AWSCloudTrail", "PaidEventsRecorded", "", "Events", 0.00001, "Management Tools - AWS CloudTrail", 0.6,
     0.7, Q_VARIABLE, False),
    ("*", "AmazonGuardDuty", "PaidEventsAnalyzed", "", "Events", 0.000004, "Security Services", 2.5, 0.8,
     Q_VARIABLE, False),
    ("*", "AmazonCloudWatch", "CW:MetricMonitorUsage", "MetricStorage", "Metrics", 0.30, "Metric", 3.0, 1.0,
     Q_MONTHLY, False),
    ("web", "AWSSecretsManager", "AWSSecretsManager-Secrets", "", "Secrets", 0.40, "Secret", 0.4, 1.0, Q_MONTHLY,
     False),
    ("web", "AWSQueueService", "Requests-RBP", "", "Requests", 0.0000004, "API Request", 1.5, 0.7, Q_VARIABLE,
     False),
    ("web", "AmazonSNS", "Requests-Tier1", "", "Requests", 0.0000005, "API Request", 0.3, 0.7, Q_VARIABLE, False),
    ("web", "AmazonECS", "Fargate-vCPU-Hours:perCPU", "FargateTask", "hours", 0.04048, "Compute", 9.0, 0.7,
     Q_VARIABLE, True),
    ("web", "AmazonECS", "Fargate-GB-Hours", "FargateTask", "hours", 0.004445, "Compute", 2.0, 0.7, Q_VARIABLE, True),
    ("web", "awswaf", "WebACLV2", "", "WebACL", 5.0, "Web Application Firewall", 0.5, 1.0, Q_MONTHLY, False),
    ("data", "AmazonAthena", "DataScannedInTB", "RunQuery", "Terabytes", 5.0, "Analytics", 18.0, 0.3, Q_VARIABLE,
     False),
    ("data", "AWSGlue", "ETL-DPU-Hour", "Jobrun", "DPU-Hour", 0.44, "AWS Glue", 35.0, 0.4, Q_VARIABLE, False),
    ("data", "AmazonKinesis", "Storage-ShardHour", "shardHourStorage", "ShardHour", 0.015, "Kinesis Streams", 3.6,
     1.0, Q_VARIABLE, False),
    ("data", "AmazonStates", "StateTransition", "", "Transitions", 0.000025, "AWS Step Functions", 1.0, 0.6,
     Q_VARIABLE, False),
    ("analytics", "AmazonQuickSight", "QS-User-Enterprise-Month", "", "Users", 24.0, "Business Analytics", 12.0,
     1.0, Q_MONTHLY, False),
    ("ml", "AmazonSageMaker", "Train:ml.p3.2xlarge", "RunInstance:Training", "Hrs", 3.825, "ML Instance", 60.0,
     0.3, Q_VARIABLE, False),
    ("k8s", "AmazonECR", "TimedStorage-ByteHrs", "", "GB-Mo", 0.10, "EC2 Container Registry", 2.0, 1.0, Q_MONTHLY,
     False),
    ("k8s", "AmazonEFS", "TimedStorage-ByteHrs", "", "GB-Mo", 0.30, "Storage", 6.0, 1.0, Q_MONTHLY, False),
    ("ci", "CodeBuild", "Build-Min:Linux:g1.medium", "", "Minutes", 0.01, "Compute", 14.0, 0.2, Q_VARIABLE, False),
    ("ci", "AmazonECR", "TimedStorage-ByteHrs", "", "GB-Mo", 0.10, "EC2 Container Registry", 5.0, 1.0, Q_MONTHLY,
     False),
    ("serverless", "AmazonApiGateway", "ApiGatewayRequest", "", "Requests", 0.0000035, "API Calls", 6.0, 0.7,
     Q_VARIABLE, False),
    ("serverless", "AmazonCognito", "CognitoUserPoolsMAU", "", "MAU", 0.0055, "User Pool", 4.0, 1.0, Q_MONTHLY,
     False),
    ("security", "AWSSecurityHub", "PaidComplianceCheck", "", "Checks", 0.001, "Security Services", 6.0, 1.0,
     Q_VARIABLE, False),
    ("security", "AmazonInspectorV2", "Inspector2-EC2InstanceScanning", "", "Instances", 1.258, "Security Services",
     5.0, 1.0, Q_MONTHLY, False),
    ("network", "AmazonVPC", "TransitGateway-Hours", "TransitGatewayVPC", "Hrs", 0.05, "Transit Gateway", 30.0, 1.0,
     Q_VARIABLE, False),
    ("network", "AmazonVPC", "TransitGateway-Bytes", "TransitGatewayVPC", "GB", 0.02, "Transit Gateway", 25.0, 0.7,
     Q_VARIABLE, False),
    ("network", "AmazonVPC", "VpcEndpoint-Hours", "VpcEndpoint", "Hrs", 0.01, "VpcEndpoint", 4.0, 1.0, Q_VARIABLE,
     False),
    ("shared", "AWSDirectoryService", "MicrosoftAD-DC-Usage", "", "Hrs", 0.40, "Directory Service", 19.2, 1.0,
     Q_VARIABLE, False),
    ("shared", "AWSBackup", "WarmStorage-ByteHrs-EBS", "", "GB-Mo", 0.05, "Storage", 8.0, 1.0, Q_MONTHLY, False),
    ("mgmt", "AWSCostExplorer", "APIRequest", "", "Requests", 0.01, "Management Tools", 1.5, 0.3, Q_VARIABLE, False),
    ("mgmt", "AmazonSES", "Recipients", "", "Count", 0.0001, "Sending Email", 0.2, 0.5, Q_VARIABLE, False),
)
GLOBAL_PRODUCTS = {"AWSCostExplorer", "AmazonRoute53", "AmazonCloudFront"}


def _long_tail(ctx: _Ctx, c: _Comps, rng) -> None:
    for i, a in enumerate(ACCOUNTS):
        rows = [t for t in LONG_TAIL if t[0] == "*" and "sandbox" not in a.workloads or t[0] in a.workloads]
        if "sandbox" in a.workloads:
            rows = [t for t in LONG_TAIL if t[1] in ("AWSConfig", "AWSCloudTrail")] + rows
        if a.environment in ("dev", "staging"):  # fewer small services outside production
            rows = [t for t in rows if t[0] == "*"] + [t for t in rows if t[0] != "*"][:2]
            if ctx.f < 1:
                rows = rows[:2]
        if not rows:
            continue
        n = len(rows)
        size = a.size * ctx.f ** 0.9
        env_factor = {"prod": 1.0, "shared": 0.8, "staging": 0.3, "dev": 0.2, "sandbox": 0.1}[a.environment]
        median = np.array([t[7] for t in rows]) * size * env_factor * np.exp(0.4 * rng.standard_normal(n))
        rate = np.array([t[5] for t in rows])
        qmodel = np.array([t[9] for t in rows])
        daily_units = median / rate
        units = np.where(qmodel == Q_MONTHLY, daily_units * DAYS_PER_MONTH, daily_units)
        region = np.array(["" if t[1] in GLOBAL_PRODUCTS else a.region for t in rows], dtype=object)
        c.add(n=n, acct=i, product=np.array([t[1] for t in rows], dtype=object),
              usage_type=np.array([(P.REGION_PREFIX[a.region] + "-" if r else "") + t[2] for t, r in
                                   zip(rows, region, strict=True)], dtype=object),
              operation=np.array([t[3] for t in rows], dtype=object), region=region,
              family=np.array([t[6] for t in rows], dtype=object), unit=np.array([t[4] for t in rows], dtype=object),
              rate=rate, desc=np.array([f"{_money(t[5])} per {t[4]}" for t in rows], dtype=object),
              servicecode=np.array([t[1] for t in rows], dtype=object), qmodel=qmodel, units=units,
              weekend=np.array([t[8] for t in rows]), grow=True, sigma=np.where(qmodel == Q_VARIABLE, 0.25, 0.0),
              sp_ok=np.array([t[10] for t in rows]), sp_disc=0.2, start=ctx.end - HORIZON_DAYS - 900)



def expected_daily_cost(comps: pd.DataFrame, day: float) -> np.ndarray:
    """Expected (noise-free, weekday) daily on-demand cost of each component on `day`."""
    alive = (comps["start"].to_numpy(float) <= day) & (comps["end"].to_numpy(float) > day + 1)
    q = comps["units"].to_numpy(float)
    qm = comps["qmodel"].to_numpy()
    daily = np.where(qm == Q_HOURS, 24 * q, np.where(qm == Q_MONTHLY, q / DAYS_PER_MONTH, q))
    return np.where(alive, daily * comps["rate"].to_numpy(float), 0.0)
