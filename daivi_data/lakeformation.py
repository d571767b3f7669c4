"""Governance as code: apply the grants file to Lake Formation, idempotently.

    python -m daivi_data.lakeformation plan            # what would change (reads Lake Formation)
    python -m daivi_data.lakeformation plan --offline  # every grant and filter the file declares, no AWS call
    python -m daivi_data.lakeformation apply           # make Lake Formation match the file

(`python -m daivi_data.governance plan|apply` is the same command.)

The file the embedded engine enforces (`config/grants.toml`) becomes, per role
with an IAM role ARN: DESCRIBE on each database and table it may read; SELECT on
whole tables or database wildcards; SELECT on the table minus its excluded
columns; and, for a row filter, a data cells filter (rows + excluded columns)
with SELECT on it. The command owns the data cells filters whose names start
with `daivi-` (it creates, updates and deletes those only) and the permissions
of the file's roles on the configured databases (it grants what is missing and
revokes what the file no longer declares).

Running it twice changes nothing: Lake Formation lists permissions per
resource (so the command lists each database, its table wildcard, each table
of the catalog contract and each data cells filter on them) and in other
shapes than they were granted, so both sides are folded into one canonical
`Target` before they are compared. `apply` prints the plan before it changes
anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from daivi_data import catalog
from daivi_data.errors import DaiviError
from daivi_data.governance import ALL_TABLES, Policy, load_policy
from daivi_data.settings import Settings, load_settings

FILTER_PREFIX = "daivi-"
MAX_FILTER_NAME = 255
OFFLINE_CATALOG_ID = "<account-id>"


LISTED_ALL_TABLES = "ALL_TABLES"  # the table name Lake Formation lists a TableWildcard grant under


@dataclass(frozen=True, order=True)
class Target:
    """What a permission is on, in one canonical shape whether it came from the grants file or from a listing.

    Lake Formation lists grants in other shapes than they were granted (as
    terraform-provider-aws records in its Lake Formation code): SELECT on
    `Table{Name}` comes back as `TableWithColumns{Name, ColumnWildcard{}}`;
    SELECT on `Table{TableWildcard}` as `TableWithColumns{Name: "ALL_TABLES",
    ColumnWildcard{}}`; DESCRIBE on `Table{TableWildcard}` as
    `Table{Name: "ALL_TABLES", TableWildcard{}}`; and a `ColumnWildcard` may
    lack `ExcludedColumnNames`. `target_of` folds every such shape into one
    Target, so a second plan compares like with like.

    kind: database | table (table "*" = every table) | columns (all but `columns`)
    | column_names (only `columns`; never declared, listed to be revoked) | filter.
    """

    kind: str
    database: str
    table: str = ""
    columns: tuple[str, ...] = ()
    name: str = ""  # data cells filter name

    def resource(self) -> dict:
        """The Resource to grant or revoke it with (the shape GrantPermissions takes, without catalog ids)."""
        if self.kind == "database":
            return {"Database": {"Name": self.database}}
        if self.kind == "filter":
            return {"DataCellsFilter": {"DatabaseName": self.database, "TableName": self.table, "Name": self.name}}
        if self.kind == "columns":
            return {"TableWithColumns": {"DatabaseName": self.database, "Name": self.table,
                                         "ColumnWildcard": {"ExcludedColumnNames": list(self.columns)}}}
        if self.kind == "column_names":
            return {"TableWithColumns": {"DatabaseName": self.database, "Name": self.table, "ColumnNames": list(self.columns)}}
        if self.table == ALL_TABLES:
            return {"Table": {"DatabaseName": self.database, "TableWildcard": {}}}
        return {"Table": {"DatabaseName": self.database, "Name": self.table}}

    def describe(self) -> str:
        if self.kind == "database":
            return f"database {self.database}"
        if self.kind == "filter":
            return f"data cells filter {self.name} on {self.database}.{self.table}"
        if self.kind == "columns":
            return f"{self.database}.{self.table} except columns {', '.join(self.columns)}"
        if self.kind == "column_names":
            return f"{self.database}.{self.table} columns {', '.join(self.columns)}"
        return f"{self.database}.{self.table}"


def target_of(resource: dict) -> Target | None:
    """The canonical Target of a Resource in any shape Lake Formation grants or lists; None if not a kind we manage."""
    if "Database" in resource:
        return Target("database", resource["Database"]["Name"])
    if "DataCellsFilter" in resource:
        r = resource["DataCellsFilter"]
        return Target("filter", r["DatabaseName"], r["TableName"], name=r["Name"])
    if "Table" in resource:
        r = resource["Table"]
        wildcard = "TableWildcard" in r and r.get("Name", LISTED_ALL_TABLES) == LISTED_ALL_TABLES
        return Target("table", r["DatabaseName"], ALL_TABLES if wildcard else r["Name"])
    if "TableWithColumns" in resource:
        r = resource["TableWithColumns"]
        table = ALL_TABLES if r["Name"] == LISTED_ALL_TABLES else r["Name"]
        if "ColumnWildcard" in r:
            excluded = tuple(sorted(r["ColumnWildcard"].get("ExcludedColumnNames") or ()))
            return Target("columns", r["DatabaseName"], table, excluded) if excluded else Target("table", r["DatabaseName"], table)
        return Target("column_names", r["DatabaseName"], table, tuple(sorted(r.get("ColumnNames", ()))))
    return None


@dataclass(frozen=True, order=True)
class Atom:
    """One permission of one principal on one target: the unit Lake Formation grants and revokes."""

    principal: str
    target: Target
    permission: str

    @property
    def resource(self) -> dict:
        return self.target.resource()


@dataclass(frozen=True)
class CellsFilter:
    database: str
    table: str
    name: str
    row_filter: str
    excluded_columns: tuple[str, ...] = ()

    def table_data(self, catalog_id: str) -> dict:
        data: dict[str, object] = {"TableCatalogId": catalog_id, "DatabaseName": self.database, "TableName": self.table, "Name": self.name,
                "RowFilter": {"FilterExpression": self.row_filter} if self.row_filter else {"AllRowsWildcard": {}},
                "ColumnWildcard": {"ExcludedColumnNames": list(self.excluded_columns)}}
        return data


@dataclass
class Plan:
    create_filters: list[CellsFilter] = field(default_factory=list)
    update_filters: list[CellsFilter] = field(default_factory=list)
    delete_filters: list[CellsFilter] = field(default_factory=list)
    grants: list[Atom] = field(default_factory=list)
    revokes: list[Atom] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(len(items) for items in (self.create_filters, self.update_filters, self.delete_filters, self.grants, self.revokes))


def filter_name(role: str, table: str) -> str:
    return f"{FILTER_PREFIX}{role}-{table}"[:MAX_FILTER_NAME]


def desired_state(policy: Policy, settings: Settings) -> tuple[set[Atom], dict[str, CellsFilter], list[str]]:
    """(permission atoms, data cells filters by name, notes) that the grants file declares."""
    databases = {catalog.LAKEHOUSES[k].default_database: v for k, v in settings.databases.items()}
    tables_of = {lh.default_database: [t.name for t in lh.tables] for lh in catalog.LAKEHOUSES.values()}
    atoms: set[Atom] = set()
    filters: dict[str, CellsFilter] = {}
    notes: list[str] = []

    for role, grants in sorted(policy.roles.items()):
        arn = grants.role_arn
        if not arn:
            notes.append(f"role {role} has no role_arn in the grants file: skipped")
            continue

        def add(target: Target, *permissions: str, arn: str = arn) -> None:
            atoms.update(Atom(arn, target, permission) for permission in permissions)

        for grant in grants.grants:
            db = databases.get(grant.database, grant.database)
            add(Target("database", db), "DESCRIBE")
            if grant.table == ALL_TABLES and not grant.excluded_columns and not grant.row_filter:
                add(Target("table", db, ALL_TABLES), "SELECT", "DESCRIBE")
                continue
            names = tables_of[grant.database] if grant.table == ALL_TABLES else [grant.table]
            for table in names:
                add(Target("table", db, table), "DESCRIBE")
                if grant.row_filter:
                    cells = CellsFilter(db, table, filter_name(role, table), grant.row_filter, tuple(sorted(grant.excluded_columns)))
                    filters[cells.name] = cells
                    add(Target("filter", db, table, name=cells.name), "SELECT")
                elif grant.excluded_columns:
                    add(Target("columns", db, table, tuple(sorted(grant.excluded_columns))), "SELECT")
                else:
                    add(Target("table", db, table), "SELECT")
    return atoms, filters, notes


class LakeFormationState:
    """Reads what Lake Formation holds now. `filters_client` defaults to `client` (tests may split them)."""

    def __init__(self, client, catalog_id: str, filters_client=None):
        self.client = client
        self.filters_client = filters_client or client
        self.catalog_id = catalog_id
        self._filters: list[dict] | None = None

    def _all_filters(self) -> list[dict]:
        """Every data cells filter (ListDataCellsFilter), read once per plan."""
        if self._filters is None:
            self._filters = [item for page in _pages(self.filters_client.list_data_cells_filter, {}, "DataCellsFilters")
                             for item in page]
        return self._filters

    def owned_filters(self) -> dict[str, CellsFilter]:
        found: dict[str, CellsFilter] = {}
        for item in self._all_filters():
            if not item["Name"].startswith(FILTER_PREFIX):
                continue
            excluded = (item.get("ColumnWildcard") or {}).get("ExcludedColumnNames") or ()
            found[item["Name"]] = CellsFilter(item["DatabaseName"], item["TableName"], item["Name"],
                                              (item.get("RowFilter") or {}).get("FilterExpression", ""), tuple(sorted(excluded)))
        return found

    def listing_resources(self, tables_by_database: dict[str, list[str]]) -> list[dict]:
        """The resources to list permissions of: each database, its table wildcard, each table, each filter on them.

        Lake Formation lists a principal's permissions only per resource, and a
        table's SELECT under another shape than the grant (see `Target`); every
        shape a grant of ours can take is under one of these.
        """
        resources: list[dict] = []
        for database, tables in sorted(tables_by_database.items()):
            resources.append({"Database": {"CatalogId": self.catalog_id, "Name": database}})
            resources.append({"Table": {"CatalogId": self.catalog_id, "DatabaseName": database, "TableWildcard": {}}})
            resources += [{"Table": {"CatalogId": self.catalog_id, "DatabaseName": database, "Name": t}} for t in sorted(tables)]
        resources += [{"DataCellsFilter": {"TableCatalogId": self.catalog_id, "DatabaseName": f["DatabaseName"],
                                           "TableName": f["TableName"], "Name": f["Name"]}}
                      for f in sorted(self._all_filters(), key=lambda f: (f["DatabaseName"], f["TableName"], f["Name"]))
                      if f["DatabaseName"] in tables_by_database]
        return resources

    def atoms(self, principals: Iterable[str], tables_by_database: dict[str, list[str]]) -> set[Atom]:
        """The permissions these principals hold now on these databases and tables, in canonical shape."""
        wanted = set(principals)
        atoms: set[Atom] = set()
        for resource in self.listing_resources(tables_by_database):
            request = {"CatalogId": self.catalog_id, "Resource": resource}
            for page in _pages(self.client.list_permissions, request, "PrincipalResourcePermissions"):
                for item in page:
                    arn = item.get("Principal", {}).get("DataLakePrincipalIdentifier", "")
                    target = target_of(item.get("Resource", {}))
                    if arn in wanted and target is not None:
                        atoms.update(Atom(arn, target, p) for p in item.get("Permissions", []))
        return atoms


def _pages(call, request: dict, key: str):
    """Each page's `key` list of a paginated Lake Formation call."""
    token = None
    while True:
        page = call(**request, **({"NextToken": token} if token else {}))
        yield page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return


