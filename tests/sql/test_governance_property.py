"""Governance holds for any SQL: what the engine accepts equals the same SQL over the role's own data.

For each persona an *oracle* database is built independently of the app's
governance code: the grants file is read here with tomllib, and each granted
table is materialized with only its allowed columns and the rows its row filter
(run by plain DuckDB) lets through; the oracle then loses file access. The
property, for every statement and persona:

- the embedded engine refuses it, or
- it returns exactly what the same statement returns over the oracle.

It runs over an adversarial corpus (tests/fixtures/governance/leak_corpus.sql:
paths and globs as CTE and table names, table/metadata/settings functions,
PRAGMA/SET/ATTACH/COPY/EXPORT/INSTALL/LOAD/CALL, comments, several statements,
look-alike names, lateral joins, struct and map access, excluded columns reached
every way, row filter bypasses, EXPLAIN …) and over statements hypothesis
generates. Cases marked `refuse` must also be refused by the Athena path's SQL
guard (`workbench.check_sql`).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daivi_data.errors import DaiviError
from daivi_data.governance import load_policy
from daivi_data.queries import Query
from daivi_data.workbench import check_sql
from tests.helpers import FIXTURES, PERSONA_ROLES, PERSONAS, principal

CORPUS = FIXTURES / "governance" / "leak_corpus.sql"
MIN_CORPUS_CASES = 300
HIVE_KEYS = {"billing_period": "VARCHAR", "snapshot_date": "DATE", "event_date": "DATE"}


@dataclass(frozen=True)
class Case:
    kind: str
    expect: str
    sql: str


def load_corpus(root: Path) -> list[Case]:
    text = CORPUS.read_text(encoding="utf-8")
    cases = []
    for kind, expect, body in re.findall(r"^-- case: (\S+) \| expect: (\w+)\n((?:(?!-- case:).*\n?)*)", text, flags=re.MULTILINE):
        sql = body.strip().replace("{root_name}", root.name).replace("{root}", str(root))
        cases.append(Case(kind, expect, sql))
    return cases


# --- the oracle: each persona's allowed data, materialized without the app's governance code ----------

def _granted_tables(grants_file: Path, role: str) -> dict[tuple[str, str], dict]:
    spec = tomllib.loads(grants_file.read_text())["roles"][role]
    return {(g["database"], g.get("table", "*")): g for g in spec["tables"]}


def build_oracle(root: Path, grants_file: Path, role: str) -> duckdb.DuckDBPyConnection:
    granted = _granted_tables(grants_file, role)
    con = duckdb.connect(":memory:")
    # Named like Athena's default catalog, so `awsdatacatalog.db.table` means the same on both sides.
    con.execute("ATTACH ':memory:' AS awsdatacatalog")
    con.execute("USE awsdatacatalog")
    schemas = []
    for db_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for table_dir in sorted(p for p in db_dir.iterdir() if p.is_dir()):
            db, table = db_dir.name, table_dir.name
            grant = granted.get((db, table)) or granted.get((db, "*"))
            if grant is None:
                continue
            partitioned = any(p.is_dir() for p in table_dir.iterdir())
            pattern = f"{table_dir}/**/*.parquet" if partitioned else f"{table_dir}/*.parquet"
            hive = ""
            if partitioned:
                key = next(p for p in table_dir.iterdir() if p.is_dir()).name.split("=")[0]
                hive = f", hive_partitioning = true, hive_types = {{'{key}': '{HIVE_KEYS[key]}'}}"
            excluded = grant.get("excluded_columns", [])
            exclude = f" EXCLUDE ({', '.join(excluded)})" if excluded else ""
            where = sqlglot.transpile(grant["row_filter"], read="athena", write="duckdb")[0] if grant.get("row_filter") else "true"
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
            con.execute(f'CREATE TABLE "{db}"."{table}" AS SELECT *{exclude} FROM read_parquet(\'{pattern}\'{hive}) WHERE {where}')
            schemas.append(db)
    con.execute(f"SET search_path = '{','.join(dict.fromkeys(schemas))}'")
    con.execute("SET integer_division = true")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


@pytest.fixture(scope="module")
def oracles(small_lakehouse, settings) -> dict[str, duckdb.DuckDBPyConnection]:
    return {p: build_oracle(small_lakehouse, settings.grants_file, PERSONA_ROLES[p]) for p in PERSONAS}


def oracle_result(oracle: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame | None:
    """The statement over the persona's own data, or None when it cannot run there."""
    try:
        statements = [s for s in sqlglot.transpile(sql, read="athena", write="duckdb") if s.strip()]
        if len(statements) != 1:
            return None
        return oracle.execute(statements[0]).df()
    except (sqlglot.errors.SqlglotError, duckdb.Error, ValueError):
        return None


