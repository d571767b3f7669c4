"""Bad input: the import stops (or skips the bad rows) with a clear report, and the previous lakehouse stays intact."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from daivi_data.ingest import ImportFailed, ImportOptions, run_import
from daivi_data.settings import PROJECT_ROOT
from tests.unit.test_ingest_formats import (
    CUR2_COLUMNS,
    cur2_row,
    lake,
    legacy_row,
    write_cur2_csv,
    write_legacy_cur_csv,
)


def fingerprint(root: Path) -> dict[str, str]:
    """Every file of a lakehouse with a hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def previous(tmp_path) -> Path:
    """A lakehouse imported before the bad import (one period of CUR 2.0)."""
    write_cur2_csv(tmp_path / "good", "2024-06", [cur2_row("2024-06", i, cost=1.0) for i in range(3)])
    out = tmp_path / "lh"
    run_import([tmp_path / "good"], out)
    return out


def assert_stopped_and_intact(previous: Path, before: dict[str, str]) -> None:
    assert fingerprint(previous) == before
    leftovers = [p.name for p in previous.parent.iterdir() if p.name.startswith(f".{previous.name}.") and not p.name.endswith(".lock")]
    assert leftovers == []
    assert lake(previous, "SELECT COUNT(*) FROM daivi_cur.cur") == [(3,)]


def test_an_unrecognized_file_stops_the_import(tmp_path, previous):
    before = fingerprint(previous)
    junk = tmp_path / "invoice.csv"
    junk.write_text("Invoice,Amount\nINV-1,12.00\n")
    with pytest.raises(ImportFailed) as e:
        run_import([junk], previous)
    assert str(junk) in str(e.value) and "not a recognized export" in str(e.value) and "FOCUS" in str(e.value)
    assert_stopped_and_intact(previous, before)


def test_an_unrecognized_file_in_a_folder_is_skipped_and_listed(tmp_path, previous):
    exports = tmp_path / "s3"
    write_cur2_csv(exports, "2024-09", [cur2_row("2024-09", 1)])
    (exports / "invoice.csv").write_text("Invoice,Amount\nINV-1,12.00\n")
    report = run_import([exports], previous)
    assert any(p.endswith("invoice.csv") and "not a recognized export" in why for p, why in report.skipped_files)
    assert lake(previous, "SELECT billing_period FROM daivi_cur.cur") == [("2024-09",)]


def test_missing_required_columns_are_named(tmp_path, previous):
    before = fingerprint(previous)
    columns = [c for c in CUR2_COLUMNS if c not in ("line_item_unblended_cost", "line_item_usage_start_date")]
    path = write_cur2_csv(tmp_path / "s3", "2024-09", [cur2_row("2024-09", 1)], columns=columns)
    with pytest.raises(ImportFailed) as e:
        run_import([tmp_path / "s3"], previous)
    message = str(e.value)
    assert "line_item_unblended_cost" in message and "line_item_usage_start_date" in message and str(path) in message
    assert_stopped_and_intact(previous, before)


def test_legacy_missing_columns_are_named_as_the_file_spells_them(tmp_path, previous):
    before = fingerprint(previous)
    from tests.unit.test_ingest_formats import LEGACY_HEADERS, write_csv

    headers = [h for h in LEGACY_HEADERS if h != "lineItem/UnblendedCost"]
    write_csv(tmp_path / "legacy.csv", headers, [legacy_row("2024-09", 1)], gz=False)
    with pytest.raises(ImportFailed, match="lineItem/UnblendedCost"):
        run_import([tmp_path / "legacy.csv"], previous)
    assert_stopped_and_intact(previous, before)


