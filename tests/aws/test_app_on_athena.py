"""The whole app on the Athena engine, as a new user would run it with docs/aws.md, moto standing in for AWS.

The settings come from a secrets.toml written as the docs say (engine = "athena",
OIDC sign-in, role mappings); sign-in is Streamlit's `st.user` (AppTest seeds
it); every query goes through awswrangler to moto's Athena, which DuckDB answers
from the small demo lakehouse (`DuckDBAnswers`), and Glue holds the lakehouse's
tables and partitions. Failures are seeded per query.
"""

from __future__ import annotations

import json
import re

import pytest
from moto.athena.models import AthenaBackend
from moto.core.exceptions import JsonRESTError
from streamlit.testing.v1 import AppTest

from daivi_data.settings import PROJECT_ROOT
from daivi_ui.context import forget_cached_data
from daivi_ui.format import money_short
from daivi_ui.navigation import VIEWS
from tests.aws.conftest import GRANTS_FILE, ROLE_ARNS, WORKGROUP, DuckDBAnswers, create_glue_table
from tests.helpers import PAYMENTS_ACCOUNT_IDS, demo_end_date

pytestmark = pytest.mark.aws

APP_TIMEOUT_S = 120
PAGES = [v.script for v in VIEWS if v.path.exists() and v.script != "import_data.py"]
SCANNED = re.compile(r"scanned \**[\d.]+ (?:B|KB|MB|GB|TB)\**, \$\d+\.\d{4}", re.IGNORECASE)
# A view that runs nothing until asked gets the URL that makes it run something.
PAGE_PARAMS = {"workbench.py": {"sql": "SELECT service_code, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily "
                                       f"WHERE billing_period = '{demo_end_date():%Y-%m}' GROUP BY service_code"}}

SECRETS = """
[daivi]
engine = "athena"
auth_mode = "oidc"
query_timeout_s = {timeout}
audit_log = "{audit}"

grants_file = "{grants}"

[daivi.athena]
region = "eu-west-1"
workgroup = "{workgroup}"
s3_output = "s3://daivi-athena-results/explorer/"
max_attempts = 3

{mappings}
"""


def _secrets(tmp_path, timeout: float = 30) -> str:
    mappings = "\n".join(f'[[daivi.role_mappings]]\nrole = "{role}"\nemails = ["{role}@daivi.example"]\n' for role in ROLE_ARNS)
    path = tmp_path / "secrets.toml"
    path.write_text(SECRETS.format(timeout=timeout, audit=tmp_path / "audit.jsonl", workgroup=WORKGROUP, mappings=mappings,
                                   grants=GRANTS_FILE))
    return str(path)


def glue_from_lakehouse(glue, lakehouse) -> None:
    """The lakehouse's tables and hive partitions, registered in (moto's) Glue as a crawler would."""
    for folder in sorted(lakehouse.glob("daivi_*/*")):
        parts = sorted(p.name for p in folder.iterdir() if p.is_dir() and "=" in p.name)
        key = parts[0].split("=", 1)[0] if parts else None
        create_glue_table(glue, folder.parent.name, folder.name, key, [p.split("=", 1)[1] for p in parts])


