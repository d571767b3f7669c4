"""AWS tier fixtures: moto stands in for S3, STS, Glue, Athena and Lake Formation; nothing leaves the machine.

moto runs no SQL, so `FakeAthena` plays Athena's part: each query whose text
contains a seeded marker gets that seeded result (pushed into moto's own result
queue, which also writes the CSV to the S3 output location as Athena does),
with the statistics moto does not report (bytes scanned, engine time), or ends
FAILED with a reason, or runs forever until it is stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.retries.bucket
import botocore.retries.standard
import pandas as pd
import pytest
from moto import mock_aws
from moto.athena.models import AthenaBackend, QueryResults
from moto.athena.responses import AthenaResponse
from moto.sts.models import sts_backends

from daivi_data.aws.policies import role_trust_policy
from daivi_data.governance import load_policy
from daivi_data.identity import Principal
from daivi_data.settings import Settings, load_settings
from tests.helpers import demo_end_date

REGION = "eu-west-1"
RESULTS_BUCKET = "daivi-athena-results"
WORKGROUP = "daivi"
ACCOUNT = "123456789012"  # moto's default account, where the fixtures create the bucket and the workgroup
# Role ARNs have one source, the grants file: the tests use the shipped one, with moto's account in its ARNs.
GRANTS_FILE = Path(tempfile.mkdtemp(prefix="daivi-aws-grants-")) / "grants.toml"
GRANTS_FILE.write_text(Settings().grants_file.read_text().replace(":100000000001:", f":{ACCOUNT}:"))
ROLE_ARNS = {role: grants.role_arn for role, grants in load_policy(GRANTS_FILE).roles.items()}


@pytest.fixture(autouse=True)
def _fake_aws_environment(monkeypatch):
    """Fake credentials and region, and no config file: a test can never reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance metadata lookups (slow, and not ours)
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(key, raising=False)


def athena_secrets(**overrides) -> dict:
    """A secrets mapping for the Athena engine, as docs/aws.md tells a new user to write it."""
    athena = {"region": REGION, "workgroup": WORKGROUP, "s3_output": f"s3://{RESULTS_BUCKET}/explorer/", "max_attempts": 3}
    athena.update(overrides.pop("athena", {}))
    daivi = {"engine": "athena", "auth_mode": "oidc", "athena": athena, "grants_file": str(GRANTS_FILE),
             "role_mappings": [{"role": r, "emails": [f"{r}@daivi.example"]} for r in ROLE_ARNS]}
    daivi.update(overrides)
    return {"daivi": daivi}


@pytest.fixture
def athena_settings(tmp_path):
    return load_settings(secrets=athena_secrets(audit_log=str(tmp_path / "audit.jsonl")), environ={})


def user(role: str = "finance-analyst", email: str | None = None) -> Principal:
    email = email or f"{role}@daivi.example"
    return Principal(user_id=f"oidc:{email}", email=email, display_name=email.split("@")[0], role=role, source="oidc")


@dataclass
class Seeded:
    marker: str
    columns: list[tuple[str, str]]
    rows: list[list[object]]
    bytes_scanned: int = 0
    engine_ms: int = 0
    fail_reason: str = ""
    hold: bool = False
    cancel_reason: str = ""


