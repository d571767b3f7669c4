"""Sign-in through a trusted proxy: the ALB's x-amzn-oidc-data JWT verified with a locally generated key."""

from __future__ import annotations

import base64
import io
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from daivi_data.errors import NotSignedIn
from daivi_data.settings import load_settings
from daivi_ui import auth
from tests.aws.conftest import athena_secrets

pytestmark = pytest.mark.aws

ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/daivi/50dc6c495c0c9188"
OTHER_ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/other/0123456789abcdef"
KID = "7d0c3a4e-1f2b-4c5d-9e8f-0a1b2c3d4e5f"


def _key_pair():
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, pem


PRIVATE, PUBLIC_PEM = _key_pair()
OTHER_PRIVATE, _ = _key_pair()


def alb_token(claims: dict | None = None, *, signer: str = ALB_ARN, key=PRIVATE, exp_in_s: float = 120, kid: str = KID,
              padded: bool = False) -> str:
    exp = int(time.time() + exp_in_s)
    payload = {"sub": "1234-abcd", "email": "finance-analyst@daivi.example", "name": "Fiona Finance", "exp": exp,
               "iss": "https://idp.daivi.example", **(claims or {})}
    headers = {"kid": kid, "signer": signer, "iss": "https://idp.daivi.example", "client": "daivi", "exp": exp}
    if not padded:
        return jwt.encode(payload, key, algorithm="ES256", headers=headers)
    # ALBs emit base64url *with* '=' padding, and sign exactly that text; a verifier must accept it.
    b64 = lambda obj: base64.urlsafe_b64encode(json.dumps({**obj, "alg": "ES256"} if obj is headers else obj).encode()).decode()  # noqa: E731
    signing_input = f"{b64(headers)}.{b64(payload)}"
    algorithm = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256)
    signature = base64.urlsafe_b64encode(algorithm.sign(signing_input.encode(), key)).decode().rstrip("=")
    return f"{signing_input}.{signature}"


@pytest.fixture(autouse=True)
def _local_alb_key(monkeypatch):
    """The ALB's regional key service, played by a local key (no network)."""
    fetched = []

    def fetch(region, kid):
        fetched.append((region, kid))
        return PUBLIC_PEM

    monkeypatch.setattr(auth, "fetch_alb_public_key", fetch)
    monkeypatch.setattr(auth, "_key_cache", {})
    return fetched


def test_a_token_signed_by_our_alb_gives_its_claims(_local_alb_key):
    claims = auth.alb_claims(alb_token(), ALB_ARN)
    assert claims["email"] == "finance-analyst@daivi.example"
    assert _local_alb_key == [("eu-west-1", KID)]
    auth.alb_claims(alb_token(padded=True), ALB_ARN)
    assert _local_alb_key == [("eu-west-1", KID)]  # the key is fetched once per kid


def test_a_wrong_signature_is_refused():
    with pytest.raises(NotSignedIn, match="signature is invalid"):
        auth.alb_claims(alb_token(key=OTHER_PRIVATE), ALB_ARN)


def test_a_tampered_payload_is_refused():
    head, body, sig = alb_token().split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged["email"] = "admin@daivi.example"
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    with pytest.raises(NotSignedIn, match="signature is invalid"):
        auth.alb_claims(f"{head}.{body}.{sig}", ALB_ARN)


def test_a_token_from_another_load_balancer_is_refused(_local_alb_key):
    with pytest.raises(NotSignedIn, match="not signed by this app's load balancer"):
        auth.alb_claims(alb_token(signer=OTHER_ALB_ARN), ALB_ARN)
    assert _local_alb_key == []  # refused before any key is fetched


def test_an_expired_token_is_refused():
    with pytest.raises(NotSignedIn, match="expired"):
        auth.alb_claims(alb_token(exp_in_s=-3600), ALB_ARN)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
def test_garbage_is_refused(token):
    with pytest.raises(NotSignedIn):
        auth.alb_claims(token, ALB_ARN)


def test_an_unsafe_key_id_is_refused_before_any_fetch(_local_alb_key):
    with pytest.raises(NotSignedIn, match="no valid key"):
        auth.alb_claims(alb_token(kid="../../evil"), ALB_ARN)
    assert _local_alb_key == []


