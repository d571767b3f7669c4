"""Grants: the file validates, and the rewrite enforces tables, columns and row filters."""

import pytest
import sqlglot

from daivi_data.engines.duckdb import translate
from daivi_data.errors import AccessDenied, InvalidRequest, SettingsError
from daivi_data.governance import govern, load_policy
from daivi_data.settings import load_settings

POLICY = load_policy(load_settings(secrets={}, environ={}).grants_file)


def rewrite(sql: str, role: str) -> str:
    return govern(sqlglot.parse_one(sql, read="athena"), POLICY.for_role(role)).sql("duckdb")


def test_the_demo_grants_file_has_the_four_roles():
    assert set(POLICY.roles) == {"admin", "finance-analyst", "ops-engineer", "team-lead-payments"}
    assert not POLICY.for_role("finance-analyst").can_read_lakehouse("splunk")
    assert POLICY.for_role("ops-engineer").can_read_lakehouse("splunk")
    assert not POLICY.for_role("ops-engineer").can_read_lakehouse("cur")


def test_unknown_role_is_denied():
    with pytest.raises(AccessDenied, match="has no grants"):
        POLICY.for_role("intern")


def test_admin_queries_pass_unchanged_apart_from_qualification():
    assert rewrite("SELECT account_id FROM cost_daily", "admin") == "SELECT account_id FROM daivi_billing.cost_daily"


def test_row_filters_live_in_the_role_database_not_in_the_sql():
    # The team lead's relation is filtered before DuckDB sees a row (tests/sql/test_governance_property.py);
    # the SQL only names it, fully qualified, keeping the user's alias.
    sql = rewrite("SELECT c.account_id FROM daivi_billing.cost_daily AS c", "team-lead-payments")
    assert sql == "SELECT c.account_id FROM daivi_billing.cost_daily AS c"


def test_select_star_returns_only_permitted_columns(engine, as_persona):
    from daivi_data.queries import make_query

    query = make_query("t", "SELECT * FROM daivi_inventory.resources LIMIT 5")
    columns = set(engine.run(query, as_persona("finance")).df.columns)
    assert "configuration" not in columns and "resource_id" in columns
    assert "configuration" in set(engine.run(query, as_persona("admin")).df.columns)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT configuration FROM daivi_inventory.resources",
        "SELECT r.configuration FROM daivi_inventory.resources r",
        "SELECT x FROM (SELECT configuration AS x FROM daivi_inventory.resources)",
        "WITH c AS (SELECT configuration FROM daivi_inventory.resources) SELECT * FROM c",
        "SELECT resource_id FROM daivi_inventory.resources WHERE configuration LIKE '%x%'",
        "SELECT resource_id FROM daivi_inventory.resources UNION ALL SELECT configuration FROM daivi_inventory.resources",
    ],
)
def test_excluded_column_is_denied_by_name_anywhere(sql):
    with pytest.raises(AccessDenied, match="column configuration of daivi_inventory.resources"):
        rewrite(sql, "finance-analyst")


@pytest.mark.parametrize(
    ("sql", "role"),
    [
        ("SELECT * FROM daivi_splunk.events", "finance-analyst"),
        ("SELECT * FROM daivi_cur.cur", "ops-engineer"),
        ("SELECT * FROM daivi_billing.budgets", "ops-engineer"),
        ("SELECT * FROM daivi_billing.cost_daily JOIN daivi_cur.cur ON true", "ops-engineer"),
        ("WITH e AS (SELECT * FROM daivi_splunk.events) SELECT count(*) FROM e", "finance-analyst"),
        ("SELECT (SELECT max(host) FROM daivi_splunk.events) FROM daivi_billing.accounts", "finance-analyst"),
    ],
)
def test_forbidden_table_is_denied_wherever_it_appears(sql, role):
    with pytest.raises(AccessDenied, match="may not read table"):
        rewrite(sql, role)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('/etc/passwd')",
        "SELECT * FROM read_csv('data/audit.jsonl')",
        "SELECT * FROM daivi_billing.accounts, LATERAL read_text('/etc/hostname')",
    ],
)
def test_table_functions_are_refused(sql):
    with pytest.raises(AccessDenied, match="table functions"):
        rewrite(sql, "admin")


def test_unknown_tables_are_named():
    with pytest.raises(InvalidRequest, match="daivi_billing.nope"):
        rewrite("SELECT * FROM daivi_billing.nope", "admin")
    with pytest.raises(InvalidRequest, match="'information_schema'|does not exist"):
        rewrite("SELECT * FROM information_schema.tables", "admin")


def test_cte_names_are_not_tables():
    sql = rewrite("WITH cost_daily AS (SELECT 1 AS x) SELECT x FROM cost_daily", "team-lead-payments")
    assert "411111111101" not in sql


def test_translate_caches_per_role_and_lists_parameters():
    sql, names = translate("SELECT account_id FROM daivi_billing.cost_daily WHERE billing_period = :p", POLICY.for_role("admin"))
    assert names == ("p",) and "$p" in sql


def test_a_grant_on_an_unknown_column_fails_validation(tmp_path):
    path = tmp_path / "grants.toml"
    path.write_text('[roles.x]\ntables = [{ database = "daivi_billing", table = "accounts", excluded_columns = ["salary"] }]\n')
    with pytest.raises(SettingsError, match="salary"):
        load_policy(path)
    path.write_text('[roles.x]\ntables = [{ database = "daivi_hr", table = "*" }]\n')
    with pytest.raises(SettingsError, match="Unknown database"):
        load_policy(path)


def test_views_follow_the_role():
    from daivi_ui.navigation import views_for

    def titles(role):
        return {v.title for v in views_for(POLICY.for_role(role)) if v.path.exists()}

    assert "Logs" not in titles("finance-analyst") and "CUR drill-down" in titles("finance-analyst")
    assert "CUR drill-down" not in titles("ops-engineer") and "Logs" in titles("ops-engineer")
    assert "Import data" not in titles("team-lead-payments")


def test_a_view_the_role_may_not_use_says_why():
    # A shared link to Logs opened for Fiona Finance on "Page not found", as if the page did not exist.
    from daivi_ui.navigation import not_allowed_reason, views_for, views_not_for

    finance, teamlead = POLICY.for_role("finance-analyst"), POLICY.for_role("team-lead-payments")
    denied = {v.title: v for v in views_not_for(finance)}
    assert "Logs" in denied and not set(denied) & {v.title for v in views_for(finance)}
    assert not_allowed_reason(denied["Logs"], finance) == (
        "Logs is not available to your role (`finance-analyst`): it has no grant on the `splunk` lakehouse.")
    imports = next(v for v in views_not_for(teamlead) if v.title == "Import data")
    assert not_allowed_reason(imports, teamlead) == (
        "Import data is not available to your role (`team-lead-payments`): it needs the `import` capability.")
    assert views_not_for(POLICY.for_role("admin")) == []


def test_a_trailing_comment_is_not_a_second_statement():
    sql, _ = translate("SELECT account_id FROM daivi_billing.accounts; -- the accounts", POLICY.for_role("admin"))
    assert sql == "SELECT account_id FROM daivi_billing.accounts"
    with pytest.raises(InvalidRequest, match="one SQL statement"):
        translate("SELECT 1 FROM daivi_billing.accounts; SELECT 2 FROM daivi_billing.accounts", POLICY.for_role("admin"))
