"""The CloudFormation stack of a governed DAIVI deployment, as data.

One template: the Athena results bucket and its per-user policy, the Athena
workgroup, one IAM role per role of `config/grants.toml` (trusting only the
app's task role, only with a SourceIdentity), the app's task role, the Glue
databases and tables of `daivi_data/catalog.py`, the Lake Formation data
location, and the app on ECS Fargate behind an ALB that signs people in with
OIDC. The IAM policy documents come from `daivi_data.aws.policies`, the Glue
tables from `deploy.glue`; this module only places them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from daivi_data import catalog
from daivi_data.aws.policies import results_access_policy, results_bucket_policy, role_trust_policy
from daivi_data.governance import Policy, load_policy
from daivi_data.settings import PROJECT_ROOT
from deploy import cfn, glue

GRANTS_FILE = PROJECT_ROOT / "config" / "grants.toml"
RESULTS_PREFIX = "explorer"  # each session's results: s3://<results bucket>/explorer/<aws:userid>/
APP_PORT = 8501
CONTAINER_NAME = "explorer"
LAKEHOUSE_ROOT = "s3://${LakehouseBucketName}/${LakehousePrefix}"
CUR_EXPORT_ROOT = "s3://${CurExportBucketName}/${CurExportDataPrefix}"
# Streamlit pings its websocket every 30 s; an idle timeout well above that keeps quiet sessions open.
ALB_IDLE_TIMEOUT_S = 600
# Page runs queue on CPU (bench/bench_load.py): add a task well before the CPU is saturated.
SCALE_OUT_CPU_PERCENT = 60
STICKINESS_S = 86400  # a browser session's websocket and state live in one task: keep it there for a day
ATHENA_ACTIONS = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                  "athena:StopQueryExecution", "athena:GetWorkGroup"]
GLUE_READ_ACTIONS = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                     "glue:GetPartition", "glue:GetPartitions"]


def role_name(role_arn: str) -> str:
    """The IAM role name of a grants role's ARN (arn:aws:iam::<account>:role/<name>)."""
    match = re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})", role_arn)
    if not match:
        raise ValueError(f"{role_arn!r} in {GRANTS_FILE.name} is not an IAM role ARN")
    return match.group(1)


def logical_id(*words: str) -> str:
    return "".join(part.capitalize() for word in words for part in re.split(r"[^A-Za-z0-9]+", word) if part)


def _role_arn(name: str) -> str:
    return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}"