class FakeAthena:
    """Athena's behaviour per query, keyed by a marker string of the SQL text."""

    def __init__(self, monkeypatch):
        self.seeded: list[Seeded] = []
        self.answer = None  # a DuckDBAnswers for every query no marker matches
        self.started: list[dict] = []  # every StartQueryExecution moto received
        self._by_id: dict[str, Seeded] = {}
        fake = self
        original_start = AthenaBackend.start_query_execution
        original_describe = AthenaResponse.get_query_execution
        original_respond_start = AthenaResponse.start_query_execution
        self._caller = threading.local()

        def respond_start(response):
            # Who is asking: the role whose temporary credentials signed this request (as Lake Formation sees it).
            fake._caller.role_arn = caller_role_arn(response.headers.get("Authorization", ""))
            return original_respond_start(response)

        def start_query_execution(backend, query, context, config, workgroup, execution_parameters):
            seeded = next((s for s in fake.seeded if s.marker in query), None)
            if misplaced := markers_outside_where(query):
                # Athena: "? parameters can be placed only in the WHERE clause" (Use parameterized queries).
                seeded = Seeded("", [], [], fail_reason=f"{MISPLACED_PARAMETER}: {misplaced} '?' outside the WHERE clause")
            if seeded is None and fake.answer is not None and not query.startswith("UNLOAD"):
                seeded = fake.answer(query, execution_parameters, getattr(fake._caller, "role_arn", ""))
            if seeded is not None and not seeded.fail_reason and not seeded.hold and not seeded.cancel_reason:
                backend.query_results_queue.insert(0, seeded.results())
            exec_id = original_start(backend, query, context, config, workgroup, execution_parameters)
            execution = backend.executions[exec_id]
            if seeded is not None and seeded.fail_reason:
                execution.status = "FAILED"
            if seeded is not None and seeded.cancel_reason:
                execution.status = "CANCELLED"
            if seeded is not None and seeded.hold:
                execution._transitions = [("RUNNING", "RUNNING")]
                execution.status = "RUNNING"
            fake.started.append({"id": exec_id, "query": query, "params": execution_parameters, "config": dict(config or {}),
                                 "workgroup": workgroup, "context": context, "role_arn": getattr(fake._caller, "role_arn", "")})
            if seeded is not None:
                fake._by_id[exec_id] = seeded
            return exec_id

        def get_query_execution(response):
            body = json.loads(original_describe(response))
            execution = body["QueryExecution"]
            seeded = fake._by_id.get(execution["QueryExecutionId"])
            if seeded is not None:
                execution["Statistics"]["DataScannedInBytes"] = seeded.bytes_scanned
                execution["Statistics"]["EngineExecutionTimeInMillis"] = seeded.engine_ms
                if seeded.fail_reason and execution["Status"]["State"] == "FAILED":
                    execution["Status"]["StateChangeReason"] = seeded.fail_reason
                if seeded.cancel_reason and execution["Status"]["State"] == "CANCELLED":
                    execution["Status"]["StateChangeReason"] = seeded.cancel_reason
            return json.dumps(body)

        monkeypatch.setattr(AthenaBackend, "start_query_execution", start_query_execution)
        monkeypatch.setattr(AthenaResponse, "get_query_execution", get_query_execution)
        monkeypatch.setattr(AthenaResponse, "start_query_execution", respond_start)

    def result(self, marker: str, columns: list[tuple[str, str]], rows: list[list[object]], *, bytes_scanned: int = 0,
               engine_ms: int = 0) -> None:
        self.seeded.append(Seeded(marker, columns, rows, bytes_scanned, engine_ms))

    def fail(self, marker: str, reason: str) -> None:
        self.seeded.append(Seeded(marker, [], [], fail_reason=reason))

    def cancel(self, marker: str, reason: str, *, bytes_scanned: int = 0) -> None:
        """Athena itself cancels the query (the workgroup's bytes guard does that), after scanning `bytes_scanned`."""
        self.seeded.append(Seeded(marker, [], [], bytes_scanned=bytes_scanned, cancel_reason=reason))

    def hold(self, marker: str) -> None:
        self.seeded.append(Seeded(marker, [], [], hold=True))


MISPLACED_PARAMETER = "INVALID_PARAMETER_USAGE"


def markers_outside_where(sql: str) -> int:
    """How many `?` execution-parameter markers stand outside a WHERE clause (Athena refuses those)."""
    import sqlglot
    from sqlglot import exp

    if "?" not in sql:
        return 0
    tree = sqlglot.parse_one(sql, read="athena")
    return sum(1 for p in tree.find_all(exp.Placeholder)
               if not isinstance(p.find_ancestor(exp.Where, exp.Select), exp.Where))


def caller_role_arn(authorization: str) -> str:
    """The IAM role ARN behind the access key that signed a request ("" for the app's own credentials)."""
    match = re.search(r"Credential=([A-Z0-9]+)/", authorization)
    if not match:
        return ""
    for accounts in sts_backends.values():
        for backend in accounts.values():
            assumed = backend.get_assumed_role_from_access_key(match.group(1))
            if assumed is not None:
                return assumed.role_arn
    return ""