def test_mixed_currencies_are_kept_and_flagged(tmp_path, previous):
    rows = [cur2_row("2024-09", i, cost=10.0) for i in range(3)] + [cur2_row("2024-09", 10 + i, cost=7.0, currency="EUR") for i in range(2)]
    write_cur2_csv(tmp_path / "s3", "2024-09", rows)
    report = run_import([tmp_path / "s3"], previous)
    [warning] = [w for w in report.warnings if "Mixed currencies" in w]
    assert "USD (3 rows, 30.00)" in warning and "EUR (2 rows, 14.00)" in warning
    assert lake(previous, "SELECT line_item_currency_code, SUM(line_item_unblended_cost) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("EUR", 14.0), ("USD", 30.0)]
    assert lake(previous, "SELECT currency, SUM(unblended_cost) FROM daivi_billing.cost_daily GROUP BY 1 ORDER BY 1") == [
        ("EUR", 14.0), ("USD", 30.0)]


def test_duplicate_line_items_across_files_stop_the_import(tmp_path, previous):
    before = fingerprint(previous)
    rows = [cur2_row("2024-09", i, cost=5.0) for i in range(4)]
    write_cur2_csv(tmp_path / "s3", "2024-09", rows, part=1)
    write_cur2_csv(tmp_path / "s3", "2024-09", rows[2:] + [cur2_row("2024-09", 9, cost=1.0)], part=2)
    with pytest.raises(ImportFailed) as e:
        run_import([tmp_path / "s3"], previous)
    message = str(e.value)
    assert "2 line items appear in more than one file" in message and "acme-cur2-00001.csv.gz and" in message
    assert "--skip-duplicates" in message
    assert_stopped_and_intact(previous, before)


def test_duplicates_can_be_skipped_keeping_one_copy(tmp_path, previous):
    rows = [cur2_row("2024-09", i, cost=5.0) for i in range(4)]
    write_cur2_csv(tmp_path / "s3", "2024-09", rows, part=1)
    write_cur2_csv(tmp_path / "s3", "2024-09", rows[2:] + [cur2_row("2024-09", 9, cost=1.0)], part=2)
    report = run_import([tmp_path / "s3"], previous, ImportOptions(skip_duplicates=True))
    assert any("Duplicate line items skipped" in w for w in report.warnings)
    assert lake(previous, "SELECT COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(5, 21.0)]


def test_a_truncated_gzip_stops_the_import(tmp_path, previous):
    before = fingerprint(previous)
    rows = [cur2_row("2024-09", i, cost=1.0) for i in range(3000)]
    path = write_cur2_csv(tmp_path / "s3", "2024-09", rows)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFailed) as e:
        run_import([tmp_path / "s3"], previous)
    assert "truncated or corrupt" in str(e.value) and path.name in str(e.value)
    assert_stopped_and_intact(previous, before)


def test_a_file_named_gz_that_is_not_gzip_stops_the_import(tmp_path, previous):
    before = fingerprint(previous)
    bogus = tmp_path / "s3" / "acme-00001.csv.gz"
    bogus.parent.mkdir()
    bogus.write_text("line_item_usage_account_id\n1\n")
    with pytest.raises(ImportFailed, match="not a readable gzip file"):
        run_import([bogus], previous)
    assert_stopped_and_intact(previous, before)


def test_dates_outside_every_billing_period_are_skipped_and_reported(tmp_path, previous):
    rows = [cur2_row("2024-09", i, cost=2.0) for i in range(5)]
    rows.append(cur2_row("2024-09", 90, cost=100.0, start="2019-03-01T00:00:00.000Z"))
    rows.append(cur2_row("2024-09", 91, cost=100.0, start="yesterday"))
    write_legacy = tmp_path / "legacy"
    write_legacy_cur_csv(write_legacy, "2024-09", [legacy_row("2024-09", 500, cost=1.0), legacy_row("2024-09", 501, start="2031-01-01T00:00:00Z")])
    write_cur2_csv(tmp_path / "s3", "2024-09", rows)
    report = run_import([tmp_path / "s3", write_legacy], previous)
    reasons = {r.reason: r for r in report.rejected["daivi_cur.cur"]}
    outside = reasons["usage date outside every billing period of the import (2024-09)"]
    assert outside.count == 2
    assert any("2019-03-01" in s for s in outside.sample) and any("2031-01-01" in s for s in outside.sample)
    assert reasons["line_item_usage_start_date is missing or not a timestamp"].sample[0].endswith(
        "line_item_usage_start_date=yesterday, line_item_unblended_cost=100.0000000000")
    assert report.rejected_count("daivi_cur.cur") == 3
    assert lake(previous, "SELECT COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(6, 11.0)]


def test_mostly_rejected_rows_stop_the_import(tmp_path, previous):
    before = fingerprint(previous)
    rows = [cur2_row("2024-09", i, start="2001-01-01T00:00:00.000Z") for i in range(4)] + [cur2_row("2024-09", 9)]
    write_cur2_csv(tmp_path / "s3", "2024-09", rows)
    with pytest.raises(ImportFailed, match="4 of 5 rows for daivi_cur.cur were rejected"):
        run_import([tmp_path / "s3"], previous)
    assert_stopped_and_intact(previous, before)


def test_a_folder_that_is_not_a_lakehouse_is_never_replaced(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.txt").write_text("precious")
    write_cur2_csv(tmp_path / "s3", "2024-09", [cur2_row("2024-09", 1)])
    with pytest.raises(ImportFailed, match="is not a lakehouse"):
        run_import([tmp_path / "s3"], home)
    assert (home / "thesis.txt").read_text() == "precious"


def test_the_command_line_reports_and_exits_nonzero_on_a_stop(tmp_path, previous):
    good = tmp_path / "s3"
    write_cur2_csv(good, "2024-09", [cur2_row("2024-09", i, cost=1.5) for i in range(4)])
    ok = subprocess.run([sys.executable, "-m", "daivi_data.ingest", str(good), "--out", str(previous)],
                        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "daivi_cur.cur" in ok.stdout and "4 rows" in ok.stdout and "Date range: 2024-09-01 .. 2024-09-01" in ok.stdout
    before = fingerprint(previous)
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    stopped = subprocess.run([sys.executable, "-m", "daivi_data.ingest", str(bad), "--out", str(previous)],
                             capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert stopped.returncode == 1
    assert "not a recognized export" in stopped.stderr and "was not changed" in stopped.stderr
    assert fingerprint(previous) == before


def test_cur_and_focus_of_the_same_aws_account_would_double_count(tmp_path, previous):
    before = fingerprint(previous)
    write_cur2_csv(tmp_path / "cur", "2024-09", [cur2_row("2024-09", i, account="1234567890123"[:12]) for i in range(3)])
    focus = tmp_path / "focus.csv"
    focus.write_text(
        "BilledCost,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BillingCurrency,ServiceName,BillingPeriodStart,ProviderName,SubAccountId\n"
        "1.5,2024-09-03 00:00:00,2024-09-03 01:00:00,Usage,USD,Amazon Elastic Compute Cloud,2024-09-01 00:00:00,AWS,123456789012\n")
    with pytest.raises(ImportFailed, match="count that cost twice"):
        run_import([tmp_path / "cur", focus], previous)
    assert_stopped_and_intact(previous, before)


def test_a_second_import_into_the_same_lakehouse_waits_its_turn(tmp_path, previous):
    from daivi_data.lakehouse import LakehouseWriter

    before = fingerprint(previous)
    write_cur2_csv(tmp_path / "s3", "2024-09", [cur2_row("2024-09", 1)])
    first = LakehouseWriter(previous, "import")
    try:
        with pytest.raises(ImportFailed, match="Another import into .* is running"):
            run_import([tmp_path / "s3"], previous)
    finally:
        first.abort()
    assert_stopped_and_intact(previous, before)
    LakehouseWriter(previous, "demo").abort()  # free again once the first is done
