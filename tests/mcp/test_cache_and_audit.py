"""The MCP runner's cache is per principal, bounded and expiring; every query of every call is audited with via=mcp."""

from __future__ import annotations

import pytest

from daivi_data.engines import create_engine
from daivi_data.identity import principal_for_persona
from daivi_data.mcp.runner import McpRunner, ToolCall
from daivi_data.queries import billing as bq
from tests.mcp.conftest import USERS, answer, call_tool, read_audit

SQL = "SELECT account_id, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily GROUP BY 1 ORDER BY 1"


def test_the_same_call_by_the_same_user_is_served_from_the_cache(persona_server, runner):
    server = persona_server("finance")
    first = answer(call_tool(server, "run_sql", {"sql": SQL}))
    executed = runner.executed
    second = answer(call_tool(server, "run_sql", {"sql": SQL}))
    assert runner.executed == executed
    assert second["rows"] == first["rows"]
    assert (first["stats"]["cached"], second["stats"]["cached"]) == (0, 1)


def test_two_users_never_share_a_cache_entry(persona_server, runner):
    admin = answer(call_tool(persona_server("admin"), "run_sql", {"sql": SQL}))
    after_admin = runner.executed
    lead = answer(call_tool(persona_server("teamlead"), "run_sql", {"sql": SQL}))
    assert runner.executed == after_admin + 1  # the same SQL ran again, as the team lead
    assert lead["stats"]["cached"] == 0
    assert len(lead["rows"]) < len(admin["rows"])


def test_two_token_users_never_share_a_cache_entry_over_http(http_mcp, idp):
    tokens = {p: idp.token(USERS[p], audience=http_mcp.bearer.audience) for p in ("admin", "teamlead")}
    runs = []
    for persona in ("admin", "teamlead", "admin"):
        (result,) = http_mcp.call_tools(tokens[persona], [("run_sql", {"sql": SQL})])
        runs.append(answer(result))
    assert [r["stats"]["cached"] for r in runs] == [0, 0, 1]
    assert runs[2]["rows"] == runs[0]["rows"] != runs[1]["rows"]


def test_a_cached_result_cannot_be_changed_by_the_caller_that_got_it(runner, mcp_settings):
    principal = principal_for_persona(mcp_settings, "admin")
    query = bq.accounts()
    first = runner.run(query, principal, ToolCall("t", {}))
    first.df.loc[:, "account_name"] = "tampered"
    second = runner.run(query, principal, ToolCall("t", {}))
    assert second.stats.cached and "tampered" not in set(second.df["account_name"])


def test_entries_expire_and_the_cache_is_bounded(mcp_settings):
    now = [0.0]
    runner = McpRunner(mcp_settings, create_engine(mcp_settings), ttl_s=60, max_entries=2, clock=lambda: now[0])
    principal = principal_for_persona(mcp_settings, "admin")
    runner.run(bq.accounts(), principal, ToolCall("t", {}))
    now[0] = 61.0
    assert not runner.run(bq.accounts(), principal, ToolCall("t", {})).stats.cached
    for persona in ("finance", "ops", "teamlead"):
        runner.run(bq.accounts(), principal_for_persona(mcp_settings, persona), ToolCall("t", {}))
    assert runner.cached_entries() == 2


def test_every_query_is_audited_with_the_tool_and_its_arguments(persona_server, mcp_settings):
    args = {"group_by": "account", "limit": 3}
    answer(call_tool(persona_server("teamlead"), "cost_by_dimension", args))
    answer(call_tool(persona_server("teamlead"), "cost_by_dimension", args))
    records = [r for r in read_audit(mcp_settings) if r.get("details", {}).get("tool") == "cost_by_dimension"]
    assert len(records) == 6  # data_end, currencies and group_totals, twice
    assert {r["via"] for r in records} == {"mcp"}
    assert all(r["details"]["arguments"] == args for r in records)
    assert all(r["role"] == "team-lead-payments" and r["email"] == "tara.teamlead@daivi.example" for r in records)
    assert [r["outcome"] for r in records] == ["ok"] * 3 + ["cached"] * 3
    assert {"billing.group_totals", "billing.data_end", "billing.currencies"} == {r["query"] for r in records}
    assert all("bytes_scanned" in r["details"] and "cost_usd" in r["details"] for r in records)


def test_a_refused_query_is_audited_with_its_sql_and_why(persona_server, mcp_settings):
    sql = "SELECT * FROM daivi_splunk.events"
    assert call_tool(persona_server("finance"), "run_sql", {"sql": sql}).is_error
    (record,) = [r for r in read_audit(mcp_settings) if r.get("details", {}).get("tool") == "run_sql"]
    assert record["outcome"] == "denied" and record["sql"] == sql and record["via"] == "mcp"
    assert record["error"]["type"] == "AccessDenied" and record["policy_version"]


def test_the_apps_audit_records_say_app(tmp_path, mcp_settings):
    from daivi_data.audit import write_audit_record

    principal = principal_for_persona(mcp_settings, "admin")
    write_audit_record(mcp_settings.audit_log, principal=principal, engine="duckdb", query=bq.accounts(), rows=1,
                       elapsed_s=0.1, outcome="ok")
    (record,) = read_audit(mcp_settings)
    assert record["via"] == "app" and "details" not in record


@pytest.mark.parametrize("budget,expect_refused", [(None, False), (1, True)])
def test_the_byte_budget_stops_a_calls_next_query(mcp_settings, budget, expect_refused):
    from daivi_data.engines.base import QueryResult, QueryStats
    from daivi_data.errors import QueryFailed

    class ScanningEngine:
        """The embedded engine, reporting bytes scanned as Athena would."""

        name = "athena"

        def __init__(self, inner):
            self.inner = inner

        def data_version(self):
            return "v"

        def run(self, query, principal):
            result = self.inner.run(query, principal)
            return QueryResult(result.df, QueryStats("athena", len(result.df), 0.0, bytes_scanned=10_000_000, cost_usd=0.05))

    runner = McpRunner(mcp_settings, ScanningEngine(create_engine(mcp_settings)))
    principal = principal_for_persona(mcp_settings, "admin")
    call = ToolCall("t", {}, max_bytes_scanned=budget)
    runner.run(bq.accounts(), principal, call)
    if expect_refused:
        with pytest.raises(QueryFailed, match="limit"):
            runner.run(bq.budgets(), principal, call)
    else:
        runner.run(bq.budgets(), principal, call)
    queries_run = 1 if expect_refused else 2
    assert call.bytes_scanned == queries_run * 10_000_000 and call.cost_usd == pytest.approx(queries_run * 0.05)


def test_an_edited_grants_file_is_never_answered_from_the_old_cache(app_env, tmp_path):
    from daivi_data.settings import load_settings

    grants = tmp_path / "grants.toml"
    grants.write_bytes(load_settings(secrets={}, environ=app_env).grants_file.read_bytes())
    settings = load_settings(secrets={}, environ={**app_env, "DAIVI_GRANTS_FILE": str(grants),
                                                  "DAIVI_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    runner = McpRunner(settings, create_engine(settings))
    principal = principal_for_persona(settings, "admin")
    assert not runner.run(bq.accounts(), principal, ToolCall("t", {})).stats.cached
    assert runner.run(bq.accounts(), principal, ToolCall("t", {})).stats.cached
    grants.write_bytes(grants.read_bytes() + b"\n# reviewed\n")
    assert not runner.run(bq.accounts(), principal, ToolCall("t", {})).stats.cached
