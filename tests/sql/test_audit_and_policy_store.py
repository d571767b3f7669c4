"""Every query outcome leaves an audit line, and an edited grants file takes effect at once, everywhere.

One policy store per grants file: the engine, navigation and the result cache read
the same version, so after an edit no query runs under the old grants and no result
computed under them is served.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from daivi_data.connection import LakehouseConnection, clear_cached
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.errors import AccessDenied, DaiviError, InvalidRequest, QueryFailed, QueryTimeout
from daivi_data.governance import policy_store
from daivi_data.queries import make_query, overview
from daivi_data.workbench import adhoc_query
from tests.helpers import demo_end_date, principal

LEAK = 'WITH "daivi_billing/accounts/*.parquet" AS (SELECT * FROM "daivi_billing/accounts/*.parquet") SELECT * FROM "daivi_billing/accounts/*.parquet"'


def audit_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(autouse=True)
def _fresh_result_cache():
    """Results are cached process-wide (correctly: same principal, data and grants); other tests expect a cold cache."""
    yield
    clear_cached()


@pytest.fixture
def grants_copy(settings, tmp_path):
    path = tmp_path / "grants.toml"
    path.write_bytes(settings.grants_file.read_bytes())
    return path


@pytest.fixture
def connection(settings, tmp_path, grants_copy):
    return LakehouseConnection(f"audit-{tmp_path.name}", settings=replace(settings, audit_log=tmp_path / "audit.jsonl",
                                                                          grants_file=grants_copy))


def test_each_outcome_gets_its_line(connection, tmp_path, capsys):
    lead = principal("teamlead")
    ok = overview.billing_month_to_date(demo_end_date())
    connection.run(ok, lead)
    connection.run(ok, lead)
    cases = [
        (AccessDenied, make_query("t.denied", "SELECT configuration FROM daivi_inventory.resources")),
        (InvalidRequest, make_query("t.refused", "SELECT * FROM daivi_billing.nope")),
        (QueryFailed, make_query("t.failed", "SELECT CAST(account_name AS integer) FROM daivi_billing.accounts")),
    ]
    for error, query in cases:
        with pytest.raises(error):
            connection.run(query, lead)
    connection.record_refusal(adhoc_query("DROP TABLE daivi_billing.accounts"), lead, InvalidRequest("not allowed"))
    outcomes = [(r["query"], r["outcome"]) for r in audit_lines(tmp_path / "audit.jsonl")]
    assert outcomes == [("overview.billing_month_to_date", "ok"), ("overview.billing_month_to_date", "cached"),
                        ("t.denied", "denied"), ("t.refused", "refused"), ("t.failed", "failed"),
                        ("workbench.adhoc", "refused")]
    for record in audit_lines(tmp_path / "audit.jsonl"):
        assert record["principal"] == "demo:teamlead" and record["role"] == "team-lead-payments"
        assert len(record["policy_version"]) == 16 or record["query"] == "workbench.adhoc"
    assert capsys.readouterr().out == ""  # stdout only when asked


def test_a_timed_out_query_is_audited(settings, tmp_path):
    connection = LakehouseConnection("audit-timeout", settings=replace(settings, audit_log=tmp_path / "a.jsonl",
                                                                       query_timeout_s=0.05))
    slow = make_query("t.slow", "SELECT count(*) FROM daivi_cur.cur a CROSS JOIN daivi_cur.cur b WHERE a.line_item_unblended_cost > b.line_item_unblended_cost")
    with pytest.raises(QueryTimeout):
        connection.run(slow, principal("admin"))
    assert audit_lines(tmp_path / "a.jsonl")[-1]["outcome"] == "timed_out"


def test_ad_hoc_sql_is_kept_in_full_and_the_cte_path_trick_is_denied(connection, tmp_path, capsys):
    connection.settings = replace(connection.settings, audit_stdout=True)
    with pytest.raises(DaiviError):
        connection.run_open_ended(adhoc_query(LEAK), principal("teamlead"), 10)
    record = audit_lines(tmp_path / "audit.jsonl")[-1]
    assert record["outcome"] in ("denied", "refused") and record["sql"] == LEAK and record["sql_truncated"] is False
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == record  # the same line on stdout
    long_sql = "SELECT 1 FROM daivi_billing.accounts WHERE account_id IN (" + ", ".join(["'x'"] * 6000) + ")"
    connection.run_open_ended(adhoc_query(long_sql), principal("admin"), 10)
    record = audit_lines(tmp_path / "audit.jsonl")[-1]
    assert record["sql_truncated"] is True and len(record["sql"]) == 20_000


def test_an_edited_grants_file_takes_effect_for_the_next_query_and_drops_cached_results(connection, grants_copy):
    ops = principal("ops")
    query = make_query("t.accounts", "SELECT count(*) AS n FROM daivi_billing.accounts")
    before = connection.run(query, ops)
    assert before.df["n"][0] > 5 and not before.stats.cached
    assert connection.run(query, ops).stats.cached
    old_version = policy_store(grants_copy).current().version
    text = grants_copy.read_text().replace(
        '{ database = "daivi_billing", table = "accounts", excluded_columns = ["owner_email"] }',
        '{ database = "daivi_billing", table = "accounts", excluded_columns = ["owner_email"], '
        "row_filter = \"account_id = '411111111101'\" }")
    assert text != grants_copy.read_text()
    grants_copy.write_text(text)
    assert policy_store(grants_copy).current().version != old_version
    after = connection.run(query, ops)
    assert not after.stats.cached and after.df["n"][0] == 1
    # Revoking the table altogether: refused on the next query, cached results or not.
    grants_copy.write_text(text.replace('  { database = "daivi_billing", table = "accounts", excluded_columns = ["owner_email"], '
                                        "row_filter = \"account_id = '411111111101'\" },\n", ""))
    with pytest.raises(AccessDenied, match="accounts"):
        connection.run(query, ops)


def test_a_broken_edit_fails_closed(connection, grants_copy):
    query = make_query("t.accounts", "SELECT count(*) AS n FROM daivi_billing.accounts")
    connection.run(query, principal("admin"))
    grants_copy.write_text(grants_copy.read_text() + "\n[roles.broken\n")
    with pytest.raises(DaiviError, match="not valid TOML"):
        connection.run(query, principal("admin"))


def test_the_engine_follows_the_store_without_a_restart(settings, small_lakehouse, grants_copy):
    engine = DuckDBEngine(small_lakehouse, policy_store(grants_copy))
    query = make_query("t", "SELECT count(DISTINCT account_id) AS n FROM daivi_billing.cost_daily WHERE billing_period >= '2000-01'")
    assert engine.run(query, principal("teamlead")).df["n"][0] == 5
    grants_copy.write_text(grants_copy.read_text().replace("'411111111104', '411111111105')\"\n\n[[roles.team-lead-payments.tables]]\ndatabase = \"daivi_billing\"\ntable = \"accounts\"",
                                                           "'411111111104')\"\n\n[[roles.team-lead-payments.tables]]\ndatabase = \"daivi_billing\"\ntable = \"accounts\"", 1))
    time.sleep(0.01)
    assert engine.run(query, principal("teamlead")).df["n"][0] == 4


CALLS: list[tuple] = []


def _count_rows(df, label):
    CALLS.append((label, len(df)))
    return f"{label}:{len(df)}"


def test_derived_results_are_cached_per_principal_inputs_and_policy_version(connection, grants_copy):
    """Pandas work on results is cached like the results: never shared across principals or grants versions."""
    import pandas as pd

    CALLS.clear()
    frame = pd.DataFrame({"a": [1, 2, 3]})
    ops, finance = principal("ops"), principal("finance")
    assert connection.derived(ops, _count_rows, frame, "x") == "x:3"
    assert connection.derived(ops, _count_rows, frame, "x") == "x:3"
    assert len(CALLS) == 1  # the rerun redid nothing
    connection.derived(ops, _count_rows, frame.head(2), "x")  # other inputs: computed
    connection.derived(finance, _count_rows, frame, "x")  # another principal: computed, never served ops' value
    assert len(CALLS) == 3
    grants_copy.write_text(grants_copy.read_text() + "\n# an edit\n")
    connection.derived(ops, _count_rows, frame, "x")  # new policy version: computed again
    assert len(CALLS) == 4
