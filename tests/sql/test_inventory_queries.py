"""Inventory queries on the small lakehouse, against independent SQL, per persona.

Also: every builder binds its values (the partition predicates: tests/sql/test_query_contract.py).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from daivi_data import inventory_analysis as ia
from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.queries import Query
from daivi_data.queries import inventory as q
from daivi_data.settings import Settings
from tests.helpers import PAYMENTS_ACCOUNT_IDS, principal

PAYMENTS = "(" + ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS) + ")"
D = dt.date(2026, 6, 30)
SAMPLE_FILTER = q.ResourceFilter(text="web", tags=ia.parse_tag_search("team=payments, !cost-center, owner, env!=dev"),
                                 resource_types=("AWS::EC2::Instance",), accounts=("1",), regions=("us-east-1",), states=("running",))
# One call of every builder, with every optional part switched on.
BUILDERS = {
    "snapshot_dates": lambda: q.snapshot_dates(D - dt.timedelta(days=30), D),
    "counts_by_dimension": lambda: q.counts_by_dimension(D),
    "trend_by_type": lambda: q.trend_by_type(D - dt.timedelta(days=30), D),
    "snapshot_changes": lambda: q.snapshot_changes(D - dt.timedelta(days=7), D, "411111111101"),
    "search_count": lambda: q.search_count(D, SAMPLE_FILTER),
    "search_page": lambda: q.search_page(D, SAMPLE_FILTER, q.DEFAULT_SEARCH_COLUMNS, 2, 25),
    "search_export": lambda: q.search_export(D, SAMPLE_FILTER, tuple(q.SEARCH_COLUMNS), 1000),
    "required_tag_values": lambda: q.required_tag_values(D, ("team", "environment"))[0],
    "waste_candidates": lambda: q.waste_candidates(D, 180),
    "waste_costs": lambda: q.waste_costs(D, 180),
    "resource_detail": lambda: q.resource_detail(D, "i-1", True),
    "account_names": q.account_names,
    "resources_by_host": lambda: q.resources_by_host(D, "web-01"),
    "resource_history": lambda: q.resource_history("i-1", D - dt.timedelta(days=30), D),
    "resource_seen": lambda: q.resource_seen("i-1", D - dt.timedelta(days=30), D),
    "resource_daily_cost": lambda: q.resource_daily_cost("i-1", D),
    "host_events": lambda: q.host_events("web-01", D - dt.timedelta(days=1), D),
    "host_event_counts": lambda: q.host_event_counts("web-01", D),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_value_is_bound_never_written_into_the_sql(name):
    query = BUILDERS[name]()
    assert isinstance(query, Query)
    # no literal date, no user text in the SQL
    assert "2026-" not in query.sql and "web-01" not in query.sql and "payments" not in query.sql


def test_identifiers_come_from_the_allow_list():
    with pytest.raises(InvalidRequest, match="Column 'tags; DROP TABLE x' is not one of"):
        q.search_page(D, q.ResourceFilter(), ("tags; DROP TABLE x",), 1, 25)
    with pytest.raises(InvalidRequest, match="at least one column"):
        q.search_export(D, q.ResourceFilter(), (), 10)
    with pytest.raises(InvalidRequest, match="Page size"):
        q.search_page(D, q.ResourceFilter(), ("resource_id",), 1, 0)
    with pytest.raises(InvalidRequest, match="start at 1"):
        q.search_page(D, q.ResourceFilter(), ("resource_id",), 0, 25)
    with pytest.raises(InvalidRequest, match="two different"):
        q.snapshot_changes(D, D)
    with pytest.raises(InvalidRequest, match="starts"):
        q.trend_by_type(D, D - dt.timedelta(days=1))
    with pytest.raises(InvalidRequest, match="No required tags"):
        q.required_tag_values(D, ())


# --- on the small lakehouse -------------------------------------------------------------------

@pytest.fixture(scope="module")
def snapshot(engine) -> dt.date:
    return dt.date.fromisoformat(engine.table_info("daivi_inventory", "resources").latest_partition)


@pytest.fixture(scope="module")
def manifest(small_lakehouse) -> dict:
    return json.loads((small_lakehouse / "manifest.json").read_text())


def scalar(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()[0][0]


def run(engine, query, persona="admin") -> pd.DataFrame:
    return engine.run(query, principal(persona)).df


@pytest.mark.parametrize(("persona", "where"), [("admin", ""), ("ops", ""), ("finance", ""),
                                                ("teamlead", f"AND account_id IN {PAYMENTS}")])
def test_counts_by_dimension_equal_independent_sql(engine, raw_duckdb, snapshot, persona, where):
    df = run(engine, q.counts_by_dimension(snapshot), persona)
    expected = raw_duckdb.execute(
        f"SELECT resource_type, account_id, region, COUNT(*) AS n FROM daivi_inventory.resources "
        f"WHERE snapshot_date = ? {where} GROUP BY ALL ORDER BY ALL", [snapshot]).df()
    got = df.groupby(["resource_type", "account_id", "region"])["resources"].sum().reset_index()
    got = got.sort_values(["resource_type", "account_id", "region"]).reset_index(drop=True)
    assert len(expected) > 0
    assert got["resources"].tolist() == expected["n"].tolist()
    assert got["account_id"].tolist() == expected["account_id"].tolist()
    if persona == "teamlead":
        assert set(df["account_id"]) <= set(PAYMENTS_ACCOUNT_IDS)
        assert len(set(df["account_id"])) == len(PAYMENTS_ACCOUNT_IDS)


def test_snapshot_dates_and_trend(engine, raw_duckdb, snapshot):
    since = snapshot - dt.timedelta(days=q.MAX_HISTORY_DAYS)
    dates = run(engine, q.snapshot_dates(since, snapshot))
    expected = raw_duckdb.execute("SELECT snapshot_date, COUNT(*) FROM daivi_inventory.resources "
                                  "WHERE snapshot_date BETWEEN ? AND ? GROUP BY 1 ORDER BY 1", [since, snapshot]).fetchall()
    assert len(dates) == len(expected) >= 2
    assert dates["resources"].tolist() == [n for _, n in expected]
    trend = run(engine, q.trend_by_type(since, snapshot))
    assert int(trend["resources"].sum()) == sum(n for _, n in expected)


def test_empty_snapshot_day_has_no_rows(engine):
    assert run(engine, q.counts_by_dimension(dt.date(2001, 1, 1))).empty


# --- search -----------------------------------------------------------------------------------

def _raw_count(con, snapshot, where, *params):
    return scalar(con, f"SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND ({where})", snapshot, *params)


@pytest.mark.parametrize(("tags", "where", "params"), [
    ("team=payments", "lower(tags['team']) = 'payments'", ()),
    ("team=PAYMENTS", "lower(tags['team']) = 'payments'", ()),
    ("cost-center", "tags['cost-center'] IS NOT NULL", ()),
    ("!cost-center", "tags['cost-center'] IS NULL", ()),
    ("environment!=prod", "coalesce(lower(tags['environment']), '') <> 'prod'", ()),
    ("team=payments, !Name", "lower(tags['team']) = 'payments' AND tags['Name'] IS NULL", ()),
])
def test_tag_search_counts_equal_independent_sql(engine, raw_duckdb, snapshot, tags, where, params):
    flt = q.ResourceFilter(tags=ia.parse_tag_search(tags))
    got = int(run(engine, q.search_count(snapshot, flt))["total"][0])
    assert got == _raw_count(raw_duckdb, snapshot, where, *params)


def test_tag_searches_find_something(engine, snapshot):
    for tags in ("team=payments", "!cost-center", "environment=prod"):
        assert int(run(engine, q.search_count(snapshot, q.ResourceFilter(tags=ia.parse_tag_search(tags))))["total"][0]) > 0, tags


@pytest.mark.parametrize("text", ["%", "_", ".*", "'", "a%b", "i-0%", "[a-z]", "\\", "vol_"])
def test_search_text_metacharacters_match_literally(engine, raw_duckdb, snapshot, text):
    flt = q.ResourceFilter(text=ia.normalize_search_text(text))
    got = int(run(engine, q.search_count(snapshot, flt))["total"][0])
    needle = text.lower()
    expected = _raw_count(raw_duckdb, snapshot, "contains(lower(resource_id), ?) OR contains(lower(coalesce(resource_name, '')), ?)"
                                                " OR contains(lower(coalesce(arn, '')), ?)", needle, needle, needle)
    assert got == expected
    everything = _raw_count(raw_duckdb, snapshot, "TRUE")
    assert got < everything  # a wildcard never matches everything


def test_search_by_id_fragment_name_and_arn(engine, raw_duckdb, snapshot):
    row = raw_duckdb.execute("SELECT resource_id, resource_name, arn FROM daivi_inventory.resources WHERE snapshot_date = ? "
                             "AND resource_type = 'AWS::EC2::Instance' AND resource_name IS NOT NULL ORDER BY resource_id LIMIT 1",
                             [snapshot]).fetchone()
    rid, name, arn = row
    for text in (rid.upper(), name, arn[-20:]):
        df = run(engine, q.search_export(snapshot, q.ResourceFilter(text=ia.normalize_search_text(text)), ("resource_id",), 1000))
        assert rid in set(df["resource_id"]), text


def test_dimension_filters_and_pages_cover_the_export(engine, raw_duckdb, snapshot):
    acct = PAYMENTS_ACCOUNT_IDS[0]
    flt = q.ResourceFilter(accounts=(acct,), resource_types=("AWS::EC2::Volume", "AWS::EC2::Instance"))
    total = int(run(engine, q.search_count(snapshot, flt))["total"][0])
    assert total == _raw_count(raw_duckdb, snapshot, "account_id = ? AND resource_type IN ('AWS::EC2::Volume', 'AWS::EC2::Instance')", acct)
    assert total > 10
    export = run(engine, q.search_export(snapshot, flt, ("resource_name", "state"), 100_000))
    assert len(export) == total and export["resource_id"].is_unique
    size = 7
    pages = [run(engine, q.search_page(snapshot, flt, ("resource_name",), p, size)) for p in range(1, -(-total // size) + 1)]
    assert pd.concat(pages)["resource_id"].tolist() == export["resource_id"].tolist()
    assert list(pages[0].columns) == ["resource_id", "resource_name"]


def test_export_is_capped_one_past_the_limit(engine, snapshot):
    df = run(engine, q.search_export(snapshot, q.ResourceFilter(), ("resource_id",), 5))
    assert len(df) == 6  # the page shows "the export stops at 5 rows"


def test_teamlead_search_sees_only_payments(engine, raw_duckdb, snapshot):
    df = run(engine, q.search_export(snapshot, q.ResourceFilter(), ("account_id",), 100_000), "teamlead")
    assert set(df["account_id"]) == set(PAYMENTS_ACCOUNT_IDS)
    assert len(df) == _raw_count(raw_duckdb, snapshot, f"account_id IN {PAYMENTS}")


# --- tag compliance ---------------------------------------------------------------------------

def test_tag_compliance_equals_independent_sql(engine, raw_duckdb, snapshot):
    required = Settings().required_tags
    query, columns = q.required_tag_values(snapshot, tuple(required))
    evaluated = ia.evaluate_tag_compliance(run(engine, query), required, columns)
    conditions = []
    for key, allowed in required.items():
        cond = f"coalesce(trim(tags['{key}']), '') <> ''"
        if allowed:
            cond += f" AND tags['{key}'] IN ({', '.join(repr(v) for v in allowed)})"
        conditions.append(f"({cond})")
    expected = raw_duckdb.execute(
        f"SELECT account_id, COUNT(*) AS n, COUNT_IF({' AND '.join(conditions)}) AS ok FROM daivi_inventory.resources "
        "WHERE snapshot_date = ? GROUP BY 1 ORDER BY 1", [snapshot]).df()
    by_account = ia.compliance_by(evaluated, "account_id").sort_values("account_id").reset_index(drop=True)
    assert by_account["resources"].tolist() == expected["n"].tolist()
    assert by_account["compliant"].tolist() == expected["ok"].tolist()
    overall = ia.compliance_pct(evaluated)
    assert overall == pytest.approx(100.0 * expected["ok"].sum() / expected["n"].sum())
    assert 0 < overall < 100  # the demo has both tagged and untagged resources


# --- waste ------------------------------------------------------------------------------------

PLANTED_CATEGORY = {  # manifest's planted key -> waste category
    "unattached_volumes": ia.UNATTACHED_VOLUME,
    "stopped_instances": ia.STOPPED_INSTANCE,
    "unassociated_eips": ia.UNASSOCIATED_EIP,
    "old_snapshots": ia.OLD_SNAPSHOT,
    "previous_generation_instances": ia.PREVIOUS_GENERATION,
    "gp2_volumes": ia.GP2_VOLUME,
}


@pytest.fixture(scope="module")
def findings(engine, snapshot) -> pd.DataFrame:
    candidates = run(engine, q.waste_candidates(snapshot, ia.OLD_SNAPSHOT_DAYS))
    costs = run(engine, q.waste_costs(snapshot, ia.OLD_SNAPSHOT_DAYS))
    return ia.classify_waste(candidates, snapshot, costs)


def _planted(manifest) -> dict[str, list[str]]:
    planted = manifest.get("planted")
    assert planted, "the demo manifest lists no planted waste"
    return planted


def test_waste_finder_finds_every_planted_resource(findings, manifest):
    planted = _planted(manifest)
    found = {cat: set(g["resource_id"]) for cat, g in findings.groupby("category")}
    matched = 0
    for key, ids in planted.items():
        category = PLANTED_CATEGORY.get(key)
        if category is None or not isinstance(ids, list):
            continue
        missing = set(ids) - found.get(category, set())
        assert not missing, f"{key}: not found {sorted(missing)[:5]}"
        matched += 1
    assert matched >= 4, f"manifest planted keys {sorted(planted)} do not map onto {sorted(PLANTED_CATEGORY)}"


def test_no_attached_volume_is_called_unattached(findings, raw_duckdb, snapshot):
    ids = findings.loc[findings["category"] == ia.UNATTACHED_VOLUME, "resource_id"].tolist()
    assert ids
    attached = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? "
                                  "AND list_contains(?, resource_id) AND (attached OR attached_to IS NOT NULL AND attached_to <> '')",
                      snapshot, ids)
    assert attached == 0
    eips = findings.loc[findings["category"] == ia.UNASSOCIATED_EIP, "resource_id"].tolist()
    assert scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? "
                              "AND list_contains(?, resource_id) AND attached", snapshot, eips) == 0


def test_waste_costs_equal_the_cur_sum_by_resource_id(engine, findings, raw_duckdb, snapshot):
    start, end, _, _ = q.cost_window(snapshot)
    unattached = findings[findings["category"] == ia.UNATTACHED_VOLUME].head(5)
    for rid, cost in zip(unattached["resource_id"], unattached["monthly_cost"], strict=True):
        expected = scalar(raw_duckdb, "SELECT coalesce(SUM(line_item_unblended_cost), 0) FROM daivi_cur.cur WHERE line_item_resource_id = ? "
                                      "AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ?", rid, start, end)
        assert cost == pytest.approx(expected), rid
    assert unattached["monthly_cost"].sum() > 0
    assert ia.total_at_stake(findings) > 0


def test_waste_without_cur_for_ops_and_teamlead_only_payments(engine, snapshot):
    with pytest.raises(AccessDenied):
        run(engine, q.waste_costs(snapshot, ia.OLD_SNAPSHOT_DAYS), "ops")
    ops = ia.classify_waste(run(engine, q.waste_candidates(snapshot, ia.OLD_SNAPSHOT_DAYS), "ops"), snapshot, None)
    assert len(ops) and ops["monthly_cost"].isna().all()
    lead = run(engine, q.waste_candidates(snapshot, ia.OLD_SNAPSHOT_DAYS), "teamlead")
    assert set(lead["account_id"]) <= set(PAYMENTS_ACCOUNT_IDS)
    lead_costs = run(engine, q.waste_costs(snapshot, ia.OLD_SNAPSHOT_DAYS), "teamlead")
    assert set(lead_costs["resource_id"]) <= set(lead["resource_id"])


# --- detail, history, diff --------------------------------------------------------------------

@pytest.fixture(scope="module")
def busy_host(raw_duckdb, snapshot) -> tuple[str, str]:
    """(resource id, name) of an instance whose host logged events in the last week."""
    row = raw_duckdb.execute(
        "SELECT r.resource_id, r.resource_name FROM daivi_inventory.resources r JOIN daivi_splunk.events e ON e.host = r.resource_name "
        "WHERE r.snapshot_date = ? AND r.resource_type = 'AWS::EC2::Instance' AND e.event_date BETWEEN ? AND ? "
        "GROUP BY 1, 2 ORDER BY COUNT(*) DESC, 1 LIMIT 1", [snapshot, snapshot - dt.timedelta(days=6), snapshot]).fetchone()
    assert row, "no instance host has events in the small lakehouse"
    return row


def test_detail_cost_equals_the_cur_sum_for_that_id(engine, raw_duckdb, snapshot, busy_host):
    rid, _ = busy_host
    start, end, _, _ = q.cost_window(snapshot)
    daily = run(engine, q.resource_daily_cost(rid, snapshot), "finance")
    expected = scalar(raw_duckdb, "SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur WHERE line_item_resource_id = ? "
                                  "AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ?", rid, start, end)
    assert expected and daily["cost"].sum() == pytest.approx(expected)
    assert daily["usage_date"].nunique() <= q.COST_WINDOW_DAYS


def test_host_events_equal_independent_sql(engine, raw_duckdb, snapshot, busy_host):
    _, host = busy_host
    since = snapshot - dt.timedelta(days=q.EVENTS_WINDOW_DAYS - 1)
    counts = run(engine, q.host_event_counts(host, snapshot), "ops")
    expected = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_splunk.events WHERE host = ? AND event_date BETWEEN ? AND ?", host, since, snapshot)
    assert int(counts["events"].sum()) == expected > 0
    latest = max(pd.to_datetime(counts["latest_date"]).dt.date)
    assert latest == scalar(raw_duckdb, "SELECT MAX(event_date) FROM daivi_splunk.events WHERE host = ? AND event_date BETWEEN ? AND ?",
                            host, since, snapshot)
    first = latest - dt.timedelta(days=q.RECENT_EVENT_DAYS - 1)
    events = run(engine, q.host_events(host, first, latest), "ops")
    recent = raw_duckdb.execute("SELECT event_time FROM daivi_splunk.events WHERE host = ? AND event_date BETWEEN ? AND ? "
                                "ORDER BY event_time DESC LIMIT ?", [host, first, latest, q.MAX_EVENTS]).df()
    assert events["event_time"].tolist() == recent["event_time"].tolist()
    assert len(events) > 0
    with pytest.raises(AccessDenied):
        run(engine, q.host_events(host, first, latest), "finance")


def test_detail_configuration_only_for_roles_that_may_read_it(engine, snapshot, busy_host):
    rid, name = busy_host
    admin = run(engine, q.resource_detail(snapshot, rid, True))
    assert len(admin) == 1 and admin["configuration"][0]
    with pytest.raises(AccessDenied, match="configuration"):
        run(engine, q.resource_detail(snapshot, rid, True), "finance")
    finance = run(engine, q.resource_detail(snapshot, rid, False), "finance")
    assert len(finance) == 1 and "configuration" not in finance.columns
    by_host = run(engine, q.resources_by_host(snapshot, name.upper()), "ops")
    assert rid in set(by_host["resource_id"])
    assert run(engine, q.resource_detail(snapshot, "i-does-not-exist", True)).empty


def test_where_a_resource_was_seen_equals_independent_sql_and_follows_the_row_filter(engine, raw_duckdb, snapshot, busy_host):
    rid, _ = busy_host
    first = raw_duckdb.execute("SELECT MIN(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]
    seen = run(engine, q.resource_seen(rid, first, snapshot))
    expected = raw_duckdb.execute("SELECT MIN(snapshot_date), MAX(snapshot_date), COUNT(*) FROM daivi_inventory.resources "
                                  "WHERE resource_id = ?", [rid]).fetchall()[0]
    assert (pd.Timestamp(seen["first_seen"][0]).date(), pd.Timestamp(seen["last_seen"][0]).date(), int(seen["snapshots"][0])) == expected
    other = scalar(raw_duckdb, f"SELECT MIN(resource_id) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id NOT IN {PAYMENTS}",
                   snapshot)
    assert int(run(engine, q.resource_seen(other, first, snapshot), "teamlead")["snapshots"][0]) == 0


def test_history_and_diff_equal_independent_sql(engine, raw_duckdb, snapshot, busy_host):
    rid, _ = busy_host
    first = raw_duckdb.execute("SELECT MIN(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]
    history = run(engine, q.resource_history(rid, first, snapshot))
    assert len(history) == scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE resource_id = ?", rid)
    before = snapshot - dt.timedelta(days=7)
    pair = run(engine, q.snapshot_changes(before, snapshot))
    dates = pd.to_datetime(pair["snapshot_date"]).dt.date
    diff = ia.diff_snapshots(pair[dates == before], pair[dates == snapshot])
    changes = ia.count_changes(diff)
    created = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources a WHERE a.snapshot_date = ? AND NOT EXISTS "
                                 "(SELECT 1 FROM daivi_inventory.resources b WHERE b.snapshot_date = ? AND b.resource_id = a.resource_id)",
                     snapshot, before)
    deleted = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources a WHERE a.snapshot_date = ? AND NOT EXISTS "
                                 "(SELECT 1 FROM daivi_inventory.resources b WHERE b.snapshot_date = ? AND b.resource_id = a.resource_id)",
                     before, snapshot)
    state_changed = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources a JOIN daivi_inventory.resources b USING (resource_id) "
                                       "WHERE a.snapshot_date = ? AND b.snapshot_date = ? AND a.state IS DISTINCT FROM b.state", before, snapshot)
    assert (changes["created"], changes["deleted"]) == (created, deleted)
    assert created + deleted > 0
    assert changes["changed"] >= state_changed
    account = run(engine, q.snapshot_changes(before, snapshot, PAYMENTS_ACCOUNT_IDS[0]))
    assert set(account["account_id"]) <= {PAYMENTS_ACCOUNT_IDS[0]}


def test_snapshot_changes_equal_a_diff_of_the_whole_snapshots(engine, raw_duckdb, snapshot):
    first = raw_duckdb.execute("SELECT MIN(snapshot_date) FROM daivi_inventory.resources").fetchone()[0]
    changes = run(engine, q.snapshot_changes(first, snapshot))
    dates = pd.to_datetime(changes["snapshot_date"]).dt.date
    from_changes = ia.diff_snapshots(changes[dates == first], changes[dates == snapshot])
    both = raw_duckdb.execute(f"SELECT snapshot_date, {', '.join(q.DIFF_COLUMNS)} FROM daivi_inventory.resources "
                              "WHERE snapshot_date IN (?, ?)", [first, snapshot]).df()
    both_dates = pd.to_datetime(both["snapshot_date"]).dt.date
    from_all = ia.diff_snapshots(both[both_dates == first], both[both_dates == snapshot])
    assert len(from_all) > 0 and len(changes) < len(both) / 2  # only what differs leaves the engine
    pd.testing.assert_frame_equal(from_changes, from_all)


# --- a tiny hand-made lakehouse: every compared attribute changes once -------------------------

@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory, settings):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from daivi_data.engines.duckdb import DuckDBEngine
    from daivi_data.governance import load_policy

    root = tmp_path_factory.mktemp("tiny_inventory")
    base = {"account_id": "1", "region": "us-east-1", "resource_type": "AWS::EC2::Volume", "arn": "arn", "resource_name": "n",
            "state": "in-use", "created_at": dt.datetime(2026, 1, 1), "instance_type": None, "volume_type": "gp3", "size_gb": 8.0,
            "attached": True, "attached_to": "i-1", "encrypted": True, "public": False, "configuration": "{}"}
    day1 = {"same": {}, "gone": {}, "tags_reordered": {}, "name": {}, "name_null": {}, "state": {}, "size": {}, "attached": {},
            "attached_to": {}, "encrypted": {}, "public": {}, "tag_value": {}, "tag_added": {}, "volume_type": {}}
    day2 = {"same": {}, "new": {}, "tags_reordered": {"tags": [("b", "2"), ("a", "1")]}, "name": {"resource_name": "m"},
            "name_null": {"resource_name": None}, "state": {"state": "available"}, "size": {"size_gb": 16.0},
            "attached": {"attached": False}, "attached_to": {"attached_to": None}, "encrypted": {"encrypted": False},
            "public": {"public": True}, "tag_value": {"tags": [("a", "9"), ("b", "2")]}, "tag_added": {"tags": [("a", "1"), ("b", "2"), ("c", "3")]},
            "volume_type": {"volume_type": "gp2"}}
    for day, rows in ((dt.date(2026, 6, 1), day1), (dt.date(2026, 6, 2), day2)):
        records = [{**base, "resource_id": rid, "tags": [("a", "1"), ("b", "2")], **change} for rid, change in rows.items()]
        table = pa.Table.from_pylist(records, schema=pa.schema(
            [(k, pa.string()) for k in ("account_id", "region", "resource_type", "resource_id", "arn", "resource_name", "state")]
            + [("created_at", pa.timestamp("us")), ("tags", pa.map_(pa.string(), pa.string())), ("instance_type", pa.string()),
               ("volume_type", pa.string()), ("size_gb", pa.float64()), ("attached", pa.bool_()), ("attached_to", pa.string()),
               ("encrypted", pa.bool_()), ("public", pa.bool_()), ("configuration", pa.string())]))
        folder = root / "daivi_inventory" / "resources" / f"snapshot_date={day}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
    (root / "manifest.json").write_text(json.dumps({"generated_at": "test"}))
    return DuckDBEngine(root, load_policy(settings.grants_file))


def test_snapshot_changes_catch_every_attribute_and_ignore_tag_order(tiny_engine):
    before, after = dt.date(2026, 6, 1), dt.date(2026, 6, 2)
    changes = run(tiny_engine, q.snapshot_changes(before, after))
    assert "same" not in set(changes["resource_id"])
    dates = pd.to_datetime(changes["snapshot_date"]).dt.date
    diff = ia.diff_snapshots(changes[dates == before], changes[dates == after]).set_index("resource_id")
    assert diff["change"].to_dict() == {
        "new": "created", "gone": "deleted", "name": "changed", "name_null": "changed", "state": "changed", "size": "changed",
        "attached": "changed", "attached_to": "changed", "encrypted": "changed", "public": "changed", "tag_value": "changed",
        "tag_added": "changed", "volume_type": "changed"}  # tags_reordered: same map, not a change
    assert diff.loc["size", "details"] == "size_gb: 8.0 → 16.0"
    assert diff.loc["tag_added", "details"] == "tags +c=3"
    assert diff.loc["name_null", "details"] == "resource_name: n → –"
    for field in ("state", "attached", "attached_to", "encrypted", "public", "volume_type"):
        assert diff.loc[field, "changed_fields"] == field  # each row changed exactly that field
