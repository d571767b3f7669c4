"""Who is signed in when demo personas are not allowed: OIDC (`st.login`) or a trusted proxy.

- `auth_mode = "oidc"`: Streamlit's own sign-in (`[auth]` in secrets.toml). The
  id token (`expose_tokens = "id"`) is kept on the principal for
  `AssumeRoleWithWebIdentity` when `daivi.auth.web_identity` is on.
- `auth_mode = "proxy"`: an AWS Application Load Balancer with OIDC
  authentication signs the user's claims into the `x-amzn-oidc-data` header
  (an ES256 JWT). The app verifies the signature against the ALB's regional
  public key, checks that the `signer` is the configured load balancer and that
  the token has not expired. Or, only when configured, a header set by another
  trusted proxy (oauth2-proxy) names the user. This is how the app signs people
  in inside the wiki's iframe, where `st.login` cannot.

Whatever the way, the result is a `Principal` mapped to a role by the settings,
or `NotSignedIn` with what to do next. Tokens are never logged or shown.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping

import jwt
import streamlit as st

from daivi_data import identity
from daivi_data.errors import NotSignedIn, SettingsError
from daivi_data.identity import Principal
from daivi_data.settings import Settings

log = logging.getLogger(__name__)

ALB_DATA_HEADER = "x-amzn-oidc-data"
ALB_KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
ALB_KEY_FETCH_TIMEOUT_S = 5
CLOCK_SKEW_S = 60  # tolerated difference between the ALB's clock and ours
_ALB_MEMO_KEY = "_daivi_alb_claims"
_KID = re.compile(r"[A-Za-z0-9-]{1,128}")
_key_cache: dict[tuple[str, str], str] = {}
_key_lock = threading.Lock()


def fetch_alb_public_key(region: str, kid: str) -> str:
    """The PEM public key the ALBs of `region` sign with under key id `kid` (published by AWS)."""
    url = ALB_KEY_URL.format(region=region, kid=kid)
    with urllib.request.urlopen(url, timeout=ALB_KEY_FETCH_TIMEOUT_S) as response:  # noqa: S310 - fixed https URL
        return response.read().decode("ascii")


def alb_public_key(region: str, kid: str, fetch: Callable[[str, str], str] | None = None) -> str:
    """The key for (region, kid), fetched once per process: ALB keys do not change under a key id."""
    with _key_lock:
        cached = _key_cache.get((region, kid))
    if cached:
        return cached
    try:
        pem = (fetch or fetch_alb_public_key)(region, kid)
    except OSError as e:
        log.warning("could not fetch the ALB public key %s in %s: %s", kid, region, type(e).__name__)
        raise NotSignedIn("The sign-in from the load balancer could not be checked (its public key is unreachable). Try again.") from None
    with _key_lock:
        _key_cache[(region, kid)] = pem
    return pem


def alb_claims(token: str, alb_arn: str, *, fetch_key: Callable[[str, str], str] | None = None,
               now: Callable[[], float] | None = None) -> dict:
    """The verified claims of an ALB `x-amzn-oidc-data` token, or NotSignedIn saying why not."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotSignedIn("The sign-in header from the load balancer is malformed. Reload the page.") from None
    if header.get("alg") != "ES256":
        raise NotSignedIn("The sign-in header from the load balancer is not ES256-signed; it was refused.")
    if header.get("signer") != alb_arn:
        # Anyone who can reach the app directly could forge the header: only our ALB's signature counts.
        raise NotSignedIn("The sign-in header was not signed by this app's load balancer; it was refused.")
    kid = str(header.get("kid", ""))
    if not _KID.fullmatch(kid):
        raise NotSignedIn("The sign-in header from the load balancer names no valid key; it was refused.")
    region = alb_arn.split(":")[3]
    key = alb_public_key(region, kid, fetch_key)
    try:
        claims = jwt.decode(token, key=key, algorithms=["ES256"], options={"verify_exp": False, "verify_aud": False})
    except jwt.InvalidSignatureError:
        raise NotSignedIn("The sign-in header's signature is invalid; it was refused.") from None
    except jwt.PyJWTError:
        raise NotSignedIn("The sign-in header from the load balancer could not be verified; it was refused.") from None
    if not _is_in_future(claims.get("exp", header.get("exp")), (now or time.time)()):
        raise NotSignedIn("Your sign-in has expired. Reload the page to sign in again.")
    return claims


def _is_in_future(expiry: object, now: float) -> bool:
    """True for a finite number of seconds after `now` (less the clock skew); NaN, infinity, text or None are not."""
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float, str)):
        return False
    try:
        seconds = float(expiry)
    except ValueError:
        return False
    return math.isfinite(seconds) and seconds + CLOCK_SKEW_S >= now


