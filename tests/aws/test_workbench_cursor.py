"""The workbench's Athena path: a PyAthena cursor on the principal's own session, against moto.

moto serves Athena's API and PyAthena talks to it through the principal's boto3
session; `FakeAthena` seeds results and statistics, and `DuckDBAnswers` plays
Athena with Lake Formation (grants applied per signing role) over the small
lakehouse. Requests are told apart by their User-Agent: PyAthena's carries
`PyAthena/<version>`, awswrangler's (the views' path) does not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pyathena
import pyathena.connection
import pytest
import streamlit as st
from botocore.awsrequest import AWSResponse
from moto.athena.responses import AthenaResponse

from daivi_data.aws.credentials import session_name_for
from daivi_data.connection import LakehouseConnection, clear_cached
from daivi_data.engines.athena import AthenaEngine
from daivi_data.errors import AccessDenied, QueryTimeout, Throttled
from daivi_data.governance import load_policy
from daivi_data.queries import make_query, overview
from daivi_data.settings import load_settings
from daivi_data.workbench import check_sql, limit_result
from tests.aws.conftest import RESULTS_BUCKET, ROLE_ARNS, DuckDBAnswers, athena_secrets, user
from tests.aws.test_app_on_athena import (
    athena_app,  # noqa: F401 - the app-on-Athena fixture
    run_app,
)
from tests.helpers import PAYMENTS_ACCOUNT_IDS

pytestmark = pytest.mark.aws

AS_OF = dt.date(2026, 3, 15)
MTD_COLUMNS = [("month_to_date", "double"), ("previous_month_to_date", "double"), ("latest_day", "date")]


@dataclasses.dataclass
class AthenaCalls:
    """What moto's Athena was asked, beyond what FakeAthena records."""

    user_agents: dict[str, str] = dataclasses.field(default_factory=dict)  # query text -> User-Agent
    page_requests: list[tuple[str, int, int]] = dataclasses.field(default_factory=list)  # (id, first row, max rows)
    stopped: list[str] = dataclasses.field(default_factory=list)  # StopQueryExecution ids

    def agent_of(self, marker: str) -> str:
        return next(agent for query, agent in self.user_agents.items() if marker in query)


@pytest.fixture
def calls(fake_athena, monkeypatch) -> AthenaCalls:
    """Records user agents and stops, and pages GetQueryResults by MaxResults/NextToken as Athena does (moto does not)."""
    seen = AthenaCalls()
    start, results, stop = (AthenaResponse.start_query_execution, AthenaResponse.get_query_results,
                            AthenaResponse.stop_query_execution)

    def start_query_execution(response):
        seen.user_agents[response._get_param("QueryString")] = response.headers.get("User-Agent", "")
        return start(response)

    def get_query_results(response):
        body = json.loads(results(response))
        rows = body["ResultSet"]["Rows"]
        first, size = int(response._get_param("NextToken") or 0), int(response._get_param("MaxResults") or 1000)
        seen.page_requests.append((response._get_param("QueryExecutionId"), first, size))
        body["ResultSet"]["Rows"] = rows[first:first + size]
        if first + size < len(rows):
            body["NextToken"] = str(first + size)
        return json.dumps(body)

    def stop_query_execution(response):
        seen.stopped.append(response._get_param("QueryExecutionId"))
        return stop(response)

    monkeypatch.setattr(AthenaResponse, "start_query_execution", start_query_execution)
    monkeypatch.setattr(AthenaResponse, "get_query_results", get_query_results)
    monkeypatch.setattr(AthenaResponse, "stop_query_execution", stop_query_execution)
    return seen


@pytest.fixture
def lake_formation(fake_athena, small_lakehouse, raw_duckdb):
    """Athena with Lake Formation, played by DuckDB over the small lakehouse (grants per signing role)."""
    fake_athena.answer = DuckDBAnswers(small_lakehouse)
    return fake_athena.answer


# --- what is sent -------------------------------------------------------------------------


