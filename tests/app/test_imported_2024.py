"""A 2024 FOCUS import seen in a later year: every view opens it, anchored where the data ends.

Data: the FOCUS 1.0 sample (CC BY 4.0, tests/fixtures/focus-1.0/ with its licence): 999 rows
billed in September 2024 and one Oracle row billed in October for a September day.
"""

from __future__ import annotations

import pytest

from daivi_data.ingest import run_import
from tests.app.conftest import page_text
from tests.helpers import FIXTURES

FOCUS_SAMPLE = FIXTURES / "focus-1.0" / "focus_sample.csv"


@pytest.fixture(scope="module")
def focus_lakehouse(tmp_path_factory):
    out = tmp_path_factory.mktemp("focus2024") / "lh"
    run_import([FOCUS_SAMPLE], out)
    return out


@pytest.fixture
def on_focus(focus_lakehouse, monkeypatch):
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(focus_lakehouse))
    return focus_lakehouse


def test_home_says_where_the_data_ends_and_shows_its_figures(run_page, on_focus):
    at = run_page("admin")
    assert not at.exception
    text = page_text(at)
    assert "Data ends 2024-09-30" in text
    assert "through Sep 30, 2024" in text  # the month to date is anchored where the data ends
    assert "Line items in September 2024" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Line items in September 2024"] == "999"
    assert metrics["Month to date"] != "$0.00"


def test_the_cur_view_opens_the_bulk_period_and_any_listed_period_by_url(run_page, on_focus):
    at = run_page("finance", "cur.py")
    assert not at.exception
    assert at.selectbox(key="period_choice").value == "2024-09"
    assert at.selectbox(key="period_choice").options == ["2024-10", "2024-09"]
    caption = next(c.value for c in at.caption if c.value.startswith("Where each basis comes from"))
    assert caption.startswith("Where each basis comes from (FOCUS): Unblended: BilledCost · Amortized (effective): EffectiveCost")
    assert "Public on-demand (list): ListCost" in caption
    at = run_page("finance", "cur.py", period="2024-10")
    assert not at.exception and not at.warning
    assert at.selectbox(key="period_choice").value == "2024-10"


@pytest.mark.parametrize("page", ["cost_explorer.py", "inventory.py", "logs.py", "workbench.py"])
def test_every_other_view_opens(run_page, on_focus, page):
    at = run_page("admin", page)
    assert not at.exception, [e.value for e in at.exception]


def test_home_says_when_each_lakehouse_was_refreshed_and_from_where(run_page, on_focus):
    at = run_page("admin")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Last refreshed ") and "focus\\_sample\\.csv" in c for c in captions), captions


def test_home_tells_the_admin_about_events_no_row_filter_lets_through(run_page, tmp_path, monkeypatch):
    from tests.unit.test_ingest_formats import splunk_events, write_splunk_jsonl

    out = tmp_path / "lh"
    run_import([FOCUS_SAMPLE, write_splunk_jsonl(tmp_path / "splunk" / "export.json", splunk_events())], out)
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(out))
    admin = run_page("admin")
    assert any("2 row(s) of `daivi_splunk.events` carry no account id" in w.value for w in admin.warning)
    lead = run_page("teamlead")  # a row-filtered role: nothing to act on, and no hint about rows it cannot see
    assert not any("carry no account id" in w.value for w in lead.warning)
