"""The IAM documents of daivi_data.aws.policies, evaluated as IAM would for the requests that matter.

A small evaluator (explicit deny wins, then any allow; `*`/`?` wildcards;
`${aws:userid}` substituted; StringLike / ArnLike / Null / Bool conditions) is
enough to ask the questions the documents exist to answer: can one person's
session read another person's Athena results? can anyone but the app assume a
grants role, or assume it without naming the person?
"""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from daivi_data.aws.policies import (
    results_access_policy,
    results_bucket_policy,
    role_trust_policy,
    user_results_prefix,
)

BUCKET = "daivi-athena-results"
PREFIX = "explorer"
APP_ROLE = "arn:aws:iam::123456789012:role/daivi-app-task"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/daivi-admin"
ALICE = "AROAEXAMPLEADMINROLE:alice.example.com-1a2b3c4d"
BOB = "AROAEXAMPLEADMINROLE:bob.example.com-5e6f7a8b"


def _like(pattern: str, value: str, variables: dict[str, str]) -> bool:
    for name, replacement in variables.items():
        pattern = pattern.replace("${" + name + "}", replacement)
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict, context: dict[str, str], variables: dict[str, str]) -> bool:
    for operator, keys in conditions.items():
        for key, expected in keys.items():
            actual = context.get(key)
            if operator == "Null":
                if (actual is None) != (expected == "true"):
                    return False
            elif actual is None:
                return False
            elif operator in ("StringLike", "ArnLike"):
                if not any(_like(p, actual, variables) for p in _as_list(expected)):
                    return False
            elif operator in ("StringEquals", "Bool"):
                if actual not in _as_list(expected):
                    return False
            else:
                raise AssertionError(f"evaluator does not know {operator}")
    return True


def _matches(statement: dict, action: str, resource: str, context: dict[str, str], variables: dict[str, str],
             principal: str | None) -> bool:
    if principal is not None and "Principal" in statement:
        wanted = statement["Principal"]
        if wanted != "*" and principal not in _as_list(wanted.get("AWS", [])):
            return False
    if not any(fnmatch.fnmatchcase(action, a) for a in _as_list(statement["Action"])):
        return False
    if "Resource" in statement and not any(_like(r, resource, variables) for r in _as_list(statement["Resource"])):
        return False
    if "NotResource" in statement and any(_like(r, resource, variables) for r in _as_list(statement["NotResource"])):
        return False
    return _conditions_hold(statement.get("Condition", {}), context, variables)


def allowed(policy: dict, action: str, resource: str = "*", *, userid: str = "", context: dict | None = None,
            principal: str | None = None) -> bool:
    json.dumps(policy)  # a policy is JSON, nothing else
    variables = {"aws:userid": userid}
    context = dict(context or {})
    hits = [s for s in policy["Statement"] if _matches(s, action, resource, context, variables, principal)]
    return not any(s["Effect"] == "Deny" for s in hits) and any(s["Effect"] == "Allow" for s in hits)


def denied(policy: dict, action: str, resource: str, *, userid: str, context: dict | None = None) -> bool:
    variables = {"aws:userid": userid}
    return any(s["Effect"] == "Deny" and _matches(s, action, resource, dict(context or {}), variables, None)
               for s in policy["Statement"])


def obj(key: str) -> str:
    return f"arn:aws:s3:::{BUCKET}/{key}"


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject"])
def test_a_session_reads_and_writes_its_own_results_only(action):
    policy = results_access_policy(BUCKET, PREFIX)
    assert allowed(policy, action, obj(f"explorer/{ALICE}/abc.csv"), userid=ALICE)
    assert not allowed(policy, action, obj(f"explorer/{BOB}/abc.csv"), userid=ALICE)
    assert not allowed(policy, action, obj("explorer/abc.csv"), userid=ALICE)
    assert not allowed(policy, action, obj(f"other/{ALICE}/abc.csv"), userid=ALICE)


def test_a_session_of_the_same_role_cannot_reach_another_session_by_prefix_tricks():
    policy = results_access_policy(BUCKET, PREFIX)
    # Bob's id starts with Alice's role id: the prefix ends with '/', so a longer id is a different folder.
    longer = ALICE + "x"
    assert not allowed(policy, "s3:GetObject", obj(f"explorer/{longer}/abc.csv"), userid=ALICE)


def test_listing_is_confined_to_the_own_prefix():
    policy = results_access_policy(BUCKET, PREFIX)
    bucket = f"arn:aws:s3:::{BUCKET}"
    assert allowed(policy, "s3:ListBucket", bucket, userid=ALICE, context={"s3:prefix": f"explorer/{ALICE}/"})
    assert allowed(policy, "s3:ListBucket", bucket, userid=ALICE, context={"s3:prefix": f"explorer/{ALICE}/q1/"})
    assert not allowed(policy, "s3:ListBucket", bucket, userid=ALICE, context={"s3:prefix": "explorer/"})
    assert not allowed(policy, "s3:ListBucket", bucket, userid=ALICE, context={"s3:prefix": f"explorer/{BOB}/"})
    assert not allowed(policy, "s3:ListBucket", bucket, userid=ALICE)  # no prefix = the whole bucket


def test_prefix_may_not_smuggle_wildcards():
    with pytest.raises(ValueError):
        results_access_policy(BUCKET, "explorer/*")
    assert user_results_prefix("/explorer/") == "explorer/${aws:userid}"
    assert user_results_prefix("") == "${aws:userid}"


def test_bucket_policy_denies_grants_roles_outside_their_prefix_and_unencrypted_puts():
    policy = results_bucket_policy(BUCKET, PREFIX, [ADMIN_ROLE])
    as_admin = {"aws:PrincipalArn": ADMIN_ROLE, "aws:SecureTransport": "true",
                "s3:x-amz-server-side-encryption": "AES256"}
    assert denied(policy, "s3:GetObject", obj(f"explorer/{BOB}/x.csv"), userid=ALICE, context=as_admin)
    assert not denied(policy, "s3:GetObject", obj(f"explorer/{ALICE}/x.csv"), userid=ALICE, context=as_admin)
    unencrypted = {k: v for k, v in as_admin.items() if k != "s3:x-amz-server-side-encryption"}
    assert denied(policy, "s3:PutObject", obj(f"explorer/{ALICE}/x.csv"), userid=ALICE, context=unencrypted)
    plain_http = {**as_admin, "aws:SecureTransport": "false"}
    assert denied(policy, "s3:GetObject", obj(f"explorer/{ALICE}/x.csv"), userid=ALICE, context=plain_http)


def test_only_the_app_role_assumes_a_grants_role_and_only_naming_the_person():
    policy = role_trust_policy(APP_ROLE)
    with_identity = {"sts:SourceIdentity": "alice.example.com-1a2b3c4d"}
    for action in ("sts:AssumeRole", "sts:SetSourceIdentity"):
        assert allowed(policy, action, principal=APP_ROLE, context=with_identity)
        assert not allowed(policy, action, principal=APP_ROLE)  # no source identity: refused
        assert not allowed(policy, action, principal=ADMIN_ROLE, context=with_identity)
    # No federation: an ID token from the browser cannot assume the role, whatever its claims.
    assert not allowed(policy, "sts:AssumeRoleWithWebIdentity", principal=APP_ROLE, context=with_identity)
    assert all("Federated" not in s["Principal"] for s in policy["Statement"])


def test_trust_policy_refuses_a_non_role_principal():
    with pytest.raises(ValueError):
        role_trust_policy("*")
