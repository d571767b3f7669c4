"""The Inventory page model without Streamlit: snapshots, the search request, diffs, compliance, waste, detail, history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data import inventory_analysis as ia
from daivi_data.errors import InvalidRequest
from daivi_data.models import inventory as m

D = dt.date(2026, 3, 10)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def resource(rid: str, **fields) -> dict:
    row = {"resource_id": rid, "resource_type": "AWS::EC2::Volume", "account_id": "111111111111", "region": "eu-west-1",
           "resource_name": None, "state": "available", "instance_type": None, "volume_type": "gp3", "size_gb": 10.0,
           "attached": False, "attached_to": None, "encrypted": True, "public": False, "tags": {"team": "a"}}
    return row | fields


def test_snapshots_know_their_days_and_name_the_nearest_for_a_missing_one():
    snapshots = m.snapshots_of(pd.DataFrame({"snapshot_date": pd.to_datetime([day(0), day(1), day(9)]), "resources": [3, 4, 5]}))
    assert (snapshots.first, snapshots.last, snapshots.resources) == (day(0), day(9), (3, 4, 5))
    assert day(1) in snapshots and day(5) not in snapshots
    assert snapshots.missing(day(5)) == f"No inventory snapshot on **{day(5)}**. The nearest: **{day(1)} or {day(9)}**."
    assert snapshots.compare_default(day(9)) == day(1)  # 7 days back has none: the one at or before it
    assert snapshots.compare_default(day(0)) is None
    assert "3 daily snapshots" in snapshots.describe()


@pytest.mark.parametrize(("value", "valid"), [("2026-03-10", True), ("2005-12-31", False), ("2027-03-12", False),
                                              ("yesterday'", False), ("2026-02-30", False), ("", False)])
def test_url_dates_must_be_days_the_pickers_can_take(value, valid):
    assert m.valid_url_date(value, today=D) is valid


def test_changes_between_two_days_count_created_deleted_and_changed():
    rows = [resource("vol-kept") | {"snapshot_date": day(0)}, resource("vol-kept", state="in-use") | {"snapshot_date": day(7)},
            resource("vol-gone") | {"snapshot_date": day(0)}, resource("vol-new") | {"snapshot_date": day(7)},
            resource("vol-new2") | {"snapshot_date": day(7)}]
    changes = m.changes_between(pd.DataFrame(rows), day(0), day(7))
    assert (changes.created, changes.deleted, changes.changed) == (2, 1, 1)
    assert set(changes.diff["resource_id"]) == {"vol-kept", "vol-gone", "vol-new", "vol-new2"}


def test_the_search_request_reads_tags_and_the_global_region_by_name():
    flt = m.search_filter("  I-0ABC ", "team=payments, !cost-center", ["AWS::EC2::Instance"], [], [m.GLOBAL_REGION_LABEL, "us-east-1"], [])
    assert flt.text == "i-0abc"
    assert [c.describe() for c in flt.tags] == ["team=payments", "!cost-center"]
    assert flt.regions == ("", "us-east-1")  # global resources have an empty region in the data
    with pytest.raises(InvalidRequest):
        m.search_filter("", "=payments", [], [], [], [])


def test_search_options_offer_the_empty_region_as_global_and_pages_round_up():
    counts = pd.DataFrame({"resource_type": ["b", "a"], "account_id": ["2", "1"], "region": ["", "eu-west-1"],
                           "state": ["x", None], "resources": [1, 2]})
    options = m.search_options(counts)
    assert options["region"] == [m.GLOBAL_REGION_LABEL, "eu-west-1"] and options["state"] == ["x"]
    assert options["resource_type"] == ["a", "b"]
    assert [m.page_count(n, 25) for n in (0, 1, 25, 26)] == [1, 1, 1, 2]


def test_search_table_can_hide_the_id_column_and_shows_tags_as_text():
    shown = m.search_table(pd.DataFrame({"resource_id": ["i-1", "i-2"], "tags": [{"a": "1"}, None]}), show_id=False)
    assert list(shown.columns) == ["tags"]
    assert shown["tags"][0] == "a=1"


def test_compliance_counts_violators_with_what_is_wrong_first():
    values = pd.DataFrame({"resource_id": ["r1", "r2", "r3"], "account_id": ["1", "1", "2"], "resource_type": ["t"] * 3,
                           "resource_name": [None] * 3, "tag_0": ["payments", None, "ops"], "tag_1": ["prod", "prod", "qa"]})
    result = m.compliance_of(values, (("team", ()), ("env", ("prod", "dev"))), (("team", "tag_0"), ("env", "tag_1")))
    assert result.checked == 3 and result.compliant_pct == pytest.approx(100 / 3)
    assert list(result.violators.columns[:3]) == ["resource_id", "missing", "invalid"]
    assert dict(zip(result.violators["resource_id"], result.violators["invalid"], strict=True)) == {"r2": "", "r3": "env=qa"}
    assert result.by_account["account_id"].tolist() == ["2", "1"]  # worst first


def waste_candidates() -> pd.DataFrame:
    return pd.DataFrame([resource("vol-orphan", created_at=pd.Timestamp(day(-10))),
                         resource("vol-gp2", volume_type="gp2", attached=True, state="in-use", created_at=pd.Timestamp(day(-10)))])


def test_waste_without_cost_data_has_no_cost_columns_and_no_stake():
    waste = m.waste_of(waste_candidates(), None, D, ia.OLD_SNAPSHOT_DAYS)
    assert waste.at_stake is None and waste.resources == 2
    assert [c.key for c in waste.categories] == [ia.UNATTACHED_VOLUME, ia.GP2_VOLUME]
    for category in waste.categories:
        assert "monthly_cost" not in category.table.columns and "category" not in category.table.columns


def test_waste_with_cost_counts_each_resource_once_at_its_largest_saving():
    costs = pd.DataFrame({"resource_id": ["vol-orphan", "vol-gp2"], "currency": ["USD", "USD"], "cost_30d": [10.0, 100.0]})
    waste = m.waste_of(waste_candidates(), costs, D, ia.OLD_SNAPSHOT_DAYS)
    assert waste.at_stake == pytest.approx(10.0 + 100.0 * ia.GP2_TO_GP3_SAVINGS_FRACTION)
    assert waste.categories[0].monthly_savings == pytest.approx(10.0)


def detail_frame(**extra) -> pd.DataFrame:
    row = {c: None for c in ("resource_id", "resource_name", "resource_type", "account_id", "region", "arn", "state")}
    row |= {"resource_id": "i-1", "resource_name": "web-01", "resource_type": "AWS::EC2::Instance", "account_id": "1",
            "region": "", "state": "running", "tags": {"team": "a", "env": "prod"}}
    return pd.DataFrame([row | extra])


def test_resource_detail_parses_configuration_and_says_when_the_role_cannot_read_it():
    assert m.resource_detail_of(detail_frame().iloc[0:0]) is None
    hidden = m.resource_detail_of(detail_frame())
    assert not hidden.configuration_readable and hidden.configuration is None
    assert hidden.title == "web-01" and dict(zip(hidden.tags["key"], hidden.tags["value"], strict=True)) == {"team": "a", "env": "prod"}
    assert "tags" not in set(hidden.attributes["attribute"]) and "configuration" not in set(hidden.attributes["attribute"])
    assert m.resource_detail_of(detail_frame(configuration='{"a": [1]}')).configuration == {"a": [1]}
    assert m.resource_detail_of(detail_frame(configuration="not json")).configuration == "not json"
    empty = m.resource_detail_of(detail_frame(configuration="  "))
    assert empty.configuration_readable and empty.configuration is None
    assert m.resource_detail_of(detail_frame(resource_name=None)).title == "i-1"


def test_recent_events_read_the_last_days_with_events():
    counts = pd.DataFrame({"severity": ["INFO", "ERROR"], "events": [5, 2], "latest_date": pd.to_datetime([day(0), day(-3)])})
    recent = m.recent_events(counts)
    assert (recent.last_day, recent.total) == (day(0), 7)
    assert (recent.last_day - recent.first_day).days == 1  # RECENT_EVENT_DAYS = 2, inclusive


def test_state_on_a_day_and_the_timeline_of_a_resource():
    history = pd.DataFrame([resource("vol-1") | {"snapshot_date": day(0)}, resource("vol-1", size_gb=20.0) | {"snapshot_date": day(1)}])
    state = m.state_on(history, day(1))
    assert dict(zip(state["attribute"], state["value"], strict=True))["size_gb"] == ia.display_value(20.0)
    assert m.state_on(history, day(5)) is None
    assert m.history_timeline(history)["change"].tolist()[0] == "first seen"


def test_long_tables_are_cut_for_the_screen_with_a_caption():
    df = pd.DataFrame({"a": range(m.MAX_TABLE_ROWS + 1)})
    shown = m.screen_rows(df)
    assert len(shown) == m.MAX_TABLE_ROWS and f"{m.MAX_TABLE_ROWS + 1:,} rows" in m.cut_note(len(shown), len(df))
    assert m.cut_note(3, 3) is None
    changes = m.changes_between(pd.DataFrame([resource("vol-1") | {"snapshot_date": day(0)}]), day(0), day(1))
    assert m.screen_rows(changes, "diff")["resource_id"].tolist() == ["vol-1"]  # a frame inside a result


def test_waste_in_several_currencies_never_adds_them():
    costs = pd.DataFrame({"resource_id": ["vol-orphan", "vol-gp2", "vol-orphan"], "currency": ["EUR", "USD", "USD"],
                          "cost_30d": [10.0, 100.0, 1.0]})
    assert m.cost_by_currency(costs, "cost_30d") == {"USD": 101.0, "EUR": 10.0}  # the largest first
    usd = m.waste_of(waste_candidates(), costs, D, ia.OLD_SNAPSHOT_DAYS, "USD")
    eur = m.waste_of(waste_candidates(), costs, D, ia.OLD_SNAPSHOT_DAYS, "EUR")
    assert usd.currency == "USD" and usd.at_stake == pytest.approx(1.0 + 100.0 * ia.GP2_TO_GP3_SAVINGS_FRACTION)
    assert eur.currency == "EUR" and eur.at_stake == pytest.approx(10.0)  # the gp2 volume costs nothing in EUR
    orphan = usd.findings.set_index(["category", "resource_id"]).loc[(ia.UNATTACHED_VOLUME, "vol-orphan"), "monthly_cost"]
    assert orphan == pytest.approx(1.0)  # not 11.0
    with pytest.raises(InvalidRequest, match="several currencies"):
        ia.classify_waste(waste_candidates(), D, costs)


def test_a_resources_daily_cost_is_split_by_currency():
    daily = pd.DataFrame({"usage_date": [D, D, day(1)], "line_item_type": ["Usage"] * 3, "currency": ["USD", "JPY", "USD"],
                          "cost": [1.0, 300.0, 2.0]})
    assert m.cost_by_currency(daily, "cost") == {"JPY": 300.0, "USD": 3.0}
    assert m.daily_cost_in(daily, "USD")["cost"].tolist() == [1.0, 2.0]
    assert m.cost_by_currency(daily.iloc[0:0], "cost") == {} and m.cost_by_currency(None, "cost") == {}
