"""The demo organization: accounts, organizational units, teams and workloads.

Literal data, so that personas, grants files and tests can name accounts by id.
The `Payments` OU holds exactly the five `PAYMENTS_ACCOUNT_IDS` (the demo
persona "team lead of Payments" is filtered on them by a grants file).

Each account carries, besides the five columns of `daivi_billing.accounts`,
what the generator needs to fill it: the owning team and cost center, its
regions, its applications, its workloads (which recipes of resources it runs,
see `daivi_data/demo/fleet/`) and a relative size.
"""

from __future__ import annotations

from dataclasses import dataclass

PAYER_ACCOUNT_ID = "100000000001"
ORG_DOMAIN = "daivi.example"
OUS = ("Core", "Payments", "Retail", "Data", "Platform", "Sandbox")


@dataclass(frozen=True)
class Account:
    account_id: str
    account_name: str
    ou: str
    owner_email: str
    environment: str  # prod, staging, dev, sandbox, shared
    team: str
    cost_center: str
    region: str  # primary region
    other_region: str  # secondary region ('' if none)
    apps: tuple[str, ...]
    workloads: tuple[str, ...]
    size: float  # relative amount of resources


def _a(account_id, name, ou, env, team, cc, region, other, apps, workloads, size, owner=None):
    return Account(
        account_id=account_id,
        account_name=name,
        ou=ou,
        owner_email=f"{owner or team}@{ORG_DOMAIN}",
        environment=env,
        team=team,
        cost_center=cc,
        region=region,
        other_region=other,
        apps=tuple(apps),
        workloads=tuple(workloads),
        size=size,
    )


E1, E2, W2, EU, EC, AS, AN = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1",
)

