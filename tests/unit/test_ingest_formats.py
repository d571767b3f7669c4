"""Each import format from small files written here in the real layouts, read back from the new lakehouse.

The writers below (`write_cur2_csv`, `write_legacy_cur_csv`, ...) lay files
out exactly as AWS and Splunk do, with their real column names; the SQL-tier
import tests reuse them.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from daivi_data.ingest import run_import
from daivi_data.ingest.detect import detect_sources
from daivi_data.ingest.legacy_cur import snake_header

# ---------------------------------------------------------------- CUR 2.0 (Data Exports)

# A real CUR 2.0 header (the fixed schema, in AWS's order), minus the split cost allocation columns.
CUR2_COLUMNS = [
    "bill_bill_type", "bill_billing_entity", "bill_billing_period_end_date", "bill_billing_period_start_date",
    "bill_invoice_id", "bill_invoicing_entity", "bill_payer_account_id", "bill_payer_account_name", "cost_category",
    "discount", "discount_bundled_discount", "discount_total_discount", "identity_line_item_id", "identity_time_interval",
    "line_item_availability_zone", "line_item_blended_cost", "line_item_blended_rate", "line_item_currency_code",
    "line_item_legal_entity", "line_item_line_item_description", "line_item_line_item_type", "line_item_net_unblended_cost",
    "line_item_net_unblended_rate", "line_item_normalization_factor", "line_item_normalized_usage_amount",
    "line_item_operation", "line_item_product_code", "line_item_resource_id", "line_item_tax_type",
    "line_item_unblended_cost", "line_item_unblended_rate", "line_item_usage_account_id", "line_item_usage_account_name",
    "line_item_usage_amount", "line_item_usage_end_date", "line_item_usage_start_date", "line_item_usage_type",
    "pricing_currency", "pricing_lease_contract_length", "pricing_offering_class", "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate", "pricing_purchase_option", "pricing_rate_code", "pricing_rate_id", "pricing_term",
    "pricing_unit", "product", "product_comment", "product_fee_code", "product_fee_description", "product_from_location",
    "product_from_location_type", "product_from_region_code", "product_instance_family", "product_instance_type",
    "product_instancesku", "product_location", "product_location_type", "product_operation", "product_pricing_unit",
    "product_product_family", "product_region_code", "product_servicecode", "product_sku", "product_to_location",
    "product_to_location_type", "product_to_region_code", "product_usagetype", "reservation_amortized_upfront_cost_for_usage",
    "reservation_amortized_upfront_fee_for_billing_period", "reservation_availability_zone", "reservation_effective_cost",
    "reservation_end_time", "reservation_modification_status", "reservation_net_effective_cost",
    "reservation_normalized_units_per_reservation", "reservation_number_of_reservations", "reservation_recurring_fee_for_usage",
    "reservation_reservation_a_r_n", "reservation_start_time", "reservation_subscription_id",
    "reservation_total_reserved_normalized_units", "reservation_total_reserved_units", "reservation_units_per_reservation",
    "reservation_unused_amortized_upfront_fee_for_billing_period", "reservation_unused_normalized_unit_quantity",
    "reservation_unused_quantity", "reservation_unused_recurring_fee", "reservation_upfront_value", "resource_tags",
    "savings_plan_amortized_upfront_commitment_for_billing_period", "savings_plan_end_time", "savings_plan_offering_type",
    "savings_plan_payment_option", "savings_plan_purchase_term", "savings_plan_recurring_commitment_for_billing_period",
    "savings_plan_region", "savings_plan_savings_plan_a_r_n", "savings_plan_savings_plan_effective_cost",
    "savings_plan_savings_plan_rate", "savings_plan_start_time", "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
]


def period_bounds(period: str) -> tuple[str, str]:
    start = dt.date.fromisoformat(f"{period}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return f"{start}T00:00:00.000Z", f"{end}T00:00:00.000Z"


def cur2_row(period: str, n: int, *, day: int = 1, cost: float = 1.0, account: str = "111111111111",
             service: str = "AmazonEC2", line_type: str = "Usage", currency: str = "USD", tags: dict | None = None,
             start: str | None = None) -> dict:
    """One CUR 2.0 line item as AWS writes it in CSV (strings; maps as JSON)."""
    bp_start, bp_end = period_bounds(period)
    usage_start = start or f"{period}-{day:02d}T00:00:00.000Z"
    usage_end = usage_start.replace("T00:00:00", "T01:00:00")
    row = dict.fromkeys(CUR2_COLUMNS, "")
    row.update({
        "bill_bill_type": "Anniversary", "bill_billing_entity": "AWS", "bill_billing_period_start_date": bp_start,
        "bill_billing_period_end_date": bp_end, "bill_invoice_id": "EUINGB24-12345", "bill_payer_account_id": "999999999999",
        "bill_payer_account_name": "Acme Payer", "identity_line_item_id": f"li{period}{n:06d}",
        "identity_time_interval": f"{usage_start[:19]}Z/{usage_end[:19]}Z", "line_item_usage_account_id": account,
        "line_item_usage_account_name": f"acct-{account[-3:]}", "line_item_line_item_type": line_type,
        "line_item_usage_start_date": usage_start, "line_item_usage_end_date": usage_end,
        "line_item_product_code": service, "line_item_usage_type": "USE1-BoxUsage:m5.large", "line_item_operation": "RunInstances",
        "line_item_availability_zone": "us-east-1a", "line_item_resource_id": f"i-{n:017x}", "line_item_usage_amount": "1.0",
        "line_item_currency_code": currency, "line_item_unblended_rate": "0.096", "line_item_unblended_cost": f"{cost:.10f}",
        "line_item_blended_cost": f"{cost:.10f}", "line_item_net_unblended_cost": f"{cost:.10f}",
        "line_item_line_item_description": "$0.096 per On Demand Linux m5.large Instance Hour",
        "line_item_legal_entity": "Amazon Web Services, Inc.", "product_servicecode": service,
        "product_product_family": "Compute Instance", "product_region_code": "us-east-1", "product_instance_type": "m5.large",
        "pricing_term": "OnDemand", "pricing_unit": "Hrs", "pricing_public_on_demand_cost": f"{cost:.10f}",
        "pricing_public_on_demand_rate": "0.096", "product": json.dumps({"product_name": "Amazon Elastic Compute Cloud"}),
        "resource_tags": json.dumps(tags or {}), "cost_category": "{}", "discount": "{}",
    })
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict], gz: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    data = buf.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_cur2_csv(root: Path, period: str, rows: list[dict], export: str = "acme-cur2", part: int = 1,
                   columns: list[str] | None = None) -> Path:
    """`<root>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-0000N.csv.gz`, and the export's manifest beside it."""
    meta = root / export / "metadata" / f"BILLING_PERIOD={period}" / f"{export}-Manifest.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"executionId": "x", "billingPeriod": {"start": period}, "dataFiles": []}))
    target = root / export / "data" / f"BILLING_PERIOD={period}" / f"{export}-{part:05d}.csv.gz"
    return write_csv(target, columns or CUR2_COLUMNS, rows)


