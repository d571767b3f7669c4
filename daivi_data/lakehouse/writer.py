"""The one writer of the lakehouse format, for demo builds and imports alike.

A writer takes a lock on its target (one writer per lakehouse at a time),
writes the whole new lakehouse into a staging folder beside it, writes the
manifest last and swaps the folder in with one rename. Anything that stops
before `commit` (an error, Ctrl-C) leaves the previous lakehouse as it was:
`abort` (or leaving the `with` block by an exception) removes the staging folder.

A merge fills the staging folder with the previous lakehouse's files for every
table and partition the new data does not cover, as hard links: those files stay
byte-identical (the same inodes) and cost no copy. In tables with `MERGE_KEYS`
(inventory snapshots: account and region), a partition the new data covers in
part keeps the previous rows of the values it does not cover: previous files
without a covered row are linked as they are, the others are rewritten without
the covered rows.
"""

# SQL here reads the lakehouse's own files: paths go through `lit`, identifiers through `ident`.
# ruff: noqa: S608

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

import duckdb

from daivi_data.errors import DaiviError
from daivi_data.lakehouse.layout import (
    CLUSTER_KEYS,
    MANIFEST,
    MERGE_KEYS,
    catalog_table,
    partition_folder,
    partitions,
    row_group_rows,
    table_dir,
)
from daivi_data.lakehouse.manifest import FORMAT, format_of, is_outdated, read_manifest, write_manifest
from daivi_data.lakehouse.sql import ident, lit

PARQUET_FORMAT = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
EMPTY_FILE = "empty.parquet"  # a table without rows keeps one file without rows, so queries see its columns


def parquet_options(qualified: str) -> str:
    """The COPY options of a table's files: the one format, and the table's row group size."""
    return f"{PARQUET_FORMAT}, ROW_GROUP_SIZE {row_group_rows(qualified)}"


def clustered(qualified: str, select_sql: str) -> str:
    """`select_sql` in the table's cluster order (`CLUSTER_KEYS`), or as it is for a table without one."""
    keys = CLUSTER_KEYS.get(qualified)
    return f"SELECT * FROM ({select_sql}) c ORDER BY {', '.join(ident(k) for k in keys)}" if keys else select_sql


class LakehouseError(DaiviError):
    """The lakehouse cannot be written as asked; the previous one is untouched."""

    title = "Lakehouse not written"


class Carried(NamedTuple):
    kept: list[str]  # partitions kept whole from the previous lakehouse
    merged: list[str]  # partitions the new data covers in part: the previous rows it does not cover are kept


