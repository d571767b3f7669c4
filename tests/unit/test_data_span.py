"""Anchoring on where the data ends, the periods the CUR view lists, and why a result is empty."""

from __future__ import annotations

import datetime as dt

import pytest

from daivi_data import data_span as ds
from daivi_data.queries import cur as q

TODAY = dt.date(2026, 12, 6)


def test_views_anchor_on_the_data_end_never_after_yesterday():
    assert ds.anchor_day(TODAY, dt.date(2024, 9, 30)) == dt.date(2024, 9, 30)
    assert ds.anchor_day(TODAY, dt.date(2026, 12, 6)) == dt.date(2026, 12, 5)
    assert ds.anchor_day(TODAY, None) == dt.date(2026, 12, 5)
    assert ds.anchor_period("2026-12", "2024-10") == "2024-10"
    assert ds.anchor_period("2026-12", "2027-01") == "2026-12"
    assert ds.anchor_period("2026-12", None) == "2026-12"


def test_old_data_is_said_and_fresh_data_is_not():
    assert ds.data_end_note(TODAY, dt.date(2026, 12, 5)) is None
    assert ds.data_end_note(TODAY, dt.date(2024, 9, 30)) == "Data ends 2024-09-30 (797 days ago); figures are as of that day."


def test_the_cur_view_lists_every_period_the_data_has_at_any_age():
    # A 2024 import seen in December 2026: from the newest partition back past the oldest one.
    last, months = q.period_span_to_list("2026-12", "2024-10", 2)
    assert last == "2026-12" and q.shift_period(last, -(months - 1)) <= "2024-09"
    # Ten years of monthly partitions.
    last, months = q.period_span_to_list("2026-12", "2026-11", 120)
    assert q.shift_period(last, -(months - 1)) == "2016-12"
    # A period asked for by URL is always covered, even older than every partition.
    last, months = q.period_span_to_list("2026-12", "2026-11", 3, requested="2019-03")
    assert q.shift_period(last, -(months - 1)) == "2019-03"
    # Never less than the usual lookback; malformed URL values are ignored here (the view says so).
    assert q.period_span_to_list("2026-12", None, 0, requested="19-3") == ("2026-12", q.PERIODS_LOOKBACK)


def test_the_default_period_is_the_newest_that_holds_the_bulk_of_the_data():
    assert q.default_period({"2024-09": 999, "2024-10": 1}) == "2024-09"
    # The current month a few days in is still the default.
    assert q.default_period({"2026-10": 30_000, "2026-11": 29_000, "2026-12": 3_000}) == "2026-12"
    assert q.default_period({}) is None


def test_an_empty_result_says_whether_nobody_has_data_or_the_role_filter_hides_it():
    nothing = "No cost between 2026-01-01 and 2026-01-31"
    assert "holds no data here yet, for anyone" in ds.empty_result_message(
        nothing, data_ends=None, asked_from="2026-01-01", role="finance", row_filtered=False)
    beyond = ds.empty_result_message(nothing, data_ends="2024-09-30", asked_from="2026-01-01", role="finance", row_filtered=True)
    assert "the data ends 2024-09-30, for everyone" in beyond and "role" not in beyond
    hidden = ds.empty_result_message(nothing, data_ends="2026-11-30", asked_from="2026-01-01", role="team-lead", row_filtered=True)
    assert "that your role (`team-lead`) may see" in hidden and "others may see" in hidden
    none = ds.empty_result_message(nothing, data_ends="2026-11-30", asked_from="2026-01-01", role="admin", row_filtered=False)
    assert none.endswith("there is none (your role sees every row of this table).")


def test_the_source_column_of_each_basis_is_named_per_export_family():
    assert q.export_families({}) == {"CUR"}
    focus = {"report": {"sources": [{"path": "a.csv", "format": "FOCUS", "table": "daivi_cur.cur"}]}}
    assert q.export_families(focus) == {"FOCUS"}
    assert q.cost_basis_sources({"CUR"}).startswith("Unblended: line_item_unblended_cost · Amortized (effective): reservation_effective_cost")
    both = q.cost_basis_sources({"CUR", "FOCUS"})
    assert "Net unblended: CUR: line_item_net_unblended_cost | FOCUS: BilledCost" in both


@pytest.mark.parametrize(("manifest", "table", "note"), [
    # Home and Import read "Demo data generated 2026-12-06T09:31:54Z": the app writes times as 2026-12-06 09:31 UTC.
    ({"kind": "demo", "generated_at": "2026-12-06T09:31:54Z"}, "daivi_cur.cur", "Demo data generated 2026-12-06 09:31 UTC"),
    ({"refreshed": {"daivi_cur.cur": {"at": "2026-12-06T11:31:54+02:00", "origin": "s3"}}}, "daivi_cur.cur",
     "Last refreshed 2026-12-06 09:31 UTC from s3"),
    ({"kind": "import", "generated_at": "not a time", "sources": ["a.csv"]}, "daivi_cur.cur", "Imported not a time from a.csv"),
    ({"kind": "demo"}, "daivi_cur.cur", "Demo data generated ?"),
])
def test_manifest_times_read_as_the_apps_other_times(manifest, table, note):
    assert ds.refresh_note(manifest, table) == note


def test_the_import_page_says_when_the_current_lakehouse_was_made_in_utc(tmp_path):
    from daivi_data.models.import_data import describe_current

    line = describe_current({"kind": "demo", "generated_at": "2026-12-06T09:31:54Z"}, tmp_path)
    assert line.startswith("Current data: **demo** lakehouse generated at 2026-12-06 09:31 UTC · ")
