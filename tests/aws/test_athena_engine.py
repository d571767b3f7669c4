"""The Athena engine against moto: SQL and parameters sent, results and stats read back, every failure's message."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import boto3
import pandas as pd
import pytest
from botocore.awsrequest import AWSResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sts.models import sts_backends

from daivi_data.aws.credentials import session_name_for
from daivi_data.engines.athena import AthenaEngine, cost_usd
from daivi_data.errors import AccessDenied, BytesLimitExceeded, DataUnavailable, QueryFailed, QueryTimeout, Throttled
from daivi_data.queries import Query, billing, make_query, overview
from daivi_data.settings import load_settings
from tests.aws.conftest import REGION, RESULTS_BUCKET, ROLE_ARNS, athena_secrets, user
from tests.helpers import demo_end_date

pytestmark = pytest.mark.aws

AS_OF = dt.date(2026, 3, 15)
MTD_COLUMNS = [("month_to_date", "double"), ("previous_month_to_date", "double"), ("latest_day", "date")]


def test_home_query_sends_qmark_sql_with_typed_parameters_and_reads_the_seeded_result(athena_settings, fake_athena):
    fake_athena.result("month_to_date", MTD_COLUMNS, [[1234.5, 1000.25, "2026-03-15"]], bytes_scanned=1_200_000_000, engine_ms=840)
    engine = AthenaEngine(athena_settings)
    result = engine.run(overview.billing_month_to_date(AS_OF), user())

    sent = fake_athena.started[-1]
    assert ":" not in sent["query"].split("FROM")[0]  # no named placeholder reaches Athena
    assert sent["query"].count("?") == 4  # only in WHERE: the CASE dates are constants computed in Python
    assert "CAST('2026-03-01' AS DATE)" in sent["query"].split("WHERE")[0]
    assert "FROM daivi_billing.cost_daily" in sent["query"]
    assert sent["params"] == ["'2026-03'", "'2026-02'", "DATE '2026-02-01'", "DATE '2026-03-15'"]
    assert sent["workgroup"] == "daivi"
    assert result.df["month_to_date"].tolist() == [1234.5]
    assert result.df["previous_month_to_date"].tolist() == [1000.25]
    assert result.stats.query_id == sent["id"]
    assert result.stats.bytes_scanned == 1_200_000_000
    assert result.stats.cost_usd == pytest.approx(0.006)
    assert result.stats.elapsed_s == pytest.approx(0.84)
    assert "scanned 1.2 GB, $0.0060" in result.stats.summary()


def test_output_goes_to_the_principals_own_prefix_encrypted_sse_s3_by_default(athena_settings, fake_athena):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[5, 1.0, 2]])
    engine = AthenaEngine(athena_settings)
    alice, bob = user("finance-analyst", "alice@daivi.example"), user("finance-analyst", "bob@daivi.example")
    engine.run(overview.cur_month_summary(AS_OF), alice)
    engine.run(overview.cur_month_summary(AS_OF), bob)
    first, second = fake_athena.started[-2]["config"], fake_athena.started[-1]["config"]
    # Each under the session's aws:userid ("AROA…:RoleSessionName"): the prefix the role's IAM policy allows it.
    roles = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles
    ids = {r.session_name: r.user_id for r in roles}
    assert ids[session_name_for(alice)].startswith("AROA") and ids[session_name_for(alice)] != ids[session_name_for(bob)]
    assert first["OutputLocation"].startswith(f"s3://{RESULTS_BUCKET}/explorer/{ids[session_name_for(alice)]}/")
    assert second["OutputLocation"].startswith(f"s3://{RESULTS_BUCKET}/explorer/{ids[session_name_for(bob)]}/")
    assert first["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}


def test_kms_key_from_settings_selects_sse_kms(fake_athena, tmp_path):
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings = load_settings(secrets=athena_secrets(athena={"kms_key": key}), environ={})
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[1, 1.0, 1]])
    AthenaEngine(settings).run(overview.cur_month_summary(AS_OF), user())
    assert fake_athena.started[-1]["config"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS", "KmsKey": key}


def test_configured_database_names_replace_the_default_ones(fake_athena):
    settings = load_settings(secrets=athena_secrets(databases={"billing": "prod_billing_v2"}), environ={})
    fake_athena.result("month_to_date", MTD_COLUMNS, [[1.0, 1.0, "2026-03-15"]])
    AthenaEngine(settings).run(overview.billing_month_to_date(AS_OF), user())
    assert "FROM prod_billing_v2.cost_daily" in fake_athena.started[-1]["query"]
    assert "daivi_billing" not in fake_athena.started[-1]["query"]


def test_repeated_names_and_list_values_are_bound_not_formatted(athena_settings, fake_athena):
    query = make_query(
        "test.lists",
        "SELECT service_code FROM daivi_billing.cost_daily WHERE billing_period = :p AND contains(:services, service_code) "
        "AND (account_id = :acct OR payer_account_id = :acct)",
        p="2026-03", services=("AmazonEC2", "O'Reilly"), acct="411111111101",
    )
    fake_athena.result("payer_account_id", [("service_code", "varchar")], [["AmazonEC2"]])
    AthenaEngine(athena_settings).run(query, user())
    sent = fake_athena.started[-1]
    assert "O'Reilly" not in sent["query"] and "411111111101" not in sent["query"]
    assert sent["params"] == ["'2026-03'", "ARRAY['AmazonEC2', 'O''Reilly']", "'411111111101'", "'411111111101'"]


def test_awswrangler_result_cache_stays_off(athena_settings, fake_athena, monkeypatch):
    import awswrangler.athena._executions as executions

    seen = []
    original = executions._check_for_cached_results

    def spy(**kwargs):
        seen.append(kwargs["athena_cache_settings"])
        return original(**kwargs)

    monkeypatch.setattr(executions, "_check_for_cached_results", spy)
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[1, 1.0, 1]])
    AthenaEngine(athena_settings).run(overview.cur_month_summary(AS_OF), user())
    assert seen == [{"max_cache_seconds": 0}]


def test_unload_path_wraps_the_query_and_reads_parquet(fake_athena, aws, monkeypatch):
    settings = load_settings(secrets=athena_secrets(athena={"unload": True}), environ={})
    engine = AthenaEngine(settings)
    principal = user()
    s3 = aws.client("s3")
    from moto.athena.models import AthenaBackend

    original = AthenaBackend.start_query_execution

    def start_and_write(backend, query, context, config, workgroup, execution_parameters):
        # Athena's UNLOAD writes Parquet files under the TO prefix: do the same.
        target = query.split("TO '", 1)[1].split("'", 1)[0]
        bucket, key = target.removeprefix("s3://").split("/", 1)
        buffer = io.BytesIO()
        pd.DataFrame({"resources": [42], "resource_types": [7], "accounts": [3]}).to_parquet(buffer)
        s3.put_object(Bucket=bucket, Key=f"{key}part-0000.parquet", Body=buffer.getvalue())
        return original(backend, query, context, config, workgroup, execution_parameters)

    monkeypatch.setattr(AthenaBackend, "start_query_execution", start_and_write)
    result = engine.run(overview.inventory_snapshot_summary(AS_OF), principal)
    sent = fake_athena.started[-1]["query"]
    assert sent.startswith("UNLOAD (SELECT COUNT(*) AS resources")
    assert f"TO 's3://{RESULTS_BUCKET}/explorer/{engine.credentials.results_user_id(principal)}/unload/" in sent
    assert "format = 'PARQUET'" in sent
    assert fake_athena.started[-1]["params"] == ["DATE '2026-03-15'"]
    assert result.df.to_dict("records") == [{"resources": 42, "resource_types": 7, "accounts": 3}]


def test_unload_keeps_an_ordered_result_in_order_by_not_unloading_it(fake_athena):
    # UNLOAD writes several Parquet files that read back in no particular order: ORDER BY would be lost.
    settings = load_settings(secrets=athena_secrets(athena={"unload": True}), environ={})
    rows = [[f"2026-03-0{d}", 10.0 * d] for d in (1, 2, 3)]
    fake_athena.result("SUM(c.unblended_cost) AS cost", [("usage_date", "date"), ("cost", "double")], rows)
    scope = billing.CostScope(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    result = AthenaEngine(settings).run(billing.daily_totals(scope), user())
    sent = fake_athena.started[-1]["query"]
    assert sent.startswith("SELECT") and "UNLOAD" not in sent and sent.rstrip().endswith("ORDER BY 1")
    assert result.df["cost"].tolist() == [10.0, 20.0, 30.0]


def test_the_query_runs_under_the_users_role_with_source_identity(athena_settings, fake_athena):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[1, 1.0, 1]])
    AthenaEngine(athena_settings).run(overview.cur_month_summary(AS_OF), user("finance-analyst", "carol@daivi.example"))
    assumed = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assumed_roles[-1]
    assert assumed.role_arn == ROLE_ARNS["finance-analyst"]
    assert assumed.session_name == session_name_for(user("finance-analyst", "carol@daivi.example"))
    assert assumed.session_name.startswith("carol@daivi.example-")


# --- failures, as users see them ------------------------------------------------------------


@pytest.mark.parametrize(("reason", "error", "message"), [
    ("Insufficient permissions to execute the query. Insufficient Lake Formation permission(s) on daivi_cur.cur",
     AccessDenied, "Lake Formation denies your role access to daivi_cur.cur"),
    ("COLUMN_NOT_FOUND: line 1:8: Column 'configuration' cannot be resolved",
     AccessDenied, "may not read column configuration of daivi_inventory.resources"),
    ("SCHEMA_NOT_FOUND: line 1:15: Schema 'daivi_inventory' does not exist",
     DataUnavailable, "Database daivi_inventory does not exist in the Glue Data Catalog"),
    ("TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.daivi_inventory.resources' does not exist",
     DataUnavailable, "Table awsdatacatalog.daivi_inventory.resources does not exist"),
    ("SYNTAX_ERROR: line 3:1: mismatched input 'FROMM'", QueryFailed, "Athena: SYNTAX_ERROR: line 3:1: mismatched input 'FROMM'"),
])
def test_failed_query_gives_its_reason(athena_settings, fake_athena, reason, error, message):
    fake_athena.fail("resource_types", reason)
    with pytest.raises(error) as caught:
        AthenaEngine(athena_settings).run(overview.inventory_snapshot_summary(AS_OF), user("finance-analyst"))
    assert message in str(caught.value)


def test_query_over_the_time_limit_is_stopped_in_athena(fake_athena, aws):
    settings = dataclasses.replace(load_settings(secrets=athena_secrets(), environ={}), query_timeout_s=1.0)
    now = [0.0]
    # A fake clock: each wait advances it, so the limit is reached without real waiting.
    engine = AthenaEngine(settings, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    fake_athena.hold("resource_types")
    with pytest.raises(QueryTimeout) as caught:
        engine.run(overview.inventory_snapshot_summary(AS_OF), user())
    query_id = fake_athena.started[-1]["id"]
    assert "longer than 1 s and was cancelled" in str(caught.value)
    state = aws.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
    assert state == "CANCELLED"


def _throttle_first(session_events, operation: str, times: int | None) -> list[int]:
    """Answer the first `times` calls of `operation` (None = all) with Athena's ThrottlingException."""
    calls = []

    def handler(request, **_):
        calls.append(1)
        if times is None or len(calls) <= times:
            body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
            raw = type("Raw", (), {"stream": lambda self, **k: iter([body])})()
            return AWSResponse(request.url, 400, {"x-amzn-errortype": "ThrottlingException"}, raw)
        return None

    session_events.register_first(f"before-send.athena.{operation}", handler)
    return calls


