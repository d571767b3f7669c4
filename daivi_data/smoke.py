"""Prove a real AWS account once: every role reads what its grants allow and nothing else.

    python -m daivi_data.smoke                      # every role of the grants file, then governance plan twice
    python -m daivi_data.smoke --roles admin,ops-engineer --skip-governance
    python -m daivi_data.smoke --lf-profile lf-admin   # Lake Formation read with another profile

Run it where the app runs, with the app's own role (the grants roles trust only
that role), and the settings the app uses (`engine = "athena"`). For each role
with a `role_arn` in the grants file it assumes the role as the app does
(AssumeRole with SourceIdentity) and runs, on the newest partition only:

- one query per lakehouse: a role that may read it gets rows; one that may not
  must be refused by Lake Formation;
- for each excluded column: selecting it must be refused;
- for each row filter: counting the rows outside the filter must give 0;

then plans `governance` twice, which must both say there is nothing to do
(they need Lake Formation read access: `--lf-profile`). It prints one line per
check (PASS/FAIL, rows, bytes scanned, cost, query id) and exits 1 if any check
failed. It reads little: every query carries a partition predicate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from daivi_data import catalog
from daivi_data.errors import AccessDenied, DaiviError, SettingsError
from daivi_data.governance import ALL_TABLES, Policy, RoleGrants, load_policy
from daivi_data.identity import Principal
from daivi_data.queries import Query, make_query
from daivi_data.settings import Settings, load_settings

if TYPE_CHECKING:
    from daivi_data.lakeformation import LakeFormationState


@dataclass
class Check:
    check: str
    role: str
    target: str
    ok: bool
    detail: str
    bytes_scanned: int = 0
    cost_usd: float = 0.0


def smoke_principal(role: str) -> Principal:
    """The smoke run's identity for `role`: named as such in CloudTrail (its session name and source identity)."""
    return Principal(user_id=f"daivi-smoke-{role}", email="", display_name=f"smoke test ({role})", role=role, source="smoke")