def write_cur2_parquet(root: Path, period: str, rows: list[dict], export: str = "acme-cur2") -> Path:
    """The Parquet flavour: typed columns, `resource_tags` as a map."""
    target = root / export / "data" / f"BILLING_PERIOD={period}" / f"{export}-00001.snappy.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    df = __import__("pandas").DataFrame(rows)
    con.register("src", df)
    con.execute(f"""COPY (SELECT * EXCLUDE (resource_tags, line_item_unblended_cost, line_item_usage_start_date,
            line_item_usage_end_date, bill_billing_period_start_date, bill_billing_period_end_date),
        CAST(line_item_unblended_cost AS DOUBLE) AS line_item_unblended_cost,
        CAST(line_item_usage_start_date AS TIMESTAMP) AS line_item_usage_start_date,
        CAST(line_item_usage_end_date AS TIMESTAMP) AS line_item_usage_end_date,
        CAST(bill_billing_period_start_date AS TIMESTAMP) AS bill_billing_period_start_date,
        CAST(bill_billing_period_end_date AS TIMESTAMP) AS bill_billing_period_end_date,
        CAST(resource_tags::JSON AS MAP(VARCHAR, VARCHAR)) AS resource_tags FROM src)
        TO '{target}' (FORMAT parquet, COMPRESSION snappy)""")
    return target


# ---------------------------------------------------------------- legacy CUR

LEGACY_HEADERS = [
    "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/BillingEntity", "bill/BillType",
    "bill/PayerAccountId", "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageAccountId",
    "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/Operation", "lineItem/AvailabilityZone", "lineItem/ResourceId", "lineItem/UsageAmount",
    "lineItem/NormalizationFactor", "lineItem/NormalizedUsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedRate",
    "lineItem/UnblendedCost", "lineItem/BlendedRate", "lineItem/BlendedCost", "lineItem/LineItemDescription",
    "lineItem/TaxType", "lineItem/LegalEntity", "product/ProductName", "product/instanceType", "product/region",
    "product/regionCode", "product/servicecode", "product/productFamily", "pricing/publicOnDemandCost",
    "pricing/publicOnDemandRate", "pricing/term", "pricing/unit", "reservation/ReservationARN", "reservation/EffectiveCost",
    "savingsPlan/SavingsPlanARN", "savingsPlan/SavingsPlanEffectiveCost", "resourceTags/user:team", "resourceTags/user:cost-center",
]


