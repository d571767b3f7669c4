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
revokes what the file no longer declares). Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from daivi_data import catalog
from daivi_data.errors import DaiviError
from daivi_data.governance import ALL_TABLES, Policy, load_policy
from daivi_data.settings import Settings, load_settings

FILTER_PREFIX = "daivi-"
MAX_FILTER_NAME = 255
OFFLINE_CATALOG_ID = "<account-id>"


@dataclass(frozen=True)
class Atom:
    """One permission of one principal on one resource: the unit Lake Formation grants and revokes."""

    principal: str
    resource_json: str  # canonical JSON of the Resource (without catalog ids)
    permission: str

    @property
    def resource(self) -> dict:
        return json.loads(self.resource_json)


@dataclass(frozen=True)
class CellsFilter:
    database: str
    table: str
    name: str
    row_filter: str
    excluded_columns: tuple[str, ...] = ()

    def table_data(self, catalog_id: str) -> dict:
        data = {"TableCatalogId": catalog_id, "DatabaseName": self.database, "TableName": self.table, "Name": self.name,
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
        return sum(map(len, (self.create_filters, self.update_filters, self.delete_filters, self.grants, self.revokes)))


def _canonical(resource: dict) -> str:
    """A resource without catalog ids, keys and column lists sorted: equal resources compare equal."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in sorted(value.items()) if k not in ("CatalogId", "TableCatalogId")}
        if isinstance(value, list):
            return sorted(clean(v) for v in value)
        return value
    return json.dumps(clean(resource), sort_keys=True)


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

        def add(resource: dict, *permissions: str, arn: str = arn) -> None:
            for permission in permissions:
                atoms.add(Atom(arn, _canonical(resource), permission))

        for grant in grants.grants:
            db = databases.get(grant.database, grant.database)
            add({"Database": {"Name": db}}, "DESCRIBE")
            if grant.table == ALL_TABLES and not grant.excluded_columns and not grant.row_filter:
                add({"Table": {"DatabaseName": db, "TableWildcard": {}}}, "SELECT", "DESCRIBE")
                continue
            names = tables_of[grant.database] if grant.table == ALL_TABLES else [grant.table]
            for table in names:
                add({"Table": {"DatabaseName": db, "Name": table}}, "DESCRIBE")
                if grant.row_filter:
                    cells = CellsFilter(db, table, filter_name(role, table), grant.row_filter, tuple(sorted(grant.excluded_columns)))
                    filters[cells.name] = cells
                    add({"DataCellsFilter": {"DatabaseName": db, "TableName": table, "Name": cells.name}}, "SELECT")
                elif grant.excluded_columns:
                    add({"TableWithColumns": {"DatabaseName": db, "Name": table,
                                              "ColumnWildcard": {"ExcludedColumnNames": sorted(grant.excluded_columns)}}}, "SELECT")
                else:
                    add({"Table": {"DatabaseName": db, "Name": table}}, "SELECT")
    return atoms, filters, notes


def _resource_database(resource: dict) -> str:
    for kind in ("Database", "Table", "TableWithColumns", "DataCellsFilter"):
        if kind in resource:
            return resource[kind].get("Name" if kind == "Database" else "DatabaseName", "")
    return ""


class LakeFormationState:
    """Reads what Lake Formation holds now. `filters_client` defaults to `client` (tests may split them)."""

    def __init__(self, client, catalog_id: str, filters_client=None):
        self.client = client
        self.filters_client = filters_client or client
        self.catalog_id = catalog_id

    def owned_filters(self) -> dict[str, CellsFilter]:
        found: dict[str, CellsFilter] = {}
        token = None
        while True:
            page = self.filters_client.list_data_cells_filter(**({"NextToken": token} if token else {}))
            for item in page.get("DataCellsFilters", []):
                if not item["Name"].startswith(FILTER_PREFIX):
                    continue
                excluded = item.get("ColumnWildcard", {}).get("ExcludedColumnNames", [])
                found[item["Name"]] = CellsFilter(item["DatabaseName"], item["TableName"], item["Name"],
                                                  item.get("RowFilter", {}).get("FilterExpression", ""), tuple(sorted(excluded)))
            token = page.get("NextToken")
            if not token:
                return found

    def atoms(self, principals: Iterable[str]) -> set[Atom]:
        """The permissions these principals hold now (Lake Formation lists by principal only with a resource)."""
        wanted = set(principals)
        atoms: set[Atom] = set()
        token = None
        while True:
            page = self.client.list_permissions(CatalogId=self.catalog_id, **({"NextToken": token} if token else {}))
            for item in page.get("PrincipalResourcePermissions", []):
                arn = item.get("Principal", {}).get("DataLakePrincipalIdentifier", "")
                if arn in wanted:
                    atoms.update(Atom(arn, _canonical(item["Resource"]), p) for p in item.get("Permissions", []))
            token = page.get("NextToken")
            if not token:
                return atoms


def make_plan(policy: Policy, settings: Settings, state: LakeFormationState | None) -> Plan:
    """What to change so Lake Formation matches the grants file (`state` None = against an empty account)."""
    atoms, filters, notes = desired_state(policy, settings)
    principals = sorted({a.principal for a in atoms})
    current_filters = state.owned_filters() if state else {}
    current_atoms = state.atoms(principals) if state else set()
    managed_dbs = set(settings.databases.values())
    plan = Plan(notes=notes)
    for name, cells in sorted(filters.items()):
        if name not in current_filters:
            plan.create_filters.append(cells)
        elif current_filters[name] != cells:
            plan.update_filters.append(cells)
    plan.delete_filters = [f for name, f in sorted(current_filters.items()) if name not in filters]
    plan.grants = sorted(atoms - current_atoms, key=_atom_order)
    # Only what this command owns is revoked: the file's roles, on the configured databases.
    plan.revokes = sorted((a for a in current_atoms - atoms if _resource_database(a.resource) in managed_dbs), key=_atom_order)
    return plan


def _atom_order(atom: Atom) -> tuple:
    return (atom.principal, atom.resource_json, atom.permission)


def describe_resource(resource: dict) -> str:
    if "Database" in resource:
        return f"database {resource['Database']['Name']}"
    if "DataCellsFilter" in resource:
        r = resource["DataCellsFilter"]
        return f"data cells filter {r['Name']} on {r['DatabaseName']}.{r['TableName']}"
    if "TableWithColumns" in resource:
        r = resource["TableWithColumns"]
        return f"{r['DatabaseName']}.{r['Name']} except columns {', '.join(r['ColumnWildcard']['ExcludedColumnNames'])}"
    r = resource["Table"]
    return f"{r['DatabaseName']}.{r.get('Name', '*')}"


def _describe_filter(cells: CellsFilter) -> str:
    parts = [f"rows where {cells.row_filter}" if cells.row_filter else "all rows"]
    if cells.excluded_columns:
        parts.append(f"without columns {', '.join(cells.excluded_columns)}")
    return f"{cells.name} on {cells.database}.{cells.table}: {'; '.join(parts)}"


def plan_lines(plan: Plan) -> list[str]:
    lines = [f"# {note}" for note in plan.notes]
    lines += [f"+ create data cells filter {_describe_filter(f)}" for f in plan.create_filters]
    lines += [f"~ update data cells filter {_describe_filter(f)}" for f in plan.update_filters]
    lines += [f"+ grant {a.permission} on {describe_resource(a.resource)} to {a.principal}" for a in plan.grants]
    lines += [f"- revoke {a.permission} on {describe_resource(a.resource)} from {a.principal}" for a in plan.revokes]
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
            plan = make_plan(policy, settings, None)
        else:
            import boto3

            from daivi_data.aws.credentials import retry_config
            from daivi_data.aws.errors import daivi_error

            session = boto3.Session(region_name=args.region or settings.athena.region)
            try:
                catalog_id = args.catalog_id or session.client("sts").get_caller_identity()["Account"]
                state = LakeFormationState(session.client("lakeformation", config=retry_config(settings)), catalog_id)
                plan = make_plan(policy, settings, state)
                if args.command == "apply":
                    apply_plan(plan, state)
            except DaiviError:
                raise
            except Exception as e:  # noqa: BLE001 - one line for the operator, not a traceback
                raise daivi_error(e, action="talking to Lake Formation") from None
    except DaiviError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in plan_lines(plan):
        print(line, file=out)
    if args.command == "apply" and plan.changes:
        print("applied.", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
