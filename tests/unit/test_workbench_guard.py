"""The workbench guard: which statements run, which are refused and why, the row limit and the cost guard."""

import datetime as dt

import pandas as pd
import pytest
import sqlglot

from daivi_data import catalog_browser
from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.governance import load_policy
from daivi_data.saved_queries import saved_queries, saved_queries_for
from daivi_data.settings import load_settings
from daivi_data.workbench import QUERY_NAME, EmptySql, RefusedStatement, SqlSyntaxError, check_sql, date_only_columns

POLICY = load_policy(load_settings(secrets={}, environ={}).grants_file)
ADMIN = POLICY.for_role("admin")
LIMIT = 500

ALLOWED = [
    ("plain select", "SELECT account_id, account_name FROM daivi_billing.accounts"),
    ("lower case, unqualified table", "select * from accounts"),
    ("trailing semicolon", "SELECT account_id FROM daivi_billing.accounts;"),
    ("comment after the semicolon", "SELECT account_id FROM daivi_billing.accounts; -- that's all"),
    ("line comment with a semicolon and DROP", "-- first; DROP TABLE daivi_billing.accounts;\nSELECT account_id FROM daivi_billing.accounts"),
    ("block comment with a statement inside", "SELECT /* ; DELETE FROM daivi_billing.accounts; */ account_id FROM daivi_billing.accounts"),
    ("string literal with a semicolon", "SELECT account_id FROM daivi_billing.accounts WHERE account_name = 'a; DROP TABLE x'"),
    ("string literal with an escaped quote", "SELECT account_id FROM daivi_billing.accounts WHERE account_name <> 'it''s; fine'"),
    ("CTE", "WITH a AS (SELECT account_id FROM daivi_billing.accounts) SELECT COUNT(*) FROM a"),
    ("two CTEs, one reading the other",
     "WITH a AS (SELECT account_id FROM daivi_billing.accounts), b AS (SELECT * FROM a) SELECT * FROM b"),
    ("nested subqueries",
     "SELECT * FROM (SELECT * FROM (SELECT account_id FROM daivi_billing.accounts) x WHERE account_id IN "
     "(SELECT account_id FROM daivi_billing.budgets)) y"),
    ("scalar subquery", "SELECT (SELECT MAX(monthly_limit) FROM daivi_billing.budgets) AS top"),
    ("UNION", "SELECT account_id FROM daivi_billing.accounts UNION SELECT account_id FROM daivi_billing.budgets"),
    ("UNION ALL in parentheses with ORDER BY",
     "(SELECT account_id FROM daivi_billing.accounts) UNION ALL (SELECT account_id FROM daivi_billing.budgets) ORDER BY 1"),
    ("INTERSECT and EXCEPT",
     "SELECT account_id FROM daivi_billing.accounts INTERSECT SELECT account_id FROM daivi_billing.budgets "
     "EXCEPT SELECT '1' AS account_id"),
    ("a whole query in parentheses", "(SELECT account_id FROM daivi_billing.accounts)"),
    ("join", "SELECT a.account_id, b.monthly_limit FROM daivi_billing.accounts a JOIN daivi_billing.budgets b ON a.account_id = b.account_id"),
    ("UNNEST", "SELECT x FROM UNNEST(ARRAY[1, 2, 3]) AS t(x)"),
    ("VALUES in FROM", "SELECT * FROM (VALUES (1, 'a')) AS t(n, s)"),
    ("window function",
     "SELECT account_id, ROW_NUMBER() OVER (PARTITION BY ou ORDER BY account_id) AS n FROM daivi_billing.accounts"),
    ("keyword-like words in identifiers", 'SELECT "drop", "insert" FROM (SELECT 1 AS "drop", 2 AS "insert") t'),
    ("three-part name with the Athena catalog", "SELECT account_id FROM awsdatacatalog.daivi_billing.accounts"),
]


