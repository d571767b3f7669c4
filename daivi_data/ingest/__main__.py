"""`python -m daivi_data.ingest SOURCE... --out DIR`: import exports into a lakehouse folder.

Exit status 0 when the lakehouse was replaced, 1 when the import stopped (the
previous lakehouse is untouched), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from daivi_data.ingest import ImportFailed, ImportOptions, run_import
from daivi_data.ingest.detect import SUPPORTED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m daivi_data.ingest",
        description=f"Build the embedded lakehouse from export files. Supported: {SUPPORTED}. "
        "Folders are searched recursively, the way AWS lays exports out in S3.",
    )
    parser.add_argument("sources", nargs="+", type=Path, help="export files or folders")
    parser.add_argument("--out", type=Path, required=True, help="lakehouse folder to create or replace (e.g. data/lakehouse)")
    parser.add_argument("--skip-duplicates", action="store_true",
                        help="keep one copy of line items found in several files instead of stopping")
    parser.add_argument("--max-rejected", type=float, default=0.5, metavar="FRACTION",
                        help="stop when more than this fraction of a table's rows is rejected (default 0.5)")
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB memory limit while importing (default 512MB; peak RSS stays about 250 MB above it)")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the partitions the input covers (billing periods, snapshot dates, event dates) "
                             "and keep every other partition of --out as it is")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    def progress(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    options = ImportOptions(skip_duplicates=args.skip_duplicates, max_rejected_fraction=args.max_rejected,
                            memory_limit=args.memory_limit, merge=args.merge)
    try:
        report = run_import(args.sources, args.out, options, progress)
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
        print(json.dumps({"ok": True, "report": report.to_dict()}, indent=2, default=str))
    else:
        print(report.to_text())
        print(f"Lakehouse written to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
