"""Governance as code: the demo grants file planned and applied to Lake Formation (moto grants, Stubber filters)."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import botocore.exceptions
import pytest

from daivi_data.governance import load_policy
from daivi_data.lakeformation import LakeFormationState, apply_plan, desired_state, make_plan, plan_lines
from daivi_data.settings import PROJECT_ROOT, load_settings
from tests.aws.fake_lakeformation import FakeLakeFormation

pytestmark = pytest.mark.aws

FINANCE = "arn:aws:iam::100000000001:role/daivi-finance-analyst"
TEAMLEAD = "arn:aws:iam::100000000001:role/daivi-team-lead-payments"
PAYMENTS = "('411111111101', '411111111102', '411111111103', '411111111104', '411111111105')"
CATALOG_ID = "123456789012"


@pytest.fixture
def settings():
    return load_settings(secrets={}, environ={})


@pytest.fixture
def policy(settings):
    return load_policy(settings.grants_file)


def test_offline_plan_of_the_demo_grants_file(policy, settings):
    lines = plan_lines(make_plan(policy, settings, None))
    assert lines[-1] == "54 change(s)"
    assert (f"+ create data cells filter daivi-team-lead-payments-resources on daivi_inventory.resources: "
            f"rows where account_id IN {PAYMENTS}; without columns configuration") in lines
    assert (f"+ create data cells filter daivi-team-lead-payments-events on daivi_splunk.events: "
            f"rows where account_id IN {PAYMENTS} AND index_name <> 'security'") in lines
    assert f"+ grant SELECT on daivi_inventory.resources except columns configuration to {FINANCE}" in lines
    assert "+ grant SELECT on daivi_billing.accounts except columns owner_email to arn:aws:iam::100000000001:role/daivi-ops-engineer" in lines
    assert f"+ grant SELECT on data cells filter daivi-team-lead-payments-cost_daily on daivi_billing.cost_daily to {TEAMLEAD}" in lines
    # Nothing the file does not declare: finance gets no Splunk, the team lead no unfiltered table.
    assert not any("daivi_splunk" in line and FINANCE in line for line in lines)
    assert not any(line.startswith("+ grant SELECT on daivi_") and line.endswith(TEAMLEAD) for line in lines)


def test_governance_module_runs_the_same_command():
    env = {**os.environ, "DAIVI_SECRETS_FILE": "/nonexistent/secrets.toml"}
    done = subprocess.run([sys.executable, "-m", "daivi_data.governance", "plan", "--offline"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "54 change(s)"


def test_configured_database_names_are_used(policy):
    settings = load_settings(secrets={"daivi": {"databases": {"billing": "prod_billing"}}}, environ={})
    atoms, filters, _ = desired_state(policy, settings)
    assert filters["daivi-team-lead-payments-cost_daily"].database == "prod_billing"
    assert not any(a.target.database == "daivi_billing" for a in atoms)


def _filter_item(name, database, table, row_filter, excluded=()):
    return {"TableCatalogId": CATALOG_ID, "DatabaseName": database, "TableName": table, "Name": name,
            "RowFilter": {"FilterExpression": row_filter}, "ColumnWildcard": {"ExcludedColumnNames": list(excluded)}}


@pytest.fixture
def lake_formation():
    """A Lake Formation client answered by FakeLakeFormation: Lake Formation's own listing shapes, paged."""
    client = boto3.client("lakeformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, FakeLakeFormation(client, CATALOG_ID)


def test_plan_apply_plan_again_changes_nothing_against_lake_formations_listing_shapes(lake_formation, policy, settings):
    client, lf = lake_formation
    foreign = _filter_item("finance-team-filter", "daivi_billing", "cost_daily", "1 = 1")
    stale = _filter_item("daivi-old-role-cost_daily", "daivi_billing", "cost_daily", "account_id = '1'")
    lf.filters.update({f["Name"]: f for f in (foreign, stale)})

    plan = make_plan(policy, settings, LakeFormationState(client, CATALOG_ID))
    assert plan_lines(plan)[-1] == "55 change(s)"  # the file's 54, and the stale filter goes
    assert [f.name for f in plan.delete_filters] == ["daivi-old-role-cost_daily"]  # the foreign filter is left alone
    apply_plan(plan, LakeFormationState(client, CATALOG_ID))

    # Lake Formation now lists the admin's whole-database SELECT in its own shape, not the granted one.
    admin = "arn:aws:iam::100000000001:role/daivi-admin"
    listed = client.list_permissions(CatalogId=CATALOG_ID, Resource={"Table": {"DatabaseName": "daivi_cur", "TableWildcard": {}}})
    shapes = [(p["Resource"], p["Permissions"]) for p in listed["PrincipalResourcePermissions"]
              if p["Principal"]["DataLakePrincipalIdentifier"] == admin]
    assert ({"TableWithColumns": {"CatalogId": CATALOG_ID, "DatabaseName": "daivi_cur", "Name": "ALL_TABLES",
                                  "ColumnWildcard": {}}}, ["SELECT"]) in shapes
    assert ({"Table": {"CatalogId": CATALOG_ID, "DatabaseName": "daivi_cur", "Name": "ALL_TABLES", "TableWildcard": {}}},
            ["DESCRIBE"]) in shapes

    calls_before = len(lf.calls)
    again = make_plan(policy, settings, LakeFormationState(client, CATALOG_ID))
    assert plan_lines(again) == ["Lake Formation already matches the grants file: nothing to do."]
    listings = [params["Resource"] for op, params in lf.calls[calls_before:] if op == "ListPermissions"]
    assert {"Database": {"CatalogId": CATALOG_ID, "Name": "daivi_splunk"}} in listings  # per database ...
    assert {"Table": {"CatalogId": CATALOG_ID, "DatabaseName": "daivi_billing", "Name": "accounts"}} in listings  # ... and table
    assert any(op == "ListPermissions" and "NextToken" in params for op, params in lf.calls)  # pages followed


def test_plan_revokes_what_the_file_dropped_and_updates_changed_filters(lake_formation, policy, settings):
    client, lf = lake_formation
    atoms, wanted, _ = desired_state(policy, settings)
    for atom in atoms:  # Lake Formation already holds the file's grants ...
        lf.hold(atom.principal, atom.resource, atom.permission)
    # ... plus one the file no longer declares, and one on a database the command does not manage.
    lf.hold(FINANCE, {"Table": {"DatabaseName": "daivi_splunk", "TableWildcard": {}}}, "SELECT")
    lf.hold(FINANCE, {"Table": {"DatabaseName": "finance_sandbox", "TableWildcard": {}}}, "SELECT")
    current = [_filter_item(f.name, f.database, f.table, f.row_filter, f.excluded_columns) for f in wanted.values()]
    current[0]["RowFilter"] = {"FilterExpression": "account_id = '411111111101'"}  # edited by hand in the console
    lf.filters.update({f["Name"]: f for f in current})
    plan = make_plan(policy, settings, LakeFormationState(client, CATALOG_ID))
    edited = wanted[current[0]["Name"]]
    assert plan_lines(plan) == [
        f"~ update data cells filter {edited.name} on {edited.database}.{edited.table}: rows where {edited.row_filter}"
        + (f"; without columns {', '.join(edited.excluded_columns)}" if edited.excluded_columns else ""),
        f"- revoke SELECT on daivi_splunk.* from {FINANCE}",
        "2 change(s)",
    ]
    apply_plan(plan, LakeFormationState(client, CATALOG_ID))  # the fake refuses a revoke of what it does not hold
    assert make_plan(policy, settings, LakeFormationState(client, CATALOG_ID)).changes == 0


def test_apply_prints_the_plan_before_it_changes_anything(lake_formation, monkeypatch, capsys):
    from daivi_data import lakeformation

    client, lf = lake_formation

    def refuse(params):
        raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not a data lake admin"}},
                                              "GrantPermissions")

    monkeypatch.setattr(lf, "_GrantPermissions", refuse)
    monkeypatch.setattr(lakeformation, "connect", lambda *a, **k: LakeFormationState(client, CATALOG_ID))
    monkeypatch.setenv("DAIVI_SECRETS_FILE", "/nonexistent/secrets.toml")
    assert lakeformation.main(["apply"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "54 change(s)"  # what it was about to do, shown before the failure
    assert "applied." not in captured.out and "not a data lake admin" in captured.err


def test_the_command_plans_against_the_account_it_runs_in(aws, monkeypatch, capsys):
    from daivi_data.lakeformation import main

    monkeypatch.setenv("DAIVI_SECRETS_FILE", "/nonexistent/secrets.toml")
    monkeypatch.setenv("DAIVI_ATHENA_REGION", "eu-west-1")
    assert main(["plan"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "54 change(s)"


def test_the_command_reports_aws_failures_in_one_line(monkeypatch, capsys):
    from daivi_data.lakeformation import main

    monkeypatch.setenv("DAIVI_SECRETS_FILE", "/nonexistent/secrets.toml")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    assert main(["plan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