def test_sql_and_typed_qmark_parameters_go_to_athena_through_a_pyathena_cursor(athena_settings, fake_athena, calls):
    fake_athena.result("month_to_date", MTD_COLUMNS, [[1234.5, 1000.25, "2026-03-15"]])
    result = AthenaEngine(athena_settings).run_open_ended(overview.billing_month_to_date(AS_OF), user(), max_rows=10)

    sent = fake_athena.started[-1]
    assert sent["query"].count("?") == 4 and ":" not in sent["query"].split("FROM")[0]  # bound only in WHERE
    assert "FROM daivi_billing.cost_daily" in sent["query"]
    assert sent["params"] == ["'2026-03'", "'2026-02'", "DATE '2026-02-01'", "DATE '2026-03-15'"]
    assert sent["workgroup"] == "daivi"
    assert sent["context"] == {"Catalog": "AwsDataCatalog"}  # no default database: tables are qualified
    agent = calls.agent_of("month_to_date")
    assert f"PyAthena/{pyathena.__version__}" in agent and "awswrangler" not in agent
    assert result.df.to_dict("records") == [
        {"month_to_date": 1234.5, "previous_month_to_date": 1000.25, "latest_day": dt.datetime(2026, 3, 15)}]
    assert str(result.df["latest_day"].dtype) == "datetime64[us]"  # as the embedded engine gives dates
    assert result.sql == sent["query"]


def test_user_sql_with_a_percent_sign_and_no_parameters_reaches_athena_unchanged(athena_settings, fake_athena):
    # PyAthena's default paramstyle would run `%` through Python formatting; qmark sends the text as written.
    fake_athena.result("pct_marker", [("n", "bigint")], [[1]])
    sql = "SELECT COUNT(*) AS pct_marker FROM daivi_billing.accounts WHERE account_name LIKE '%pay%'"
    AthenaEngine(athena_settings).run_open_ended(make_query("workbench.adhoc", sql), user(), max_rows=10)
    assert fake_athena.started[-1]["query"] == sql
    assert fake_athena.started[-1]["params"] in (None, [])


