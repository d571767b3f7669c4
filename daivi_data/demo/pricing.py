"""Public list prices and region codes the demo is priced with (service names: `lakehouse.services`).

Rates are us-east-1 on-demand list prices (USD) close to AWS's published ones;
other regions apply `REGION_PRICE_FACTOR`. They only need to be realistic in
shape: a long tail from fractions of a cent (requests) to dollars per hour (GPU).
"""

from __future__ import annotations

from daivi_data.lakehouse.services import SERVICE_NAMES  # AWS's names, by product code: one table for all

PRODUCT_CODES: tuple[str, ...] = tuple(SERVICE_NAMES)

REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1",
)
REGION_PREFIX: dict[str, str] = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-2": "USW2", "eu-west-1": "EU",
    "eu-central-1": "EUC1", "ap-southeast-1": "APS1", "ap-northeast-1": "APN1",
}
REGION_NAME: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}
REGION_PRICE_FACTOR: dict[str, float] = {
    "us-east-1": 1.0, "us-east-2": 1.0, "us-west-2": 1.0, "eu-west-1": 1.12, "eu-central-1": 1.19,
    "ap-southeast-1": 1.25, "ap-northeast-1": 1.29,
}

# EC2 Linux on-demand $/hour (us-east-1).
EC2_PRICES: dict[str, float] = {
    "t2.micro": 0.0116, "t2.medium": 0.0464, "t2.large": 0.0928,
    "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664,
    "m4.large": 0.10, "m4.xlarge": 0.20, "m4.2xlarge": 0.40,
    "c4.large": 0.10, "c4.xlarge": 0.199, "r4.large": 0.133, "r4.xlarge": 0.266,
    "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
    "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384, "m6i.4xlarge": 0.768,
    "m6g.large": 0.077, "m6g.xlarge": 0.154, "m7g.large": 0.0816, "m7g.xlarge": 0.1632,
    "c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34, "c5.4xlarge": 0.68,
    "c6i.large": 0.085, "c6i.xlarge": 0.17, "c6i.2xlarge": 0.34, "c6g.xlarge": 0.136,
    "r5.large": 0.126, "r5.xlarge": 0.252, "r5.2xlarge": 0.504, "r5.4xlarge": 1.008,
    "r6i.large": 0.126, "r6i.xlarge": 0.252, "r6i.2xlarge": 0.504, "r6g.xlarge": 0.2016,
    "i3.xlarge": 0.312, "g4dn.xlarge": 0.526, "g5.xlarge": 1.006, "p3.2xlarge": 3.06,
}
PREVIOUS_GENERATION_FAMILIES = ("m4", "c4", "r4", "t2")
# Compute Savings Plan discount off on-demand by instance family (1-year, no upfront; approximate).
SP_DISCOUNT: dict[str, float] = {
    "t2": 0.20, "t3": 0.25, "m4": 0.22, "c4": 0.22, "r4": 0.22, "m5": 0.28, "m6i": 0.28, "m6g": 0.27, "m7g": 0.27,
    "c5": 0.27, "c6i": 0.27, "c6g": 0.26, "r5": 0.29, "r6i": 0.29, "r6g": 0.28, "i3": 0.26, "g4dn": 0.20,
    "g5": 0.19, "p3": 0.10,
}
SIZE_NORMALIZATION: dict[str, float] = {
    "nano": 0.25, "micro": 0.5, "small": 1, "medium": 2, "large": 4, "xlarge": 8, "2xlarge": 16, "4xlarge": 32,
}

RDS_PRICES: dict[str, float] = {  # PostgreSQL single-AZ $/hour
    "db.t3.medium": 0.072, "db.m5.large": 0.178, "db.m6g.large": 0.159, "db.r5.large": 0.25,
    "db.r6g.large": 0.225, "db.r6g.xlarge": 0.45, "db.r5.2xlarge": 1.00, "db.m4.large": 0.182,
}
ELASTICACHE_PRICES: dict[str, float] = {"cache.t3.medium": 0.068, "cache.m6g.large": 0.149, "cache.r6g.large": 0.206}
SAGEMAKER_PRICES: dict[str, float] = {
    "ml.t3.medium": 0.05, "ml.m5.xlarge": 0.23, "ml.g4dn.xlarge": 0.736, "ml.p3.2xlarge": 3.825,
}
REDSHIFT_PRICES: dict[str, float] = {"ra3.xlplus": 1.086, "ra3.4xlarge": 3.26}
OPENSEARCH_PRICES: dict[str, float] = {"r6g.large.search": 0.167, "m6g.large.search": 0.128}

EBS_PRICES: dict[str, float] = {"gp2": 0.10, "gp3": 0.08, "io1": 0.125, "st1": 0.045, "sc1": 0.015}
EBS_OPERATION: dict[str, str] = {
    "gp2": "CreateVolume-Gp2", "gp3": "CreateVolume-Gp3", "io1": "CreateVolume-P-IOPS", "st1": "CreateVolume-St1",
    "sc1": "CreateVolume-Sc1",
}
EBS_LABEL: dict[str, str] = {
    "gp2": "General Purpose SSD (gp2)", "gp3": "General Purpose SSD (gp3)", "io1": "Provisioned IOPS SSD (io1)",
    "st1": "Throughput Optimized HDD (st1)", "sc1": "Cold HDD (sc1)",
}


def instance_family(instance_type: str) -> str:
    """'m5.large' -> 'm5', 'db.r6g.large' -> 'r6g'."""
    parts = instance_type.split(".")
    return parts[-2] if len(parts) >= 2 else instance_type


def normalization_factor(instance_type: str) -> float:
    return float(SIZE_NORMALIZATION.get(instance_type.rsplit(".", 1)[-1], 8))
