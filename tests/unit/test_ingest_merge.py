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