def principal_from_claims(settings: Settings, claims: Mapping[str, object], source: str) -> Principal:
    """A principal from sign-in claims (OIDC or ALB); the mapping itself is `identity.principal_from_claims`."""
    return identity.principal_from_claims(settings, claims, source)


def _oidc_principal(settings: Settings) -> Principal:
    user = st.user
    if not user.is_logged_in:
        if st.context.is_embedded:
            raise NotSignedIn("Sign-in does not work inside an embedded frame. Open the app in its own tab to sign in.")
        provider = settings.auth.oidc_provider or None
        st.button("Sign in", type="primary", key="daivi-sign-in", icon=":material/login:",
                  on_click=st.login, args=(provider,) if provider else ())
        raise NotSignedIn("Sign in with your company account to explore the lakehouses.")
    principal = principal_from_claims(settings, user.to_dict(), "oidc")
    if settings.auth.web_identity:
        token = user.tokens.get("id", "") if user.tokens else ""
        if not token:
            raise SettingsError("`daivi.auth.web_identity` needs the id token: add `expose_tokens = \"id\"` to `[auth]` in secrets.toml.")
        principal = dataclasses.replace(principal, web_identity_token=token)
    with st.sidebar:
        st.button("Sign out", key="daivi-sign-out", icon=":material/logout:", on_click=st.logout)
    return principal


def session_alb_claims(token: str, alb_arn: str, memo: MutableMapping) -> dict:
    """Claims of the ALB token this session connected with, verified once (expiry included).

    Streamlit reads request headers when the browser opens its websocket, so a
    session keeps the token it connected with while the ALB's short-lived token
    expires. Verified once, it stays valid for that session only (the server holds
    it; a client cannot replay it into another session); a new page load brings a
    fresh token from the ALB.
    """
    digest = hashlib.sha256(token.encode()).hexdigest()
    remembered = memo.get(_ALB_MEMO_KEY)
    if remembered and remembered[0] == digest:
        return remembered[1]
    claims = alb_claims(token, alb_arn)
    memo[_ALB_MEMO_KEY] = (digest, claims)
    return claims


def _proxy_principal(settings: Settings, headers: Mapping[str, str], memo: MutableMapping | None = None) -> Principal:
    auth = settings.auth
    if auth.alb_arn:
        token = headers.get(ALB_DATA_HEADER)
        if not token:
            # Never a fallback to another header: a client that reaches the app directly sends no ALB token.
            raise NotSignedIn("No sign-in from the load balancer reached the app. Open the app through its load balancer URL.")
        claims = session_alb_claims(token, auth.alb_arn, {} if memo is None else memo)
        return principal_from_claims(settings, claims, "proxy")
    if auth.trusted_header:
        warn_if_trusted_header_is_exposed()
        email = (headers.get(auth.trusted_header) or "").strip()
        if not email:
            raise NotSignedIn(f"No sign-in from the proxy reached the app (header {auth.trusted_header} is missing). "
                              "Open the app through its proxy URL.")
        claims = {"email": email, "sub": email}
        if auth.trusted_name_header:
            claims["name"] = headers.get(auth.trusted_name_header) or email
        if auth.trusted_groups_header:
            claims[auth.groups_claim] = headers.get(auth.trusted_groups_header) or ""
        return principal_from_claims(settings, claims, "proxy")
    raise NotSignedIn("Sign-in through a proxy is on (`daivi.auth_mode = \"proxy\"`) but neither `daivi.auth.alb_arn` "
                      "nor `daivi.auth.trusted_header` is set. Ask the app's administrator.")


LOOPBACK_ADDRESSES = ("127.0.0.1", "localhost", "::1")
_exposure_warned = threading.Event()


def warn_if_trusted_header_is_exposed() -> None:
    """Once per process: a loud warning when trusted-header sign-in listens beyond loopback.

    Anyone who reaches such a server directly can name any user in the header; it is
    safe only behind a proxy that sets the header and is the only way in (docs/aws.md).
    """
    address = (st.get_option("server.address") or "").strip()
    if address not in LOOPBACK_ADDRESSES and not _exposure_warned.is_set():
        _exposure_warned.set()
        log.warning("TRUSTED-HEADER SIGN-IN IS LISTENING ON %s: anyone who reaches this server without the proxy can "
                    "sign in as any user. Bind it to loopback (server.address) or let only the proxy reach it.",
                    address or "every interface")


def signed_in_principal(settings: Settings) -> Principal:
    """The signed-in user as a Principal, or NotSignedIn with what to do next."""
    if settings.auth_mode == "oidc":
        return _oidc_principal(settings)
    if settings.auth_mode == "proxy":
        return _proxy_principal(settings, st.context.headers, st.session_state)
    raise NotSignedIn("Demo personas are only available on the embedded engine. Set `daivi.auth_mode` to oidc or proxy.")