def _glue_arns(databases: list[str]) -> list[str]:
    prefix = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    return [f"{prefix}:catalog"] + [f"{prefix}:database/{db}" for db in databases] + [f"{prefix}:table/{db}/*" for db in databases]


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _parameters() -> dict:
    def text(description: str, default: str | None = None, **more) -> dict:
        spec = {"Type": "String", "Description": description, **more}
        if default is not None:
            spec["Default"] = default
        return spec

    return {
        "NamePrefix": text("Prefix of every name this stack gives (bucket, workgroup, cluster, app role).", "daivi",
                           AllowedPattern="^[a-z][a-z0-9-]{1,11}$"),
        "ContainerImage": text("The app's image (Dockerfile of this repository), e.g. <account>.dkr.ecr.<region>.amazonaws.com/daivi-explorer:1.0."),
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "VPC of the load balancer and the app."},
        "LoadBalancerSubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>", "Description": "Subnets of the load balancer (two or more AZs)."},
        "AppSubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>",
                         "Description": "Subnets of the app's tasks: they reach ECR, STS, Athena, Glue, S3, Lake Formation and CloudWatch Logs (NAT or VPC endpoints)."},
        "AppAssignPublicIp": text("ENABLED only for app subnets without NAT or endpoints (public subnets).", "DISABLED",
                                  AllowedValues=["DISABLED", "ENABLED"]),
        "LoadBalancerScheme": text("internet-facing, or internal for a corporate network.", "internet-facing",
                                   AllowedValues=["internet-facing", "internal"]),
        "AllowedClientCidr": text("Who may reach the load balancer (everyone still signs in).", "0.0.0.0/0",
                                  AllowedPattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$"),
        "CertificateArn": text("ACM certificate of the app's host name (HTTPS listener)."),
        "OidcIssuer": text("OIDC issuer of your identity provider, e.g. https://idp.daivi.example."),
        "OidcAuthorizationEndpoint": text("OIDC authorization endpoint."),
        "OidcTokenEndpoint": text("OIDC token endpoint."),
        "OidcUserInfoEndpoint": text("OIDC user info endpoint (its claims reach the app in x-amzn-oidc-data)."),
        "OidcClientId": text("OIDC client id registered for the app."),
        "OidcClientSecret": text("OIDC client secret.", NoEcho=True),
        "OidcScope": text("Scopes asked of the identity provider; the groups claim must be among the user info.", "openid email profile"),
        "GroupsClaim": text("Claim that lists a user's groups; role mappings match these group names.", "groups"),
        "LakehouseBucketName": text("Bucket of the lakehouse data (lakehouse layout, see deploy/glue.py)."),
        "LakehousePrefix": text("Key prefix of the lakehouse in that bucket, without slashes.", "lakehouse",
                                AllowedPattern="^[A-Za-z0-9][A-Za-z0-9_./-]*[A-Za-z0-9]$"),
        "CurExportBucketName": text("Optional: bucket of a CUR 2.0 Data Export read in place; empty = CUR in the lakehouse layout.", ""),
        "CurExportDataPrefix": text("Optional: the export's data folder, <prefix>/<export name>/data.", ""),
        "BytesScannedCutoffPerQuery": {"Type": "Number", "Default": 10 * 1024**3, "MinValue": 10_000_000,
                                       "Description": "Athena cancels any query that scans more than this many bytes."},
        "ResultsRetentionDays": {"Type": "Number", "Default": 1, "MinValue": 1,
                                 "Description": "Days query results are kept (the app caches what it shows)."},
        "DesiredCount": {"Type": "Number", "Default": 2, "MinValue": 1, "Description": "Tasks of the app (the fewest it scales in to)."},
        "MaxCount": {"Type": "Number", "Default": 6, "MinValue": 1, "Description": "Most tasks it scales out to on CPU."},
        "TaskCpu": text("vCPU units of a task.", "1024", AllowedValues=["512", "1024", "2048", "4096"]),
        "TaskMemory": text("Memory (MiB) of a task; must suit TaskCpu.", "4096",
                           AllowedValues=["2048", "3072", "4096", "8192", "16384"]),
        "LogRetentionDays": {"Type": "Number", "Default": 90, "AllowedValues": [30, 90, 180, 365, 731, 1827, 3653],
                             "Description": "Days CloudWatch keeps the app's log and audit lines."},
    }


def _secrets_toml(policy: Policy) -> str:
    """The app's secrets.toml in Secrets Manager: who gets which grants role (IdP group = role name, to edit)."""
    lines = [
        "# DAIVI Lakehouse Explorer on this stack. Engine, sign-in and Athena come from DAIVI_* variables of the task.",
        "# Role ARNs come from config/grants.toml in the image. Edit the groups to your identity provider's;",
        "# first match wins.",
        "[daivi]",
    ]
    for name in policy.roles:
        quoted = json.dumps(name)  # a TOML basic string
        lines += ["", "[[daivi.role_mappings]]", f"role = {quoted}", f"groups = [{quoted}]"]
    return "\n".join(lines) + "\n"


def _results(policy: Policy) -> dict:
    role_arns = [_role_arn(role_name(r.role_arn)) for r in policy.roles.values()]
    return {
        "ResultsBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": "${NamePrefix}-athena-results-${AWS::AccountId}-${AWS::Region}",
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "expire-query-results", "Status": "Enabled", "Prefix": f"{RESULTS_PREFIX}/",
                    "ExpirationInDays": "${ResultsRetentionDays}",
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }]},
            },
        },
        "ResultsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": "${ResultsBucket}",
                "PolicyDocument": results_bucket_policy("${ResultsBucket}", RESULTS_PREFIX, role_arns, partition="${AWS::Partition}"),
            },
        },
        "WorkGroup": {
            "Type": "AWS::Athena::WorkGroup",
            "Properties": {
                "Name": "${NamePrefix}",
                "Description": "DAIVI Lakehouse Explorer: every query of every user.",
                "State": "ENABLED",
                "WorkGroupConfiguration": {
                    "EnforceWorkGroupConfiguration": False,
                    "BytesScannedCutoffPerQuery": "${BytesScannedCutoffPerQuery}",
                    "PublishCloudWatchMetricsEnabled": True,
                    "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                    "ResultConfiguration": {"EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}},
                },
            },
        },
    }


