"""docs/aws.md as a new user reads it: its secrets.toml example loads, and names only settings that exist."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from daivi_data.aws.policies import results_access_policy, role_trust_policy
from daivi_data.settings import PROJECT_ROOT, load_settings

pytestmark = pytest.mark.aws

DOC = (PROJECT_ROOT / "docs" / "aws.md").read_text()


def test_the_secrets_example_in_the_docs_loads_as_an_athena_configuration():
    block = re.search(r"## 1\. Settings.*?```toml\n(.*?)```", DOC, re.DOTALL).group(1)
    settings = load_settings(secrets=tomllib.loads(block), environ={})
    assert settings.engine == "athena" and settings.auth_mode == "oidc"
    assert settings.athena.workgroup == "daivi" and settings.athena.s3_output == "s3://daivi-athena-results/explorer/"
    assert [m.role for m in settings.role_mappings] == ["finance-analyst", "ops-engineer", "admin"]
    assert not settings.personas_allowed


def test_the_commented_auth_keys_in_the_docs_are_real_settings():
    block = re.search(r"\[daivi\.auth\]\n(.*?)\n\n", DOC, re.DOTALL).group(1)
    keys = re.findall(r"^#?\s*(\w+) =", block, re.MULTILINE)
    settings = load_settings(secrets={"daivi": {"auth": {k: "" for k in keys if k != "web_identity"}}}, environ={})
    assert set(keys) - {"web_identity"} <= set(vars(settings.auth))


def test_the_secrets_example_file_loads():
    with (PROJECT_ROOT / ".streamlit" / "secrets.toml.example").open("rb") as f:
        settings = load_settings(secrets=tomllib.load(f), environ={})
    assert settings.athena.max_attempts == 5 and settings.auth.groups_claim == "groups"


def _json_blocks() -> list[dict]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.DOTALL)]


def test_the_policies_in_the_docs_are_the_ones_the_code_ships():
    # The trust and results policies shown are daivi_data.aws.policies' own output, so the docs cannot drift.
    blocks = _json_blocks()
    assert role_trust_policy("arn:aws:iam::111122223333:role/daivi-explorer-app") in blocks
    assert results_access_policy("daivi-athena-results", "explorer") in blocks
    assert "web_identity" not in re.search(r"## 1\. Settings.*?```toml\n(.*?)```", DOC, re.DOTALL).group(1)


def test_the_sign_in_section_opens_with_the_trusted_header_network_requirement():
    section = DOC.split("## 6. Sign-in", 1)[1]
    first = section.strip().split("\n\n", 1)[0]
    assert first.startswith("**Trusted-header mode first**") and "exclusively through the proxy" in first
