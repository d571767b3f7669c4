"""The fleet's time axis, constants and the accumulators every part builds on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math

import numpy as np
import pandas as pd

from daivi_data.demo.org import ACCOUNTS, ACCOUNTS_BY_NAME

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


def _acct(name: str) -> int:
    return ACCOUNTS.index(ACCOUNTS_BY_NAME[name])
