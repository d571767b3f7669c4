"""Lake-Formation-style grants: one versioned policy store, and their enforcement on the embedded engine.

- `policy`: the grants file (`config/grants.toml`) parsed into a versioned `Policy`,
  read through one process-wide `PolicyStore` per file.
- `row_filter`: the row filter subset both Lake Formation and the embedded engine enforce.
- `rewrite`: `govern()` resolves every name in a query by scope, qualifies catalog
  tables, renames CTEs and refuses what the role may not read.
- `functions`: the function allow-lists (deny by default).

`python -m daivi_data.governance plan|apply` applies the same file to Lake Formation.
"""

from daivi_data.governance.policy import (
    ALL_TABLES,
    CAPABILITIES,
    Policy,
    PolicyStore,
    RoleGrants,
    TableGrant,
    load_policy,
    parse_policy,
    policy_store,
)
from daivi_data.governance.rewrite import govern, referenced_tables, require_read_only, resolve_table

__all__ = [
    "ALL_TABLES",
    "CAPABILITIES",
    "Policy",
    "PolicyStore",
    "RoleGrants",
    "TableGrant",
    "govern",
    "load_policy",
    "parse_policy",
    "policy_store",
    "referenced_tables",
    "require_read_only",
    "resolve_table",
]
