"""The IAM policy documents the Athena path relies on, as data (the CloudFormation generator imports them).

- `role_trust_policy(app_task_role_arn)`: the trust policy of each grants role.
  Only the app's own task role may assume it, and only while naming the person
  (`SourceIdentity`): `AssumeRole` without a source identity is refused by STS.
  No web identity federation: the browser never holds anything that can
  assume a role.
- `results_access_policy(bucket, prefix)`: the S3 part of each grants role's
  permissions. A session may read, write and list Athena results only under
  `s3://{bucket}/{prefix}/${aws:userid}/`, where `aws:userid` of an assumed-role
  session is `AROA…:{RoleSessionName}` — one prefix per person, which IAM
  itself enforces (the app learns the value with `sts:GetCallerIdentity`).
- `results_bucket_policy(bucket, prefix, role_arns)`: the results bucket's own
  policy, a second wall: TLS only, encrypted writes only, and the grants roles
  may not touch any other session's prefix even if another policy allowed it.

`${aws:userid}` is an IAM policy variable, written literally into the document.
In CloudFormation, pass the document as JSON (not through `Fn::Sub`, which
would try to substitute it; there, write `${!aws:userid}`).
"""

from __future__ import annotations

USERID = "${aws:userid}"
# What Athena does with the query result location, as the caller (Athena docs: "Specify a query result location").
RESULT_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
RESULT_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucketMultipartUploads")


def _s3_arn(bucket: str, key: str = "", partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key else "")


def _clean_prefix(prefix: str) -> str:
    cleaned = prefix.strip("/")
    if "*" in cleaned or "$" in cleaned:
        raise ValueError(f"results prefix {prefix!r} may not contain '*' or '$'")
    return cleaned


def user_results_prefix(prefix: str) -> str:
    """`{prefix}/${aws:userid}` (no slashes around): the key prefix of one session's results, as IAM writes it."""
    cleaned = _clean_prefix(prefix)
    return f"{cleaned}/{USERID}" if cleaned else USERID


def results_access_policy(bucket: str, prefix: str, *, partition: str = "aws") -> dict:
    """Identity policy for a grants role: Athena results only under `{prefix}/${aws:userid}/` of `bucket`."""
    own = user_results_prefix(prefix)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnQueryResults",
                "Effect": "Allow",
                "Action": list(RESULT_OBJECT_ACTIONS),
                "Resource": _s3_arn(bucket, f"{own}/*", partition),
            },
            {
                "Sid": "ListOwnQueryResults",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": _s3_arn(bucket, partition=partition),
                "Condition": {"StringLike": {"s3:prefix": [f"{own}/", f"{own}/*"]}},
            },
            {
                "Sid": "ResultsBucketLocation",
                "Effect": "Allow",
                "Action": list(RESULT_BUCKET_ACTIONS),
                "Resource": _s3_arn(bucket, partition=partition),
            },
        ],
    }


def results_bucket_policy(bucket: str, prefix: str, role_arns: list[str], *, partition: str = "aws") -> dict:
    """Bucket policy of the results bucket: TLS only, encrypted puts only, no grants role outside its own prefix."""
    own = user_results_prefix(prefix)
    roles = sorted(set(role_arns))
    statements: list[dict] = [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [_s3_arn(bucket, partition=partition), _s3_arn(bucket, "*", partition)],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "EncryptedPutsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": _s3_arn(bucket, "*", partition),
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        },
    ]
    if roles:
        statements.append({
            "Sid": "NoOtherSessionsResults",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "NotResource": _s3_arn(bucket, f"{own}/*", partition),
            "Condition": {"ArnLike": {"aws:PrincipalArn": roles}},
        })
    return {"Version": "2012-10-17", "Statement": statements}


def role_trust_policy(app_task_role_arn: str) -> dict:
    """Trust policy of a grants role: only the app's task role, only with a source identity (the person)."""
    if not app_task_role_arn.startswith("arn:") or ":role/" not in app_task_role_arn:
        raise ValueError(f"{app_task_role_arn!r} is not an IAM role ARN")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AppAssumesForOnePerson",
                "Effect": "Allow",
                "Principal": {"AWS": app_task_role_arn},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                # The source identity names the person in CloudTrail and Lake Formation's audit: never without it.
                "Condition": {"Null": {"sts:SourceIdentity": "false"}},
            }
        ],
    }
