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
            license_rate = P.usage_price("AmazonEC2 Windows license per normalized unit")["rate"]
            rate = np.round(base * rf(region) * np.where(windows, 1.0, 1.0) + np.where(
                windows, license_rate * np.array([P.normalization_factor(t) for t in itype]) / 4, 0.0), 4)
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
              **P.usage_price("AmazonEC2 DataTransfer-Out-Bytes"),
              from_region=region[m], to_region="external", transfer_type="AWS Outbound",
              units=r["traffic"].to_numpy(float), weekend=r["weekend"].to_numpy(float), grow=True, sigma=0.35,
              start=start[m], end=end[m])
        m = inst["traffic2"].to_numpy(float) > 0
        r = inst[m]
        c.add(r, usage_type=_ut(region[m], "DataTransfer-Regional-Bytes"), operation="InterZone-Out",
              product="AmazonEC2", servicecode="AWSDataTransfer", family="Data Transfer", unit="GB",
              **P.usage_price("AmazonEC2 DataTransfer-Regional-Bytes"),
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
                  **P.usage_price("AmazonEC2 EBS:VolumeP-IOPS.piops"), qmodel=Q_MONTHLY,
                  units=r["iops"].to_numpy(float), start=start[m], end=end[m])

    snap = res[kind == "snapshot"]
    if len(snap):
        start, end = _life(snap)
        region = snap["region"].to_numpy()
        c.add(snap, usage_type=_ut(region, "EBS:SnapshotUsage"), operation="CreateSnapshot", product="AmazonEC2",
              servicecode="AmazonEC2", family="Storage Snapshot", unit="GB-Mo", **P.usage_price("AmazonEC2 EBS:SnapshotUsage"),
              qmodel=Q_MONTHLY,
              units=snap["size_gb"].to_numpy(float) * 0.45, start=start, end=end)

    # --- Elastic IPs: public IPv4 in use while associated, ElasticIP:IdleAddress once left behind.
    eip = res[kind == "eip"]
    if len(eip):
        region = eip["region"].to_numpy()
        start, end = _life(eip)
        det = eip["detached"].to_numpy(float)
        m = det > start
        c.add(eip[m], usage_type=_ut(region[m], "PublicIPv4:InUseAddress"), operation="AssociateAddressVPC",
              product="AmazonVPC", servicecode="AmazonVPC", family="IP Address", unit="Hrs",
              **P.usage_price("AmazonVPC PublicIPv4:InUseAddress"),
              qmodel=Q_HOURS, start=start[m],
              end=np.minimum(end, det)[m])
        m = np.isfinite(det)
        c.add(eip[m], usage_type=_ut(region[m], "ElasticIP:IdleAddress"), operation="AssociateAddressVPC",
              product="AmazonEC2", servicecode="AmazonEC2", family="IP Address", unit="Hrs",
              **P.usage_price("AmazonEC2 ElasticIP:IdleAddress"),
              qmodel=Q_HOURS, start=det[m], end=end[m])

    nat = res[kind == "nat"]
    if len(nat):
        region = nat["region"].to_numpy()
        start, end = _life(nat)
        rate = np.round(P.usage_price("AmazonEC2 NatGateway-Hours")["rate"] * rf(region), 4)
        c.add(nat, usage_type=_ut(region, "NatGateway-Hours"), operation="NatGateway", product="AmazonEC2",
              servicecode="AmazonEC2", family="NAT Gateway", unit="Hrs", rate=rate,
              desc=P.usage_price("AmazonEC2 NatGateway-Hours")["desc"], qmodel=Q_HOURS, start=start, end=end)
        c.add(nat, usage_type=_ut(region, "NatGateway-Bytes"), operation="NatGateway", product="AmazonEC2",
              servicecode="AmazonEC2", family="NAT Gateway", unit="GB", rate=rate,
              desc=P.usage_price("AmazonEC2 NatGateway-Bytes")["desc"], units=nat["traffic"].to_numpy(float),
              weekend=0.7, grow=True, sigma=0.25, start=start, end=end)

    alb = res[kind == "alb"]
    if len(alb):
        region = alb["region"].to_numpy()
        start, end = _life(alb)
        alb_hours, alb_lcu = P.usage_price("AWSELB LoadBalancerUsage"), P.usage_price("AWSELB LCUUsage")
        c.add(alb, usage_type=_ut(region, "LoadBalancerUsage"), operation="LoadBalancing:Application",
              product="AWSELB", servicecode="AWSELB", family="Load Balancer-Application", unit="Hrs",
              rate=np.round(alb_hours["rate"] * rf(region), 4), desc=alb_hours["desc"],
              qmodel=Q_HOURS, start=start, end=end)
        c.add(alb, usage_type=_ut(region, "LCUUsage"), operation="LoadBalancing:Application", product="AWSELB",
              servicecode="AWSELB", family="Load Balancer-Application", unit="LCU-Hrs",
              rate=np.round(alb_lcu["rate"] * rf(region), 4), desc=alb_lcu["desc"],
              units=24 * alb["traffic"].to_numpy(float), weekend=0.7, grow=True, sigma=0.2, start=start, end=end)

    bkt = res[kind == "bucket"]
    if len(bkt):
        region = bkt["region"].to_numpy()
        start, end = _life(bkt)
        glacier = bkt["vtype"].to_numpy() == "glacier"
        cold, standard = P.usage_price("AmazonS3 TimedStorage-GlacierByteHrs"), P.usage_price("AmazonS3 TimedStorage-ByteHrs")
        c.add(bkt, usage_type=_ut(region, np.where(glacier, "TimedStorage-GlacierByteHrs", "TimedStorage-ByteHrs")),
              operation=np.where(glacier, "GlacierStorage", "StandardStorage").astype(object), product="AmazonS3",
              servicecode="AmazonS3", family="Storage", unit="GB-Mo", rate=np.where(glacier, cold["rate"], standard["rate"]),
              desc=np.where(glacier, cold["desc"], standard["desc"]).astype(object),
              qmodel=Q_MONTHLY, units=bkt["size_gb"].to_numpy(float), grow=True, start=start, end=end)
        c.add(bkt, usage_type=_ut(region, "Requests-Tier1"), operation="PutObject", product="AmazonS3",
              servicecode="AmazonS3", family="API Request", unit="Requests", **P.usage_price("AmazonS3 Requests-Tier1"),
              units=bkt["traffic"].to_numpy(float) * 0.2,
              weekend=0.8, grow=True, sigma=0.4, start=start, end=end)
        m = bkt["purpose"].isin(["assets", "static-site", "raw", "curated", "models", "artifacts", "build-cache",
                                 "athena-results", "unload"]).to_numpy()
        c.add(bkt[m], usage_type=_ut(region[m], "Requests-Tier2"), operation="GetObject", product="AmazonS3",
              servicecode="AmazonS3", family="API Request", unit="Requests", **P.usage_price("AmazonS3 Requests-Tier2"),
              units=bkt["traffic"].to_numpy(float)[m],
              weekend=0.8, grow=True, sigma=0.4, start=start[m], end=end[m])
        m = bkt["public"].to_numpy(bool)
        c.add(bkt[m], usage_type=_ut(region[m], "DataTransfer-Out-Bytes"), operation="GetObject",
              product="AmazonS3", servicecode="AWSDataTransfer", family="Data Transfer", unit="GB",
              **P.usage_price("AmazonS3 DataTransfer-Out-Bytes"),
              from_region=region[m], to_region="external", transfer_type="AWS Outbound",
              units=bkt["size_gb"].to_numpy(float)[m] * 0.3, weekend=0.8, grow=True, sigma=0.4, start=start[m],
              end=end[m])
        m = bkt["purpose"].to_numpy() == "raw"
        if m.any():
            c.add(bkt[m], usage_type=np.char.add(_ut(region[m], "USW2-AWS-Out-Bytes").astype(str), "").astype(object),
                  operation="PutObjectForRepl", product="AmazonS3", servicecode="AWSDataTransfer",
                  family="Data Transfer", unit="GB", **P.usage_price("AmazonS3 USW2-AWS-Out-Bytes"),
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
        gp2 = P.usage_price("AmazonRDS RDS:GP2-Storage")  # Multi-AZ: the price doubles, the description does not say so
        c.add(rds, usage_type=_ut(region, np.where(multi, "RDS:Multi-AZ-GP2-Storage", "RDS:GP2-Storage")),
              operation=engine_code, product="AmazonRDS", servicecode="AmazonRDS", family="Database Storage",
              unit="GB-Mo", rate=np.where(multi, P.usage_price("AmazonRDS RDS:Multi-AZ-GP2-Storage")["rate"], gp2["rate"]),
              desc=gp2["desc"],
              qmodel=Q_MONTHLY, units=rds["size_gb"].to_numpy(float), start=start, end=end)
        m = multi
        c.add(rds[m], usage_type=_ut(region[m], "RDS:ChargedBackupUsage"), operation=engine_code[m],
              product="AmazonRDS", servicecode="AmazonRDS", family="Storage Snapshot", unit="GB-Mo",
              **P.usage_price("AmazonRDS RDS:ChargedBackupUsage"),
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
              servicecode="AWSLambda", family="Serverless", unit="Lambda-GB-Second", **P.usage_price("AWSLambda Lambda-GB-Second"),
              units=lam["traffic"].to_numpy(float),
              weekend=0.6, grow=True, sigma=0.5, start=start, end=end, sp_ok=True, sp_disc=0.12)
        c.add(lam, usage_type=_ut(region, "Request"), operation="Invoke", product="AWSLambda",
              servicecode="AWSLambda", family="Serverless", unit="Requests", **P.usage_price("AWSLambda Request"),
              units=lam["traffic2"].to_numpy(float),
              weekend=0.6, grow=True, sigma=0.5, start=start, end=end)

    ddb = res[kind == "dynamodb"]
    if len(ddb):
        region = ddb["region"].to_numpy()
        start, end = _life(ddb)
        c.add(ddb, usage_type=_ut(region, "TimedStorage-ByteHrs"), operation="StandardStorage",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB", family="Database Storage", unit="GB-Mo",
              **P.usage_price("AmazonDynamoDB TimedStorage-ByteHrs"), qmodel=Q_MONTHLY,
              units=ddb["size_gb"].to_numpy(float), grow=True, start=start, end=end)
        c.add(ddb, usage_type=_ut(region, "WriteRequestUnits"), operation="PayPerRequestThroughput",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB",
              family="Amazon DynamoDB PayPerRequest Throughput", unit="WriteRequestUnits",
              **P.usage_price("AmazonDynamoDB WriteRequestUnits"),
              units=ddb["traffic"].to_numpy(float) * 0.25,
              weekend=0.7, grow=True, sigma=0.3, start=start, end=end)
        c.add(ddb, usage_type=_ut(region, "ReadRequestUnits"), operation="PayPerRequestThroughput",
              product="AmazonDynamoDB", servicecode="AmazonDynamoDB",
              family="Amazon DynamoDB PayPerRequest Throughput", unit="ReadRequestUnits",
              **P.usage_price("AmazonDynamoDB ReadRequestUnits"),
              units=ddb["traffic"].to_numpy(float),
              weekend=0.7, grow=True, sigma=0.3, start=start, end=end)

    eks = res[kind == "eks"]
    if len(eks):
        start, end = _life(eks)
        c.add(eks, usage_type=_ut(eks["region"].to_numpy(), "AmazonEKS-Hours:perCluster"), operation="CreateOperation",
              product="AmazonEKS", servicecode="AmazonEKS", family="Compute", unit="Hrs",
              **P.usage_price("AmazonEKS AmazonEKS-Hours:perCluster"),
              qmodel=Q_HOURS, start=start, end=end)

    cf = res[kind == "cloudfront"]
    if len(cf):
        start, end = _life(cf)
        t = cf["traffic"].to_numpy(float)
        out = P.usage_price("AmazonCloudFront DataTransfer-Out-Bytes")
        for zone, share in (("US", 0.65), ("EU", 0.35)):
            c.add(cf, usage_type=f"{zone}-DataTransfer-Out-Bytes", operation="WebDistribution",
                  product="AmazonCloudFront", servicecode="AmazonCloudFront", family="Data Transfer", unit="GB",
                  rate=out["rate"], desc=out["desc"].format(zone=zone),
                  to_region="external", transfer_type="CloudFront Outbound", units=t * share, weekend=0.8,
                  grow=True, sigma=0.2, start=start, end=end)
        c.add(cf, usage_type="US-Requests-Tier2-HTTPS", operation="WebDistribution", product="AmazonCloudFront",
              servicecode="AmazonCloudFront", family="Request", unit="Requests",
              **P.usage_price("AmazonCloudFront US-Requests-Tier2-HTTPS"),
              units=t * 6000, weekend=0.8, grow=True, sigma=0.2,
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
            srate = P.usage_price(f"{product} {storage_ut}")["rate"]
            c.add(r, usage_type=_ut(region, storage_ut), operation=op, product=product, servicecode=product,
                  family="Storage", unit="GB-Mo", rate=srate, desc=f"{_money(srate)} per GB-month of storage",
                  qmodel=Q_MONTHLY, units=r["size_gb"].to_numpy(float), grow=True, start=start, end=end)

    kms = res[kind == "kms"]
    if len(kms):
        start, end = _life(kms)
        c.add(kms, usage_type=_ut(kms["region"].to_numpy(), "KMS-Keys"), operation="CreateKey", product="awskms",
              servicecode="awskms", family="Encryption Key", unit="Keys", **P.usage_price("awskms KMS-Keys"),
              qmodel=Q_MONTHLY, start=start, end=end)

    zone = res[kind == "zone"]
    if len(zone):
        start, end = _life(zone)
        c.add(zone, usage_type="HostedZone", operation="", product="AmazonRoute53", servicecode="AmazonRoute53",
              family="DNS Zone", unit="HostedZone", **P.usage_price("AmazonRoute53 HostedZone"),
              qmodel=Q_MONTHLY, start=start, end=end)
        c.add(zone, usage_type="DNS-Queries", operation="", product="AmazonRoute53", servicecode="AmazonRoute53",
              family="DNS Query", unit="Queries", **P.usage_price("AmazonRoute53 DNS-Queries"),
              units=zone["traffic"].to_numpy(float), weekend=0.8, grow=True, sigma=0.2, start=start, end=end)

    lg = res[kind == "loggroup"]
    if len(lg):
        region = lg["region"].to_numpy()
        start, end = _life(lg)
        c.add(lg, usage_type=_ut(region, "DataProcessing-Bytes"), operation="PutLogEvents",
              product="AmazonCloudWatch", servicecode="AmazonCloudWatch", family="Data Payload", unit="GB",
              **P.usage_price("AmazonCloudWatch DataProcessing-Bytes"), units=lg["traffic"].to_numpy(float),
              weekend=0.8, grow=True, sigma=0.3, start=start, end=end)
        c.add(lg, usage_type=_ut(region, "TimedStorage-ByteHrs"), operation="HourlyStorageMetering",
              product="AmazonCloudWatch", servicecode="AmazonCloudWatch", family="Storage Snapshot", unit="GB-Mo",
              **P.usage_price("AmazonCloudWatch TimedStorage-ByteHrs"), qmodel=Q_MONTHLY,
              units=lg["traffic"].to_numpy(float) * 25, grow=True, start=start, end=end)

    _long_tail(ctx, c, rng)
    comps = c.frame()
    comps["sigma"] = comps["sigma"].astype(float)
    return comps


# Account-level usage without a resource id (prices.toml's long_tail): (workload or '*', product, usage type suffix,
# operation, unit, rate, product family, median $/day, weekend factor, quantity model, savings plan eligible)
LONG_TAIL: tuple[tuple, ...] = tuple(
    (r["workload"], r["product"], r["usage_type"], r["operation"], r["unit"], r["rate"], r["family"], r["median_daily_usd"],
     r["weekend_factor"], {"monthly": Q_MONTHLY, "variable": Q_VARIABLE}[r["quantity"]], r["savings_plan"])
    for r in P.LONG_TAIL)
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