@pytest.mark.parametrize(("what", "sql"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_read_only_queries_pass_the_guard(what, sql):
    checked = check_sql(sql, ADMIN, LIMIT)
    # What runs is exactly one statement, still a query.
    statements = [s for s in sqlglot.parse(checked.sql, read="athena") if s is not None]
    assert len(statements) == 1 and isinstance(statements[0], (sqlglot.exp.Query))
    assert checked.query().name == QUERY_NAME and checked.query().params == ()


REFUSED = [
    ("two statements", "SELECT 1; SELECT 2", RefusedStatement, "2 statements"),
    ("a statement hidden after a string with a semicolon", "SELECT 'a;b'; DROP TABLE daivi_billing.accounts",
     RefusedStatement, "2 statements"),
    ("DROP", "DROP TABLE daivi_billing.accounts", RefusedStatement, "DROP changes the catalog"),
    ("DELETE", "DELETE FROM daivi_billing.accounts WHERE true", RefusedStatement, "DELETE changes data"),
    ("UPDATE", "UPDATE daivi_billing.accounts SET ou = 'x'", RefusedStatement, "UPDATE changes data"),
    ("INSERT", "INSERT INTO daivi_billing.accounts SELECT * FROM daivi_billing.accounts", RefusedStatement, "INSERT changes data"),
    ("INSERT after a CTE", "WITH a AS (SELECT 1) INSERT INTO daivi_billing.accounts SELECT * FROM a", RefusedStatement, "INSERT"),
    ("MERGE", "MERGE INTO daivi_billing.accounts t USING daivi_billing.budgets s ON t.account_id = s.account_id "
              "WHEN MATCHED THEN DELETE", RefusedStatement, "MERGE changes data"),
    ("CTAS", "CREATE TABLE scratch.x AS SELECT * FROM daivi_billing.accounts", RefusedStatement, "CREATE TABLE AS SELECT"),
    ("CTAS with properties", "CREATE TABLE x WITH (format = 'PARQUET') AS SELECT 1 AS a", RefusedStatement, "AS SELECT"),
    ("CREATE VIEW", "CREATE OR REPLACE VIEW daivi_billing.accounts AS SELECT 1 AS x", RefusedStatement, "CREATE VIEW"),
    ("CREATE TABLE", "CREATE TABLE x (a int)", RefusedStatement, "changes the catalog"),
    ("ALTER", "ALTER TABLE daivi_billing.accounts ADD COLUMN x varchar", RefusedStatement, "changes the catalog"),
    ("UNLOAD", "UNLOAD (SELECT * FROM daivi_billing.accounts) TO 's3://bucket/x/' WITH (format = 'PARQUET')",
     RefusedStatement, "UNLOAD writes query results to S3"),
    ("SELECT INTO", "SELECT * INTO scratch FROM daivi_billing.accounts", RefusedStatement, "SELECT … INTO"),
    ("SHOW", "SHOW TABLES", RefusedStatement, "SHOW is not a query"),
    ("EXPLAIN ANALYZE", "EXPLAIN ANALYZE SELECT * FROM daivi_billing.accounts", RefusedStatement, "EXPLAIN is not a query"),
    ("DESCRIBE", "DESCRIBE daivi_billing.accounts", RefusedStatement, "not a query"),
    ("CALL", "CALL query('SELECT owner_email FROM daivi_billing.accounts')", RefusedStatement, "CALL is not a query"),
    ("PRAGMA (DuckDB)", "PRAGMA table_info('daivi_billing.accounts')", RefusedStatement, "PRAGMA is not a query"),
    ("SET", "SET enable_external_access = true", RefusedStatement, "not a query"),
    ("bare VALUES", "VALUES (1), (2)", RefusedStatement, "VALUES"),
    ("named parameter", "SELECT * FROM daivi_billing.accounts WHERE account_id = :id", RefusedStatement, "Parameters"),
    ("positional parameter", "SELECT * FROM daivi_billing.accounts WHERE account_id = ?", RefusedStatement, "Parameters"),
    ("table function", "SELECT * FROM read_parquet('/etc/passwd')", AccessDenied, "table functions"),
    ("DuckDB catalog function", "SELECT * FROM duckdb_tables()", AccessDenied, "table functions"),
    ("DuckDB settings function in a subquery", "SELECT (SELECT COUNT(*) FROM duckdb_settings()) AS n", AccessDenied, "table functions"),
    ("table function behind LATERAL", "SELECT * FROM daivi_billing.accounts a, LATERAL read_text('/etc/hostname') t",
     AccessDenied, "table functions"),
    ("TABLE() function", "SELECT * FROM TABLE(system.sequence(1, 10))", AccessDenied, "table functions"),
    ("information_schema", "SELECT * FROM information_schema.columns", InvalidRequest, "does not exist"),
    ("pg_catalog", "SELECT * FROM pg_catalog.pg_tables", InvalidRequest, "does not exist"),
    ("a file path as a table", "SELECT * FROM \"/etc/passwd\"", InvalidRequest, "does not exist"),
    ("a DuckDB system catalog", "SELECT * FROM system.main.duckdb_tables", AccessDenied, "Catalog 'system'"),
    ("unknown table", "SELECT * FROM daivi_billing.salaries", InvalidRequest, "daivi_billing.salaries does not exist"),
]


@pytest.mark.parametrize(("what", "sql", "error", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_other_statements_are_refused_saying_why(what, sql, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")) as refused:
        check_sql(sql, ADMIN, LIMIT)
    if error is RefusedStatement and "Parameters" not in message and "statements" not in message:
        assert "read-only" in str(refused.value)


@pytest.mark.parametrize("sql", ["", "   \n\t", "-- only a comment", "/* nothing */", ";", ";;"])
def test_an_empty_editor_says_so(sql):
    with pytest.raises(EmptySql, match="editor is empty"):
        check_sql(sql, ADMIN, LIMIT)


@pytest.mark.parametrize(
    ("sql", "position"),
    [
        ("SELECT *\nFROM daivi_billing.accounts WHERE", "Line 2, column 33 near `WHERE`"),
        ("SELECT account_id\nFROM daivi_billing.accounts\nWHERE ou = = 'x'", "Line 3, column 12"),
        ("SELECT 'unclosed FROM daivi_billing.accounts", "Line 1, column 8: the string literal"),
        ('SELECT "unclosed FROM x', "Line 1, column 8: the quoted name"),
        ("SELECT 1 /* never closed", "Line 1, column 10: a /* comment */ is not closed"),
    ],
)
def test_syntax_errors_give_the_parsers_position(sql, position):
    with pytest.raises(SqlSyntaxError, match=position.replace("*", r"\*").replace("/", r"\/")):
        check_sql(sql, ADMIN, LIMIT)


def test_select_without_columns_is_a_syntax_error():
    with pytest.raises(SqlSyntaxError, match="lists no columns"):
        check_sql("SELECT", ADMIN, LIMIT)


@pytest.mark.parametrize(
    ("role", "sql", "message"),
    [
        ("finance-analyst", "SELECT host FROM daivi_splunk.events", "may not read table daivi_splunk.events"),
        ("ops-engineer", "SELECT owner_email FROM daivi_billing.accounts", "may not read column owner_email"),
        ("finance-analyst", "WITH r AS (SELECT configuration FROM daivi_inventory.resources) SELECT * FROM r",
         "may not read column configuration"),
    ],
)
def test_grants_are_checked_before_running(role, sql, message):
    with pytest.raises(AccessDenied, match=message):
        check_sql(sql, POLICY.for_role(role), LIMIT)


# --- row limit ------------------------------------------------------------------------------


def _limit_of(sql: str) -> int | None:
    limit = sqlglot.parse_one(sql, read="athena").args.get("limit")
    return int(limit.expression.this) if limit is not None else None


@pytest.mark.parametrize(
    ("sql", "expected_limit", "added"),
    [
        ("SELECT account_id FROM daivi_billing.accounts", LIMIT + 1, True),
        ("SELECT account_id FROM daivi_billing.accounts LIMIT 10", 10, False),
        (f"SELECT account_id FROM daivi_billing.accounts LIMIT {LIMIT}", LIMIT, False),
        ("SELECT account_id FROM daivi_billing.accounts LIMIT 1000000", LIMIT + 1, True),
        ("SELECT account_id FROM daivi_billing.accounts LIMIT ALL", LIMIT + 1, True),
        ("SELECT account_id FROM daivi_billing.accounts UNION SELECT account_id FROM daivi_billing.budgets", LIMIT + 1, True),
        ("WITH a AS (SELECT account_id FROM daivi_billing.accounts LIMIT 5) SELECT * FROM a", LIMIT + 1, True),
        ("(SELECT account_id FROM daivi_billing.accounts)", LIMIT + 1, True),
    ],
)
def test_a_row_limit_is_applied_when_the_query_has_none_or_a_larger_one(sql, expected_limit, added):
    checked = check_sql(sql, ADMIN, LIMIT)
    assert _limit_of(checked.sql) == expected_limit
    assert (checked.fetch_limit is not None) == added
    assert checked.row_limit == LIMIT


def test_the_row_limit_keeps_the_order_by_on_the_outermost_query():
    checked = check_sql("SELECT account_id FROM daivi_billing.accounts ORDER BY account_id DESC", ADMIN, LIMIT)
    tree = sqlglot.parse_one(checked.sql, read="athena")
    assert isinstance(tree, sqlglot.exp.Select) and tree.args.get("order") is not None
    assert not list(tree.find_all(sqlglot.exp.Subquery))  # not wrapped: Trino would drop the ORDER BY


# --- cost guard: partition predicates -------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "missing"),
    [
        ("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily", ["daivi_billing.cost_daily"]),
        ("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE billing_period = '2026-11'", []),
        ("SELECT SUM(c.unblended_cost) FROM daivi_billing.cost_daily c WHERE c.billing_period IN ('2026-10', '2026-11')", []),
        ("SELECT COUNT(*) FROM daivi_splunk.events WHERE event_date BETWEEN DATE '2026-11-01' AND DATE '2026-11-02'", []),
        ("SELECT COUNT(*) FROM daivi_splunk.events WHERE event_date IS NOT NULL", ["daivi_splunk.events"]),
        ("SELECT COUNT(*) FROM daivi_splunk.events WHERE http_status >= 500", ["daivi_splunk.events"]),
        # The predicate names another table's alias: it does not prune this one.
        ("SELECT COUNT(*) FROM daivi_inventory.resources r JOIN daivi_cur.cur c ON c.line_item_resource_id = r.resource_id "
         "WHERE r.snapshot_date = DATE '2026-11-24'", ["daivi_cur.cur"]),
        ("SELECT COUNT(*) FROM daivi_inventory.resources r JOIN daivi_cur.cur c ON c.line_item_resource_id = r.resource_id "
         "AND c.billing_period = '2026-11' WHERE r.snapshot_date = DATE '2026-11-24'", []),
        ("SELECT * FROM daivi_billing.accounts", []),  # not partitioned
        ("WITH e AS (SELECT host FROM daivi_splunk.events WHERE event_date = DATE '2026-11-24') SELECT COUNT(*) FROM e", []),
        ("SELECT * FROM (SELECT host FROM daivi_splunk.events) x", ["daivi_splunk.events"]),
    ],
)
def test_partitioned_tables_read_without_a_partition_predicate_are_found(sql, missing):
    checked = check_sql(sql, ADMIN, LIMIT)
    assert [w.table for w in checked.partition_warnings] == missing
    for warning in checked.partition_warnings:
        assert warning.partition_key in warning.message() and "every partition" in warning.message()


# --- saved queries and the catalog browser --------------------------------------------------

AS_OF = dt.date(2026, 11, 24)


@pytest.mark.parametrize("query", saved_queries(AS_OF), ids=lambda q: q.key)
def test_every_saved_query_passes_the_guard_with_partition_predicates(query):
    checked = check_sql(query.sql, ADMIN, LIMIT)
    assert checked.partition_warnings == ()
    read = {t.split(".")[0] for t in checked.tables}
    assert read == {catalog_browser.catalog.lakehouse(lh).default_database for lh in query.lakehouses}


def test_saved_queries_are_offered_only_when_the_role_reads_all_their_lakehouses():
    finance = {q.key for q in saved_queries_for(POLICY.for_role("finance-analyst"), AS_OF)}
    ops = {q.key for q in saved_queries_for(POLICY.for_role("ops-engineer"), AS_OF)}
    assert "splunk_5xx_rate_by_host" not in finance and "orphaned_volumes_cost" in finance
    assert "splunk_5xx_rate_by_host" in ops and "orphaned_volumes_cost" not in ops and "cur_cost_by_line_item_type" not in ops
    for role in POLICY.roles:
        for query in saved_queries_for(POLICY.for_role(role), AS_OF):
            check_sql(query.sql, POLICY.for_role(role), LIMIT)  # never refused for a role it is offered to


def _visible(role: str) -> dict[str, tuple[str, ...]]:
    return {t.full_name: tuple(c.name for c in t.columns)
            for db in catalog_browser.visible_catalog(POLICY.for_role(role)) for t in db.tables}


def test_the_catalog_shows_only_granted_tables_and_columns():
    admin, finance, ops, lead = (_visible(r) for r in ("admin", "finance-analyst", "ops-engineer", "team-lead-payments"))
    assert len(admin) == 6 and "configuration" in admin["daivi_inventory.resources"]
    assert "daivi_splunk.events" not in finance and "configuration" not in finance["daivi_inventory.resources"]
    assert set(ops) == {"daivi_billing.cost_daily", "daivi_billing.accounts", "daivi_inventory.resources", "daivi_splunk.events"}
    assert "owner_email" not in ops["daivi_billing.accounts"] and "account_name" in ops["daivi_billing.accounts"]
    assert "configuration" not in lead["daivi_inventory.resources"]
    flags = {t.full_name: t.row_filtered for db in catalog_browser.visible_catalog(POLICY.for_role("team-lead-payments"))
             for t in db.tables}
    assert all(flags.values())


def test_starter_sql_has_the_partition_predicate_and_passes_the_guard():
    finance = POLICY.for_role("finance-analyst")
    tables = {t.full_name: t for db in catalog_browser.visible_catalog(finance) for t in db.tables}
    resources = catalog_browser.starter_sql(tables["daivi_inventory.resources"], "2026-11-24")
    assert "WHERE snapshot_date = DATE '2026-11-24'" in resources and "configuration" not in resources
    cost = catalog_browser.starter_sql(tables["daivi_billing.cost_daily"], "2026-11")
    assert "WHERE billing_period = '2026-11'" in cost
    for sql in (resources, cost, catalog_browser.starter_sql(tables["daivi_billing.accounts"], None)):
        assert check_sql(sql, finance, LIMIT).partition_warnings == ()


def test_date_only_columns_are_the_midnight_timestamps():
    df = pd.DataFrame({
        "usage_date": pd.to_datetime(["2026-11-01", "2026-11-02", None]),
        "event_time": pd.to_datetime(["2026-11-01 00:00", "2026-11-01 13:45", "2026-11-02 00:00"]),
        "label": ["a", "b", "c"],
    })
    assert date_only_columns(df) == ["usage_date"]


def test_an_overlong_query_is_refused_before_parsing():
    sql = "SELECT account_id FROM daivi_billing.accounts WHERE account_id IN (" + ", ".join(["'1'"] * 5000) + ")"
    with pytest.raises(InvalidRequest, match="at most 20,000 are allowed"):
        check_sql(sql, ADMIN, LIMIT)
