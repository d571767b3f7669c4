"""Writes an imported lakehouse beside the target and swaps it in only when the whole import succeeded.

Layout is the demo generator's: `<out>/<database>/<table>/<partition_key>=<value>/*.parquet`
for partitioned tables (the partition column lives only in the folder name),
`<out>/<database>/<table>/*.parquet` otherwise, and `manifest.json` at the root,
written last: the engine treats a folder without it as unfinished.

A merge (`--merge`) builds the new folder the same way, then fills it with the
previous lakehouse's files for every partition and table the input does not
cover, as hard links: those files stay byte-identical (the same inodes), cost
no copy, and the swap stays one rename. A merge that stops leaves the previous
lakehouse as it was, like any import.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from daivi_data import catalog
from daivi_data.ingest._sql import ident, lit
from daivi_data.ingest.report import ImportFailed

MANIFEST = "manifest.json"
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"


def check_target(out: Path) -> None:
    """Refuse to replace a folder that is not a lakehouse (say, a home folder given by mistake)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())):
        raise ImportFailed(
            f"{out} exists and is not a lakehouse (no {MANIFEST}); the import replaces its target. "
            "Choose a new or empty folder, or an existing lakehouse."
        )


class LakehouseWriter:
    """A temporary lakehouse folder next to `out`, committed by an atomic rename."""

    def __init__(self, out: Path):
        self.out = Path(out).resolve()
        check_target(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        # One import per target at a time: two swaps racing could leave either half in place.
        self._lock = (self.out.parent / f".{self.out.name}.import.lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise ImportFailed(f"Another import into {self.out} is running; try again when it has finished.") from None
        token = uuid.uuid4().hex[:8]
        self.tmp = self.out.parent / f".{self.out.name}.import-{token}"
        self.tmp.mkdir()
        self._previous = self.out.parent / f".{self.out.name}.previous-{token}"

    @property
    def staging(self) -> Path:
        path = self.tmp / "_staging"
        path.mkdir(exist_ok=True)
        return path

    def table_dir(self, qualified: str) -> Path:
        database, table = qualified.split(".")
        return self.tmp / database / table

    def write_table(self, con: duckdb.DuckDBPyConnection, qualified: str, select_sql: str) -> None:
        """COPY a SELECT (catalog columns in catalog order) into the table's folder."""
        database, name = qualified.split(".")
        table = _catalog_table(database, name)
        folder = self.table_dir(qualified)
        folder.parent.mkdir(parents=True, exist_ok=True)
        if table.partition_keys:
            keys = ", ".join(ident(k) for k in table.partition_keys)
            con.execute(f"COPY ({select_sql}) TO {lit(str(folder))} ({PARQUET_OPTIONS}, PARTITION_BY ({keys}), FILENAME_PATTERN 'part-{{i}}')")
            if not folder.exists():  # no rows: keep the table, empty, so queries see its columns
                con.execute(f"COPY (SELECT * EXCLUDE ({keys}) FROM ({select_sql}) LIMIT 0) TO {lit(str(folder / 'empty.parquet'))} ({PARQUET_OPTIONS})")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY ({select_sql}) TO {lit(str(folder / 'part-0.parquet'))} ({PARQUET_OPTIONS})")

    def new_partitions(self, qualified: str) -> list[str]:
        """The partition folder names ('billing_period=2024-09') this import wrote for a table."""
        folder = self.table_dir(qualified)
        return sorted(p.name for p in folder.glob("*=*") if p.is_dir()) if folder.exists() else []

    def carry_over_table(self, previous: Path, qualified: str) -> bool:
        """Link the previous lakehouse's whole table in, unchanged; False when it has none."""
        database, table = qualified.split(".")
        source = previous / database / table
        if not source.is_dir():
            return False
        _link_tree(source, self.table_dir(qualified))
        return True

    def carry_over_partitions(self, previous: Path, qualified: str) -> list[str]:
        """Link in every partition of the previous table that this import did not write; returns their names.

        A table the import wrote no rows for (only its `empty.parquet` placeholder) takes the
        previous partitions alone.
        """
        database, table = qualified.split(".")
        source = previous / database / table
        target = self.table_dir(qualified)
        if not source.is_dir():
            return []
        written = set(self.new_partitions(qualified))
        kept = sorted(p.name for p in source.glob("*=*") if p.is_dir() and p.name not in written)
        if kept and not written:
            (target / "empty.parquet").unlink(missing_ok=True)
        for name in kept:
            _link_tree(source / name, target / name)
        return kept

    def commit(self, manifest: dict) -> None:
        """Write the manifest last, then swap the new folder in for the old one."""
        shutil.rmtree(self.tmp / "_staging", ignore_errors=True)
        manifest = {"kind": "import", "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **manifest}
        (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        had_previous = self.out.exists()
        if had_previous:
            self.out.rename(self._previous)
        try:
            self.tmp.rename(self.out)
        except OSError:
            if had_previous:
                self._previous.rename(self.out)
            raise
        if had_previous:
            shutil.rmtree(self._previous, ignore_errors=True)
        self._unlock()

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of `source` under `target` (a copy where links are not possible)."""
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)


def read_manifest(root: Path) -> dict:
    """The lakehouse's manifest, or {} when there is none or it is unreadable."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _catalog_table(database: str, name: str) -> catalog.Table:
    for lh in catalog.LAKEHOUSES.values():
        if lh.default_database == database:
            return lh.table(name)
    raise KeyError(database)