def check_target(out: Path) -> None:
    """Refuse to replace a folder that is not a lakehouse (say, a home folder given by mistake)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())):
        raise LakehouseError(
            f"{out} exists and is not a lakehouse (no {MANIFEST}); writing a lakehouse replaces its target. "
            "Choose a new or empty folder, or an existing lakehouse."
        )


def check_mergeable(previous: Path) -> None:
    """A merge links the previous files in as they are: they must have the current layout."""
    manifest = read_manifest(previous)
    if is_outdated(manifest) or format_of(manifest) > FORMAT:
        found = format_of(manifest)
        raise LakehouseError(
            f"The lakehouse at {previous} has layout version {found}; this version writes {FORMAT}, so new and "
            "previous files would not match. Import every source again without --merge (or rebuild the demo).")


class LakehouseWriter:
    """A staging lakehouse folder next to `out`, committed by an atomic rename."""

    def __init__(self, out: Path, kind: str):
        self.out = Path(out).resolve()
        self.kind = kind
        check_target(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        # One writer per target at a time: two swaps racing could leave either half in place.
        self._lock = (self.out.parent / f".{self.out.name}.write.lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise LakehouseError(f"Another import into {self.out} (or a demo build) is running; "
                                 "try again when it has finished.") from None
        self.token = uuid.uuid4().hex[:8]
        self.tmp = self.out.parent / f".{self.out.name}.writing-{self.token}"
        self.tmp.mkdir()
        self._previous = self.out.parent / f".{self.out.name}.previous-{self.token}"

    def __enter__(self) -> LakehouseWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    @property
    def scratch(self) -> Path:
        """A folder for staging files and spill, removed before the commit."""
        path = self.tmp / "_scratch"
        path.mkdir(exist_ok=True)
        return path

    def table_dir(self, qualified: str) -> Path:
        return table_dir(self.tmp, qualified)

    def write_table(self, con: duckdb.DuckDBPyConnection, qualified: str, select_sql: str) -> None:
        """COPY a SELECT (catalog columns, partition keys included) into the table's folder, one folder per partition."""
        table = catalog_table(qualified)
        folder = self.table_dir(qualified)
        folder.parent.mkdir(parents=True, exist_ok=True)
        options = parquet_options(qualified)
        if table.partition_keys and qualified in CLUSTER_KEYS:
            self._write_clustered_partitions(con, qualified, select_sql)
        elif table.partition_keys:
            keys = ", ".join(ident(k) for k in table.partition_keys)
            # File names carry this write's token: a merge may put previous files beside them.
            con.execute(f"COPY ({select_sql}) TO {lit(str(folder))} "
                        f"({options}, PARTITION_BY ({keys}), FILENAME_PATTERN 'part-{self.token}-{{i}}')")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY ({select_sql}) TO {lit(str(folder / 'part-0.parquet'))} ({options})")
        if table.partition_keys and not folder.exists():
            keys = ", ".join(ident(k) for k in table.partition_keys)
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT * EXCLUDE ({keys}) FROM ({select_sql}) LIMIT 0) TO {lit(str(folder / EMPTY_FILE))} ({options})")

    def _write_clustered_partitions(self, con: duckdb.DuckDBPyConnection, qualified: str, select_sql: str) -> None:
        """One sorted file per partition value: DuckDB's PARTITION_BY write does not keep the rows' order.
        (Importers reject rows without a partition value before they reach the writer.)"""
        (key,) = catalog_table(qualified).partition_keys
        values = [v for (v,) in con.execute(f"SELECT DISTINCT CAST({ident(key)} AS VARCHAR) FROM ({select_sql}) s "
                                            f"WHERE {ident(key)} IS NOT NULL ORDER BY 1").fetchall()]
        for value in values:
            folder = self.table_dir(qualified) / partition_folder(key, value)
            folder.mkdir(parents=True, exist_ok=True)
            rows = f"SELECT * EXCLUDE ({ident(key)}) FROM ({select_sql}) s WHERE CAST({ident(key)} AS VARCHAR) = {lit(value)}"
            con.execute(f"COPY ({clustered(qualified, rows)}) TO {lit(str(folder / f'part-{self.token}-0.parquet'))} "
                        f"({parquet_options(qualified)})")

    def write_partition(self, con: duckdb.DuckDBPyConnection, qualified: str, select_sql: str,
                        value: str | None = None) -> int:
        """COPY a SELECT of the stored columns (no partition key) as the file of one partition
        (`value`; None for a table without partitions); returns its rows."""
        folder = self.table_dir(qualified)
        if value is not None:
            folder = folder / partition_folder(catalog_table(qualified).partition_keys[0], value)
        folder.mkdir(parents=True, exist_ok=True)
        target = lit(str(folder / "part-00000.parquet"))
        return int(con.execute(f"COPY ({clustered(qualified, select_sql)}) TO {target} ({parquet_options(qualified)})").fetchall()[0][0])

    def new_partitions(self, qualified: str) -> list[str]:
        """The partition folder names ('billing_period=2024-09') written so far for a table."""
        return partitions(self.table_dir(qualified))

    def carry_over_table(self, previous: Path, qualified: str) -> bool:
        """Link the previous lakehouse's whole table in, unchanged; False when it has none."""
        source = table_dir(previous, qualified)
        if not source.is_dir():
            return False
        _link_tree(source, self.table_dir(qualified))
        return True

    def carry_over_partitions(self, con: duckdb.DuckDBPyConnection, previous: Path, qualified: str) -> Carried:
        """Link in every previous partition this write did not cover, and the previous rows of the partitions
        it covers in part (tables with MERGE_KEYS). A table written without rows (only its empty file)
        takes the previous partitions alone."""
        source, target = table_dir(previous, qualified), self.table_dir(qualified)
        if not source.is_dir():
            return Carried([], [])
        written = set(self.new_partitions(qualified))
        kept = [name for name in partitions(source) if name not in written]
        if kept and not written:
            (target / EMPTY_FILE).unlink(missing_ok=True)
        for name in kept:
            _link_tree(source / name, target / name)
        merged = []
        keys = MERGE_KEYS.get(qualified)
        if keys:
            merged = [name for name in sorted(written & set(partitions(source)))
                      if _keep_uncovered_rows(con, source / name, target / name, keys, qualified)]
        return Carried(kept, merged)

    def commit(self, fields: dict) -> dict:
        """Write the manifest last, then swap the new folder in for the old one; returns the manifest."""
        shutil.rmtree(self.tmp / "_scratch", ignore_errors=True)
        manifest = write_manifest(self.tmp, self.kind, fields)
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
        return manifest

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


def _keep_uncovered_rows(con: duckdb.DuckDBPyConnection, source: Path, target: Path, keys: tuple[str, ...],
                         qualified: str) -> bool:
    """Put the rows of `source`'s files whose `keys` the new files in `target` do not cover beside them.

    A previous file without a covered row is linked as it is; one with some is rewritten without them;
    one with only covered rows is left out. True when any previous row was kept.
    """
    new_files = "[" + ", ".join(lit(str(p)) for p in sorted(target.glob("*.parquet"))) + "]"
    covered = f"(SELECT DISTINCT {', '.join(ident(k) for k in keys)} FROM read_parquet({new_files}))"
    match = " AND ".join(f"o.{ident(k)} IS NOT DISTINCT FROM c.{ident(k)}" for k in keys)
    kept_any = False
    for old in sorted(source.glob("*.parquet")):
        rows = f"read_parquet({lit(str(old))}) o"
        total, hit = con.execute(f"SELECT COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM {covered} c WHERE {match})) "
                                 f"FROM {rows}").fetchall()[0]
        if hit == 0:
            _link_file(old, target / old.name)
        elif hit < total:
            kept = f"SELECT o.* FROM {rows} WHERE NOT EXISTS (SELECT 1 FROM {covered} c WHERE {match})"
            con.execute(f"COPY ({clustered(qualified, kept)}) TO {lit(str(target / old.name))} ({parquet_options(qualified)})")
        kept_any = kept_any or hit < total
    return kept_any


def _link_file(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of `source` under `target` (a copy where links are not possible)."""
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            _link_file(path, dest)
