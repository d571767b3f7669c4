"""OIDC sign-in in a real browser: a local OpenID provider (oidc-provider-mock), st.login, and the views the role allows.

The app runs with `auth_mode = "oidc"` from a temporary secrets.toml that holds both
Streamlit's `[auth]` section (found through `--secrets.files`) and the app's
`[daivi]` settings (found through DAIVI_SECRETS_FILE), as docs/aws.md describes.
The e-mail in the provider's id token maps to a role by `daivi.role_mappings`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from oidc_provider_mock import User, run_server_in_thread

from daivi_data.settings import PROJECT_ROOT
from tests.e2e.conftest import SERVER_START_TIMEOUT_S, _free_port, wait_for_app

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
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "Home.py"), "--server.port", str(app_port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--secrets.files", str(secrets)],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{app_port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


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
