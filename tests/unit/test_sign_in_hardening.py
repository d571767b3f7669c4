"""Sign-in cannot be walked around: ALB tokens expire for real, and behind an ALB no plain header names a user."""

from __future__ import annotations

import math
import time

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daivi_data.errors import NotSignedIn, SettingsError
from daivi_data.settings import load_settings
from daivi_ui import auth
from tests.aws.conftest import athena_secrets
from tests.aws.test_auth import ALB_ARN, KID, PRIVATE, PUBLIC_PEM

HEADER_NAMES = ("X-Forwarded-Email", "X-Forwarded-User", "X-Auth-Request-Email", "Remote-User")


@pytest.fixture(autouse=True)
def _local_alb_key(monkeypatch):
    monkeypatch.setattr(auth, "fetch_alb_public_key", lambda region, kid: PUBLIC_PEM)
    monkeypatch.setattr(auth, "_key_cache", {})


def signed(exp: object) -> str:
    """An ALB-shaped token, validly signed, whose `exp` is whatever the attacker chose."""
    payload = {"sub": "x", "email": "admin@daivi.example", "exp": exp}
    return jwt.encode(payload, PRIVATE, algorithm="ES256", headers={"kid": KID, "signer": ALB_ARN})


@pytest.mark.parametrize("exp", [math.inf, -math.inf, math.nan, "Infinity", "NaN", "1e999", None, True, [], {}, "soon",
                                 "", time.time() - 3600, str(time.time() - 3600)])
def test_an_alb_token_that_does_not_expire_in_the_future_is_refused(exp):
    with pytest.raises(NotSignedIn):
        auth.alb_claims(signed(exp), ALB_ARN)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=30), st.none(), st.booleans()))
def test_only_a_finite_future_expiry_is_accepted(exp):
    now = time.time()
    finite_future = (not isinstance(exp, bool) and isinstance(exp, (int, float)) and math.isfinite(exp)
                     and exp + auth.CLOCK_SKEW_S >= now)
    if isinstance(exp, str):
        try:
            number = float(exp)
            finite_future = math.isfinite(number) and number + auth.CLOCK_SKEW_S >= now
        except ValueError:
            finite_future = False
    assert auth._is_in_future(exp, now) is finite_future


def test_settings_refuse_a_trusted_header_beside_the_alb():
    for extra in ({"trusted_header": "X-Forwarded-Email"}, {"trusted_groups_header": "X-Forwarded-Groups"},
                  {"trusted_name_header": "X-Forwarded-Name"}):
        with pytest.raises(SettingsError, match="exclude each other"):
            load_settings(secrets=athena_secrets(auth_mode="proxy", auth={"alb_arn": ALB_ARN, **extra}), environ={})


@pytest.mark.parametrize("header", HEADER_NAMES)
def test_behind_an_alb_no_plain_header_signs_anyone_in(header):
    settings_ = load_settings(secrets=athena_secrets(auth_mode="proxy", auth={"alb_arn": ALB_ARN}), environ={})
    for value in ("admin@daivi.example", "finance-analyst@daivi.example"):
        with pytest.raises(NotSignedIn, match="load balancer"):
            auth._proxy_principal(settings_, {header: value, "X-Forwarded-Groups": "daivi-admins"})


def test_trusted_header_mode_warns_loudly_when_listening_beyond_loopback(monkeypatch, caplog):
    monkeypatch.setattr(auth, "_exposure_warned", type(auth._exposure_warned)())
    monkeypatch.setattr(auth.st, "get_option", lambda name: "0.0.0.0")
    with caplog.at_level("WARNING", logger=auth.log.name):
        auth.warn_if_trusted_header_is_exposed()
        auth.warn_if_trusted_header_is_exposed()
    assert sum("TRUSTED-HEADER SIGN-IN IS LISTENING ON 0.0.0.0" in r.message for r in caplog.records) == 1
    monkeypatch.setattr(auth, "_exposure_warned", type(auth._exposure_warned)())
    monkeypatch.setattr(auth.st, "get_option", lambda name: "127.0.0.1")
    caplog.clear()
    auth.warn_if_trusted_header_is_exposed()
    assert not caplog.records