def test_results_go_to_the_principals_own_prefix_with_the_engines_encryption(athena_settings, fake_athena, tmp_path):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[5, 1.0, 2]])
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("finance-analyst", "bob@daivi.example")
    engine = AthenaEngine(athena_settings)
    engine.run_open_ended(overview.cur_month_summary(AS_OF), alice, max_rows=10)
    engine.run_open_ended(overview.cur_month_summary(AS_OF), bob, max_rows=10)
    first, second = fake_athena.started[-2]["config"], fake_athena.started[-1]["config"]
    # (moto appends the result file's name to the location it was sent)
    # Under each role session's aws:userid ("AROA…:RoleSessionName"), the prefix IAM confines that session to.
    alice_id, bob_id = engine.credentials.results_user_id(alice), engine.credentials.results_user_id(bob)
    assert alice_id.startswith("AROA") and alice_id.endswith(":" + session_name_for(alice)) and alice_id != bob_id
    assert first["OutputLocation"].startswith(f"s3://{RESULTS_BUCKET}/explorer/{alice_id}/")
    assert second["OutputLocation"].startswith(f"s3://{RESULTS_BUCKET}/explorer/{bob_id}/")
    assert first["OutputLocation"].startswith(engine.output_location(alice))  # the views' prefix too
    assert first["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}

    kms = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings = load_settings(secrets=athena_secrets(athena={"kms_key": kms}, audit_log=str(tmp_path / "a.jsonl")), environ={})
    AthenaEngine(settings).run_open_ended(overview.cur_month_summary(AS_OF), alice, max_rows=10)
    assert fake_athena.started[-1]["config"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS", "KmsKey": kms}


# --- what is read -------------------------------------------------------------------------


def test_only_the_pages_holding_the_first_rows_are_read(athena_settings, fake_athena, calls):
    fake_athena.result("many_rows", [("many_rows", "bigint"), ("label", "varchar")], [[i, f"r{i}"] for i in range(4500)])
    result = AthenaEngine(athena_settings).run_open_ended(
        make_query("workbench.adhoc", "SELECT many_rows, label FROM t"), user(), max_rows=1001)

    assert result.df["many_rows"].tolist() == list(range(1001))
    assert result.df["label"].iloc[-1] == "r1000"
    assert str(result.df["many_rows"].dtype) == "Int64" and result.stats.rows == 1001
    query_id = fake_athena.started[-1]["id"]
    # The header row plus 4,500 rows are 5 pages of 1,000; the first 1,001 rows are on the first two.
    assert [(first, size) for qid, first, size in calls.page_requests if qid == query_id] == [(0, 1000), (1000, 1000)]


def test_the_workbench_fetches_one_row_beyond_its_limit_to_say_the_result_was_cut(athena_settings, lake_formation, raw_duckdb):
    admin = user("admin")
    checked = check_sql("SELECT account_id FROM daivi_billing.accounts ORDER BY account_id",
                        load_policy(athena_settings.grants_file).for_role("admin"), row_limit=3)
    result = AthenaEngine(athena_settings).run_open_ended(checked.query(), admin, checked.max_rows)
    shown, cut = limit_result(result.df, checked)
    expected = [r[0] for r in raw_duckdb.execute("SELECT account_id FROM daivi_billing.accounts ORDER BY 1 LIMIT 4").fetchall()]
    assert result.df["account_id"].tolist() == expected  # row limit + 1
    assert cut and shown["account_id"].tolist() == expected[:3]


def test_complex_values_keep_athenas_text(athena_settings, fake_athena):
    fake_athena.result("tags_marker", [("tags_marker", "map"), ("ids", "array"), ("ok", "boolean")],
                       [["{team=payments, env=prod}", "[1, 2]", "true"], ["{}", "[]", None]])
    df = AthenaEngine(athena_settings).run_open_ended(make_query("workbench.adhoc", "SELECT tags_marker FROM t"), user(), 10).df
    assert df["tags_marker"].tolist() == ["{team=payments, env=prod}", "{}"]
    assert df["ids"].tolist() == ["[1, 2]", "[]"]
    assert df["ok"].tolist()[0] is True and df["ok"].isna().tolist() == [False, True]


def test_an_empty_result_keeps_its_columns(athena_settings, fake_athena):
    fake_athena.result("empty_marker", [("empty_marker", "bigint"), ("day", "date")], [])
    result = AthenaEngine(athena_settings).run_open_ended(make_query("workbench.adhoc", "SELECT empty_marker FROM t"), user(), 10)
    assert list(result.df.columns) == ["empty_marker", "day"] and result.df.empty and result.stats.rows == 0


# --- stats, time limit, failures ------------------------------------------------------------


def test_bytes_scanned_cost_and_engine_time_are_in_the_stats(athena_settings, fake_athena):
    fake_athena.result("month_to_date", MTD_COLUMNS, [[1.0, 2.0, "2026-03-15"]], bytes_scanned=1_200_000_000, engine_ms=840)
    result = AthenaEngine(athena_settings).run_open_ended(overview.billing_month_to_date(AS_OF), user(), max_rows=10)
    assert result.stats.query_id == fake_athena.started[-1]["id"]
    assert result.stats.bytes_scanned == 1_200_000_000
    assert result.stats.cost_usd == pytest.approx(0.006)
    assert result.stats.elapsed_s == pytest.approx(0.84)
    assert "scanned 1.2 GB, $0.0060" in result.stats.summary()


def test_a_query_past_the_time_limit_is_stopped_in_athena(fake_athena, aws, calls):
    settings = dataclasses.replace(load_settings(secrets=athena_secrets(), environ={}), query_timeout_s=1.0)
    now, waits = [0.0], []

    def sleep(seconds):  # a fake clock: each wait advances it, so the limit is reached without real waiting
        waits.append(seconds)
        now[0] += seconds

    engine = AthenaEngine(settings, clock=lambda: now[0], sleep=sleep)
    fake_athena.hold("forever_marker")
    with pytest.raises(QueryTimeout) as caught:
        engine.run_open_ended(make_query("workbench.adhoc", "SELECT forever_marker FROM t"), user(), max_rows=10)

    query_id = fake_athena.started[-1]["id"]
    assert "longer than 1 s and was cancelled in Athena" in str(caught.value) and query_id in str(caught.value)
    assert calls.stopped == [query_id]  # StopQueryExecution, once
    state = aws.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
    assert state == "CANCELLED"
    assert not calls.page_requests  # no result was read
    assert waits[0] == pytest.approx(0.2) and waits[1] > waits[0]  # backing off, not hammering GetQueryExecution
    assert sum(waits) == pytest.approx(1.0)  # the last wait is cut to the limit


def test_a_failed_query_gives_its_reason(athena_settings, fake_athena):
    fake_athena.fail("cur_marker", "Insufficient permissions to execute the query. "
                                   "Insufficient Lake Formation permission(s) on daivi_cur.cur")
    with pytest.raises(AccessDenied, match="Lake Formation denies your role access to daivi_cur.cur"):
        AthenaEngine(athena_settings).run_open_ended(make_query("workbench.adhoc", "SELECT cur_marker FROM t"), user(), 10)


def _throttled(session_events, operation: str, times: int | None) -> list[int]:
    """Answer the first `times` calls of `operation` (None = all) with Athena's ThrottlingException."""
    seen = []

    def handler(request, **_):
        seen.append(1)
        if times is None or len(seen) <= times:
            body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
            raw = type("Raw", (), {"stream": lambda self, **k: iter([body])})()
            return AWSResponse(request.url, 400, {"x-amzn-errortype": "ThrottlingException"}, raw)
        return None

    session_events.register_first(f"before-send.athena.{operation}", handler)
    return seen


def _throttling_engine(settings, operation: str, times: int | None) -> tuple[AthenaEngine, list[list[int]]]:
    """An engine whose role sessions get `operation` throttled; per session, the calls of it that were sent."""
    engine = AthenaEngine(settings)
    seen: list[list[int]] = []
    original = engine.credentials.session_for

    def session_for(principal):
        session = original(principal)
        if not getattr(session, "_throttled", False):
            session._throttled = True
            seen.append(_throttled(session.events, operation, times))
        return session

    engine.credentials.session_for = session_for
    return engine, seen


def test_throttling_is_retried_by_botocore_then_the_cursor_succeeds(athena_settings, fake_athena, no_backoff_sleep):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[9, 1.0, 1]])
    engine, seen = _throttling_engine(athena_settings, "GetQueryExecution", 2)
    result = engine.run_open_ended(overview.cur_month_summary(AS_OF), user(), max_rows=10)
    assert result.df["line_items"].tolist() == [9]
    assert len(seen[0]) >= 3  # two throttled answers, then moto's


