"""The demo fleet: every resource of the organization over time, and what it bills.

`build_fleet` returns a `Fleet`:

- `resources`: one row per resource with its lifetime (`created`, `deleted`,
  `stopped`, `detached`, `resized` as fractional epoch days, `inf` = never),
  attributes and raw tags. Inventory snapshots and Splunk hosts come from it.
- `comps`: the cost components: one row per (resource, usage type) that bills
  daily, or per account for usage without a resource (the long tail of small
  services). Each has a rate, a quantity model and an active interval; the CUR
  generator expands them per day.
- savings plans, reserved instances, step changes and incidents.

Resources are created over a fixed 400-day horizon whatever the scale, so the
same shape (fleet growth, churn, waste) shows at every scale; the scale only
multiplies counts. All randomness comes from `numpy.random.default_rng` streams
derived from the seed.

Trend (documented for the demo): variable usage (data transfer, requests,
storage of growing buckets, serverless) grows +2% per month; the fleet grows by
resources created over time (about 28% of resources were created in the last
400 days, 10-20% of those deleted again). Step changes are listed in
`Fleet.steps`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math

import numpy as np
import pandas as pd

from daivi_data.demo import pricing as P
from daivi_data.demo.org import ACCOUNTS, ACCOUNTS_BY_NAME, PAYER_ACCOUNT_ID

INF = math.inf
HORIZON_DAYS = 400
GROWTH_PER_MONTH = 0.02
DAYS_PER_MONTH = 30.4375
EPOCH = dt.date(1970, 1, 1)

# Quantity models of a component.
Q_HOURS, Q_MONTHLY, Q_VARIABLE = 0, 1, 2

CONFIG_TYPES: dict[str, str] = {
    "instance": "AWS::EC2::Instance", "volume": "AWS::EC2::Volume", "snapshot": "AWS::EC2::Snapshot",
    "eip": "AWS::EC2::EIP", "nat": "AWS::EC2::NatGateway", "alb": "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "bucket": "AWS::S3::Bucket", "rds": "AWS::RDS::DBInstance", "lambda": "AWS::Lambda::Function",
    "dynamodb": "AWS::DynamoDB::Table", "eks": "AWS::EKS::Cluster", "cloudfront": "AWS::CloudFront::Distribution",
    "notebook": "AWS::SageMaker::NotebookInstance", "endpoint": "AWS::SageMaker::Endpoint",
    "redshift": "AWS::Redshift::Cluster", "opensearch": "AWS::OpenSearch::Domain",
    "elasticache": "AWS::ElastiCache::CacheCluster", "kms": "AWS::KMS::Key", "zone": "AWS::Route53::HostedZone",
    "loggroup": "AWS::Logs::LogGroup", "vpc": "AWS::EC2::VPC", "subnet": "AWS::EC2::Subnet",
    "sg": "AWS::EC2::SecurityGroup",
}


def epoch_day(d: dt.date) -> int:
    return (d - EPOCH).days


def day_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def stable_hex(text: str, n: int = 16) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:n]


# ----------------------------------------------------------------------------------------------
# Resource table builder
# ----------------------------------------------------------------------------------------------

_RES_DEFAULTS: dict[str, object] = {
    "region": "", "az": "", "role": "", "app": "", "itype": "", "itype_new": "", "units": 1.0, "size_gb": np.nan,
    "vtype": "", "iops": 0.0, "created": 0.0, "deleted": INF, "stopped": INF, "detached": INF, "resized": INF,
    "parent": -1, "encrypted": True, "public": False, "platform": "Linux/UNIX", "engine": "", "multi_az": False,
    "asg": False, "weekend": 1.0, "traffic": 0.0, "traffic2": 0.0, "purpose": "", "untagged_p": 0.25,
    "name": "", "incident": "",
}


class _Rows:
    """Column-wise accumulator of resources (a loop per batch, never per resource row of output)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, kind: str, acct: int, n: int, **cols) -> np.ndarray:
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        data = {"kind": np.full(n, kind, dtype=object), "acct": np.full(n, acct, dtype=np.int16)}
        for key, default in _RES_DEFAULTS.items():
            value = cols.pop(key, default)
            arr = np.asarray(value, dtype=object if isinstance(default, str) else None)
            data[key] = np.broadcast_to(arr, (n,))
        if cols:
            raise TypeError(f"unknown resource columns {sorted(cols)}")
        self.parts.append(data)
        ids = np.arange(self.n, self.n + n, dtype=np.int64)
        self.n += n
        return ids

    def frame(self) -> pd.DataFrame:
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        return pd.DataFrame(cols, index=np.arange(self.n, dtype=np.int64))


@dataclasses.dataclass
class Fleet:
    end: int  # epoch day of the end date
    resources: pd.DataFrame
    comps: pd.DataFrame
    savings_plans: list[dict]
    reservations: list[dict]
    steps: list[dict]
    incidents: list[dict]
    incident_extra: list[tuple[int, int, float]]  # (comp index, epoch day, extra quantity)


