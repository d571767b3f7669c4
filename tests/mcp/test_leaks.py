"""A team lead's calls never return another OU's rows: through every tool, and through the SQL tool whatever the SQL.

The SQL test takes a list of statements (`LEAK_ATTEMPTS`, and any corpus a
later change adds to `leak_corpus()`), so the governance issue's adversarial
corpus can run through the MCP path too. For each statement the SQL tool
either refuses it or returns exactly what the same statement returns on a
DuckDB database that holds only the role's data (the Payments accounts' rows,
the permitted columns, no security logs): nothing an attacker writes can reach
past the grants, and nothing is lost either.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest
import sqlglot

from daivi_data import catalog
from daivi_data.governance import load_policy
from tests.helpers import PAYMENTS_ACCOUNT_IDS
from tests.mcp.conftest import answer, call_tools

ROLE = "team-lead-payments"
ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")

LEAK_ATTEMPTS = [
    # plain reads: the row filter applies
    "SELECT * FROM daivi_billing.accounts",
    "SELECT account_id, SUM(unblended_cost) AS c FROM daivi_billing.cost_daily GROUP BY 1",
    "SELECT COUNT(*) AS n FROM daivi_cur.cur",
    "SELECT index_name, COUNT(*) AS n FROM daivi_splunk.events GROUP BY 1",
    "SELECT * FROM daivi_splunk.events WHERE index_name = 'security'",
    # the filter cannot be widened from inside the query
    "SELECT account_id FROM daivi_billing.accounts WHERE 1 = 1 OR account_id <> ''",
    "SELECT DISTINCT line_item_usage_account_id FROM daivi_cur.cur WHERE line_item_usage_account_id NOT IN ('411111111101')",
    # CTEs named like tables, databases or files
    "WITH accounts AS (SELECT * FROM daivi_billing.accounts) SELECT * FROM accounts",
    "WITH daivi_billing AS (SELECT 1 AS x) SELECT * FROM daivi_billing.accounts",
    'WITH "daivi_billing/accounts/*.parquet" AS (SELECT 1 AS x) SELECT * FROM "daivi_billing/accounts/*.parquet"',
    "WITH cost_daily AS (SELECT * FROM daivi_billing.accounts) SELECT account_id FROM cost_daily",
    # subqueries, set operations, joins, lateral unnest
    "SELECT (SELECT MAX(account_id) FROM daivi_billing.accounts) AS top_account",
    "SELECT account_id FROM daivi_billing.accounts UNION ALL SELECT account_id FROM daivi_inventory.resources",
    "SELECT a.account_id, r.resource_id FROM daivi_billing.accounts a LEFT JOIN daivi_inventory.resources r "
    "ON r.account_id <> a.account_id LIMIT 50",
    "SELECT t.k FROM daivi_inventory.resources CROSS JOIN UNNEST(map_keys(tags)) AS t (k) LIMIT 20",
    # names that are paths, globs, other catalogs, other cases
    'SELECT * FROM "data/lakehouse/daivi_billing/accounts/part-0.parquet"',
    "SELECT * FROM '**/*.parquet'",
    'SELECT * FROM "DAIVI_BILLING"."ACCOUNTS"',
    "SELECT * FROM awsdatacatalog.daivi_billing.accounts",
    "SELECT * FROM daivi_billing.accounts_backup",
    # table functions and metadata
    "SELECT * FROM read_parquet('**/daivi_billing/**/*.parquet')",
    "SELECT * FROM TABLE(read_csv_auto('/etc/passwd'))",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM daivi_billing.\"$partitions\"",
    "SELECT current_setting('home_directory') AS h",
    "SELECT * FROM pragma_database_list",
    # excluded columns
    "SELECT configuration FROM daivi_inventory.resources",
    "SELECT * FROM daivi_inventory.resources LIMIT 5",
    "SELECT json_extract_scalar(configuration, '$.x') FROM daivi_inventory.resources",
]


def leak_corpus() -> list[str]:
    """This file's own attempts; the governance issue's corpus runs through the SQL tool in its own test below."""
    return list(LEAK_ATTEMPTS)


@pytest.fixture(scope="module")
def role_only_database(small_lakehouse):
    """DuckDB holding only what the role may read: its tables, permitted columns and filtered rows, nothing else."""
    grants = load_policy(catalog_grants_file()).for_role(ROLE)
    con = duckdb.connect()
    for lh in catalog.LAKEHOUSES.values():
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{lh.default_database}"')
        for table in lh.tables:
            grant = grants.grant_for(lh.default_database, table.name)
            if grant is None:
                continue
            folder = small_lakehouse / lh.default_database / table.name
            partitioned = any(p.is_dir() for p in folder.iterdir())
            pattern = f"{folder}/**/*.parquet" if partitioned else f"{folder}/*.parquet"
            columns = ", ".join(f'"{c.name}"' for c in table.columns if c.name not in grant.excluded_columns)
            where = sqlglot.transpile(grant.row_filter, read="athena", write="duckdb")[0] if grant.row_filter else "TRUE"
            con.execute(f'CREATE TABLE "{lh.default_database}"."{table.name}" AS SELECT {columns} '
                        f"FROM read_parquet('{pattern}', hive_partitioning = {str(partitioned).lower()}) WHERE {where}")
    con.execute("SET integer_division = true")
    return con


def catalog_grants_file():
    from daivi_data.settings import Settings

    return Settings().grants_file


def other_ou_accounts(raw_duckdb) -> set[str]:
    every = {r[0] for r in raw_duckdb.execute("SELECT account_id FROM daivi_billing.accounts").fetchall()}
    return every - set(PAYMENTS_ACCOUNT_IDS)


def without_catalog(sql: str) -> str:
    """DuckDB SQL of an Athena statement, its `awsdatacatalog.` prefixes dropped (Athena's default catalog)."""
    tree = sqlglot.parse_one(sql, read="athena")
    for table in tree.find_all(sqlglot.exp.Table):
        table.set("catalog", None)
    return tree.sql(dialect="duckdb")


def canonical(rows: list[dict] | list[tuple]) -> list[str]:
    """Rows as sorted, comparable text (floats rounded: the two engines sum in different orders)."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.6f}"
        if isinstance(v, dict):
            return json.dumps(dict(sorted(v.items())))
        return str(v) if v is not None else "NULL"
    return sorted("|".join(cell(v) for v in (row.values() if isinstance(row, dict) else row)) for row in rows)


@pytest.mark.parametrize("sql", leak_corpus())
def test_the_sql_tool_returns_a_team_lead_only_their_roles_data(persona_server, role_only_database, raw_duckdb, sql):
    (result,) = call_tools(persona_server("teamlead"), [("run_sql", {"sql": sql, "row_limit": 1000})])
    if result.is_error:
        assert result.content[0].text  # refused, with a reason
        return
    body = result.structured_content
    text = json.dumps(body["rows"])
    assert not set(ACCOUNT_ID.findall(text)) & other_ou_accounts(raw_duckdb)
    assert '"security"' not in text
    # The same statement over a database holding only the role's data returns the same rows.
    restricted = role_only_database.execute(without_catalog(body["sql"]))
    expected = restricted.fetchall()
    got = [tuple(r.values()) for r in body["rows"]]
    if body["truncated"]:
        expected = expected[:len(got)]
    assert len(got) == len(expected)
    if "LIMIT" not in sql.upper() and not body["truncated"]:
        assert canonical(got) == canonical(expected)


TOOL_CALLS = [
    ("list_catalog", {}),
    ("cost_by_dimension", {"group_by": "account", "limit": 500}),
    ("cost_by_dimension", {"group_by": "ou", "limit": 500}),
    ("cost_changes", {"group_by": "account", "driver_by": "service"}),
    ("cost_anomalies", {"by": "account", "limit": 50}),
    ("cur_drill", {"limit": 500}),
    ("invoice_reconciliation", {}),
    ("inventory_search", {"page_size": 500}),
    ("inventory_search", {"accounts": ["311111111101", "511111111101"], "page_size": 500}),
    ("waste_findings", {"limit": 500}),
    ("logs_search", {"search": "", "last": "7d", "limit": 500, "columns": ["event_time", "host", "account_id", "index_name"]}),
    ("logs_search", {"search": "index=security", "last": "7d"}),
    ("logs_stats", {"by_field": "index", "last": "7d"}),
    ("logs_stats", {"by_field": "host", "last": "7d", "limit": 50}),
    ("logs_error_rate", {"last": "7d"}),
]


def test_no_tool_returns_a_team_lead_another_ous_rows(persona_server, raw_duckdb):
    others = other_ou_accounts(raw_duckdb)
    results = call_tools(persona_server("teamlead"), TOOL_CALLS)
    seen_payments = set()
    for (name, args), result in zip(TOOL_CALLS, results, strict=True):
        body = answer(result)
        text = json.dumps(body)
        found = set(ACCOUNT_ID.findall(text))
        assert not found & others, (name, args, sorted(found & others)[:3])
        assert '"security"' not in text, (name, args)
        seen_payments |= found & set(PAYMENTS_ACCOUNT_IDS)
    assert seen_payments == set(PAYMENTS_ACCOUNT_IDS)  # the scan looked at real answers, not empty ones


def test_the_governance_corpus_through_the_sql_tool_shows_a_team_lead_only_their_data(persona_server, small_lakehouse,
                                                                                        mcp_settings, raw_duckdb):
    """Every case of tests/fixtures/governance/leak_corpus.sql, as a team lead, through MCP's run_sql.

    `refuse` cases are refused; an accepted statement must be one the role's own data can answer, and returns
    exactly its rows (the same JSON conversion on both sides); none carries another OU's account id.
    """
    from daivi_data.mcp.results import records
    from tests.sql.test_governance_property import build_oracle, load_corpus, oracle_result

    cases = load_corpus(small_lakehouse)
    oracle = build_oracle(small_lakehouse, mcp_settings.grants_file, ROLE)
    results = call_tools(persona_server("teamlead"), [("run_sql", {"sql": c.sql, "row_limit": 1000}) for c in cases])
    others = other_ou_accounts(raw_duckdb)
    answered = 0
    for case, result in zip(cases, results, strict=True):
        if case.expect == "refuse" or result.is_error:
            assert result.is_error, f"not refused ({case.kind}):\n{case.sql}"
            continue
        answered += 1
        body = result.structured_content
        assert not set(ACCOUNT_ID.findall(json.dumps(body["rows"]))) & others, case.sql
        want = oracle_result(oracle, case.sql)
        assert want is not None, f"rows its own data cannot give ({case.kind}):\n{case.sql}"
        if body["truncated"]:
            assert len(want) > len(body["rows"]), case.sql
        elif re.search(r"\b(LIMIT|OFFSET|FETCH|TABLESAMPLE)\b", case.sql, re.IGNORECASE):
            assert len(body["rows"]) == min(len(want), len(body["rows"])), case.sql  # an arbitrary subset: count only
        else:
            assert canonical([tuple(r.values()) for r in body["rows"]]) == canonical(
                [tuple(r.values()) for r in records(want)]), f"other rows than its own data gives ({case.kind}):\n{case.sql}"
    legitimate = sum(1 for c in cases if c.kind == "legitimate")
    assert answered >= legitimate  # the tool answers, so the checks above looked at real rows
