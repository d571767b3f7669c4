"""Per-principal credentials: STS calls as they must be, caching and refresh, never shared between principals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import boto3
import pytest
from botocore.stub import ANY, Stubber

from daivi_data.aws.credentials import REFRESH_BEFORE_EXPIRY_S, CredentialProvider, retry_config, session_name_for
from daivi_data.errors import AccessDenied, NotSignedIn, SettingsError
from daivi_data.settings import load_settings
from tests.aws.conftest import ROLE_ARNS, athena_secrets, user

pytestmark = pytest.mark.aws

NOW = 1_800_000_000.0


def _credentials(n: int, expires_in_s: float) -> dict:
    return {"Credentials": {
        "AccessKeyId": f"ASIAEXAMPLE{n:09d}", "SecretAccessKey": f"secret-{n}", "SessionToken": f"token-{n}",
        "Expiration": dt.datetime.fromtimestamp(NOW + expires_in_s, dt.UTC),
    }}


class StubbedBase:
    """A base session whose STS client is a botocore Stubber: asserts every parameter sent."""

    def __init__(self):
        self.sts = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
        self.stubber = Stubber(self.sts)
        self.stubber.activate()

    def __call__(self):
        return self

    def client(self, name, config=None):
        assert name == "sts"
        return self.sts


@pytest.fixture
def settings():
    return load_settings(secrets=athena_secrets(), environ={})


def test_assume_role_names_the_user_in_session_name_and_source_identity(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600), {
        "RoleArn": ROLE_ARNS["finance-analyst"], "RoleSessionName": "alice@daivi.example",
        "SourceIdentity": "alice@daivi.example", "DurationSeconds": 3600,
    })
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    session = provider.session_for(user("finance-analyst", "alice@daivi.example"))
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAEXAMPLE000000001", "token-1")
    assert session.region_name == "eu-west-1"
    base.stubber.assert_no_pending_responses()


def test_two_users_never_share_credentials_or_cache_entries(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600), {"RoleArn": ROLE_ARNS["finance-analyst"],
                              "RoleSessionName": "alice@daivi.example", "SourceIdentity": "alice@daivi.example", "DurationSeconds": ANY})
    base.stubber.add_response("assume_role", _credentials(2, 3600), {"RoleArn": ROLE_ARNS["finance-analyst"],
                              "RoleSessionName": "bob@daivi.example", "SourceIdentity": "bob@daivi.example", "DurationSeconds": ANY})
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("finance-analyst", "bob@daivi.example")
    a1, b1, a2, b2 = provider.session_for(alice), provider.session_for(bob), provider.session_for(alice), provider.session_for(bob)
    assert a1 is a2 and b1 is b2 and a1 is not b1
    assert a1.get_credentials().access_key != b1.get_credentials().access_key
    assert provider.assume_calls == 2  # cached: one STS call per principal
    assert set(provider._entries) == {alice.cache_key, bob.cache_key}


def test_same_user_with_another_role_gets_other_credentials(settings):
    base = StubbedBase()
    for n in (1, 2):
        base.stubber.add_response("assume_role", _credentials(n, 3600), None)
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    finance = user("finance-analyst", "dana@daivi.example")
    ops = dataclasses.replace(finance, role="ops-engineer", role_arn=ROLE_ARNS["ops-engineer"])
    assert provider.session_for(finance) is not provider.session_for(ops)


def test_credentials_are_refreshed_shortly_before_they_expire(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600), None)
    base.stubber.add_response("assume_role", _credentials(2, 3600), None)
    now = [NOW]
    provider = CredentialProvider(settings, base_session=base, clock=lambda: now[0])
    alice = user()
    first = provider.session_for(alice)
    now[0] = NOW + 3600 - REFRESH_BEFORE_EXPIRY_S - 1
    assert provider.session_for(alice) is first  # still comfortably valid
    now[0] = NOW + 3600 - REFRESH_BEFORE_EXPIRY_S + 1
    second = provider.session_for(alice)
    assert second is not first
    assert second.get_credentials().access_key == "ASIAEXAMPLE000000002"


def test_invalidate_forces_a_new_assume_role(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600), None)
    base.stubber.add_response("assume_role", _credentials(2, 3600), None)
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    first = provider.session_for(user())
    provider.invalidate(user())
    assert provider.session_for(user()) is not first


def test_web_identity_uses_the_oidc_token(tmp_path):
    settings = load_settings(secrets=athena_secrets(auth={"web_identity": True}), environ={})
    base = StubbedBase()
    base.stubber.add_response("assume_role_with_web_identity", _credentials(1, 3600), {
        "RoleArn": ROLE_ARNS["admin"], "RoleSessionName": "erin@daivi.example", "WebIdentityToken": "id-token-of-erin",
        "DurationSeconds": 3600,
    })
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    erin = dataclasses.replace(user("admin", "erin@daivi.example"), web_identity_token="id-token-of-erin")
    provider.session_for(erin)
    base.stubber.assert_no_pending_responses()
    assert "id-token-of-erin" not in repr(erin)
    with pytest.raises(NotSignedIn, match="No identity token"):
        provider.session_for(user("admin", "frank@daivi.example"))


def test_refused_assume_role_says_what_the_trust_policy_needs(settings):
    base = StubbedBase()
    base.stubber.add_client_error("assume_role", "AccessDenied", "User: arn:aws:sts::1:assumed-role/app is not authorized", 403)
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    with pytest.raises(AccessDenied) as caught:
        provider.session_for(user())
    assert ROLE_ARNS["finance-analyst"] in str(caught.value) and "sts:SetSourceIdentity" in str(caught.value)


def test_role_arn_falls_back_to_the_grants_file_and_must_exist(settings):
    provider = CredentialProvider(settings, base_session=StubbedBase(), clock=lambda: NOW)
    no_arn = dataclasses.replace(user("ops-engineer"), role_arn="")
    assert provider.role_arn_for(no_arn) == "arn:aws:iam::100000000001:role/daivi-ops-engineer"
    with pytest.raises(SettingsError, match="not an IAM role ARN"):
        provider.role_arn_for(dataclasses.replace(no_arn, role_arn="daivi-ops"))


@pytest.mark.parametrize(("email", "name"), [
    ("alice@daivi.example", "alice@daivi.example"),
    ("Ann Lee <ann@x.io>", "Ann-Lee--ann@x.io-"),
    ("aws-admin@x.io", "u-aws-admin@x.io"),
    ("a" * 80 + "@x.io", "a" * 64),
    ("", "user-u"),
])
def test_session_name_is_what_sts_accepts(email, name):
    principal = dataclasses.replace(user(), email=email, user_id="u")
    assert session_name_for(principal) == name


def test_aws_clients_retry_adaptively(settings):
    config = retry_config(settings)
    assert config.retries == {"mode": "adaptive", "max_attempts": 3}
    assert config.region_name == "eu-west-1"
