"""`python -m daivi_data.mcp`: stdio for a demo persona on the embedded engine, and what it refuses to start with."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mcp import StdioServerParameters
from mcp.client import Client

from daivi_data.settings import PROJECT_ROOT
from tests.helpers import PAYMENTS_ACCOUNT_IDS
from tests.mcp.conftest import answer, run_async

CLI_TIMEOUT_S = 60


def server_env(app_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**app_env, "PYTHONPATH": str(PROJECT_ROOT), **extra}


def test_stdio_server_answers_a_team_lead_with_payments_rows_only(app_env):
    params = StdioServerParameters(command=sys.executable, args=["-m", "daivi_data.mcp", "--persona", "teamlead"],
                                   env=server_env(app_env), cwd=str(PROJECT_ROOT))

    async def session():
        async with Client(params, mode="legacy") as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("cost_by_dimension", {"group_by": "account"})
            return tools, result

    tools, result = run_async(session)
    assert "run_sql" in tools and "cost_by_dimension" in tools
    body = answer(result)
    assert body["caller"]["role"] == "team-lead-payments"
    assert {g["group"] for g in body["groups"]} == set(PAYMENTS_ACCOUNT_IDS)


def run_cli(app_env: dict[str, str], *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "daivi_data.mcp", *args], env=server_env(app_env, **env), cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, stdin=subprocess.DEVNULL)


def test_demo_personas_never_run_on_athena(app_env):
    done = run_cli(app_env, "--persona", "admin", DAIVI_ENGINE="athena", DAIVI_AUTH_MODE="oidc",
                   DAIVI_ATHENA_S3_OUTPUT="s3://bucket/prefix/")
    assert done.returncode == 2
    assert "embedded engine" in done.stderr and done.stdout == ""


def test_an_unknown_persona_is_named(app_env):
    done = run_cli(app_env, "--persona", "mallory")
    assert done.returncode == 2 and "mallory" in done.stderr and "teamlead" in done.stderr


def test_http_without_an_issuer_does_not_start(app_env):
    done = run_cli(app_env, "--http", DAIVI_MCP_ISSUER="", DAIVI_MCP_RESOURCE_URL="")
    assert done.returncode == 2
    assert "--issuer" in done.stderr and "--resource-url" in done.stderr


def test_the_jwks_is_found_through_the_issuers_discovery_document():
    from daivi_data.errors import SettingsError
    from daivi_data.mcp.__main__ import discover_jwks_url
    from tests.mcp.conftest import json_server

    document = {"jwks_uri": "http://127.0.0.1:9/keys"}
    with json_server(document) as issuer:
        assert discover_jwks_url(issuer) == "http://127.0.0.1:9/keys"
        document["jwks_uri"] = "http://idp.example.com/keys"  # plain HTTP beyond loopback: keys anyone could swap
        with pytest.raises(SettingsError, match="jwks_uri"):
            discover_jwks_url(issuer)


def test_the_http_server_starts_from_the_cli_and_refuses_a_request_without_a_token(app_env, idp):
    import socket
    import time

    import httpx2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "daivi_data.mcp", "--http", "--port", str(port), "--issuer", "https://idp.daivi.test",
         "--resource-url", f"{base}/mcp", "--jwks-url", idp.jwks_url],
        env=server_env(app_env), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + CLI_TIMEOUT_S
        while True:
            try:
                metadata = httpx2.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=5)
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert metadata.json()["authorization_servers"] == ["https://idp.daivi.test"]
        refused = httpx2.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10,
                              headers={"Accept": "application/json, text/event-stream"})
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=CLI_TIMEOUT_S)