def engine_result(engine, sql: str, persona: str) -> pd.DataFrame | None:
    """The statement through the embedded engine, or None when it is refused."""
    try:
        return engine.run(Query("property.adhoc", sql), principal(persona)).df
    except DaiviError:
        return None


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (list, tuple, dict)) or hasattr(value, "tolist"):
        return repr(value.tolist() if hasattr(value, "tolist") else value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def rows_of(df: pd.DataFrame) -> tuple[list[str], list[tuple]]:
    columns = [str(c).lower() for c in df.columns]
    rows = sorted((tuple(_cell(v) for v in row) for row in df.itertuples(index=False, name=None)), key=repr)
    return columns, rows


def assert_governed(engine, oracle, sql: str, persona: str, expect: str = "either") -> None:
    got = engine_result(engine, sql, persona)
    if expect == "refuse":
        assert got is None, f"{persona} was not refused:\n{sql}\n{got.head()}"
        return
    want = oracle_result(oracle, sql)
    if want is None:
        assert got is None, f"{persona} got rows that its own data cannot give:\n{sql}\n{got.head()}"
        return
    if got is None:
        assert expect != "match", f"{persona} was refused a query over its own data:\n{sql}"
        return
    assert rows_of(got) == rows_of(want), f"{persona} saw other rows than its own data gives:\n{sql}"


# --- the corpus ---------------------------------------------------------------------------------------

def test_the_corpus_is_large_and_covers_every_class(small_lakehouse):
    cases = load_corpus(small_lakehouse)
    assert len(cases) >= MIN_CORPUS_CASES
    kinds = {c.kind for c in cases}
    for needed in ("cte-path-own-body", "cte-path-recursive", "table-function", "metadata-function", "metadata-relation",
                   "not-one-read-only-query", "unicode-lookalike", "excluded-column", "row-filter-bypass", "explain",
                   "hidden-registration", "legitimate"):
        assert needed in kinds
    assert {c.expect for c in cases} == {"refuse", "match", "either"}


@pytest.fixture(params=["extracts", "pyarrow datasets"])
def either_engine(request, engine, engine_without_extracts):
    """Both ways the embedded engine serves a restricted role: its extracts, and the datasets used until they are built."""
    return engine if request.param == "extracts" else engine_without_extracts


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_corpus_statement_is_refused_or_sees_only_the_personas_data(either_engine, oracles, small_lakehouse, persona):
    for case in load_corpus(small_lakehouse):
        assert_governed(either_engine, oracles[persona], case.sql, persona, case.expect)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_athena_guard_refuses_what_must_be_refused(settings, small_lakehouse, persona):
    grants = load_policy(settings.grants_file).for_role(PERSONA_ROLES[persona])
    for case in load_corpus(small_lakehouse):
        if case.expect == "refuse":
            with pytest.raises(DaiviError):
                check_sql(case.sql, grants)


def test_legitimate_queries_are_not_all_refused(engine, small_lakehouse):
    """The property holds trivially for an engine that refuses everything: make sure this one answers."""
    legit = [c for c in load_corpus(small_lakehouse) if c.kind == "legitimate"]
    answered = [c for c in legit if engine_result(engine, c.sql, "teamlead") is not None]
    assert len(answered) == len(legit)


# --- generated statements -----------------------------------------------------------------------------

TABLE_COLUMNS = {
    "daivi_billing.cost_daily": ["account_id", "service_code", "region", "unblended_cost", "billing_period", "usage_date"],
    "daivi_billing.accounts": ["account_id", "account_name", "ou", "owner_email"],
    "daivi_billing.budgets": ["account_id", "monthly_limit"],
    "daivi_cur.cur": ["line_item_usage_account_id", "line_item_product_code", "line_item_unblended_cost", "billing_period"],
    "daivi_inventory.resources": ["account_id", "resource_type", "region", "configuration", "snapshot_date"],
    "daivi_splunk.events": ["account_id", "index_name", "host", "http_status", "event_date"],
}
LITERALS = ["'411111111101'", "'411111111199'", "'security'", "'web'", "'us-east-1'", "500", "0", "NULL"]
CTE_NAMES = ["x", "accounts", "cost_daily", "cur", "events", "resources", "budgets", '"{root}/daivi_billing/accounts/*.parquet"',
             '"{root}/daivi_splunk/events/**/*.parquet"', '"daivi_cur/cur/**/*.parquet"']


@st.composite
def statements(draw) -> str:
    table = draw(st.sampled_from(sorted(TABLE_COLUMNS)))
    columns = TABLE_COLUMNS[table]
    spelled = draw(st.sampled_from([table, table.split(".")[1], '"' + '"."'.join(table.split(".")) + '"']))
    group = draw(st.lists(st.sampled_from(columns), max_size=2, unique=True))
    aggregates = draw(st.lists(st.sampled_from(["count(*)"] + [f"count(DISTINCT {c})" for c in columns]
                                               + [f"max({c})" for c in columns]), min_size=0 if group else 1, max_size=2))
    select = ", ".join([*group, *[f"{a} AS a{i}" for i, a in enumerate(aggregates)]])
    sql = f"SELECT {select} FROM {spelled} t"
    if draw(st.booleans()):
        column, literal = draw(st.sampled_from(columns)), draw(st.sampled_from(LITERALS))
        predicate = draw(st.sampled_from([f"{column} = {literal}", f"{column} <> {literal}", f"{column} IS NULL",
                                          f"NOT ({column} = {literal}) OR true", f"{column} IN ({literal}, {literal})"]))
        sql += f" WHERE {predicate}"
    if group and aggregates:
        sql += " GROUP BY " + ", ".join(group)
    elif group:
        sql = sql.replace("SELECT ", "SELECT DISTINCT ", 1)
    wrap = draw(st.sampled_from(["none", "cte", "subquery", "union"]))
    if wrap == "cte":
        name = draw(st.sampled_from(CTE_NAMES))
        sql = f"WITH {name} AS ({sql}) SELECT * FROM {name}"
    elif wrap == "subquery":
        sql = f"SELECT * FROM ({sql}) s"
    elif wrap == "union":
        sql = f"{sql} UNION ALL {sql}"
    return sql


@pytest.mark.parametrize("persona", PERSONAS)
def test_generated_statements_are_refused_or_see_only_the_personas_data(either_engine, oracles, small_lakehouse, persona):
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(statements())
    def check(sql):
        assert_governed(either_engine, oracles[persona], sql.replace("{root}", str(small_lakehouse)), persona)

    check()