def _grants_roles(policy: Policy, databases: list[str]) -> dict:
    resources = {
        "GrantsRoleAccess": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": "${NamePrefix}-grants-role-access",
                "Description": "What every grants role may do besides reading data: Athena in the workgroup, the catalog, its own results.",
                "PolicyDocument": _policy(
                    {"Sid": "Workgroup", "Effect": "Allow", "Action": ATHENA_ACTIONS,
                     "Resource": "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${WorkGroup}"},
                    {"Sid": "Catalog", "Effect": "Allow", "Action": GLUE_READ_ACTIONS, "Resource": _glue_arns(databases)},
                    # What a role may read inside the tables is Lake Formation's to say (config/grants.toml, applied).
                    {"Sid": "LakeFormationData", "Effect": "Allow", "Action": "lakeformation:GetDataAccess", "Resource": "*"},
                    *results_access_policy("${ResultsBucket}", RESULTS_PREFIX, partition="${AWS::Partition}")["Statement"],
                ),
            },
        },
    }
    for name, grants in policy.roles.items():
        resources[logical_id("role", name)] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": role_name(grants.role_arn),
                "Description": f"DAIVI grants role {name}: {grants.description}"[:1000],
                "MaxSessionDuration": 3600,
                # ${AppTaskRole} (its name) also makes CloudFormation create the app's role first: IAM refuses
                # a trust policy whose principal does not exist yet.
                "AssumeRolePolicyDocument": role_trust_policy(_role_arn("${AppTaskRole}")),
                "ManagedPolicyArns": ["${GrantsRoleAccess}"],
            },
        }
    return resources


def _app_roles(policy: Policy, databases: list[str]) -> dict:
    ecs_trust = _policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"}}})
    user_roles = [_role_arn(role_name(r.role_arn)) for r in policy.roles.values()]
    return {
        "AppTaskRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "${NamePrefix}-explorer-app",
                "Description": "DAIVI Lakehouse Explorer's tasks: assume the signed-in user's grants role; read no data itself.",
                "AssumeRolePolicyDocument": ecs_trust,
                "Policies": [{"PolicyName": "assume-user-roles-and-catalog", "PolicyDocument": _policy(
                    # Names, not references: the user roles trust this role, so referring back would be a cycle.
                    {"Sid": "AssumeUserRoles", "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                     "Resource": user_roles},
                    {"Sid": "CatalogFreshness", "Effect": "Allow", "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                     "Resource": _glue_arns(databases)},
                )}],
            },
        },
        "TaskExecutionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": ecs_trust,
                "ManagedPolicyArns": ["arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
                "Policies": [{"PolicyName": "app-secrets", "PolicyDocument": _policy(
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "${AppSecrets}"})}],
            },
        },
        "AppSecrets": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "${NamePrefix}/explorer/secrets.toml",
                "Description": "secrets.toml of DAIVI Lakehouse Explorer (role mappings); the task gets it as DAIVI_SECRETS_TOML.",
                "SecretString": _secrets_toml(policy),
            },
        },
    }


def _catalog() -> dict:
    resources: dict = {}
    for lh in catalog.LAKEHOUSES.values():
        db_id = logical_id("database", lh.key)
        resources[db_id] = {
            "Type": "AWS::Glue::Database",
            "Properties": {
                "CatalogId": "${AWS::AccountId}",
                "DatabaseInput": {
                    "Name": lh.default_database,
                    "Description": f"{lh.title} lakehouse of DAIVI Lakehouse Explorer.",
                    # No IAMAllowedPrincipals grant on new tables: Lake Formation alone decides who reads them.
                    "CreateTableDefaultPermissions": [],
                },
            },
        }
        for table in lh.tables:
            table_input = glue.table_input(glue.lakehouse_table(LAKEHOUSE_ROOT, lh, table))
            if lh is catalog.CUR:
                export = glue.table_input(glue.cur_export_table(CUR_EXPORT_ROOT))
                table_input = {"Fn::If": ["ReadCurExport", export, table_input]}
            resources[logical_id("table", lh.key, table.name)] = {
                "Type": "AWS::Glue::Table",
                "Properties": {"CatalogId": "${AWS::AccountId}", "DatabaseName": f"${{{db_id}}}", "TableInput": table_input},
            }
    resources["LakehouseLocation"] = {
        "Type": "AWS::LakeFormation::Resource",
        "Properties": {"ResourceArn": "arn:${AWS::Partition}:s3:::${LakehouseBucketName}/${LakehousePrefix}", "UseServiceLinkedRole": True},
    }
    resources["CurExportLocation"] = {
        "Type": "AWS::LakeFormation::Resource",
        "Condition": "ReadCurExport",
        "Properties": {"ResourceArn": "arn:${AWS::Partition}:s3:::${CurExportBucketName}/${CurExportDataPrefix}", "UseServiceLinkedRole": True},
    }
    for lh in catalog.LAKEHOUSES.values():
        db_id = logical_id("database", lh.key)
        # The app's own role only looks tables up (Home's freshness line); Glue hides what Lake Formation does not describe.
        resources[logical_id("app", "describes", lh.key)] = {
            "Type": "AWS::LakeFormation::PrincipalPermissions",
            "DependsOn": [logical_id("table", lh.key, t.name) for t in lh.tables],
            "Properties": {
                "Principal": {"DataLakePrincipalIdentifier": "${AppTaskRole.Arn}"},
                "Resource": {"Table": {"CatalogId": "${AWS::AccountId}", "DatabaseName": f"${{{db_id}}}", "TableWildcard": {}}},
                "Permissions": ["DESCRIBE"],
                "PermissionsWithGrantOption": [],
            },
        }
    return resources


