"""The Inventory view through AppTest, per persona: the right numbers, forbidden data absent, clear messages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from streamlit.testing.v1 import AppTest

from daivi_data.queries import inventory as q
from daivi_data.settings import PROJECT_ROOT
from daivi_ui import format as fmt
from daivi_ui.inventory_tabs import HISTORY_OPEN_KEY
from tests.app.conftest import APP_TIMEOUT_S, as_read, page_text
from tests.helpers import PAYMENTS_ACCOUNT_IDS, PERSONA_ROLES, PERSONAS

PAYMENTS = "(" + ", ".join(f"'{a}'" for a in PAYMENTS_ACCOUNT_IDS) + ")"
TABS = ("Overview", "Search", "Tag compliance", "Waste", "Detail", "History")


def open_inventory(persona: str = "admin", embed: bool = False, **params: str | list[str]) -> AppTest:
    """The Inventory page as `persona`, opened from a URL carrying `params` (like a pasted link)."""
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = persona
    if embed:
        at.context["is_embedded"] = True
    at.run()
    at.switch_page("views/inventory.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # a wrong persona would fall back to admin silently: make sure the role is the one asked for
    signed_in = " ".join(as_read(c.value) for c in at.sidebar.caption) if not embed else ""
    assert embed or f"role `{PERSONA_ROLES[persona]}`" in signed_in, signed_in
    return at


def metric(at: AppTest, label_start: str) -> str:
    found = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert found, f"no metric {label_start!r}: {[m.label for m in at.metric]}"
    return found[0]


def count(value: str) -> int:
    return int(value.replace(",", ""))


@pytest.fixture(scope="module")
def snapshot(engine) -> dt.date:
    return dt.date.fromisoformat(engine.table_info("daivi_inventory", "resources").latest_partition)


def scalar(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()[0][0]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_every_persona(persona, tab):
    at = open_inventory(persona, tab=tab)
    assert not at.error, [as_read(e.value) for e in at.error]
    assert at.title[0].value == "Inventory"
    assert "queries ·" in page_text(at)  # query stats under the view


@pytest.mark.parametrize(("persona", "where"), [("admin", ""), ("teamlead", f"AND account_id IN {PAYMENTS}")])
def test_overview_counts_equal_independent_sql(raw_duckdb, snapshot, persona, where):
    at = open_inventory(persona)
    expected = raw_duckdb.execute(f"SELECT COUNT(*), COUNT(DISTINCT resource_type), COUNT(DISTINCT account_id), COUNT(DISTINCT region) "
                                  f"FROM daivi_inventory.resources WHERE snapshot_date = ? {where}", [snapshot]).fetchone()
    assert count(metric(at, "Resources")) == expected[0] > 0
    assert count(metric(at, "Resource types")) == expected[1]
    assert count(metric(at, "Accounts")) == expected[2]
    assert count(metric(at, "Regions")) == expected[3]
    assert len(at.get("plotly_chart")) >= 5  # type, account, region bars, map, trend


def test_overview_change_since_an_earlier_snapshot(raw_duckdb, snapshot):
    since = snapshot - dt.timedelta(days=7)
    at = open_inventory("admin", since=since.isoformat())
    created = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources a WHERE snapshot_date = ? AND resource_id NOT IN "
                                 "(SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = ?)", snapshot, since)
    deleted = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources a WHERE snapshot_date = ? AND resource_id NOT IN "
                                 "(SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = ?)", since, snapshot)
    assert metric(at, f"Since {since:%b %d}") == f"+{created:,} / −{deleted:,}"


def test_teamlead_sees_no_other_account(snapshot):
    seen: set[str] = set()
    for tab in ("Overview", "Search", "Tag compliance", "Waste"):
        text = page_text(open_inventory("teamlead", tab=tab, cols=["resource_id", "account_id"]))
        ids = {w for w in text.replace(",", " ").replace("\n", " ").split() if len(w) == 12 and w.isdigit()}
        assert ids <= set(PAYMENTS_ACCOUNT_IDS), (tab, sorted(ids - set(PAYMENTS_ACCOUNT_IDS))[:5])
        seen |= ids
    assert seen == set(PAYMENTS_ACCOUNT_IDS)


# --- search -----------------------------------------------------------------------------------

def _matches(at: AppTest) -> int | None:
    for md in at.markdown:
        if "resources match on" in md.value:
            return count(as_read(md.value).split("**")[1])
    return None


def test_tag_search_count_equals_independent_sql(raw_duckdb, snapshot):
    at = open_inventory("admin", tab="Search", tags="team=payments, !cost-center")
    expected = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? "
                                  "AND lower(tags['team']) = 'payments' AND tags['cost-center'] IS NULL", snapshot)
    if expected == 0:
        assert "No resource on" in page_text(at)
    else:
        assert _matches(at) == expected
        table = at.dataframe[0].value
        assert len(table) == min(expected, 25) and table["tags"].str.contains("team=payments").all()


def test_search_with_metacharacters_is_literal_and_empty_result_says_so(raw_duckdb, snapshot):
    at = open_inventory("admin", tab="Search", q="%' OR 1=1 --")
    assert not at.error
    assert "No resource on" in " ".join(as_read(i.value) for i in at.info)
    at = open_inventory("admin", tab="Search", q="_")
    expected = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND "
                                  "(contains(lower(resource_id), '_') OR contains(lower(coalesce(resource_name, '')), '_') "
                                  "OR contains(lower(coalesce(arn, '')), '_'))", snapshot)
    total = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ?", snapshot)
    assert (_matches(at) or 0) == expected < total


def test_bad_tag_syntax_gets_a_message():
    at = open_inventory("admin", tab="Search", tags="=payments")
    assert any("no tag key" in as_read(e.value) for e in at.error)


def test_search_filters_columns_and_pages_from_the_url(raw_duckdb, snapshot):
    # the account with the most resources of these types: more than one page of them
    types = ["AWS::EC2::SecurityGroup", "AWS::EC2::Subnet", "AWS::EC2::Volume", "AWS::EC2::Instance", "AWS::EC2::VPC"]
    acct, expected = raw_duckdb.execute("SELECT account_id, COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? "
                                        "AND list_contains(?, resource_type) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
                                        [snapshot, types]).fetchone()
    assert expected > 25
    at = open_inventory("admin", tab="Search", account=[acct], type=types, cols=["resource_id", "resource_name"], size="25", page="2")
    assert _matches(at) == expected
    table = at.dataframe[0].value
    assert list(table.columns) == ["resource_id", "resource_name"]
    second_page_ids = raw_duckdb.execute("SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id = ? "
                                         "AND list_contains(?, resource_type) ORDER BY resource_type, resource_id LIMIT 25 OFFSET 25",
                                         [snapshot, acct, types]).df()["resource_id"].tolist()
    assert table["resource_id"].tolist() == second_page_ids
    assert any(b.label.startswith(f"Download all {expected:,} rows") for b in at.get("download_button"))


# --- compliance and waste ---------------------------------------------------------------------

def test_tag_compliance_figure_equals_independent_sql(raw_duckdb, snapshot, settings):
    at = open_inventory("admin", tab="Tag compliance")
    conditions = []
    for key, allowed in settings.required_tags.items():
        cond = f"coalesce(trim(tags['{key}']), '') <> ''"
        if allowed:
            cond += f" AND tags['{key}'] IN ({', '.join(repr(v) for v in allowed)})"
        conditions.append(f"({cond})")
    n, ok = raw_duckdb.execute(f"SELECT COUNT(*), COUNT_IF({' AND '.join(conditions)}) FROM daivi_inventory.resources "
                               "WHERE snapshot_date = ?", [snapshot]).fetchone()
    assert metric(at, "Compliant") == f"{100.0 * ok / n:.1f}%"
    assert count(metric(at, "Violations")) == n - ok


def test_waste_lists_planted_resources_with_cost(small_lakehouse):
    planted = json.loads((small_lakehouse / "manifest.json").read_text())["planted"]
    at = open_inventory("admin", tab="Waste")
    shown = set()
    for df in at.dataframe:
        shown |= set(df.value["resource_id"])
    ids = [i for v in planted.values() if isinstance(v, list) for i in v if isinstance(i, str)]
    assert ids and set(ids) <= shown
    stake = metric(at, "At stake per month")
    assert stake.startswith("$") and stake != "$0.00"


def test_ops_waste_has_no_cost_estimate_said_plainly():
    at = open_inventory("ops", tab="Waste")
    assert "no cost estimate" in " ".join(as_read(i.value) for i in at.info)
    stake = next(m for m in at.metric if m.label == "At stake per month")
    assert stake.value == fmt.MISSING and stake.help == "No cost estimate: your role may not read the CUR lakehouse."
    for df in at.dataframe:
        assert "monthly_cost" not in df.value.columns and "monthly_savings" not in df.value.columns


# --- detail -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def instance(raw_duckdb, snapshot) -> tuple[str, str]:
    """(id, name) of an instance in a Payments account whose host logged events in the last week."""
    row = raw_duckdb.execute(
        "SELECT r.resource_id, r.resource_name FROM daivi_inventory.resources r JOIN daivi_splunk.events e ON e.host = r.resource_name "
        f"WHERE r.snapshot_date = ? AND r.resource_type = 'AWS::EC2::Instance' AND r.account_id IN {PAYMENTS} "
        "AND e.event_date BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY COUNT(*) DESC, 1 LIMIT 1",
        [snapshot, snapshot - dt.timedelta(days=6), snapshot]).fetchone()
    assert row
    return row


def test_detail_from_resource_url_shows_cost_logs_and_configuration(raw_duckdb, snapshot, instance):
    rid, name = instance
    at = open_inventory("admin", resource=rid)  # no tab in the URL: ?resource= opens the detail
    assert not at.error and as_read(at.subheader[0].value) == name
    start, end, _, _ = q.cost_window(snapshot)
    expected = scalar(raw_duckdb, "SELECT SUM(line_item_unblended_cost) FROM daivi_cur.cur WHERE line_item_resource_id = ? "
                                  "AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ?", rid, start, end)
    assert metric(at, "CUR unblended cost") == f"${expected:,.2f}"
    assert len(at.json) == 1  # the configuration JSON
    events = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_splunk.events WHERE host = ? AND event_date BETWEEN ? AND ?",
                    name, snapshot - dt.timedelta(days=q.EVENTS_WINDOW_DAYS - 1), snapshot)
    assert f"of the {events:,} this host logged" in page_text(at)
    events = next(df.value for df in at.dataframe if "message" in df.value.columns)
    assert len(events) > 0  # the latest events themselves
    # How it changed: read only when opened, over the snapshots it was seen in (the timeline comes last).
    assert "change" not in at.dataframe[-1].value.columns
    seen = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE resource_id = ?", rid)
    assert any(e.label == f"How it changed over its {seen:,} snapshots" for e in at.expander)
    at.session_state[HISTORY_OPEN_KEY] = True
    at.run()
    assert at.dataframe[-1].value["change"].tolist()[0] == "first seen"


def test_detail_from_host_url(instance):
    rid, name = instance
    at = open_inventory("ops", host=name)
    assert as_read(at.subheader[0].value) == name
    assert rid in page_text(at)
    assert "Cost is not shown: your role may not read the CUR" in page_text(at)


def test_finance_detail_without_configuration_or_logs(instance):
    rid, _ = instance
    at = open_inventory("finance", resource=rid)
    assert not at.error
    text = page_text(at)
    assert "configuration is not available for your role" in text
    assert "Logs are not shown" in text
    assert len(at.json) == 0
    assert metric(at, "CUR unblended cost").startswith("$")


def test_unknown_resource_id_gets_a_message():
    at = open_inventory("admin", resource="i-doesnotexist%'")
    warnings = " ".join(as_read(w.value) for w in at.warning)
    assert "No resource with id **i-doesnotexist%'**" in warnings
    at = open_inventory("admin", host="no-such-host")
    assert "No resource named **no-such-host**" in " ".join(as_read(w.value) for w in at.warning)


def test_teamlead_cannot_open_another_accounts_resource(raw_duckdb, snapshot):
    rid = scalar(raw_duckdb, f"SELECT MIN(resource_id) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id NOT IN {PAYMENTS}",
                 snapshot)
    at = open_inventory("teamlead", resource=rid)
    assert "No resource with id" in " ".join(as_read(w.value) for w in at.warning)
    assert not at.get("plotly_chart")


# --- dates, history, embed --------------------------------------------------------------------

def test_snapshot_date_without_data_says_so():
    at = open_inventory("admin", snapshot="2010-01-04")
    assert "No inventory snapshot on **2010-01-04**" in " ".join(as_read(w.value) for w in at.warning)
    assert not at.metric


def test_malformed_snapshot_in_url_is_ignored_with_a_notice(raw_duckdb, snapshot):
    at = open_inventory("admin", snapshot="yesterday'")
    assert any("Ignored invalid value" in as_read(i.value) for i in at.info)
    assert count(metric(at, "Resources")) == scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ?", snapshot)


def test_history_of_an_account_and_a_diff(raw_duckdb, snapshot):
    acct = PAYMENTS_ACCOUNT_IDS[0]
    before = snapshot - dt.timedelta(days=7)
    at = open_inventory("admin", tab="History", hist_account=acct, hist_on=snapshot.isoformat(), hist_vs=before.isoformat())
    n = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id = ?", snapshot, acct)
    text = page_text(at)
    assert f"**Account {acct} on {snapshot}**: {n:,} resources." in text
    created = scalar(raw_duckdb, "SELECT COUNT(*) FROM daivi_inventory.resources WHERE snapshot_date = ? AND account_id = ? AND resource_id NOT IN "
                                 "(SELECT resource_id FROM daivi_inventory.resources WHERE snapshot_date = ?)", snapshot, acct, before)
    assert f"**Diff {before} → {snapshot}**: {created:,} created" in text


def test_history_of_a_resource(instance, snapshot):
    rid, _ = instance
    at = open_inventory("admin", tab="History", hist_kind="Resource", hist_resource=rid)
    assert not at.error
    assert f"**{rid} on {snapshot}**" in page_text(at)
    assert "first seen" in at.dataframe[1].value["change"].tolist()


def test_embed_is_compact():
    at = open_inventory("admin", embed=True)
    assert not at.title
    assert at.metric  # the content is still there


@pytest.mark.parametrize("persona", ["ops", "teamlead"])
def test_account_bars_carry_account_names_the_role_may_read(raw_duckdb, persona):
    at = open_inventory(persona)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    account_chart = next(s for s in specs if s["layout"]["title"]["text"] == "Resources by account")
    labels = [str(y) for y in account_chart["data"][0]["y"]]
    names = dict(raw_duckdb.execute("SELECT account_id, account_name FROM daivi_billing.accounts").fetchall())
    # As every view writes an account: "payments-prod (411111111101)".
    ids = [label.rsplit("(", 1)[-1].rstrip(")") for label in labels if "others" not in label]
    assert ids and all(i in names for i in ids)
    assert all(label == f"{names[i]} ({i})" for label, i in zip([x for x in labels if "others" not in x], ids, strict=True))
