"""On Athena (moto): bearer token -> grants role -> STS AssumeRole with SourceIdentity = the user -> Athena as that role.

Athena is played by `DuckDBAnswers` (tests/aws/conftest.py): each query is
answered from the small demo lakehouse as Lake Formation would answer the IAM
role whose credentials signed it, so a team lead's rows come back filtered only
if the server really ran the query with the team lead's role. Every AWS request
is recorded to show the client's bearer token never reaches AWS.
"""

from __future__ import annotations

import urllib.parse

import botocore.endpoint
import pytest

from daivi_data.aws.credentials import session_name_for
from daivi_data.engines import create_engine
from daivi_data.errors import SettingsError
from daivi_data.identity import Principal
from daivi_data.mcp.runner import McpRunner, check_workgroup_cutoff
from daivi_data.settings import load_settings
from tests.aws import conftest as aws_tier
from tests.aws.conftest import REGION, ROLE_ARNS, DuckDBAnswers, athena_secrets
from tests.aws.test_app_on_athena import glue_from_lakehouse
from tests.helpers import PAYMENTS_ACCOUNT_IDS
from tests.mcp.conftest import answer, refusal, serve_http

pytestmark = pytest.mark.aws
# The AWS tier's moto fixtures (fake credentials for every test here, moto, the Athena stand-in).
_fake_aws_environment = aws_tier._fake_aws_environment
aws = aws_tier.aws
fake_athena = aws_tier.fake_athena

LEAD = "team-lead-payments@daivi.example"
ADMIN = "admin@daivi.example"
BUDGET_BYTES = 10**12


@pytest.fixture
def aws_requests(monkeypatch) -> list[dict]:
    """Every request botocore sends (to moto): URL, headers and body."""
    sent: list[dict] = []
    original = botocore.endpoint.Endpoint._do_get_response

    def record(self, request, operation_model, context):
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        sent.append({"url": request.url, "operation": operation_model.name, "headers": dict(request.headers), "body": body})
        return original(self, request, operation_model, context)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "_do_get_response", record)
    return sent


@pytest.fixture
def athena_runner(aws, fake_athena, small_lakehouse, tmp_path):
    glue_from_lakehouse(aws.client("glue"), small_lakehouse)
    fake_athena.answer = DuckDBAnswers(small_lakehouse)
    settings = load_settings(secrets=athena_secrets(audit_log=str(tmp_path / "audit.jsonl")), environ={})
    return McpRunner(settings, create_engine(settings))


def sts_name(email: str) -> str:
    """The user as the app names them to STS (RoleSessionName and SourceIdentity): by e-mail alone."""
    return session_name_for(Principal(user_id="", email=email, display_name="", role=""))


def assume_role_calls(requests: list[dict]) -> list[dict]:
    return [dict(urllib.parse.parse_qsl(r["body"])) for r in requests if r["operation"] == "AssumeRole"]


def test_a_bearer_users_calls_run_as_their_own_role_with_their_source_identity(athena_runner, fake_athena, idp,
                                                                              aws_requests):
    with serve_http(athena_runner, idp, max_bytes_scanned=BUDGET_BYTES) as served:
        token = idp.token(LEAD, audience=served.bearer.audience)
        cost, sql = served.call_tools(token, [
            ("cost_by_dimension", {"group_by": "account"}),
            ("run_sql", {"sql": "SELECT account_id, SUM(unblended_cost) AS c FROM daivi_billing.cost_daily "
                                "WHERE billing_period >= '2000-01' GROUP BY 1"}),
        ])
    cost, sql = answer(cost), answer(sql)
    assert {g["group"] for g in cost["groups"]} == set(PAYMENTS_ACCOUNT_IDS)
    assert {r["account_id"] for r in sql["rows"]} == set(PAYMENTS_ACCOUNT_IDS)
    assert cost["stats"]["bytes_scanned"] > 0 and cost["stats"]["cost_usd"] > 0
    # Every Athena query ran with the team lead's role; STS was asked once, naming the user.
    assert {q["role_arn"] for q in fake_athena.started} == {ROLE_ARNS["team-lead-payments"]}
    (assumed,) = assume_role_calls(aws_requests)
    assert assumed["RoleArn"] == ROLE_ARNS["team-lead-payments"]
    assert assumed["SourceIdentity"] == assumed["RoleSessionName"] == sts_name(LEAD)
    # The client's token never reaches AWS, in any header or body.
    assert aws_requests and not [r for r in aws_requests if token in r["body"] or token in str(r["headers"])]


def test_two_bearer_users_never_share_credentials(athena_runner, fake_athena, idp, aws_requests):
    sql = "SELECT COUNT(*) AS n FROM daivi_billing.accounts"
    with serve_http(athena_runner, idp, max_bytes_scanned=BUDGET_BYTES) as served:
        for email in (ADMIN, LEAD, ADMIN, LEAD):
            (result,) = served.call_tools(idp.token(email, audience=served.bearer.audience), [("run_sql", {"sql": sql})])
            answer(result)
    assumed = assume_role_calls(aws_requests)
    # once each, then each from their own cache entry
    assert [a["SourceIdentity"] for a in assumed] == [sts_name(ADMIN), sts_name(LEAD)]
    assert athena_runner.engine.credentials.assume_calls == 2
    # The two queries that ran (the repeats were cached per user) ran with each user's own role.
    assert [q["role_arn"] for q in fake_athena.started] == [ROLE_ARNS["admin"], ROLE_ARNS["team-lead-payments"]]


def test_sql_that_would_scan_every_partition_is_refused_on_athena(athena_runner, fake_athena, idp):
    with serve_http(athena_runner, idp, max_bytes_scanned=BUDGET_BYTES) as served:
        (result,) = served.call_tools(idp.token(ADMIN, audience=served.bearer.audience),
                                      [("run_sql", {"sql": "SELECT COUNT(*) FROM daivi_cur.cur"})])
    assert "billing_period" in refusal(result)
    assert fake_athena.started == []


def test_the_byte_budget_of_a_call_stops_its_remaining_queries(athena_runner, fake_athena, idp):
    with serve_http(athena_runner, idp, max_bytes_scanned=1) as served:
        (result,) = served.call_tools(idp.token(ADMIN, audience=served.bearer.audience), [("cost_by_dimension", {})])
    assert "limit" in refusal(result)
    assert len(fake_athena.started) == 1  # the first query ran and scanned; the second was not started


def test_the_http_server_needs_a_workgroup_that_enforces_a_bytes_cutoff(aws, tmp_path):
    athena = aws.client("athena")
    athena.create_work_group(Name="mcp-capped", Configuration={"EnforceWorkGroupConfiguration": True,
                                                                 "BytesScannedCutoffPerQuery": 10_000_000_000})
    athena.create_work_group(Name="mcp-open", Configuration={"EnforceWorkGroupConfiguration": True})
    capped = load_settings(secrets=athena_secrets(athena={"workgroup": "mcp-capped"}), environ={})
    assert check_workgroup_cutoff(capped, 10_000_000_000, aws) == 10_000_000_000
    with pytest.raises(SettingsError, match="at most"):
        check_workgroup_cutoff(capped, 1_000_000_000, aws)
    with pytest.raises(SettingsError, match="no cutoff"):
        check_workgroup_cutoff(load_settings(secrets=athena_secrets(athena={"workgroup": "mcp-open"}), environ={}),
                               10_000_000_000, aws)
    assert REGION == aws.region_name