def _engine_with_hooked_sessions(settings, hook):
    engine = AthenaEngine(settings)
    original = engine.credentials.session_for

    def session_for(principal):
        session = original(principal)
        hook(session.events)
        return session

    engine.credentials.session_for = session_for
    return engine


def test_throttling_is_retried_with_backoff_then_succeeds(athena_settings, fake_athena, no_backoff_sleep):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[9, 1.0, 1]])
    calls: list[list[int]] = []
    engine = _engine_with_hooked_sessions(athena_settings, lambda ev: calls.append(_throttle_first(ev, "GetQueryExecution", 2)))
    result = engine.run(overview.cur_month_summary(AS_OF), user())
    assert result.df["line_items"].tolist() == [9]
    assert len(calls[0]) >= 3  # two throttled answers, then moto's


def test_throttling_that_persists_gives_the_throttled_message(athena_settings, fake_athena, no_backoff_sleep):
    calls: list[list[int]] = []
    engine = _engine_with_hooked_sessions(athena_settings, lambda ev: calls.append(_throttle_first(ev, "StartQueryExecution", None)))
    with pytest.raises(Throttled) as caught:
        engine.run(overview.cur_month_summary(AS_OF), user())
    assert "throttling" in str(caught.value) and "try again" in str(caught.value)
    assert len(calls[0]) >= athena_settings.athena.max_attempts  # botocore retried before giving up


