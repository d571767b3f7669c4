"""Benchmark the demo lakehouse generator: python -m bench.bench_generate small medium [large] [--seed 7].

Builds each scale into a temporary folder and prints rows per table, size on disk,
wall and CPU seconds and rows per second. The CPU time (all threads) tells how
busy the machine was: on a quiet 2-core machine wall time is close to CPU / 2..1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

from daivi_data.demo import SCALES, build_demo_lakehouse

TABLE_LABELS = {
    "daivi_cur.cur": "cur", "daivi_billing.cost_daily": "cost_daily", "daivi_inventory.resources": "resources",
    "daivi_splunk.events": "events",
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_scale(scale: str, seed: int, end_date: dt.date, keep: Path | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{scale}-"))
    out = (keep / scale) if keep else work / scale
    try:
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        manifest = build_demo_lakehouse(out, scale=scale, seed=seed, end_date=end_date)
        wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tables = manifest["tables"]
    rows = sum(t["rows"] for t in tables.values())
    return {"scale": scale, "tables": tables, "rows": rows, "mb": sum(t["bytes"] for t in tables.values()) / 1e6,
            "wall": wall, "cpu": cpu, "peak_mb": peak_mb}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scales", nargs="+", choices=sorted(SCALES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    parser.add_argument("--keep", type=Path, default=None, help="keep the lakehouses under this folder")
    args = parser.parse_args(argv)
    results = [bench_scale(s, args.seed, args.end_date, args.keep) for s in args.scales]
    head = f"{'scale':<7}" + "".join(f"{label:>12}" for label in TABLE_LABELS.values())
    print(head + f"{'all rows':>12}{'MB':>9}{'wall s':>9}{'cpu s':>9}{'rows/s':>11}{'peak MB':>9}")
    for r in results:
        line = f"{r['scale']:<7}" + "".join(f"{r['tables'][k]['rows']:>12,}" for k in TABLE_LABELS)
        print(line + f"{r['rows']:>12,}{r['mb']:>9.1f}{r['wall']:>9.1f}{r['cpu']:>9.1f}"
              f"{r['rows'] / r['wall']:>11,.0f}{r['peak_mb']:>9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
