"""Home card queries on the small lakehouse, against independent SQL, per persona."""

import datetime as dt

import pytest

from daivi_data.queries import overview
from tests.helpers import PAYMENTS_ACCOUNT_IDS, demo_end_date, principal

END = demo_end_date()
PAYMENTS = "(" + ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS) + ")"


def scalar(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()[0][0]


@pytest.mark.parametrize(("persona", "where"), [("admin", ""), ("teamlead", f"AND account_id IN {PAYMENTS}")])
def test_month_to_date_matches_independent_sum(engine, raw_duckdb, persona, where):
    df = engine.run(overview.billing_month_to_date(END), principal(persona)).df
    month_start = END.replace(day=1)
    expected = scalar(raw_duckdb, f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ? {where}",
                      month_start, END)
    prev_start = overview.previous_month_start(END)
    expected_prev = scalar(raw_duckdb, f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ? {where}",
                           prev_start, overview.same_day_previous_month(END))
    assert expected and expected_prev
    assert df["month_to_date"][0] == pytest.approx(expected)
    assert df["previous_month_to_date"][0] == pytest.approx(expected_prev)


def test_team_lead_sees_less_than_admin(engine):
    admin = engine.run(overview.billing_month_to_date(END), principal("admin")).df["month_to_date"][0]
    lead = engine.run(overview.billing_month_to_date(END), principal("teamlead")).df["month_to_date"][0]
    assert 0 < lead < admin


def test_cur_month_summary(engine, raw_duckdb):
    df = engine.run(overview.cur_month_summary(END), principal("finance")).df
    period = overview.billing_period(END)
    assert df["line_items"][0] == scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_cur.cur WHERE billing_period = ?", period)
    assert df["unblended_cost"][0] == pytest.approx(
        scalar(raw_duckdb, "SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur WHERE billing_period = ?", period))
    lead = engine.run(overview.cur_month_summary(END), principal("teamlead")).df
    assert lead["accounts"][0] <= len(PAYMENTS_ACCOUNT_IDS)


def test_inventory_snapshot_summary(engine, raw_duckdb):
    latest = engine.table_info("daivi_inventory", "resources").latest_partition
    snapshot = dt.date.fromisoformat(latest)
    df = engine.run(overview.inventory_snapshot_summary(snapshot), principal("ops")).df
    assert df["resources"][0] == scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ?", snapshot)
    assert df["resources"][0] > 0


def test_splunk_last_24h(engine, raw_duckdb):
    now = dt.datetime.combine(END, dt.time(23, 0))
    df = engine.run(overview.splunk_last_24h(now), principal("ops")).df
    since = now - dt.timedelta(hours=24)
    assert df["events"][0] == scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_splunk.events WHERE event_time >= ? AND event_time < ?", since, now)
    assert df["events"][0] > 0
    lead = engine.run(overview.splunk_last_24h(now), principal("teamlead")).df
    expected = scalar(raw_duckdb, f"SELECT COUNT(*) FROM daivi_splunk.events WHERE event_time >= ? AND event_time < ? "
                                  f"AND account_id IN {PAYMENTS} AND index_name <> 'security'", since, now)
    assert lead["events"][0] == expected < df["events"][0]


def test_finance_cannot_count_events(engine):
    from daivi_data.errors import AccessDenied

    with pytest.raises(AccessDenied, match="daivi_splunk.events"):
        engine.run(overview.splunk_last_24h(dt.datetime.combine(END, dt.time(12))), principal("finance"))
