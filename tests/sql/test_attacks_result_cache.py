"""The connection's process-wide cache never serves a value across principals, policy versions or data versions.

A fake engine stamps each result with who ran it and under which data and policy versions; a derived
function stamps its value the same way when it is computed. Hypothesis draws sequences of calls by
several principals (two of them in one role) while the data and the grants change underneath: every
value served, computed or cached, must carry the stamp of the call that receives it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from daivi_data import connection as conn
from daivi_data.engines import QueryResult
from daivi_data.engines.base import QueryStats
from daivi_data.identity import Principal
from daivi_data.queries import make_query

PRINCIPALS = (
    Principal(user_id="u:ana", email="ana@daivi.example", display_name="ana", role="ops-engineer"),
    Principal(user_id="u:bo", email="bo@daivi.example", display_name="bo", role="ops-engineer"),  # same role as ana
    Principal(user_id="u:cy", email="cy@daivi.example", display_name="cy", role="finance-analyst"),
    Principal(user_id="u:ana", email="ana@daivi.example", display_name="ana", role="admin"),  # ana mapped to another role
)
QUERY = make_query("t.stamp", "SELECT 1 AS one FROM daivi_billing.accounts WHERE account_id = :account", account="1")


@dataclass
class Versions:
    """What a call runs under; `who` is the caller, which only the test knows (a derived function is given no principal)."""

    data: str = "d1"
    policy: str = "p1"
    who: str = ""


class FakeEngine:
    name = "fake"

    def __init__(self, versions: Versions):
        self.versions = versions

    def data_version(self) -> str:
        return self.versions.data

    def result_scope(self, principal: Principal) -> str:
        return principal.cache_key  # per person, as on Athena: the strictest scope an engine can declare

    def _result(self, principal: Principal, rows: int | None = None) -> QueryResult:
        df = pd.DataFrame({"who": [principal.cache_key], "data": [self.versions.data], "policy": [self.versions.policy],
                           "rows": [rows]})
        return QueryResult(df, QueryStats(engine=self.name, rows=1, elapsed_s=0.0))

    def run(self, query, principal):
        return self._result(principal)

    def run_open_ended(self, query, principal, max_rows):
        return self._result(principal, max_rows)


class FakeStore:
    def __init__(self, versions: Versions):
        self.versions = versions

    def current(self):
        return self

    @property
    def version(self) -> str:
        return self.versions.policy


class StampedConnection(conn.LakehouseConnection):
    def _connect(self, settings=None, versions: Versions | None = None, **_):
        self.settings = settings
        return FakeEngine(versions)


VERSIONS = Versions()


@pytest.fixture
def connection(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(conn, "policy_store", lambda _path: FakeStore(VERSIONS))
    conn.clear_cached()
    yield StampedConnection(f"stamped-{tmp_path.name}", settings=replace(settings, audit_log=tmp_path / "audit.jsonl"),
                            versions=VERSIONS)
    conn.clear_cached()


def stamp_of(frame: pd.DataFrame, label: str) -> tuple:
    """A derived value that says for whom and under which versions it was computed (the test's stand-in for pandas work)."""
    return (label, frame["who"].iloc[0], VERSIONS.who, VERSIONS.data, VERSIONS.policy)


calls = st.lists(st.tuples(st.sampled_from(range(len(PRINCIPALS))), st.sampled_from(("d1", "d2")),
                           st.sampled_from(("p1", "p2")), st.sampled_from(("run", "open", "derived", "derived-of-frame"))),
                 min_size=2, max_size=30)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=calls)
def test_a_served_value_always_belongs_to_its_principal_data_and_policy_version(connection, calls):
    conn.clear_cached()
    for who, data, policy, kind in calls:
        principal = PRINCIPALS[who]
        VERSIONS.data, VERSIONS.policy, VERSIONS.who = data, policy, principal.cache_key
        expected = (principal.cache_key, data, policy)
        if kind in ("run", "open"):
            result = connection.run(QUERY, principal) if kind == "run" else connection.run_open_ended(QUERY, principal, 10)
            assert tuple(result.df[["who", "data", "policy"]].iloc[0]) == expected
            assert result.versions == (data, policy)
        elif kind == "derived":  # inputs that do not name the principal: the key's principal part alone separates
            value = connection.derived(principal, stamp_of, pd.DataFrame({"who": ["same input"]}), "x")
            assert value == ("x", "same input", *expected)
        else:
            frame = connection.run(QUERY, principal).df
            assert connection.derived(principal, stamp_of, frame, "y") == ("y", principal.cache_key, *expected)


def test_one_entry_per_principal_data_and_policy_version_and_cached_hits_are_audited(connection, tmp_path):
    for data in ("d1", "d2"):
        for policy in ("p1", "p2"):
            VERSIONS.data, VERSIONS.policy = data, policy
            for principal in PRINCIPALS:
                first, again = connection.run(QUERY, principal), connection.run(QUERY, principal)
                assert (first.stats.cached, again.stats.cached) == (False, True)
    assert len(conn._results) == 4 * len(PRINCIPALS)
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["ok", "cached"] * (4 * len(PRINCIPALS))
    assert {(line["principal"], line["role"], line["policy_version"]) for line in lines if line["outcome"] == "cached"} == {
        (p.user_id, p.role, policy) for p in PRINCIPALS for policy in ("p1", "p2")}


def test_query_values_of_other_types_are_other_entries(connection):
    """A value bound as True is not the value bound as 1 (equal in Python, not to the engine)."""
    principal = PRINCIPALS[0]
    one = make_query("t.flag", "SELECT 1 FROM daivi_billing.accounts WHERE x = :flag", flag=1)
    true = make_query("t.flag", "SELECT 1 FROM daivi_billing.accounts WHERE x = :flag", flag=True)
    assert one == true  # the reason the key must tell them apart
    connection.run(one, principal)
    assert connection.run(true, principal).stats.cached is False
