"""Public list prices and region codes the demo is priced with (service names: `lakehouse.services`).

The prices are data: daivi_data/demo/prices.toml (us-east-1 on-demand list
prices in USD, close to AWS's published ones; other regions apply their
`price_factor`), read once when this module is imported. They only need to be
realistic in shape: a long tail from fractions of a cent (requests) to dollars
per hour (GPU).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from daivi_data.lakehouse.services import SERVICE_NAMES  # AWS's names, by product code: one table for all

PRICES_FILE = Path(__file__).with_name("prices.toml")

PRODUCT_CODES: tuple[str, ...] = tuple(SERVICE_NAMES)


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


_TABLE = _load(PRICES_FILE)

REGIONS: tuple[str, ...] = tuple(_TABLE["regions"])
REGION_PREFIX: dict[str, str] = {r: v["prefix"] for r, v in _TABLE["regions"].items()}
REGION_NAME: dict[str, str] = {r: v["name"] for r, v in _TABLE["regions"].items()}
REGION_PRICE_FACTOR: dict[str, float] = {r: v["price_factor"] for r, v in _TABLE["regions"].items()}

EC2_PRICES: dict[str, float] = _TABLE["ec2_hourly"]  # Linux on-demand $/hour
PREVIOUS_GENERATION_FAMILIES = ("m4", "c4", "r4", "t2")
SP_DISCOUNT: dict[str, float] = _TABLE["savings_plan_discount"]  # Compute Savings Plan discount by instance family
SIZE_NORMALIZATION: dict[str, float] = _TABLE["size_normalization"]

RDS_PRICES: dict[str, float] = _TABLE["rds_hourly"]  # PostgreSQL single-AZ $/hour
ELASTICACHE_PRICES: dict[str, float] = _TABLE["elasticache_hourly"]
SAGEMAKER_PRICES: dict[str, float] = _TABLE["sagemaker_hourly"]
REDSHIFT_PRICES: dict[str, float] = _TABLE["redshift_hourly"]
OPENSEARCH_PRICES: dict[str, float] = _TABLE["opensearch_hourly"]

EBS_PRICES: dict[str, float] = {t: v["gb_month"] for t, v in _TABLE["ebs"].items()}
EBS_OPERATION: dict[str, str] = {t: v["operation"] for t, v in _TABLE["ebs"].items()}
EBS_LABEL: dict[str, str] = {t: v["label"] for t, v in _TABLE["ebs"].items()}

LONG_TAIL: tuple[dict, ...] = tuple(_TABLE["long_tail"])  # account-level usage without a resource id


def usage_price(key: str) -> dict[str, object]:
    """`rate` ($ per unit) and `desc` (the price list's description) of a usage priced alike everywhere, by
    "<product> <usage type>" (prices.toml's [usage] table); a usage missing from the table is a KeyError."""
    entry = _TABLE["usage"][key]
    return {"rate": entry["rate"], "desc": entry["description"]}


def instance_family(instance_type: str) -> str:
    """'m5.large' -> 'm5', 'db.r6g.large' -> 'r6g'."""
    parts = instance_type.split(".")
    return parts[-2] if len(parts) >= 2 else instance_type


def normalization_factor(instance_type: str) -> float:
    return float(SIZE_NORMALIZATION.get(instance_type.rsplit(".", 1)[-1], 8))