def test_the_key_is_fetched_from_the_regional_alb_key_service(monkeypatch):
    monkeypatch.undo()  # the real fetcher, with urlopen played locally
    monkeypatch.setattr(auth, "_key_cache", {})
    urls = []

    def urlopen(url, timeout):
        urls.append(url)
        return io.BytesIO(PUBLIC_PEM.encode())

    monkeypatch.setattr(auth.urllib.request, "urlopen", urlopen)
    auth.alb_claims(alb_token(), ALB_ARN)
    assert urls == [f"https://public-keys.auth.elb.eu-west-1.amazonaws.com/{KID}"]


def _proxy_settings(**auth_settings):
    return load_settings(secrets=athena_secrets(auth_mode="proxy", auth=auth_settings), environ={})


def test_proxy_sign_in_maps_the_alb_user_to_their_role():
    settings = _proxy_settings(alb_arn=ALB_ARN)
    principal = auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: alb_token()})
    assert principal.role == "finance-analyst"  # its IAM role comes from the grants file, not from the sign-in
    assert principal.display_name == "Fiona Finance" and principal.source == "proxy"


def test_proxy_sign_in_without_the_header_says_how_to_get_in():
    with pytest.raises(NotSignedIn, match="through its load balancer URL"):
        auth._proxy_principal(_proxy_settings(alb_arn=ALB_ARN), {})


def test_a_forged_trusted_header_does_not_count_when_only_the_alb_is_trusted():
    settings = _proxy_settings(alb_arn=ALB_ARN)
    with pytest.raises(NotSignedIn):
        auth._proxy_principal(settings, {"X-Forwarded-Email": "admin@daivi.example"})


def test_configured_trusted_header_names_the_user_and_groups():
    settings = load_settings(secrets=athena_secrets(
        auth_mode="proxy", auth={"trusted_header": "X-Forwarded-Email", "trusted_groups_header": "X-Forwarded-Groups"},
        role_mappings=[{"role": "ops-engineer", "groups": ["sre"]}],
    ), environ={})
    principal = auth._proxy_principal(settings, {"X-Forwarded-Email": "sam@daivi.example", "X-Forwarded-Groups": "staff, sre"})
    assert (principal.email, principal.role, principal.groups) == ("sam@daivi.example", "ops-engineer", ("staff", "sre"))
    with pytest.raises(NotSignedIn, match="X-Forwarded-Email is missing"):
        auth._proxy_principal(settings, {})


def test_a_user_no_mapping_matches_has_no_access():
    settings = _proxy_settings(alb_arn=ALB_ARN)
    with pytest.raises(NotSignedIn, match="has no DAIVI role"):
        auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: alb_token({"email": "stranger@elsewhere.example"})})


def test_unverified_email_gets_no_role():
    with pytest.raises(NotSignedIn, match="not verified"):
        auth.principal_from_claims(_proxy_settings(alb_arn=ALB_ARN), {"email": "finance-analyst@daivi.example",
                                                                     "email_verified": False}, "oidc")


def test_proxy_mode_with_nothing_to_trust_is_explained():
    settings = load_settings(secrets=athena_secrets(auth_mode="proxy"), environ={})
    with pytest.raises(NotSignedIn, match="neither `daivi.auth.alb_arn`"):
        auth._proxy_principal(settings, {"X-Forwarded-Email": "x@y.z"})


def test_alb_arn_setting_is_validated():
    from daivi_data.errors import SettingsError

    with pytest.raises(SettingsError, match="alb_arn"):
        _proxy_settings(alb_arn="arn:aws:iam::1:role/x")


def test_a_session_keeps_the_token_it_verified_after_the_alb_token_expires(monkeypatch):
    settings = _proxy_settings(alb_arn=ALB_ARN)
    token = alb_token(exp_in_s=60)
    memo: dict = {}
    first = auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: token}, memo)
    later = time.time() + 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: token}, memo) == first  # the same session, later
    with pytest.raises(NotSignedIn, match="expired"):  # the same token in a new session is too old
        auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: token}, {})
    with pytest.raises(NotSignedIn, match="signature is invalid"):  # another token is verified afresh
        auth._proxy_principal(settings, {auth.ALB_DATA_HEADER: alb_token(key=OTHER_PRIVATE)}, memo)