class Smoke:
    """The checks, over an engine (Athena in a real account) and a Lake Formation reader."""

    def __init__(self, settings: Settings, policy: Policy, engine, lake_formation: Callable[[], LakeFormationState] | None):
        self.settings = settings
        self.policy = policy
        self.engine = engine
        self.lake_formation = lake_formation  # () -> LakeFormationState; None = skip the governance checks
        self.checks: list[Check] = []

    def run(self, roles: list[str] | None = None) -> list[Check]:
        for role in roles or sorted(self.policy.roles):
            grants = self.policy.for_role(role)
            if not grants.role_arn:
                self.checks.append(Check("role", role, "-", False, "no role_arn in the grants file"))
                continue
            for lakehouse in catalog.LAKEHOUSES.values():
                self._lakehouse(grants, lakehouse)
            for database, table, grant in self._granted_tables(grants):
                for column in grant.excluded_columns:
                    self._column_denied(grants.role, database, table, column)
                if grant.row_filter:
                    self._rows_filtered(grants.role, database, table, grant.row_filter)
        if self.lake_formation is not None:
            self._governance_twice()
        return self.checks

    # --- the checks ---------------------------------------------------------------------------

    def _lakehouse(self, grants: RoleGrants, lakehouse: catalog.Lakehouse) -> None:
        table = next((t for t in lakehouse.tables if t.partition_keys), lakehouse.tables[0])
        database = lakehouse.default_database
        scope = self._scope(database, table)
        if scope is None:
            self.checks.append(Check("query", grants.role, f"{database}.{table.name}", False, "no partition found to query"))
            return
        where, params = scope
        query = make_query(f"smoke.{database}.{table.name}",
                           f"SELECT COUNT(*) AS n FROM {database}.{table.name}{where}", **params)  # noqa: S608 - catalog names
        allowed = grants.grant_for(database, table.name) is not None
        self._expect(query, grants.role, f"{database}.{table.name}", "query" if allowed else "denied", allowed=allowed)

    def _column_denied(self, role: str, database: str, table: str, column: str) -> None:
        where, params = self._scope(database, self._table(database, table)) or ("", {})
        sql = f"SELECT {column} FROM {database}.{table}{where} LIMIT 1"  # noqa: S608 - names from the grants file
        self._expect(make_query(f"smoke.column.{table}.{column}", sql, **params), role, f"{database}.{table}.{column}",
                     "column denied", allowed=False)

    def _rows_filtered(self, role: str, database: str, table: str, row_filter: str) -> None:
        where, params = self._scope(database, self._table(database, table)) or ("", {})
        joiner = " AND " if where else " WHERE "
        sql = f"SELECT COUNT(*) AS n FROM {database}.{table}{where}{joiner}NOT ({row_filter})"  # noqa: S608 - the grants file
        target = f"{database}.{table}"
        try:
            result = self.engine.run(make_query(f"smoke.rows.{table}", sql, **params), smoke_principal(role))
        except DaiviError as e:
            self.checks.append(Check("rows filtered", role, target, False, str(e)))
            return
        outside = int(result.df["n"].iloc[0]) if len(result.df) else 0
        self.checks.append(self._measured(Check("rows filtered", role, target, outside == 0,
                                                f"{outside} row(s) outside the filter"), result))

    def _governance_twice(self) -> None:
        from daivi_data.aws.errors import daivi_error
        from daivi_data.lakeformation import make_plan

        for attempt in (1, 2):
            try:
                plan = make_plan(self.policy, self.settings, self.lake_formation() if self.lake_formation else None)
            except Exception as e:  # noqa: BLE001 - any failure is this check's FAIL line, not a traceback
                error = daivi_error(e, action="reading Lake Formation")
                self.checks.append(Check("governance plan", "-", f"run {attempt}", False, f"{error} (--lf-profile?)"))
                return
            detail = "nothing to do" if not plan.changes else f"{plan.changes} change(s): run `python -m daivi_data.governance apply`"
            self.checks.append(Check("governance plan", "-", f"run {attempt}", plan.changes == 0, detail))

    # --- helpers ------------------------------------------------------------------------------

    def _expect(self, query: Query, role: str, target: str, check: str, *, allowed: bool) -> None:
        try:
            result = self.engine.run(query, smoke_principal(role))
        except AccessDenied as e:
            self.checks.append(Check(check, role, target, not allowed,
                                     "refused by Lake Formation" if not allowed else f"refused: {e}"))
            return
        except DaiviError as e:
            self.checks.append(Check(check, role, target, False, f"{type(e).__name__}: {e}"))
            return
        detail = f"{result.stats.rows} row(s)" if allowed else "Lake Formation returned data the grants deny"
        self.checks.append(self._measured(Check(check, role, target, allowed, detail), result))

    @staticmethod
    def _measured(check: Check, result) -> Check:
        check.bytes_scanned = int(result.stats.bytes_scanned or 0)
        check.cost_usd = float(result.stats.cost_usd or 0.0)
        if result.stats.query_id:
            check.detail += f" (query {result.stats.query_id})"
        return check

    @staticmethod
    def _table(database: str, table: str) -> catalog.Table:
        lakehouse = next(lh for lh in catalog.LAKEHOUSES.values() if lh.default_database == database)
        return lakehouse.table(table)

    def _scope(self, database: str, table: catalog.Table) -> tuple[str, dict] | None:
        """(' WHERE key = :p', params) for the newest partition; ('', {}) for an unpartitioned table; None if none found."""
        if not table.partition_keys:
            return "", {}
        key = table.partition_keys[0]
        latest = self.engine.table_info(database, table.name).latest_partition
        if not latest:
            return None
        date_typed = any(c.name == key and c.type == "date" for c in table.columns)
        value: object = dt.date.fromisoformat(latest) if date_typed else latest
        return f" WHERE {key} = :p", {"p": value}

    def _granted_tables(self, grants: RoleGrants):
        for grant in grants.grants:
            lakehouse = next((lh for lh in catalog.LAKEHOUSES.values() if lh.default_database == grant.database), None)
            if lakehouse is None:
                continue
            names = [t.name for t in lakehouse.tables] if grant.table == ALL_TABLES else [grant.table]
            for name in names:
                yield grant.database, name, grant


def report_lines(checks: list[Check]) -> list[str]:
    """A fixed-width table, then totals and the verdict."""
    header = ("result", "check", "role", "target", "bytes", "cost", "detail")
    rows = [("PASS" if c.ok else "FAIL", c.check, c.role, c.target, f"{c.bytes_scanned:,}", f"${c.cost_usd:.4f}", c.detail)
            for c in checks]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in [header, *rows]]
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks)} check(s), {failed} failed; scanned {sum(c.bytes_scanned for c in checks):,} bytes, "
                 f"${sum(c.cost_usd for c in checks):.4f}")
    lines.append("PASS" if checks and not failed else "FAIL")
    return lines


def main(argv: list[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daivi_data.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", help="comma-separated grants roles (default: all)")
    parser.add_argument("--skip-governance", action="store_true", help="do not plan governance twice")
    parser.add_argument("--lf-profile", help="AWS profile for reading Lake Formation (default: the current credentials)")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        settings = load_settings()
        if settings.engine != "athena":
            raise SettingsError("The smoke test proves an AWS account: set `daivi.engine = \"athena\"` (and the Athena settings).")
        policy = load_policy(settings.grants_file)
        from daivi_data.engines.athena import AthenaEngine

        engine = AthenaEngine(settings)
        lake_formation = None
        if not args.skip_governance:
            import boto3

            from daivi_data.lakeformation import connect

            session = boto3.Session(profile_name=args.lf_profile, region_name=settings.athena.region)
            lake_formation = lambda: connect(settings, session=session)  # noqa: E731 - a fresh read per plan
        roles = [r.strip() for r in args.roles.split(",")] if args.roles else None
        checks = Smoke(settings, policy, engine, lake_formation).run(roles)
    except DaiviError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in report_lines(checks):
        print(line, file=out)
    return 0 if checks and all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

