"""`python -m daivi_data.ingest SOURCE... --out DIR [--merge] [--watch INTERVAL]`: import exports into a lakehouse folder.

SOURCE is a file, a folder, or an `s3://bucket/prefix/` where an export lands
(read with your own AWS credentials; only the partitions that changed since the
last import are fetched, and merged in). `--watch 1h` repeats the refresh every
hour until stopped; a cron line does the same without a running process:

    17 * * * *  cd /srv/daivi && .venv/bin/python -m daivi_data.ingest s3://my-bucket/cur/ --out data/lakehouse --merge

Exit status 0 when the lakehouse was replaced (or was already up to date), 1 when
the import stopped (the previous lakehouse is untouched), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from daivi_data.ingest import ImportFailed, ImportOptions, run_import
from daivi_data.ingest.detect import SUPPORTED

INTERVAL = re.compile(r"^(\d+)([smhd]?)$")
UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_WATCH_INTERVAL_S = 60  # exports refresh a few times a day at most; a tighter loop only costs S3 requests


def interval_seconds(text: str) -> int:
    """'90', '15m', '1h', '1d' -> seconds (argparse type)."""
    match = INTERVAL.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an interval like 15m, 1h or 1d")
    seconds = int(match.group(1)) * UNIT_S[match.group(2)]
    if seconds < MIN_WATCH_INTERVAL_S:
        raise argparse.ArgumentTypeError(f"the interval must be at least {MIN_WATCH_INTERVAL_S} s")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m daivi_data.ingest",
        description=f"Build the embedded lakehouse from export files. Supported: {SUPPORTED}. "
        "Folders are searched recursively, the way AWS lays exports out in S3; s3:// sources are fetched "
        "incrementally with your AWS credentials.",
    )
    parser.add_argument("sources", nargs="+", help="export files or folders, or s3://bucket/prefix/ of an export")
    parser.add_argument("--out", type=Path, required=True, help="lakehouse folder to create or replace (e.g. data/lakehouse)")
    parser.add_argument("--skip-duplicates", action="store_true",
                        help="keep one copy of line items found in several files instead of stopping")
    parser.add_argument("--max-rejected", type=float, default=0.5, metavar="FRACTION",
                        help="stop when more than this fraction of a table's rows is rejected (default 0.5)")
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB memory limit while importing (default 512MB; peak RSS stays about 250 MB above it)")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the partitions the input covers (billing periods, snapshot dates, event dates; "
                             "in a snapshot date only the accounts and regions its Config snapshots cover) and keep "
                             "everything else of --out as it is (always on for s3:// sources)")
    parser.add_argument("--watch", type=interval_seconds, metavar="INTERVAL",
                        help="refresh again every INTERVAL (e.g. 15m, 1h, 1d) until stopped; failures are reported and retried")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    def progress(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    options = ImportOptions(skip_duplicates=args.skip_duplicates, max_rejected_fraction=args.max_rejected,
                            memory_limit=args.memory_limit, merge=args.merge)
    remote = [s for s in args.sources if s.startswith("s3://")]
    local = [Path(s) for s in args.sources if not s.startswith("s3://")]
    if args.watch and not remote:
        parser.error("--watch refreshes s3:// sources; local folders are imported once (use a cron line to repeat).")
    while True:
        status = _run_once(remote, local, args, options, progress)
        if not args.watch:
            return status
        print(f"Next refresh in {args.watch} s (Ctrl-C stops).", file=sys.stderr)
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:
            return status


def _run_once(remote: list[str], local: list[Path], args: argparse.Namespace, options: ImportOptions, progress) -> int:
    try:
        if remote:
            from daivi_data.ingest.s3 import refresh_from_s3

            result = refresh_from_s3(remote, args.out, options, progress, local_sources=local)
            report = result.report
            text = result.to_text()
        else:
            report = run_import(local, args.out, options, progress)
            text = report.to_text()
    except ImportFailed as e:
        if args.json:
            print(json.dumps({"ok": False, "error": str(e), "report": e.report.to_dict()}, indent=2, default=str))
        else:
            text = e.report.to_text()
            if text:
                print(text)
            print(f"Import stopped: {e}\nThe lakehouse at {args.out} was not changed.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"ok": True, "up_to_date": report is None, "report": report.to_dict() if report else None},
                         indent=2, default=str))
    elif report is None:
        print(text)
        print(f"Nothing changed since the last import; the lakehouse at {args.out} is up to date.")
    else:
        print(text)
        print(f"Lakehouse written to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
