"""Where a demo build's time goes: each generator and each table's DuckDB write, timed inside one build.

    python -m bench.build_phases medium /tmp/bench_phases [--end-date 2026-11-24]

Wraps the generators (fleet, CUR month facts, Splunk day events, inventory
resources) and `_Writer.write` per table, builds the lakehouse once and prints
wall and CPU seconds of the whole build (CPU / wall = cores used) and each
phase's wall seconds and share. Run it on a quiet machine: with the next month
generated in the background (daivi_data/demo/ahead.py), a generator's time is
only the part the writer waited for. Not a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from daivi_data.demo import build, cur, inventory, splunk

PHASES: dict[str, float] = collections.defaultdict(float)


def _timed(label: str, fn: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[label] += time.perf_counter() - started
    return wrapper


def _instrument() -> None:
    cur.CurGenerator.month_facts = _timed("numpy: CUR month facts", cur.CurGenerator.month_facts)
    splunk.SplunkGenerator.day_events = _timed("numpy: Splunk day events", splunk.SplunkGenerator.day_events)
    inventory.resources_arrow = _timed("inventory resources table", inventory.resources_arrow)
    build.build_fleet = _timed("fleet (build_fleet)", build.build_fleet)
    write = build._Writer.write

    def timed_write(self, lakehouse, table, sql, partition=None):
        return _timed(f"DuckDB write: {table}", write)(self, lakehouse, table, sql, partition)

    build._Writer.write = timed_write


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scale", choices=sorted(build.SCALES))
    parser.add_argument("out", type=Path)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    args = parser.parse_args(argv)
    _instrument()
    load_before, cpu0, wall0 = os.getloadavg(), _cpu_s(), time.perf_counter()
    build.build_demo_lakehouse(args.out, scale=args.scale, end_date=args.end_date)
    wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
    print(f"{args.scale}: wall {wall:.1f} s, CPU {cpu:.1f} s (cores used {cpu / wall:.2f}); "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores")
    for label, seconds in sorted(PHASES.items(), key=lambda kv: -kv[1]):
        print(f"  {label:34} {seconds:7.1f} s  {seconds / wall:5.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
