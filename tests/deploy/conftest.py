"""The generated CloudFormation template, parsed, and a way to read it as AWS would after substitution."""

from __future__ import annotations

import re

import pytest
import yaml

from deploy.generate import TEMPLATE_PATH

# Values a real deployment would give the template's references, for comparing documents.
ACCOUNT = "111122223333"
VALUES = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": "eu-west-1",
    "AWS::Partition": "aws",
    "NamePrefix": "daivi",
    "ResultsBucket": "daivi-athena-results-111122223333-eu-west-1",
    "AppTaskRole": "daivi-explorer-app",
    "AppTaskRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/daivi-explorer-app",
    "WorkGroup": "daivi",
    "LakehouseBucketName": "daivi-lakehouse",
    "LakehousePrefix": "lakehouse",
    "CurExportBucketName": "",
    "CurExportDataPrefix": "",
    "LoadBalancer": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/daivi/50dc6c495c0c9188",
    "GroupsClaim": "groups",
}


def materialize(node: object, values: dict[str, str] = VALUES) -> object:
    """`node` with Ref / Fn::GetAtt / Fn::Sub replaced by `values`, as CloudFormation would hand it to AWS."""
    if isinstance(node, list):
        return [materialize(n, values) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        return values[node["Ref"]]
    if set(node) == {"Fn::GetAtt"}:
        return values[".".join(node["Fn::GetAtt"])]
    if set(node) == {"Fn::Sub"}:
        text = re.sub(r"\$\{([^}!][^}]*)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
        return text.replace("${!", "${")
    return {k: materialize(v, values) for k, v in node.items()}


@pytest.fixture(scope="session")
def template() -> dict:
    return yaml.safe_load(TEMPLATE_PATH.read_text())


@pytest.fixture(scope="session")
def resources(template) -> dict:
    return template["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}