def _cell(value: object) -> dict:
    # moto writes the CSV result without escaping quotes; Athena doubles them, so hand moto the escaped text.
    return {} if value is None else {"VarCharValue": str(value).replace('"', '""')}


def _results(seeded: Seeded) -> QueryResults:
    # Athena's result set starts with the header row, and so does the CSV it writes.
    header = {"Data": [{"VarCharValue": name} for name, _ in seeded.columns]}
    rows = [header] + [{"Data": [_cell(v) for v in row]} for row in seeded.rows]
    info = [{"Name": name, "Label": name, "Type": kind, "Nullable": "UNKNOWN", "CaseSensitive": False,
             "Precision": 0, "Scale": 0} for name, kind in seeded.columns]
    return QueryResults(rows=rows, column_info=info)


Seeded.results = _results  # type: ignore[attr-defined]


def create_glue_table(glue, database: str, table: str, partition_key: str | None, values: list[str]) -> None:
    try:
        glue.create_database(DatabaseInput={"Name": database})
    except glue.exceptions.AlreadyExistsException:
        pass
    keys = [{"Name": partition_key, "Type": "string"}] if partition_key else []
    storage = {"Location": f"s3://daivi-lake/{database}/{table}/", "Columns": [{"Name": "x", "Type": "string"}]}
    glue.create_table(DatabaseName=database, TableInput={"Name": table, "StorageDescriptor": storage, "PartitionKeys": keys})
    for value in values:
        glue.create_partition(DatabaseName=database, TableName=table, PartitionInput={
            "Values": [value], "StorageDescriptor": {**storage, "Location": f"{storage['Location']}{partition_key}={value}/"}})


def months_back(today: dt.date, n: int) -> list[str]:
    out, day = [], today.replace(day=1)
    for _ in range(n):
        out.append(f"{day:%Y-%m}")
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return out


@pytest.fixture
def aws():
    """moto for every AWS service, with the results bucket and the Athena workgroup."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket=RESULTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        session.client("athena").create_work_group(Name=WORKGROUP, Configuration={"EnforceWorkGroupConfiguration": False})
        iam = session.client("iam")
        app_role = iam.create_role(RoleName="daivi-app", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        for arn in ROLE_ARNS.values():  # the grants roles as the stack makes them: trust the app, AROA… role ids
            iam.create_role(RoleName=arn.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(role_trust_policy(app_role)))
        yield session


@pytest.fixture
def fake_athena(aws, monkeypatch) -> FakeAthena:
    return FakeAthena(monkeypatch)


@pytest.fixture
def lake_catalog(aws):
    """The four lakehouses' tables in Glue, partitioned as the catalog says, newest partition yesterday."""
    glue = aws.client("glue")
    yesterday = demo_end_date()  # the session's yesterday (its clock is stopped)
    days = [f"{yesterday - dt.timedelta(days=i):%Y-%m-%d}" for i in range(3)]
    create_glue_table(glue, "daivi_billing", "cost_daily", "billing_period", months_back(yesterday, 3))
    create_glue_table(glue, "daivi_billing", "accounts", None, [])
    create_glue_table(glue, "daivi_cur", "cur", "billing_period", months_back(yesterday, 2))
    create_glue_table(glue, "daivi_inventory", "resources", "snapshot_date", days)
    create_glue_table(glue, "daivi_splunk", "events", "event_date", days)
    return glue


# --- Athena played by DuckDB over the small lakehouse ------------------------------------------

# pandas dtypes of the embedded engine's results -> the type Athena reports for such a column.
_ATHENA_TYPES = (("INT", "bigint"), ("UINT", "bigint"), ("FLOAT", "double"), ("BOOL", "boolean"), ("DATETIME64", "timestamp"))


def _athena_type(dtype: str) -> str:
    upper = str(dtype).upper()
    return next((athena for prefix, athena in _ATHENA_TYPES if upper.startswith(prefix)), "varchar")


