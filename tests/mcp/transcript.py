"""Record a real MCP session with the SDK's client: the stdio server for a persona lists its tools and answers two calls.

    python -m tests.mcp.transcript docs/mcp-transcript.md [--lakehouse DIR]

Starts `python -m daivi_data.mcp --persona teamlead` as a subprocess over the
small demo lakehouse (built into a temporary folder unless --lakehouse names
one), connects the SDK's stdio client through a tee that keeps every JSON-RPC
message in both directions, and writes them as Markdown. Long arrays are cut
to their first items, and the text copy of each structured result is left out,
both saying so in place.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from mcp import StdioServerParameters
from mcp.client import Client
from mcp.client.stdio import stdio_client

from daivi_data.settings import PROJECT_ROOT
from tests.helpers import SEED, demo_end_date
from tests.mcp.conftest import run_async

PERSONA = "teamlead"
CALLS = [
    ("cost_by_dimension", {"group_by": "service", "limit": 5}),
    ("run_sql", {"sql": "SELECT account_id, account_name, ou FROM daivi_billing.accounts ORDER BY account_id", "row_limit": 10}),
]
KEEP_ITEMS = 5


class _Tee:
    """A stream wrapper that logs each message; closing and context management pass through."""

    def __init__(self, inner, log):
        self.inner, self.log = inner, log

    async def aclose(self):
        await self.inner.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return await self.inner.__aexit__(*exc)


class _TeeRead(_Tee):
    async def receive(self):
        message = await self.inner.receive()
        self.log("server → client", message)
        return message

    def __aiter__(self):
        return self

    async def __anext__(self):
        message = await self.inner.__anext__()
        self.log("server → client", message)
        return message


class _TeeWrite(_Tee):
    async def send(self, message, /):
        self.log("client → server", message)
        await self.inner.send(message)


def _trim(value, path=""):
    """Long lists cut to KEEP_ITEMS (saying how many were cut); a tool result's text copy replaced by a note."""
    if isinstance(value, dict):
        out = {k: _trim(v, f"{path}.{k}") for k, v in value.items()}
        if "structuredContent" in out and isinstance(out.get("content"), list):
            out["content"] = ["… the same result as JSON text, left out here …"]
        if path.endswith(".tools[]") and "inputSchema" in out:
            out["inputSchema"] = {"…": f"{len(json.dumps(value['inputSchema']))} characters of JSON schema"}
            out["outputSchema"] = {"…": f"{len(json.dumps(value.get('outputSchema', {})))} characters of JSON schema"}
        return out
    if isinstance(value, list):
        items = [_trim(v, f"{path}[]") for v in value[:KEEP_ITEMS]]
        if len(value) > KEEP_ITEMS and not path.endswith(".tools"):
            items.append(f"… {len(value) - KEEP_ITEMS} more …")
        elif path.endswith(".tools"):
            items = [_trim(v, f"{path}[]") for v in value]
        return items
    return value


def record(lakehouse: Path, audit_log: Path) -> list[tuple[str, dict]]:
    messages: list[tuple[str, dict]] = []

    def log(direction: str, message) -> None:
        if isinstance(message, Exception):
            messages.append((direction, {"error": type(message).__name__}))
            return
        messages.append((direction, json.loads(message.message.model_dump_json(by_alias=True, exclude_none=True))))

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "daivi_data.mcp", "--persona", PERSONA], cwd=str(PROJECT_ROOT),
        env={"DAIVI_LAKEHOUSE_PATH": str(lakehouse), "DAIVI_AUDIT_LOG": str(audit_log), "DAIVI_ENGINE": "duckdb",
             "DAIVI_AUTH_MODE": "demo", "DAIVI_SECRETS_FILE": str(audit_log.parent / "none.toml"), "PYTHONPATH": str(PROJECT_ROOT)})

    @asynccontextmanager
    async def tee():
        async with stdio_client(params) as (read, write):
            yield _TeeRead(read, log), _TeeWrite(write, log)

    async def session():
        async with Client(tee(), mode="legacy") as client:
            await client.list_tools()
            for name, args in CALLS:
                await client.call_tool(name, args)

    run_async(session)
    return messages


def markdown(messages: list[tuple[str, dict]], lakehouse_end: dt.date) -> str:
    lines = [
        "# MCP transcript: an AI assistant's client asks the lakehouses",
        "",
        f"Recorded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `python -m tests.mcp.transcript docs/mcp-transcript.md`: "
        f"the MCP SDK's own client started `python -m daivi_data.mcp --persona {PERSONA}` (stdio, embedded engine) over "
        f"the `small` demo lakehouse (seed {SEED}, data through {lakehouse_end}), listed the tools and called two of them. "
        "Every JSON-RPC message of the session is below, in order. The team lead's grants show only the Payments OU's "
        "five accounts, so both answers hold those accounts' data and nothing else.",
        "",
        f"Long arrays are cut to their first {KEEP_ITEMS} items and the tools' JSON schemas are summarised; each tool "
        "result's text copy of its structured content is left out. Everything else is as sent.",
        "",
    ]
    for direction, body in messages:
        title = body.get("method") or ("result" if "result" in body else "error" if "error" in body else "message")
        lines += [f"## {direction}: {title}", "", "```json", json.dumps(_trim(body), indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lakehouse", type=Path, help="an existing small demo lakehouse (default: build one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        lakehouse = args.lakehouse
        end = demo_end_date()
        if lakehouse is None:
            from daivi_data.demo import build_demo_lakehouse

            lakehouse = Path(tmp) / "small"
            build_demo_lakehouse(lakehouse, scale="small", seed=SEED, end_date=end)
        else:
            end = dt.date.fromisoformat(json.loads((lakehouse / "manifest.json").read_text())["end_date"])
        messages = record(lakehouse, Path(tmp) / "audit.jsonl")
    args.out.write_text(markdown(messages, end), encoding="utf-8")
    print(f"{len(messages)} messages written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