def legacy_row(period: str, n: int, *, day: int = 1, cost: float = 1.0, line_type: str = "Usage", team: str = "",
               start: str | None = None, ri_arn: str = "", ri_effective: str = "") -> dict:
    c2 = cur2_row(period, n, day=day, cost=cost, line_type=line_type, start=start)
    row = {h: c2.get(snake_header(h), "") for h in LEGACY_HEADERS}
    for h in ("bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageStartDate", "lineItem/UsageEndDate"):
        row[h] = row[h].replace(".000Z", "Z")  # legacy CUR writes seconds precision
    row.update({"product/ProductName": "Amazon Elastic Compute Cloud", "product/region": "us-east-1",
                "product/instanceType": "m5.large", "reservation/ReservationARN": ri_arn, "reservation/EffectiveCost": ri_effective,
                "resourceTags/user:team": team, "resourceTags/user:cost-center": "cc-1" if team else ""})
    return row


def write_legacy_cur_csv(root: Path, period: str, rows: list[dict], report: str = "acme-legacy", assembly: str = "a1b2c3") -> Path:
    """`<root>/<report>/YYYYMM01-YYYYMM01/<assemblyId>/<report>-1.csv.gz` with its manifest, as legacy CUR delivers it."""
    start = dt.date.fromisoformat(f"{period}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    folder = root / report / f"{start:%Y%m%d}-{end:%Y%m%d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{report}-Manifest.json").write_text(json.dumps({"assemblyId": assembly, "reportKeys": []}))
    return write_csv(folder / assembly / f"{report}-1.csv.gz", LEGACY_HEADERS, rows)


def write_legacy_athena_parquet(root: Path, period: str, rows: list[dict], report: str = "acme-athena") -> Path:
    """The Athena integration: `<report>/<report>/year=YYYY/month=M/<report>-00001.snappy.parquet`, snake columns."""
    year, month = period.split("-")
    folder = root / report / report / f"year={year}" / f"month={int(month)}"
    folder.mkdir(parents=True, exist_ok=True)
    table = {}
    for h in LEGACY_HEADERS:
        name = snake_header(h) if not h.startswith("resourceTags/") else "resource_tags_" + h.split("/", 1)[1].replace(":", "_").replace("-", "_")
        table[name] = [r[h] or None for r in rows]
    for col in ("line_item_unblended_cost", "line_item_usage_amount", "line_item_blended_cost", "pricing_public_on_demand_cost"):
        table[col] = [float(v) if v else None for v in table[col]]
    for col in ("line_item_usage_start_date", "line_item_usage_end_date", "bill_billing_period_start_date", "bill_billing_period_end_date"):
        table[col] = [dt.datetime.fromisoformat(v.replace("Z", "")) for v in table[col]]
    target = folder / f"{report}-00001.snappy.parquet"
    pq.write_table(pa.table(table), target)
    status = root / report / report / "cost_and_usage_data_status"
    status.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"status": ["READY"]}), status / "cost_and_usage_data_status.parquet")
    (root / report / "crawler-cfn.yml").write_text("AWSTemplateFormatVersion: 2010-09-09\n")
    return target


# ---------------------------------------------------------------- AWS Config snapshot

def config_item(rtype: str, rid: str, *, account: str = "111111111111", region: str = "us-east-1", name: str | None = None,
                status: str = "OK", tags: dict | None = None, configuration: dict | None = None) -> dict:
    return {
        "relatedEvents": [], "relationships": [], "configuration": configuration or {},
        "supplementaryConfiguration": {}, "tags": tags or {}, "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2024-09-17T08:12:45.123Z", "configurationStateId": 1726560765123,
        "awsAccountId": account, "configurationItemStatus": status, "resourceType": rtype, "resourceId": rid,
        "resourceName": name, "ARN": f"arn:aws:ec2:{region}:{account}:{rid}", "awsRegion": region,
        "availabilityZone": f"{region}a", "configurationStateMd5Hash": "", "resourceCreationTime": "2024-01-02T03:04:05.000Z",
    }


def write_config_snapshot(root: Path, items: list[dict], account: str = "111111111111", region: str = "us-east-1",
                          day: dt.date = dt.date(2024, 9, 18)) -> Path:
    """`AWSLogs/<acct>/Config/<region>/<y>/<m>/<d>/ConfigSnapshot/<acct>_Config_<region>_ConfigSnapshot_<ts>_<id>.json.gz`."""
    folder = root / "AWSLogs" / account / "Config" / region / str(day.year) / str(day.month) / str(day.day) / "ConfigSnapshot"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{account}_Config_{region}_ConfigSnapshot_{day:%Y%m%d}T221535Z_0f1e2d3c-aaaa-bbbb-cccc-1234567890ab.json.gz"
    body = {"fileVersion": "1.0", "configSnapshotId": "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab", "configurationItems": items}
    target.write_bytes(gzip.compress(json.dumps(body).encode()))
    return target