class _Ctx:
    def __init__(self, seed: int, scale_factor: float, end: int) -> None:
        self.rng = np.random.default_rng([seed, 1])
        self.f = scale_factor
        self.end = end
        self.rows = _Rows()

    def count(self, base: float, size: float = 1.0, minimum: int = 1) -> int:
        """How many of something: base x account size x scale factor, rounded at random (keeps the mean)."""
        x = base * size * self.f
        return max(minimum, int(x) + int(self.rng.random() < x - int(x)))

    def pick(self, options: list[str], weights: list[float] | None, n: int) -> np.ndarray:
        p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
        return np.asarray(options, dtype=object)[self.rng.choice(len(options), size=n, p=p)]

    def lifecycle(self, n: int, p_new: float = 0.28, p_del: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
        """Creation and deletion times: some old resources, some created (and deleted) in the horizon."""
        rng, end = self.rng, self.end
        new = rng.random(n) < p_new
        created = np.where(
            new,
            end - HORIZON_DAYS * rng.random(n) ** 0.8,  # more creations lately: growth
            end - HORIZON_DAYS - rng.exponential(500.0, n),
        )
        created = np.minimum(created, end - 2.2)  # everything exists for at least two snapshots
        life_left = end - created
        deleted = np.where(
            (rng.random(n) < p_del) & (life_left > 4),
            created + 2.0 + (life_left - 3.0) * rng.random(n),
            INF,
        )
        return created, deleted

    def az(self, region: np.ndarray) -> np.ndarray:
        letters = self.pick(["a", "b", "c"], [0.4, 0.35, 0.25], len(region))
        return np.array([r + z for r, z in zip(region, letters, strict=True)], dtype=object)

    def regions(self, acct: int, n: int, p_other: float = 0.2) -> np.ndarray:
        a = ACCOUNTS[acct]
        if not a.other_region:
            return np.full(n, a.region, dtype=object)
        return np.where(self.rng.random(n) < p_other, a.other_region, a.region).astype(object)


# Instance type pools: (types, weights).
POOLS: dict[str, tuple[list[str], list[float]]] = {
    "web": (["m5.large", "m6i.large", "c5.large", "c6i.large", "m4.large", "c4.large", "m7g.large"],
            [25, 25, 12, 12, 10, 6, 10]),
    "web-np": (["t3.medium", "t3.large", "t2.medium", "m5.large", "t2.large"], [35, 25, 15, 15, 10]),
    "api": (["m5.xlarge", "m6i.xlarge", "c5.xlarge", "r5.large", "m4.xlarge", "c6g.xlarge"], [25, 25, 15, 15, 10, 10]),
    "worker": (["r5.large", "r5.xlarge", "m5.large", "r4.large", "r6i.large"], [30, 15, 25, 15, 15]),
    "etl": (["r5.2xlarge", "r6i.2xlarge", "m5.4xlarge", "r4.xlarge", "i3.xlarge"], [30, 25, 20, 15, 10]),
    "eks": (["m5.2xlarge", "m6i.2xlarge", "c6i.2xlarge", "r5.xlarge", "m5.4xlarge"], [30, 30, 15, 15, 10]),
    "ci": (["c5.2xlarge", "c5.xlarge", "c6i.2xlarge", "c4.xlarge"], [35, 25, 25, 15]),
    "gpu": (["g4dn.xlarge", "g5.xlarge"], [70, 30]),
    "util": (["t3.micro", "t3.small", "t2.micro", "t3.medium"], [30, 30, 20, 20]),
    "sandbox": (["t2.micro", "t3.medium", "m4.large", "t2.large", "m5.xlarge", "t3.large"], [20, 25, 15, 10, 15, 15]),
    "splunk": (["m5.xlarge", "m5.2xlarge"], [50, 50]),
}
# (GB out to the internet per day, GB inter-AZ per day, weekend factor, in an auto scaling group)
ROLE_TRAFFIC: dict[str, tuple[float, float, float, bool]] = {
    "web": (25.0, 10.0, 0.65, True), "api": (10.0, 15.0, 0.75, True), "worker": (1.0, 5.0, 1.0, False),
    "etl": (2.0, 40.0, 1.0, False), "node": (12.0, 30.0, 0.8, True), "agent": (6.0, 2.0, 0.3, True),
    "gpu": (3.0, 0.0, 1.0, False), "bastion": (0.5, 0.0, 1.0, False), "splunk-hf": (0.0, 60.0, 1.0, False),
    "jenkins": (2.0, 0.0, 1.0, False), "scanner": (0.0, 0.0, 1.0, False), "ad": (0.0, 0.0, 1.0, False),
    "test": (0.0, 0.0, 1.0, False), "legacy": (0.0, 0.0, 1.0, False), "loadgen": (20.0, 80.0, 1.0, False),
    "miner": (6.0, 0.0, 1.0, False), "dev": (0.3, 0.0, 1.0, False),
}
PREV_GEN_UPGRADE = {"m4": "m5", "c4": "c5", "r4": "r5", "t2": "t3"}


def _lognormal(rng, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _instances(ctx: _Ctx, acct: int, role: str, app: str, pool: str, n: int, *, p_new=0.28, p_del=0.12,
               regions: np.ndarray | None = None, windows_p: float = 0.03, anchor: bool = False,
               **extra) -> np.ndarray:
    """`n` instances (with their volumes); an `anchor` one is old, long-lived and in the primary region."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = ctx.rng
    out, inter, wknd, asg = ROLE_TRAFFIC.get(role, (1.0, 1.0, 1.0, False))
    created, deleted = ctx.lifecycle(n, p_new=p_new, p_del=p_del)
    region = regions if regions is not None else ctx.regions(acct, n)
    if anchor:
        created[0], deleted[0] = ctx.end - HORIZON_DAYS - 200 * rng.random(), INF
        region = np.array(region, dtype=object)
        region[0] = ACCOUNTS[acct].region
        windows_p = 0.0
    types = ctx.pick(*POOLS[pool], n)
    if ACCOUNTS[acct].environment not in ("prod", "shared") and role not in ("miner", "loadgen"):
        out, inter = (out * 0.2 if role == "web" else 0.0), 0.0  # outside production traffic is negligible
    cols = dict(
        region=region, az=ctx.az(region), role=role, app=app, itype=types, created=created, deleted=deleted,
        asg=asg, weekend=np.clip(wknd + 0.08 * rng.standard_normal(n), 0.2, 1.0) if asg else 1.0,
        traffic=_lognormal(rng, out, 0.6, n) if out else 0.0, traffic2=_lognormal(rng, inter, 0.6, n) if inter else 0.0,
        platform=np.where(rng.random(n) < windows_p, "Windows", "Linux/UNIX").astype(object),
        encrypted=rng.random(n) < 0.85, public=(rng.random(n) < 0.15) if role in ("web", "bastion") else False,
    )
    eip = extra.pop("eip", False)
    cols.update(extra)
    ids = ctx.rows.add("instance", acct, n, **cols)
    _volumes_for(ctx, acct, ids, cols)
    if eip:
        ctx.rows.add("eip", acct, n, region=region, created=created, deleted=deleted, parent=ids, role=role, app=app)
    return ids


def _volumes_for(ctx: _Ctx, acct: int, inst_ids: np.ndarray, icols: dict) -> None:
    """Root volume for every instance, a data volume for some; data volumes of terminated instances may stay."""
    rng, n = ctx.rng, len(inst_ids)
    created = np.broadcast_to(icols["created"], (n,))
    deleted = np.broadcast_to(icols["deleted"], (n,))
    region, az = icols["region"], icols["az"]
    old = created < ctx.end - 700
    root_type = np.where(old | (rng.random(n) < 0.3), "gp2", "gp3").astype(object)
    ctx.rows.add(
        "volume", acct, n, region=region, az=az, app=icols["app"], role="root", vtype=root_type,
        size_gb=rng.choice([8, 20, 30, 50, 100], size=n, p=[0.25, 0.25, 0.2, 0.2, 0.1]).astype(float),
        created=created, deleted=deleted, parent=inst_ids, encrypted=rng.random(n) < 0.8,
    )
    has_data = rng.random(n) < 0.45
    k = int(has_data.sum())
    if not k:
        return
    sel = np.flatnonzero(has_data)
    dtype_ = ctx.pick(["gp2", "gp3", "io1", "st1"], [35, 50, 8, 7], k)
    dtype_ = np.where(old[sel] & (dtype_ == "gp3"), "gp2", dtype_).astype(object)
    size = np.round(_lognormal(rng, 300, 0.9, k) / 10) * 10 + 10
    keep = (rng.random(k) < 0.35) & np.isfinite(deleted[sel])  # not DeleteOnTermination: orphaned
    vdeleted = np.where(keep, INF, deleted[sel])
    detached = np.where(keep, deleted[sel], INF)
    vol = ctx.rows.add(
        "volume", acct, k, region=np.asarray(region)[sel], az=np.asarray(az)[sel], app=icols["app"], role="data", vtype=dtype_, size_gb=size,
        iops=np.where(dtype_ == "io1", np.round(size * 10, -2) + 1000, 0.0), created=created[sel],
        deleted=vdeleted, detached=detached, parent=inst_ids[sel], encrypted=rng.random(k) < 0.75,
    )
    # Snapshots of some data volumes (backups), many of them old.
    snap = rng.random(k) < 0.5
    m = int(snap.sum())
    if m:
        src = np.flatnonzero(snap)
        reps = rng.integers(1, 4, m)
        src = np.repeat(src, reps)
        m = len(src)
        screated = np.minimum(ctx.end - 1.5, np.maximum(created[sel][src], ctx.end - 900)
                              + rng.random(m) * 700)
        sdeleted = np.where(rng.random(m) < 0.12, screated + 30 + rng.random(m) * 300, INF)
        sdeleted = np.where(sdeleted > ctx.end - 1, INF, sdeleted)
        ctx.rows.add(
            "snapshot", acct, m, region=np.asarray(region, dtype=object)[sel][src] if np.ndim(region) else region,
            app=icols["app"],
            role="backup", size_gb=size[src], created=screated, deleted=sdeleted, parent=vol[src],
            encrypted=rng.random(m) < 0.8,
        )


def _simple(ctx: _Ctx, kind: str, acct: int, n: int, *, p_new=0.2, p_del=0.05, regions=None, **cols) -> np.ndarray:
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    created, deleted = ctx.lifecycle(n, p_new=p_new, p_del=p_del)
    region = regions if regions is not None else ctx.regions(acct, n, p_other=0.1)
    cols.setdefault("az", "")
    return ctx.rows.add(kind, acct, n, region=region, created=created, deleted=deleted, **cols)


# ----------------------------------------------------------------------------------------------
# Workload recipes (per account)
# ----------------------------------------------------------------------------------------------


def _networking(ctx: _Ctx, acct: int) -> None:
    """VPC, subnets and security groups per region used by the account (inventory only, no cost)."""
    a = ACCOUNTS[acct]
    for region in (a.region, a.other_region):
        if not region:
            continue
        old = ctx.end - HORIZON_DAYS - 400 - 300 * ctx.rng.random()
        ctx.rows.add("vpc", acct, 1, region=region, created=old, name=f"{a.account_name}-{region}")
        ctx.rows.add("subnet", acct, 3, region=region, az=np.array([region + z for z in "abc"], dtype=object),
                     created=old, name=np.array([f"{a.account_name}-private-{z}" for z in "abc"], dtype=object))
        sgs = ["default", "web-alb", "app", "db", "bastion-ssh", "launch-wizard-1"]
        ctx.rows.add("sg", acct, len(sgs), region=region, created=old + 5 * ctx.rng.random(len(sgs)),
                     name=np.array(sgs, dtype=object), public=np.array([s in ("web-alb", "launch-wizard-1")
                                                                       for s in sgs]))


def _common(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    rng = ctx.rng
    if ctx.f < 1 and a.environment not in ("prod", "shared"):
        return  # the small (test) scale keeps non-production accounts lean
    _simple(ctx, "kms", acct, ctx.count(1.5, a.size, 1), p_new=0.1, app=a.apps[0], role="cmk")
    n = ctx.count(2, a.size, 1)
    _simple(ctx, "loggroup", acct, n, p_new=0.2, app=a.apps[0], traffic=_lognormal(rng, 0.8, 1.2, n), size_gb=50.0)


def _web(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    rng = ctx.rng
    prod = a.environment == "prod"
    s = a.size
    for app in a.apps:
        _instances(ctx, acct, "web", app, "web" if prod else "web-np", ctx.count(2.5, s), p_new=0.35, p_del=0.2,
                   anchor=True)
        _instances(ctx, acct, "api", app, "api" if prod else "web-np", ctx.count(1.8, s, 0), p_new=0.3, p_del=0.15)
        _instances(ctx, acct, "worker", app, "worker" if prod else "web-np", ctx.count(0.8, s, 0))
        n = ctx.count(0.5, s, 0)
        _simple(ctx, "alb", acct, n, app=app, traffic=_lognormal(rng, 6 if prod else 0.6, 0.7, n), public=True)
        n = ctx.count(0.5, s, 1 if prod else 0)
        cls = ctx.pick(["db.r6g.large", "db.r5.large", "db.m5.large", "db.r6g.xlarge", "db.m4.large"],
                       [30, 25, 20, 15, 10], n) if prod else ctx.pick(["db.t3.medium", "db.m6g.large"], [70, 30], n)
        _simple(ctx, "rds", acct, n, app=app, itype=cls, multi_az=prod, engine=ctx.pick(["postgres", "mysql"],
                [70, 30], n), size_gb=np.round(_lognormal(rng, 400 if prod else 50, 0.8, n), -1) + 20,
                traffic=_lognormal(rng, 40, 0.5, n))
        if prod:
            n = ctx.count(0.3, s, 0)
            _simple(ctx, "elasticache", acct, n, app=app, itype=ctx.pick(["cache.r6g.large", "cache.m6g.large"],
                    None, n), units=rng.choice([2.0, 3.0], size=n))
        n = ctx.count(1.6, s, 0)
        _simple(ctx, "lambda", acct, n, app=app, p_new=0.35, p_del=0.1,
                traffic=_lognormal(rng, 4000 if prod else 300, 1.4, n),
                traffic2=_lognormal(rng, 80000 if prod else 5000, 1.2, n))
        n = ctx.count(0.4, s, 0)
        _simple(ctx, "dynamodb", acct, n, app=app, size_gb=_lognormal(rng, 20, 1.2, n),
                traffic=_lognormal(rng, 1.5e6 if prod else 5e4, 1.0, n))
        if prod:
            _buckets(ctx, acct, app, ["assets"], [80])
    if prod:
        _buckets(ctx, acct, a.apps[0], ["logs"], [3000])
    else:
        _buckets(ctx, acct, a.apps[0], ["assets", "logs"], [5, 100])
    _common(ctx, acct)
    nat_n = 2 if prod else 1
    _nat(ctx, acct, nat_n, 60 if prod else 4)
    if prod or ctx.f >= 1:
        _instances(ctx, acct, "bastion", "bastion", "util", 1, p_new=0.05, p_del=0.0, regions=np.array([a.region]),
                   eip=True)
    _simple(ctx, "zone", acct, 1, regions=np.array([""], dtype=object), app=a.apps[0],
            traffic=_lognormal(rng, 4e5 if prod else 2e4, 0.8, 1), p_new=0.0, p_del=0.0)


def _buckets(ctx: _Ctx, acct: int, app: str, purposes: list[str], sizes_gb: list[float],
             glacier: bool = False, public: bool = False) -> None:
    rng = ctx.rng
    n = len(purposes)
    size = np.array(sizes_gb, float) * np.exp(0.4 * rng.standard_normal(n)) * ctx.f ** 0.8
    # Requests grow slower than the bytes stored (archives are big and quiet).
    requests = 2000 * size ** 0.6 * _lognormal(rng, 1.0, 0.8, n) * (0.05 if glacier else 1.0)
    _simple(ctx, "bucket", acct, n, app=app, purpose=np.array(purposes, dtype=object), size_gb=size,
            p_new=0.1, p_del=0.0, regions=np.full(n, ACCOUNTS[acct].region, dtype=object), traffic=requests,
            public=public, vtype="glacier" if glacier else "standard", encrypted=rng.random(n) < 0.9)


def _nat(ctx: _Ctx, acct: int, n: int, gb_per_day: float) -> None:
    a = ACCOUNTS[acct]
    region = np.full(n, a.region, dtype=object)
    az = np.array([a.region + "abc"[i % 3] for i in range(n)], dtype=object)
    created = ctx.end - HORIZON_DAYS - 100 - 200 * ctx.rng.random(n)
    ids = ctx.rows.add("nat", acct, n, region=region, az=az, created=created, app="network", role="nat",
                       traffic=_lognormal(ctx.rng, gb_per_day * max(1.0, ctx.f ** 0.7), 0.4, n))
    ctx.rows.add("eip", acct, n, region=region, az="", created=created, parent=ids, role="nat", app="network")


def _data(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    rng = ctx.rng
    prod = a.environment == "prod"
    for app in a.apps:
        _instances(ctx, acct, "etl", app, "etl" if prod else "web-np", ctx.count(1.5, a.size), p_new=0.25,
                   anchor=True)
        n = ctx.count(1.2, a.size)
        _simple(ctx, "lambda", acct, n, app=app, traffic=_lognormal(rng, 3000, 1.2, n),
                traffic2=_lognormal(rng, 20000, 1.0, n))
    raw = 40_000 * a.size if prod else 2_000
    _buckets(ctx, acct, a.apps[0], ["raw", "curated", "athena-results"], [raw, raw * 0.3, 400])
    _common(ctx, acct)
    _nat(ctx, acct, 1, 40 if prod else 3)


def _analytics(ctx: _Ctx, acct: int) -> None:
    _buckets(ctx, acct, "bi", ["quicksight-exports"], [200])


def _warehouse(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    n = ctx.count(0.5, a.size, 1)
    _simple(ctx, "redshift", acct, n, p_new=0.0, p_del=0.0, app="warehouse", itype="ra3.4xlarge",
            units=ctx.rng.choice([2.0, 4.0], size=n), size_gb=_lognormal(ctx.rng, 20_000, 0.5, n))
    _instances(ctx, acct, "etl", "warehouse", "etl", ctx.count(1, a.size))
    _buckets(ctx, acct, "warehouse", ["unload", "staging"], [8000, 1500])
    _common(ctx, acct)


def _ml(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    rng = ctx.rng
    prod = a.environment == "prod"
    for app in a.apps:
        n = ctx.count(1.5, a.size)
        _simple(ctx, "notebook", acct, n, app=app, itype=ctx.pick(["ml.t3.medium", "ml.m5.xlarge"], [70, 30], n),
                p_new=0.4, p_del=0.2)
        if prod:
            n = ctx.count(0.8, a.size)
            _simple(ctx, "endpoint", acct, n, app=app, p_new=0.4, itype=ctx.pick(["ml.m5.xlarge", "ml.g4dn.xlarge"],
                    [60, 40], n), units=rng.choice([1.0, 2.0], size=n))
        _instances(ctx, acct, "gpu", app, "gpu", ctx.count(0.6, a.size), p_new=0.4, p_del=0.3)
        _buckets(ctx, acct, app, ["models"], [3000 if prod else 300])
    _common(ctx, acct)


def _k8s(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    prod = a.environment == "prod"
    cluster = ctx.rows.add("eks", acct, 1, region=a.region, created=ctx.end - HORIZON_DAYS - 200, app="eks",
                           name=f"{a.account_name.replace('platform-', '')}-cluster")
    del cluster
    n = ctx.count(8, a.size)
    _instances(ctx, acct, "node", "eks", "eks", n, p_new=0.4, p_del=0.3, regions=np.full(n, a.region, dtype=object),
               windows_p=0.0)
    n = ctx.count(1.0, a.size)
    _simple(ctx, "alb", acct, n, app="eks", traffic=_lognormal(ctx.rng, 8 if prod else 1, 0.6, n), public=True)
    _nat(ctx, acct, 3 if prod else 1, 120 if prod else 10)
    _buckets(ctx, acct, "eks", ["velero-backups"], [900])
    _common(ctx, acct)


def _ci(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    _instances(ctx, acct, "jenkins", "jenkins", "api", 1, p_new=0.0, p_del=0.0, regions=np.array([a.region]))
    n = ctx.count(6, a.size)
    _instances(ctx, acct, "agent", "jenkins", "ci", n, p_new=0.5, p_del=0.4, regions=np.full(n, a.region, dtype=object),
               windows_p=0.08)
    _buckets(ctx, acct, "artifacts", ["artifacts", "build-cache"], [3000, 800])
    _nat(ctx, acct, 1, 80)
    _common(ctx, acct)


def _logging(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    if a.account_name == "logging":
        _instances(ctx, acct, "splunk-hf", "splunk", "splunk", 2, p_new=0.0, p_del=0.0,
                   regions=np.array([a.region, a.region], dtype=object))
        _buckets(ctx, acct, "logarchive", ["org-log-archive", "elb-logs"], [600_000, 40_000], glacier=True)
    n = ctx.count(0.5, a.size, 1)
    _simple(ctx, "opensearch", acct, n, app=a.apps[0], itype="r6g.large.search", units=3.0,
            size_gb=_lognormal(ctx.rng, 1500, 0.5, n), p_new=0.0, p_del=0.0)
    n = ctx.count(6, a.size)
    _simple(ctx, "loggroup", acct, n, app=a.apps[0], traffic=_lognormal(ctx.rng, 8, 1.0, n), size_gb=2000.0)
    _instances(ctx, acct, "worker", a.apps[-1], "worker", ctx.count(1.5, a.size))
    _common(ctx, acct)


def _security(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    _instances(ctx, acct, "scanner", "guard", "util", 2, p_new=0.1, p_del=0.0)
    _buckets(ctx, acct, "guard", ["findings"], [300])
    _simple(ctx, "kms", acct, ctx.count(4, a.size, 2), app="guard", role="cmk")
    _common(ctx, acct)


def _audit(ctx: _Ctx, acct: int) -> None:
    _buckets(ctx, acct, "audit", ["cloudtrail", "config-history"], [20_000, 3_000], glacier=False)
    _common(ctx, acct)


def _network(ctx: _Ctx, acct: int) -> None:
    _nat(ctx, acct, 3, 150)
    n = 3
    _simple(ctx, "zone", acct, n, regions=np.full(n, "", dtype=object), app="dns", p_new=0.0, p_del=0.0,
            traffic=_lognormal(ctx.rng, 3e6, 0.5, n))
    _common(ctx, acct)


def _shared(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    _instances(ctx, acct, "bastion", "tools", "util", 2, p_new=0.1, p_del=0.0,
               regions=np.array([a.region, a.other_region], dtype=object), eip=True)
    _instances(ctx, acct, "ad", "directory", "util", 2, p_new=0.0, p_del=0.0, windows_p=1.0,
               regions=np.array([a.region, a.region], dtype=object))
    _instances(ctx, acct, "worker", "tools", "worker", ctx.count(2, a.size))
    _buckets(ctx, acct, "tools", ["software", "backups"], [500, 12000])
    _common(ctx, acct)


def _mgmt(ctx: _Ctx, acct: int) -> None:
    _buckets(ctx, acct, "org", ["cur-exports"], [150])
    _common(ctx, acct)


def _cdn(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    n = 2 if a.size > 1 else 1
    _simple(ctx, "cloudfront", acct, n, regions=np.full(n, "", dtype=object), app=a.apps[0], p_new=0.0,
            p_del=0.0, traffic=_lognormal(ctx.rng, 600 * a.size * ctx.f ** 0.8, 0.4, n), public=True)
    _buckets(ctx, acct, a.apps[0], ["static-site"], [60], public=True)


def _serverless(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    rng = ctx.rng
    for app in a.apps:
        n = ctx.count(3, a.size)
        _simple(ctx, "lambda", acct, n, app=app, p_new=0.35, traffic=_lognormal(rng, 8000, 1.3, n),
                traffic2=_lognormal(rng, 300000, 1.0, n))
        n = ctx.count(1, a.size)
        _simple(ctx, "dynamodb", acct, n, app=app, size_gb=_lognormal(rng, 60, 1.0, n),
                traffic=_lognormal(rng, 4e6, 0.8, n))
    if "web" not in a.workloads:
        _common(ctx, acct)


def _search(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    n = ctx.count(0.5, a.size, 1)
    _simple(ctx, "opensearch", acct, n, app="search", itype="m6g.large.search", units=3.0, p_new=0.0, p_del=0.0,
            size_gb=_lognormal(ctx.rng, 400, 0.5, n))


def _sandbox(ctx: _Ctx, acct: int) -> None:
    a = ACCOUNTS[acct]
    n = ctx.count(3, a.size, 2)
    _instances(ctx, acct, "dev", a.apps[0], "sandbox", n, p_new=0.5, p_del=0.35, windows_p=0.1)
    _buckets(ctx, acct, a.apps[0], ["scratch"], [40], public=bool(ctx.rng.random() < 0.5))
    n = ctx.count(2, a.size, 0)
    _simple(ctx, "lambda", acct, n, app=a.apps[0], p_new=0.6, p_del=0.3, traffic=_lognormal(ctx.rng, 50, 1.0, n),
            traffic2=_lognormal(ctx.rng, 1000, 1.0, n))


RECIPES = {
    "web": _web, "data": _data, "analytics": _analytics, "warehouse": _warehouse, "ml": _ml, "k8s": _k8s,
    "ci": _ci, "logging": _logging, "security": _security, "audit": _audit, "network": _network,
    "shared": _shared, "mgmt": _mgmt, "cdn": _cdn, "serverless": _serverless, "search": _search,
    "sandbox": _sandbox,
}


def _planted_waste(ctx: _Ctx) -> None:
    """Waste the demo must show at every scale (at least 3 of each): see `planted` in the manifest."""
    rng, end = ctx.rng, ctx.end
    waste_accts = [i for i, a in enumerate(ACCOUNTS) if a.environment in ("dev", "sandbox", "staging")]
    n = max(4, ctx.count(1.5))
    accts = rng.choice(waste_accts, size=n)
    for acct in np.unique(accts):
        k = int((accts == acct).sum())
        # Legacy instances terminated without their data volumes and with their EIP left behind.
        created = end - 500 - rng.random(k) * 300
        gone = end - 5 - rng.random(k) * 200
        region = np.full(k, ACCOUNTS[acct].region, dtype=object)
        az = ctx.az(region)
        inst = ctx.rows.add("instance", int(acct), k, region=region, az=az, role="legacy", app="legacy-app",
                            itype=ctx.pick(*POOLS["sandbox"], k), created=created, deleted=gone)
        ctx.rows.add("volume", int(acct), k, region=region, az=az, role="root", app="legacy-app", vtype="gp2",
                     size_gb=30.0, created=created, deleted=gone, parent=inst)
        ctx.rows.add("volume", int(acct), k, region=region, az=az, role="data", app="legacy-app",
                     vtype=ctx.pick(["gp2", "gp3", "st1"], [60, 30, 10], k),
                     size_gb=np.round(_lognormal(rng, 500, 0.6, k), -1), created=created, detached=gone,
                     parent=inst, encrypted=rng.random(k) < 0.5)
        ctx.rows.add("eip", int(acct), k, region=region, created=created, detached=gone, parent=inst, role="legacy",
                     app="legacy-app")
        # Stopped (but not terminated) instances keep paying for their EBS volumes.
        sregion = np.full(k, ACCOUNTS[acct].region, dtype=object)
        _instances(ctx, int(acct), "test", "load-test" if ACCOUNTS[acct].environment != "sandbox" else "experiments",
                   "sandbox", k, p_new=0.0, p_del=0.0, regions=sregion, stopped=end - 2 - rng.random(k) * 120)
    # Old AMI snapshots nobody remembers.
    n = max(3, ctx.count(2))
    accts = rng.choice(waste_accts, size=n)
    for acct in np.unique(accts):
        k = int((accts == acct).sum())
        ctx.rows.add("snapshot", int(acct), k, region=ACCOUNTS[acct].region, role="ami", app="golden-ami",
                     size_gb=rng.choice([8.0, 30.0, 100.0], size=k), created=end - 250 - rng.random(k) * 600)


def _resizes(ctx: _Ctx, res: pd.DataFrame) -> None:
    """Some previous-generation instances get upgraded during the last 80 days (inventory shows the change)."""
    fam = res["itype"].str.split(".").str[0]
    cand = (res["kind"] == "instance") & fam.isin(list(PREV_GEN_UPGRADE)) & ~np.isfinite(res["deleted"]) & \
        ~np.isfinite(res["stopped"]) & (res["role"] != "legacy")
    idx = res.index[cand.to_numpy() & (ctx.rng.random(len(res)) < 0.25)]
    when = ctx.end - 1 - ctx.rng.random(len(idx)) * 79
    res.loc[idx, "resized"] = np.maximum(when, res.loc[idx, "created"].to_numpy() + 1)
    old = res.loc[idx, "itype"]
    res.loc[idx, "itype_new"] = [PREV_GEN_UPGRADE[t.split(".")[0]] + "." + t.split(".")[1] for t in old]


def _eks_rightsizing(ctx: _Ctx, res: pd.DataFrame) -> dict:
    """Step change: the dev EKS cluster loses 40% of its nodes 40 days before the end."""
    acct = _acct("platform-eks-dev")
    when = ctx.end - 40 + 0.45
    m = (res["kind"] == "instance") & (res["acct"] == acct) & (res["role"] == "node") & \
        (res["created"] < when) & (res["deleted"] > when)
    idx = res.index[m.to_numpy()]
    idx = idx[ctx.rng.random(len(idx)) < 0.4]
    res.loc[idx, "deleted"] = when
    vol = res.index[(res["kind"] == "volume").to_numpy() & res["parent"].isin(idx).to_numpy()]
    res.loc[vol, "deleted"] = when
    return {"account_id": ACCOUNTS[acct].account_id, "service_code": "AmazonEC2", "date": day_date(int(when)),
            "factor": 0.6, "description": "platform-eks-dev cluster right-sized: 40% of the nodes removed"}


def _acct(name: str) -> int:
    return ACCOUNTS.index(ACCOUNTS_BY_NAME[name])


# ----------------------------------------------------------------------------------------------
# Names, ids, tags
# ----------------------------------------------------------------------------------------------


def _hex(rng, n: int, width: int = 16) -> np.ndarray:
    digits = rng.integers(0, 16, size=(n, width), dtype=np.int8)
    chars = np.array(list("0123456789abcdef"))[digits]
    return np.ascontiguousarray(chars).view(f"<U{width}").ravel().astype(object)


def _finish_resources(ctx: _Ctx, res: pd.DataFrame) -> pd.DataFrame:
    rng = ctx.rng
    n = len(res)
    res = res.copy()
    acct_ids = np.array([a.account_id for a in ACCOUNTS], dtype=object)
    env_of = np.array([a.environment for a in ACCOUNTS], dtype=object)
    res["account_id"] = acct_ids[res["acct"].to_numpy()]
    res["env"] = env_of[res["acct"].to_numpy()]
    hexes = _hex(rng, n)
    kind = res["kind"].to_numpy()
    region = res["region"].to_numpy()
    acc = res["account_id"].to_numpy()
    app = res["app"].to_numpy()
    env = res["env"].to_numpy()
    name = res["name"].to_numpy().copy()

    # Instance host names: role-app[-env]-NN, EKS nodes by private DNS name, unique across the organization.
    inst = kind == "instance"
    role = res["role"].to_numpy()
    short_env = np.where(np.isin(env, ["prod", "shared"]), "", "-" + env)
    base = np.array([(r if a in r or not a else f"{r}-{a}") + e for r, a, e in zip(role, app, short_env, strict=True)],
                    dtype=object)
    order = np.zeros(n, dtype=np.int64)
    order[inst] = pd.Series(base[inst]).groupby(base[inst]).cumcount().to_numpy() + 1
    hostnames = np.array([f"{b}-{k:02d}" for b, k in zip(base, order, strict=True)], dtype=object)
    ordinal = np.cumsum(inst) - 1
    dns = np.array([f"ip-10-{16 + (o // 62500) % 200}-{(o // 250) % 250}-{o % 250 + 4}" for o in ordinal],
                   dtype=object)
    unnamed = inst & np.isin(role, ["node", "agent", "miner", "loadgen"])
    name = np.where(inst & (name == ""), np.where(unnamed, dns, hostnames), name)

    ids = np.full(n, "", dtype=object)
    prefix = {"instance": "i-0", "volume": "vol-0", "snapshot": "snap-0", "eip": "eipalloc-0", "nat": "nat-0",
              "vpc": "vpc-0", "subnet": "subnet-0", "sg": "sg-0"}
    for k, p in prefix.items():
        m = kind == k
        ids[m] = p + hexes[m]
    seq = pd.Series(np.ones(n)).groupby([kind, acc, app]).cumcount().to_numpy() + 1

    env_sfx = np.where(env == "prod", "prod", env)
    purpose = res["purpose"].to_numpy()
    fn_names = ("handle-events", "process-queue", "resize-images", "sync-catalog", "send-notifications",
                "rotate-keys", "export-report", "validate-input", "enrich-order", "cleanup-tmp")
    arn_col = np.full(n, "", dtype=object)

    def fmt(m: np.ndarray, template: str) -> np.ndarray:
        out = []
        for i in np.flatnonzero(m):
            sq = int(seq[i])
            h = hexes[i]
            out.append(template.format(
                a=app[i], p=purpose[i], e=env_sfx[i], c=acc[i], c4=acc[i][-4:], s=sq, sx=f"-{sq}" if sq > 1 else "",
                r=region[i], h=h, i=ids[i], n=name[i], fn=fn_names[(sq - 1) % 10],
                fx=f"-{(sq - 1) // 10 + 1}" if sq > 10 else "", dom="" if env[i] == "prod" else env[i] + ".",
                zone="Z0" + h.upper()[:16] + "XY", dist="E" + h.upper()[:13],
                uuid=f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[1:4]}-{h[4:16]}",
                kind=kind[i].replace("eip", "elastic-ip").replace("nat", "natgateway").replace("sg",
                                                                                              "security-group"),
            ))
        return np.array(out, dtype=object)

    # kind -> (name template, ARN template, resource id is the name (else the ARN))
    specs = {
        "bucket": ("daivi-{a}-{p}-{e}-{c4}", "arn:aws:s3:::{n}", True),
        "rds": ("{a}-{e}-db-{s:02d}", "arn:aws:rds:{r}:{c}:db:{n}", False),
        "lambda": ("{a}-{fn}{fx}", "arn:aws:lambda:{r}:{c}:function:{n}", False),
        "dynamodb": ("{a}-{e}-{s:02d}", "arn:aws:dynamodb:{r}:{c}:table/{n}", False),
        "alb": ("{a}-{e}-alb{sx}", "arn:aws:elasticloadbalancing:{r}:{c}:loadbalancer/app/{n}/{h}", False),
        "eks": ("{a}-cluster", "arn:aws:eks:{r}:{c}:cluster/{n}", False),
        "cloudfront": ("{a}.{dom}daivi.example", "arn:aws:cloudfront::{c}:distribution/{dist}", False),
        "notebook": ("{a}-{e}-nb-{s:02d}", "arn:aws:sagemaker:{r}:{c}:notebook-instance/{n}", False),
        "endpoint": ("{a}-{e}-endpoint-{s:02d}", "arn:aws:sagemaker:{r}:{c}:endpoint/{n}", False),
        "redshift": ("{a}-{e}-{s:02d}", "arn:aws:redshift:{r}:{c}:cluster:{n}", False),
        "opensearch": ("{a}-{e}-{s:02d}", "arn:aws:es:{r}:{c}:domain/{n}", False),
        "elasticache": ("{a}-{e}-redis-{s:02d}", "arn:aws:elasticache:{r}:{c}:cluster:{n}", False),
        "kms": ("alias/{a}-{e}{sx}", "arn:aws:kms:{r}:{c}:key/{uuid}", False),
        "zone": ("{a}.{dom}daivi.example", "arn:aws:route53:::hostedzone/{zone}", False),
        "loggroup": ("/aws/{a}/{e}/service-{s}", "arn:aws:logs:{r}:{c}:log-group:{n}", False),
    }
    for k in ("instance", "volume", "snapshot", "eip", "nat", "vpc", "subnet", "sg"):
        m = kind == k
        if m.any():
            arn_col[m] = fmt(m, "arn:aws:ec2:{r}:{c}:{kind}/{i}")
    for k, (name_t, arn_t, by_name) in specs.items():
        m = kind == k
        if not m.any():
            continue
        unnamed = m & (name == "")
        if unnamed.any():
            name[unnamed] = fmt(unnamed, name_t)
        arn_col[m] = fmt(m, arn_t)
        ids[m] = name[m] if by_name else arn_col[m]
    res["arn"] = arn_col
    # EC2 volumes and snapshots: Name tag derived from the instance.
    parent = res["parent"].to_numpy()
    has_parent = parent >= 0
    pname = np.where(has_parent, name[np.where(has_parent, parent, 0)], "")
    vol = (kind == "volume") & (name == "")
    name[vol] = np.where(pname[vol] != "", pname[vol] + np.where(role[vol] == "root", "-root", "-data"), "")
    snap = (kind == "snapshot") & (name == "")
    name[snap] = np.where(role[snap] == "ami", np.char.add("golden-ami-", hexes[snap].astype(str)[:, ]).astype(object),
                          np.char.add(app[snap].astype(str), "-backup").astype(object))
    nat = (kind == "nat") & (name == "")
    name[nat] = np.array([f"nat-{c[-4:]}-{a}" for c, a in zip(acc[nat], res["az"].to_numpy()[nat], strict=True)],
                         dtype=object)
    eip = (kind == "eip") & (name == "")
    name[eip] = pname[eip]
    res["name"] = name
    res["resource_id"] = ids
    res["rtype"] = [CONFIG_TYPES[k] for k in kind]
    res["attached_to"] = np.where(has_parent, ids[np.where(has_parent, parent, 0)], "")

    # Tags: team/environment/cost-center/application with realistic gaps and mistakes.
    u = rng.random(n)
    untagged = u < res["untagged_p"].to_numpy() * np.where(env == "sandbox", 2.2, 1.0)
    partial = ~untagged & (rng.random(n) < 0.15)
    wrong = ~untagged & (rng.random(n) < 0.07)
    team = np.array([ACCOUNTS[i].team for i in res["acct"]], dtype=object)
    cc = np.array([ACCOUNTS[i].cost_center for i in res["acct"]], dtype=object)
    env_tag = env.copy()
    bad_env = np.array(["Prod", "production", "PROD", "Dev", "stage", "Staging"], dtype=object)
    env_tag = np.where(wrong & (rng.random(n) < 0.7), bad_env[rng.integers(0, 6, n)], env_tag)
    team = np.where(wrong & (rng.random(n) < 0.3), np.char.title(team.astype(str)).astype(object), team)
    tag_app = np.where(app == "", None, app)
    res["tag_team"] = np.where(untagged, None, team)
    res["tag_env"] = np.where(untagged | (partial & (rng.random(n) < 0.3)), None, env_tag)
    res["tag_cc"] = np.where(untagged | partial, None, cc)
    res["tag_app"] = np.where(untagged | (partial & (rng.random(n) < 0.6)), None, tag_app)
    # Incident and kubernetes-managed resources never carry cost allocation tags.
    no_tags = res["incident"].to_numpy() != ""
    for col in ("tag_team", "tag_env", "tag_cc", "tag_app"):
        res.loc[no_tags, col] = None
    return res


# ----------------------------------------------------------------------------------------------
# Cost components
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Commitments, steps, incidents
# ----------------------------------------------------------------------------------------------


def expected_daily_cost(comps: pd.DataFrame, day: float) -> np.ndarray:
    """Expected (noise-free, weekday) daily on-demand cost of each component on `day`."""
    alive = (comps["start"].to_numpy(float) <= day) & (comps["end"].to_numpy(float) > day + 1)
    q = comps["units"].to_numpy(float)
    qm = comps["qmodel"].to_numpy()
    daily = np.where(qm == Q_HOURS, 24 * q, np.where(qm == Q_MONTHLY, q / DAYS_PER_MONTH, q))
    return np.where(alive, daily * comps["rate"].to_numpy(float), 0.0)


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


def build_fleet(seed: int, scale_factor: float, end_date: dt.date) -> Fleet:
    end = epoch_day(end_date)
    ctx = _Ctx(seed, scale_factor, end)
    for i, a in enumerate(ACCOUNTS):
        _networking(ctx, i)
        for w in a.workloads:
            RECIPES[w](ctx, i)
    _planted_waste(ctx)
    raw = ctx.rows.frame()
    _resizes(ctx, raw)
    eks_step = _eks_rightsizing(ctx, raw)
    # A probe build prices the base fleet so that incidents can be sized against each group's normal cost.
    probe = _build_comps(ctx, _finish_resources(ctx, raw))
    n_base = ctx.rows.n
    incidents, extra = _add_incidents(ctx, raw, probe)
    added = ctx.rows.frame().loc[n_base:]
    raw = pd.concat([raw, added[raw.columns]])
    res = _finish_resources(ctx, raw)
    comps = _build_comps(ctx, res)
    rid = comps["rid"].to_numpy()
    ut = comps["usage_type"].to_numpy()
    incident_extra = []
    for r, u, d, q in extra:
        ci = int(np.flatnonzero((rid == r) & (ut == u))[0])
        incident_extra.append((ci, int(d), float(q)))
    for inc in incidents:
        inc["start_date"], inc["end_date"] = inc["start"][:10], inc["end"][:10]
        rids = [int(x) for x in inc.pop("rids")]
        bucket = inc.pop("bucket_rid", None)
        inc["host"] = str(res.loc[rids[0], "name"]) if rids else ""
        inc["resource_ids"] = [str(res.loc[x, "resource_id"]) for x in rids] + (
            [str(res.loc[bucket, "resource_id"])] if bucket is not None else [])
    reservations, savings_plans = _commitments(ctx, comps)
    steps = [{"account_id": ACCOUNTS_BY_NAME[a].account_id, "service_code": p, "date": day_date(end - d),
              "factor": f, "description": desc} for a, p, d, f, desc in STEPS]
    steps.append(eks_step)
    comps = _add_comp_strings(comps)
    return Fleet(end=end, resources=res, comps=comps, savings_plans=savings_plans, reservations=reservations,
                 steps=steps, incidents=incidents, incident_extra=incident_extra)


def _add_comp_strings(comps: pd.DataFrame) -> pd.DataFrame:
    comps = comps.copy()
    comps["rate_str"] = [f"{x:.10f}" for x in comps["rate"].to_numpy(float)]
    comps["sku"] = [stable_hex(u + o + r, 14).upper() for u, o, r in
                    zip(comps["usage_type"], comps["operation"], comps["region"], strict=True)]
    comps["ci"] = np.arange(len(comps), dtype=np.int32)
    return comps


def resource_config_json(res: pd.DataFrame) -> np.ndarray:
    """A compact AWS Config `configuration` per resource; '@STATE@' and '@ATTACH@' are filled per snapshot."""
    out = np.empty(len(res), dtype=object)
    for i, r in enumerate(res.itertuples(index=False)):
        out[i] = json.dumps(_config(r), separators=(",", ":"))
    return out


def _config(r) -> dict:
    k = r.kind
    created = (dt.datetime(1970, 1, 1) + dt.timedelta(days=float(r.created))).replace(microsecond=0).isoformat() + ".000Z"
    h = stable_hex(r.resource_id, 24)
    if k == "instance":
        ip = f"10.{int(h[:2], 16) % 64}.{int(h[2:4], 16)}.{int(h[4:6], 16) % 250 + 4}"
        return {"instanceId": r.resource_id, "instanceType": "@ITYPE@", "imageId": "ami-0" + h[:16],
                "state": {"code": "@CODE@", "name": "@STATE@"}, "launchTime": created,
                "placement": {"availabilityZone": r.az, "tenancy": "default"}, "privateIpAddress": ip,
                "privateDnsName": f"ip-{ip.replace('.', '-')}.ec2.internal", "subnetId": "subnet-0" + h[6:22],
                "vpcId": "vpc-0" + h[8:24], "architecture": "arm64" if "g." in r.itype else "x86_64",
                "platformDetails": r.platform, "monitoring": {"state": "disabled"},
                "metadataOptions": {"httpTokens": "required" if int(h[0], 16) > 4 else "optional"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"status": "attached",
                                                                          "deleteOnTermination": True}}]}
    if k == "volume":
        return {"volumeId": r.resource_id, "size": int(r.size_gb), "volumeType": r.vtype, "state": "@STATE@",
                "availabilityZone": r.az, "encrypted": bool(r.encrypted), "createTime": created,
                "iops": int(r.iops) if r.iops else (3000 if r.vtype == "gp3" else max(100, int(r.size_gb) * 3)),
                "attachments": "@ATTACH@"}
    if k == "snapshot":
        return {"snapshotId": r.resource_id, "volumeSize": int(r.size_gb), "state": "completed",
                "startTime": created, "encrypted": bool(r.encrypted), "description": "Created by AWS Backup"
                if r.role == "backup" else f"Copied for DestinationAmi ami-0{h[:16]}"}
    if k == "eip":
        return {"allocationId": r.resource_id, "publicIp": f"{3 + int(h[:2], 16) % 50}.{int(h[2:4], 16)}."
                f"{int(h[4:6], 16)}.{int(h[6:8], 16)}", "domain": "vpc", "associationId": "@ATTACH@"}
    if k == "bucket":
        return {"name": r.name, "creationDate": created, "versioning": {"status": "Enabled"},
                "publicAccessBlock": {"blockPublicAcls": not r.public, "restrictPublicBuckets": not r.public},
                "serverSideEncryption": {"sseAlgorithm": "aws:kms" if r.encrypted else "AES256"}}
    if k == "rds":
        return {"dbInstanceIdentifier": r.name, "dbInstanceClass": r.itype, "engine": r.engine,
                "multiAZ": bool(r.multi_az), "allocatedStorage": int(r.size_gb), "storageType": "gp2",
                "storageEncrypted": bool(r.encrypted), "dbInstanceStatus": "@STATE@",
                "publiclyAccessible": bool(r.public)}
    if k == "lambda":
        return {"functionName": r.name, "runtime": ["python3.12", "nodejs20.x", "java17"][int(h[0], 16) % 3],
                "memorySize": [128, 256, 512, 1024][int(h[1], 16) % 4], "timeout": 30, "handler": "app.handler",
                "architectures": ["arm64" if int(h[2], 16) % 2 else "x86_64"]}
    return {"name": r.name, "resourceId": r.resource_id, "createdTime": created, "status": "@STATE@"}
