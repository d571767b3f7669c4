"""The SQL side of governance: resolve every name by scope, qualify it, refuse the rest.

`govern(tree, grants)` returns a copy of a parsed Athena query in which

- every table reference is resolved with SQL's own scope rules: a name is a CTE
  only where that CTE is visible (after its definition in the same WITH, in the
  scopes below it; in its own body only when the WITH is RECURSIVE), otherwise
  it must be a catalog table the role may read;
- every CTE is renamed to a generated name (`cte_1`, …) and every catalog table
  is written fully qualified (`daivi_cur.cur`), so the SQL that reaches an engine
  holds no name the user chose for a relation — a CTE named like a file path
  is gone before any engine could read it as one;
- every function is a known scalar, aggregate or window function: table,
  metadata, settings, file and session functions are refused, and so are names
  sqlglot does not know unless they are on the Athena allow-list;
- naming a column the role's grant excludes is refused with its name.

Row filters and column exclusions are not written into the SQL: the embedded
engine's per-role database holds only the role's rows and columns (see
`engines/duckdb.py`), and Lake Formation does the same on Athena.
"""

from __future__ import annotations

from sqlglot import exp

from daivi_data import catalog
from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.governance.functions import check_function, check_session_name
from daivi_data.governance.policy import RoleGrants

_TABLE_INDEX = {(lh.default_database, t.name): t for lh in catalog.LAKEHOUSES.values() for t in lh.tables}
# Athena's default catalog name, as the console writes it (`awsdatacatalog.daivi_cur.cur`).
DEFAULT_CATALOG = "awsdatacatalog"
FROM_ITEMS = (exp.Table, exp.Subquery, exp.Unnest, exp.Values)

# Statements and clauses that write, change the shared catalog or run SQL text the rewrite never
# sees: `CALL query('SELECT ...')` or `PRAGMA ...` (parsed as opaque commands) would read around
# the grants, `CREATE OR REPLACE VIEW` would change a table for every user, `SELECT ... INTO` writes.
_NOT_READ_ONLY = tuple(getattr(exp, name) for name in (
    "DDL", "DML", "Command", "Into", "Pragma", "Set", "Describe", "Drop", "Alter", "Copy", "Use", "Transaction",
    "Commit", "Rollback", "Merge", "Cache", "Uncache", "Refresh", "Analyze", "Attach", "Detach", "Export", "Install",
    "LoadData", "Show", "Summarize", "Pivot", "Unpivot", "Lock") if hasattr(exp, name))


def require_read_only(tree: exp.Expr) -> None:
    """Raise AccessDenied unless `tree` is one read-only query (SELECT, WITH, UNION/INTERSECT/EXCEPT)."""
    if not isinstance(tree, exp.Query) or any(isinstance(node, _NOT_READ_ONLY) for node in tree.walk()):
        raise AccessDenied("Only read-only queries (SELECT, WITH, UNION) can run on the lakehouse.")


def resolve_table(node: exp.Table) -> tuple[str, catalog.Table]:
    """(database, table) of a catalog table reference; refuses other catalogs and unknown names."""
    name = node.name.lower()
    db = node.db.lower()
    if node.catalog and node.catalog.lower() != DEFAULT_CATALOG:
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


