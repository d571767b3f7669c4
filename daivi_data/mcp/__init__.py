"""The MCP server for AI assistants: the app's named queries, SQL guard, cache and audit, under the asking user's grants.

`python -m daivi_data.mcp --persona KEY` (stdio, demo data) or `--http` (streamable HTTP, bearer tokens);
see docs/mcp.md.
"""
