"""`--merge`: an import replaces only the partitions its input covers, atomically; every other file stays byte-identical."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from daivi_data.ingest import ImportFailed, ImportOptions, run_import
from daivi_data.ingest.__main__ import main
from tests.unit.test_ingest_formats import (
    config_item,
    cur2_row,
    lake,
    splunk_events,
    write_config_snapshot,
    write_cur2_csv,
    write_splunk_jsonl,
)

MERGE = ImportOptions(merge=True)


def files_of(root: Path) -> dict[str, tuple[str, int]]:
    """{relative path: (sha256, inode)} of every data file."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_ino)
            for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture
def two_months(tmp_path) -> Path:
    exports = tmp_path / "exports"
    for period, cost in (("2024-08", 1.0), ("2024-09", 2.0)):
        write_cur2_csv(exports, period, [cur2_row(period, i, cost=cost, day=1 + i) for i in range(3)])
    write_config_snapshot(tmp_path / "config", [config_item("AWS::EC2::Instance", "i-web", tags={"Name": "web-01"},
                                                            configuration={"state": {"name": "running"}})])
    out = tmp_path / "lh"
    run_import([exports, tmp_path / "config"], out)
    return out


def test_merging_one_new_month_leaves_every_other_partition_byte_identical(tmp_path, two_months):
    before = files_of(two_months)
    write_cur2_csv(tmp_path / "new", "2024-10", [cur2_row("2024-10", i, cost=5.0, account="222222222222") for i in range(2)])
    report = run_import([tmp_path / "new"], two_months, MERGE)
    after = files_of(two_months)
    kept = {p: v for p, v in before.items() if "2024-10" not in p and "accounts" not in p}
    assert kept and all(after[p][0] == digest for p, (digest, _) in kept.items())
    assert [p for p, (_, inode) in kept.items() if after[p][1] != inode] == []  # the same files, linked, not rewritten
    assert report.replaced_partitions["daivi_cur.cur"] == ["billing_period=2024-10"]
    assert report.kept_partitions["daivi_cur.cur"] == ["billing_period=2024-08", "billing_period=2024-09"]
    assert lake(two_months, "SELECT billing_period, SUM(line_item_unblended_cost) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 3.0), ("2024-09", 6.0), ("2024-10", 10.0)]
    assert lake(two_months, "SELECT billing_period, SUM(unblended_cost) FROM daivi_billing.cost_daily GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 3.0), ("2024-09", 6.0), ("2024-10", 10.0)]
    # The new account joins the known ones; the inventory the input did not touch is kept whole.
    assert lake(two_months, "SELECT account_id FROM daivi_billing.accounts ORDER BY 1") == [("111111111111",), ("222222222222",)]
    assert lake(two_months, "SELECT COUNT(*) FROM daivi_inventory.resources") == [(1,)]


def test_a_refreshed_month_replaces_that_month_only(tmp_path, two_months):
    before = files_of(two_months)
    write_cur2_csv(tmp_path / "again", "2024-09", [cur2_row("2024-09", i, cost=7.0) for i in range(4)])
    run_import([tmp_path / "again"], two_months, MERGE)
    after = files_of(two_months)
    assert all(after[p] == v for p, v in before.items() if "2024-08" in p or "inventory" in p or "accounts" in p)
    assert lake(two_months, "SELECT billing_period, COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 3, 3.0), ("2024-09", 4, 28.0)]
    manifest = json.loads((two_months / "manifest.json").read_text())
    assert manifest["merged"] is True
    assert manifest["refreshed"]["daivi_cur.cur"]["partitions"] == ["billing_period=2024-09"]
    assert manifest["refreshed"]["daivi_cur.cur"]["origin"].endswith("again/acme-cur2/data/BILLING_PERIOD=2024-09/acme-cur2-00001.csv.gz")
    assert "daivi_inventory.resources" in manifest["refreshed"]  # from the first import, kept


def test_splunk_events_merge_by_day_and_borrow_accounts_from_the_kept_inventory(tmp_path, two_months):
    write_splunk_jsonl(tmp_path / "splunk" / "day.json", splunk_events()[:1])
    report = run_import([tmp_path / "splunk"], two_months, MERGE)
    assert report.replaced_partitions["daivi_splunk.events"] == ["event_date=2024-09-18"]
    assert lake(two_months, "SELECT host, account_id FROM daivi_splunk.events") == [("web-01", "111111111111")]
    assert lake(two_months, "SELECT COUNT(*) FROM daivi_cur.cur") == [(6,)]


def test_a_merge_that_fails_half_way_leaves_the_previous_lakehouse_intact(tmp_path, two_months):
    before = files_of(two_months)
    manifest = (two_months / "manifest.json").read_text()
    write_cur2_csv(tmp_path / "bad", "2024-10", [cur2_row("2024-10", i, start="not a date") for i in range(3)])
    with pytest.raises(ImportFailed):
        run_import([tmp_path / "bad"], two_months, MERGE)
    assert files_of(two_months) == before
    assert (two_months / "manifest.json").read_text() == manifest
    assert not [p for p in two_months.parent.iterdir() if p.name.startswith(".lh.import-")]


def test_the_command_line_merges(tmp_path, two_months, capsys):
    write_cur2_csv(tmp_path / "new", "2024-11", [cur2_row("2024-11", 1, cost=3.0)])
    assert main([str(tmp_path / "new"), "--out", str(two_months), "--merge"]) == 0
    assert "Merged into daivi_cur.cur: replaced 1 partition(s), kept 2 as they were" in capsys.readouterr().out
    assert lake(two_months, "SELECT COUNT(DISTINCT billing_period) FROM daivi_cur.cur") == [(3,)]


# ---------------------------------------------------------------- inventory: a snapshot covers its accounts and regions only

A, B = "111111111111", "222222222222"
DAY, DAY_BEFORE = "2024-09-18", "2024-09-17"
INVENTORY_ROWS = "SELECT CAST(snapshot_date AS VARCHAR), account_id, region, resource_id FROM daivi_inventory.resources ORDER BY ALL"


@pytest.fixture
def inventory(tmp_path) -> Path:
    """Two accounts' Config snapshots on DAY (account A in two regions), A's of the day before, and a CUR month."""
    import datetime as dt

    snaps = tmp_path / "config"
    write_config_snapshot(snaps, [config_item("AWS::EC2::Instance", "i-b1", account=B),
                                  config_item("AWS::EC2::Volume", "vol-b1", account=B)], account=B)
    write_config_snapshot(snaps, [config_item("AWS::EC2::Instance", "i-a-eu", account=A, region="eu-west-1")],
                          account=A, region="eu-west-1")
    write_config_snapshot(snaps, [config_item("AWS::EC2::Instance", "i-a-old", account=A)], account=A)
    write_config_snapshot(snaps, [config_item("AWS::EC2::Instance", "i-a-before", account=A)], account=A,
                          day=dt.date(2024, 9, 17))
    write_cur2_csv(tmp_path / "cur", "2024-09", [cur2_row("2024-09", i) for i in range(2)])
    out = tmp_path / "lh"
    run_import([snaps, tmp_path / "cur"], out)
    return out


def one_accounts_snapshot(folder: Path, *resource_ids: str) -> Path:
    """A new Config snapshot of account A in us-east-1 on DAY, as AWS Config delivers it daily."""
    write_config_snapshot(folder, [config_item("AWS::EC2::Instance", rid, account=A, tags={"Name": rid}) for rid in resource_ids],
                          account=A)
    return folder


def other_rows(root: Path) -> list[tuple]:
    """Every column of DAY's rows that A's us-east-1 snapshot does not cover."""
    return lake(root, f"SELECT * FROM daivi_inventory.resources WHERE snapshot_date = '{DAY}' "
                      f"AND NOT (account_id = '{A}' AND region = 'us-east-1') ORDER BY resource_id")


def test_merging_one_accounts_snapshot_replaces_only_that_accounts_rows_of_that_day(tmp_path, inventory):
    before, kept_rows = files_of(inventory), other_rows(inventory)
    assert lake(inventory, INVENTORY_ROWS) == [
        (DAY_BEFORE, A, "us-east-1", "i-a-before"),
        (DAY, A, "eu-west-1", "i-a-eu"), (DAY, A, "us-east-1", "i-a-old"), (DAY, B, "us-east-1", "i-b1"), (DAY, B, "us-east-1", "vol-b1")]
    report = run_import([one_accounts_snapshot(tmp_path / "new", "i-a-new", "i-a-new2")], inventory, MERGE)
    # i-a-old is gone from A's us-east-1 snapshot; B and A's other region keep their rows of that day, unchanged.
    assert lake(inventory, INVENTORY_ROWS) == [
        (DAY_BEFORE, A, "us-east-1", "i-a-before"),
        (DAY, A, "eu-west-1", "i-a-eu"), (DAY, A, "us-east-1", "i-a-new"), (DAY, A, "us-east-1", "i-a-new2"),
        (DAY, B, "us-east-1", "i-b1"), (DAY, B, "us-east-1", "vol-b1")]
    assert other_rows(inventory) == kept_rows
    assert report.replaced_partitions["daivi_inventory.resources"] == [f"snapshot_date={DAY}"]
    assert report.merged_partitions == {"daivi_inventory.resources": [f"snapshot_date={DAY}"]}
    assert "only the rows of the accounts and regions the input covers were replaced" in report.to_text()
    # Every file outside that day is the same file: byte-identical, the same inode.
    after = files_of(inventory)
    untouched = {p: v for p, v in before.items() if f"snapshot_date={DAY}" not in p}
    assert untouched and {p: after.get(p) for p in untouched} == untouched


def test_a_previous_file_without_covered_rows_stays_byte_identical_in_the_merged_day(tmp_path, inventory):
    run_import([one_accounts_snapshot(tmp_path / "first", "i-a-new")], inventory, MERGE)
    day_files = {p: v for p, v in files_of(inventory).items() if f"snapshot_date={DAY}" in p}
    assert len(day_files) == 2  # the other rows of the day, and A's snapshot
    kept_rows = other_rows(inventory)
    run_import([one_accounts_snapshot(tmp_path / "second", "i-a-newer")], inventory, MERGE)
    after = {p: v for p, v in files_of(inventory).items() if f"snapshot_date={DAY}" in p}
    # The file of the other rows holds none of A's us-east-1 rows: linked as it is. A's previous snapshot file is dropped.
    assert len(set(after) & set(day_files)) == 1
    [same] = set(after) & set(day_files)
    assert after[same] == day_files[same]
    assert other_rows(inventory) == kept_rows
    assert lake(inventory, f"SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = '{DAY}' "
                           f"AND account_id = '{A}' AND region = 'us-east-1'") == [("i-a-newer",)]


def test_a_snapshot_merge_that_stops_leaves_every_file_as_it_was(tmp_path, inventory):
    before, manifest = files_of(inventory), (inventory / "manifest.json").read_text()
    write_config_snapshot(tmp_path / "bad", [config_item("AWS::EC2::Instance", "i-gone", account=A, status="ResourceDeleted")],
                          account=A)
    with pytest.raises(ImportFailed, match="No valid rows for daivi_inventory.resources"):
        run_import([tmp_path / "bad"], inventory, MERGE)
    assert files_of(inventory) == before
    assert (inventory / "manifest.json").read_text() == manifest
