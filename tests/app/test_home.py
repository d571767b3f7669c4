"""Home through AppTest, per persona: the right cards, the right numbers, nothing forbidden."""

import datetime as dt

import pytest
from streamlit.proto.Metric_pb2 import Metric

from daivi_ui import format as fmt
from tests.app.conftest import as_read, page_text
from tests.helpers import PAYMENTS_ACCOUNT_IDS, PERSONAS, demo_end_date

CARD_TITLES = {"billing": "Billing", "cur": "Billing CUR", "inventory": "Inventory", "splunk": "Splunk"}
VISIBLE = {
    "admin": {"billing", "cur", "inventory", "splunk"},
    "finance": {"billing", "cur", "inventory"},
    "ops": {"billing", "inventory", "splunk"},
    "teamlead": {"billing", "cur", "inventory", "splunk"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_home_shows_the_cards_of_the_lakehouses_the_role_may_read(run_page, persona):
    at = run_page(persona)
    assert not at.exception
    assert not at.error, [as_read(e.value) for e in at.error]
    subheaders = {s.value for s in at.subheader}
    assert subheaders == {CARD_TITLES[k] for k in VISIBLE[persona]}


@pytest.mark.parametrize(("persona", "accounts"), [("admin", None), ("teamlead", PAYMENTS_ACCOUNT_IDS)])
def test_month_to_date_figure_equals_sql(run_page, raw_duckdb, persona, accounts):
    end = demo_end_date()
    where = f"AND account_id IN ({', '.join(repr(a) for a in accounts)})" if accounts else ""
    expected = raw_duckdb.execute(
        f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ? {where}",
        [end.replace(day=1), end],
    ).fetchall()[0][0]
    at = run_page(persona)
    metric = next(m for m in at.metric if m.label.startswith("Month to date"))
    assert metric.value == fmt.money_short(expected)  # short enough for the card
    assert metric.help.startswith(f"{fmt.money(expected)} unblended")  # the exact figure on hover


def test_month_to_date_change_has_a_true_minus_and_points_the_way_it_moved(run_page, raw_duckdb):
    # The card read "-29.9%" with a hyphen beside figures written with a minus sign (−$2,430).
    end = demo_end_date()
    month = """SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?"""
    now = raw_duckdb.execute(month, [end.replace(day=1), end]).fetchone()[0]
    before_end = (end.replace(day=1) - dt.timedelta(days=1))
    before = raw_duckdb.execute(month, [before_end.replace(day=1), before_end.replace(day=min(end.day, before_end.day))]).fetchone()[0]
    metric = next(m for m in run_page("finance").metric if m.label.startswith("Month to date"))
    assert metric.delta == fmt.percent(now / before - 1, signed=True) and "-" not in metric.delta
    fell = now < before
    assert metric.proto.direction == (Metric.MetricDirection.DOWN if fell else Metric.MetricDirection.UP)
    assert metric.proto.color == (Metric.MetricColor.GREEN if fell else Metric.MetricColor.RED)


def test_events_in_the_last_24_hours_are_anchored_like_the_logs_view(run_page, raw_duckdb):
    """Home's 24 h count is the Logs view's default range: the 24 hours up to the newest event, not up to now."""
    newest = raw_duckdb.execute("SELECT MAX(event_time) FROM daivi_splunk.events").fetchall()[0][0]
    anchor = newest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    expected = raw_duckdb.execute("SELECT COUNT(*) FROM daivi_splunk.events WHERE event_time >= ? AND event_time < ?",
                                  [anchor - dt.timedelta(hours=24), anchor]).fetchall()[0][0]
    at = run_page("admin")
    metric = next(m for m in at.metric if m.label.startswith("Events in the last 24 h"))
    assert metric.value == f"{expected:,}" and expected > 0


def test_team_lead_sees_only_their_accounts_in_every_card(run_page, raw_duckdb):
    at = run_page("teamlead")
    resources = next(m for m in at.metric if m.label == "Resources tracked")
    latest = raw_duckdb.execute("SELECT MAX(snapshot_date) FROM daivi_inventory.resources").fetchall()[0][0]
    ids = ", ".join(repr(a) for a in PAYMENTS_ACCOUNT_IDS)
    expected = raw_duckdb.execute(
        f"SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id IN ({ids})", [latest]
    ).fetchall()[0][0]
    total = raw_duckdb.execute("SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ?", [latest]).fetchall()[0][0]
    assert resources.value == f"{expected:,}" and expected < total
    accounts = raw_duckdb.execute(
        f"SELECT COUNT(DISTINCT account_id) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id IN ({ids})", [latest]
    ).fetchall()[0][0]
    assert f"in {accounts} accounts" in page_text(at)


def test_unknown_persona_in_the_url_is_ignored_with_a_notice(run_page):
    at = run_page("mallory")
    assert not at.exception
    assert any("Ignored invalid value 'mallory'" in as_read(i.value) for i in at.info)
    assert "role `admin`" in page_text(at)


def test_a_bad_setting_is_one_clear_message(run_page, monkeypatch):
    monkeypatch.setenv("DAIVI_ENGINE", "spark")
    at = run_page("admin")
    assert not at.exception
    assert len(at.error) == 1
    assert "Setting `DAIVI_ENGINE` must be one of duckdb, athena; got 'spark'" in as_read(at.error[0].value)
    assert not at.metric  # nothing else ran


def test_first_run_builds_the_demo_lakehouse_with_progress(run_page, monkeypatch, tmp_path):
    target = tmp_path / "fresh"
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(target))
    monkeypatch.setenv("DAIVI_DEMO_SCALE", "small")
    at = run_page("finance")
    assert not at.exception
    assert (target / "manifest.json").exists()
    assert {s.value for s in at.subheader} == {CARD_TITLES[k] for k in VISIBLE["finance"]}


def test_query_stats_are_shown_under_the_cards(run_page):
    at = run_page("admin")
    assert any(c.value.startswith("7 queries") and "rows" in as_read(c.value) for c in at.caption)
