"""Round trip: the small demo lakehouse, exported as an AWS CUR 2.0 Data Export and imported back, gives the same totals."""

from __future__ import annotations

import pytest

from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.ingest import run_import
from daivi_data.ingest.cur2_export import export_cur2
from daivi_data.queries import make_query
from daivi_data.queries.cur import AMORTIZED_COST_SQL, NET_COST_SQL, PUBLIC_COST_SQL
from daivi_data.settings import PROJECT_ROOT
from tests.helpers import principal
from tests.unit.test_ingest_formats import lake

COSTS = f"""COUNT(*) AS n, SUM(line_item_unblended_cost) AS unblended, SUM({AMORTIZED_COST_SQL}) AS amortized,
  SUM({NET_COST_SQL}) AS net, SUM({PUBLIC_COST_SQL}) AS public"""
BY_PERIOD_ACCOUNT_TYPE = f"""SELECT billing_period, line_item_usage_account_id, line_item_line_item_type, {COSTS}
FROM daivi_cur.cur GROUP BY ALL ORDER BY ALL"""


COST_TOLERANCE = 1e-6


def assert_rows_equal(got: list[tuple], expected: list[tuple]) -> None:
    """Same keys in the same order; numbers equal within float summation noise."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e)
        for a, b in zip(g, e, strict=True):
            if isinstance(b, float):
                assert a == pytest.approx(b, abs=COST_TOLERANCE), (g, e)
            else:
                assert a == b, (g, e)


@pytest.fixture(scope="module", params=["csv", "parquet"])
def roundtrip(request, small_lakehouse, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"roundtrip-{request.param}")
    files = export_cur2(small_lakehouse, work / "s3", fmt=request.param)
    report = run_import([work / "s3"], work / "lh")
    return request.param, files, report, work / "lh"


def test_the_export_has_the_cur2_layout(roundtrip, raw_duckdb):
    fmt, files, _, _ = roundtrip
    periods = [r[0] for r in raw_duckdb.execute("SELECT DISTINCT billing_period FROM daivi_cur.cur ORDER BY 1").fetchall()]
    suffix = ".csv.gz" if fmt == "csv" else ".snappy.parquet"
    assert [f.parent.name for f in files] == [f"BILLING_PERIOD={p}" for p in periods]
    assert all(f.name == f"daivi-cur2-00001{suffix}" and f.parent.parent.name == "data" for f in files)


def test_every_line_item_comes_back_with_the_same_costs(roundtrip, raw_duckdb):
    _, _, report, out = roundtrip
    expected = raw_duckdb.execute(BY_PERIOD_ACCOUNT_TYPE).fetchall()
    assert report.rejected_count() == 0 and not [w for w in report.warnings if "Duplicate" in w or "currencies" in w]
    assert report.tables["daivi_cur.cur"].rows == sum(r[3] for r in expected)
    assert_rows_equal(lake(out, BY_PERIOD_ACCOUNT_TYPE), expected)


def test_tags_resources_and_timestamps_survive(roundtrip, raw_duckdb):
    """(An empty resource id and a missing one are the same thing in a CSV export.)"""
    _, _, _, out = roundtrip
    sql = """SELECT billing_period, resource_tags['user_team'] AS team, COUNT(DISTINCT NULLIF(line_item_resource_id, '')),
               MIN(line_item_usage_start_date), MAX(line_item_usage_end_date), COUNT(DISTINCT identity_line_item_id)
             FROM daivi_cur.cur GROUP BY ALL ORDER BY ALL"""
    assert lake(out, sql) == raw_duckdb.execute(sql).fetchall()


def test_derived_billing_equals_the_demo_billing(roundtrip, raw_duckdb):
    _, _, report, out = roundtrip
    sql = """SELECT usage_date, account_id, service_code, service_name, currency, SUM(unblended_cost), SUM(amortized_cost),
               SUM(net_unblended_cost), SUM(usage_quantity)
             FROM daivi_billing.cost_daily GROUP BY ALL ORDER BY ALL"""
    assert_rows_equal(lake(out, sql), raw_duckdb.execute(sql).fetchall())
    assert report.tables["daivi_billing.cost_daily"].derived_from == "daivi_cur.cur"
    by_team = "SELECT tags['team'], SUM(unblended_cost) FROM daivi_billing.cost_daily GROUP BY 1 ORDER BY 1 NULLS FIRST"
    assert_rows_equal(lake(out, by_team), raw_duckdb.execute(by_team).fetchall())


def test_the_app_reads_the_imported_lakehouse_like_the_demo(roundtrip, small_lakehouse):
    """The same governed query through the app's engine on both lakehouses: same numbers, same row filter."""
    _, _, _, out = roundtrip
    policy = load_policy(PROJECT_ROOT / "config" / "grants.toml")
    query = make_query("test.roundtrip", """
        SELECT billing_period, SUM(line_item_unblended_cost) AS cost, COUNT(DISTINCT line_item_usage_account_id) AS accounts
        FROM daivi_cur.cur WHERE billing_period >= :first GROUP BY 1 ORDER BY 1""", first="2000-01")
    for persona in ("admin", "teamlead"):
        imported = DuckDBEngine(out, policy).run(query, principal(persona)).df
        demo = DuckDBEngine(small_lakehouse, policy).run(query, principal(persona)).df
        assert imported["billing_period"].tolist() == demo["billing_period"].tolist()
        assert imported["accounts"].tolist() == demo["accounts"].tolist()
        assert imported["cost"].tolist() == pytest.approx(demo["cost"].tolist(), abs=COST_TOLERANCE)
