"""AWS Config snapshot JSON -> daivi_inventory.resources.

AWS Config delivers a snapshot as one JSON object (often gzipped) at
`AWSLogs/<account>/Config/<region>/<y>/<m>/<d>/ConfigSnapshot/<account>_Config_<region>_ConfigSnapshot_<YYYYMMDDTHHMMSSZ>_<id>.json.gz`
with every recorded resource in `configurationItems`. The snapshot day comes
from that file name (or folder), else from the latest capture time in the
file. Typed attributes (instance type, volume size, attachment, encryption,
public exposure) are read from each item's `configuration`, which is also
kept whole in `configuration`. Deleted resources are not part of a snapshot
of what exists, so they are rejected with that reason.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

from pathlib import Path

from daivi_data import catalog
from daivi_data.ingest._sql import catalog_select, json_tags_to_map, lit

RESOURCES = catalog.INVENTORY.table("resources")
REQUIRED = ("resourceType", "resourceId")
MIN_OBJECT_BYTES = 16 * 1024 * 1024
_DAY_FROM_NAME = r"ConfigSnapshot_(\d{8})T"
_DAY_FROM_FOLDER = r"/(\d{4})/(\d{1,2})/(\d{1,2})/ConfigSnapshot/"


def _s(path: str) -> str:
    return f"NULLIF(json_extract_string(item, {lit(path)}), '')"


def _b(path: str) -> str:
    return f"TRY_CAST(json_extract_string(item, {lit(path)}) AS BOOLEAN)"


def _json_size(path: str) -> int:
    """Uncompressed size of a snapshot (gzip keeps it, modulo 4 GiB, in its last four bytes)."""
    p = Path(path)
    if p.name.lower().endswith(".gz"):
        with p.open("rb") as f:
            f.seek(-4, 2)
            return int.from_bytes(f.read(4), "little")
    return p.stat().st_size


def build_select(files: list[str]) -> str:
    listing = "[" + ", ".join(lit(f) for f in files) + "]"
    # A snapshot is one JSON object: DuckDB must hold the largest one whole, so size the buffer to it.
    max_object = max(MIN_OBJECT_BYTES, *(_json_size(f) + 1024 for f in files))
    # Each item stays JSON: resource configurations have a different shape per type.
    reader = (
        f"(SELECT filename, unnest(CAST(json_extract(json, '$.configurationItems') AS JSON[])) AS item "
        f"FROM read_json_objects({listing}, format = 'auto', filename = true, maximum_object_size = {max_object}))"
    )
    state = f"COALESCE({_s('$.configuration.state.name')}, " \
            f"CASE WHEN json_type(item, '$.configuration.state') = 'VARCHAR' THEN {_s('$.configuration.state')} END, " \
            f"{_s('$.configuration.dBInstanceStatus')}, " \
            f"CASE WHEN {_s('$.resourceType')} = 'AWS::EC2::EIP' THEN " \
            f"CASE WHEN {_s('$.configuration.associationId')} IS NULL THEN 'unassociated' ELSE 'associated' END END, " \
            f"{_s('$.configurationItemStatus')})"
    attachments = "json_array_length(json_extract(item, '$.configuration.attachments'))"
    exprs = {
        "account_id": _s("$.awsAccountId"),
        "region": _s("$.awsRegion"),
        "resource_type": _s("$.resourceType"),
        "resource_id": _s("$.resourceId"),
        "arn": _s("$.ARN"),
        "resource_name": f"COALESCE({_s('$.resourceName')}, {_s('$.tags.Name')}, {_s('$.resourceId')})",
        "state": state,
        "created_at": f"timezone('UTC', TRY_CAST({_s('$.resourceCreationTime')} AS TIMESTAMPTZ))",
        "tags": json_tags_to_map("json_extract(item, '$.tags')"),
        "instance_type": f"COALESCE({_s('$.configuration.instanceType')}, {_s('$.configuration.dBInstanceClass')})",
        "volume_type": _s("$.configuration.volumeType"),
        "size_gb": f"TRY_CAST(COALESCE({_s('$.configuration.size')}, {_s('$.configuration.allocatedStorage')}) AS DOUBLE)",
        "attached": f"CASE {_s('$.resourceType')} WHEN 'AWS::EC2::Volume' THEN COALESCE({attachments}, 0) > 0 "
                    f"WHEN 'AWS::EC2::EIP' THEN {_s('$.configuration.associationId')} IS NOT NULL END",
        "attached_to": f"COALESCE({_s('$.configuration.attachments[0].instanceId')}, {_s('$.configuration.instanceId')})",
        "encrypted": f"COALESCE({_b('$.configuration.encrypted')}, {_b('$.configuration.storageEncrypted')})",
        "public": f"CASE WHEN {_s('$.resourceType')} = 'AWS::EC2::Instance' THEN {_s('$.configuration.publicIpAddress')} IS NOT NULL "
                  f"ELSE {_b('$.configuration.publiclyAccessible')} END",
        "configuration": "CAST(json_extract(item, '$.configuration') AS VARCHAR)",
        "snapshot_date": (
            f"COALESCE(TRY_STRPTIME(NULLIF(regexp_extract(filename, '{_DAY_FROM_NAME}', 1), ''), '%Y%m%d')::DATE, "
            f"TRY_CAST(NULLIF(regexp_extract(filename, '{_DAY_FROM_FOLDER}', ['y', 'm', 'd']).y, '') || '-' || "
            f"regexp_extract(filename, '{_DAY_FROM_FOLDER}', ['y', 'm', 'd']).m || '-' || "
            f"regexp_extract(filename, '{_DAY_FROM_FOLDER}', ['y', 'm', 'd']).d AS DATE), "
            f"MAX(TRY_CAST(timezone('UTC', TRY_CAST({_s('$.configurationItemCaptureTime')} AS TIMESTAMPTZ)) AS DATE)) "
            f"OVER (PARTITION BY filename))"
        ),
    }
    extra = {
        "_source_file": "filename",
        "_status": _s("$.configurationItemStatus"),
    }
    inner = f"SELECT\n  {catalog_select(RESOURCES, exprs, extra)}\nFROM {reader}"
    return f"""
SELECT * EXCLUDE (_status),
  CASE
    WHEN resource_id IS NULL OR resource_type IS NULL THEN 'configuration item without resourceId or resourceType'
    WHEN _status IN ('ResourceDeleted', 'ResourceDeletedNotRecorded') THEN 'resource deleted (configurationItemStatus ' || _status || ')'
    WHEN snapshot_date IS NULL THEN 'no snapshot date (file name, folder or configurationItemCaptureTime)'
  END AS _reject_reason,
  concat_ws(', ', 'file ' || _source_file, 'resourceType=' || COALESCE(resource_type, '(empty)'),
            'resourceId=' || COALESCE(resource_id, '(empty)')) AS _reject_detail
FROM ({inner})
"""