def _network() -> dict:
    return {
        "LoadBalancerSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "DAIVI explorer load balancer: HTTPS from clients",
                "VpcId": "${VpcId}",
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "${AllowedClientCidr}", "Description": "HTTPS"},
                    {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "${AllowedClientCidr}", "Description": "redirect to HTTPS"},
                ],
                # The ALB calls the identity provider's token and user info endpoints itself.
                "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0",
                                         "Description": "OIDC token and user info endpoints"}],
            },
        },
        "LoadBalancerToApp": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {"GroupId": "${LoadBalancerSecurityGroup.GroupId}", "IpProtocol": "tcp", "FromPort": APP_PORT, "ToPort": APP_PORT,
                           "DestinationSecurityGroupId": "${AppSecurityGroup.GroupId}", "Description": "to the app's tasks"},
        },
        "AppSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "DAIVI explorer tasks: reachable only from the load balancer",
                "VpcId": "${VpcId}",
                "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0",
                                         "Description": "AWS APIs and the ALB's public signing keys"}],
            },
        },
        "AppFromLoadBalancer": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": "${AppSecurityGroup.GroupId}", "IpProtocol": "tcp", "FromPort": APP_PORT, "ToPort": APP_PORT,
                           "SourceSecurityGroupId": "${LoadBalancerSecurityGroup.GroupId}", "Description": "from the load balancer only"},
        },
    }


def _load_balancer() -> dict:
    return {
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "${LoadBalancerScheme}",
                "Subnets": "${LoadBalancerSubnetIds}",
                "SecurityGroups": ["${LoadBalancerSecurityGroup.GroupId}"],
                "LoadBalancerAttributes": [
                    {"Key": "idle_timeout.timeout_seconds", "Value": str(ALB_IDLE_TIMEOUT_S)},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                ],
            },
        },
        "TargetGroup": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "TargetType": "ip",
                "Protocol": "HTTP",
                "Port": APP_PORT,
                "VpcId": "${VpcId}",
                "HealthCheckPath": "/_stcore/health",
                "Matcher": {"HttpCode": "200"},
                "TargetGroupAttributes": [
                    {"Key": "stickiness.enabled", "Value": "true"},
                    {"Key": "stickiness.type", "Value": "lb_cookie"},
                    {"Key": "stickiness.lb_cookie.duration_seconds", "Value": str(STICKINESS_S)},
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
                ],
            },
        },
        "HttpsListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": "${LoadBalancer}",
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "Certificates": [{"CertificateArn": "${CertificateArn}"}],
                "DefaultActions": [
                    {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
                        "Issuer": "${OidcIssuer}",
                        "AuthorizationEndpoint": "${OidcAuthorizationEndpoint}",
                        "TokenEndpoint": "${OidcTokenEndpoint}",
                        "UserInfoEndpoint": "${OidcUserInfoEndpoint}",
                        "ClientId": "${OidcClientId}",
                        "ClientSecret": "${OidcClientSecret}",
                        "Scope": "${OidcScope}",
                        "OnUnauthenticatedRequest": "authenticate",
                        "SessionTimeout": 28800,
                    }},
                    {"Type": "forward", "Order": 2, "TargetGroupArn": "${TargetGroup}"},
                ],
            },
        },
        "HttpListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": "${LoadBalancer}",
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}],
            },
        },
    }