def _athena_text(value: object) -> object:
    """A value as Athena writes it into its CSV result."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"
    return value


def bind_execution_parameters(sql: str, params: list[str] | None) -> str:
    """Athena's own substitution: each `?` token replaced by the next execution parameter."""
    import sqlglot
    from sqlglot.tokens import TokenType

    tokens = [t for t in sqlglot.Dialect.get_or_raise("athena").tokenize(sql) if t.token_type == TokenType.PLACEHOLDER]
    params = list(params or [])
    assert len(tokens) == len(params), f"{len(tokens)} markers, {len(params)} parameters"
    for token, literal in sorted(zip(tokens, params, strict=True), key=lambda tp: -tp[0].start):
        sql = sql[:token.start] + literal + sql[token.end + 1:]
    return sql


class DuckDBAnswers:
    """Answers any Athena SQL from the small demo lakehouse, as Athena with Lake Formation would.

    The caller's role (from the credentials that signed the request) is looked up in
    the grants file by its IAM role name; the statement is bound (Athena's
    substitution) and run by the embedded engine as that role, which holds only the
    role's rows and columns, as Lake Formation would after `python -m
    daivi_data.governance apply`: a forbidden table or column FAILED with Lake
    Formation's reason. Bytes scanned are the Parquet bytes of the tables read.
    """

    def __init__(self, lakehouse, grants_file=None):
        from daivi_data.engines.duckdb import DuckDBEngine
        from daivi_data.governance import load_policy
        from daivi_data.settings import Settings

        self.lakehouse = lakehouse
        self.policy = load_policy(grants_file or Settings().grants_file)
        self.engine = DuckDBEngine(lakehouse, self.policy)
        self.answered: list[tuple[str, str]] = []  # (role, query)

    def role_for(self, role_arn: str) -> str:
        name = role_arn.rsplit("/", 1)[-1]
        return next((r for r in self.policy.roles if f"daivi-{r}" == name), "")

    def __call__(self, query: str, params: list[str] | None, role_arn: str = "") -> Seeded:
        import sqlglot

        from daivi_data.errors import AccessDenied
        from daivi_data.queries import Query

        role = self.role_for(role_arn)
        if not role:
            return Seeded("", [], [], fail_reason=f"Insufficient Lake Formation permission(s): {role_arn or 'the caller'} has no grants")
        bound = bind_execution_parameters(query, params)
        scanned = sum(f.stat().st_size for t in sqlglot.parse_one(bound, read="athena").find_all(sqlglot.exp.Table) if t.db
                      for f in (self.lakehouse / t.db / t.name).rglob("*.parquet"))
        caller = Principal(user_id=f"athena:{role}", email="", display_name=role, role=role, source="oidc")
        try:
            df = self.engine.run(Query("athena.stand_in", bound), caller).df
        except AccessDenied as e:
            text = str(e)
            if " column " in text:  # Lake Formation hides the column: Athena cannot resolve it
                column = text.split(" column ", 1)[1].split(" ", 1)[0]
                return Seeded("", [], [], fail_reason=f"COLUMN_NOT_FOUND: line 1:8: Column '{column}' cannot be resolved")
            table = text.rsplit(" ", 1)[-1].rstrip(".")
            return Seeded("", [], [], fail_reason=f"Insufficient permissions to execute the query. "
                                                  f"Insufficient Lake Formation permission(s) on {table}")
        columns = [(name, _athena_type(str(df[name].dtype))) for name in df.columns]
        rows = [[_athena_text(None if pd.isna(v) else v) for v in row] for row in df.astype(object).itertuples(index=False)]
        self.answered.append((role, query))
        return Seeded("", columns, rows, bytes_scanned=scanned, engine_ms=100)


@pytest.fixture
def no_backoff_sleep(monkeypatch):
    """Backoff delays of zero: the retry path (botocore's adaptive mode, awswrangler's own) runs, the test does not wait."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    # Adaptive mode's client-side rate limiter waits for tokens after a throttle; grant them at once.
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)

    class NoSleepTime:
        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def sleep(seconds):
            return None

    monkeypatch.setattr("awswrangler._utils.time", NoSleepTime())
