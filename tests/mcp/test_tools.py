"""Every tool answers every demo persona through the SDK's client, with the numbers of the app's named queries.

The expected values come from the same named queries run through the engine
directly (what the views show), and the cost total once more from plain DuckDB
over the Parquet files, independent of the whole data module.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data import cost_analysis as ca
from daivi_data import cur_analysis as cura
from daivi_data import inventory_analysis as ia
from daivi_data.identity import principal_for_persona
from daivi_data.queries import billing as bq
from daivi_data.queries import cur as cq
from daivi_data.queries import inventory as iq
from daivi_data.queries import splunk as sq
from daivi_data.queries.billing import CostScope, Dimension
from tests.helpers import PAYMENTS_ACCOUNT_IDS, PERSONA_ROLES, PERSONAS
from tests.mcp.conftest import USERS, answer, call_tool, call_tools, refusal

# What each persona's grants let them read (config/grants.toml), written out by hand.
READS = {
    "admin": {"billing", "cur", "inventory", "splunk"},
    "finance": {"billing", "cur", "inventory"},
    "ops": {"billing", "inventory", "splunk"},
    "teamlead": {"billing", "cur", "inventory", "splunk"},
}
TOOL_NEEDS = {
    "list_catalog": set(), "run_sql": set(),
    "cost_by_dimension": {"billing"}, "cost_changes": {"billing"}, "cost_forecast": {"billing"}, "cost_anomalies": {"billing"},
    "cur_drill": {"cur"}, "invoice_reconciliation": {"cur", "billing"},
    "inventory_search": {"inventory"}, "resource_detail": {"inventory"}, "waste_findings": {"inventory"},
    "logs_search": {"splunk"}, "logs_stats": {"splunk"}, "logs_error_rate": {"splunk"},
}
DEFAULT_ARGS = {"resource_detail": {"resource_id": "i-does-not-exist"},
                "run_sql": {"sql": "SELECT account_id FROM daivi_billing.accounts"}}
APPROX = {"rel": 1e-9, "abs": 1e-6}


def test_the_server_lists_every_tool_with_schemas_and_a_description_of_its_units(persona_server):
    from mcp.client import Client
    from mcp.client._memory import InMemoryTransport

    from tests.mcp.conftest import run_async

    async def tools():
        async with Client(InMemoryTransport(persona_server("admin")), mode="legacy") as client:
            return (await client.list_tools()).tools

    listed = {t.name: t for t in run_async(tools)}
    assert set(listed) == set(TOOL_NEEDS)
    for tool in listed.values():
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None and "stats" in tool.output_schema["properties"]
        assert "Untrusted data" in tool.description
        assert tool.annotations.read_only_hint is True
    money_tools = ("cost_by_dimension", "cost_changes", "cost_forecast", "cost_anomalies", "cur_drill", "invoice_reconciliation")
    for name in (*money_tools, "resource_detail", "waste_findings"):
        assert "currency" in listed[name].description, name
    for name in money_tools:  # amounts of one currency, named, with the others in scope listed
        assert {"currency", "currencies"} <= set(listed[name].output_schema["properties"]), name
        assert listed[name].input_schema["properties"]["currency"]["anyOf"][0]["pattern"] == "^[A-Z]{3}$"
    assert listed["cost_by_dimension"].input_schema["properties"]["limit"]["maximum"] == 500


EVERY_TOOL = [(name, DEFAULT_ARGS.get(name, {})) for name in TOOL_NEEDS]


def assert_answered_or_denied(persona: str, role: str, results) -> None:
    for (name, _), result in zip(EVERY_TOOL, results, strict=True):
        if TOOL_NEEDS[name] <= READS[persona]:
            assert answer(result)["caller"]["role"] == role, name
        else:
            assert "Access denied" in refusal(result), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_tool_answers_each_persona_or_names_what_their_role_may_not_read(persona_server, persona):
    assert_answered_or_denied(persona, PERSONA_ROLES[persona], call_tools(persona_server(persona), EVERY_TOOL))


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_tool_answers_each_token_user_over_http(http_mcp, idp, persona):
    token = idp.token(USERS[persona], audience=http_mcp.bearer.audience)
    assert_answered_or_denied(persona, PERSONA_ROLES[persona], http_mcp.call_tools(token, EVERY_TOOL))


def principal(settings, persona):
    return principal_for_persona(settings, persona)


def run(engine, settings, persona, query) -> pd.DataFrame:
    return engine.run(query, principal(settings, persona)).df


@pytest.mark.parametrize("persona", PERSONAS)
def test_cost_by_dimension_equals_the_group_totals_query(persona_server, runner, mcp_settings, persona):
    body = answer(call_tool(persona_server(persona), "cost_by_dimension", {"group_by": "account", "limit": 500}))
    start, end = dt.date.fromisoformat(body["start"]), dt.date.fromisoformat(body["end"])
    cs, ce = dt.date.fromisoformat(body["compare_start"]), dt.date.fromisoformat(body["compare_end"])
    assert body["currency"] == "USD" and (end - start).days == 29
    totals = run(runner.engine, mcp_settings, persona, bq.group_totals(CostScope(start, end), Dimension("account"), None, cs, ce))
    expected = totals.set_index("group1")["cost"].to_dict()
    got = {g["group"]: g["cost"] for g in body["groups"]}
    assert got.keys() == expected.keys()
    for account, cost in expected.items():
        assert got[account] == pytest.approx(cost, **APPROX)
    assert body["total"] == pytest.approx(sum(expected.values()), **APPROX)
    assert body["previous_total"] == pytest.approx(float(totals["previous"].sum()), **APPROX)
    if persona == "teamlead":
        assert set(got) <= set(PAYMENTS_ACCOUNT_IDS)


def test_the_team_leads_cost_equals_plain_duckdb_over_the_payments_accounts(persona_server, raw_duckdb):
    body = answer(call_tool(persona_server("teamlead"), "cost_by_dimension", {"group_by": "service"}))
    ids = ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS)
    expected = raw_duckdb.execute(
        f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ? AND account_id IN ({ids})",
        [body["start"], body["end"]]).fetchone()[0]
    assert body["total"] == pytest.approx(expected, rel=1e-9)


def test_paging_walks_every_group_once(persona_server):
    server = persona_server("admin")
    first = answer(call_tool(server, "cost_by_dimension", {"group_by": "usage_type", "limit": 5}))
    assert len(first["groups"]) == 5 and first["page"]["next_offset"] == 5
    second = answer(call_tool(server, "cost_by_dimension", {"group_by": "usage_type", "limit": 5, "offset": 5}))
    assert not {g["group"] for g in first["groups"]} & {g["group"] for g in second["groups"]}
    last = answer(call_tool(server, "cost_by_dimension", {"group_by": "usage_type", "offset": first["page"]["total_rows"] - 1}))
    assert len(last["groups"]) == 1 and last["page"]["next_offset"] is None


def test_filters_and_tag_dimensions_are_the_cost_explorers(persona_server, runner, mcp_settings):
    args = {"group_by": "tag:team", "filters": [{"dimension": "service", "values": ["Amazon Elastic Compute Cloud"]}]}
    body = answer(call_tool(persona_server("finance"), "cost_by_dimension", args))
    start, end = dt.date.fromisoformat(body["start"]), dt.date.fromisoformat(body["end"])
    scope = CostScope(start, end, filters=(bq.CostFilter(Dimension("service"), ("Amazon Elastic Compute Cloud",)),))
    cs, ce = ca.comparison_range(start, end)
    totals = run(runner.engine, mcp_settings, "finance", bq.group_totals(scope, Dimension("tag", "team"), None, cs, ce))
    assert body["total"] == pytest.approx(float(totals["cost"].sum()), **APPROX) and body["total"] > 0
    assert "Invalid input" in refusal(call_tool(persona_server("finance"), "cost_by_dimension", {"group_by": "c.account_id; DROP"}))


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
def test_cost_changes_are_the_top_movers_with_their_drivers(persona_server, runner, mcp_settings, persona):
    body = answer(call_tool(persona_server(persona), "cost_changes", {"group_by": "service", "driver_by": "account"}))
    start, end = dt.date.fromisoformat(body["start"]), dt.date.fromisoformat(body["end"])
    cs, ce = dt.date.fromisoformat(body["compare_start"]), dt.date.fromisoformat(body["compare_end"])
    pairs = run(runner.engine, mcp_settings, persona,
                bq.group_totals(CostScope(start, end), Dimension("service"), Dimension("account"), cs, ce))
    increases, decreases, total_change = ca.top_movers(pairs.groupby("group1")["cost"].sum(), pairs.groupby("group1")["previous"].sum())
    assert body["total_change"] == pytest.approx(total_change, **APPROX)
    assert [m["group"] for m in body["increases"]] == list(increases["group"])
    assert [m["group"] for m in body["decreases"]] == list(decreases["group"])
    for mover in body["increases"] + body["decreases"]:
        assert len(mover["drivers"]) <= 3
        for driver in mover["drivers"]:
            assert (driver["change"] > 0) == (mover["change"] > 0)
            if persona == "teamlead":
                assert driver["driver"] in PAYMENTS_ACCOUNT_IDS


@pytest.mark.parametrize("persona", PERSONAS)
def test_forecast_is_the_cost_explorers(persona_server, runner, mcp_settings, persona):
    body = answer(call_tool(persona_server(persona), "cost_forecast"))
    as_of = dt.date.fromisoformat(body["data_through"])
    history_start = min(ca.quarter_start(as_of), as_of - dt.timedelta(days=ca.FORECAST_TRAINING_DAYS - 1))
    history = run(runner.engine, mcp_settings, persona, bq.daily_totals(CostScope(history_start, as_of)))
    history["usage_date"] = pd.to_datetime(history["usage_date"]).dt.date
    expected = ca.forecast_period(history.set_index("usage_date")["cost"], as_of, ca.month_start(as_of), ca.month_end(as_of))
    if expected is None:
        assert body["month"] is None
    else:
        assert body["month"]["forecast_total"] == pytest.approx(expected.total, **APPROX)
        assert body["month"]["low"] <= body["month"]["forecast_total"] <= body["month"]["high"]


def test_anomalies_are_the_detectors_events(persona_server, runner, mcp_settings):
    body = answer(call_tool(persona_server("admin"), "cost_anomalies", {"by": "service", "limit": 50}))
    end, detect_start = dt.date.fromisoformat(body["end"]), dt.date.fromisoformat(body["detect_start"])
    by_day = run(runner.engine, mcp_settings, "admin", bq.daily_by_group(
        CostScope(detect_start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), end), Dimension("service")))
    by_day["usage_date"] = pd.to_datetime(by_day["usage_date"]).dt.date
    events = ca.detect_anomalies(by_day.rename(columns={"group1": "group"}), detect_start, end)
    assert body["page"]["total_rows"] == len(events)
    assert [a["impact"] for a in body["anomalies"]] == pytest.approx(list(events["impact"].head(50)), **APPROX)


@pytest.mark.parametrize("persona", ["admin", "finance", "teamlead"])
def test_cur_drill_levels_are_the_drill_queries(persona_server, runner, mcp_settings, persona):
    server = persona_server(persona)
    top = answer(call_tool(server, "cur_drill", {"limit": 500}))
    assert top["level"] == "account"
    expected = run(runner.engine, mcp_settings, persona, cq.drill_level(cq.DrillPath(top["period"])))
    assert [r["account_id"] for r in top["rows"]] == list(expected["account_id"])
    assert [r["unblended_cost"] for r in top["rows"]] == pytest.approx(list(expected["unblended_cost"]), **APPROX)
    account = top["rows"][0]["account_id"]
    services = answer(call_tool(server, "cur_drill", {"period": top["period"], "account": account, "basis": "amortized"}))
    assert services["level"] == "service"
    expected = run(runner.engine, mcp_settings, persona, cq.drill_level(cq.DrillPath(top["period"], account), "amortized"))
    assert sum(r["amortized_cost"] for r in services["rows"]) == pytest.approx(float(expected["amortized_cost"].sum()), **APPROX)
    if persona == "teamlead":
        assert {r["account_id"] for r in top["rows"]} <= set(PAYMENTS_ACCOUNT_IDS)
    assert "Invalid input" in refusal(call_tool(server, "cur_drill", {"service": "AmazonEC2"}))  # a service needs its account


@pytest.mark.parametrize("persona", ["admin", "finance", "teamlead"])
def test_invoice_reconciliation_is_the_cur_views(persona_server, runner, mcp_settings, persona):
    body = answer(call_tool(persona_server(persona), "invoice_reconciliation"))
    by_type = run(runner.engine, mcp_settings, persona, cq.invoice_by_line_item_type(body["period"]))
    billing = run(runner.engine, mcp_settings, persona, cq.billing_by_record_type(body["period"]))
    expected = cura.reconcile_with_billing(by_type, billing)
    total = next(r for r in body["reconciliation"] if r["line_item_type"] == "Total")
    assert total["cur_unblended"] == pytest.approx(float(expected.iloc[-1]["cur_unblended"]), **APPROX)
    assert body["waterfall"][-1]["step"] in (cura.TOTAL_STEP, cura.NET_TOTAL_STEP)
    assert body["balanced"] is True  # the demo derives billing from the CUR


@pytest.mark.parametrize("persona", ["admin", "finance", "ops", "teamlead"])
def test_inventory_search_pages_the_search_queries(persona_server, runner, mcp_settings, persona):
    server = persona_server(persona)
    body = answer(call_tool(server, "inventory_search", {"resource_types": ["AWS::EC2::Instance"], "page_size": 10}))
    snapshot = dt.date.fromisoformat(body["snapshot"])
    flt = iq.ResourceFilter(resource_types=("AWS::EC2::Instance",))
    total = int(run(runner.engine, mcp_settings, persona, iq.search_count(snapshot, flt))["total"].iloc[0])
    assert body["page"]["total_rows"] == total > 10
    page2 = answer(call_tool(server, "inventory_search", {"resource_types": ["AWS::EC2::Instance"], "page_size": 10, "page": 2}))
    expected = run(runner.engine, mcp_settings, persona, iq.search_page(snapshot, flt, iq.DEFAULT_SEARCH_COLUMNS, 2, 10))
    assert [r["resource_id"] for r in page2["resources"]] == list(expected["resource_id"])
    assert all(isinstance(r["tags"], dict) for r in page2["resources"])
    if persona == "teamlead":
        assert {r["account_id"] for r in body["resources"] + page2["resources"]} <= set(PAYMENTS_ACCOUNT_IDS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_resource_detail_with_cost_and_logs_where_allowed(persona_server, runner, mcp_settings, persona):
    server = persona_server(persona)
    found = answer(call_tool(server, "inventory_search", {"resource_types": ["AWS::EC2::Instance"], "states": ["running"], "page_size": 1}))
    resource_id = found["resources"][0]["resource_id"]
    body = answer(call_tool(server, "resource_detail", {"resource_id": resource_id}))
    assert body["found"] and body["attributes"]["resource_id"] == resource_id
    assert (body["configuration"] is not None) == (persona in ("admin", "ops"))  # finance and team leads: excluded column
    if "cur" in READS[persona]:
        daily = run(runner.engine, mcp_settings, persona, iq.resource_daily_cost(resource_id, dt.date.fromisoformat(body["snapshot"])))
        assert body["cost_30d"] == pytest.approx(float(daily["cost"].sum()), **APPROX)
    else:
        assert body["cost_30d"] is None and body["daily_cost"] == []
    if "splunk" not in READS[persona]:
        assert body["event_counts"] == [] and body["recent_events"] == []


@pytest.mark.parametrize("persona", ["admin", "finance", "ops", "teamlead"])
def test_waste_findings_are_the_waste_finders(persona_server, runner, mcp_settings, persona):
    body = answer(call_tool(persona_server(persona), "waste_findings", {"limit": 500}))
    snapshot = dt.date.fromisoformat(body["snapshot"])
    candidates = run(runner.engine, mcp_settings, persona, iq.waste_candidates(snapshot, ia.OLD_SNAPSHOT_DAYS))
    costs = run(runner.engine, mcp_settings, persona, iq.waste_costs(snapshot, ia.OLD_SNAPSHOT_DAYS)) if "cur" in READS[persona] else None
    findings = ia.classify_waste(candidates, snapshot, costs)
    assert body["page"]["total_rows"] == len(findings) > 0
    assert body["with_cost"] == ("cur" in READS[persona])
    if costs is None:
        assert body["total_monthly_savings"] is None
    else:
        assert body["total_monthly_savings"] == pytest.approx(ia.total_at_stake(findings), **APPROX)


@pytest.mark.parametrize("persona", ["admin", "ops", "teamlead"])
def test_logs_tools_are_the_logs_views_queries(persona_server, runner, mcp_settings, persona):
    server = persona_server(persona)
    search, stats, rate = (answer(r) for r in call_tools(server, [
        ("logs_search", {"search": "severity=ERROR OR status>=500", "last": "7d", "limit": 5}),
        ("logs_stats", {"search": "", "stat": "count", "by_field": "severity", "last": "7d"}),
        ("logs_error_rate", {"last": "7d"}),
    ]))
    window = sq.TimeRange(dt.datetime.fromisoformat(search["start"]), dt.datetime.fromisoformat(search["end"]))
    f = sq.EventFilter.of(window, "severity=ERROR OR status>=500")
    assert search["total_events"] == int(run(runner.engine, mcp_settings, persona, sq.event_summary(f))["events"].iloc[0]) > 0
    assert len(search["events"]) == 5
    everything = sq.EventFilter.of(window, "")
    expected = run(runner.engine, mcp_settings, persona, sq.stats_table(everything, "count", "duration", "severity", limit=20))
    assert {r["value"]: r["events"] for r in stats["rows"]} == dict(zip(expected["value"], expected["events"], strict=True))
    assert rate["events"] == sum(r["events"] for r in stats["rows"])
    assert rate["error_events"] == sum(r["events"] for r in stats["rows"] if r["value"] in ("ERROR", "CRITICAL"))


def test_logs_search_language_errors_are_explained(persona_server):
    message = refusal(call_tool(persona_server("ops"), "logs_search", {"search": "status>=abc (unclosed"}))
    assert "Search" in message or "search" in message


@pytest.mark.parametrize("persona", PERSONAS)
def test_run_sql_is_the_workbenchs_guarded_query(persona_server, runner, mcp_settings, persona):
    from daivi_data.governance import load_policy
    from daivi_data.workbench import check_sql

    sql = "SELECT account_id, COUNT(*) AS n FROM daivi_billing.cost_daily GROUP BY account_id ORDER BY account_id"
    body = answer(call_tool(persona_server(persona), "run_sql", {"sql": sql, "row_limit": 1000}))
    checked = check_sql(sql, load_policy(mcp_settings.grants_file).for_role(principal(mcp_settings, persona).role), 1000)
    expected = runner.engine.run_open_ended(checked.query(), principal(mcp_settings, persona), checked.max_rows).df
    assert [r["account_id"] for r in body["rows"]] == list(expected["account_id"])
    assert [r["n"] for r in body["rows"]] == list(expected["n"])
    assert body["truncated"] is False and body["tables"] == ["daivi_billing.cost_daily"]
    assert body["warnings"]  # no partition filter: said, since on Athena this would scan every partition


def test_run_sql_caps_rows_and_refuses_writes(persona_server):
    server = persona_server("admin")
    capped = answer(call_tool(server, "run_sql", {"sql": "SELECT resource_id FROM daivi_inventory.resources", "row_limit": 3}))
    assert len(capped["rows"]) == 3 and capped["truncated"] is True
    for sql in ("DROP TABLE daivi_billing.accounts", "SELECT 1; SELECT 2", "INSERT INTO daivi_billing.accounts VALUES (1)"):
        assert "Not allowed" in refusal(call_tool(server, "run_sql", {"sql": sql})) or "syntax" in refusal(call_tool(server, "run_sql", {"sql": sql}))


def test_list_catalog_shows_only_granted_tables_and_columns(persona_server):
    finance = answer(call_tool(persona_server("finance"), "list_catalog"))
    tables = {t["table"]: t for db in finance["databases"] for t in db["tables"]}
    assert "daivi_splunk.events" not in tables
    assert "configuration" not in {c["name"] for c in tables["daivi_inventory.resources"]["columns"]}
    lead = answer(call_tool(persona_server("teamlead"), "list_catalog"))
    lead_tables = {t["table"]: t for db in lead["databases"] for t in db["tables"]}
    assert all(t["row_filtered"] for t in lead_tables.values())
    assert lead_tables["daivi_billing.cost_daily"]["latest_partition"]


def test_amounts_are_in_one_named_currency_and_an_absent_one_is_said(persona_server):
    server = persona_server("finance")
    cost, drill = (answer(r) for r in call_tools(server, [("cost_by_dimension", {"currency": "EUR"}),
                                                          ("cur_drill", {"currency": "EUR"})]))
    for body in (cost, drill):
        assert body["currency"] == "USD" and body["currencies"] == ["USD"]  # the demo bills in dollars only
        assert any("EUR" in note for note in body["notes"])
    assert "string_pattern_mismatch" in refusal(call_tool(server, "cost_by_dimension", {"currency": "usd; DROP"}))  # by the schema