def app_environment() -> dict[str, str]:
    """The task's DAIVI_* settings (daivi_data/settings.py reads them)."""
    return {
        "DAIVI_ENGINE": "athena",
        "DAIVI_AUTH_MODE": "proxy",
        "DAIVI_AUTH_ALB_ARN": "${LoadBalancer}",
        "DAIVI_AUTH_GROUPS_CLAIM": "${GroupsClaim}",
        "DAIVI_ATHENA_REGION": "${AWS::Region}",
        "DAIVI_ATHENA_WORKGROUP": "${WorkGroup}",
        "DAIVI_ATHENA_S3_OUTPUT": f"s3://${{ResultsBucket}}/{RESULTS_PREFIX}/",
        # Audit lines as JSON on stdout: the awslogs driver keeps them in CloudWatch when a task is replaced.
        "DAIVI_AUDIT_STDOUT": "true",
    }


def _service() -> dict:
    return {
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterName": "${NamePrefix}", "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
        },
        "LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": "/ecs/${NamePrefix}-explorer", "RetentionInDays": "${LogRetentionDays}"},
        },
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "${NamePrefix}-explorer",
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": "${TaskCpu}",
                "Memory": "${TaskMemory}",
                "RuntimePlatform": {"OperatingSystemFamily": "LINUX", "CpuArchitecture": "X86_64"},
                "ExecutionRoleArn": "${TaskExecutionRole.Arn}",
                "TaskRoleArn": "${AppTaskRole.Arn}",
                "ContainerDefinitions": [{
                    "Name": CONTAINER_NAME,
                    "Image": "${ContainerImage}",
                    "Essential": True,
                    "PortMappings": [{"ContainerPort": APP_PORT, "Protocol": "tcp"}],
                    "Environment": [{"Name": k, "Value": v} for k, v in app_environment().items()],
                    "Secrets": [{"Name": "DAIVI_SECRETS_TOML", "ValueFrom": "${AppSecrets}"}],
                    "LinuxParameters": {"InitProcessEnabled": True},
                    "StopTimeout": 30,
                    # Log lines and the audit's JSON lines (stdout) stay in CloudWatch when a task is replaced.
                    "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                        "awslogs-group": "${LogGroup}", "awslogs-region": "${AWS::Region}", "awslogs-stream-prefix": CONTAINER_NAME}},
                }],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "DependsOn": ["HttpsListener"],
            "Properties": {
                "ServiceName": "${NamePrefix}-explorer",
                "Cluster": "${Cluster}",
                "TaskDefinition": "${TaskDefinition}",
                "LaunchType": "FARGATE",
                "DesiredCount": "${DesiredCount}",
                "HealthCheckGracePeriodSeconds": 60,
                "DeploymentConfiguration": {"MinimumHealthyPercent": 100, "MaximumPercent": 200,
                                            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}},
                "NetworkConfiguration": {"AwsvpcConfiguration": {
                    "Subnets": "${AppSubnetIds}", "SecurityGroups": ["${AppSecurityGroup.GroupId}"], "AssignPublicIp": "${AppAssignPublicIp}"}},
                "LoadBalancers": [{"ContainerName": CONTAINER_NAME, "ContainerPort": APP_PORT, "TargetGroupArn": "${TargetGroup}"}],
            },
        },
    }


def _scaling() -> dict:
    return {
        "ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": "service/${Cluster}/${Service.Name}",
                "MinCapacity": "${DesiredCount}",
                "MaxCapacity": "${MaxCount}",
            },
        },
        "CpuScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": "${NamePrefix}-explorer-cpu",
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": "${ScalableTarget}",
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    "TargetValue": SCALE_OUT_CPU_PERCENT,
                    "ScaleOutCooldown": 60,
                    # Scaling in ends the sessions on the task that goes: slowly.
                    "ScaleInCooldown": 900,
                },
            },
        },
    }


