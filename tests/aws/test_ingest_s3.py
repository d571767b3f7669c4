"""Incremental refresh from an export bucket, against moto's S3 with a CUR 2.0 Data Export's layout.

The layout and manifest follow AWS Data Exports' delivery docs: data under
`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-0000N.csv.gz`, and per
period `<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`
listing the delivery's data files (`dataFiles`). botocore's Stubber answers the
error shapes S3 really returns.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from daivi_data.ingest import ImportFailed
from daivi_data.ingest.__main__ import main
from daivi_data.ingest.s3 import group_of, list_objects, refresh_from_s3
from tests.aws.conftest import REGION
from tests.unit.test_ingest_formats import cur2_row, lake, write_cur2_csv

BUCKET = "acme-billing-exports"
PREFIX = "cur2"
EXPORT = "acme-cur2"
SOURCE = f"s3://{BUCKET}/{PREFIX}/"


def put_period(s3, tmp_path: Path, period: str, rows: list[dict], execution: str = "exec-1") -> None:
    """One period of the export as AWS delivers it: the data file, then the manifest naming it."""
    local = write_cur2_csv(tmp_path / f"build-{period}-{execution}", period, rows, export=EXPORT)
    data_key = f"{PREFIX}/{EXPORT}/data/BILLING_PERIOD={period}/{EXPORT}-00001.csv.gz"
    s3.put_object(Bucket=BUCKET, Key=data_key, Body=local.read_bytes())
    manifest = {
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{EXPORT}-0f1e2d3c",
        "exportName": EXPORT, "executionId": execution,
        "billingPeriod": {"start": f"{period}-01T00:00:00.000Z"},
        "dataFiles": [f"s3://{BUCKET}/{data_key}"],
    }
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{EXPORT}/metadata/BILLING_PERIOD={period}/{EXPORT}-Manifest.json",
                  Body=json.dumps(manifest).encode())


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def test_a_refresh_fetches_only_the_changed_period_and_leaves_the_others_byte_identical(s3, tmp_path):
    put_period(s3, tmp_path, "2024-08", [cur2_row("2024-08", i, cost=1.0) for i in range(3)])
    put_period(s3, tmp_path, "2024-09", [cur2_row("2024-09", i, cost=2.0) for i in range(3)])
    out = tmp_path / "lh"
    first = refresh_from_s3([SOURCE], out)
    assert sorted(g.split("|")[1] for g in first.fetched_groups) == ["BILLING_PERIOD=2024-08", "BILLING_PERIOD=2024-09"]
    before = digests(out)

    # AWS rewrites the current month: a new delivery of September, August untouched.
    put_period(s3, tmp_path, "2024-09", [cur2_row("2024-09", i, cost=3.0) for i in range(5)], execution="exec-2")
    second = refresh_from_s3([SOURCE], out)
    assert second.fetched_groups == [f"{SOURCE}|BILLING_PERIOD=2024-09"]
    assert second.unchanged_groups == [f"{SOURCE}|BILLING_PERIOD=2024-08"]
    assert all("BILLING_PERIOD=2024-09" in f for f in second.fetched_files)
    after = digests(out)
    august = {p: d for p, d in before.items() if "2024-08" in p}
    assert august and all(after[p] == d for p, d in august.items())
    assert lake(out, "SELECT billing_period, COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 3, 3.0), ("2024-09", 5, 15.0)]

    # Nothing new: nothing fetched, no import, the lakehouse as it was.
    manifest = (out / "manifest.json").read_text()
    third = refresh_from_s3([SOURCE], out)
    assert third.report is None and not third.fetched_files and len(third.unchanged_groups) == 2
    assert (out / "manifest.json").read_text() == manifest
    refreshed = json.loads(manifest)["refreshed"]["daivi_cur.cur"]
    assert refreshed["origin"] == SOURCE and refreshed["partitions"] == ["billing_period=2024-09"]
    state = json.loads(manifest)["source_state"][f"{SOURCE}|BILLING_PERIOD=2024-08"]
    assert all(set(v) == {"etag", "last_modified"} for v in state.values())


def test_files_the_export_manifest_no_longer_lists_are_not_imported(s3, tmp_path):
    put_period(s3, tmp_path, "2024-09", [cur2_row("2024-09", i, cost=2.0) for i in range(2)])
    # A leftover file from an older delivery, still in the folder but not in the manifest's dataFiles.
    stale = write_cur2_csv(tmp_path / "stale", "2024-09", [cur2_row("2024-09", 90 + i, cost=100.0) for i in range(2)], export=EXPORT)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{EXPORT}/data/BILLING_PERIOD=2024-09/{EXPORT}-00002.csv.gz", Body=stale.read_bytes())
    result = refresh_from_s3([SOURCE], tmp_path / "lh")
    assert not any(f.endswith("-00002.csv.gz") for f in result.fetched_files)
    assert lake(tmp_path / "lh", "SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(4.0,)]


def test_a_refresh_that_fails_half_way_leaves_the_previous_lakehouse_intact(s3, tmp_path, monkeypatch):
    put_period(s3, tmp_path, "2024-08", [cur2_row("2024-08", i) for i in range(2)])
    out = tmp_path / "lh"
    refresh_from_s3([SOURCE], out)
    before, manifest = digests(out), (out / "manifest.json").read_text()
    # A new month arrives truncated (the upload was cut off): the import stops, nothing changes.
    body = gzip.compress(b"line_item_usage_account_id,line_item_unblended_cost\n" + b"1,2\n" * 5000)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{EXPORT}/data/BILLING_PERIOD=2024-09/{EXPORT}-00001.csv.gz", Body=body[: len(body) // 2])
    with pytest.raises(ImportFailed):
        refresh_from_s3([SOURCE], out)
    assert digests(out) == before and (out / "manifest.json").read_text() == manifest
    # Two new months, and the download of the second one fails: stopped before anything was imported.
    put_period(s3, tmp_path, "2024-09", [cur2_row("2024-09", 1)])
    put_period(s3, tmp_path, "2024-10", [cur2_row("2024-10", 1)])
    calls = []
    real = boto3.Session().client("s3", region_name=REGION)

    class FailingSecond:
        def __getattr__(self, name):
            return getattr(real, name)

        def download_file(self, bucket, key, filename):
            calls.append(key)
            if len(calls) == 2:
                raise real.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")
            return real.download_file(bucket, key, filename)

    class Session:
        def client(self, name):
            return FailingSecond()

    with pytest.raises(ImportFailed, match="Access denied reading s3://acme-billing-exports/"):
        refresh_from_s3([SOURCE], out, session=Session())
    assert digests(out) == before and (out / "manifest.json").read_text() == manifest
    assert len(calls) == 2


def test_the_command_line_refreshes_from_s3_and_says_when_nothing_changed(s3, tmp_path, capsys):
    put_period(s3, tmp_path, "2024-08", [cur2_row("2024-08", i) for i in range(2)])
    out = tmp_path / "lh"
    assert main([SOURCE, "--out", str(out)]) == 0
    assert "Fetched 1 file(s) in 1 changed partition(s)" in capsys.readouterr().out
    assert main([SOURCE, "--out", str(out)]) == 0
    assert "Nothing changed since the last import" in capsys.readouterr().out


def test_objects_group_by_the_partition_their_key_names():
    assert group_of(SOURCE, "cur2/x/data/BILLING_PERIOD=2024-09/x-00001.csv.gz") == f"{SOURCE}|BILLING_PERIOD=2024-09"
    assert group_of(SOURCE, "cur2/x/metadata/BILLING_PERIOD=2024-09/x-Manifest.json") == f"{SOURCE}|BILLING_PERIOD=2024-09"
    assert group_of(SOURCE, "AWSLogs/1/Config/us-east-1/2024/9/18/ConfigSnapshot/a.json.gz") == f"{SOURCE}|2024/9/18"
    assert group_of(SOURCE, "legacy/r/20240901-20241001/r-Manifest.json") == f"{SOURCE}|20240901-20241001"
    assert group_of(SOURCE, "splunk/web-2024-09-18.json") == f"{SOURCE}|2024-09-18"
    assert group_of(SOURCE, "splunk/all.json") == f"{SOURCE}|"


def test_listing_pages_through_every_object_and_maps_s3_errors_to_a_message():
    client = boto3.client("s3", region_name=REGION)
    stub = Stubber(client)
    modified = dt.datetime(2024, 10, 2, 3, 4, 5, tzinfo=dt.UTC)
    stub.add_response("list_objects_v2", {
        "IsTruncated": True, "NextContinuationToken": "t1", "KeyCount": 2, "Name": BUCKET, "Prefix": "cur2/", "MaxKeys": 1000,
        "Contents": [{"Key": "cur2/x/data/", "ETag": '"d41d8cd98f00b204e9800998ecf8427e"', "LastModified": modified, "Size": 0},
                     {"Key": "cur2/x/data/BILLING_PERIOD=2024-09/x-00001.csv.gz", "ETag": '"a1"', "LastModified": modified, "Size": 10}]},
        {"Bucket": BUCKET, "Prefix": "cur2/"})
    stub.add_response("list_objects_v2", {
        "IsTruncated": False, "KeyCount": 1, "Name": BUCKET, "Prefix": "cur2/", "MaxKeys": 1000,
        "Contents": [{"Key": "cur2/x/.hidden/y.csv", "ETag": '"b2"', "LastModified": modified, "Size": 10}]},
        {"Bucket": BUCKET, "Prefix": "cur2/", "ContinuationToken": "t1"})
    with stub:
        objects = list_objects(client, BUCKET, "cur2/")
    assert [(o.key, o.etag) for o in objects] == [("cur2/x/data/BILLING_PERIOD=2024-09/x-00001.csv.gz", "a1")]

    stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)

    class Session:
        def client(self, name):
            return client

    with stub, pytest.raises(ImportFailed) as e:
        refresh_from_s3([SOURCE], Path("/nonexistent/lh"), session=Session())
    assert "Access denied reading s3://acme-billing-exports/cur2/" in str(e.value)
    assert "testing" not in str(e.value)  # never a credential


def test_watch_refreshes_on_an_interval_until_stopped(s3, tmp_path, monkeypatch, capsys):
    import daivi_data.ingest.__main__ as cli

    put_period(s3, tmp_path, "2024-08", [cur2_row("2024-08", i) for i in range(2)])
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 1:  # a new month lands between two refreshes
            put_period(s3, tmp_path, "2024-09", [cur2_row("2024-09", 1, cost=9.0)])
            return
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", sleep)
    assert main([SOURCE, "--out", str(tmp_path / "lh"), "--watch", "15m"]) == 0
    assert sleeps == [900, 900]
    out = capsys.readouterr().out
    assert out.count("Fetched 1 file(s) in 1 changed partition(s)") == 2
    assert lake(tmp_path / "lh", "SELECT billing_period, SUM(line_item_unblended_cost) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 2.0), ("2024-09", 9.0)]


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("15m", 900), ("1h", 3600), ("1d", 86400)])
def test_watch_intervals(text, seconds):
    from daivi_data.ingest.__main__ import interval_seconds

    assert interval_seconds(text) == seconds


@pytest.mark.parametrize("argv", [["s3://b/p/", "--out", "x", "--watch", "10s"], ["s3://b/p/", "--out", "x", "--watch", "soon"],
                                  ["local/folder", "--out", "x", "--watch", "1h"]])
def test_watch_refuses_a_tight_loop_a_bad_interval_and_local_folders(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2


def test_refreshing_one_accounts_config_prefix_keeps_the_other_accounts_resources_of_that_day(s3, tmp_path):
    """Config delivers per account (`AWSLogs/<account>/Config/...`): a refresh of one account's prefix
    replaces that account's resources of the day only."""
    from tests.unit.test_ingest_formats import config_item, write_config_snapshot

    def put_snapshot(account: str, *resource_ids: str) -> None:
        local = write_config_snapshot(tmp_path / f"build-{account}-{len(resource_ids)}",
                                      [config_item("AWS::EC2::Instance", r, account=account) for r in resource_ids], account=account)
        key = local.relative_to(tmp_path / f"build-{account}-{len(resource_ids)}").as_posix()
        s3.put_object(Bucket=BUCKET, Key=key, Body=local.read_bytes())

    put_snapshot("111111111111", "i-a1")
    put_snapshot("222222222222", "i-b1", "i-b2")
    out = tmp_path / "lh"
    refresh_from_s3([f"s3://{BUCKET}/AWSLogs/"], out)
    rows = "SELECT account_id, resource_id FROM daivi_inventory.resources ORDER BY ALL"
    assert lake(out, rows) == [("111111111111", "i-a1"), ("222222222222", "i-b1"), ("222222222222", "i-b2")]
    put_snapshot("111111111111", "i-a2", "i-a3", "i-a4")  # a later delivery of A's snapshot of the same day
    result = refresh_from_s3([f"s3://{BUCKET}/AWSLogs/111111111111/"], out)
    assert [f.split("/")[-1].split("_")[0] for f in result.fetched_files] == ["111111111111"]
    assert lake(out, rows) == [("111111111111", "i-a2"), ("111111111111", "i-a3"), ("111111111111", "i-a4"),
                               ("222222222222", "i-b1"), ("222222222222", "i-b2")]
