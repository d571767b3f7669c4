"""The demo lakehouse generator: contract, consistency, realism and atomic writes on real `small` data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from daivi_data import catalog, lakehouse
from daivi_data.demo import PAYMENTS_ACCOUNT_IDS, build_demo_lakehouse
from daivi_data.demo.billing import TAG_KEYS
from daivi_data.demo.build import SCALES
from daivi_data.demo.cur import CurGenerator, month_ranges
from daivi_data.demo.fleet import build_fleet, epoch_day

END = dt.date(2026, 11, 24)
SEED = 7
ARROW_TYPES = {
    "varchar": pa.string(), "double": pa.float64(), "timestamp": pa.timestamp("us"), "date": pa.date32(),
    "boolean": pa.bool_(), "integer": pa.int32(), "bigint": pa.int64(),
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "small"
    build_demo_lakehouse(out, scale="small", seed=SEED, end_date=END)
    return out


@pytest.fixture(scope="module")
def manifest(lake) -> dict:
    return json.loads((lake / "manifest.json").read_text())


@pytest.fixture(scope="module")
def con(lake) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for folder in sorted(lake.glob("daivi_*/*")):
        partitioned = any(p.is_dir() for p in folder.iterdir())
        pattern = f"{folder}/*/*.parquet" if partitioned else f"{folder}/*.parquet"
        c.execute(f"CREATE VIEW {folder.name} AS SELECT * FROM read_parquet('{pattern}', "
                  f"hive_partitioning = {str(partitioned).lower()})").fetchall()
    return c


def q(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def one(con, sql: str, *params):
    return q(con, sql, *params)[0][0]


# --- the contract ---------------------------------------------------------------------------------

def _tables():
    for lh in catalog.LAKEHOUSES.values():
        for t in lh.tables:
            yield lh, t


@pytest.mark.parametrize("lh,table", list(_tables()), ids=lambda x: getattr(x, "name", getattr(x, "key", "")))
def test_parquet_columns_and_types_match_the_catalog(lake, lh, table):
    folder = lake / lh.default_database / table.name
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no files for {lh.default_database}.{table.name}"
    if table.partition_keys:
        key = table.partition_keys[0]
        assert all(f.parent.name.startswith(f"{key}=") and f.parent.parent == folder for f in files)
    else:
        assert all(f.parent == folder for f in files)
    stored = [c for c in table.columns if c.name not in table.partition_keys]
    for f in (files[0], files[-1]):
        schema = pq.read_schema(f)
        assert schema.names == [c.name for c in stored], f
        for col in stored:
            t = schema.field(col.name).type
            if col.type == catalog.TAG_MAP:
                assert pa.types.is_map(t) and t.key_type == pa.string() and t.item_type == pa.string(), col.name
            else:
                assert t == ARROW_TYPES[col.type], (col.name, t)
        assert pq.ParquetFile(f).metadata.row_group(0).column(0).compression == "ZSTD"


def test_manifest_describes_what_is_on_disk(lake, manifest):
    assert manifest["format"] == lakehouse.FORMAT == 2 and manifest["kind"] == "demo" and manifest["scale"] == "small"
    assert manifest["seed"] == SEED and manifest["end_date"] == END.isoformat()
    assert set(manifest["tables"]) == {f"{lh.default_database}.{t.name}" for lh, t in _tables()}
    for key, stats in manifest["tables"].items():
        db, table = key.split(".")
        files = sorted((lake / db / table).rglob("*.parquet"))
        assert stats["rows"] == sum(pq.ParquetFile(f).metadata.num_rows for f in files) > 0
        assert stats["bytes"] == sum(f.stat().st_size for f in files)
        parts = sorted({f.parent.name.split("=", 1)[1] for f in files if f.parent.name.count("=")})
        assert stats["partitions"] == len(parts)
        if parts:
            assert (stats["min_partition"], stats["max_partition"]) == (parts[0], parts[-1])
    t = manifest["tables"]
    assert (t["daivi_cur.cur"]["min_partition"], t["daivi_cur.cur"]["max_partition"]) == ("2026-09", "2026-11")
    assert t["daivi_inventory.resources"]["partitions"] == SCALES["small"].snapshots
    assert t["daivi_inventory.resources"]["max_partition"] == "2026-11-24"
    assert t["daivi_splunk.events"]["partitions"] == SCALES["small"].event_days
    assert 30_000 <= t["daivi_cur.cur"]["rows"] <= 120_000
    assert 40_000 <= t["daivi_splunk.events"]["rows"] <= 120_000
    assert not list(lake.parent.glob(".tmp-*")) and not list(lake.parent.glob(".old-*"))


# --- billing is the CUR, aggregated ----------------------------------------------------------------

AMORTIZED = """CASE line_item_line_item_type
    WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
    WHEN 'SavingsPlanNegation' THEN 0
    WHEN 'SavingsPlanRecurringFee' THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
    WHEN 'DiscountedUsage' THEN reservation_effective_cost
    WHEN 'RIFee' THEN reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee
    ELSE line_item_unblended_cost END"""


def test_cost_daily_sums_equal_cur_sums(con):
    rows = q(con, f"""
        WITH c AS (
          SELECT CAST(line_item_usage_start_date AS DATE) AS d, line_item_usage_account_id AS a,
                 line_item_product_code AS s, line_item_line_item_type AS r, billing_period AS p,
                 SUM(line_item_unblended_cost) AS u, SUM({AMORTIZED}) AS am, SUM(line_item_net_unblended_cost) AS n,
                 SUM(line_item_usage_amount) AS qty, COUNT(*) AS lines
          FROM cur GROUP BY ALL),
        b AS (
          SELECT usage_date AS d, account_id AS a, service_code AS s, record_type AS r, billing_period AS p,
                 SUM(unblended_cost) AS u, SUM(amortized_cost) AS am, SUM(net_unblended_cost) AS n,
                 SUM(usage_quantity) AS qty
          FROM cost_daily GROUP BY ALL)
        SELECT count(*), count(b.d), max(abs(c.u - b.u)), max(abs(c.am - b.am)), max(abs(c.n - b.n)),
               max(abs(c.qty - b.qty) / greatest(1, abs(c.qty))), count(DISTINCT c.r), sum(c.lines)
        FROM c FULL JOIN b USING (d, a, s, r, p)""")
    groups, matched, du, dam, dn, dq, types, lines = rows[0]
    assert groups == matched > 1000
    assert max(du, dam, dn) < 1e-6 and dq < 1e-9
    assert types == 10  # every CUR 2.0 line item type is present
    assert lines == one(con, "SELECT count(*) FROM cur")
    # Regions: 'global' where the CUR has none; service names from the product code.
    assert one(con, "SELECT count(*) FROM cost_daily WHERE region = '' OR region IS NULL") == 0
    assert one(con, "SELECT count(*) FROM cost_daily WHERE service_code = 'AmazonEC2' "
                    "AND service_name <> 'Amazon Elastic Compute Cloud'") == 0
    assert one(con, "SELECT count(DISTINCT currency) FROM cost_daily") == 1


def test_cost_daily_is_the_one_derivation_of_the_cur_files_written(con, lake):
    # The demo and the imports derive cost_daily one way: over the CUR files written, row for row and bit for bit.
    derived = lakehouse.cost_daily_sql(lakehouse.table_relation_sql(lake, lakehouse.CUR), dict(TAG_KEYS))
    stored = "SELECT * FROM cost_daily"
    assert one(con, f"SELECT count(*) FROM ({stored})") > 1000
    for left, right in ((derived, stored), (stored, derived)):
        assert one(con, f"SELECT count(*) FROM ({left} EXCEPT ALL {right})") == 0


def test_cost_allocation_tags_drop_the_user_prefix(con):
    keys = {r[0] for r in q(con, "SELECT DISTINCT unnest(map_keys(tags)) FROM cost_daily")}
    assert keys == {"team", "environment", "cost_center", "application"}
    cur_keys = {r[0] for r in q(con, "SELECT DISTINCT unnest(map_keys(resource_tags)) FROM cur")}
    assert cur_keys == {"user_team", "user_environment", "user_cost_center", "user_application"}
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_line_item_type IN ('Tax', 'Credit', 'Fee') "
                    "AND cardinality(resource_tags) > 0") == 0


# --- determinism --------------------------------------------------------------------------------

def _fingerprint(root: Path) -> dict[str, str]:
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*.parquet"))}


def test_same_seed_same_bytes_other_seed_other_data(lake, manifest, tmp_path):
    again = tmp_path / "again"
    m2 = build_demo_lakehouse(again, scale="small", seed=SEED, end_date=END)
    assert m2["tables"] == manifest["tables"]
    assert m2["incidents"] == manifest["incidents"] and m2["planted"] == manifest["planted"]
    assert _fingerprint(again) == _fingerprint(lake)
    # Another seed: another fleet and other costs (checked on the generator, without a full build).
    period, first, last = month_ranges(epoch_day(dt.date(2026, 11, 1)), epoch_day(END))[0]
    totals = []
    for seed in (SEED, SEED + 1):
        fleet = build_fleet(seed, SCALES["small"].factor, END)
        facts = CurGenerator(fleet, seed, first).month_facts(first, last)
        totals.append((len(fleet.resources), facts.num_rows, round(sum(facts.column("unblended").to_pylist()), 2),
                       tuple(fleet.resources["resource_id"].head(20))))
    assert totals[0] != totals[1]
    assert totals[0][3] != totals[1][3]


# --- the organization --------------------------------------------------------------------------

def test_accounts_and_the_payments_ou(con):
    assert one(con, "SELECT count(*) FROM accounts") == 36
    assert one(con, "SELECT count(DISTINCT account_id) FROM accounts WHERE regexp_full_match(account_id, '[0-9]{12}')") == 36
    pay = q(con, "SELECT account_id, account_name FROM accounts WHERE ou = 'Payments' ORDER BY account_id")
    assert pay == [("411111111101", "payments-prod"), ("411111111102", "payments-staging"),
                   ("411111111103", "payments-dev"), ("411111111104", "payments-data-prod"),
                   ("411111111105", "payments-sandbox")]
    assert tuple(r[0] for r in pay) == PAYMENTS_ACCOUNT_IDS
    assert {r[0] for r in q(con, "SELECT DISTINCT ou FROM accounts")} == {"Core", "Payments", "Retail", "Data",
                                                                          "Platform", "Sandbox"}
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_usage_account_id NOT IN (SELECT account_id FROM accounts)") == 0
    assert one(con, "SELECT count(DISTINCT bill_payer_account_id) FROM cur") == 1
    assert one(con, "SELECT min(bill_payer_account_id) FROM cur") == "100000000001"
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_product_code = 'AWSSupportBusiness' "
                    "AND line_item_usage_account_id <> '100000000001'") == 0


def test_budgets_cover_total_ous_accounts_services_and_some_are_overrun(con):
    kinds = dict(q(con, "SELECT scope_type, count(*) FROM budgets GROUP BY 1"))
    assert kinds["total"] == 1 and kinds["ou"] == 6 and kinds["account"] >= 8 and kinds["service"] >= 3
    assert one(con, "SELECT count(*) FROM budgets WHERE (scope_type = 'account') <> (account_id IS NOT NULL)") == 0
    # Run rate of the current month (month to date / days x days in month) against each OU budget.
    overrun = one(con, """
        WITH mtd AS (SELECT a.ou, sum(c.net_unblended_cost) AS cost FROM cost_daily c JOIN accounts a USING (account_id)
                     WHERE c.billing_period = '2026-11' AND c.record_type NOT IN ('Tax', 'Credit', 'Refund', 'Fee')
                     GROUP BY 1)
        SELECT count(*) FROM budgets b JOIN mtd ON b.scope_value = mtd.ou
        WHERE b.scope_type = 'ou' AND mtd.cost / 24 * 30 > b.monthly_limit""")
    assert 1 <= overrun < 6


# --- realism of the CUR -------------------------------------------------------------------------

def test_cur_line_items_look_like_aws(con):
    assert one(con, "SELECT count(DISTINCT line_item_product_code) FROM cur") >= 35
    assert one(con, "SELECT count(DISTINCT product_region_code) FROM cur WHERE product_region_code <> ''") >= 4
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_usage_type LIKE 'USE1-BoxUsage:%' "
                    "AND line_item_operation LIKE 'RunInstances%'") > 0
    for usage_type in ("USE1-EBS:VolumeUsage.gp2", "USE1-DataTransfer-Out-Bytes", "USE1-USW2-AWS-Out-Bytes",
                       "USE1-DataTransfer-Regional-Bytes", "USE1-NatGateway-Hours", "USE1-ElasticIP:IdleAddress"):
        assert one(con, "SELECT count(*) FROM cur WHERE line_item_usage_type = ?", usage_type) > 0, usage_type
    # Daily granularity: start at midnight, one day long for usage; the interval as CUR 2.0 writes it.
    bad = one(con, """SELECT count(*) FROM cur WHERE line_item_line_item_type = 'Usage' AND (
        line_item_usage_end_date - line_item_usage_start_date <> INTERVAL 1 DAY
        OR CAST(line_item_usage_start_date AS DATE) <> line_item_usage_start_date
        OR identity_time_interval <> strftime(line_item_usage_start_date, '%Y-%m-%dT%H:%M:%S.000Z') || '/' ||
                                     strftime(line_item_usage_end_date, '%Y-%m-%dT%H:%M:%S.000Z'))""")
    assert bad == 0
    assert one(con, "SELECT count(*) - count(DISTINCT identity_line_item_id) FROM cur") == 0
    # Net = unblended less the 3% discount on usage lines; list cost filled for usage.
    assert one(con, "SELECT max(abs(line_item_net_unblended_cost - 0.97 * line_item_unblended_cost)) FROM cur "
                    "WHERE line_item_line_item_type = 'Usage'") < 1e-9
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_line_item_type = 'Usage' "
                    "AND abs(pricing_public_on_demand_cost - line_item_unblended_cost) > 1e-9") == 0
    assert one(con, "SELECT sum(line_item_unblended_cost) FROM cur WHERE line_item_line_item_type IN ('Credit', 'Refund')") < 0
    # A long tail of prices: from fractions of a cent to dollars an hour.
    lo, hi = q(con, "SELECT min(CAST(pricing_public_on_demand_rate AS DOUBLE)), max(CAST(pricing_public_on_demand_rate AS DOUBLE)) "
                    "FROM cur WHERE pricing_public_on_demand_rate <> ''")[0]
    assert lo < 1e-5 and hi > 3


def test_savings_plans_and_reservations_follow_cur_semantics(con):
    # Every covered line has its negation; covered usage nets to zero unblended.
    cov, neg = q(con, """SELECT sum(CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage' THEN line_item_unblended_cost END),
                                sum(CASE WHEN line_item_line_item_type = 'SavingsPlanNegation' THEN line_item_unblended_cost END)
                         FROM cur""")[0]
    assert cov > 0 and abs(cov + neg) < 1e-6
    # The plan never covers more than its commitment; utilization < 100% on some days; coverage partial.
    used, total, min_util, max_util = q(con, """
        SELECT sum(savings_plan_used_commitment), sum(savings_plan_total_commitment_to_date),
               min(savings_plan_used_commitment / savings_plan_total_commitment_to_date),
               max(savings_plan_used_commitment / savings_plan_total_commitment_to_date)
        FROM cur WHERE line_item_line_item_type = 'SavingsPlanRecurringFee'""")[0]
    assert used <= total + 1e-6 and min_util < 0.999 and max_util <= 1 + 1e-9
    # Used commitment is exactly the effective cost of the usage each plan covered that day.
    gap = one(con, """
        WITH fee AS (SELECT savings_plan_savings_plan_a_r_n AS arn, line_item_usage_start_date AS d,
                            savings_plan_used_commitment AS used FROM cur
                     WHERE line_item_line_item_type = 'SavingsPlanRecurringFee'),
             cov AS (SELECT savings_plan_savings_plan_a_r_n AS arn, line_item_usage_start_date AS d,
                            sum(savings_plan_savings_plan_effective_cost) AS eff FROM cur
                     WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage' GROUP BY 1, 2)
        SELECT max(abs(fee.used - coalesce(cov.eff, 0))) FROM fee LEFT JOIN cov USING (arn, d)""")
    assert gap < 1e-6
    coverage = one(con, """SELECT sum(CASE WHEN line_item_line_item_type IN ('SavingsPlanCoveredUsage', 'DiscountedUsage')
                                           THEN pricing_public_on_demand_cost END) / sum(pricing_public_on_demand_cost)
                           FROM cur WHERE line_item_product_code = 'AmazonEC2' AND line_item_usage_type LIKE '%BoxUsage%'
                             AND line_item_line_item_type IN ('Usage', 'SavingsPlanCoveredUsage', 'DiscountedUsage')""")
    assert 0.4 < coverage < 0.9
    # Reserved instances: discounted usage costs nothing unblended, its effective cost is filled; some
    # reservations are under-used and some expire within 30/60/90 days of the end date.
    assert one(con, "SELECT max(abs(line_item_unblended_cost)) FROM cur WHERE line_item_line_item_type = 'DiscountedUsage'") == 0
    assert one(con, "SELECT min(reservation_effective_cost) FROM cur WHERE line_item_line_item_type = 'DiscountedUsage'") > 0
    assert one(con, "SELECT max(reservation_unused_recurring_fee + reservation_unused_amortized_upfront_fee_for_billing_period) "
                    "FROM cur WHERE line_item_line_item_type = 'RIFee'") > 0
    ends = [dt.date.fromisoformat(r[0][:10]) for r in q(con, "SELECT DISTINCT reservation_end_time FROM cur "
                                                             "WHERE line_item_line_item_type = 'RIFee'")]
    soon = sorted((e - END).days for e in ends if e > END)
    assert any(d <= 30 for d in soon) and any(30 < d <= 60 for d in soon) and any(60 < d <= 90 for d in soon)


def test_resource_tags_have_realistic_gaps(con):
    frac_untagged, wrong = q(con, """
        WITH r AS (SELECT line_item_resource_id, any_value(resource_tags) AS t FROM cur
                   WHERE line_item_resource_id <> '' AND line_item_line_item_type = 'Usage' GROUP BY 1)
        SELECT avg(CASE WHEN cardinality(t) = 0 THEN 1 ELSE 0 END),
               count(*) FILTER (WHERE t['user_environment'] IN ('Prod', 'production', 'PROD'))
        FROM r""")[0]
    assert 0.15 < frac_untagged < 0.45
    assert wrong > 0


# --- inventory ----------------------------------------------------------------------------------

def test_ids_and_types_look_like_aws(con):
    patterns = {"AWS::EC2::Instance": "i-0[0-9a-f]{16}", "AWS::EC2::Volume": "vol-0[0-9a-f]{16}",
                "AWS::EC2::Snapshot": "snap-0[0-9a-f]{16}", "AWS::EC2::EIP": "eipalloc-0[0-9a-f]{16}",
                "AWS::EC2::NatGateway": "nat-0[0-9a-f]{16}", "AWS::RDS::DBInstance": "arn:aws:rds:.*:db:.*",
                "AWS::Lambda::Function": "arn:aws:lambda:.*:function:.*"}
    for rtype, pattern in patterns.items():
        n, ok = q(con, "SELECT count(*), count(*) FILTER (WHERE regexp_full_match(resource_id, ?)) FROM resources "
                       "WHERE resource_type = ?", pattern, rtype)[0]
        assert n > 0 and n == ok, rtype
    types = {r[0] for r in q(con, "SELECT DISTINCT resource_type FROM resources")}
    assert {"AWS::S3::Bucket", "AWS::EC2::SecurityGroup", "AWS::EC2::VPC", "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "AWS::DynamoDB::Table"} <= types
    # Snapshots differ day to day: resources come and go.
    days = q(con, "SELECT snapshot_date, count(*) FROM resources GROUP BY 1 ORDER BY 1")
    assert len({n for _d, n in days}) > 1
    # Raw tag keys without the CUR prefix; configuration is JSON.
    keys = {r[0] for r in q(con, "SELECT DISTINCT unnest(map_keys(tags)) FROM resources")}
    assert keys == {"team", "environment", "cost-center", "application", "Name"}
    assert one(con, "SELECT count(*) FROM resources WHERE json_valid(configuration) IS NOT true") == 0
    assert one(con, "SELECT count(*) FROM resources WHERE resource_type = 'AWS::EC2::Volume' AND state = 'in-use' "
                    "AND (attached IS NOT true OR attached_to IS NULL)") == 0


def test_planted_waste_is_in_the_latest_snapshot_and_costs_money(con, manifest):
    planted = manifest["planted"]
    assert set(planted) >= {"unattached_volumes", "stopped_instances", "unassociated_eips", "old_snapshots",
                            "previous_generation_instances", "gp2_volumes"}
    latest = END.isoformat()
    checks = {
        "unattached_volumes": "resource_type = 'AWS::EC2::Volume' AND attached = false AND state = 'available' "
                              "AND attached_to IS NULL",
        "stopped_instances": "resource_type = 'AWS::EC2::Instance' AND state = 'stopped'",
        "unassociated_eips": "resource_type = 'AWS::EC2::EIP' AND attached = false",
        "old_snapshots": "resource_type = 'AWS::EC2::Snapshot' AND created_at < DATE '2026-05-28'",
        "previous_generation_instances": "split_part(instance_type, '.', 1) IN ('m4', 'c4', 'r4', 't2')",
        "gp2_volumes": "volume_type = 'gp2'",
    }
    for key, where in checks.items():
        ids = planted[key]
        assert len(ids) >= 3, key
        ok = one(con, f"SELECT count(*) FROM resources WHERE snapshot_date = ? AND list_contains(?, resource_id) AND {where}",
                 latest, ids)
        assert ok == len(ids), key
    day_cost = """SELECT count(DISTINCT line_item_resource_id) FROM cur WHERE line_item_usage_start_date = TIMESTAMP '2026-11-24'
                  AND list_contains(?, line_item_resource_id) AND line_item_unblended_cost > 0"""
    assert one(con, day_cost, planted["unattached_volumes"]) == len(planted["unattached_volumes"])
    assert one(con, day_cost, planted["unassociated_eips"]) == len(planted["unassociated_eips"])
    assert one(con, """SELECT count(*) FROM cur WHERE list_contains(?, line_item_resource_id)
                       AND line_item_usage_type LIKE '%ElasticIP:IdleAddress'
                       AND line_item_usage_start_date = TIMESTAMP '2026-11-24'""", planted["unassociated_eips"]) == \
        len(planted["unassociated_eips"])
    # Stopped instances bill no hours but their attached volumes are still billed.
    assert one(con, "SELECT count(*) FROM cur WHERE list_contains(?, line_item_resource_id) "
                    "AND line_item_usage_start_date = TIMESTAMP '2026-11-24'", planted["stopped_instances"]) == 0
    vols = [r[0] for r in q(con, "SELECT resource_id FROM resources WHERE snapshot_date = ? AND list_contains(?, attached_to)",
                            latest, planted["stopped_instances"])]
    assert len(vols) >= len(planted["stopped_instances"])
    assert one(con, day_cost, vols) == len(vols)


def test_cur_instances_and_volumes_exist_in_inventory_that_day(con):
    missing, total = q(con, """
        WITH c AS (SELECT DISTINCT CAST(line_item_usage_start_date AS DATE) AS d, line_item_resource_id AS rid FROM cur
                   WHERE (line_item_resource_id LIKE 'i-%' OR line_item_resource_id LIKE 'vol-%')
                     AND line_item_usage_start_date >= TIMESTAMP '2026-11-11')
        SELECT count(*) FILTER (WHERE r.resource_id IS NULL), count(*)
        FROM c LEFT JOIN resources r ON r.snapshot_date = c.d AND r.resource_id = c.rid""")[0]
    assert total > 1000 and missing == 0
    # And the other way round: every running instance bills hours that day.
    assert one(con, """SELECT count(*) FROM resources r WHERE r.state = 'running' AND r.snapshot_date = DATE '2026-11-24'
                       AND NOT EXISTS (SELECT 1 FROM cur c WHERE c.line_item_resource_id = r.resource_id
                                       AND c.line_item_usage_type LIKE '%BoxUsage%'
                                       AND c.line_item_usage_start_date = TIMESTAMP '2026-11-24')""") == 0


# --- splunk -------------------------------------------------------------------------------------

def test_splunk_hosts_are_inventory_instances_of_the_same_account(con):
    missing, total = q(con, """
        WITH h AS (SELECT DISTINCT event_date, host, account_id FROM events)
        SELECT count(*) FILTER (WHERE r.resource_id IS NULL), count(*)
        FROM h LEFT JOIN resources r ON r.snapshot_date = h.event_date AND r.resource_name = h.host
             AND r.account_id = h.account_id AND r.resource_type = 'AWS::EC2::Instance'""")[0]
    assert total > 50 and missing == 0
    assert {r[0] for r in q(con, "SELECT DISTINCT index_name FROM events")} == {"web", "app", "security"}
    assert {"access_combined", "app:json", "linux_secure", "aws:cloudtrail"} <= \
        {r[0] for r in q(con, "SELECT DISTINCT sourcetype FROM events")}
    assert one(con, "SELECT count(*) FROM events WHERE CAST(event_time AS DATE) <> event_date") == 0
    # Raw messages agree with the fields.
    assert one(con, """SELECT count(*) FROM events WHERE index_name = 'web' AND (
        message NOT LIKE client_ip || ' - %' OR message NOT LIKE '%"' || http_method || ' ' || http_path || ' HTTP/1.1" '
        || CAST(http_status AS VARCHAR) || ' ' || CAST(bytes AS VARCHAR) || ' %')""") == 0
    assert one(con, "SELECT count(*) FROM events WHERE sourcetype IN ('app:json', 'aws:cloudtrail') "
                    "AND json_valid(message) IS NOT true") == 0
    # Diurnal: the busiest hour of web traffic has several times the quietest.
    hours = [r[0] for r in q(con, "SELECT count(*) FROM events WHERE index_name = 'web' GROUP BY hour(event_time)")]
    assert max(hours) > 2.5 * min(hours)


def _incident(manifest, kind: str) -> dict:
    return next(i for i in manifest["incidents"] if i["kind"] == kind)


def test_incidents_spike_cost_for_their_account_and_service(con, manifest):
    incidents = manifest["incidents"]
    assert len(incidents) >= 3
    for inc in incidents:
        assert {"id", "kind", "start", "end", "account_id", "service_code", "region", "usage_type", "host",
                "description", "start_date", "end_date"} <= set(inc)
        daily = dict(q(con, """SELECT usage_date, sum(unblended_cost) FROM cost_daily
                               WHERE account_id = ? AND service_code = ? AND record_type = 'Usage' GROUP BY 1""",
                       inc["account_id"], inc["service_code"]))
        first, last = dt.date.fromisoformat(inc["start_date"]), dt.date.fromisoformat(inc["end_date"])
        days = [d for d in daily if first <= d <= last]
        others = sorted(v for d, v in daily.items() if not first <= d <= last)
        median = others[len(others) // 2]
        assert days and max(daily[d] for d in days) > 3 * median, inc["id"]
        assert one(con, "SELECT count(*) FROM cost_daily WHERE usage_type = ? AND account_id = ?",
                   inc["usage_type"], inc["account_id"]) > 0
    # At least one incident is inside the Splunk window.
    assert any(dt.date.fromisoformat(i["start_date"]) >= dt.date(2026, 11, 18) for i in incidents)


def test_5xx_storm_shows_in_the_web_logs(con, manifest):
    inc = _incident(manifest, "http_5xx_storm")
    per_hour = q(con, """SELECT date_trunc('hour', event_time) AS h,
                                count(*) FILTER (WHERE http_status >= 500) AS e5, count(*) AS n
                         FROM events WHERE index_name = 'web' AND host = ? GROUP BY 1""", inc["host"])
    start, end = dt.datetime.fromisoformat(inc["start"]), dt.datetime.fromisoformat(inc["end"])
    inside = [e for h, e, _n in per_hour if start <= h < end - dt.timedelta(hours=1)]
    outside = [e for h, e, _n in per_hour if not start - dt.timedelta(hours=1) <= h <= end]
    assert inside and outside
    assert min(inside) > 20 * max(1.0, sum(outside) / len(outside))


def test_cryptomining_shows_in_security_logs_and_cost(con, manifest):
    inc = _incident(manifest, "cryptomining")
    trail = one(con, """SELECT count(*) FROM events WHERE sourcetype = 'aws:cloudtrail' AND message LIKE '%RunInstances%'
                        AND message LIKE '%' || ? || '%' AND client_ip = '185.220.101.47'""", inc["account_id"])
    assert trail >= 8
    miners = one(con, "SELECT count(DISTINCT host) FROM events WHERE account_id = ? AND index_name = 'security' "
                      "AND event_time BETWEEN ? AND ?", inc["account_id"], inc["start"], inc["end"])
    assert miners >= 8
    assert one(con, "SELECT count(*) FROM cur WHERE line_item_usage_type = ? AND line_item_usage_account_id = ?",
               inc["usage_type"], inc["account_id"]) > 0


# --- atomic writes --------------------------------------------------------------------------------

class Boom(RuntimeError):
    pass


def _fail_midway(fraction: float, message: str) -> None:
    if "CUR and billing" in message:
        raise Boom(message)


def test_interrupted_build_leaves_no_target(tmp_path):
    out = tmp_path / "lake"
    with pytest.raises(Boom):
        build_demo_lakehouse(out, scale="small", seed=SEED, end_date=END, progress=_fail_midway)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [".lake.write.lock"]  # the writer's lock file only: no staging folder


def test_interrupted_rebuild_keeps_the_previous_lakehouse(tmp_path):
    out = tmp_path / "lake"
    (out / "daivi_cur").mkdir(parents=True)
    (out / "manifest.json").write_text('{"previous": true}')
    (out / "daivi_cur" / "marker").write_text("old")
    with pytest.raises(Boom):
        build_demo_lakehouse(out, scale="small", seed=SEED, end_date=END, progress=_fail_midway)
    assert json.loads((out / "manifest.json").read_text()) == {"previous": True}
    assert (out / "daivi_cur" / "marker").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lake.write.lock", "lake"]  # no staging folder left


def test_unknown_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="small"):
        build_demo_lakehouse(tmp_path / "x", scale="huge")


def test_commitment_columns_are_set_only_on_their_own_lines(con):
    sp_types = "('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'SavingsPlanRecurringFee')"
    ri_types = "('DiscountedUsage', 'RIFee')"
    assert one(con, f"SELECT count(*) FROM cur WHERE (savings_plan_savings_plan_a_r_n <> '') "
                    f"<> (line_item_line_item_type IN {sp_types})") == 0
    assert one(con, f"SELECT count(*) FROM cur WHERE (savings_plan_end_time <> '') <> (line_item_line_item_type IN {sp_types})") == 0
    assert one(con, f"SELECT count(*) FROM cur WHERE (reservation_reservation_a_r_n <> '') <> (line_item_line_item_type IN {ri_types})") == 0
    assert one(con, f"SELECT count(*) FROM cur WHERE (reservation_end_time <> '') <> (line_item_line_item_type IN {ri_types})") == 0


def test_instance_names_are_unique_host_names(con):
    dupes = one(con, """SELECT count(*) FROM (SELECT resource_name FROM resources WHERE resource_type = 'AWS::EC2::Instance'
                        GROUP BY 1 HAVING count(DISTINCT resource_id) > 1)""")
    assert dupes == 0
    names = {r[0] for r in q(con, "SELECT DISTINCT resource_name FROM resources WHERE resource_type = 'AWS::EC2::Instance'")}
    assert {"web-storefront-01", "web-payments-api-01"} <= names
    assert any(n.startswith("ip-10-") for n in names)  # EKS nodes and unnamed instances go by their private DNS name
