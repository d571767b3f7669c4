"""The lakehouse manifest: one schema for demo builds and imports, written last by the writer.

Every manifest holds:

- `format`: the layout version (FORMAT). 2 added `daivi_cur.cur.effective_cost`; a lakehouse of an
  older format must be rebuilt or imported again, not merged into;
- `kind`: "demo" or "import"; `generated_at`: when it was written (UTC, ISO 8601 with Z);
- `tables`: per table `rows`, `bytes`, `partitions`, `min_partition`, `max_partition`, from the files.

A demo adds its scale, seed, end date, incidents, planted findings and personas; an import adds its
report, sources, `refreshed` (per table: when, from where, which partitions) and `source_state`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq

from daivi_data.lakehouse.layout import MANIFEST, TABLES, catalog_table, partitions, table_dir

FORMAT = 2
KINDS = ("demo", "import")


def read_manifest(root: Path) -> dict:
    """The lakehouse's manifest, or {} when there is none or it is unreadable."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def format_of(manifest: dict) -> int:
    """The layout version a manifest says its lakehouse has (imports before version 2 wrote none: 1)."""
    value = manifest.get("format", 1)
    return value if isinstance(value, int) else 1


def is_outdated(manifest: dict) -> bool:
    """True for a manifest a lakehouse writer (demo build or import) wrote in an older layout: its tables
    lack columns the queries read. A manifest without a `kind` was not written by a writer (a test's own)."""
    return manifest.get("kind") in KINDS and format_of(manifest) < FORMAT


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def table_stats(root: Path) -> dict[str, dict]:
    """Rows, bytes and partitions of every table present under `root`, read from the files' own metadata."""
    stats = {}
    for qualified in TABLES:
        folder = table_dir(root, qualified)
        files = sorted(folder.rglob("*.parquet"))
        if not files:
            continue
        names = [p.split("=", 1)[1] for p in partitions(folder)] if catalog_table(qualified).partition_keys else []
        stats[qualified] = {
            "rows": sum(pq.read_metadata(f).num_rows for f in files),
            "bytes": sum(f.stat().st_size for f in files),
            "partitions": len(names),
            "min_partition": names[0] if names else None,
            "max_partition": names[-1] if names else None,
        }
    return stats


def write_manifest(root: Path, kind: str, fields: dict) -> dict:
    """Write `root`'s manifest (format, kind, time, table statistics, then `fields`); returns it."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    manifest = {"format": FORMAT, "kind": kind, "generated_at": now_utc(), "tables": table_stats(root), **fields}
    (Path(root) / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest
