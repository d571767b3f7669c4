"""The grants, in Lake Formation's terms, and the one versioned store they are read from.

Grants are declared once, in `config/grants.toml`: per role, the tables it may
SELECT from, the columns excluded from each and a row filter expression (the
shape of a Lake Formation data cells filter). Everything that needs them — the
engines, navigation, the SQL guard, cache keys, `governance plan|apply` — asks
`policy_store(path).current()`, so all of them see the same `Policy` and the
same `version` (a hash of the file's bytes). An edited file takes effect for the
next call; a broken one fails closed (no query runs under stale, broader grants).
"""

from __future__ import annotations

import hashlib
import os
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from daivi_data import catalog
from daivi_data.errors import AccessDenied, SettingsError
from daivi_data.governance.row_filter import RowFilter, parse_row_filter

ALL_TABLES = "*"
# Capabilities a role may be given besides reading tables (`capabilities = ["import"]` in the grants file).
CAPABILITIES = ("import",)


@dataclass(frozen=True)
class TableGrant:
    database: str
    table: str  # a table name or "*" for every table of the database
    excluded_columns: tuple[str, ...] = ()
    row_filter: str = ""  # Athena SQL boolean expression over the table's columns (a restricted subset)

    @property
    def is_full(self) -> bool:
        """Every row and column of the table: no exclusion, no filter."""
        return not self.excluded_columns and not self.row_filter


@dataclass(frozen=True)
class RoleGrants:
    role: str
    description: str
    role_arn: str
    grants: tuple[TableGrant, ...]
    capabilities: tuple[str, ...] = ()
    policy_version: str = ""  # the version of the file these came from: part of every cache key

    def grant_for(self, database: str, table: str) -> TableGrant | None:
        """The grant that covers database.table, the most specific first."""
        exact = [g for g in self.grants if g.database == database and g.table == table]
        if exact:
            return exact[0]
        wildcard = [g for g in self.grants if g.database == database and g.table == ALL_TABLES]
        return wildcard[0] if wildcard else None

    def readable_tables(self) -> list[tuple[str, catalog.Table, TableGrant]]:
        """Every catalog table this role may read, with the grant that covers it."""
        found = []
        for lh in catalog.LAKEHOUSES.values():
            for table in lh.tables:
                grant = self.grant_for(lh.default_database, table.name)
                if grant is not None:
                    found.append((lh.default_database, table, grant))
        return found

    def can_read_database(self, database: str) -> bool:
        return any(g.database == database for g in self.grants)

    def can_read_lakehouse(self, key: str) -> bool:
        return self.can_read_database(catalog.lakehouse(key).default_database)

    def has_capability(self, capability: str) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True)
class Policy:
    roles: dict[str, RoleGrants]
    version: str = ""  # sha256 of the grants file's bytes (first 16 hex digits)
    row_filters: dict[str, RowFilter] = field(default_factory=dict, compare=False, repr=False)

    def for_role(self, role: str) -> RoleGrants:
        try:
            return self.roles[role]
        except KeyError:
            raise AccessDenied(f"Role {role!r} has no grants. Ask the data platform team for access.") from None

    def current(self) -> Policy:
        """A fixed policy is its own store (tests and tools that pin one version)."""
        return self

    def row_filter(self, text: str) -> RowFilter:
        """The parsed form of a row filter of this policy (validated when the policy was loaded)."""
        return self.row_filters.get(text) or parse_row_filter(text)


def _validate_grant(role: str, grant: TableGrant) -> RowFilter | None:
    where = f"grants for role `{role}` on {grant.database}.{grant.table}"
    known_dbs = {lh.default_database: lh for lh in catalog.LAKEHOUSES.values()}
    if grant.database not in known_dbs:
        raise SettingsError(f"Unknown database in {where}.")
    lh = known_dbs[grant.database]
    if grant.table != ALL_TABLES and grant.table not in {t.name for t in lh.tables}:
        raise SettingsError(f"Unknown table in {where}.")
    tables = [t.name for t in lh.tables] if grant.table == ALL_TABLES else [grant.table]
    parsed = None
    if grant.row_filter:
        try:
            parsed = parse_row_filter(grant.row_filter)
        except SettingsError as e:
            raise SettingsError(f"Row filter in {where}: {e}") from None
    for name in tables:
        table = lh.table(name)
        for col in grant.excluded_columns:
            if col not in table.column_names:
                raise SettingsError(f"Unknown excluded column {col!r} in {where}.")
        if parsed is not None:
            for col in parsed.columns:
                if col not in table.column_names:
                    raise SettingsError(f"Row filter in {where} names unknown column {col!r}.")
                if col in grant.excluded_columns:
                    # The embedded engine filters the files before it projects them; a filter over a
                    # column the role cannot read would need that column in the role's relation.
                    raise SettingsError(f"Row filter in {where} uses excluded column {col!r}; filter on a column the role may read.")
    return parsed


def parse_policy(raw: bytes, name: str = "grants.toml") -> Policy:
    """A policy from the grants file's bytes: parsed, validated, versioned."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"{name} is not valid TOML: {e}.") from None
    version = hashlib.sha256(raw).hexdigest()[:16]
    roles: dict[str, RoleGrants] = {}
    row_filters: dict[str, RowFilter] = {}
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
                raise SettingsError(f"A grant of role `{role}` in {name} lacks `{e.args[0]}`.") from None
            parsed = _validate_grant(role, grant)
            if parsed is not None:
                row_filters[grant.row_filter] = parsed
            grants.append(grant)
        capabilities = tuple(spec.get("capabilities", ()))
        unknown = [c for c in capabilities if c not in CAPABILITIES]
        if unknown:
            raise SettingsError(f"Role `{role}` in {name} has unknown capabilities {unknown}; known: {', '.join(CAPABILITIES)}.")
        roles[role] = RoleGrants(role=role, description=spec.get("description", ""), role_arn=spec.get("role_arn", ""),
                                 grants=tuple(grants), capabilities=capabilities, policy_version=version)
    return Policy(roles=roles, version=version, row_filters=row_filters)


class PolicyStore:
    """The grants file, loaded once and parsed again whenever its bytes change (checked on every `current()`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._policy: Policy | None = None

    def current(self) -> Policy:
        """The policy as the file says now; SettingsError (fail closed) when the file is missing or broken.

        The file is small: reading and hashing it on every call costs microseconds and, unlike a
        modification time, cannot miss an edit.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise SettingsError(f"Grants file not found: {self.path} (setting `daivi.grants_file`).") from None
        version = hashlib.sha256(raw).hexdigest()[:16]
        with self._lock:
            if self._policy is None or self._policy.version != version:
                # A broken edit is not cached: every call says so until the file is fixed.
                self._policy = parse_policy(raw, self.path.name)
            return self._policy


_stores: dict[Path, PolicyStore] = {}
_stores_lock = threading.Lock()


def policy_store(path: Path) -> PolicyStore:
    """The one store of the grants file at `path` in this process."""
    key = Path(os.path.abspath(path))  # not resolve(): no syscalls per call; a symlink is followed at every read
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = PolicyStore(key)
        return store


def load_policy(path: Path) -> Policy:
    """The grants file's current policy (from the process-wide store)."""
    return policy_store(path).current()
