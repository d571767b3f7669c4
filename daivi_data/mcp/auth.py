"""Who is calling over HTTP: the bearer token checked as an OAuth resource server would, then mapped to a principal.

`JwtTokenVerifier` is the MCP SDK's `TokenVerifier`: it accepts a token only
when it is a JWT signed by a key of the identity provider's JWKS (RS256/ES256
family, never `none` or HMAC), issued by the configured issuer, for this
server's audience, unexpired and already valid (`nbf`). Anything else is no
identity at all: the SDK then answers 401 with a `WWW-Authenticate` header that
points at this server's protected-resource metadata (RFC 9728), so a client can
find the authorization server. A valid token without the scopes the server
requires gets the SDK's 403 `insufficient_scope`, so the client can ask for them.

`principal_from_claims` maps the token's email and groups to a grants role with
the app's own mappings (`identity.principal_for_user`). The token itself goes
no further: on Athena the server assumes the role with its own credentials and
SourceIdentity = the user; the client's token never reaches AWS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import anyio.to_thread
import jwt

from daivi_data import identity
from daivi_data.identity import Principal
from daivi_data.settings import Settings

log = logging.getLogger(__name__)

# Asymmetric algorithms only: with a public JWKS, HMAC would let anyone who read the key sign tokens.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
CLOCK_SKEW_S = 30
JWKS_CACHE_S = 300
JWKS_TIMEOUT_S = 10
JWKS_REFRESH_COOLDOWN_S = 30  # an attacker's made-up key ids cannot make the server hammer the IdP
MAX_TOKEN_CHARS = 16_000
REQUIRED_CLAIMS = ("iss", "aud", "exp", "sub")
SOURCE = "oidc"  # the principal's source: an OIDC identity, as in the app


@dataclass(frozen=True)
class BearerSettings:
    """How the server checks bearer tokens (flags or DAIVI_MCP_* environment; see the README)."""

    issuer: str  # the authorization server, exactly as its tokens' `iss` says
    audience: str  # what the tokens' `aud` must hold: this server's resource URL or its client id at the IdP
    jwks_url: str  # the IdP's signing keys
    resource_url: str  # the public URL of this server's MCP endpoint (protected-resource metadata)
    required_scopes: tuple[str, ...] = ()


def _scopes(claims: Mapping[str, object]) -> list[str]:
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, (list, tuple)):
        return [str(s) for s in scope]
    return []


class JwtTokenVerifier:
    """The SDK's `TokenVerifier` for JWT access tokens signed by the IdP's JWKS."""

    def __init__(self, bearer: BearerSettings, *, jwks_client: jwt.PyJWKClient | None = None):
        self.bearer = bearer
        # The key set is cached for JWKS_CACHE_S and an unknown `kid` refetches it at most once per cooldown.
        # No per-key cache: PyJWT's never expires, so a key the IdP withdrew would go on verifying tokens.
        self._jwks = jwks_client or jwt.PyJWKClient(bearer.jwks_url, cache_keys=False, lifespan=JWKS_CACHE_S,
                                                    timeout=JWKS_TIMEOUT_S, cooldown_duration=JWKS_REFRESH_COOLDOWN_S)

    async def verify_token(self, token: str):  # -> AccessToken | None
        # PyJWKClient fetches the JWKS with blocking I/O (on a cache miss): keep it off the event loop.
        return await anyio.to_thread.run_sync(self.verify_token_sync, token)

    def verify_token_sync(self, token: str):
        from mcp.server.auth.provider import AccessToken

        claims = self.claims_of(token)
        if claims is None:
            return None
        return AccessToken(token=token, client_id=str(claims.get("azp") or claims.get("client_id") or claims["sub"]),
                           scopes=_scopes(claims), expires_at=int(claims["exp"]), resource=self.bearer.resource_url,
                           subject=str(claims["sub"]), claims=claims)

    def claims_of(self, token: str) -> dict | None:
        """The verified claims of `token`, or None (logged without the token) when it must not be trusted."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token, key.key, algorithms=list(ALGORITHMS), audience=self.bearer.audience, issuer=self.bearer.issuer,
                leeway=CLOCK_SKEW_S, options={"require": list(REQUIRED_CLAIMS), "verify_nbf": True},
            )
        except (jwt.PyJWTError, ValueError) as e:
            log.info("bearer token refused: %s", type(e).__name__)
            return None
        if float(claims["exp"]) + CLOCK_SKEW_S < time.time():  # jwt.decode checked it; belt and braces for a clock mock
            return None
        return claims


def principal_from_claims(settings: Settings, claims: Mapping[str, object]) -> Principal:
    """The principal of verified token claims, mapped to a role exactly as the app maps a signed-in user."""
    return identity.principal_from_claims(settings, claims, SOURCE, subject_required=True)
