"""One contract for every named query (daivi_data/queries/registry.py), on its sample arguments.

Each query
1. parses as Athena (sqlglot's athena dialect; placeholders only where Athena binds them);
2. governs for each role of config/grants.toml: a role the grants let read every table and
   column it names gets governed, DuckDB-checked SQL that names only that role's relations;
   any other role, and a role without grants, gets AccessDenied, never a rewrite;
3. prunes partitions: every SELECT that scans a partitioned table has, in its WHERE, a
   conjunct on that table's partition key with a bound parameter;
4. renders as its committed snapshot (tests/fixtures/query_snapshots/): the Athena SQL as
   sent and the DuckDB SQL the embedded engine runs for the admin. After an intended change,
   refresh with `pytest tests/sql/test_query_contract.py --update-snapshots` (or
   DAIVI_UPDATE_SNAPSHOTS=1) and review the diff.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from daivi_data import catalog
from daivi_data.engines.duckdb import governed_relations, translate
from daivi_data.errors import AccessDenied
from daivi_data.governance import RoleGrants, load_policy
from daivi_data.queries import placeholder_names, registry
from daivi_data.settings import Settings
from tests.helpers import FIXTURES

SNAPSHOTS = FIXTURES / "query_snapshots"
POLICY = load_policy(Settings().grants_file)
NO_GRANTS = RoleGrants(role="no-grants", description="a role the grants file does not give any table", role_arn="", grants=())
PARTITION_KEYS = {(lh.default_database, t.name): t.partition_keys
                  for lh in catalog.LAKEHOUSES.values() for t in lh.tables if t.partition_keys}


def _keys() -> list[str]:
    """Every registered builder; "<module>.*" for a module whose sample arguments cannot be built (its test says why)."""
    keys = []
    for module, samples in registry.SAMPLE_ARGS.items():
        try:
            keys += [f"{module}.{name}" for name in samples() if f"{module}.{name}" in registry.builders()]
        except Exception:  # reported by the test of that module ("<module>.*")
            keys.append(f"{module}.*")
    return sorted(keys)


def test_every_public_query_builder_is_registered_and_every_snapshot_belongs_to_one(update_snapshots):
    assert not registry.unregistered(), f"add sample arguments to SAMPLE_ARGS in daivi_data/queries/registry.py for {registry.unregistered()}"
    assert not registry.stale(), f"remove from SAMPLE_ARGS in daivi_data/queries/registry.py (no such Query builder): {registry.stale()}"
    expected = {snapshot_path(named.key).name for named in registry.all_queries()}
    orphans = sorted(p.name for p in SNAPSHOTS.glob("*.sql") if p.name not in expected)
    if update_snapshots:
        for name in orphans:
            (SNAPSHOTS / name).unlink()
    else:
        assert not orphans, f"snapshots of no registered query (refresh with --update-snapshots): {orphans}"


@pytest.mark.parametrize("key", _keys())
def test_query_contract(key, update_snapshots):
    if key.endswith(".*"):
        registry.SAMPLE_ARGS[key[:-2]]()  # raises: the sample arguments no longer fit the builders
    for named in registry.queries_of(key):
        tree = sqlglot.parse_one(named.query.sql, read="athena")
        assert set(placeholder_names(named.query.sql)) == set(named.query.param_dict), named.key
        assert not unpruned_scans(tree), f"{named.key}: SELECT over a partitioned table without a bound partition predicate: {unpruned_scans(tree)}"
        duckdb_sql = governed_for_each_role(named, tree)
        check_snapshot(named, rendering(named, duckdb_sql), update_snapshots)


# --- 2. governance --------------------------------------------------------------------------------


def readable_by(grants: RoleGrants, tree: exp.Expression) -> bool:
    """Whether the grants cover every catalog table the query names, and none of the columns it names is excluded."""
    excluded = set()
    for table in tree.find_all(exp.Table):
        if not table.db:
            continue  # a CTE or an alias: resolved by the governance rewrite
        grant = grants.grant_for(table.db, table.name)
        if grant is None:
            return False
        excluded |= {c.lower() for c in grant.excluded_columns}
    return not any(column.name.lower() in excluded for column in tree.find_all(exp.Column))


def governed_for_each_role(named: registry.NamedQuery, tree: exp.Expression) -> str:
    """The admin's DuckDB SQL, after checking every role (and one without grants) gets exactly what its grants say."""
    rendered = {}
    for grants in (*POLICY.roles.values(), NO_GRANTS):
        if readable_by(grants, tree):
            duckdb_sql, _ = translate(named.query.sql, grants)  # governs, then checks DuckDB's own parse
            relations = {(t.db, t.name) for t in sqlglot.parse_one(duckdb_sql, read="duckdb").find_all(exp.Table) if t.db}
            assert relations <= governed_relations(grants), (named.key, grants.role, relations - governed_relations(grants))
            rendered[grants.role] = duckdb_sql
        else:
            with pytest.raises(AccessDenied, match=f"Your role \\({grants.role}\\) may not read"):
                translate(named.query.sql, grants)
    assert "no-grants" not in rendered
    assert "admin" in rendered, f"{named.key}: the admin cannot run it"
    return rendered["admin"]


