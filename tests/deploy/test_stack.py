"""The stack says what config/grants.toml, the catalog contract and daivi_data.aws.policies say."""

from __future__ import annotations

import tomllib

from daivi_data import catalog
from daivi_data.aws.policies import results_access_policy, results_bucket_policy, role_trust_policy
from daivi_data.governance import load_policy
from daivi_data.settings import load_settings
from deploy import glue, stack
from tests.deploy.conftest import ACCOUNT, VALUES, materialize, of_type

GRANTS = load_policy(stack.GRANTS_FILE)
RESULTS_BUCKET = VALUES["ResultsBucket"]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def _user_roles(resources: dict) -> dict:
    return {n: r for n, r in of_type(resources, "AWS::IAM::Role").items() if n not in ("AppTaskRole", "TaskExecutionRole")}


def test_one_iam_role_per_grants_role_named_as_its_role_arn(resources):
    names = {r["Properties"]["RoleName"] for r in _user_roles(resources).values()}
    assert names == {g.role_arn.rsplit("/", 1)[1] for g in GRANTS.roles.values()}
    assert names == {"daivi-admin", "daivi-finance-analyst", "daivi-ops-engineer", "daivi-team-lead-payments"}


def test_each_grants_role_trusts_only_the_app_task_role_with_a_source_identity(resources):
    for role in _user_roles(resources).values():
        trust = materialize(role["Properties"]["AssumeRolePolicyDocument"])
        assert trust == role_trust_policy(VALUES["AppTaskRole.Arn"])
        [statement] = trust["Statement"]
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:role/daivi-explorer-app"}
        assert "sts:SetSourceIdentity" in statement["Action"]


