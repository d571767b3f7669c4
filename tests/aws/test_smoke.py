"""`python -m daivi_data.smoke` against moto (Athena answered as Lake Formation would) and Lake Formation's listing shapes."""

from __future__ import annotations

import boto3
import pytest

from daivi_data.engines.athena import AthenaEngine
from daivi_data.governance import load_policy
from daivi_data.lakeformation import LakeFormationState, apply_plan, make_plan
from daivi_data.smoke import Smoke, main, report_lines
from tests.aws.conftest import DuckDBAnswers, create_glue_table
from tests.aws.fake_lakeformation import FakeLakeFormation

pytestmark = pytest.mark.aws

CATALOG_ID = "123456789012"


@pytest.fixture
def account(aws, fake_athena, small_lakehouse):
    """The small demo lakehouse in Glue (its real partitions), Athena answered per role, Lake Formation applied."""
    glue = aws.client("glue")
    for database in ("daivi_billing", "daivi_cur", "daivi_inventory", "daivi_splunk"):
        for folder in sorted(p for p in (small_lakehouse / database).iterdir() if p.is_dir()):
            parts = sorted(p.name for p in folder.iterdir() if p.is_dir() and "=" in p.name)
            key = parts[0].split("=", 1)[0] if parts else None
            create_glue_table(glue, database, folder.name, key, [p.split("=", 1)[1] for p in parts])
    fake_athena.answer = DuckDBAnswers(small_lakehouse)
    client = boto3.client("lakeformation", region_name="eu-west-1")
    lf = FakeLakeFormation(client, CATALOG_ID)
    return fake_athena, client, lf


def _applied(settings, client) -> None:
    apply_plan(make_plan(load_policy(settings.grants_file), settings, LakeFormationState(client, CATALOG_ID)),
               LakeFormationState(client, CATALOG_ID))


def test_every_role_reads_what_its_grants_allow_and_nothing_else(account, athena_settings):
    fake_athena, client, _ = account
    _applied(athena_settings, client)
    checks = Smoke(athena_settings, load_policy(athena_settings.grants_file), AthenaEngine(athena_settings),
                   lambda: LakeFormationState(client, CATALOG_ID)).run()
    lines = report_lines(checks)
    print("\n".join(lines))  # the report, as the platform team reads it (pytest -s)
    assert lines[-1] == "PASS", "\n".join(lines)
    by = {(c.check, c.role, c.target): c for c in checks}
    assert by[("query", "finance-analyst", "daivi_billing.cost_daily")].detail.startswith("1 row(s)")
    assert by[("denied", "finance-analyst", "daivi_splunk.events")].detail == "refused by Lake Formation"
    assert ("column denied", "ops-engineer", "daivi_billing.accounts.owner_email") in by
    assert by[("rows filtered", "team-lead-payments", "daivi_cur.cur")].detail.startswith("0 row(s) outside the filter")
    assert [c.detail for c in checks if c.check == "governance plan"] == ["nothing to do", "nothing to do"]
    assert sum(c.bytes_scanned for c in checks) > 0 and "$" in lines[-2]
    # Every query was scoped to one partition and ran as the role it checks.
    assert all(" WHERE " in s["query"] or "accounts" in s["query"] or "budgets" in s["query"] for s in fake_athena.started)


def test_a_lake_formation_that_lets_too_much_through_fails_the_run(account, athena_settings, monkeypatch):
    _, client, _ = account
    _applied(athena_settings, client)
    monkeypatch.setattr(DuckDBAnswers, "role_for", lambda self, arn: "admin")  # every role read as admin: no grants held
    checks = Smoke(athena_settings, load_policy(athena_settings.grants_file), AthenaEngine(athena_settings), None).run(
        ["finance-analyst", "team-lead-payments"])
    failed = {(c.check, c.target) for c in checks if not c.ok}
    assert ("denied", "daivi_splunk.events") in failed
    assert ("column denied", "daivi_inventory.resources.configuration") in failed
    assert ("rows filtered", "daivi_billing.cost_daily") in failed
    assert report_lines(checks)[-1] == "FAIL"


def test_governance_not_applied_yet_fails_with_what_to_do(account, athena_settings):
    _, client, _ = account
    checks = Smoke(athena_settings, load_policy(athena_settings.grants_file), AthenaEngine(athena_settings),
                   lambda: LakeFormationState(client, CATALOG_ID)).run(["admin"])
    plans = [c for c in checks if c.check == "governance plan"]
    assert [c.ok for c in plans] == [False, False]
    assert "run `python -m daivi_data.governance apply`" in plans[0].detail


def test_the_command_refuses_the_embedded_engine(monkeypatch, capsys):
    monkeypatch.setenv("DAIVI_SECRETS_FILE", "/nonexistent/secrets.toml")
    monkeypatch.setenv("DAIVI_ENGINE", "duckdb")
    assert main([]) == 2
    assert "proves an AWS account" in capsys.readouterr().err
