"""What the demo build's CUR write costs, and what other Parquet settings and two writer threads would cost.

    python -m bench.write_settings [--scale medium] [--month 10]

Runs a demo build up to its `--month`-th CUR month, then on that month's rows
(the build's own registered tables and SQL) times: the build's COPY, the select
alone, the write alone under several Parquet settings (with file sizes), and two
months' writes one after the other against two threads with a cursor each
(checking the files are byte-identical). Stops there; nothing is kept. For the
writer's owner: build.py's `_Writer` is where these settings live. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

from daivi_data.demo import build

ROW_GROUP = "ROW_GROUP_SIZE 122880"
BUILD_OPTIONS = f"COMPRESSION zstd, {ROW_GROUP}"  # as build.py's _Writer writes
SETTINGS = {
    "zstd (the build's)": BUILD_OPTIONS,
    "zstd, COMPRESSION_LEVEL 1": f"COMPRESSION zstd, COMPRESSION_LEVEL 1, {ROW_GROUP}",
    "snappy": f"COMPRESSION snappy, {ROW_GROUP}",
    "uncompressed": f"COMPRESSION uncompressed, {ROW_GROUP}",
    "snappy, dictionary off": f"COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1, {ROW_GROUP}",
}


class _Stop(Exception):
    pass


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time(label: str, run) -> None:
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    run()
    wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    print(f"  {label:58} wall {wall:6.2f} s  CPU {cpu:6.2f} s", flush=True)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _copy(con, source: str, path: Path, options: str) -> None:
    # Every part is the program's own: the build's SQL, a temp path, the settings above.
    con.execute(f"COPY ({source}) TO '{path}' (FORMAT parquet, {options})")  # noqa: S608


def experiment(con, sql: str, partition: str, work: Path) -> None:
    rows = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]  # noqa: S608 - the build's own SQL
    print(f"CUR month {partition}: {rows:,} rows; load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    _time("the build's COPY (select ...) zstd", lambda: _copy(con, sql, work / "build.parquet", BUILD_OPTIONS))
    _time("the select alone (CREATE TABLE AS, no write)", lambda: con.execute(f"CREATE OR REPLACE TABLE m AS {sql}"))
    for label, options in SETTINGS.items():
        target = work / f"setting-{list(SETTINGS).index(label)}.parquet"
        _time(f"write alone: {label}", lambda t=target, o=options: _copy(con, "SELECT * FROM m", t, o))
        print(f"      {target.stat().st_size / 1e6:.1f} MB")
    options = BUILD_OPTIONS

    def one_after_the_other() -> None:
        for i in range(2):
            _copy(con, "SELECT * FROM m", work / f"seq{i}.parquet", options)

    def two_threads() -> None:
        cursors = [con.cursor() for _ in range(2)]
        threads = [threading.Thread(target=_copy, args=(cursors[i], "SELECT * FROM m", work / f"par{i}.parquet", options))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    _time("two months' writes, one after the other", one_after_the_other)
    _time("two months' writes, two threads with a cursor each", two_threads)
    print(f"  threads write the same bytes: {_md5(work / 'seq0.parquet') == _md5(work / 'par0.parquet')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=sorted(build.SCALES))
    parser.add_argument("--month", type=int, default=10, help="which CUR month of the build (1 = the oldest)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="daivi-write-settings-"))
    write, seen = build._Writer.write, [0]

    def hooked(self, lakehouse, table, sql, partition=None):
        if table == "cur":
            seen[0] += 1
            if seen[0] == args.month:
                experiment(self.con, sql, partition, work)
                raise _Stop
        return write(self, lakehouse, table, sql, partition)

    build._Writer.write = hooked
    try:
        build.build_demo_lakehouse(work / "lakehouse", scale=args.scale, end_date=dt.date(2026, 11, 24))
        print(f"the build has fewer than {args.month} CUR months")
    except _Stop:
        pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