def make_plan(policy: Policy, settings: Settings, state: LakeFormationState | None) -> Plan:
    """What to change so Lake Formation matches the grants file (`state` None = against an empty account)."""
    atoms, filters, notes = desired_state(policy, settings)
    principals = sorted({a.principal for a in atoms})
    tables_by_database = {settings.databases[key]: [t.name for t in lh.tables] for key, lh in catalog.LAKEHOUSES.items()}
    current_filters = state.owned_filters() if state else {}
    current_atoms = state.atoms(principals, tables_by_database) if state else set()
    managed_dbs = set(tables_by_database)
    plan = Plan(notes=notes)
    for name, cells in sorted(filters.items()):
        if name not in current_filters:
            plan.create_filters.append(cells)
        elif current_filters[name] != cells:
            plan.update_filters.append(cells)
    plan.delete_filters = [f for name, f in sorted(current_filters.items()) if name not in filters]
    plan.grants = sorted(atoms - current_atoms)
    # Only what this command owns is revoked: the file's roles, on the configured databases.
    plan.revokes = sorted(a for a in current_atoms - atoms if a.target.database in managed_dbs)
    return plan


def _describe_filter(cells: CellsFilter) -> str:
    parts = [f"rows where {cells.row_filter}" if cells.row_filter else "all rows"]
    if cells.excluded_columns:
        parts.append(f"without columns {', '.join(cells.excluded_columns)}")
    return f"{cells.name} on {cells.database}.{cells.table}: {'; '.join(parts)}"