def test_throttling_that_persists_gives_the_throttled_message(athena_settings, fake_athena, no_backoff_sleep):
    engine, seen = _throttling_engine(athena_settings, "StartQueryExecution", None)
    with pytest.raises(Throttled, match="throttling.*try again"):
        engine.run_open_ended(overview.cur_month_summary(AS_OF), user(), max_rows=10)
    # botocore's attempts only (the first and `max_attempts` retries): PyAthena's own retry layer,
    # which would multiply them by its 8 attempts, is off.
    assert len(seen[0]) == athena_settings.athena.max_attempts + 1


def test_expired_credentials_are_renewed_once_on_the_cursor_path(athena_settings, fake_athena):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[3, 1.0, 1]])
    engine = AthenaEngine(athena_settings)
    sessions = []
    original = engine.credentials.session_for

    def session_for(p):
        session = original(p)
        if not sessions:  # only the first session's credentials are "expired"
            def expired(request, **_):
                body = b'{"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"}'
                raw = type("Raw", (), {"stream": lambda self, **k: iter([body])})()
                return AWSResponse(request.url, 400, {"x-amzn-errortype": "ExpiredTokenException"}, raw)

            session.events.register_first("before-send.athena.*", expired)
        sessions.append(session)
        return session

    engine.credentials.session_for = session_for
    result = engine.run_open_ended(overview.cur_month_summary(AS_OF), user(), max_rows=10)
    assert result.df["line_items"].tolist() == [3]
    assert len(sessions) == 2 and sessions[0] is not sessions[1] and engine.credentials.assume_calls == 2


# --- principals and governance --------------------------------------------------------------


def test_two_principals_never_share_a_connection_cursor_or_credentials(athena_settings, fake_athena, lake_formation,
                                                                        monkeypatch):
    connections, cursors = [], []
    connect, cursor = pyathena.connect, pyathena.connection.Connection.cursor

    def spy_connect(**kwargs):
        connections.append(connect(**kwargs))
        return connections[-1]

    def spy_cursor(self, *args, **kwargs):
        cursors.append((self, cursor(self, *args, **kwargs)))
        return cursors[-1][1]

    monkeypatch.setattr(pyathena, "connect", spy_connect)
    monkeypatch.setattr(pyathena.connection.Connection, "cursor", spy_cursor)
    engine = AthenaEngine(athena_settings)
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("ops-engineer", "bob@daivi.example")
    query = make_query("workbench.adhoc", "SELECT COUNT(*) AS n FROM daivi_billing.cost_daily")
    for principal in (alice, bob, alice):
        engine.run_open_ended(query, principal, max_rows=10)

    assert len({id(c) for c in connections}) == 3  # a connection per call, never reused
    assert len({id(c) for _, c in cursors}) == 3 and [conn for conn, _ in cursors] == connections
    keys = [c.session.get_credentials().access_key for c in connections]
    assert keys[0] == keys[2] != keys[1]  # alice's role credentials (cached for her), never bob's
    assert connections[0].session is engine.credentials.session_for(alice)
    assert connections[1].session is engine.credentials.session_for(bob)
    assert [c.s3_staging_dir for c in connections] == [engine.output_location(p) for p in (alice, bob, alice)]
    # The role that signed each StartQueryExecution, as Lake Formation sees it.
    assert [s["role_arn"] for s in fake_athena.started if "AS n" in s["query"]] == [
        ROLE_ARNS["finance-analyst"], ROLE_ARNS["ops-engineer"], ROLE_ARNS["finance-analyst"]]
    assert [role for role, _ in lake_formation.answered] == ["finance-analyst", "ops-engineer", "finance-analyst"]


