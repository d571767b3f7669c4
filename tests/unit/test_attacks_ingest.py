"""Attacks on `ingest --merge` through the input's own values: a partition value from a file (a billing
export's `billing_period` is taken as it is) never names a folder outside the lakehouse, and an import
that fails leaves the previous lakehouse file for file as it was.

Hypothesis draws hostile values (dot-dot, slashes, backslashes, percent signs, NUL, unicode, names past the
file system's 255 bytes) for a merge into a built lakehouse.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from daivi_data.ingest import ImportFailed, ImportOptions, run_import

HOSTILE = "./\\%=*?:'\"\x00 \né中" + "ab12-"


def write_export(folder: Path, periods: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    n = len(periods)
    pq.write_table(pa.table({"usage_date": ["2026-11-01"] * n, "account_id": ["111111111111"] * n,
                             "service_code": ["AmazonEC2"] * n, "unblended_cost": [1.0] * n, "billing_period": periods}),
                   folder / "billing.parquet")
    return folder


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino)
            for p in sorted(root.rglob("*")) if p.is_file()}


def every_path(root: Path) -> set[str]:
    return {os.path.join(d, f) for d, dirs, files in os.walk(root) for f in [*dirs, *files]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=st.text(alphabet=HOSTILE, min_size=1, max_size=12) | st.sampled_from(["..", "../..", "/etc", "a/../../b"]))
@example(period="../../../../escaped")
@example(period="x" * 300)  # a folder name the file system refuses: the merge fails, the lakehouse stays
def test_no_partition_value_from_a_file_escapes_the_lakehouse(tmp_path_factory, period):
    root = tmp_path_factory.mktemp("attack")
    out = root / "lh"
    run_import([write_export(root / "good", ["2026-11"])], out)
    before, outside = snapshot(out), every_path(root) - every_path(out)
    try:
        run_import([write_export(root / "evil", [period])], out, ImportOptions(merge=True))
    except ImportFailed:
        assert snapshot(out) == before  # the same files, the same inodes: nothing written into them
    created_outside = every_path(root) - every_path(out) - outside
    assert {p for p in created_outside if not p.startswith(str(root / "evil"))} == set()
    assert all(Path(p).resolve().is_relative_to(out.resolve()) for p in every_path(out))
    assert not any(os.path.islink(p) for p in every_path(out))