def plan_lines(plan: Plan) -> list[str]:
    lines = [f"# {note}" for note in plan.notes]
    lines += [f"+ create data cells filter {_describe_filter(f)}" for f in plan.create_filters]
    lines += [f"~ update data cells filter {_describe_filter(f)}" for f in plan.update_filters]
    lines += [f"+ grant {a.permission} on {a.target.describe()} to {a.principal}" for a in plan.grants]
    lines += [f"- revoke {a.permission} on {a.target.describe()} from {a.principal}" for a in plan.revokes]
    lines += [f"- delete data cells filter {_describe_filter(f)}" for f in plan.delete_filters]
    lines.append(f"{plan.changes} change(s)" if plan.changes else "Lake Formation already matches the grants file: nothing to do.")
    return lines


def _with_catalog_ids(resource: dict, catalog_id: str) -> dict:
    kind, body = next(iter(resource.items()))
    key = "TableCatalogId" if kind == "DataCellsFilter" else "CatalogId"
    return {kind: {key: catalog_id, **body}}


def apply_plan(plan: Plan, state: LakeFormationState) -> None:
    """Perform `plan`: filters before the grants that name them, revokes before the filters they name go."""
    cid = state.catalog_id
    for cells in plan.create_filters:
        state.filters_client.create_data_cells_filter(TableData=cells.table_data(cid))
    for cells in plan.update_filters:
        state.filters_client.update_data_cells_filter(TableData=cells.table_data(cid))
    for atom in plan.grants:
        state.client.grant_permissions(CatalogId=cid, Principal={"DataLakePrincipalIdentifier": atom.principal},
                                       Resource=_with_catalog_ids(atom.resource, cid), Permissions=[atom.permission])
    for atom in plan.revokes:
        state.client.revoke_permissions(CatalogId=cid, Principal={"DataLakePrincipalIdentifier": atom.principal},
                                        Resource=_with_catalog_ids(atom.resource, cid), Permissions=[atom.permission])
    for cells in plan.delete_filters:
        state.filters_client.delete_data_cells_filter(TableCatalogId=cid, DatabaseName=cells.database,
                                                      TableName=cells.table, Name=cells.name)