def test_the_app_may_assume_exactly_the_grants_roles(resources):
    app = resources["AppTaskRole"]["Properties"]
    [document] = [p["PolicyDocument"] for p in app["Policies"]]
    [assume] = [s for s in materialize(document)["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert sorted(assume["Resource"]) == sorted(f"arn:aws:iam::{ACCOUNT}:role/{stack.role_name(g.role_arn)}" for g in GRANTS.roles.values())
    assert "sts:SetSourceIdentity" in assume["Action"]
    trusted = materialize(app["AssumeRolePolicyDocument"])["Statement"][0]["Principal"]
    assert trusted == {"Service": "ecs-tasks.amazonaws.com"}
    assert materialize(resources["TaskDefinition"]["Properties"]["TaskRoleArn"]) == VALUES["AppTaskRole.Arn"]


def test_every_grants_role_gets_its_results_only_under_its_own_userid_prefix(resources):
    access = materialize(resources["GrantsRoleAccess"]["Properties"]["PolicyDocument"])
    expected = results_access_policy(RESULTS_BUCKET, stack.RESULTS_PREFIX)["Statement"]
    s3_statements = [s for s in access["Statement"] if any(a.startswith("s3:") for a in _actions(s))]
    assert s3_statements == expected  # and no other statement reaches S3
    objects = next(s for s in expected if "s3:GetObject" in s["Action"])
    assert objects["Resource"] == f"arn:aws:s3:::{RESULTS_BUCKET}/explorer/${{aws:userid}}/*"
    for role in _user_roles(resources).values():
        assert role["Properties"]["ManagedPolicyArns"] == [{"Ref": "GrantsRoleAccess"}]
        assert "Policies" not in role["Properties"]


def test_the_results_bucket_policy_names_every_grants_role(resources):
    policy = materialize(resources["ResultsBucketPolicy"]["Properties"]["PolicyDocument"])
    arns = [f"arn:aws:iam::{ACCOUNT}:role/{stack.role_name(g.role_arn)}" for g in GRANTS.roles.values()]
    assert policy == results_bucket_policy(RESULTS_BUCKET, stack.RESULTS_PREFIX, arns)


def test_the_results_bucket_is_encrypted_private_and_expires_results(resources):
    bucket = resources["ResultsBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "explorer/" and rule["ExpirationInDays"] == {"Ref": "ResultsRetentionDays"}


def test_the_workgroup_cuts_off_big_scans_and_leaves_each_user_their_result_prefix(resources):
    config = resources["WorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "BytesScannedCutoffPerQuery"}
    # Enforcing would override the client's per-user output location (see the template's comment).
    assert config["EnforceWorkGroupConfiguration"] is False
    assert "OutputLocation" not in config["ResultConfiguration"]


def test_glue_databases_and_tables_are_the_catalog_contract(resources):
    databases = {r["Properties"]["DatabaseInput"]["Name"] for r in of_type(resources, "AWS::Glue::Database").values()}
    assert databases == {lh.default_database for lh in catalog.LAKEHOUSES.values()}
    tables = {}
    for r in of_type(resources, "AWS::Glue::Table").values():
        table_input = r["Properties"]["TableInput"]
        if "Fn::If" in table_input:
            _, table_input, lakehouse_layout = table_input["Fn::If"]
            assert lakehouse_layout["StorageDescriptor"]["Columns"] == table_input["StorageDescriptor"]["Columns"]
            table_input = lakehouse_layout
        database = materialize(r["Properties"]["DatabaseName"], {"Database" + k.capitalize(): lh.default_database
                                                                  for k, lh in catalog.LAKEHOUSES.items()})
        tables[(database, table_input["Name"])] = table_input
    expected = {(lh.default_database, t.name): t for lh in catalog.LAKEHOUSES.values() for t in lh.tables}
    assert set(tables) == set(expected)
    for key, table in expected.items():
        got = tables[key]
        columns = [(c["Name"], c["Type"]) for c in got["StorageDescriptor"]["Columns"] + got["PartitionKeys"]]
        data_then_partitions = [c for c in table.columns if c.name not in table.partition_keys] + [table.column(k) for k in table.partition_keys]
        assert columns == [(c.name, glue.GLUE_TYPES[c.type]) for c in data_then_partitions]
        assert [k["Name"] for k in got["PartitionKeys"]] == list(table.partition_keys)


def test_partitions_are_projected_in_the_lakehouse_layout(resources):
    cost = materialize(resources["TableBillingCostDaily"]["Properties"]["TableInput"])
    assert cost["StorageDescriptor"]["Location"] == "s3://daivi-lakehouse/lakehouse/daivi_billing/cost_daily/"
    assert cost["Parameters"] | {
        "projection.enabled": "true", "projection.billing_period.type": "date", "projection.billing_period.format": "yyyy-MM",
        "projection.billing_period.interval.unit": "MONTHS",
        "storage.location.template": "s3://daivi-lakehouse/lakehouse/daivi_billing/cost_daily/billing_period=${billing_period}/",
    } == cost["Parameters"]
    events = materialize(resources["TableSplunkEvents"]["Properties"]["TableInput"])["Parameters"]
    assert events["projection.event_date.format"] == "yyyy-MM-dd" and events["projection.event_date.interval.unit"] == "DAYS"
    accounts = materialize(resources["TableBillingAccounts"]["Properties"]["TableInput"])
    assert "projection.enabled" not in accounts["Parameters"] and accounts["PartitionKeys"] == []


def test_the_cur_table_can_read_a_cur2_data_export_in_place(resources):
    export, _ = resources["TableCurCur"]["Properties"]["TableInput"]["Fn::If"][1:]
    values = VALUES | {"CurExportBucketName": "billing-exports", "CurExportDataPrefix": "cur2/daivi-cur2/data"}
    params = materialize(export, values)["Parameters"]
    assert params["storage.location.template"] == "s3://billing-exports/cur2/daivi-cur2/data/BILLING_PERIOD=${billing_period}/"
    assert resources["CurExportLocation"]["Condition"] == "ReadCurExport"


def test_databases_are_governed_by_lake_formation_alone(resources):
    for db in of_type(resources, "AWS::Glue::Database").values():
        assert db["Properties"]["DatabaseInput"]["CreateTableDefaultPermissions"] == []
    location = materialize(resources["LakehouseLocation"]["Properties"])
    assert location == {"ResourceArn": "arn:aws:s3:::daivi-lakehouse/lakehouse", "UseServiceLinkedRole": True}


def test_the_load_balancer_signs_people_in_and_keeps_each_session_on_its_task(resources):
    actions = resources["HttpsListener"]["Properties"]["DefaultActions"]
    assert [(a["Type"], a["Order"]) for a in actions] == [("authenticate-oidc", 1), ("forward", 2)]
    assert actions[0]["AuthenticateOidcConfig"]["OnUnauthenticatedRequest"] == "authenticate"
    target = resources["TargetGroup"]["Properties"]
    attributes = {a["Key"]: a["Value"] for a in target["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true" and attributes["stickiness.type"] == "lb_cookie"
    assert target["HealthCheckPath"] == "/_stcore/health" and target["Port"] == stack.APP_PORT
    alb = {a["Key"]: a["Value"] for a in resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
    assert int(alb["idle_timeout.timeout_seconds"]) >= 300  # Streamlit's websocket pings every 30 s


def test_tasks_are_reachable_only_from_the_load_balancer(resources):
    app_sg = resources["AppSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in app_sg
    ingress = [r["Properties"] for r in of_type(resources, "AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}]
    assert ingress == [{
        "GroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}, "IpProtocol": "tcp", "FromPort": stack.APP_PORT, "ToPort": stack.APP_PORT,
        "SourceSecurityGroupId": {"Fn::GetAtt": ["LoadBalancerSecurityGroup", "GroupId"]}, "Description": "from the load balancer only",
    }]
    network = resources["Service"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["SecurityGroups"] == [{"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}]


def test_the_task_environment_and_secret_load_as_valid_athena_settings(resources):
    [container] = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    environ = {e["Name"]: materialize(e["Value"]) for e in container["Environment"]}
    secrets_toml = resources["AppSecrets"]["Properties"]["SecretString"]
    settings = load_settings(secrets=tomllib.loads(secrets_toml), environ=environ)
    assert settings.engine == "athena" and settings.auth_mode == "proxy"
    assert settings.auth.alb_arn == VALUES["LoadBalancer"]
    assert settings.athena.s3_output == f"s3://{RESULTS_BUCKET}/explorer/"
    assert settings.audit_stdout
    assert [m.role for m in settings.role_mappings] == list(GRANTS.roles)
    assert [s["Name"] for s in container["Secrets"]] == ["DAIVI_SECRETS_TOML"]
    assert container["PortMappings"] == [{"ContainerPort": stack.APP_PORT, "Protocol": "tcp"}]


def test_the_service_scales_out_on_cpu_between_desired_and_max_count(resources):
    target = resources["ScalableTarget"]["Properties"]
    assert materialize(target["ResourceId"], VALUES | {"Cluster": "daivi", "Service.Name": "daivi-explorer"}) == "service/daivi/daivi-explorer"
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "DesiredCount"}, {"Ref": "MaxCount"})
    tracking = resources["CpuScaling"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert resources["CpuScaling"]["Properties"]["ScalingTargetId"] == {"Ref": "ScalableTarget"}
