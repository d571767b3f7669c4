"""CLI: the MCP server over stdio for one demo persona, or over streamable HTTP for bearer-token users.

    python -m daivi_data.mcp --persona teamlead
        stdio, the embedded engine and its demo lakehouse only (demo personas never run on AWS)

    python -m daivi_data.mcp --http --host 0.0.0.0 --port 8765 \\
        --issuer https://idp.example.com --audience https://daivi.example.com/mcp \\
        --resource-url https://daivi.example.com/mcp [--jwks-url …] [--scope daivi.read]
        streamable HTTP at /mcp; each request's bearer token names the user

Every HTTP flag has an environment variable (DAIVI_MCP_ISSUER, DAIVI_MCP_AUDIENCE,
DAIVI_MCP_RESOURCE_URL, DAIVI_MCP_JWKS_URL, DAIVI_MCP_SCOPES space-separated,
DAIVI_MCP_MAX_BYTES_SCANNED); the engine, grants and role mappings come from the
app's own settings (secrets.toml, DAIVI_* variables).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import urllib.request

from daivi_data.engines import create_engine
from daivi_data.errors import DaiviError, SettingsError
from daivi_data.identity import principal_for_persona
from daivi_data.mcp.auth import BearerSettings
from daivi_data.mcp.runner import DEFAULT_MAX_BYTES_SCANNED, McpRunner, check_workgroup_cutoff
from daivi_data.mcp.server import bearer_identity, build_server, http_app, persona_identity
from daivi_data.settings import Settings, load_settings

DISCOVERY_TIMEOUT_S = 10


def discover_jwks_url(issuer: str) -> str:
    """The IdP's `jwks_uri`, from its OpenID Connect discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=DISCOVERY_TIMEOUT_S) as response:  # noqa: S310 - the configured issuer
            document = json.load(response)
    except (OSError, ValueError) as e:
        raise SettingsError(f"Could not read {url} ({type(e).__name__}); pass --jwks-url.") from None
    jwks = document.get("jwks_uri")
    if not isinstance(jwks, str) or not jwks.startswith("https://") and not jwks.startswith("http://127.0.0.1"):
        raise SettingsError(f"{url} names no usable jwks_uri; pass --jwks-url.")
    return jwks


def bearer_settings(args: argparse.Namespace, environ: dict[str, str]) -> BearerSettings:
    """The bearer-token checks from flags, else DAIVI_MCP_* variables; a SettingsError names what is missing."""

    def value(flag: str, env: str) -> str:
        return (getattr(args, flag) or environ.get(env, "")).strip()

    issuer, resource_url = value("issuer", "DAIVI_MCP_ISSUER"), value("resource_url", "DAIVI_MCP_RESOURCE_URL")
    missing = [name for name, v in (("--issuer (DAIVI_MCP_ISSUER)", issuer),
                                    ("--resource-url (DAIVI_MCP_RESOURCE_URL)", resource_url)) if not v]
    if missing:
        raise SettingsError(f"The HTTP server needs {' and '.join(missing)}: without them no token can be checked.")
    audience = value("audience", "DAIVI_MCP_AUDIENCE") or resource_url
    scopes = args.scope or environ.get("DAIVI_MCP_SCOPES", "").split()
    jwks_url = value("jwks_url", "DAIVI_MCP_JWKS_URL") or discover_jwks_url(issuer)
    return BearerSettings(issuer=issuer, audience=audience, jwks_url=jwks_url, resource_url=resource_url,
                          required_scopes=tuple(scopes))


def max_bytes_scanned(settings: Settings, environ: dict[str, str]) -> int | None:
    """The per-call byte budget on Athena (None on the embedded engine, which reads local files)."""
    if settings.engine != "athena":
        return None
    raw = environ.get("DAIVI_MCP_MAX_BYTES_SCANNED", str(DEFAULT_MAX_BYTES_SCANNED))
    if not raw.isdigit() or int(raw) <= 0:
        raise SettingsError(f"DAIVI_MCP_MAX_BYTES_SCANNED must be a positive number of bytes, not {raw!r}.")
    return int(raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daivi_data.mcp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--persona", help="stdio for one demo persona (admin, finance, ops, teamlead): embedded engine only")
    mode.add_argument("--http", action="store_true", help="streamable HTTP with bearer-token sign-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--issuer")
    parser.add_argument("--audience", help="the `aud` tokens must carry (default: the resource URL)")
    parser.add_argument("--resource-url", help="public URL of this server's /mcp endpoint")
    parser.add_argument("--jwks-url", help="default: the issuer's OpenID discovery document's jwks_uri")
    parser.add_argument("--scope", action="append", help="a scope every token must carry (repeatable)")
    args = parser.parse_args(argv)
    # stdout is the protocol on stdio: every log line goes to stderr.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    environ = dict(os.environ)
    try:
        settings = load_settings()
        if args.persona:
            principal = principal_for_persona(settings, args.persona)
            if not (settings.lakehouse_path / "manifest.json").exists():
                raise SettingsError(f"No lakehouse at {settings.lakehouse_path}: build the demo first "
                                    f"(python -m daivi_data.demo --scale small --out {settings.lakehouse_path}).")
            server = build_server(McpRunner(settings, create_engine(settings)), persona_identity(principal))
            server.run("stdio")
            return 0
        bearer = bearer_settings(args, environ)
        budget = max_bytes_scanned(settings, environ)
        if budget is not None:
            check_workgroup_cutoff(settings, budget)
        server = build_server(McpRunner(settings, create_engine(settings)), bearer_identity(settings), bearer=bearer,
                              max_bytes_scanned=budget)
    except DaiviError as e:
        print(f"{e.title}: {e}", file=sys.stderr)
        return 2
    import uvicorn

    uvicorn.run(http_app(server, args.host), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
