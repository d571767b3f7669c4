"""A plain CSV of resources -> daivi_inventory.resources.

Headers are matched loosely (case, spaces, dashes and underscores ignored), so
the catalog's own names (`resource_id`), AWS-style names (`resourceId`,
`Resource ID`, `ARN`, `AWS Account`) and a CMDB export all work. Tags come
from a `tags` column holding a JSON object, or from `tag:<Key>` / `tags.<Key>`
columns. Without a snapshot date column the import day (UTC) is used, and the
report says so.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import re

from daivi_data import catalog
from daivi_data.ingest._sql import (
    as_double,
    as_utc_timestamp,
    as_varchar,
    catalog_select,
    columns_map_to_tags,
    ident,
    json_tags_to_map,
    lit,
)

RESOURCES = catalog.INVENTORY.table("resources")

ALIASES = {
    "account_id": ("accountid", "awsaccount", "awsaccountid", "account", "owneraccountid"),
    "region": ("region", "awsregion", "regioncode"),
    "resource_type": ("resourcetype", "type"),
    "resource_id": ("resourceid", "identifier", "id"),
    "arn": ("arn", "resourcearn"),
    "resource_name": ("resourcename", "name", "hostname"),
    "state": ("state", "status"),
    "created_at": ("createdat", "creationtime", "resourcecreationtime", "createdtime", "launchtime"),
    "instance_type": ("instancetype",),
    "volume_type": ("volumetype",),
    "size_gb": ("sizegb", "size", "sizegib"),
    "attached": ("attached",),
    "attached_to": ("attachedto",),
    "encrypted": ("encrypted",),
    "public": ("public", "publiclyaccessible"),
    "configuration": ("configuration",),
    "snapshot_date": ("snapshotdate", "date", "capturedate"),
    "tags": ("tags",),
}


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def resolve_columns(headers: list[str]) -> dict[str, str]:
    """catalog column -> CSV header, first alias match wins."""
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(_norm(h), h)
    found: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in (_norm(name), *aliases):
            if alias in by_norm:
                found[name] = by_norm[alias]
                break
    if "resource_id" not in found and "arn" in found:
        found["resource_id"] = found["arn"]
    return found


def missing_required(headers: list[str]) -> list[str]:
    found = resolve_columns(headers)
    return [c for c in ("resource_id", "resource_type") if c not in found]


def _tag_columns(headers: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for h in headers:
        m = re.match(r"^(?:tag:|tags\.|tag_)(.+)$", h, re.IGNORECASE)
        if m:
            tags.setdefault(m.group(1), h)
    return tags


def build_select(reader: str, headers: list[str], import_day: dt.date) -> str:
    found = resolve_columns(headers)
    exprs: dict[str, str] = {}
    for col in RESOURCES.columns:
        if col.name not in found or col.name == "tags":
            continue
        ref = ident(found[col.name])
        if col.type == "double":
            exprs[col.name] = as_double(ref)
        elif col.type == "timestamp":
            exprs[col.name] = as_utc_timestamp(ref)
        elif col.type == "boolean":
            exprs[col.name] = f"TRY_CAST({as_varchar(ref)} AS BOOLEAN)"
        elif col.type == "date":
            exprs[col.name] = f"TRY_CAST({as_utc_timestamp(ref)} AS DATE)"
        else:
            exprs[col.name] = as_varchar(ref)
    if "snapshot_date" not in found:
        exprs["snapshot_date"] = f"DATE {lit(import_day.isoformat())}"
    if "account_id" not in found and "arn" in found:
        exprs["account_id"] = f"NULLIF(split_part({as_varchar(ident(found['arn']))}, ':', 5), '')"
    if "region" not in found and "arn" in found:
        exprs["region"] = f"NULLIF(split_part({as_varchar(ident(found['arn']))}, ':', 4), '')"
    tag_cols = _tag_columns(headers)
    if "tags" in found:
        exprs["tags"] = json_tags_to_map(ident(found["tags"]))
    else:
        exprs["tags"] = columns_map_to_tags(tag_cols)
    if "resource_id" in exprs:  # a resource without a name of its own is known by its id
        exprs.setdefault("resource_name", exprs["resource_id"])
    raw_date = as_varchar(ident(found["snapshot_date"])) if "snapshot_date" in found else "NULL"
    extra = {"_source_file": "filename", "_raw_date": raw_date}
    inner = f"SELECT\n  {catalog_select(RESOURCES, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_raw_date),
  CASE
    WHEN resource_id IS NULL THEN 'resource id is empty'
    WHEN resource_type IS NULL THEN 'resource type is empty'
    WHEN snapshot_date IS NULL THEN 'snapshot date is missing or not a date'
  END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, 'resource_id=' || COALESCE(resource_id, '(empty)'),
            'resource_type=' || COALESCE(resource_type, '(empty)'), 'snapshot_date=' || COALESCE(_raw_date, '(empty)')) AS _reject_detail
FROM ({inner})
"""
