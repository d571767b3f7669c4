"""MCP tier fixtures: the server over the small demo lakehouse, driven by the MCP SDK's own client.

`call_tools(server, [(tool, args), ...])` opens one client session over the
SDK's in-memory transport (memory streams, the JSON-RPC framing of a real
connection) and returns the results in order. `http_mcp` serves the same
server over streamable HTTP with uvicorn on 127.0.0.1, its bearer tokens
signed by a key whose JWKS a loopback HTTP server publishes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import http.server
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import httpx2
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.client import Client
from mcp.client._memory import InMemoryTransport
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from daivi_data import clock
from daivi_data.engines import create_engine
from daivi_data.identity import principal_for_persona
from daivi_data.mcp.auth import BearerSettings
from daivi_data.mcp.runner import McpRunner
from daivi_data.mcp.server import bearer_identity, build_server, http_app, persona_identity
from daivi_data.settings import load_settings
from tests.helpers import PERSONA_ROLES

CLIENT_TIMEOUT_S = 60
SERVER_START_TIMEOUT_S = 20
ISSUER = "https://idp.daivi.test"
# Every persona's e-mail maps to its role, as the platform team would map the IdP's users.
USERS = {persona: f"{persona}@daivi.example" for persona in PERSONA_ROLES}


def run_async(fn, *args):
    """Run a coroutine function to completion, failing (not hanging) after CLIENT_TIMEOUT_S."""

    async def bounded():
        with anyio.fail_after(CLIENT_TIMEOUT_S):
            return await fn(*args)

    # On a thread of its own: Playwright's sync API (the e2e tier, same pytest session) keeps an
    # event loop running on the main thread, and anyio refuses to start a second one there.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, bounded).result()


def call_tools(server, calls: list[tuple[str, dict]]) -> list[CallToolResult]:
    """The results of calling each tool in one in-process MCP client session (memory streams)."""

    async def session():
        async with Client(InMemoryTransport(server), mode="legacy") as client:
            return [await client.call_tool(name, args) for name, args in calls]

    return run_async(session)


def call_tool(server, name: str, args: dict | None = None) -> CallToolResult:
    return call_tools(server, [(name, args or {})])[0]


def answer(result: CallToolResult) -> dict:
    """The structured result of a call that must have succeeded."""
    assert not result.is_error, result.content[0].text if result.content else result
    assert result.structured_content is not None
    return result.structured_content


def refusal(result: CallToolResult) -> str:
    """The message of a call that must have been refused."""
    assert result.is_error, f"expected a refusal, got {str(result.structured_content)[:300]}"
    return result.content[0].text


@pytest.fixture
def mcp_settings(app_env, tmp_path):
    """The app's settings over the small lakehouse, a fresh audit log, and the personas' e-mails mapped to roles."""
    env = {**app_env, "DAIVI_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    mappings = [{"role": role, "emails": [USERS[persona]]} for persona, role in PERSONA_ROLES.items()]
    return load_settings(secrets={"daivi": {"role_mappings": mappings}}, environ=env)


@pytest.fixture
def runner(mcp_settings):
    """A runner with an empty cache, over the embedded engine."""
    return McpRunner(mcp_settings, create_engine(mcp_settings))


@pytest.fixture
def persona_server(runner, mcp_settings):
    """persona -> the stdio-mode server for that demo persona (all sharing one runner, as users of one process would)."""
    return lambda persona: build_server(runner, persona_identity(principal_for_persona(mcp_settings, persona)))


def read_audit(settings) -> list[dict]:
    path = settings.audit_log
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- HTTP: a JWKS on loopback, tokens, uvicorn ---------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Idp:
    """A stand-in identity provider: a signing key, its JWKS on a loopback URL, and tokens."""

    key: rsa.RSAPrivateKey
    kid: str
    jwks_url: str

    def token(self, email: str, *, audience: str, issuer: str = ISSUER, lifetime_s: int = 600, not_before_s: int = 0,
              key: rsa.RSAPrivateKey | None = None, algorithm: str = "RS256", **claims) -> str:
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "sub": f"sub-{email}", "email": email, "iat": now,
                   "nbf": now + not_before_s, "exp": now + lifetime_s, "scope": "daivi.read", **claims}
        signing = key or self.key
        if algorithm.startswith("HS"):
            return jwt.encode(payload, "a-shared-secret-that-is-long-enough-for-hs256", algorithm=algorithm, headers={"kid": self.kid})
        return jwt.encode(payload, signing, algorithm=algorithm, headers={"kid": self.kid})


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig", "alg": "RS256"}


@contextlib.contextmanager
def json_server(document: dict) -> Iterator[str]:
    """A loopback HTTP server answering every GET with `document` as JSON (serialised per request, so a test can
    change it); its base URL."""

    class Json(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Json)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


@contextlib.contextmanager
def jwks_server(keys: list[dict]) -> Iterator[str]:
    """The URL of a JWKS publishing `keys` (a list the test may change to rotate keys)."""
    with json_server({"keys": keys}) as base:
        yield f"{base}/jwks.json"


@pytest.fixture(scope="session")
def idp() -> Iterator[Idp]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    with jwks_server([jwk_of(key, kid)]) as url:
        yield Idp(key, kid, url)


@dataclass
class HttpMcp:
    url: str  # the /mcp endpoint
    base: str
    bearer: BearerSettings
    runner: McpRunner

    def call_tools(self, token: str | None, calls: list[tuple[str, dict]]) -> list[CallToolResult]:
        """Results of the calls in one MCP session over streamable HTTP, each request carrying `token`."""

        async def session():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with httpx2.AsyncClient(headers=headers, timeout=CLIENT_TIMEOUT_S) as http:
                async with Client(streamable_http_client(self.url, http_client=http), mode="legacy") as client:
                    return [await client.call_tool(name, args) for name, args in calls]

        return run_async(session)

    def list_tool_names(self, token: str) -> list[str]:
        async def session():
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=CLIENT_TIMEOUT_S) as http:
                async with Client(streamable_http_client(self.url, http_client=http), mode="legacy") as client:
                    return [t.name for t in (await client.list_tools()).tools]

        return run_async(session)


@contextlib.contextmanager
def serve_http(runner: McpRunner, idp: Idp, *, max_bytes_scanned: int | None = None) -> Iterator[HttpMcp]:
    """The MCP server over streamable HTTP on a free loopback port, stopped (and joined) on exit."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bearer = BearerSettings(issuer=ISSUER, audience=f"{base}/mcp", jwks_url=idp.jwks_url, resource_url=f"{base}/mcp",
                            required_scopes=("daivi.read",))
    server = build_server(runner, bearer_identity(runner.settings), bearer=bearer, max_bytes_scanned=max_bytes_scanned)
    config = uvicorn.Config(http_app(server, "127.0.0.1"), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP HTTP server did not start")
        time.sleep(0.05)
    try:
        yield HttpMcp(url=f"{base}/mcp", base=base, bearer=bearer, runner=runner)
    finally:
        uv.should_exit = True
        thread.join(timeout=SERVER_START_TIMEOUT_S)


@pytest.fixture
def http_mcp(runner, idp) -> Iterator[HttpMcp]:
    with serve_http(runner, idp) as served:
        yield served


def days_ago(n: int) -> dt.date:
    return clock.today() - dt.timedelta(days=n)