def test_expired_credentials_are_renewed_once_transparently(athena_settings, fake_athena):
    fake_athena.result("line_items", [("line_items", "bigint"), ("unblended_cost", "double"), ("accounts", "bigint")], [[3, 1.0, 1]])
    engine = AthenaEngine(athena_settings)
    principal = user()
    hooked = []
    original = engine.credentials.session_for

    def session_for(p):
        session = original(p)
        if not hooked:  # only the first session's credentials are "expired"
            def expired(request, **_):
                body = b'{"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"}'
                raw = type("Raw", (), {"stream": lambda self, **k: iter([body])})()
                return AWSResponse(request.url, 400, {"x-amzn-errortype": "ExpiredTokenException"}, raw)

            session.events.register_first("before-send.athena.*", expired)
        hooked.append(session)
        return session

    engine.credentials.session_for = session_for
    result = engine.run(overview.cur_month_summary(AS_OF), principal)
    assert result.df["line_items"].tolist() == [3]
    assert len(hooked) == 2 and hooked[0] is not hooked[1]
    assert engine.credentials.assume_calls == 2


def test_messages_never_carry_credentials(athena_settings, fake_athena):
    fake_athena.fail("resource_types", "Access denied for ASIAABCDEFGHIJKLMNOP with token eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl")
    with pytest.raises(AccessDenied) as caught:
        AthenaEngine(athena_settings).run(overview.inventory_snapshot_summary(AS_OF), user())
    assert "ASIA" not in str(caught.value) and "eyJ" not in str(caught.value)


