"""CLI: python -m daivi_data.demo --scale small|medium|large --out DIR [--seed 7] [--end-date YYYY-MM-DD]."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from daivi_data.demo.build import SCALES, build_demo_lakehouse, default_end_date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daivi_data.demo", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="medium")
    parser.add_argument("--out", required=True, help="target folder (replaced atomically when done)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=None,
                        help=f"last day of data (default: yesterday UTC, {default_end_date()})")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)

    manifest = build_demo_lakehouse(args.out, scale=args.scale, seed=args.seed, end_date=args.end_date,
                                    progress=progress)
    elapsed = time.perf_counter() - started
    print(f"\n{'table':<28} {'rows':>12} {'MB':>9} {'partitions':>10}  range")
    for name, t in manifest["tables"].items():
        rng = f"{t['min_partition']} .. {t['max_partition']}" if t["partitions"] else ""
        print(f"{name:<28} {t['rows']:>12,} {t['bytes'] / 1e6:>9.1f} {t['partitions']:>10}  {rng}")
    total_rows = sum(t["rows"] for t in manifest["tables"].values())
    total_mb = sum(t["bytes"] for t in manifest["tables"].values()) / 1e6
    print(f"{'total':<28} {total_rows:>12,} {total_mb:>9.1f}")
    print(f"\n{args.scale} lakehouse (seed {args.seed}, end {manifest['end_date']}) written to {args.out} "
          f"in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
