"""Per-principal credentials: STS calls as they must be, caching and refresh, never shared between principals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

from daivi_data.aws.credentials import REFRESH_BEFORE_EXPIRY_S, CredentialProvider, retry_config, session_name_for
from daivi_data.errors import AccessDenied, SettingsError
from daivi_data.settings import load_settings
from tests.aws.conftest import ROLE_ARNS, athena_secrets, user

pytestmark = pytest.mark.aws

NOW = 1_800_000_000.0


def _credentials(n: int, expires_in_s: float, session_name: str = "someone-0123456789ab") -> dict:
    """AssumeRole's answer, in STS's shape: the credentials and the assumed role user (its id is aws:userid)."""
    return {
        "Credentials": {
            "AccessKeyId": f"ASIAEXAMPLE{n:09d}", "SecretAccessKey": f"secret-{n}", "SessionToken": f"token-{n}",
            "Expiration": dt.datetime.fromtimestamp(NOW + expires_in_s, dt.UTC),
        },
        "AssumedRoleUser": {"AssumedRoleId": f"AROAEXAMPLEROLEID{n:04d}:{session_name}",
                            "Arn": f"arn:aws:sts::123456789012:assumed-role/daivi-finance-analyst/{session_name}"},
        "SourceIdentity": session_name,
    }


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


ALICE = session_name_for(user("finance-analyst", "alice@daivi.example"))
BOB = session_name_for(user("finance-analyst", "bob@daivi.example"))


def test_assume_role_names_the_user_in_session_name_and_source_identity(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600, ALICE), {
        "RoleArn": ROLE_ARNS["finance-analyst"], "RoleSessionName": ALICE, "SourceIdentity": ALICE, "DurationSeconds": 3600,
    })
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    alice = user("finance-analyst", "alice@daivi.example")
    session = provider.session_for(alice)
    frozen = session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.token) == ("ASIAEXAMPLE000000001", "token-1")
    assert session.region_name == "eu-west-1"
    # The results prefix: the session's aws:userid, cached with the credentials (no second STS call).
    assert provider.results_user_id(alice) == f"AROAEXAMPLEROLEID0001:{ALICE}"
    assert provider.assume_calls == 1
    base.stubber.assert_no_pending_responses()


def test_two_users_never_share_credentials_or_cache_entries(settings):
    base = StubbedBase()
    base.stubber.add_response("assume_role", _credentials(1, 3600, ALICE), {"RoleArn": ROLE_ARNS["finance-analyst"],
                              "RoleSessionName": ALICE, "SourceIdentity": ALICE, "DurationSeconds": ANY})
    base.stubber.add_response("assume_role", _credentials(2, 3600, BOB), {"RoleArn": ROLE_ARNS["finance-analyst"],
                              "RoleSessionName": BOB, "SourceIdentity": BOB, "DurationSeconds": ANY})
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("finance-analyst", "bob@daivi.example")
    a1, b1, a2, b2 = provider.session_for(alice), provider.session_for(bob), provider.session_for(alice), provider.session_for(bob)
    assert a1 is a2 and b1 is b2 and a1 is not b1
    assert a1.get_credentials().access_key != b1.get_credentials().access_key
    assert provider.assume_calls == 2  # cached: one STS call per principal
    assert set(provider._entries) == {alice.cache_key, bob.cache_key}
    assert provider.results_user_id(alice) != provider.results_user_id(bob)


def test_same_user_with_another_role_gets_other_credentials(settings):
    base = StubbedBase()
    for n in (1, 2):
        base.stubber.add_response("assume_role", _credentials(n, 3600), None)
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    finance = user("finance-analyst", "dana@daivi.example")
    ops = dataclasses.replace(finance, role="ops-engineer")
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


def test_refused_assume_role_says_what_the_trust_policy_needs(settings):
    base = StubbedBase()
    base.stubber.add_client_error("assume_role", "AccessDenied", "User: arn:aws:sts::1:assumed-role/app is not authorized", 403)
    provider = CredentialProvider(settings, base_session=base, clock=lambda: NOW)
    with pytest.raises(AccessDenied) as caught:
        provider.session_for(user())
    assert ROLE_ARNS["finance-analyst"] in str(caught.value) and "sts:SetSourceIdentity" in str(caught.value)


def test_role_arns_come_only_from_the_grants_file(settings):
    provider = CredentialProvider(settings, base_session=StubbedBase(), clock=lambda: NOW)
    assert provider.role_arn_for(user("ops-engineer")) == ROLE_ARNS["ops-engineer"]
    with pytest.raises(SettingsError, match="no `role_arn` in the grants file"):
        provider.role_arn_for(dataclasses.replace(user("ops-engineer"), role="nobody"))


def _grants(tmp_path, text: str):
    path = tmp_path / "grants.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("mappings", "default_role", "grants", "message"), [
    ([{"role": "finance-analyst", "emails": ["a@x.io"]}], "", "[roles.admin]\nrole_arn = \"arn:aws:iam::123456789012:role/a\"\n",
     "Role `finance-analyst` (daivi.role_mappings (finance-analyst)) is not in the grants file"),
    ([], "admin", "[roles.admin]\n", "Role `admin` has no `role_arn` in the grants file"),
    ([], "admin", "[roles.admin]\nrole_arn = \"daivi-admin\"\n", "`daivi-admin` (role `admin` in the grants file) is not an IAM role ARN"),
])
def test_start_up_refuses_a_sign_in_role_without_an_arn_in_the_grants_file(tmp_path, mappings, default_role, grants, message):
    settings = load_settings(secrets=athena_secrets(role_mappings=mappings, default_role=default_role,
                                                    grants_file=_grants(tmp_path, grants)), environ={})
    with pytest.raises(SettingsError) as caught:
        CredentialProvider(settings, base_session=StubbedBase(), clock=lambda: NOW)
    assert message in str(caught.value)


def test_a_role_arn_beside_a_role_mapping_is_refused_at_start_up():
    secrets = athena_secrets(role_mappings=[{"role": "admin", "emails": ["a@x.io"], "role_arn": ROLE_ARNS["admin"]}])
    with pytest.raises(SettingsError, match=r"role_mappings\[0\].role_arn`: role ARNs live only in the grants file"):
        load_settings(secrets=secrets, environ={})


@pytest.mark.parametrize("auth_mode", ["proxy", "oidc"])
def test_web_identity_is_refused_at_start_up(auth_mode):
    secrets = athena_secrets(auth_mode=auth_mode, auth={"web_identity": True, "alb_arn": ""})
    with pytest.raises(SettingsError, match="web_identity` is no longer supported"):
        load_settings(secrets=secrets, environ={})


@pytest.mark.parametrize(("email", "readable"), [
    ("alice@daivi.example", "alice@daivi.example"),
    ("Ann Lee <ann@x.io>", "ann-lee-ann@x.io"),
    ("jürgen.müller@beispiel.de", "jurgen.muller@beispiel.de"),
    ("山田@例え.jp", "jp"),
    ("李@例.中国", "u"),
    ("a" * 80 + "@x.io", "a" * 51),
])
def test_session_name_is_readable_ascii_plus_a_hash(email, readable):
    name = session_name_for(dataclasses.replace(user(), email=email, user_id="u"))
    assert STS_NAME.fullmatch(name)
    assert name.rsplit("-", 1)[0] == readable


STS_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")  # RoleSessionName and SourceIdentity, as STS validates them


@settings_for_hypothesis(max_examples=300, deadline=None)
@given(st.lists(st.emails() | st.text(min_size=1, max_size=120), min_size=2, max_size=6, unique_by=lambda e: e.strip().lower()))
def test_session_names_are_valid_deterministic_and_unique_per_user(emails):
    people = [dataclasses.replace(user(), email=e, user_id=f"oidc:sub-{i}") for i, e in enumerate(emails)]
    names = [session_name_for(p) for p in people]
    assert all(STS_NAME.fullmatch(n) for n in names)
    assert len(set(names)) == len(names)  # no two users share a session name (or a results prefix)
    assert names == [session_name_for(p) for p in people]


def test_aws_clients_retry_adaptively(settings):
    config = retry_config(settings)
    assert config.retries == {"mode": "adaptive", "max_attempts": 3}
    assert config.region_name == "eu-west-1"
