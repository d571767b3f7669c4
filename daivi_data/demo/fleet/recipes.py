"""The workload recipes: what each account runs (instances, volumes, buckets, databases ...), planted waste and resizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from daivi_data.demo.fleet.core import HORIZON_DAYS, INF, _acct, _Ctx, day_date
from daivi_data.demo.org import ACCOUNTS

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
