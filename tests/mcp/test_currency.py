"""Inventory cost through MCP in two currencies: one currency per answer, the others listed, never one mixed sum.

Data: the small lakehouse with one account's CUR line items billed in EUR (tests/conftest.py `two_currencies`).
Expected amounts come from SQL over those Parquet files, not from the tools.
"""

from __future__ import annotations

import duckdb
import pytest

from daivi_data.engines import create_engine
from daivi_data.identity import principal_for_persona
from daivi_data.mcp.runner import McpRunner
from daivi_data.mcp.server import build_server, persona_identity
from daivi_data.queries import inventory as iq
from daivi_data.settings import load_settings
from tests.mcp.conftest import answer, call_tool

APPROX = {"rel": 1e-9, "abs": 1e-6}


@pytest.fixture
def admin_server(two_currencies, app_env, tmp_path):
    settings = load_settings(environ={**app_env, "DAIVI_LAKEHOUSE_PATH": str(two_currencies["path"]),
                                      "DAIVI_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    runner = McpRunner(settings, create_engine(settings))
    return build_server(runner, persona_identity(principal_for_persona(settings, "admin")))


def cost_by_currency(two_currencies, resource_ids: list[str]) -> dict[str, float]:
    """Unblended cost over the 30-day window, per currency, of `resource_ids`: SQL over the files."""
    start, end, _, _ = iq.cost_window(two_currencies["snapshot"])
    rows = duckdb.connect().execute(
        "SELECT line_item_currency_code, SUM(line_item_unblended_cost) "
        "FROM read_parquet(?, hive_partitioning = true) WHERE list_contains(?, line_item_resource_id) "
        "AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ? GROUP BY 1",
        [f"{two_currencies['path']}/daivi_cur/cur/*/*.parquet", resource_ids, start, end]).fetchall()
    return dict(rows)


def test_resource_detail_is_in_the_resource_s_own_currency(admin_server, two_currencies):
    snapshot = two_currencies["snapshot"].isoformat()
    body = answer(call_tool(admin_server, "resource_detail", {"resource_id": two_currencies["volume"], "snapshot": snapshot}))
    assert body["currency"] == "EUR" and body["currencies"] == ["EUR"]
    assert body["cost_30d"] == pytest.approx(two_currencies["cost"], **APPROX)
    assert {row["currency"] for row in body["daily_cost"]} == {"EUR"}
    # Asked for dollars it has none of: said, and the EUR figure kept (never relabelled).
    body = answer(call_tool(admin_server, "resource_detail",
                            {"resource_id": two_currencies["volume"], "snapshot": snapshot, "currency": "USD"}))
    assert body["currency"] == "EUR" and any("USD" in note for note in body["notes"])


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_waste_findings_never_add_two_currencies(admin_server, two_currencies, currency):
    body = answer(call_tool(admin_server, "waste_findings", {"limit": 500, "currency": currency,
                                                             "snapshot": two_currencies["snapshot"].isoformat()}))
    assert body["currency"] == currency and set(body["currencies"]) == {"USD", "EUR"}
    assert body["page"]["total_rows"] == len(body["findings"])
    # Every finding's cost is in the asked currency alone: the EUR account's volume costs only in EUR, and
    # the costed findings of each answer hold cost in that currency in the files.
    costed = sorted({f["resource_id"] for f in body["findings"] if f["monthly_cost"]})
    assert costed and cost_by_currency(two_currencies, costed).get(currency, 0) > 0
    eur_volume = next((f for f in body["findings"] if f["resource_id"] == two_currencies["volume"]), None)
    assert eur_volume is not None
    if currency == "EUR":
        assert eur_volume["monthly_cost"] > 0
    else:
        assert not eur_volume["monthly_cost"]
