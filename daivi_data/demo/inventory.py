"""The inventory lakehouse: one AWS Config-like snapshot of every resource per day.

A snapshot of day D lists every resource that existed at some time during D
(so every CUR line of D with a resource id has its inventory row on D), in the
state it had at the end of D: instances deleted during D show as `terminated`,
other deleted resources as `deleted`. Raw tag keys (`team`, `environment`,
`cost-center`, `application`, `Name`) are those of the resource, before CUR's
`user_` prefix.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from daivi_data.demo.fleet import Fleet, resource_config_json

STATIC_STATE = {
    "nat": "available", "alb": "active", "bucket": "available", "rds": "available", "lambda": "Active",
    "dynamodb": "ACTIVE", "eks": "ACTIVE", "cloudfront": "Deployed", "notebook": "InService",
    "endpoint": "InService", "redshift": "available", "opensearch": "Active", "elasticache": "available",
    "kms": "Enabled", "zone": "active", "loggroup": "active", "vpc": "available", "subnet": "available",
    "sg": "active", "snapshot": "completed",
}
NAME_TAGGED = ("instance", "volume", "snapshot", "eip", "nat", "vpc", "subnet", "sg")


def resources_arrow(fleet: Fleet) -> pa.Table:
    """Resource attributes as an Arrow table for DuckDB (times as fractional epoch days)."""
    r = fleet.resources
    kind = r["kind"].to_numpy(dtype=object)
    name = r["name"].to_numpy(dtype=object)
    created_us = np.round(r["created"].to_numpy(float) * 86_400_000_000).astype(np.int64)

    def s(col: str, values=None) -> pa.Array:
        v = r[col].to_numpy(dtype=object) if values is None else values
        return pa.array(v, type=pa.string(), from_pandas=True)

    def f(col: str) -> pa.Array:
        v = r[col].to_numpy(float)
        return pa.array(np.where(np.isfinite(v), v, 1e9))

    size = r["size_gb"].to_numpy(float)
    show_size = np.isin(kind, ["volume", "snapshot", "bucket", "rds", "opensearch", "redshift", "dynamodb"])
    itype = r["itype"].to_numpy(dtype=object)
    return pa.table({
        "kind": s("kind"), "account_id": s("account_id"), "region": s("region"), "resource_type": s("rtype"),
        "resource_id": s("resource_id"), "arn": s("arn"), "resource_name": s("name"),
        "created_at": pa.array(created_us, type=pa.timestamp("us")),
        "created": f("created"), "deleted": f("deleted"), "stopped": f("stopped"), "detached": f("detached"),
        "resized": f("resized"),
        "itype": s("itype", np.where(itype == "", None, itype)), "itype_new": s("itype_new"),
        "volume_type": s("vtype", np.where(kind == "volume", r["vtype"].to_numpy(dtype=object), None)),
        "size_gb": pa.array(np.where(show_size & np.isfinite(size), size, np.nan), from_pandas=True),
        "attached_to": s("attached_to"),
        "encrypted": pa.array(r["encrypted"].to_numpy(bool)), "public": pa.array(r["public"].to_numpy(bool)),
        "t_team": s("tag_team"), "t_env": s("tag_env"), "t_cc": s("tag_cc"), "t_app": s("tag_app"),
        "t_name": s("name", np.where(np.isin(kind, NAME_TAGGED) & (name != ""), name, None)),
        "cfg": s("kind", resource_config_json(r)),
    })


def snapshot_sql(day: int) -> str:
    """Rows of the snapshot of epoch day `day` (columns of the catalog, without the partition)."""
    end = day + 1
    static = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STATIC_STATE.items())
    return f"""
WITH r AS (
  SELECT *,
    deleted < {end} AS gone,
    CASE WHEN kind IN ('volume', 'eip') THEN detached >= {end} AND attached_to <> '' ELSE NULL END AS linked,
    CASE WHEN resized < {end} THEN itype_new ELSE itype END AS itype_now
  FROM res
  WHERE created < {end} AND deleted >= {day}
), s AS (
  SELECT *,
    CASE
      WHEN kind = 'instance' THEN CASE WHEN gone THEN 'terminated' WHEN stopped < {end} THEN 'stopped'
                                       ELSE 'running' END
      WHEN gone THEN 'deleted'
      WHEN kind = 'volume' THEN CASE WHEN linked THEN 'in-use' ELSE 'available' END
      WHEN kind = 'eip' THEN CASE WHEN linked THEN 'associated' ELSE 'unassociated' END
      ELSE CASE kind {static} ELSE 'active' END
    END AS state
  FROM r
)
SELECT
  account_id, region, resource_type, resource_id, arn, resource_name, state, created_at,
  map_from_entries(list_filter([
      {{'key': 'team', 'value': t_team}}, {{'key': 'environment', 'value': t_env}},
      {{'key': 'cost-center', 'value': t_cc}}, {{'key': 'application', 'value': t_app}},
      {{'key': 'Name', 'value': t_name}}], lambda e: e.value IS NOT NULL)) AS tags,
  itype_now AS instance_type,
  volume_type,
  size_gb,
  linked AS attached,
  CASE WHEN linked THEN attached_to ELSE NULL END AS attached_to,
  encrypted,
  public,
  replace(replace(replace(replace(cfg,
      '"@STATE@"', '"' || state || '"'),
      '"@CODE@"', CASE state WHEN 'running' THEN '16' WHEN 'stopped' THEN '80' WHEN 'terminated' THEN '48'
                  ELSE '0' END),
      '"@ITYPE@"', '"' || coalesce(itype_now, '') || '"'),
      '"@ATTACH@"', CASE
          WHEN kind = 'volume' AND linked THEN '[{{"instanceId":"' || attached_to ||
               '","state":"attached","device":"/dev/xvdf","deleteOnTermination":false}}]'
          WHEN kind = 'volume' THEN '[]'
          WHEN kind = 'eip' AND linked THEN '"eipassoc-0' || substr(md5(resource_id), 1, 16) || '"'
          ELSE 'null' END) AS configuration
FROM s
"""  # noqa: S608