class _Resolver:
    """One pass over a query tree: CTEs renamed by scope, catalog tables collected and qualified."""

    def __init__(self) -> None:
        self.tables: list[tuple[exp.Table, str, catalog.Table]] = []
        self._cte_count = 0

    def visit(self, node: exp.Expr, visible: dict[str, str]) -> None:
        with_ = node.args.get("with_") if isinstance(node, exp.Query) else None
        if with_ is not None:
            visible = self._visit_with(with_, visible)
        if isinstance(node, exp.Table):
            self._visit_table(node, visible)
        if isinstance(node, (exp.From, exp.Join)):
            _require_from_item(node.this)
        if isinstance(node, exp.Lateral):
            _require_from_item(node.this)
        if isinstance(node, exp.Func):
            check_function(node)
        if isinstance(node, exp.Column):
            check_session_name(node)
        for key, child in node.args.items():
            if key == "with_" and with_ is not None:
                continue
            for item in child if isinstance(child, list) else [child]:
                if isinstance(item, exp.Expr):
                    self.visit(item, visible)

    def _visit_with(self, with_: exp.With, outer: dict[str, str]) -> dict[str, str]:
        visible = dict(outer)
        for cte in with_.expressions:
            name = cte.alias_or_name.lower()
            self._cte_count += 1
            generated = f"cte_{self._cte_count}"
            # A CTE's body sees the CTEs before it, and itself only in a WITH RECURSIVE.
            body_scope = {**visible, name: generated} if with_.args.get("recursive") else visible
            self.visit(cte.this, body_scope)
            reads_itself = any(t.name == generated for t in cte.this.find_all(exp.Table))
            if reads_itself and not isinstance(cte.this, exp.Union):
                raise InvalidRequest(f"The recursive CTE {cte.alias_or_name!r} must be an anchor query UNION ALL a recursive query.")
            alias = cte.args.get("alias")
            columns = alias.args.get("columns") if alias is not None else None
            cte.set("alias", exp.TableAlias(this=exp.to_identifier(generated), columns=columns))
            visible = {**visible, name: generated}
        return visible

    def _visit_table(self, node: exp.Table, visible: dict[str, str]) -> None:
        if not isinstance(node.this, exp.Identifier):
            raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")
        if node.args.get("version") or node.args.get("when") or node.args.get("changes"):
            raise AccessDenied("Time travel and change queries are not available.")
        if not node.db and not node.catalog and node.name.lower() in visible:
            if not node.alias:  # column qualifiers in the query still call it by the name the user gave it
                node.set("alias", exp.TableAlias(this=exp.to_identifier(node.name, quoted=True)))
            node.set("this", exp.to_identifier(visible[node.name.lower()]))
        else:
            db, table = resolve_table(node)
            self.tables.append((node, db, table))
            node.set("this", exp.to_identifier(table.name))
            node.set("db", exp.to_identifier(db))
            node.set("catalog", None)


def _require_from_item(item: exp.Expr | None) -> None:
    if isinstance(item, exp.Lateral):
        item = item.this
    if item is not None and not isinstance(item, FROM_ITEMS):
        raise AccessDenied("Only lakehouse tables can be queried (table functions are not allowed).")


def referenced_tables(tree: exp.Expr) -> list[tuple[exp.Table, str, catalog.Table]]:
    """Every lakehouse table a query reads (resolved by scope), with its database; refuses anything else."""
    return _resolve(tree.copy())[1]


def _resolve(tree: exp.Expr) -> tuple[exp.Expr, list[tuple[exp.Table, str, catalog.Table]]]:
    resolver = _Resolver()
    resolver.visit(tree, {})
    return tree, resolver.tables


def govern(tree: exp.Expr, grants: RoleGrants) -> exp.Expr:
    """A copy of `tree` that names only governed relations; AccessDenied for anything outside `grants`."""
    require_read_only(tree)
    tree, refs = _resolve(tree.copy())
    excluded: dict[str, str] = {}
    for _node, db, table in refs:
        grant = grants.grant_for(db, table.name)
        if grant is None:
            raise AccessDenied(f"Your role ({grants.role}) may not read table {db}.{table.name}.")
        for col in grant.excluded_columns:
            excluded[col.lower()] = f"{db}.{table.name}"
    if excluded:
        # Named references to excluded columns fail loudly; `SELECT *` simply returns
        # the permitted columns, as Lake Formation does.
        for column in tree.find_all(exp.Column):
            if column.name.lower() in excluded:
                raise AccessDenied(
                    f"Your role ({grants.role}) may not read column {column.name} of {excluded[column.name.lower()]}."
                )
    return tree
