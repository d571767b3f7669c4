"""Settings: defaults that need no file, env over secrets, one clear message per bad key."""

from pathlib import Path

import pytest

from daivi_data.errors import SettingsError
from daivi_data.settings import PROJECT_ROOT, load_settings


def test_defaults_need_no_file():
    s = load_settings(secrets={}, environ={})
    assert s.engine == "duckdb"
    assert s.lakehouse_path == PROJECT_ROOT / "data" / "lakehouse"
    assert s.personas_allowed
    assert s.databases["cur"] == "daivi_cur"


def test_environment_overrides_secrets():
    secrets = {"daivi": {"lakehouse_path": "/from/secrets", "query_timeout_s": 5}}
    s = load_settings(secrets=secrets, environ={"DAIVI_LAKEHOUSE_PATH": "/from/env"})
    assert s.lakehouse_path == Path("/from/env")
    assert s.query_timeout_s == 5.0


def test_relative_paths_resolve_against_the_project():
    s = load_settings(secrets={"daivi": {"lakehouse_path": "elsewhere/lh"}}, environ={})
    assert s.lakehouse_path == PROJECT_ROOT / "elsewhere" / "lh"


@pytest.mark.parametrize(
    ("secrets", "environ", "names"),
    [
        ({"daivi": {"engine": "spark"}}, {}, "daivi.engine"),
        ({}, {"DAIVI_QUERY_TIMEOUT_S": "soon"}, "DAIVI_QUERY_TIMEOUT_S"),
        ({}, {"DAIVI_ROLE_EXTRACTS": "sometimes"}, "DAIVI_ROLE_EXTRACTS"),
        ({"daivi": {"cache_ttl_s": -1}}, {}, "daivi.cache_ttl_s"),
        ({"daivi": {"athena": {"unload": "maybe"}}}, {}, "daivi.athena.unload"),
        ({"daivi": {"databses": {}}}, {}, "daivi.databses"),
        ({"daivi": {"databases": {"hr": "x"}}}, {}, "daivi.databases.hr"),
        ({"daivi": {"engine": "athena"}, }, {}, "daivi.athena.s3_output"),
        ({"daivi": {"role_mappings": [{"groups": ["x"]}]}}, {}, "daivi.role_mappings[0]"),
    ],
)
def test_a_bad_setting_names_its_key(secrets, environ, names):
    with pytest.raises(SettingsError) as e:
        load_settings(secrets=secrets, environ=environ)
    assert names in str(e.value)


def test_athena_never_runs_with_demo_personas():
    secrets = {"daivi": {"engine": "athena", "athena": {"s3_output": "s3://b/p/"}}}
    with pytest.raises(SettingsError, match="auth_mode"):
        load_settings(secrets=secrets, environ={})
    s = load_settings(secrets={"daivi": {**secrets["daivi"], "auth_mode": "proxy"}}, environ={})
    assert not s.personas_allowed


def test_invalid_toml_file_is_a_settings_error(tmp_path):
    bad = tmp_path / "secrets.toml"
    bad.write_text("[daivi\nengine = 'duckdb'")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(environ={"DAIVI_SECRETS_FILE": str(bad)})