def test_cost_is_billed_per_megabyte_with_a_ten_megabyte_minimum():
    assert cost_usd(0, 5.0) == pytest.approx(10e6 / 1e12 * 5)
    assert cost_usd(1_200_000_000, 5.0) == pytest.approx(0.006)
    assert cost_usd(1_200_000_001, 5.0) == pytest.approx(1_201_000_000 / 1e12 * 5)


# --- catalog check -------------------------------------------------------------------------


def test_table_info_reads_the_newest_glue_partition(athena_settings, lake_catalog):
    engine = AthenaEngine(athena_settings)
    info = engine.table_info("daivi_inventory", "resources")
    yesterday = demo_end_date()
    assert info.exists and info.partitions == 3
    assert info.latest_partition == f"{yesterday:%Y-%m-%d}"
    assert engine.table_info("daivi_billing", "accounts").partitions == 0


def test_missing_database_and_table_are_named(lake_catalog):
    settings = load_settings(secrets=athena_secrets(databases={"splunk": "prod_splunk"}), environ={})
    engine = AthenaEngine(settings)
    missing_db = engine.table_info("daivi_splunk", "events")
    assert not missing_db.exists
    assert missing_db.note == "Database `prod_splunk` does not exist in the Glue Data Catalog."
    lake_catalog.delete_table(DatabaseName="daivi_cur", Name="cur")
    missing_table = engine.table_info("daivi_cur", "cur")
    assert not missing_table.exists
    assert missing_table.note == "Table `daivi_cur.cur` does not exist in the Glue Data Catalog."


