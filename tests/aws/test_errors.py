"""AWS errors as typed, user-facing messages: the right type, a useful text, never a credential."""

from __future__ import annotations

import botocore.exceptions
import pytest
from awswrangler import exceptions as wr_exceptions

from daivi_data.aws.errors import daivi_error, scrub
from daivi_data.errors import AccessDenied, DataUnavailable, NotSignedIn, QueryFailed, Throttled

pytestmark = pytest.mark.aws

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDd" + "A" * 120 + "=="


def client_error(code: str, message: str = "") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "StartQueryExecution")


@pytest.mark.parametrize(("error", "kind", "text"), [
    (client_error("ThrottlingException", "Rate exceeded"), Throttled, "AWS is throttling requests (ThrottlingException)"),
    (client_error("TooManyRequestsException"), Throttled, "Wait a minute"),
    (client_error("ExpiredTokenException", "The security token included in the request is expired"), NotSignedIn,
     "expired and could not be renewed. Sign out and sign in again."),
    (client_error("AccessDeniedException", "Insufficient Lake Formation permission(s) on daivi_cur.cur"), AccessDenied,
     "Lake Formation denies your role access to daivi_cur.cur"),
    (client_error("AccessDeniedException", "User is not authorized to perform athena:StartQueryExecution"), AccessDenied,
     "AWS denied the query: User is not authorized"),
    (client_error("EntityNotFoundException", "Database prod_x not found."), DataUnavailable, "Database prod_x not found"),
    (client_error("InvalidRequestException", "line 1:8: Column 'x' cannot be resolved"), QueryFailed, "Athena: line 1:8"),
    (wr_exceptions.QueryFailed("Query error: TABLE_NOT_FOUND: Table 'awsdatacatalog.daivi_cur.cur' does not exist"),
     DataUnavailable, "Table awsdatacatalog.daivi_cur.cur does not exist in the Glue Data Catalog"),
    (botocore.exceptions.EndpointConnectionError(endpoint_url="https://athena.eu-west-1.amazonaws.com"), DataUnavailable,
     "could not be reached"),
    (botocore.exceptions.NoCredentialsError(), DataUnavailable, "no AWS credentials for the query"),
])
def test_each_aws_failure_becomes_its_typed_message(error, kind, text):
    mapped = daivi_error(error)
    assert isinstance(mapped, kind)
    assert text in str(mapped)


def test_scrub_removes_keys_secrets_tokens_and_jwts_but_keeps_s3_paths():
    text = (f"key AKIAIOSFODNN7EXAMPLE secret {SECRET} token {TOKEN} jwt eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig "
            "at s3://daivi-athena-results/explorer/users/0123456789abcdef0123456789abcdef/q-1.csv")
    clean = scrub(text)
    for secret in ("AKIAIOSFODNN7EXAMPLE", SECRET, TOKEN[:60], "eyJhbGciOiJFUzI1NiJ9"):
        assert secret not in clean
    assert "s3://daivi-athena-results/explorer/users/0123456789abcdef0123456789abcdef/q-1.csv" in clean


def test_a_message_carrying_a_secret_is_scrubbed_on_its_way_to_the_user():
    mapped = daivi_error(client_error("InternalServerException", f"failed for {SECRET}"))
    assert SECRET not in str(mapped) and "[redacted]" in str(mapped)
