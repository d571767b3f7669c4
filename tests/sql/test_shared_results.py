"""The embedded engine shares a query's result between the principals of one role, and never beyond.

A result is a function of the role's grants, the governed SQL, its values and the
data version (daivi_data/engines/duckdb.py): these tests hold the key to exactly
that — a second person of the role is served what the first one's query read, a
person of another role (even with the same SQL) or under edited grants runs the
query again, and every person still gets an own audit line.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy, parse_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query, make_query
from tests.helpers import PERSONA_ROLES

SQL = "SELECT line_item_usage_account_id AS a, count(*) AS n FROM daivi_cur.cur GROUP BY 1 ORDER BY 1"


def person(i: int, role: str) -> Principal:
    return Principal(user_id=f"p{i}", email=f"p{i}@daivi.example", display_name=f"Person {i}", role=role)


@pytest.fixture(scope="module")
def counted_engine(settings):
    """An engine whose executions are counted (per role), extracts off: the sharing is what is under test."""
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="off")
    runs: list[str] = []
    execute = engine._execute

    def counting(query, sql, names, grants, policy):
        runs.append(grants.role)
        return execute(query, sql, names, grants, policy)

    engine._execute = counting
    engine.runs = runs
    return engine


def test_a_second_person_of_the_role_is_served_the_first_ones_rows(counted_engine):
    counted_engine.clear_shared_results()
    counted_engine.runs.clear()
    first = counted_engine.run(Query("t", SQL), person(1, "team-lead-payments"))
    second = counted_engine.run(Query("t", SQL), person(2, "team-lead-payments"))
    assert counted_engine.runs == ["team-lead-payments"]
    assert not first.stats.cached and second.stats.cached
    assert second.df.equals(first.df)
    second.df.loc[0, "n"] = -1  # a served copy: changing it changes nobody else's
    assert counted_engine.run(Query("t", SQL), person(3, "team-lead-payments")).df.equals(first.df)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(sorted(PERSONA_ROLES.values())),
                          st.sampled_from(["2025-01", "2099-01", "x'; --"])), min_size=2, max_size=12))
def test_every_role_runs_its_own_queries_and_sees_only_its_own_rows(counted_engine, visits):
    """Whoever came before, a person gets what their role alone gives (the engine without sharing is the oracle)."""
    counted_engine.clear_shared_results()
    counted_engine.runs.clear()
    oracle = DuckDBEngine(counted_engine.root, counted_engine.policy, role_extracts="off", share_results=False)
    computed = set()
    for i, role, period in visits:
        query = make_query("t", "SELECT account_id AS a, count(*) AS n FROM daivi_billing.cost_daily "
                                "WHERE billing_period >= :p GROUP BY 1 ORDER BY 1", p=period)  # every role reads it
        got = counted_engine.run(query, person(i, role))
        assert got.df.equals(oracle.run(query, person(i, role)).df)
        assert got.stats.cached == ((role, period) in computed)
        computed.add((role, period))
    assert sorted(counted_engine.runs) == sorted(role for role, _period in computed)


def test_edited_grants_start_new_entries(settings):
    engine = DuckDBEngine(settings.lakehouse_path, load_policy(settings.grants_file), role_extracts="off")
    before = engine.run(Query("t", SQL), person(1, "team-lead-payments"))
    text = settings.grants_file.read_text().replace(
        "row_filter = \"line_item_usage_account_id IN ('411111111101', '411111111102', '411111111103', '411111111104', '411111111105')\"",
        "row_filter = \"line_item_usage_account_id IN ('411111111101')\"")
    engine.policy = parse_policy(text.encode())
    after = engine.run(Query("t", SQL), person(2, "team-lead-payments"))
    assert not after.stats.cached
    assert after.df["a"].tolist() == ["411111111101"] != before.df["a"].tolist()


def test_each_person_gets_an_audit_line_and_a_shared_result_is_audited_as_cached(settings, tmp_path):
    from daivi_data.connection import LakehouseConnection, clear_cached
    from daivi_data.settings import load_settings

    audit = tmp_path / "audit.jsonl"
    own = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(settings.lakehouse_path), "DAIVI_AUDIT_LOG": str(audit),
                                             "DAIVI_ROLE_EXTRACTS": "off"})
    connection = LakehouseConnection("role-sharing", settings=own)
    clear_cached()
    for i in (1, 2):
        connection.run(Query("t", SQL), person(i, "finance-analyst"))
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["principal"], line["outcome"]) for line in lines][-2:] == [("p1", "ok"), ("p2", "cached")]


COMPUTED: list[str] = []


def _summed(frame, label):
    COMPUTED.append(label)
    return float(frame["n"].sum())


def test_values_derived_from_results_are_shared_within_a_role_and_never_across(settings, tmp_path):
    """connection.derived is scoped by the engine's result scope: the role's grants on the embedded engine."""
    from daivi_data.connection import LakehouseConnection, clear_cached
    from daivi_data.settings import load_settings

    own = load_settings(secrets={}, environ={"DAIVI_LAKEHOUSE_PATH": str(settings.lakehouse_path),
                                             "DAIVI_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "DAIVI_ROLE_EXTRACTS": "off"})
    connection = LakehouseConnection("derived-scope", settings=own)
    clear_cached()
    COMPUTED.clear()
    query = Query("t", "SELECT account_id, count(*) AS n FROM daivi_billing.cost_daily GROUP BY 1")
    values = {}
    for i, role in [(1, "team-lead-payments"), (2, "team-lead-payments"), (3, "admin"), (4, "ops-engineer")]:
        frame = connection.run(query, person(i, role)).df
        values[i] = connection.derived(person(i, role), _summed, frame, f"as {role}")
    assert COMPUTED == ["as team-lead-payments", "as admin", "as ops-engineer"]  # person 2 was served person 1's
    assert values[1] == values[2] < values[3]  # the team lead's own rows only, never the admin's
    COMPUTED.clear()
    same_input = pd.DataFrame({"n": [1, 2]})
    for i, role in [(1, "team-lead-payments"), (2, "team-lead-payments"), (3, "admin"), (4, "ops-engineer")]:
        connection.derived(person(i, role), _summed, same_input, "same")
    assert COMPUTED == ["same"] * 3  # equal inputs: only the scope (the role's grants) keeps the roles apart