def test_s3_output_must_be_an_s3_url(tmp_path):
    from daivi_data.errors import SettingsError

    settings = load_settings(secrets=athena_secrets(athena={"s3_output": "/tmp/results"}), environ={})
    with pytest.raises(SettingsError, match="s3_output"):
        AthenaEngine(settings)


def test_region_comes_from_settings(athena_settings):
    engine = AthenaEngine(athena_settings)
    assert engine._base_session().region_name == REGION
    assert isinstance(engine._base_session(), boto3.Session)


def test_catalog_lookup_without_credentials_explains_and_does_not_block(athena_settings, aws, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    info = AthenaEngine(athena_settings).table_info("daivi_billing", "cost_daily")
    assert info.exists and info.latest_partition is None
    assert "no AWS credentials" in info.note


def test_running_without_credentials_says_what_is_missing(athena_settings, aws, monkeypatch):
    from daivi_data.errors import NotSignedIn

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    with pytest.raises(NotSignedIn, match="no AWS credentials to assume your role"):
        AthenaEngine(athena_settings).run(overview.cur_month_summary(AS_OF), user())


def test_athena_refuses_a_parameter_outside_where_and_the_user_gets_its_reason(athena_settings, fake_athena):
    # Built by hand: make_query itself refuses this, as Athena does ("? ... only in the WHERE clause").
    query = Query("raw.limit_bound", "SELECT line_item_id FROM daivi_cur.cur WHERE billing_period = :p LIMIT :n",
                  (("n", 5), ("p", "2026-03")))
    with pytest.raises(QueryFailed, match="outside the WHERE clause"):
        AthenaEngine(athena_settings).run(query, user())
    assert fake_athena.started[-1]["params"] == ["'2026-03'", "5"]


@pytest.mark.parametrize("run", ["run", "run_open_ended"])
def test_the_workgroups_bytes_guard_is_named_with_its_limit(aws, fake_athena, run):
    # BytesScannedCutoffPerQuery: Athena cancels a query that scans past it. The user learns why and what to do.
    aws.client("athena").create_work_group(Name="guarded", Configuration={
        "EnforceWorkGroupConfiguration": False, "BytesScannedCutoffPerQuery": 10_000_000_000})
    settings = load_settings(secrets=athena_secrets(athena={"workgroup": "guarded"}), environ={})
    fake_athena.cancel("resource_types", "Query cancelled: exceeded the data scanned limit", bytes_scanned=10_000_000_000)
    engine = AthenaEngine(settings)
    query = overview.inventory_snapshot_summary(AS_OF)
    with pytest.raises(BytesLimitExceeded) as caught:
        engine.run(query, user()) if run == "run" else engine.run_open_ended(query, user(), max_rows=10)
    message = str(caught.value)
    assert "workgroup's limit of 10.0 GB per query" in message and "Narrow the date range" in message
    assert fake_athena.started[-1]["id"] in message


def test_a_cancel_without_a_bytes_guard_says_so_plainly(aws, fake_athena, athena_settings):
    fake_athena.cancel("resource_types", "Query cancelled by user")
    with pytest.raises(QueryFailed, match="Athena cancelled the query") as caught:
        AthenaEngine(athena_settings).run(overview.inventory_snapshot_summary(AS_OF), user())
    assert not isinstance(caught.value, BytesLimitExceeded)
