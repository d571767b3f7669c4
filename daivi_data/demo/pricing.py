"""Public list prices, service names and region codes the demo is priced with.

The prices are data: daivi_data/demo/prices.toml (us-east-1 on-demand list
prices in USD, close to AWS's published ones; other regions apply their
`price_factor`), read once when this module is imported. They only need to be
realistic in shape: a long tail from fractions of a cent (requests) to dollars
per hour (GPU).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("prices.toml")

# product code (line_item_product_code / cost_daily.service_code) -> service name as Cost Explorer shows it.
SERVICE_NAMES: dict[str, str] = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AmazonRDS": "Amazon Relational Database Service",
    "AmazonS3": "Amazon Simple Storage Service",
    "AWSLambda": "AWS Lambda",
    "AmazonDynamoDB": "Amazon DynamoDB",
    "AmazonCloudFront": "Amazon CloudFront",
    "AWSELB": "Elastic Load Balancing",
    "AmazonEKS": "Amazon Elastic Kubernetes Service",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "awskms": "AWS Key Management Service",
    "AmazonRoute53": "Amazon Route 53",
    "AmazonSageMaker": "Amazon SageMaker",
    "AmazonRedshift": "Amazon Redshift",
    "AmazonES": "Amazon OpenSearch Service",
    "AmazonElastiCache": "Amazon ElastiCache",
    "AmazonVPC": "Amazon Virtual Private Cloud",
    "AWSSupportBusiness": "AWS Support (Business)",
    "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
    "AWSConfig": "AWS Config",
    "AWSCloudTrail": "AWS CloudTrail",
    "AmazonGuardDuty": "Amazon GuardDuty",
    "AWSSecretsManager": "AWS Secrets Manager",
    "AWSQueueService": "Amazon Simple Queue Service",
    "AmazonSNS": "Amazon Simple Notification Service",
    "AmazonECR": "Amazon EC2 Container Registry (ECR)",
    "AmazonAthena": "Amazon Athena",
    "AWSGlue": "AWS Glue",
    "AmazonKinesis": "Amazon Kinesis",
    "AmazonECS": "Amazon Elastic Container Service",
    "AmazonApiGateway": "Amazon API Gateway",
    "AWSBackup": "AWS Backup",
    "AmazonEFS": "Amazon Elastic File System",
    "AmazonInspectorV2": "Amazon Inspector",
    "AWSSecurityHub": "AWS Security Hub",
    "AWSXRay": "AWS X-Ray",
    "AmazonQuickSight": "Amazon QuickSight",
    "awswaf": "AWS WAF",
    "AWSCostExplorer": "AWS Cost Explorer",
    "AmazonSES": "Amazon Simple Email Service",
    "CodeBuild": "CodeBuild",
    "AWSDirectoryService": "AWS Directory Service",
    "AmazonStates": "AWS Step Functions",
    "AmazonCognito": "Amazon Cognito",
}
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
