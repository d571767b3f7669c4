"""Sign-in in a real browser: OIDC through a local provider (oidc-provider-mock), and a trusted proxy on Athena (moto).

The app runs with `auth_mode = "oidc"` from a temporary secrets.toml that holds both
Streamlit's `[auth]` section (found through `--secrets.files`) and the app's
`[daivi]` settings (found through DAIVI_SECRETS_FILE), as docs/aws.md describes.
The e-mail in the provider's id token maps to a role by `daivi.role_mappings`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread

from tests.e2e.conftest import _free_port, streamlit_server, wait_for_app

pytestmark = pytest.mark.e2e

OPS = User(sub="olga-ops", claims={"email": "olga@daivi.example", "email_verified": True, "name": "Olga Ops"})
FINANCE = User(sub="fiona-finance", claims={"email": "fiona@daivi.example", "email_verified": True, "name": "Fiona Finance",
                                            "groups": ["finance"]})
STRANGER = User(sub="sam-stranger", claims={"email": "sam@elsewhere.example", "email_verified": True, "name": "Sam Stranger"})

SECRETS = """
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "e2e-only-cookie-secret-0123456789abcdef"
client_id = "daivi-explorer"
client_secret = "e2e-only-client-secret"
server_metadata_url = "http://127.0.0.1:{idp_port}/.well-known/openid-configuration"
expose_tokens = "id"

[daivi]
engine = "duckdb"
auth_mode = "oidc"
lakehouse_path = "{lakehouse}"
audit_log = "{audit}"

[[daivi.role_mappings]]
role = "ops-engineer"
emails = ["olga@daivi.example"]

[[daivi.role_mappings]]
role = "finance-analyst"
groups = ["finance"]
"""


@pytest.fixture(scope="module")
def identity_provider():
    with run_server_in_thread(port=0, user_claims=[OPS, FINANCE, STRANGER]) as server:
        yield server.server_port


@pytest.fixture(scope="module")
def oidc_app_url(identity_provider, small_lakehouse, tmp_path_factory):
    """The app with OIDC sign-in, on its own port, pointed at the local identity provider."""
    folder = tmp_path_factory.mktemp("oidc-app")
    app_port = _free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(SECRETS.format(app_port=app_port, idp_port=identity_provider, lakehouse=small_lakehouse,
                                      audit=folder / "audit.jsonl"))
    env = {**os.environ, "DAIVI_SECRETS_FILE": str(secrets), "DAIVI_ENGINE": "duckdb", "DAIVI_AUTH_MODE": "oidc",
           "DAIVI_LAKEHOUSE_PATH": str(small_lakehouse), "DAIVI_AUDIT_LOG": str(folder / "audit.jsonl")}
    with streamlit_server(env, folder / "server.log", port=app_port, extra_args=("--secrets.files", str(secrets))) as url:
        yield url


def sign_in(page, app_url: str, user: User) -> None:
    page.goto(app_url)
    wait_for_app(page)
    assert "Sign in with your company account" in page.locator('[data-testid="stAlert"]').inner_text()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")  # the identity provider's page
    page.get_by_role("button", name=user.sub).click()
    page.wait_for_url(f"{app_url}/**")
    # Back in the app: wait for the signed-in run to finish, not for the first paint of the page.
    page.wait_for_function("() => /Signed in as|has no DAIVI role/.test(document.body.innerText)")
    wait_for_app(page)


def nav_links(page) -> list[str]:
    # Each link reads "<icon name>\n\n<title>": keep the title.
    return [text.strip().splitlines()[-1].strip() for text in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def test_ops_engineer_signs_in_and_sees_their_name_and_views(page, oidc_app_url):
    sign_in(page, oidc_app_url, OPS)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Signed in as Olga Ops (olga@daivi.example) · role ops-engineer · oidc" in " ".join(sidebar.split())
    assert "Signed in as Olga Ops with role ops-engineer" in " ".join(page.locator('[data-testid="stMain"]').inner_text().split())
    links = nav_links(page)
    assert {"Home", "Cost Explorer", "Inventory", "Logs"} <= set(links)
    assert "CUR drill-down" not in links  # ops may not read CUR line items
    assert not page.get_by_role("combobox", name="Demo sign-in").count()  # no persona picker
    assert not page.locator('[data-testid="stException"]').count()


def test_finance_analyst_by_group_sees_cost_views_but_not_logs(page, oidc_app_url):
    sign_in(page, oidc_app_url, FINANCE)
    links = nav_links(page)
    assert {"Home", "Cost Explorer", "CUR drill-down", "Inventory"} <= set(links)
    assert "Logs" not in links
    assert "role finance-analyst" in " ".join(page.locator('[data-testid="stSidebar"]').inner_text().split())


def test_a_user_without_a_role_is_told_so_after_signing_in(page, oidc_app_url):
    sign_in(page, oidc_app_url, STRANGER)
    assert "sam@elsewhere.example has no DAIVI role" in page.locator('[data-testid="stAlert"]').inner_text()
    assert nav_links(page) == []


# --- behind a trusted proxy, on the Athena engine (moto's server standing in for AWS) -----------

PROXY_SECRETS = """
[daivi]
engine = "athena"
auth_mode = "proxy"
audit_log = "{audit}"
grants_file = "{grants}"