ACCOUNTS: tuple[Account, ...] = (
    # Core: the management (payer) account and shared services.
    _a(PAYER_ACCOUNT_ID, "management", "Core", "shared", "cloud-center", "CC-1000", E1, "", ("org",), ("mgmt",), 0.2,
       owner="aws-root"),
    _a("223005401501", "network", "Core", "shared", "network", "CC-1010", E1, W2, ("transit",), ("network",), 0.6),
    _a("911856239313", "security", "Core", "shared", "security", "CC-1020", E1, "", ("guard",), ("security",), 0.5),
    _a("367469214295", "logging", "Core", "shared", "sre", "CC-1030", E1, "", ("logarchive", "splunk"),
       ("logging",), 0.7),
    _a("251282538206", "audit", "Core", "shared", "security", "CC-1020", E1, "", ("audit",), ("audit",), 0.3,
       owner="compliance"),
    _a("214832269481", "shared-services", "Core", "shared", "platform", "CC-1040", E1, W2, ("tools", "directory"),
       ("shared",), 0.5),
    # Payments.
    _a("411111111101", "payments-prod", "Payments", "prod", "payments", "CC-2100", E1, W2,
       ("payments-api", "ledger", "fraud-scoring"), ("web",), 1.3),
    _a("411111111102", "payments-staging", "Payments", "staging", "payments", "CC-2100", E1, "",
       ("payments-api", "ledger", "fraud-scoring"), ("web",), 0.35),
    _a("411111111103", "payments-dev", "Payments", "dev", "payments", "CC-2100", E1, "",
       ("payments-api", "ledger", "fraud-scoring"), ("web",), 0.3),
    _a("411111111104", "payments-data-prod", "Payments", "prod", "payments-data", "CC-2110", E1, "",
       ("settlement", "ledger-etl"), ("data",), 0.6),
    _a("411111111105", "payments-sandbox", "Payments", "sandbox", "payments", "CC-2100", E1, "",
       ("experiments",), ("sandbox",), 0.5),
    # Retail.
    _a("914655221101", "retail-web-prod", "Retail", "prod", "retail-web", "CC-3100", E1, EU,
       ("storefront", "cart", "accounts"), ("web", "cdn"), 1.5),
    _a("700832336208", "retail-web-staging", "Retail", "staging", "retail-web", "CC-3100", E1, "",
       ("storefront", "cart", "accounts"), ("web",), 0.35),
    _a("748913461122", "retail-web-dev", "Retail", "dev", "retail-web", "CC-3100", E1, "",
       ("storefront", "cart", "accounts"), ("web",), 0.3),
    _a("136171878809", "retail-catalog-prod", "Retail", "prod", "retail-catalog", "CC-3200", E1, EU,
       ("catalog", "pricing", "inventory-sync"), ("web",), 1.0),
    _a("198912225902", "retail-catalog-dev", "Retail", "dev", "retail-catalog", "CC-3200", E1, "",
       ("catalog", "pricing", "inventory-sync"), ("web",), 0.3),
    _a("354342113419", "retail-checkout-prod", "Retail", "prod", "retail-checkout", "CC-3300", E1, EU,
       ("checkout", "orders"), ("web", "serverless"), 1.0),
    _a("763595448017", "retail-search-prod", "Retail", "prod", "retail-search", "CC-3400", E1, "",
       ("search", "recommendations"), ("web", "search"), 0.8),
    # Data.
    _a("714294294451", "data-lake-prod", "Data", "prod", "data-eng", "CC-4100", E1, W2,
       ("datalake", "ingestion"), ("data",), 1.2),
    _a("886833016361", "data-lake-dev", "Data", "dev", "data-eng", "CC-4100", E1, "",
       ("datalake", "ingestion"), ("data",), 0.3),
    _a("871590378377", "data-analytics-prod", "Data", "prod", "analytics", "CC-4200", E1, "",
       ("analytics", "bi"), ("data", "analytics"), 0.6),
    _a("561902006518", "data-ml-prod", "Data", "prod", "ml", "CC-4300", E1, W2,
       ("recommender", "fraud-model"), ("ml",), 0.8),
    _a("590573056992", "data-ml-dev", "Data", "dev", "ml", "CC-4300", E1, "",
       ("recommender", "fraud-model"), ("ml",), 0.4),
    _a("407473554860", "data-warehouse-prod", "Data", "prod", "analytics", "CC-4200", E1, "",
       ("warehouse",), ("warehouse",), 0.6),
    # Platform.
    _a("933251567391", "platform-eks-prod", "Platform", "prod", "platform", "CC-5100", E1, EU,
       ("eks",), ("k8s",), 1.4),
    _a("275259659197", "platform-eks-staging", "Platform", "staging", "platform", "CC-5100", E1, "",
       ("eks",), ("k8s",), 0.5),
    _a("566854953850", "platform-eks-dev", "Platform", "dev", "platform", "CC-5100", E1, "",
       ("eks",), ("k8s",), 0.35),
    _a("406404042870", "platform-ci", "Platform", "shared", "devex", "CC-5200", E1, "",
       ("jenkins", "artifacts"), ("ci",), 0.7),
    _a("336890980656", "platform-observability", "Platform", "prod", "sre", "CC-5300", E1, "",
       ("grafana", "prometheus"), ("logging",), 0.5),
    _a("941629821539", "platform-identity", "Platform", "prod", "identity", "CC-5400", E1, EU,
       ("sso", "auth"), ("serverless",), 0.5),
    _a("213114812281", "platform-edge-prod", "Platform", "prod", "platform", "CC-5100", E1, AS,
       ("edge-api",), ("cdn", "serverless"), 0.6),
    # Sandbox.
    _a("517010168081", "sandbox-mchen", "Sandbox", "sandbox", "sandbox", "CC-9000", E1, W2, ("experiments",),
       ("sandbox",), 0.6, owner="m.chen"),
    _a("491257417623", "sandbox-apatel", "Sandbox", "sandbox", "sandbox", "CC-9000", W2, E1, ("experiments",),
       ("sandbox",), 0.6, owner="a.patel"),
    _a("481597082643", "sandbox-jsmith", "Sandbox", "sandbox", "sandbox", "CC-9000", E1, "", ("experiments",),
       ("sandbox",), 0.5, owner="j.smith"),
    _a("390355792387", "sandbox-hackathon", "Sandbox", "sandbox", "sandbox", "CC-9000", E1, E2, ("hackathon",),
       ("sandbox",), 0.7, owner="devrel"),
    _a("150711229823", "sandbox-ml-lab", "Sandbox", "sandbox", "ml", "CC-9000", E1, "", ("ml-lab",),
       ("sandbox", "ml"), 0.4, owner="ml-lab"),
)

ACCOUNTS_BY_ID: dict[str, Account] = {a.account_id: a for a in ACCOUNTS}
ACCOUNTS_BY_NAME: dict[str, Account] = {a.account_name: a for a in ACCOUNTS}
PAYMENTS_ACCOUNT_IDS: tuple[str, ...] = tuple(a.account_id for a in ACCOUNTS if a.ou == "Payments")

assert len(ACCOUNTS) == 36 and len(ACCOUNTS_BY_ID) == 36
assert PAYMENTS_ACCOUNT_IDS == ("411111111101", "411111111102", "411111111103", "411111111104", "411111111105")