def _outputs(policy: Policy) -> dict:
    outputs = {
        "AppUrl": {"Description": "Open the app here (point your DNS name at the load balancer).", "Value": "https://${LoadBalancer.DNSName}/"},
        "LoadBalancerArn": {"Description": "DAIVI_AUTH_ALB_ARN of the tasks: the signer the app checks.", "Value": "${LoadBalancer}"},
        "AppTaskRoleArn": {"Description": "The app's task role (the only principal the grants roles trust).", "Value": "${AppTaskRole.Arn}"},
        "WorkGroupName": {"Description": "Athena workgroup of every query.", "Value": "${WorkGroup}"},
        "ResultsLocation": {"Description": "DAIVI_ATHENA_S3_OUTPUT: each session writes under <this>/<aws:userid>/.",
                            "Value": f"s3://${{ResultsBucket}}/{RESULTS_PREFIX}/"},
        "AppSecretsArn": {"Description": "secrets.toml of the app (role mappings): edit the groups here.", "Value": "${AppSecrets}"},
    }
    for name in policy.roles:
        rid = logical_id("role", name)
        outputs[f"{rid}Arn"] = {"Description": f"IAM role of grants role {name} (role_arn in config/grants.toml).", "Value": f"${{{rid}.Arn}}"}
    return outputs


COMMENTS = {
    "ResultsBucket": "Athena results of every user, each under explorer/<aws:userid>/ (AROA...:<RoleSessionName>),\n"
                     "kept ResultsRetentionDays. Encrypted (SSE-S3), never public.",
    "ResultsBucketPolicy": "A second wall behind the roles' own policies: TLS only, encrypted writes only, and no grants role\n"
                           "touches another session's prefix (daivi_data/aws/policies.py).",
    "WorkGroup": "EnforceWorkGroupConfiguration is false on purpose: an enforcing workgroup overrides the client's result\n"
                 "location (Athena: \"Override client-side settings\"), so every user's results would land in one prefix\n"
                 "and the per-user prefix that IAM enforces would be lost. What enforcement would add is kept another\n"
                 "way: the bytes-scanned cutoff applies to every query of the workgroup either way, the app always\n"
                 "asks for SSE, and the bucket policy refuses unencrypted writes.",
    "GrantsRoleAccess": "Each session may use Athena in the workgroup, read the catalog, and read and write Athena results\n"
                        "only under explorer/${aws:userid}/ (daivi_data/aws/policies.py). Rows and columns: Lake Formation.",
    "AppTaskRole": "The app's tasks run as this role. It reads no data: it assumes the signed-in user's grants role\n"
                   "(with SourceIdentity = the user) and looks tables up for Home's freshness line.",
    "AppSecrets": "Role mappings (group -> grants role) as secrets.toml; the entrypoint writes it to the secrets file.",
    "LakehouseLocation": "Registers the lakehouse with Lake Formation, which then hands out data access only as\n"
                         "config/grants.toml says (`python -m daivi_data.governance apply`).",
    "HttpsListener": "The ALB signs people in (authenticate-oidc) and passes the signed x-amzn-oidc-data token, which\n"
                     "the app verifies against DAIVI_AUTH_ALB_ARN.",
    "TargetGroup": "Sticky: a Streamlit session (its websocket and state) lives in one task.",
    "ScalableTarget": "Sticky sessions stay where they are: a new task takes new sessions only. Each task has its own\n"
                      "result cache, so a user's first page on a new task queries Athena again.",
    "AppSecurityGroup": "Tasks take connections from the load balancer alone (AppFromLoadBalancer).",
}


def build_template(grants_file: Path = GRANTS_FILE) -> dict:
    policy = load_policy(grants_file)
    databases = [lh.default_database for lh in catalog.LAKEHOUSES.values()]
    parameters = _parameters()
    resources = {
        **_results(policy), **_grants_roles(policy, databases), **_app_roles(policy, databases),
        **_catalog(), **_network(), **_load_balancer(), **_service(), **_scaling(),
    }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "DAIVI Lakehouse Explorer: Athena + Lake Formation, one IAM role per grants role, ECS Fargate behind an ALB with OIDC.",
        "Parameters": parameters,
        "Conditions": {"ReadCurExport": {"Fn::Not": [{"Fn::Equals": [{"Ref": "CurExportBucketName"}, ""]}]}},
        "Resources": resources,
        "Outputs": _outputs(policy),
    }
    return cfn.resolve(template, set(parameters) | set(resources))


HEADER = """DAIVI Lakehouse Explorer: the whole deployment, one stack.
GENERATED by `python -m deploy.generate` from deploy/stack.py, daivi_data/catalog.py,
config/grants.toml and daivi_data/aws/policies.py. Do not edit: tests/deploy fails when this file differs.
Runbook: docs/aws.md ("Runbook: from an AWS account to a running deployment")."""


def template_yaml(grants_file: Path = GRANTS_FILE) -> str:
    return cfn.to_yaml(build_template(grants_file), HEADER, COMMENTS)