def main(argv: list[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daivi_data.lakeformation", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("plan", "apply"))
    parser.add_argument("--grants", type=Path, help="grants file (default: setting daivi.grants_file)")
    parser.add_argument("--region", help="AWS region (default: setting daivi.athena.region)")
    parser.add_argument("--catalog-id", help="Glue Data Catalog id (default: the caller's account)")
    parser.add_argument("--offline", action="store_true", help="plan against an empty account, without calling AWS")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        settings = load_settings()
        policy = load_policy(args.grants or settings.grants_file)
        if args.offline:
            if args.command == "apply":
                parser.error("--offline only plans")
            _print_plan(make_plan(policy, settings, None), out)
            return 0
        with _lake_formation_errors():
            state = connect(settings, region=args.region, catalog_id=args.catalog_id)
            plan = make_plan(policy, settings, state)
        # The plan is printed before anything changes, so the operator sees what apply is about to do.
        _print_plan(plan, out)
        if args.command == "apply" and plan.changes:
            with _lake_formation_errors():
                apply_plan(plan, state)
            print("applied.", file=out)
    except DaiviError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def connect(settings: Settings, *, region: str | None = None, catalog_id: str | None = None,
            session=None) -> LakeFormationState:
    """Lake Formation of the account the caller's credentials belong to (or of `catalog_id`)."""
    import boto3

    from daivi_data.aws.clients import retry_config

    session = session or boto3.Session(region_name=region or settings.athena.region)
    catalog_id = catalog_id or session.client("sts", config=retry_config(settings)).get_caller_identity()["Account"]
    return LakeFormationState(session.client("lakeformation", config=retry_config(settings)), catalog_id)


def _print_plan(plan: Plan, out) -> None:
    for line in plan_lines(plan):
        print(line, file=out)


@contextmanager
def _lake_formation_errors():
    """AWS failures as one line for the operator, not a traceback."""
    from daivi_data.aws.errors import daivi_error

    try:
        yield
    except DaiviError:
        raise
    except Exception as e:  # noqa: BLE001 - every AWS failure becomes one typed message
        raise daivi_error(e, action="talking to Lake Formation") from None


if __name__ == "__main__":
    sys.exit(main())