# ---------------------------------------------------------------- Splunk

ACCESS = '{ip} - {user} [18/Sep/2024:10:00:0{s} +0000] "{m} {p} HTTP/1.1" {st} {b} "-" "curl/8.0"'


def splunk_events() -> list[dict]:
    return [
        {"_time": "2024-09-18T10:00:01.000+00:00", "_raw": ACCESS.format(ip="10.0.0.1", user="-", s=1, m="GET", p="/api/pay", st=200, b=512),
         "host": "web-01", "source": "/var/log/nginx/access.log", "sourcetype": "access_combined", "index": "web"},
        {"_time": "2024-09-18T12:00:02.500+02:00", "_raw": ACCESS.format(ip="10.0.0.2", user="alice", s=2, m="POST", p="/api/refund", st=503, b=20),
         "host": "web-02", "source": "/var/log/nginx/access.log", "sourcetype": "access_combined", "index": "web",
         "status": "503", "method": "POST", "uri_path": "/api/refund", "clientip": ["10.0.0.2", "10.9.9.9"], "response_time_ms": "1234.5"},
        {"_time": "2024-09-19T00:30:00.000+00:00", "_raw": "2024-09-19 00:30:00 WARNING payment retry queue is growing",
         "host": "app-01", "source": "payments", "sourcetype": "app_log", "index": "app", "aws_account_id": "222222222222"},
        {"_time": "not a time", "_raw": "garbage", "host": "x", "source": "s", "sourcetype": "t", "index": "app"},
    ]


def write_splunk_jsonl(path: Path, events: list[dict], wrapped: bool = True) -> Path:
    """Splunk's export: one `{"preview":false,"result":{...}}` per line (or bare event objects)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"preview": False, "offset": i, "result": e} if wrapped else e) for i, e in enumerate(events)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_splunk_csv(path: Path, events: list[dict]) -> Path:
    columns = ["_serial", "_time", "host", "source", "sourcetype", "index", "splunk_server", "_raw", "status", "method",
               "uri_path", "clientip", "response_time_ms", "aws_account_id"]
    rows = [{**{k: (v[0] if isinstance(v, list) else v) for k, v in e.items()}, "_serial": i, "splunk_server": "idx-1"}
            for i, e in enumerate(events)]
    return write_csv(path, columns, rows, gz=False)


# ---------------------------------------------------------------- helpers

def lake(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Query the imported lakehouse the way the engine sees it (hive partitions)."""
    con = duckdb.connect()
    for folder in sorted(root.glob("daivi_*/*")):
        db, table = folder.parent.name, folder.name
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
        parted = any(p.is_dir() for p in folder.iterdir())
        pattern = f"{folder}/**/*.parquet" if parted else f"{folder}/*.parquet"
        con.execute(f"CREATE VIEW \"{db}\".\"{table}\" AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = {str(parted).lower()})")
    return con.execute(sql, params or []).fetchall()


# ---------------------------------------------------------------- tests

def test_cur2_csv_gz_folder_per_period_imports_every_line_item(tmp_path):
    exports = tmp_path / "s3"
    write_cur2_csv(exports, "2024-08", [cur2_row("2024-08", i, day=1 + i % 28, cost=0.5 * (i + 1), tags={"user_team": "payments"})
                                        for i in range(10)])
    write_cur2_csv(exports, "2024-09", [cur2_row("2024-09", i, day=2, cost=2.0, account="222222222222") for i in range(5)])
    out = tmp_path / "lh"
    report = run_import([exports], out)

    assert report.tables["daivi_cur.cur"].rows == 15
    assert report.tables["daivi_cur.cur"].partitions == ["2024-08", "2024-09"]
    assert report.date_range == ("2024-08-01", "2024-09-02")
    assert any("Manifest.json" in p for p, _ in report.skipped_files)
    assert lake(out, "SELECT billing_period, COUNT(*), ROUND(SUM(line_item_unblended_cost), 6) FROM daivi_cur.cur GROUP BY 1 ORDER BY 1") == [
        ("2024-08", 10, 27.5), ("2024-09", 5, 10.0)]
    tags = lake(out, "SELECT DISTINCT resource_tags['user_team'] FROM daivi_cur.cur WHERE billing_period = '2024-08'")
    assert tags == [("payments",)]
    start = lake(out, "SELECT MIN(line_item_usage_start_date) FROM daivi_cur.cur")[0][0]
    assert start == dt.datetime(2024, 8, 1)
    # Layout: the partition column lives in the folder name only; the manifest says what built it.
    part = next((out / "daivi_cur" / "cur" / "billing_period=2024-08").glob("*.parquet"))
    assert "billing_period" not in pq.read_schema(part).names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "import" and manifest["report"]["tables"]["daivi_cur.cur"]["rows"] == 15
    # The billing lakehouse is derived: same totals per day and account.
    cur = lake(out, "SELECT CAST(line_item_usage_start_date AS DATE) d, line_item_usage_account_id, ROUND(SUM(line_item_unblended_cost), 6) "
                    "FROM daivi_cur.cur GROUP BY 1, 2 ORDER BY 1, 2")
    daily = lake(out, "SELECT usage_date, account_id, ROUND(SUM(unblended_cost), 6) FROM daivi_billing.cost_daily GROUP BY 1, 2 ORDER BY 1, 2")
    assert cur == daily
    assert lake(out, "SELECT DISTINCT tags['team'] FROM daivi_billing.cost_daily WHERE billing_period = '2024-08'") == [("payments",)]
    assert lake(out, "SELECT account_id, account_name FROM daivi_billing.accounts ORDER BY 1") == [
        ("111111111111", "acct-111"), ("222222222222", "acct-222")]


