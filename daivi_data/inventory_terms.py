"""What inventory queries and analysis both speak of: resource types, tag conditions, waste thresholds.

Plain values only (no pandas, no SQL), so the query builders and the pandas analysis each import
it and neither imports the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

TAG_EQUALS = "equals"
TAG_NOT_EQUALS = "not_equals"
TAG_EXISTS = "exists"
TAG_MISSING = "missing"


@dataclass(frozen=True)
class TagCondition:
    """One tag filter: `key=value`, `key!=value`, `key` (exists) or `!key` (missing)."""

    key: str
    op: str
    value: str = ""

    def describe(self) -> str:
        return {
            TAG_EQUALS: f"{self.key}={self.value}",
            TAG_NOT_EQUALS: f"{self.key}!={self.value}",
            TAG_EXISTS: self.key,
            TAG_MISSING: f"!{self.key}",
        }[self.op]


EC2_INSTANCE = "AWS::EC2::Instance"
EBS_VOLUME = "AWS::EC2::Volume"
ELASTIC_IP = "AWS::EC2::EIP"
EBS_SNAPSHOT = "AWS::EC2::Snapshot"
RDS_INSTANCE = "AWS::RDS::DBInstance"
INSTANCE_TYPES = (EC2_INSTANCE, RDS_INSTANCE)

OLD_SNAPSHOT_DAYS = 180
# Families AWS lists as previous generation (EC2 and their RDS `db.` counterparts), with the current
# family that replaces each one.
PREVIOUS_GENERATION_FAMILIES: dict[str, str] = {
    "t1": "t3", "t2": "t3", "m1": "m5", "m2": "r5", "m3": "m5", "m4": "m5", "c1": "c5", "c3": "c5", "c4": "c5",
    "r3": "r5", "r4": "r5", "i2": "i3", "d2": "d3", "g2": "g4dn", "p2": "p3", "x1": "x2idn", "cc2": "c5",
    "cr1": "r5", "hs1": "d3", "a1": "m6g",
}


def old_snapshot_cutoff(snapshot_date: dt.date, days: int = OLD_SNAPSHOT_DAYS) -> dt.datetime:
    """Snapshots created before this instant are old."""
    return dt.datetime.combine(snapshot_date - dt.timedelta(days=days), dt.time())
