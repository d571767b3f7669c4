"""Bring your own exports: build the embedded lakehouse from real AWS and Splunk files.

`run_import(sources, out)` detects each input's format (CUR 2.0, legacy CUR,
FOCUS, AWS Config snapshots, a resources CSV, Splunk exports), maps it onto
the catalog, validates it, and writes the lakehouse format through its one
writer (`daivi_data.lakehouse`): into a staging folder, swapped in for `out`
only when everything succeeded. `--merge` keeps what the input does not cover.
The command line is `python -m daivi_data.ingest SOURCE... --out DIR`.
"""

from daivi_data.ingest.pipeline import ImportOptions, run_import
from daivi_data.ingest.report import ImportFailed, ImportReport

__all__ = ["ImportFailed", "ImportOptions", "ImportReport", "run_import"]
