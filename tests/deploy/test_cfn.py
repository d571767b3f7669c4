"""`${Name}` strings become the intrinsic function CloudFormation needs; every other `${...}` reaches AWS as written."""

from __future__ import annotations

from deploy.cfn import resolve

KNOWN = {"Bucket", "Role"}


def test_a_whole_reference_becomes_ref_or_getatt():
    assert resolve("${Bucket}", KNOWN) == {"Ref": "Bucket"}
    assert resolve("${Role.Arn}", KNOWN) == {"Fn::GetAtt": ["Role", "Arn"]}
    assert resolve("${AWS::AccountId}", KNOWN) == {"Ref": "AWS::AccountId"}


def test_policy_variables_beside_a_reference_are_escaped_inside_fn_sub():
    assert resolve("arn:${AWS::Partition}:s3:::${Bucket}/explorer/${aws:userid}/*", KNOWN) == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/explorer/${!aws:userid}/*"}
    assert resolve("s3://${Bucket}/t/billing_period=${billing_period}/", KNOWN) == {
        "Fn::Sub": "s3://${Bucket}/t/billing_period=${!billing_period}/"}


def test_text_without_a_reference_stays_plain_text():
    assert resolve("explorer/${aws:userid}/*", KNOWN) == "explorer/${aws:userid}/*"
    assert resolve("${Unknown}", KNOWN) == "${Unknown}"


def test_documents_are_resolved_all_the_way_down_and_intrinsics_left_alone():
    document = {"Statement": [{"Resource": ["${Bucket}", "plain"], "Condition": {"If": {"Fn::Sub": "${Bucket}"}}}]}
    assert resolve(document, KNOWN) == {"Statement": [{"Resource": [{"Ref": "Bucket"}, "plain"], "Condition": {"If": {"Fn::Sub": "${Bucket}"}}}]}
