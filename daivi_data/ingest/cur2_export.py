"""Write a lakehouse's CUR table out as an AWS CUR 2.0 Data Export (CSV.gz or Parquet).

The layout and encoding are what AWS writes to S3:
`<out>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.csv.gz`, CUR 2.0
column names, `resource_tags` as a JSON object in CSV (a map in Parquet),
timestamps as ISO-8601 UTC. The round-trip test (demo -> export -> import)
and the streaming measurement use it; it also hands demo data to tools that
expect a CUR 2.0 export.
"""

# SQL here reads the lakehouse's own files: paths go through `lit`, identifiers come from the catalog.
# ruff: noqa: S608

from __future__ import annotations

from pathlib import Path

import duckdb

from daivi_data import catalog
from daivi_data.ingest._sql import ident, lit
from daivi_data.lakehouse.layout import CUR, SOURCE_ONLY_COLUMNS

CUR_TABLE = catalog.CUR.table("cur")
# What a CUR 2.0 export has: the catalog's CUR columns but the partition key and the other sources' own columns.
EXPORTED = tuple(c for c in CUR_TABLE.columns if c.name != "billing_period" and c.name not in SOURCE_ONLY_COLUMNS[CUR])


def _csv_columns() -> str:
    parts = []
    for col in EXPORTED:
        ref = ident(col.name)
        if col.type == "timestamp":
            parts.append(f"strftime({ref}, '%Y-%m-%dT%H:%M:%S.000Z') AS {ref}")
        elif col.name == "resource_tags":
            parts.append(f"CAST(to_json({ref}) AS VARCHAR) AS {ref}")
        else:
            parts.append(ref)
    return ", ".join(parts)


def export_cur2(lakehouse: Path, out: Path, fmt: str = "csv", export_name: str = "daivi-cur2") -> list[Path]:
    """Write every billing period of `lakehouse`'s CUR as a CUR 2.0 export under `out`; returns the data files."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be csv or parquet, not {fmt!r}")
    source = Path(lakehouse) / "daivi_cur" / "cur"
    rel = f"read_parquet({lit(str(source / '**' / '*.parquet'))}, hive_partitioning = true, hive_types = {{'billing_period': VARCHAR}})"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    periods = [r[0] for r in con.execute(f"SELECT DISTINCT billing_period FROM {rel} ORDER BY 1").fetchall()]
    written = []
    for period in periods:
        folder = Path(out) / export_name / "data" / f"BILLING_PERIOD={period}"
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            target = folder / f"{export_name}-00001.csv.gz"
            con.execute(f"COPY (SELECT {_csv_columns()} FROM {rel} WHERE billing_period = {lit(period)}) TO {lit(str(target))} "
                        "(FORMAT csv, HEADER true, COMPRESSION gzip)")
        else:
            target = folder / f"{export_name}-00001.snappy.parquet"
            cols = ", ".join(ident(c.name) for c in EXPORTED)
            con.execute(f"COPY (SELECT {cols} FROM {rel} WHERE billing_period = {lit(period)}) TO {lit(str(target))} "
                        "(FORMAT parquet, COMPRESSION snappy)")
        written.append(target)
    con.close()
    return written