@pytest.fixture
def athena_app(aws, fake_athena, small_lakehouse, raw_duckdb, tmp_path, monkeypatch):
    """Env pointing the app at an Athena secrets file; Athena answered from the small lakehouse."""
    glue_from_lakehouse(aws.client("glue"), small_lakehouse)
    fake_athena.answer = DuckDBAnswers(small_lakehouse)
    monkeypatch.setenv("DAIVI_SECRETS_FILE", _secrets(tmp_path))
    # Other tiers leave DuckDB settings in the environment, which outrank the file: say what this test means.
    monkeypatch.setenv("DAIVI_ENGINE", "athena")
    monkeypatch.setenv("DAIVI_AUTH_MODE", "oidc")
    monkeypatch.setenv("DAIVI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("DAIVI_LAKEHOUSE_PATH", raising=False)
    forget_cached_data()
    yield fake_athena
    forget_cached_data()


def run_app(role: str = "admin", page: str | None = None, *, logged_in: bool = True, email: str | None = None,
            **params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    for key, value in params.items():
        at.query_params[key] = value
    email = email or f"{role}@daivi.example"
    at.user = {"is_logged_in": logged_in, "email": email, "name": f"{role.title()} User", "sub": f"sub-{role}"} if logged_in \
        else {"is_logged_in": False}
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}")
        at.run()
    return at


def shown(markdown: str) -> str:
    """Markdown as the user reads it: text from data and URLs arrives backslash-escaped, with an invisible word
    joiner (U+2060) that keeps e-mail addresses from turning into links (daivi_ui.text.literal)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def errors_of(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success"):
        parts += [shown(str(e.value)) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def test_home_runs_on_athena_with_the_users_role_and_shows_scanned_bytes_and_cost(athena_app, raw_duckdb, tmp_path):
    at = run_app("admin")
    assert not at.exception, at.exception
    assert not at.error, errors_of(at)
    text = texts(at)
    assert "Signed in as **Admin User** (admin@daivi.example) · role `admin` · oidc" in text
    assert "Engine: `athena`" in text
    assert SCANNED.search(text), text
    end = demo_end_date()
    expected = raw_duckdb.execute(
        "SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?", [end.replace(day=1), end]
    ).fetchall()[0][0]
    metric = next(m for m in at.metric if m.label.startswith("Month to date"))
    assert metric.value == money_short(expected)  # a tile shows the short figure; its help has the exact one
    latest = raw_duckdb.execute("SELECT MAX(snapshot_date) FROM daivi_inventory.resources").fetchall()[0][0]
    assert f"Latest partition **{latest:%Y-%m-%d}**" in text  # freshness from Glue's newest partition
    sent = athena_app.started
    assert len(sent) == 7 and all(":" not in s["query"].split("FROM", 1)[1].split("'")[0] for s in sent)
    # Each result under the admin's role session id (aws:userid), the prefix IAM confines that session to.
    assert all(re.match(r"s3://daivi-athena-results/explorer/AROA\w+:admin@daivi\.example-[0-9a-f]{12}/",
                        s["config"]["OutputLocation"]) for s in sent)
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert {r["query_id"] for r in audit} == {s["id"] for s in sent}
    assert all(r["engine"] == "athena" and r["email"] == "admin@daivi.example" for r in audit)


@pytest.mark.parametrize("page", PAGES)
def test_every_view_runs_on_athena(athena_app, page):
    at = run_app("admin", page, **PAGE_PARAMS.get(page, {}))
    assert not at.exception, at.exception
    assert not at.error, errors_of(at)
    assert athena_app.started, "the view sent no query to Athena"
    assert SCANNED.search(texts(at)), f"{page} shows no scanned bytes / cost"


def test_signed_out_user_gets_a_sign_in_button_and_no_data(athena_app):
    at = run_app(logged_in=False)
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your company account" in errors_of(at)[0]
    assert athena_app.started == []


def test_a_user_without_a_role_is_told_so(athena_app):
    at = run_app(email="stranger@elsewhere.example")
    assert "stranger@elsewhere.example has no DAIVI role" in errors_of(at)[0]
    assert athena_app.started == []


def test_demo_personas_are_refused_on_athena(athena_app):
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = "admin"
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.selectbox  # no persona picker
    assert athena_app.started == []


def test_lake_formation_denial_names_the_table(athena_app):
    athena_app.fail("month_to_date", "Insufficient permissions to execute the query. "
                                     "Insufficient Lake Formation permission(s) on daivi_billing.cost_daily")
    at = run_app("finance-analyst")
    errors = errors_of(at)
    assert errors == ["**Access denied.** Lake Formation denies your role access to daivi_billing.cost_daily. "
                      "Ask the data platform team for access."]
    assert "Line items in" in texts(at)  # the other cards still work


def test_failed_query_shows_athenas_reason(athena_app):
    athena_app.fail("line_items", "GENERIC_INTERNAL_ERROR: Encountered too many errors talking to a worker node")
    at = run_app("admin")
    assert errors_of(at) == [
        "**Query failed.** Athena: GENERIC_INTERNAL_ERROR: Encountered too many errors talking to a worker node"]


def test_missing_database_is_named_on_home(athena_app, aws):
    glue = aws.client("glue")
    for table in glue.get_tables(DatabaseName="daivi_splunk")["TableList"]:
        glue.delete_table(DatabaseName="daivi_splunk", Name=table["Name"])
    glue.delete_database(Name="daivi_splunk")
    at = run_app("admin")
    assert "Database `daivi_splunk` does not exist in the Glue Data Catalog." in [w.value for w in at.warning]
    assert not at.error


def test_query_over_the_time_limit_is_cancelled_with_a_message(athena_app, tmp_path, monkeypatch):
    monkeypatch.setenv("DAIVI_QUERY_TIMEOUT_S", "0.5")
    athena_app.hold("resource_types")
    at = run_app("admin")
    errors = errors_of(at)
    assert len(errors) == 1 and errors[0].startswith("**Query timed out.** The query ran longer than 0.5 s and was cancelled in Athena")
    assert "Events in the last 24 h" in texts(at)


def test_throttling_is_retried_then_explained(athena_app, monkeypatch, no_backoff_sleep):
    original = AthenaBackend.start_query_execution
    calls = []

    def throttled(backend, query, *args, **kwargs):
        if "COUNT_IF" in query:  # the Splunk card's query
            calls.append(query)
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return original(backend, query, *args, **kwargs)

    monkeypatch.setattr(AthenaBackend, "start_query_execution", throttled)
    at = run_app("admin")
    errors = errors_of(at)
    assert len(errors) == 1 and errors[0].startswith("**Too many requests.** AWS is throttling requests (ThrottlingException)")
    assert len(calls) > 1  # retried before giving up
    assert "Resources tracked" in texts(at)


def test_queries_run_under_the_users_own_role_and_lake_formation_filters_their_rows(athena_app, raw_duckdb):
    at = run_app("team-lead-payments")
    assert not at.exception and not at.error
    assert {s["role_arn"] for s in athena_app.started} == {ROLE_ARNS["team-lead-payments"]}
    end = demo_end_date()
    ids = ", ".join(repr(a) for a in PAYMENTS_ACCOUNT_IDS)
    expected, total = raw_duckdb.execute(
        f"SELECT SUM(unblended_cost) FILTER (WHERE account_id IN ({ids})), SUM(unblended_cost) FROM daivi_billing.cost_daily "
        "WHERE usage_date BETWEEN ? AND ?", [end.replace(day=1), end]).fetchall()[0]
    metric = next(m for m in at.metric if m.label.startswith("Month to date"))
    assert metric.value == money_short(expected) and expected < total


@pytest.mark.parametrize(("role", "sql", "message"), [
    ("ops-engineer", "SELECT owner_email FROM daivi_billing.accounts",
     "Your role may not read column owner_email of daivi_billing.accounts."),
    ("finance-analyst", "SELECT COUNT(*) AS n FROM daivi_splunk.events WHERE event_date = DATE '2026-01-01'",
     "Lake Formation denies your role access to daivi_splunk.events."),
])
def test_what_lake_formation_refuses_is_named(athena_app, role, sql, message):
    from daivi_data.engines.athena import AthenaEngine
    from daivi_data.errors import AccessDenied
    from daivi_data.queries import make_query
    from daivi_data.settings import load_settings
    from tests.aws.conftest import user

    engine = AthenaEngine(load_settings())
    with pytest.raises(AccessDenied) as caught:
        engine.run(make_query("test.refused", sql), user(role))
    assert message in str(caught.value)
    assert athena_app.started[-1]["role_arn"] == ROLE_ARNS[role]  # Athena (as the user's role) refused it


def test_web_identity_stops_the_app_with_a_settings_error(athena_app, monkeypatch):
    # Any user could read their own ID token from the auth cookie and assume any role with it: refused outright.
    monkeypatch.setenv("DAIVI_AUTH_WEB_IDENTITY", "true")
    at = run_app("admin")
    assert any("web_identity` is no longer supported" in e for e in errors_of(at)), errors_of(at)
    assert athena_app.started == []


def test_a_sign_in_role_without_an_arn_in_the_grants_file_stops_the_app_at_start(athena_app, monkeypatch):
    # Role ARNs have one source (the grants file): a role the sign-in can hand out must be there, with its ARN.
    monkeypatch.setenv("DAIVI_DEFAULT_ROLE", "auditor")
    at = run_app("admin")
    assert any("Role `auditor` (daivi.default_role) is not in the grants file" in e for e in errors_of(at)), errors_of(at)
    assert athena_app.started == []
