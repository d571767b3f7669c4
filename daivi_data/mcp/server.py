"""The MCP server: the lakehouse tools on the official MCP SDK, for one demo persona (stdio) or bearer-token users (HTTP).

`build_server` registers every tool of `LakehouseTools` (read-only, closed
world) with its description and schemas. Who a call runs as is decided per
call by `identify(ctx)`:

- `persona_identity(principal)`: stdio on a laptop, one demo persona on the
  embedded engine for the whole session;
- `bearer_identity(settings)`: streamable HTTP, the verified bearer token of
  *this* HTTP request (the SDK's `AuthenticationMiddleware` put it in the
  request's scope), mapped to a role. The SDK refuses a request without a
  valid token with 401 before any tool runs, so a tool never falls back to a
  default identity.

The HTTP app is stateless (every request carries and is judged by its own
token) and answers JSON, so any number of replicas can serve behind a load
balancer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from daivi_data.errors import DaiviError
from daivi_data.identity import Principal
from daivi_data.mcp.auth import BearerSettings, JwtTokenVerifier, principal_from_claims
from daivi_data.mcp.runner import McpRunner
from daivi_data.mcp.tools import UNTRUSTED_NOTE, LakehouseTools
from daivi_data.settings import Settings

SERVER_NAME = "daivi-lakehouse"
SERVER_VERSION = "0.1.0"  # pyproject's version
INSTRUCTIONS = (
    "DAIVI Lakehouse Explorer: AWS cost (billing and CUR), resource inventory and Splunk logs, answered under the "
    "caller's own data grants. Start with list_catalog to see what the caller may read. Every amount names its "
    "currency; amounts of different currencies are never added. "
    + UNTRUSTED_NOTE
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

Identify = Callable[[Context], Principal]


def persona_identity(principal: Principal) -> Identify:
    """Every call runs as this one principal (stdio: the person at the laptop chose the persona)."""
    return lambda _ctx: principal


def bearer_identity(settings: Settings) -> Identify:
    """Every call runs as the user of the bearer token its own HTTP request carried."""

    def identify(ctx: Context) -> Principal:
        request = ctx.request_context.request
        user = request.scope.get("user") if request is not None else None
        if not isinstance(user, AuthenticatedUser) or not user.access_token.claims:
            raise ToolError("Not signed in: this server needs a valid bearer token on every request.")
        try:
            return principal_from_claims(settings, user.access_token.claims)
        except DaiviError as e:
            raise ToolError(f"{e.title}: {e}") from None

    return identify


HEALTH_PATH = "/healthz"


async def _health(_request: Request) -> Response:
    # For the load balancer's health check: says the process serves, and nothing about data or users.
    return PlainTextResponse("ok")


def _description(fn: Callable) -> str:
    return f"{inspect.cleandoc(fn.__doc__ or '')}\n\n{UNTRUSTED_NOTE}"


def build_server(runner: McpRunner, identify: Identify, *, bearer: BearerSettings | None = None,
                 token_verifier: JwtTokenVerifier | None = None, max_bytes_scanned: int | None = None) -> MCPServer:
    """The MCP server with every tool; with `bearer`, a resource server that accepts only verified tokens."""
    auth = None
    if bearer is not None:
        token_verifier = token_verifier or JwtTokenVerifier(bearer)
        # The verifier checks the audience itself (it may be a client id rather than this URL).
        # The URLs as given (pydantic validates them; an AnyHttpUrl object would add a "/" the metadata then shows).
        auth = AuthSettings(issuer_url=bearer.issuer, resource_server_url=bearer.resource_url,  # type: ignore[arg-type]
                            required_scopes=list(bearer.required_scopes) or None, validate_token_resource=False)
    server = MCPServer(SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS, token_verifier=token_verifier, auth=auth)
    server.custom_route(HEALTH_PATH, methods=["GET"], include_in_schema=False)(_health)  # HTTP only; no token needed
    tools = LakehouseTools(runner, identify, max_bytes_scanned=max_bytes_scanned)
    for name in LakehouseTools.TOOLS:
        fn = getattr(tools, name)
        server.add_tool(fn, name=name, description=_description(fn), annotations=READ_ONLY, structured_output=True)
    return server


def http_app(server: MCPServer, host: str) -> Starlette:
    """The streamable HTTP app at /mcp (stateless, JSON answers), the protected-resource metadata and /healthz."""
    return server.streamable_http_app(stateless_http=True, json_response=True, host=host)
