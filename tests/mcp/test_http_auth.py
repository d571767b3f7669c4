"""Over streamable HTTP, only a verified bearer token names the user: anything else is a 401, never a default identity."""

from __future__ import annotations

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import PAYMENTS_ACCOUNT_IDS
from tests.mcp.conftest import ISSUER, USERS, answer, refusal

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post_initialize(http_mcp, token: str | None) -> httpx2.Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx2.post(http_mcp.url, json=INITIALIZE, headers=headers, timeout=30)


def test_protected_resource_metadata_names_the_authorization_server(http_mcp):
    response = httpx2.get(f"{http_mcp.base}/.well-known/oauth-protected-resource/mcp", timeout=30)
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == http_mcp.url
    assert metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == ["daivi.read"]


def test_the_health_check_needs_no_token_and_says_nothing_else(http_mcp):
    response = httpx2.get(f"{http_mcp.base}/healthz", timeout=30)
    assert (response.status_code, response.text) == (200, "ok")


def test_no_token_is_401_with_where_to_sign_in(http_mcp):
    response = post_initialize(http_mcp, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{http_mcp.base}/.well-known/oauth-protected-resource/mcp"' in challenge


def _bad_tokens(idp, audience):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = USERS["admin"]
    return {
        "expired": idp.token(email, audience=audience, lifetime_s=-120),
        "wrong audience": idp.token(email, audience="https://another-service.example/mcp"),
        "wrong issuer": idp.token(email, audience=audience, issuer="https://evil-idp.example"),
        "not yet valid": idp.token(email, audience=audience, not_before_s=600),
        "signed by another key": idp.token(email, audience=audience, key=other_key),
        "HMAC with a guessable secret": idp.token(email, audience=audience, algorithm="HS256"),
        "unsigned (alg none)": jwt.encode({"iss": ISSUER, "aud": audience, "sub": "x", "email": email, "exp": 2**31},
                                          None, algorithm="none", headers={"kid": idp.kid}),
        "not a JWT": "not-a-token",
        "no subject": idp.token(email, audience=audience, sub=None),
    }


@pytest.mark.parametrize("kind", ["expired", "wrong audience", "wrong issuer", "not yet valid", "signed by another key",
                                  "HMAC with a guessable secret", "unsigned (alg none)", "not a JWT", "no subject"])
def test_a_bad_token_is_refused_with_401(http_mcp, idp, kind):
    token = _bad_tokens(idp, http_mcp.bearer.audience)[kind]
    response = post_initialize(http_mcp, token)
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert token not in response.text


def test_a_token_without_the_required_scope_is_refused_with_the_scope_to_ask_for(http_mcp, idp):
    token = idp.token(USERS["admin"], audience=http_mcp.bearer.audience, scope="openid email")
    response = post_initialize(http_mcp, token)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert "daivi.read" in response.headers["www-authenticate"]


def test_a_valid_token_opens_a_session_with_every_tool(http_mcp, idp):
    token = idp.token(USERS["admin"], audience=http_mcp.bearer.audience)
    assert post_initialize(http_mcp, token).status_code == 200
    names = http_mcp.list_tool_names(token)
    assert {"list_catalog", "cost_by_dimension", "run_sql", "logs_search"} <= set(names)


def test_each_call_runs_as_the_tokens_user_and_role(http_mcp, idp):
    admin = idp.token(USERS["admin"], audience=http_mcp.bearer.audience)
    lead = idp.token(USERS["teamlead"], audience=http_mcp.bearer.audience)
    sql = "SELECT DISTINCT account_id FROM daivi_billing.accounts ORDER BY 1"
    (admin_result,) = http_mcp.call_tools(admin, [("run_sql", {"sql": sql})])
    (lead_result,) = http_mcp.call_tools(lead, [("run_sql", {"sql": sql})])
    admin_rows, lead_rows = answer(admin_result), answer(lead_result)
    assert admin_rows["caller"] == {"email": USERS["admin"], "role": "admin"}
    assert lead_rows["caller"] == {"email": USERS["teamlead"], "role": "team-lead-payments"}
    assert {r["account_id"] for r in lead_rows["rows"]} == set(PAYMENTS_ACCOUNT_IDS)
    assert len(admin_rows["rows"]) > len(PAYMENTS_ACCOUNT_IDS)


def test_a_user_no_mapping_knows_gets_no_data(http_mcp, idp):
    token = idp.token("stranger@elsewhere.example", audience=http_mcp.bearer.audience)
    (result,) = http_mcp.call_tools(token, [("cost_by_dimension", {})])
    assert "no DAIVI role" in refusal(result)
    assert http_mcp.runner.executed == 0


def test_groups_claim_maps_to_a_role_like_the_app(runner, idp, mcp_settings):
    from dataclasses import replace

    from daivi_data.settings import RoleMapping
    from tests.mcp.conftest import serve_http

    runner.settings = replace(mcp_settings, role_mappings=(RoleMapping(role="ops-engineer", groups=("sre",)),))
    with serve_http(runner, idp) as served:
        token = idp.token("someone@daivi.example", audience=served.bearer.audience, groups=["staff", "sre"])
        (result,) = served.call_tools(token, [("list_catalog", {})])
    assert answer(result)["caller"]["role"] == "ops-engineer"


def test_a_key_the_idp_withdrew_no_longer_verifies_tokens(idp, monkeypatch):
    import time

    import jwt.jwk_set_cache

    from daivi_data.mcp.auth import JWKS_CACHE_S, BearerSettings, JwtTokenVerifier
    from tests.mcp.conftest import jwk_of, jwks_server

    keys = [jwk_of(idp.key, idp.kid)]
    with jwks_server(keys) as url:
        bearer = BearerSettings(issuer=ISSUER, audience="https://daivi.test/mcp", jwks_url=url, resource_url="https://daivi.test/mcp")
        verifier = JwtTokenVerifier(bearer)
        token = idp.token(USERS["admin"], audience=bearer.audience)
        assert verifier.claims_of(token)["email"] == USERS["admin"]
        keys.clear()  # the IdP rotates the key out
        later = time.monotonic() + JWKS_CACHE_S + 1
        monkeypatch.setattr(jwt.jwk_set_cache, "time", type("Later", (), {"monotonic": staticmethod(lambda: later)}))
        assert verifier.claims_of(token) is None


def test_without_a_verified_token_in_the_request_a_tool_refuses_rather_than_guess(runner, mcp_settings):
    from daivi_data.mcp.server import bearer_identity, build_server
    from tests.mcp.conftest import call_tool

    # A server wired for bearer identities but reached without the HTTP auth layer (in-process): no token, no data.
    result = call_tool(build_server(runner, bearer_identity(mcp_settings)), "run_sql", {"sql": "SELECT 1 AS x"})
    assert "Not signed in" in refusal(result)
    assert runner.executed == 0
