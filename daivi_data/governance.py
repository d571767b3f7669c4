"""Lake-Formation-style grants, and their enforcement on the embedded engine.

Grants are declared once, in `config/grants.toml`, in Lake Formation's own
terms: per role, the tables it may SELECT from, the columns excluded from each
table and a row filter expression (the shape of a data cells filter). On Athena,
Lake Formation enforces them server side. On DuckDB, `govern()` rewrites every
table reference into a filtered, column-restricted subquery, so a query sees
exactly the rows and columns Lake Formation would return. A query that names a
table or column outside the grant fails with `AccessDenied`, as Athena would.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from daivi_data import catalog
from daivi_data.errors import AccessDenied, InvalidRequest, SettingsError

ALL_TABLES = "*"


@dataclass(frozen=True)
class TableGrant:
    database: str
    table: str  # a table name or "*" for every table of the database
    excluded_columns: tuple[str, ...] = ()
    row_filter: str = ""  # Athena SQL boolean expression over the table's columns


@dataclass(frozen=True)
class RoleGrants:
    role: str
    description: str
    role_arn: str
    grants: tuple[TableGrant, ...]

    def grant_for(self, database: str, table: str) -> TableGrant | None:
        """The grant that covers database.table, the most specific first."""
        exact = [g for g in self.grants if g.database == database and g.table == table]
        if exact:
            return exact[0]
        wildcard = [g for g in self.grants if g.database == database and g.table == ALL_TABLES]
        return wildcard[0] if wildcard else None

    def can_read_database(self, database: str) -> bool:
        return any(g.database == database for g in self.grants)

    def can_read_lakehouse(self, key: str) -> bool:
        return self.can_read_database(catalog.lakehouse(key).default_database)


@dataclass(frozen=True)
class Policy:
    roles: dict[str, RoleGrants]

    def for_role(self, role: str) -> RoleGrants:
        try:
            return self.roles[role]
        except KeyError:
            raise AccessDenied(f"Role {role!r} has no grants. Ask the data platform team for access.") from None


def _validate_grant(role: str, grant: TableGrant) -> None:
    where = f"grants for role `{role}` on {grant.database}.{grant.table}"
    known_dbs = {lh.default_database: lh for lh in catalog.LAKEHOUSES.values()}
    if grant.database not in known_dbs:
        raise SettingsError(f"Unknown database in {where}.")
    lh = known_dbs[grant.database]
    tables = [t.name for t in lh.tables] if grant.table == ALL_TABLES else [grant.table]
    for name in tables:
        table = lh.table(name)
        for col in grant.excluded_columns:
            if col not in table.column_names:
                raise SettingsError(f"Unknown excluded column {col!r} in {where}.")
        if grant.row_filter:
            try:
                sqlglot.parse_one(grant.row_filter, read="athena")
            except sqlglot.errors.ParseError as e:
                raise SettingsError(f"Row filter in {where} is not valid SQL: {e}.") from None


@lru_cache(maxsize=8)
def _load_policy_cached(path: Path, mtime: float) -> Policy:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path.name} is not valid TOML: {e}.") from None
    roles = {}
    for role, spec in data.get("roles", {}).items():
        grants = []
        for item in spec.get("tables", []):
            try:
                grant = TableGrant(
                    database=item["database"],
                    table=item.get("table", ALL_TABLES),
                    excluded_columns=tuple(item.get("excluded_columns", ())),
                    row_filter=item.get("row_filter", ""),
                )
            except KeyError as e:
                raise SettingsError(f"A grant of role `{role}` in {path.name} lacks `{e.args[0]}`.") from None
            _validate_grant(role, grant)
            grants.append(grant)
        roles[role] = RoleGrants(role=role, description=spec.get("description", ""), role_arn=spec.get("role_arn", ""), grants=tuple(grants))
    return Policy(roles=roles)


def load_policy(path: Path) -> Policy:
    """The grants file, parsed and validated (re-read when the file changes)."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise SettingsError(f"Grants file not found: {path} (setting `daivi.grants_file`).") from None
    return _load_policy_cached(path, mtime)


# --- enforcement on the embedded engine -------------------------------------------------------

