"""Governance as code: the demo grants file planned and applied to Lake Formation (moto grants, Stubber filters)."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber

from daivi_data.governance import load_policy
from daivi_data.lakeformation import LakeFormationState, apply_plan, desired_state, make_plan, plan_lines
from daivi_data.settings import PROJECT_ROOT, load_settings

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
    assert not any("daivi_billing" in a.resource_json for a in atoms)


def _stubbed_filters_client():
    client = boto3.client("lakeformation", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def _filter_item(name, database, table, row_filter, excluded=()):
    return {"TableCatalogId": CATALOG_ID, "DatabaseName": database, "TableName": table, "Name": name,
            "RowFilter": {"FilterExpression": row_filter}, "ColumnWildcard": {"ExcludedColumnNames": list(excluded)}}


def test_apply_creates_grants_and_filters_then_a_second_run_changes_nothing(aws, policy, settings):
    lf = aws.client("lakeformation")
    filters, stub = _stubbed_filters_client()
    foreign = _filter_item("finance-team-filter", "daivi_billing", "cost_daily", "1 = 1")
    stale = _filter_item("daivi-old-role-cost_daily", "daivi_billing", "cost_daily", "account_id = '1'")
    stub.add_response("list_data_cells_filter", {"DataCellsFilters": [foreign, stale]}, {})
    _, wanted, _ = desired_state(policy, settings)
    for name in sorted(wanted):
        expected = {"TableData": wanted[name].table_data(CATALOG_ID)}
        stub.add_response("create_data_cells_filter", {}, expected)
    stub.add_response("delete_data_cells_filter", {}, {"TableCatalogId": CATALOG_ID, "DatabaseName": "daivi_billing",
                                                       "TableName": "cost_daily", "Name": "daivi-old-role-cost_daily"})
    state = LakeFormationState(lf, CATALOG_ID, filters_client=filters)
    plan = make_plan(policy, settings, state)
    assert [f.name for f in plan.delete_filters] == ["daivi-old-role-cost_daily"]  # the foreign filter is left alone
    apply_plan(plan, state)
    stub.assert_no_pending_responses()

    granted = lf.list_permissions(CatalogId=CATALOG_ID)["PrincipalResourcePermissions"]
    resources = [p["Resource"] for p in granted if p["Principal"]["DataLakePrincipalIdentifier"] == FINANCE]
    assert {"TableWithColumns": {"CatalogId": CATALOG_ID, "DatabaseName": "daivi_inventory", "Name": "resources",
                                 "ColumnWildcard": {"ExcludedColumnNames": ["configuration"]}}} in resources

    current = [_filter_item(f.name, f.database, f.table, f.row_filter, f.excluded_columns) for f in wanted.values()]
    stub.add_response("list_data_cells_filter", {"DataCellsFilters": current + [foreign]}, {})
    again = make_plan(policy, settings, state)
    assert again.changes == 0
    assert plan_lines(again) == ["Lake Formation already matches the grants file: nothing to do."]


def test_plan_revokes_what_the_file_dropped_and_updates_changed_filters(aws, policy, settings):
    lf = aws.client("lakeformation")
    atoms, wanted, _ = desired_state(policy, settings)
    for atom in atoms:  # Lake Formation already holds the file's grants ...
        lf.grant_permissions(CatalogId=CATALOG_ID, Principal={"DataLakePrincipalIdentifier": atom.principal},
                             Resource=atom.resource, Permissions=[atom.permission])
    # ... plus one the file no longer declares, and one on a database the command does not manage.
    lf.grant_permissions(CatalogId=CATALOG_ID, Principal={"DataLakePrincipalIdentifier": FINANCE},
                         Resource={"Table": {"DatabaseName": "daivi_splunk", "TableWildcard": {}}}, Permissions=["SELECT"])
    lf.grant_permissions(CatalogId=CATALOG_ID, Principal={"DataLakePrincipalIdentifier": FINANCE},
                         Resource={"Table": {"DatabaseName": "finance_sandbox", "TableWildcard": {}}}, Permissions=["SELECT"])
    filters, stub = _stubbed_filters_client()
    current = [_filter_item(f.name, f.database, f.table, f.row_filter, f.excluded_columns) for f in wanted.values()]
    current[0]["RowFilter"] = {"FilterExpression": "account_id = '411111111101'"}  # edited by hand in the console
    stub.add_response("list_data_cells_filter", {"DataCellsFilters": current}, {})
    lines = plan_lines(make_plan(policy, settings, LakeFormationState(lf, CATALOG_ID, filters_client=filters)))
    assert lines == [
        f"~ update data cells filter {current[0]['Name']} on {current[0]['DatabaseName']}.{current[0]['TableName']}: "
        f"rows where {wanted[current[0]['Name']].row_filter}"
        + (f"; without columns {', '.join(wanted[current[0]['Name']].excluded_columns)}" if wanted[current[0]['Name']].excluded_columns else ""),
        f"- revoke SELECT on daivi_splunk.* from {FINANCE}",
        "2 change(s)",
    ]


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
