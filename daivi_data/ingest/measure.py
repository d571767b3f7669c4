"""Measure the import's peak memory on a large generated export (not part of the tests).

`python -m daivi_data.ingest.measure --rows 3000000 --work /tmp/ingest-measure` writes a
CUR 2.0 Data Export (gzip CSV, `data/BILLING_PERIOD=YYYY-MM/`, several files a
period as AWS splits them) of synthetic line items with incompressible ids and
costs; `--splunk-mb 200` writes a Splunk JSON-lines export of about that size
instead. Either is imported in a child process, which prints the input size,
rows, elapsed time and the child's peak resident memory (ru_maxrss). Run it on
a quiet machine: it is a measurement, not a test.
"""

# SQL here is generated from constants only.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from daivi_data.ingest._sql import lit

EXPORT = "measure-cur2"
PERIODS = ("2026-08", "2026-09", "2026-10")
FILES_PER_PERIOD = 2


def _line_items_sql(rows: int, period: str, part: int) -> str:
    start = f"DATE '{period}-01'"
    return f"""
SELECT
  'Anniversary' AS bill_bill_type, 'AWS' AS bill_billing_entity,
  strftime({start}, '%Y-%m-%dT00:00:00.000Z') AS bill_billing_period_start_date,
  strftime({start} + INTERVAL 1 MONTH, '%Y-%m-%dT00:00:00.000Z') AS bill_billing_period_end_date,
  'INV-{period}' AS bill_invoice_id, '100000000001' AS bill_payer_account_id, 'Payer' AS bill_payer_account_name,
  md5('{period}{part}' || i::VARCHAR) AS identity_line_item_id,
  strftime(ts, '%Y-%m-%dT%H:00:00Z') || '/' || strftime(ts + INTERVAL 1 HOUR, '%Y-%m-%dT%H:00:00Z') AS identity_time_interval,
  printf('%012d', 411111111100 + (i % 40)) AS line_item_usage_account_id,
  'account-' || (i % 40)::VARCHAR AS line_item_usage_account_name,
  (['Usage', 'Usage', 'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'Tax', 'Credit'])[1 + i % 7] AS line_item_line_item_type,
  strftime(ts, '%Y-%m-%dT%H:00:00.000Z') AS line_item_usage_start_date,
  strftime(ts + INTERVAL 1 HOUR, '%Y-%m-%dT%H:00:00.000Z') AS line_item_usage_end_date,
  (['AmazonEC2', 'AmazonS3', 'AmazonRDS', 'AWSLambda', 'AmazonCloudWatch', 'AmazonDynamoDB'])[1 + i % 6] AS line_item_product_code,
  'USE1-BoxUsage:' || (['m5.large', 'c6g.xlarge', 'r6i.2xlarge', 't3.micro'])[1 + i % 4] AS line_item_usage_type,
  'RunInstances' AS line_item_operation, 'us-east-1' || chr(97 + (i % 3)::INTEGER) AS line_item_availability_zone,
  'i-' || left(md5(i::VARCHAR || 'r'), 17) AS line_item_resource_id,
  round(random() * 4, 6) AS line_item_usage_amount, 'USD' AS line_item_currency_code, '0.0960000000' AS line_item_unblended_rate,
  round(random() * 3, 10) AS line_item_unblended_cost, round(random() * 3, 10) AS line_item_blended_cost,
  round(random() * 3, 10) AS line_item_net_unblended_cost,
  '$0.096 per On Demand Linux m5.large Instance Hour' AS line_item_line_item_description,
  'Amazon Web Services, Inc.' AS line_item_legal_entity, 'us-east-1' AS product_region_code, 'Compute Instance' AS product_product_family,
  round(random() * 4, 10) AS pricing_public_on_demand_cost, 'OnDemand' AS pricing_term, 'Hrs' AS pricing_unit,
  round(random() * 2, 10) AS reservation_effective_cost, round(random() * 2, 10) AS savings_plan_savings_plan_effective_cost,
  '{{"user_team":"' || (['payments', 'web', 'data', 'ml'])[1 + i % 4] || '","user_application":"app-' || (i % 97)::VARCHAR || '"}}' AS resource_tags,
  '{{"product_name":"Amazon Elastic Compute Cloud","sku":"' || left(md5(i::VARCHAR), 16) || '"}}' AS product
FROM (SELECT i, {start}::TIMESTAMP + INTERVAL (i % (28 * 24)) HOUR AS ts FROM range({rows}) t(i))
"""


def write_export(work: Path, rows: int) -> list[Path]:
    """The generated export's data files (gzip CSV in the CUR 2.0 layout)."""
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    per_file = rows // (len(PERIODS) * FILES_PER_PERIOD)
    files = []
    for period in PERIODS:
        folder = work / "exports" / EXPORT / "data" / f"BILLING_PERIOD={period}"
        folder.mkdir(parents=True, exist_ok=True)
        for part in range(1, FILES_PER_PERIOD + 1):
            target = folder / f"{EXPORT}-{part:05d}.csv.gz"
            con.execute(f"COPY ({_line_items_sql(per_file, period, part)}) TO {lit(str(target))} (FORMAT csv, HEADER true, COMPRESSION gzip)")
            files.append(target)
    return files


SPLUNK_EVENT_BYTES = 576  # one line of `write_splunk_jsonl`, on average


def write_splunk_jsonl(target: Path, megabytes: float) -> Path:
    """A Splunk search export (`{"preview":false,"result":{...}}` per line) of access-log events, about `megabytes` big."""
    events = int(megabytes * 1e6 / SPLUNK_EVENT_BYTES)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""
COPY (
 SELECT false AS preview, {{
   '_time': strftime(TIMESTAMP '2026-11-01' + INTERVAL (i) SECOND, '%Y-%m-%dT%H:%M:%S.000+00:00'),
   '_raw': '10.0.' || (i % 250) || '.' || (i % 199) || ' - user' || (i % 97) || ' [01/Nov/2026:00:00:00 +0000] "GET /api/v1/items/'
           || md5(i::VARCHAR) || ' HTTP/1.1" ' || (CASE WHEN i % 50 = 0 THEN 503 ELSE 200 END) || ' ' || (i % 5000)
           || ' "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"',
   'host': 'web-' || (i % 40), 'source': '/var/log/nginx/access.log', 'sourcetype': 'access_combined', 'index': 'web',
   'status': (CASE WHEN i % 50 = 0 THEN '503' ELSE '200' END), 'method': 'GET', 'uri_path': '/api/v1/items/' || md5(i::VARCHAR),
   'clientip': '10.0.' || (i % 250) || '.' || (i % 199), 'bytes': (i % 5000)::VARCHAR, 'linecount': '1',
   'splunk_server': 'idx-' || (i % 3)
 }} AS result
 FROM range({events}) t(i)
) TO {lit(str(target))} (FORMAT json)""")
    con.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daivi_data.ingest.measure")
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/daivi-ingest-measure"))
    parser.add_argument("--memory-limit", default="512MB")
    parser.add_argument("--keep", action="store_true", help="keep the generated export and lakehouse")
    parser.add_argument("--splunk-mb", type=float, default=0, help="measure a Splunk JSON-lines export of this size instead")
    args = parser.parse_args(argv)
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    started = time.perf_counter()
    if args.splunk_mb:
        files = [write_splunk_jsonl(args.work / "exports" / "splunk-export.json", args.splunk_mb)]
    else:
        files = write_export(args.work, args.rows)
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"generated {len(files)} file(s), {size_mb:,.0f} MB, in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "daivi_data.ingest", str(args.work / "exports"), "--out", str(args.work / "lakehouse"),
                           "--memory-limit", args.memory_limit], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(done.stdout)
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    print(f"import: {size_mb:,.0f} MB of {'Splunk JSON lines' if args.splunk_mb else 'gzip CSV'} in {elapsed:.0f} s; peak RSS of the importing process {peak_mb:,.0f} MB "
          f"(DuckDB memory_limit {args.memory_limit})")
    if not args.keep:
        shutil.rmtree(args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
