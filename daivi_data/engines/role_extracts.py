"""Role extracts: a restricted table written once as Parquet that holds only what one grant lets through.

The embedded engine's third layer gives a role with a row filter or excluded
columns a relation that physically holds only its rows and columns. Served as a
pyarrow dataset, that relation costs every query of the role two to three times
the admin's time (pyarrow scans and filters every file, then hands DuckDB its
batches). An extract is the same relation written to Parquet once per lakehouse
version and grant: the engine's governed dataset (`governed_dataset`, the one
implementation of exclusions and row filters) streamed partition by partition
into a folder of the same hive layout. The role's database then reads it with
DuckDB's own Parquet reader, and its allowed directories hold the extract's
folder, never the table's: the files it can open still contain only what the
role may read.

Extracts are keyed by the lakehouse's data version and the grant's content
(table, allowed columns, row filter text), so a rebuilt lakehouse or an edited
grant never reads an old one, and two roles with the same grant share one.
They live in a private temporary folder (mode 0700) of the engine, deleted with
it. In `background` mode the first query of a role schedules the builds and is
answered by the pyarrow dataset until they are done; `eager` builds before the
role's database opens (tests, benchmarks); `off` never builds one.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from daivi_data import catalog
from daivi_data.lakehouse.layout import row_group_rows
from daivi_data.settings import ROLE_EXTRACT_MODES

log = logging.getLogger(__name__)

MODES = ROLE_EXTRACT_MODES
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1  # the lakehouse writer's setting: the extract is read far more often than written


@dataclass(frozen=True)
class ExtractSpec:
    """What one extract holds: a table of the lakehouse, under one grant's columns and row filter."""

    database: str
    table: catalog.Table
    folder: Path  # the table's folder in the lakehouse
    dataset: ds.Dataset  # the governed dataset: allowed columns, rows filtered (engines.duckdb.governed_dataset)
    key: str  # data version + grant content, hashed: the extract's folder name


def extract_key(data_version: str, database: str, table: str, columns: list[str], row_filter: str) -> str:
    """The name of the extract of `database.table` with these columns and row filter, for this data version."""
    content = json.dumps([data_version, database, table, columns, row_filter])
    return hashlib.sha256(content.encode()).hexdigest()[:32]


class RoleExtracts:
    """The extracts of one engine: built on demand, read-only once built, removed with the engine."""

    def __init__(self, mode: str = "background"):
        if mode not in MODES:
            raise ValueError(f"role extracts mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self._dir = Path(tempfile.mkdtemp(prefix="daivi-extracts-"))  # 0700: no other user reads or plants files
        self._ready: dict[str, Path] = {}
        self._building: dict[str, concurrent.futures.Future] = {}
        self._lock = threading.Lock()
        self._workers = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="role-extract")
        self._finalizer = weakref.finalize(self, _remove, self._workers, self._dir)

    def folder(self, spec: ExtractSpec) -> Path | None:
        """The extract's folder when it is built; else None (and, in background mode, its build is scheduled)."""
        if self.mode == "off":
            return None
        if self.mode == "eager":
            return self._build_once(spec)
        with self._lock:
            if spec.key in self._ready:
                return self._ready[spec.key]
            if spec.key not in self._building:
                self._building[spec.key] = self._workers.submit(self._build_in_background, spec)
        return None

    def is_ready(self, key: str) -> bool:
        return key in self._ready

    def wait(self, timeout_s: float | None = None) -> None:
        """Until every scheduled build is done (benchmarks and tests)."""
        with self._lock:
            pending = list(self._building.values())
        concurrent.futures.wait(pending, timeout=timeout_s)

    def close(self) -> None:
        self._finalizer()

    def _build_in_background(self, spec: ExtractSpec) -> Path | None:
        try:
            return self._build_once(spec)
        except Exception as e:  # the role's queries keep reading the dataset; its next query schedules the build again
            log.warning("role extract of %s.%s failed, queries read the governed dataset meanwhile: %s",
                        spec.database, spec.table.name, e)
            return None

    def _build_once(self, spec: ExtractSpec) -> Path:
        with self._lock:
            if spec.key in self._ready:
                return self._ready[spec.key]
        started = time.perf_counter()
        staging = Path(tempfile.mkdtemp(prefix=f"{spec.key}.", dir=self._dir))
        try:
            rows = _write_extract(spec, staging)
            final = self._dir / spec.key
            os.replace(staging, final)  # whole or not at all: a reader never sees a half-written extract
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            with self._lock:
                self._building.pop(spec.key, None)  # a later query may try again
            raise
        with self._lock:
            self._ready[spec.key] = final
            self._building.pop(spec.key, None)
        log.info("role extract of %s.%s: %d rows in %.1f s", spec.database, spec.table.name, rows,
                 time.perf_counter() - started)
        return final


def _write_extract(spec: ExtractSpec, out: Path) -> int:
    """The governed dataset written under `out` in the table's own layout; the number of rows written."""
    keys = spec.table.partition_keys
    group_rows = row_group_rows(f"{spec.database}.{spec.table.name}")  # the lakehouse's own: clustered tables keep their skips
    if not keys:
        return _write(spec.dataset.scanner(), out / "data.parquet", group_rows)
    (key,) = keys  # every lakehouse table has at most one partition key
    key_type = spec.dataset.schema.field(key).type
    columns = [name for name in spec.dataset.schema.names if name != key]  # the key lives in the folder name
    rows = 0
    for part in sorted(p for p in spec.folder.glob(f"{key}=*") if p.is_dir()):
        value = pa.scalar(part.name.split("=", 1)[1]).cast(key_type)
        scanner = spec.dataset.scanner(columns=columns, filter=ds.field(key) == value)  # in file order: sorted stays sorted
        rows += _write(scanner, out / part.name / "data.parquet", group_rows)
    return rows


def _write(scanner: ds.Scanner, path: Path, group_rows: int) -> int:
    """The scanner's rows streamed into one Parquet file, in row groups of `group_rows` (memory: about one group)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, pending, pending_rows = 0, [], 0
    with pq.ParquetWriter(path, scanner.projected_schema, compression=COMPRESSION,
                          compression_level=COMPRESSION_LEVEL) as writer:
        for batch in scanner.to_batches():
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= group_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=group_rows)
                rows, pending, pending_rows = rows + pending_rows, [], 0
        # The rest, or an empty group: a partition without the role's rows still has a file with the schema.
        writer.write_table(pa.Table.from_batches(pending, schema=scanner.projected_schema), row_group_size=group_rows)
    return rows + pending_rows


def _remove(workers: concurrent.futures.ThreadPoolExecutor, folder: Path) -> None:
    workers.shutdown(wait=False, cancel_futures=True)
    shutil.rmtree(folder, ignore_errors=True)
