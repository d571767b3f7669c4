"""The lakehouse format's one owner: layout versions, the one manifest schema, the writer's lock and rollback."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

from daivi_data import lakehouse
from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.errors import DataUnavailable
from daivi_data.governance import load_policy
from daivi_data.ingest import ImportFailed, ImportOptions, run_import
from daivi_data.lakehouse.layout import CLUSTERED_ROW_GROUP_ROWS
from daivi_data.lakehouse.writer import _keep_uncovered_rows
from daivi_data.settings import PROJECT_ROOT
from tests.unit.test_ingest_formats import cur2_row, write_cur2_csv


@pytest.fixture
def imported(tmp_path):
    write_cur2_csv(tmp_path / "exports", "2024-08", [cur2_row("2024-08", i) for i in range(2)])
    out = tmp_path / "lh"
    run_import([tmp_path / "exports"], out)
    return out


def outdate(root) -> None:
    """Make `root` look like a lakehouse written by the previous layout version (before effective_cost)."""
    manifest = json.loads((root / lakehouse.MANIFEST).read_text())
    manifest["format"] = lakehouse.FORMAT - 1
    (root / lakehouse.MANIFEST).write_text(json.dumps(manifest))


def test_an_import_writes_the_same_manifest_schema_as_a_demo(imported):
    manifest = lakehouse.read_manifest(imported)
    assert manifest["format"] == lakehouse.FORMAT and manifest["kind"] == "import"
    assert manifest["generated_at"].endswith("Z")
    assert manifest["tables"]["daivi_cur.cur"] == {"rows": 2, "bytes": manifest["tables"]["daivi_cur.cur"]["bytes"],
                                                   "partitions": 1, "min_partition": "2024-08", "max_partition": "2024-08"}
    assert manifest["tables"]["daivi_billing.accounts"]["partitions"] == 0


def test_the_engine_refuses_a_lakehouse_of_an_older_layout_with_what_to_do(imported):
    outdate(imported)
    with pytest.raises(DataUnavailable, match="layout version 1; this version of the app reads version 2. Rebuild the demo"):
        DuckDBEngine(imported, load_policy(PROJECT_ROOT / "config" / "grants.toml"))


def test_a_merge_into_a_lakehouse_of_an_older_layout_stops_and_leaves_it_as_it_was(tmp_path, imported):
    outdate(imported)
    before = {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()}
    write_cur2_csv(tmp_path / "new", "2024-09", [cur2_row("2024-09", 1)])
    with pytest.raises(ImportFailed, match="Import every source again without --merge"):
        run_import([tmp_path / "new"], imported, ImportOptions(merge=True))
    assert {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()} == before
    run_import([tmp_path / "new"], imported)  # a full import replaces it in the current layout
    assert lakehouse.read_manifest(imported)["format"] == lakehouse.FORMAT


def test_a_demo_build_and_an_import_share_one_lock(tmp_path, imported):
    from daivi_data.demo import build_demo_lakehouse

    before = {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()}
    with lakehouse.LakehouseWriter(imported, "import"):
        with pytest.raises(lakehouse.LakehouseError, match="Another import into .* is running"):
            build_demo_lakehouse(imported, scale="small")
    assert {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()} == before


def test_a_writer_left_by_an_exception_removes_its_staging_folder_and_keeps_the_target(tmp_path, imported):
    before = {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()}
    with pytest.raises(RuntimeError), lakehouse.LakehouseWriter(imported, "import") as writer:
        (writer.table_dir(lakehouse.CUR)).mkdir(parents=True)
        raise RuntimeError("stopped half way")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".lh.")] == [".lh.write.lock"]
    assert {p: p.read_bytes() for p in imported.rglob("*") if p.is_file()} == before


def test_the_cost_formulas_have_one_home():
    """Queries and the billing derivation read the lakehouse's formulas (the same objects, not copies)."""
    from daivi_data.queries import billing, cur

    assert cur.COST_BASES["amortized"] is lakehouse.AMORTIZED_COST_SQL
    assert lakehouse.BILLING_COST_COLUMNS["amortized_cost"] is lakehouse.AMORTIZED_COST_SQL
    assert set(billing.COST_BASES.values()) == {f"c.{column}" for column in lakehouse.BILLING_COST_COLUMNS}
    assert lakehouse.COST_BASIS_SOURCES["FOCUS"]["amortized"] == "EffectiveCost"