[daivi.auth]
trusted_header = "X-Forwarded-Email"
trusted_name_header = "X-Forwarded-Name"

[daivi.athena]
region = "eu-west-1"
workgroup = "{workgroup}"
s3_output = "s3://daivi-athena-results/explorer/"
max_attempts = 3

{mappings}
"""


@pytest.fixture(scope="module")
def moto_endpoint(small_lakehouse, raw_duckdb):
    """moto's server on a local port; its Athena answered from the small lakehouse, Glue holding its tables."""
    import boto3
    from _pytest.monkeypatch import MonkeyPatch
    from moto.server import ThreadedMotoServer

    from tests.aws.conftest import RESULTS_BUCKET, WORKGROUP, DuckDBAnswers, FakeAthena
    from tests.aws.test_app_on_athena import glue_from_lakehouse

    patch = MonkeyPatch()
    fake = FakeAthena(patch)
    fake.answer = DuckDBAnswers(small_lakehouse)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    session.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket=RESULTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    session.client("athena", endpoint_url=endpoint).create_work_group(Name=WORKGROUP, Configuration={})
    glue_from_lakehouse(session.client("glue", endpoint_url=endpoint), small_lakehouse)
    yield endpoint, fake
    server.stop()
    patch.undo()


def _app_env(folder, secrets_text: str, extra_env: dict[str, str]) -> tuple[dict[str, str], Path]:
    """Environment and secrets file for an app configured only by `secrets_text` (plus `extra_env`)."""
    secrets = folder / "secrets.toml"
    secrets.write_text(secrets_text)
    env = {**os.environ, "DAIVI_SECRETS_FILE": str(secrets), "DAIVI_AUDIT_LOG": str(folder / "audit.jsonl"), **extra_env}
    for key in ("DAIVI_LAKEHOUSE_PATH", "DAIVI_ENGINE", "DAIVI_AUTH_MODE"):
        env.pop(key, None)
    return env, secrets


@pytest.fixture(scope="module")
def proxy_app_url(moto_endpoint, tmp_path_factory):
    from tests.aws.conftest import GRANTS_FILE, ROLE_ARNS, WORKGROUP

    endpoint, _ = moto_endpoint
    folder = tmp_path_factory.mktemp("proxy-app")
    # Role ARNs come from the grants file only (here with moto's account in them).
    mappings = "\n".join(f'[[daivi.role_mappings]]\nrole = "{r}"\nemails = ["{r}@daivi.example"]\n' for r in ROLE_ARNS)
    aws_env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    env, secrets = _app_env(folder, PROXY_SECRETS.format(audit=folder / "audit.jsonl", workgroup=WORKGROUP, mappings=mappings,
                                                         grants=GRANTS_FILE), aws_env)
    with streamlit_server(env, folder / "server.log", extra_args=("--secrets.files", str(secrets))) as url:
        yield url


def test_behind_a_proxy_on_athena_the_user_sees_their_role_and_the_cost_of_each_query(browser, proxy_app_url, moto_endpoint):
    # moto does not emulate Lake Formation: the figures are unfiltered; this test is about sign-in, role and cost.
    _, fake = moto_endpoint
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers={
        "X-Forwarded-Email": "team-lead-payments@daivi.example", "X-Forwarded-Name": "Tess Lead"})
    page = context.new_page()
    try:
        page.goto(proxy_app_url)
        page.wait_for_function("() => /Signed in as|DAIVI role|sign-in/i.test(document.body.innerText)")
        wait_for_app(page)
        page.wait_for_function("() => /scanned/.test(document.body.innerText)")
        if os.environ.get("DAIVI_E2E_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["DAIVI_E2E_SCREENSHOTS"], "athena_proxy_home.png"), full_page=True)
        # (the app puts an invisible word joiner, U+2060, into e-mail addresses so they never autolink)
        sidebar = " ".join(page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "").split())
        assert "Signed in as Tess Lead (team-lead-payments@daivi.example) · role team-lead-payments · proxy" in sidebar
        assert "Engine: athena" in sidebar
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert re.search(r"scanned [\d.]+ [KMGT]?B, \$\d+\.\d{4}", main), main
        assert not page.locator('[data-testid="stException"]').count()
        # Each result under the role session's aws:userid, the prefix IAM confines that session to.
        assert fake.started and all(re.match(r"s3://daivi-athena-results/explorer/AROA\w+:team-lead-payments@daivi\.example-",
                                             s["config"]["OutputLocation"]) for s in fake.started)
    finally:
        context.close()


def test_behind_a_proxy_without_its_header_nobody_is_signed_in(page, proxy_app_url):
    page.goto(proxy_app_url)
    wait_for_app(page)
    assert "header X-Forwarded-Email is missing" in page.locator('[data-testid="stAlert"]').inner_text()
    assert nav_links(page) == []