# --- 3. partition pruning -------------------------------------------------------------------------


def unpruned_scans(tree: exp.Expression) -> list[str]:
    """The partitioned tables some SELECT scans without a bound predicate on their partition key."""
    missing = []
    for table in tree.find_all(exp.Table):
        keys = PARTITION_KEYS.get((table.db, table.name), ())
        if not keys:
            continue
        where = table.find_ancestor(exp.Select).args.get("where")
        conjuncts = list(where.this.flatten()) if where is not None and isinstance(where.this, exp.And) else [where.this] if where else []
        names = {"", table.alias_or_name, table.name}
        if not any(binds(c, key, names) for c in conjuncts for key in keys):
            missing.append(f"{table.db}.{table.name}")
    return missing


# Comparisons of the bare partition key with a bound value (`contains(:periods, key)` is Athena's IN over a list).
PRUNING = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In, exp.ArrayContains)


def binds(condition: exp.Expression, key: str, table_names: set[str]) -> bool:
    """Whether a condition restricts `key` of the table by a bound parameter, in every branch of an OR."""
    if isinstance(condition, exp.Paren):
        return binds(condition.this, key, table_names)
    if isinstance(condition, exp.Or):
        return binds(condition.left, key, table_names) and binds(condition.right, key, table_names)
    if isinstance(condition, exp.And):
        return any(binds(c, key, table_names) for c in condition.flatten())
    if not isinstance(condition, PRUNING):  # NOT, <>, a function of the key...: Athena reads every partition
        return False
    operands = [condition.this, *condition.expressions] if isinstance(condition, exp.In) else list(condition.args.values())
    on_key = any(isinstance(o, exp.Column) and o.name == key and o.table in table_names for o in operands)
    return on_key and any(isinstance(o, exp.Placeholder) for o in operands)


# --- 4. snapshots ---------------------------------------------------------------------------------


def snapshot_path(key: str):
    return SNAPSHOTS / (key.replace("[", ".").replace("]", "") + ".sql")


def rendering(named: registry.NamedQuery, duckdb_sql: str) -> str:
    params = "\n".join(f"--   :{name} = {value!r}" for name, value in named.query.params) or "--   (none)"
    duckdb_pretty = sqlglot.parse_one(duckdb_sql, read="duckdb").sql(dialect="duckdb", pretty=True)
    return (f"-- {named.key} ({named.query.name}), sample arguments from daivi_data/queries/registry.py.\n"
            f"-- Refresh: pytest tests/sql/test_query_contract.py --update-snapshots\n"
            f"-- Parameters:\n{params}\n\n"
            f"-- Athena, as sent:\n{named.query.sql.strip()}\n;\n\n"
            f"-- DuckDB, as the embedded engine runs it for the admin (governed):\n{duckdb_pretty}\n;\n")


def check_snapshot(named: registry.NamedQuery, text: str, update: bool) -> None:
    path = snapshot_path(named.key)
    if update:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot {path.relative_to(FIXTURES.parent.parent)}: run with --update-snapshots and commit it"
    assert path.read_text() == text, f"{named.key} renders differently from {path.name}: if intended, refresh with --update-snapshots"


@pytest.mark.parametrize("sql", [
    "SELECT 1 FROM daivi_cur.cur",
    "SELECT 1 FROM daivi_cur.cur WHERE billing_period = '2026-11'",  # pruned, but not bound
    "SELECT 1 FROM daivi_cur.cur c JOIN daivi_billing.cost_daily d ON c.x = d.x WHERE c.billing_period = :p",
    "SELECT 1 FROM daivi_cur.cur WHERE billing_period = :p OR line_item_usage_account_id = :a",
    "SELECT 1 FROM daivi_cur.cur WHERE NOT billing_period = :p AND line_item_usage_account_id = :a",
    "SELECT 1 FROM daivi_cur.cur WHERE billing_period <> :p",
    "SELECT 1 FROM daivi_cur.cur WHERE substr(billing_period, 1, 4) = :year",
    "SELECT * FROM (SELECT x FROM daivi_inventory.resources) WHERE snapshot_date = :d",  # the predicate is outside the scan
    "WITH e AS (SELECT * FROM daivi_splunk.events WHERE account_id = :a) SELECT * FROM e WHERE event_date = :d",
])
def test_the_pruning_check_finds_every_scan_without_a_bound_partition_predicate(sql):
    assert unpruned_scans(sqlglot.parse_one(sql, read="athena"))


@pytest.mark.parametrize("sql", [
    "SELECT 1 FROM daivi_cur.cur WHERE billing_period = :p",
    "SELECT 1 FROM daivi_billing.cost_daily c WHERE contains(:periods, c.billing_period) AND c.usage_date BETWEEN :s AND :e",
    "SELECT 1 FROM daivi_splunk.events WHERE (event_date BETWEEN :s AND :e) AND event_time >= :t",
    "SELECT 1 FROM daivi_billing.accounts",  # not partitioned
])
def test_the_pruning_check_accepts_bound_partition_predicates(sql):
    assert not unpruned_scans(sqlglot.parse_one(sql, read="athena"))