def test_the_importers_and_the_format_stand_without_the_demo_and_the_queries():
    """`ingest` writes through `lakehouse` alone: neither imports the demo generator, the queries or the UI."""
    import subprocess
    import sys

    code = ("import sys, daivi_data.ingest, daivi_data.ingest.__main__, daivi_data.ingest.s3, daivi_data.lakehouse; "
            "print(sorted(m for m in sys.modules if m.startswith(('daivi_data.demo', 'daivi_data.queries', 'daivi_ui', 'streamlit'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def row_groups(path) -> list[tuple[str, str, int]]:
    """(min, max, rows) of `resource_id` in each row group of a Parquet file."""
    metadata = pq.ParquetFile(path).metadata
    column = metadata.schema.names.index("resource_id")
    return [(rg.column(column).statistics.min, rg.column(column).statistics.max, rg.num_rows)
            for rg in (metadata.row_group(i) for i in range(metadata.num_row_groups))]


def assert_clustered_by_resource_id(path, rows: int) -> None:
    """Sorted by resource id in row groups of `CLUSTERED_ROW_GROUP_ROWS`: one id's row group is the only one its
    min/max statistics do not exclude (what lets DuckDB and Athena skip the others)."""
    groups = row_groups(path)
    assert len(groups) == -(-rows // CLUSTERED_ROW_GROUP_ROWS) > 1
    assert sum(n for _, _, n in groups) == rows
    ids = pq.read_table(path, columns=["resource_id"]).column("resource_id").to_pylist()
    assert ids == sorted(ids)
    assert all(a_max < b_min for (_, a_max, _), (b_min, _, _) in zip(groups, groups[1:], strict=False))


def test_inventory_snapshots_are_written_sorted_by_resource_id_by_the_demo_import_and_merge_paths(tmp_path):
    resources = lakehouse.catalog_table(lakehouse.RESOURCES)
    per_day = 2 * CLUSTERED_ROW_GROUP_ROWS + 5
    con = duckdb.connect()
    # Ids in no order, two accounts, two days: what an import's staging rows look like.
    con.execute(f"""CREATE TABLE src AS SELECT 'r-' || md5(i::VARCHAR) AS resource_id, 'acct-' || (i // 2 % 2) AS account_id,
                    'us-east-1' AS region, DATE '2026-01-01' + (i % 2)::INTEGER AS snapshot_date FROM range({2 * per_day}) t(i)""")
    given = {c: c for c in ("resource_id", "account_id", "region", "snapshot_date")}
    absent = [c.name for c in resources.columns if c.name not in given]
    with lakehouse.LakehouseWriter(tmp_path / "lh", "import") as writer:
        writer.write_table(con, lakehouse.RESOURCES, f"SELECT {lakehouse.catalog_select(resources, given)} FROM src")
        day = lakehouse.stored_select(resources, "SELECT * FROM src WHERE snapshot_date = DATE '2026-01-01'", absent=absent)
        writer.write_partition(con, lakehouse.RESOURCES, day, "2026-01-03")
        folder = writer.table_dir(lakehouse.RESOURCES)
        files = {p.parent.name: p for p in folder.rglob("*.parquet")}
        assert sorted(files) == ["snapshot_date=2026-01-01", "snapshot_date=2026-01-02", "snapshot_date=2026-01-03"]
        for path in files.values():
            assert_clustered_by_resource_id(path, per_day)
        # A merge rewrites a previous file without the covered account's rows: still clustered.
        (merged := tmp_path / "merged" / "snapshot_date=2026-01-01").mkdir(parents=True)
        con.execute(f"COPY (SELECT 'acct-0' AS account_id, 'us-east-1' AS region) TO '{merged / 'new.parquet'}' (FORMAT parquet)")
        assert _keep_uncovered_rows(con, files["snapshot_date=2026-01-01"].parent, merged, ("account_id", "region"),
                                    lakehouse.RESOURCES)
        kept = merged / files["snapshot_date=2026-01-01"].name
        assert_clustered_by_resource_id(kept, per_day // 2)  # the day's acct-1 rows: odd i // 2 below per_day
        writer.abort()