def test_lake_formation_grants_hold_on_the_cursor_path(athena_settings, lake_formation, raw_duckdb):
    engine = AthenaEngine(athena_settings)
    sql = "SELECT DISTINCT account_id FROM daivi_billing.accounts"
    lead = engine.run_open_ended(make_query("workbench.adhoc", sql), user("team-lead-payments"), max_rows=1000).df
    admin = engine.run_open_ended(make_query("workbench.adhoc", sql), user("admin"), max_rows=1000).df
    assert set(lead["account_id"]) == set(PAYMENTS_ACCOUNT_IDS)
    assert set(admin["account_id"]) == {r[0] for r in raw_duckdb.execute(sql).fetchall()}
    assert [role for role, _ in lake_formation.answered] == ["team-lead-payments", "admin"]
    with pytest.raises(AccessDenied, match="may not read column owner_email of daivi_billing.accounts"):
        engine.run_open_ended(make_query("workbench.adhoc", "SELECT owner_email FROM daivi_billing.accounts"),
                              user("ops-engineer"), max_rows=10)


# --- the connection and the page ------------------------------------------------------------


def test_the_connection_audits_every_open_ended_run_and_caches_per_principal_only(athena_settings, fake_athena):
    fake_athena.result("cached_marker", [("cached_marker", "bigint")], [[7]])
    fake_athena.fail("denied_marker", "Insufficient Lake Formation permission(s) on daivi_cur.cur")
    st.cache_data.clear()
    clear_cached()
    connection = LakehouseConnection("test-open-ended", settings=athena_settings)
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("finance-analyst", "bob@daivi.example")
    query = make_query("workbench.adhoc", "SELECT cached_marker FROM t")
    try:
        first = connection.run_open_ended(query, alice, max_rows=10)
        again = connection.run_open_ended(query, alice, max_rows=10)
        other = connection.run_open_ended(query, bob, max_rows=10)
        with pytest.raises(AccessDenied):
            connection.run_open_ended(make_query("workbench.adhoc", "SELECT denied_marker FROM t"), alice, max_rows=10)
    finally:
        st.cache_data.clear()
        clear_cached()
    assert first.df["cached_marker"].tolist() == again.df["cached_marker"].tolist() == other.df["cached_marker"].tolist() == [7]
    assert (first.stats.cached, again.stats.cached, other.stats.cached) == (False, True, False)
    started = [s for s in fake_athena.started if "cached_marker" in s["query"]]
    assert len(started) == 2  # alice once (then her cache), bob his own run
    assert started[0]["role_arn"] == started[1]["role_arn"] == ROLE_ARNS["finance-analyst"]
    records = [json.loads(line) for line in athena_settings.audit_log.read_text().splitlines()]
    assert [(r["email"], r["query"], r["outcome"]) for r in records] == [
        ("alice@daivi.example", "workbench.adhoc", "ok"), ("alice@daivi.example", "workbench.adhoc", "cached"),
        ("bob@daivi.example", "workbench.adhoc", "ok"), ("alice@daivi.example", "workbench.adhoc", "denied")]
    assert records[0]["query_id"] == started[0]["id"] and records[2]["query_id"] == started[1]["id"]
    assert all(r["engine"] == "athena" for r in records)


def test_the_workbench_page_on_athena_runs_through_the_cursor_and_says_when_it_cut(athena_app, calls, raw_duckdb, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DAIVI_MAX_RESULT_ROWS", "5")
    at = run_app("admin", "workbench.py", sql="SELECT account_id AS page_marker FROM daivi_billing.accounts ORDER BY 1")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "The result has more than 5 rows: showing the first 5." in "\n".join(w.value for w in at.warning)
    frame = next(d.value for d in at.dataframe if "page_marker" in d.value.columns)
    expected = [r[0] for r in raw_duckdb.execute("SELECT account_id FROM daivi_billing.accounts ORDER BY 1 LIMIT 5").fetchall()]
    assert frame["page_marker"].tolist() == expected
    sent = next(s for s in athena_app.started if "page_marker" in s["query"])
    assert "LIMIT 6" in sent["query"]  # the row limit + 1
    assert "PyAthena/" in calls.agent_of("page_marker")
    # The catalog's table statistics are view queries: they stay on awswrangler.
    assert any("PyAthena/" not in agent for query, agent in calls.user_agents.items() if "page_marker" not in query)