_TABLE_INDEX = {
    (lh.default_database, t.name): t for lh in catalog.LAKEHOUSES.values() for t in lh.tables
}


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _resolve_table(node: exp.Table) -> tuple[str, catalog.Table]:
    """(database, table) of a table reference; unqualified names are looked up in the catalog."""
    name = node.name.lower()
    db = node.db.lower()
    if node.catalog and node.catalog.lower() not in ("awsdatacatalog",):
        raise AccessDenied(f"Catalog {node.catalog!r} is not available.")
    if db:
        table = _TABLE_INDEX.get((db, name))
        if table is None:
            raise InvalidRequest(f"Table {db}.{name} does not exist.")
        return db, table
    matches = [(d, t) for (d, n), t in _TABLE_INDEX.items() if n == name]
    if len(matches) != 1:
        raise InvalidRequest(f"Table {name!r} does not exist; qualify it with its database (e.g. daivi_billing.cost_daily).")
    return matches[0]


def referenced_tables(tree: exp.Expression) -> list[tuple[exp.Table, str, catalog.Table]]:
    """Every lakehouse table a query reads, with its database; refuses anything else.

    Table functions (`read_parquet(...)`, `read_csv(...)`, ...) are refused: on the
    embedded engine they would read files around the grants.
    """
    ctes = _cte_names(tree)
    for source in tree.find_all(exp.From, exp.Join):
        item = source.this
        if isinstance(item, exp.Lateral) and not isinstance(item.this, exp.Subquery):
            raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")
        if not isinstance(item, (exp.Table, exp.Subquery, exp.Unnest, exp.Values, exp.Lateral)):
            raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")
    found = []
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")
        if not node.db and node.name.lower() in ctes:
            continue
        db, table = _resolve_table(node)
        found.append((node, db, table))
    return found


def _governed_subquery(node: exp.Table, db: str, table: catalog.Table, grant: TableGrant) -> exp.Expression:
    columns = [c for c in table.column_names if c not in grant.excluded_columns]
    select = exp.select(*[exp.column(c) for c in columns]).from_(exp.table_(table.name, db=db))
    if grant.row_filter:
        select = select.where(sqlglot.parse_one(grant.row_filter, read="athena"))
    alias = node.alias or table.name
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


# Statements and clauses that write, change the shared catalog or run SQL text the rewrite never
# sees: `CALL query('SELECT ...')` or `PRAGMA ...` (parsed as opaque commands) would read around
# the grants, `CREATE OR REPLACE VIEW` would change a table for every user, `SELECT ... INTO` writes.
_NOT_READ_ONLY = (exp.DDL, exp.DML, exp.Command, exp.Into, exp.Pragma, exp.Set, exp.Describe, exp.Drop, exp.Alter)


def require_read_only(tree: exp.Expression) -> None:
    """Raise AccessDenied unless `tree` is one read-only query (SELECT, WITH, UNION/INTERSECT/EXCEPT)."""
    if not isinstance(tree, exp.Query) or any(isinstance(node, _NOT_READ_ONLY) for node in tree.walk()):
        raise AccessDenied("Only read-only queries (SELECT, WITH, UNION) can run on the lakehouse.")


def govern(tree: exp.Expression, grants: RoleGrants) -> exp.Expression:
    """Return a copy of `tree` that reads only what `grants` allow; raise AccessDenied otherwise."""
    require_read_only(tree)
    tree = tree.copy()
    refs = referenced_tables(tree)
    excluded: dict[str, str] = {}
    for _node, db, table in refs:
        grant = grants.grant_for(db, table.name)
        if grant is None:
            raise AccessDenied(f"Your role ({grants.role}) may not read table {db}.{table.name}.")
        for col in grant.excluded_columns:
            excluded[col.lower()] = f"{db}.{table.name}"
    if excluded:
        # Named references to excluded columns fail loudly; `SELECT *` simply
        # returns the permitted columns, as Lake Formation does.
        for column in tree.find_all(exp.Column):
            if column.name.lower() in excluded:
                raise AccessDenied(
                    f"Your role ({grants.role}) may not read column {column.name} of {excluded[column.name.lower()]}."
                )
    for node, db, table in refs:
        grant = grants.grant_for(db, table.name)
        if grant.excluded_columns or grant.row_filter:
            node.replace(_governed_subquery(node, db, table, grant))
        else:
            node.set("db", exp.to_identifier(db))
            # Athena's `awsdatacatalog.db.table` (as the Athena console writes it) is just db.table here.
            node.set("catalog", None)
    return tree


if __name__ == "__main__":  # `python -m daivi_data.governance plan|apply`: applies this file to Lake Formation
    from daivi_data.lakeformation import main

    raise SystemExit(main())