def test_cur2_parquet_keeps_the_tag_map_and_types(tmp_path):
    rows = [cur2_row("2024-09", i, cost=1.25, tags={"user_team": "web", "aws_createdBy": "root"}) for i in range(4)]
    write_cur2_parquet(tmp_path / "s3", "2024-09", rows)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3"], out)
    assert report.sources[0].format == "CUR 2.0 (Data Exports)"
    assert lake(out, "SELECT COUNT(*), SUM(line_item_unblended_cost), MIN(resource_tags['user_team']) FROM daivi_cur.cur") == [(4, 5.0, "web")]


def test_legacy_cur_csv_headers_map_to_cur2_names(tmp_path):
    rows = [legacy_row("2024-09", i, cost=3.0, team="payments" if i % 2 else "") for i in range(6)]
    rows.append(legacy_row("2024-09", 99, cost=4.0, line_type="DiscountedUsage", ri_arn="arn:aws:ec2:us-east-1:1:reserved-instances/r-1",
                           ri_effective="2.5"))
    write_legacy_cur_csv(tmp_path / "s3", "2024-09", rows)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3"], out)
    assert report.sources[0].format == "legacy CUR"
    assert lake(out, "SELECT COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(7, 22.0)]
    assert lake(out, "SELECT COUNT(*) FROM daivi_cur.cur WHERE resource_tags['user_team'] = 'payments' "
                     "AND resource_tags['user_cost_center'] = 'cc-1'") == [(3,)]
    assert lake(out, "SELECT reservation_reservation_a_r_n, reservation_effective_cost FROM daivi_cur.cur "
                     "WHERE line_item_line_item_type = 'DiscountedUsage'") == [("arn:aws:ec2:us-east-1:1:reserved-instances/r-1", 2.5)]
    # Amortized in the derived billing uses the RI effective cost, as the CUR view does.
    assert lake(out, "SELECT SUM(amortized_cost), SUM(unblended_cost) FROM daivi_billing.cost_daily") == [(20.5, 22.0)]


def test_legacy_athena_parquet_layout_skips_the_status_table(tmp_path):
    rows = [legacy_row("2024-07", i, cost=1.5, team="data") for i in range(3)]
    write_legacy_athena_parquet(tmp_path / "s3", "2024-07", rows)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3"], out)
    skipped = dict(report.skipped_files)
    assert any("cost_and_usage_data_status" in p for p in skipped) and any(p.endswith("crawler-cfn.yml") for p in skipped)
    assert lake(out, "SELECT billing_period, COUNT(*), SUM(line_item_unblended_cost), MIN(resource_tags['user_team']) "
                     "FROM daivi_cur.cur GROUP BY 1") == [("2024-07", 3, 4.5, "data")]


def test_config_snapshot_items_become_typed_resources(tmp_path):
    items = [
        config_item("AWS::EC2::Instance", "i-0abc", name=None, tags={"Name": "web-01", "team": "payments"},
                    configuration={"instanceType": "m5.large", "state": {"code": 16, "name": "running"}, "publicIpAddress": "3.3.3.3"}),
        config_item("AWS::EC2::Volume", "vol-0orphan", configuration={"volumeType": "gp3", "size": 100, "encrypted": False,
                                                                       "state": "available", "attachments": []}),
        config_item("AWS::EC2::Volume", "vol-0used", configuration={"volumeType": "gp2", "size": 8, "encrypted": True, "state": "in-use",
                                                                     "attachments": [{"instanceId": "i-0abc", "device": "/dev/xvda"}]}),
        config_item("AWS::EC2::EIP", "eipalloc-1", configuration={"allocationId": "eipalloc-1", "publicIp": "3.4.5.6"}),
        config_item("AWS::EC2::Instance", "i-0gone", status="ResourceDeleted"),
    ]
    write_config_snapshot(tmp_path / "s3", items)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3"], out)
    assert report.tables["daivi_inventory.resources"].rows == 4
    assert report.tables["daivi_inventory.resources"].partitions == ["2024-09-18"]
    [deleted] = report.rejected["daivi_inventory.resources"]
    assert deleted.count == 1 and "ResourceDeleted" in deleted.reason and "i-0gone" in deleted.sample[0]
    got = {r[0]: r[1:] for r in lake(out, "SELECT resource_id, resource_name, state, instance_type, size_gb, attached, attached_to, "
                                          "encrypted, public, tags['team'], snapshot_date FROM daivi_inventory.resources")}
    day = dt.date(2024, 9, 18)
    assert got["i-0abc"] == ("web-01", "running", "m5.large", None, None, None, None, True, "payments", day)
    assert got["vol-0orphan"] == ("vol-0orphan", "available", None, 100.0, False, None, False, None, None, day)
    assert got["vol-0used"][4:6] == (True, "i-0abc")
    assert got["eipalloc-1"][1] == "unassociated" and got["eipalloc-1"][4] is False
    raw = lake(out, "SELECT configuration FROM daivi_inventory.resources WHERE resource_id = 'i-0abc'")[0][0]
    assert json.loads(raw)["instanceType"] == "m5.large"


def test_resources_csv_matches_headers_loosely(tmp_path):
    csv_path = write_csv(tmp_path / "cmdb.csv", ["Resource ID", "Resource Type", "ARN", "Name", "State", "Instance Type", "tag:team", "Snapshot Date"], [
        {"Resource ID": "i-1", "Resource Type": "AWS::EC2::Instance", "ARN": "arn:aws:ec2:eu-west-1:333333333333:instance/i-1",
         "Name": "api-01", "State": "running", "Instance Type": "c6g.large", "tag:team": "api", "Snapshot Date": "2024-09-20"},
        {"Resource ID": "", "Resource Type": "AWS::EC2::Instance", "ARN": "", "Name": "", "State": "", "Instance Type": "",
         "tag:team": "", "Snapshot Date": "2024-09-20"},
    ], gz=False)
    out = tmp_path / "lh"
    report = run_import([csv_path], out)
    assert report.sources[0].format == "resources CSV"
    assert report.rejected["daivi_inventory.resources"][0].reason == "resource id is empty"
    assert lake(out, "SELECT resource_id, account_id, region, resource_name, instance_type, tags['team'], snapshot_date "
                     "FROM daivi_inventory.resources") == [
        ("i-1", "333333333333", "eu-west-1", "api-01", "c6g.large", "api", dt.date(2024, 9, 20))]


@pytest.mark.parametrize("flavour", ["jsonl", "csv"])
def test_splunk_exports_become_events(tmp_path, flavour):
    events = splunk_events()
    path = (write_splunk_jsonl(tmp_path / "export.json", events) if flavour == "jsonl"
            else write_splunk_csv(tmp_path / "export.csv", events))
    out = tmp_path / "lh"
    report = run_import([path], out)
    assert report.tables["daivi_splunk.events"].rows == 3
    assert report.rejected["daivi_splunk.events"][0].reason == "_time is missing or not a timestamp"
    rows = lake(out, "SELECT host, event_time, index_name, severity, http_method, http_path, http_status, bytes, duration_ms, "
                     "user_name, client_ip, account_id, event_date FROM daivi_splunk.events ORDER BY event_time")
    assert rows[0] == ("web-01", dt.datetime(2024, 9, 18, 10, 0, 1), "web", "INFO", "GET", "/api/pay", 200, 512, None, None,
                       "10.0.0.1", None, dt.date(2024, 9, 18))
    # 12:00:02.5+02:00 is 10:00:02.5 UTC; extracted fields win over the raw line; a 503 is an error.
    assert rows[1] == ("web-02", dt.datetime(2024, 9, 18, 10, 0, 2, 500000), "web", "ERROR", "POST", "/api/refund", 503, 20, 1234.5,
                       "alice", "10.0.0.2", None, dt.date(2024, 9, 18))
    assert rows[2][3] == "WARN" and rows[2][11] == "222222222222" and rows[2][12] == dt.date(2024, 9, 19)
    assert lake(out, "SELECT message FROM daivi_splunk.events WHERE host = 'app-01'")[0][0].endswith("retry queue is growing")
    # Two events carry no account id and no inventory names their host: no account row filter lets them through.
    assert report.rows_without_account == {"daivi_splunk.events": 2}
    assert any(w.startswith("2 row(s) of daivi_splunk.events carry no account id") and "can never see them" in w
               for w in report.warnings)


def test_splunk_hosts_get_their_account_from_the_imported_inventory(tmp_path):
    write_config_snapshot(tmp_path / "s3", [config_item("AWS::EC2::Instance", "i-web", account="444444444444", tags={"Name": "web-01"},
                                                        configuration={"state": {"name": "running"}})], account="444444444444")
    write_splunk_jsonl(tmp_path / "splunk" / "export.jsonl", splunk_events()[:1], wrapped=False)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3", tmp_path / "splunk"], out)
    assert lake(out, "SELECT host, account_id FROM daivi_splunk.events") == [("web-01", "444444444444")]
    assert report.rows_without_account == {}


def test_detection_names_every_format_and_skips_companions(tmp_path):
    write_cur2_csv(tmp_path, "2024-09", [cur2_row("2024-09", 1)])
    write_legacy_cur_csv(tmp_path, "2024-09", [legacy_row("2024-09", 1)])
    write_config_snapshot(tmp_path, [config_item("AWS::S3::Bucket", "b1")])
    write_splunk_jsonl(tmp_path / "splunk.jsonl", splunk_events())
    write_splunk_csv(tmp_path / "splunk.csv", splunk_events())
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    detection = detect_sources([tmp_path])
    formats = sorted(f.format for f in detection.files)
    assert formats == ["config_snapshot", "cur2", "legacy_cur", "splunk_csv", "splunk_jsonl"]
    skipped = dict(detection.skipped)
    assert any(p.endswith("notes.bin") and "not a recognized export" in why for p, why in skipped.items())
    assert sum("Manifest.json" in p for p in skipped) == 2


def test_legacy_cur_reads_only_the_version_its_manifest_names(tmp_path):
    """Legacy CUR keeps each rewrite of a period in its own assembly folder; only the current one counts."""
    old = [legacy_row("2024-09", i, cost=1.0) for i in range(3)]
    new = [legacy_row("2024-09", i, cost=2.0) for i in range(4)]
    write_legacy_cur_csv(tmp_path / "s3", "2024-09", old, assembly="old-assembly")
    write_legacy_cur_csv(tmp_path / "s3", "2024-09", new, assembly="new-assembly")  # rewrites the manifest
    out = tmp_path / "lh"
    report = run_import([tmp_path / "s3"], out)
    assert any("old-assembly" in p and "older legacy CUR version" in why for p, why in report.skipped_files)
    assert lake(out, "SELECT COUNT(*), SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(4, 8.0)]


def test_overlapping_splunk_exports_keep_one_copy_of_each_event(tmp_path):
    events = splunk_events()[:3]
    write_splunk_jsonl(tmp_path / "splunk" / "monday.jsonl", events[:2])
    write_splunk_csv(tmp_path / "splunk" / "monday-to-tuesday.csv", events[1:] + [events[2]])  # overlaps, and repeats one event itself
    out = tmp_path / "lh"
    report = run_import([tmp_path / "splunk"], out)
    assert any(w.startswith("1 Splunk event(s) appear in more than one export file") for w in report.warnings)
    # web-01 once, web-02 once (overlap dropped), app-01 twice (repeated inside one file: kept).
    assert lake(out, "SELECT host, COUNT(*) FROM daivi_splunk.events GROUP BY 1 ORDER BY 1") == [("app-01", 2), ("web-01", 1), ("web-02", 1)]


def test_focus_parquet_with_decimal_costs_and_map_tags(tmp_path):
    """A FOCUS 1.2 Parquet export (GCP-style): typed columns, ServiceProviderName, Tags as a map."""
    table = pa.table({
        "BilledCost": pa.array([Decimal("1.25"), Decimal("2.5"), Decimal("-0.75")], pa.decimal128(18, 11)),
        "EffectiveCost": pa.array([Decimal("1.0"), Decimal("2.5"), Decimal("-0.75")], pa.decimal128(18, 11)),
        "ListCost": pa.array([Decimal("1.5"), Decimal("3.0"), Decimal("0")], pa.decimal128(18, 11)),
        "ChargePeriodStart": pa.array([dt.datetime(2024, 10, 2), dt.datetime(2024, 10, 3), dt.datetime(2024, 10, 4)], pa.timestamp("ms", "UTC")),
        "ChargePeriodEnd": pa.array([dt.datetime(2024, 10, 3), dt.datetime(2024, 10, 4), dt.datetime(2024, 10, 5)], pa.timestamp("ms", "UTC")),
        "BillingPeriodStart": pa.array([dt.datetime(2024, 10, 1)] * 3, pa.timestamp("ms", "UTC")),
        "BillingPeriodEnd": pa.array([dt.datetime(2024, 11, 1)] * 3, pa.timestamp("ms", "UTC")),
        "ChargeCategory": ["Usage", "Tax", "Credit"],
        "BillingCurrency": ["EUR"] * 3,
        "ServiceName": ["Compute Engine", "Compute Engine", "BigQuery"],
        "ServiceProviderName": ["Google Cloud"] * 3,
        "BillingAccountId": ["01ABCD-23EFGH-45IJKL"] * 3,
        "SubAccountId": ["my-project", "my-project", "other-project"],
        "Tags": pa.array([[("team", "data"), ("goog-k8s", "x")], [], None], pa.map_(pa.string(), pa.string())),
    })
    path = tmp_path / "gcp" / "focus-2024-10.parquet"
    path.parent.mkdir()
    pq.write_table(table, path)
    out = tmp_path / "lh"
    report = run_import([tmp_path / "gcp"], out)
    assert report.sources[0].format == "FOCUS"
    assert lake(out, "SELECT bill_billing_entity, line_item_product_code, line_item_line_item_type, line_item_unblended_cost, "
                     "pricing_public_on_demand_cost, line_item_currency_code, resource_tags['user_team'], line_item_usage_start_date "
                     "FROM daivi_cur.cur ORDER BY line_item_usage_start_date") == [
        ("Google Cloud", "Compute Engine", "Usage", 1.25, 1.5, "EUR", "data", dt.datetime(2024, 10, 2)),
        ("Google Cloud", "Compute Engine", "Tax", 2.5, 3.0, "EUR", None, dt.datetime(2024, 10, 3)),
        ("Google Cloud", "BigQuery", "Credit", -0.75, 0.0, "EUR", None, dt.datetime(2024, 10, 4)),
    ]
    assert lake(out, "SELECT currency, SUM(unblended_cost) FROM daivi_billing.cost_daily GROUP BY 1") == [("EUR", 3.0)]


def test_a_daily_billing_export_is_imported_instead_of_derived(tmp_path):
    columns = ["usage_date", "account_id", "service_code", "service_name", "region", "usage_type", "record_type",
               "unblended_cost", "amortized_cost", "net_unblended_cost", "usage_quantity", "currency", "tags"]
    rows = [{"usage_date": "2024-09-01", "account_id": "111111111111", "service_code": "AmazonEC2", "service_name": "Amazon EC2",
             "region": "us-east-1", "usage_type": "BoxUsage", "record_type": "Usage", "unblended_cost": "10.5",
             "amortized_cost": "9.5", "net_unblended_cost": "10.0", "usage_quantity": "24", "currency": "USD",
             "tags": json.dumps({"team": "web"})},
            {"usage_date": "2024-10-02", "account_id": "222222222222", "service_code": "AmazonS3", "service_name": "Amazon S3",
             "region": "eu-west-1", "usage_type": "TimedStorage", "record_type": "Usage", "unblended_cost": "1.25",
             "amortized_cost": "1.25", "net_unblended_cost": "1.25", "usage_quantity": "100", "currency": "USD", "tags": "{}"},
            {"usage_date": "someday", "account_id": "1", "service_code": "x", "unblended_cost": "1"}]
    write_csv(tmp_path / "billing" / "cost_daily.csv", columns, rows, gz=False)
    write_cur2_csv(tmp_path / "cur", "2024-09", [cur2_row("2024-09", i, cost=99.0) for i in range(2)])
    out = tmp_path / "lh"
    report = run_import([tmp_path / "billing", tmp_path / "cur"], out)
    assert report.tables["daivi_billing.cost_daily"].derived_from is None
    assert report.rejected["daivi_billing.cost_daily"][0].reason == "usage_date is missing or not a date"
    assert lake(out, "SELECT billing_period, account_id, unblended_cost, amortized_cost, tags['team'] FROM daivi_billing.cost_daily "
                     "ORDER BY 1") == [("2024-09", "111111111111", 10.5, 9.5, "web"), ("2024-10", "222222222222", 1.25, 1.25, None)]
    assert lake(out, "SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur") == [(198.0,)]
    # Without a CUR the accounts come from the billing export.
    alone = tmp_path / "alone"
    run_import([tmp_path / "billing"], alone)
    assert lake(alone, "SELECT account_id FROM daivi_billing.accounts ORDER BY 1") == [("111111111111",), ("222222222222",)]


def test_currency_codes_are_kept_in_capitals(tmp_path):
    write_cur2_csv(tmp_path / "s3", "2024-09", [cur2_row("2024-09", 1, currency=" eur "), cur2_row("2024-09", 2, currency="USD")])
    out = tmp_path / "lh"
    run_import([tmp_path / "s3"], out)
    assert lake(out, "SELECT line_item_currency_code FROM daivi_cur.cur ORDER BY 1") == [("EUR",), ("USD",)]
    assert lake(out, "SELECT DISTINCT currency FROM daivi_billing.cost_daily ORDER BY 1") == [("EUR",), ("USD",)]
