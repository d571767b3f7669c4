"""The Import data page (AppTest): admin only, on DuckDB; a folder import replaces the lakehouse and every view reads it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from streamlit.testing.v1 import AppTest

from daivi_data import clock
from daivi_data.governance import load_policy
from daivi_data.ingest import run_import
from daivi_data.settings import PROJECT_ROOT
from daivi_ui.navigation import views_for
from tests.app.conftest import APP_TIMEOUT_S, page_text
from tests.helpers import PERSONA_ROLES
from tests.unit.test_ingest_formats import cur2_row, write_cur2_csv


@pytest.fixture
def own_lakehouse(tmp_path, monkeypatch):
    """A lakehouse of this test's own (imported from a tiny CUR 2.0 export): the shared test lakehouse is never replaced."""
    write_cur2_csv(tmp_path / "first", "2024-05", [cur2_row("2024-05", i, cost=1.0) for i in range(2)])
    lakehouse = tmp_path / "lh"
    run_import([tmp_path / "first"], lakehouse)
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(lakehouse))
    return lakehouse


@pytest.mark.parametrize("persona", ["finance", "ops", "teamlead"])
def test_only_the_admin_role_may_import(persona, own_lakehouse):
    """Hidden from the navigation, and the page itself refuses when reached directly."""
    grants = load_policy(PROJECT_ROOT / "config" / "grants.toml").for_role(PERSONA_ROLES[persona])
    assert "import_data.py" not in [v.script for v in views_for(grants)]
    at = AppTest.from_file(str(PROJECT_ROOT / "views" / "import_data.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = persona
    at.run()
    assert not at.exception
    assert "gives the `import` capability" in page_text(at)
    assert not at.button  # no form at all


def test_admin_imports_a_folder_and_views_read_the_new_data(run_page, own_lakehouse, tmp_path):
    exports = tmp_path / "exports"
    # A recent period: the CUR view lists the last 24 months.
    period = f"{(clock.today().replace(day=1) - dt.timedelta(days=1)):%Y-%m}"
    write_cur2_csv(exports, period, [cur2_row(period, i, cost=2.5, account="123456789012") for i in range(4)])
    at = run_page("admin", "import_data.py")
    assert not at.exception
    assert "Current data: **imported**" in page_text(at)
    at.segmented_control(key="mode").set_value("Folder on the server").run()
    at.text_input(key="folder").set_value(str(exports)).run()
    at.button(key="start_import").click().run()
    assert not at.exception
    text = page_text(at)
    assert "Every view now shows this data" in text
    assert "daivi_cur.cur" in text and f"{period}-01 .. {period}-01" in text
    manifest = json.loads((own_lakehouse / "manifest.json").read_text())
    assert manifest["kind"] == "import" and manifest["sources"] == [str(exports / "acme-cur2" / "data" / f"BILLING_PERIOD={period}" / "acme-cur2-00001.csv.gz")]
    # The CUR view now lists the imported period (the engine was rebuilt, no stale cache).
    at.switch_page("views/cur.py").run()
    assert not at.exception
    assert any(period in str(s.value) for s in at.selectbox), page_text(at)
    assert "$10.00" in page_text(at)


def test_a_stopped_import_says_why_and_keeps_the_data(run_page, own_lakehouse, tmp_path):
    before = (own_lakehouse / "manifest.json").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "invoice.csv").write_text("Invoice,Amount\nINV-1,12\n")
    at = run_page("admin", "import_data.py")
    at.segmented_control(key="mode").set_value("Folder on the server").run()
    at.text_input(key="folder").set_value(str(bad / "invoice.csv")).run()
    at.button(key="start_import").click().run()
    assert not at.exception
    text = page_text(at)
    assert "Import stopped" in text and "not a recognized export" in text and "was not changed" in text
    assert (own_lakehouse / "manifest.json").read_text() == before


def test_a_missing_folder_is_a_clear_message(run_page, own_lakehouse):
    at = run_page("admin", "import_data.py")
    at.segmented_control(key="mode").set_value("Folder on the server").run()
    at.text_input(key="folder").set_value("/no/such/folder").run()
    at.button(key="start_import").click().run()
    assert not at.exception
    assert "Not found on the server: /no/such/folder" in page_text(at)



def test_admin_merges_a_new_period_into_the_current_data(run_page, own_lakehouse, tmp_path):
    before = {p.relative_to(own_lakehouse): p.read_bytes() for p in (own_lakehouse / "daivi_cur").rglob("*.parquet")}
    exports = tmp_path / "june"
    write_cur2_csv(exports, "2024-06", [cur2_row("2024-06", i, cost=4.0) for i in range(3)])
    at = run_page("admin", "import_data.py")
    at.checkbox(key="merge").check().run()
    assert "only the periods and days these files cover" in page_text(at)
    at.segmented_control(key="mode").set_value("Folder on the server").run()
    at.text_input(key="folder").set_value(str(exports)).run()
    at.button(key="start_import").click().run()
    assert not at.exception
    text = page_text(at)
    assert "Merged: `daivi_billing.cost_daily` 1 partition(s) replaced, 1 kept; `daivi_cur.cur` 1 partition(s) replaced, 1 kept" in text
    after = {p.relative_to(own_lakehouse): p.read_bytes() for p in (own_lakehouse / "daivi_cur").rglob("*.parquet")}
    assert all(after[p] == data for p, data in before.items())  # May, as it was
    assert sorted(str(p) for p in after if "2024-06" in str(p))


def embedded_import(show: str | None = None) -> AppTest:
    """The Import page as a wiki iframe runs it (`?embed=true`), as the admin, over the shared test lakehouse."""
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.context["is_embedded"] = True
    at.query_params.update({"persona": "admin", **({"show": show} if show else {})})
    at.run()
    at.switch_page("views/import_data.py")
    return at.run()


def test_an_embedded_import_page_is_a_read_only_summary_of_the_lakehouse(small_lakehouse):
    manifest = json.loads((small_lakehouse / "manifest.json").read_text())
    at = embedded_import()
    assert not at.exception and not at.error
    assert not at.button and not at.segmented_control and not at.text_input and not at.get("file_uploader")  # never the form
    assert not at.checkbox and not at.slider
    table = at.dataframe[0].value
    assert dict(zip(table["Table"], table["Rows"], strict=True)) == {n: t["rows"] for n, t in manifest["tables"].items()}
    assert "None" not in table.astype(str).to_numpy()  # a table without partitions has blanks there
    assert [m.label for m in at.metric] == ["Tables", "Rows", "Newest partition"]
    assert at.metric[1].value == f"{sum(t['rows'] for t in manifest['tables'].values()):,}"
    assert len(at.get("plotly_chart")) == 1
    assert any(e.label.startswith(f"Demo lakehouse ({manifest['scale']})") for e in at.expander)
    assert str(small_lakehouse) not in page_text(at)  # no server path in a wiki page


@pytest.mark.parametrize(("show", "parts"), [("table", {"table"}), ("kpis", {"kpis"}), ("chart,kpis", {"chart", "kpis"})])
def test_an_embedded_import_page_shows_only_the_parts_asked_for(small_lakehouse, show, parts):
    at = embedded_import(show)
    assert not at.exception and not at.error
    assert bool(at.dataframe) == ("table" in parts)
    assert bool(at.metric) == ("kpis" in parts)
    assert bool(at.get("plotly_chart")) == ("chart" in parts)
    assert not at.button


def test_the_summary_lists_only_the_tables_a_role_may_read():
    from daivi_data.models.import_data import lakehouse_summary

    manifest = {"kind": "import", "generated_at": "2026-12-01T10:00:00Z", "sources": ["a.csv", "b.csv"],
                "tables": {"daivi_cur.cur": {"rows": 10, "partitions": 2, "min_partition": "2026-10", "max_partition": "2026-11"},
                           "daivi_splunk.events": {"rows": 99, "partitions": 1, "min_partition": "2026-11-30",
                                                   "max_partition": "2026-11-30"}}}
    summary = lakehouse_summary(manifest, ["daivi_cur.cur"])
    assert list(summary.tables["Table"]) == ["daivi_cur.cur"] and summary.rows == 10
    assert summary.line() == "Imported lakehouse (2 file(s)) · built 2026-12-01 10:00:00 UTC · 1 table"
    assert summary.kpis() == [("Tables", "1"), ("Rows", "10"), ("Newest partition", "2026-11")]
    assert lakehouse_summary(None, []).line() == "No lakehouse yet"
