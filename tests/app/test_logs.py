"""The Logs view through AppTest, per persona: counts and top values equal independent SQL, grants hold,
clicks edit the search, bad input gets a clear message and no traceback."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from streamlit.testing.v1 import AppTest

from daivi_data.settings import PROJECT_ROOT
from tests.app.conftest import APP_TIMEOUT_S, as_read, page_text
from tests.helpers import PAYMENTS_ACCOUNT_IDS, principal

PAGE = "logs.py"
EVENTS = "daivi_splunk.events"
TEAMLEAD_FILTER = f"account_id IN ({', '.join(repr(a) for a in PAYMENTS_ACCOUNT_IDS)}) AND index_name <> 'security'"


def shown_total(at: AppTest) -> int:
    """The '**N events** match' figure above the timeline."""
    for md in at.markdown:
        m = re.search(r"\*\*([\d,]+) events\*\* match", as_read(str(md.value)))
        if m:
            return int(m.group(1).replace(",", ""))
    raise AssertionError(f"no event total on the page:\n{page_text(at)[:2000]}")


def default_range(con, where: str = "TRUE") -> tuple[dt.datetime, dt.datetime]:
    """The page's default: the 24 hours before the newest event the persona can see (rounded up to the minute)."""
    newest = con.execute(f"SELECT MAX(event_time) FROM {EVENTS} WHERE {where}").fetchone()[0]
    end = newest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return end - dt.timedelta(hours=24), end


def count(con, start, end, where: str = "TRUE") -> int:
    return con.execute(f"SELECT COUNT(*) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND ({where})",
                       [start, end]).fetchone()[0]


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


@pytest.mark.parametrize(("persona", "grant_filter"), [("admin", "TRUE"), ("ops", "TRUE"), ("teamlead", TEAMLEAD_FILTER)])
def test_total_equals_independent_count_per_persona(run_page, raw_duckdb, persona, grant_filter):
    at = run_page(persona, PAGE)
    assert_clean(at)
    assert not at.error, [as_read(e.value) for e in at.error]
    start, end = default_range(raw_duckdb, grant_filter)
    expected = count(raw_duckdb, start, end, grant_filter)
    assert shown_total(at) == expected > 0
    assert f"Relative to the newest event, {end - dt.timedelta(minutes=1):%Y-%m-%d %H:%M} UTC" in page_text(at)


@pytest.mark.parametrize(
    ("search", "where"),
    [("status>=500", "http_status >= 500"), ("severity=error OR severity=critical", "severity IN ('ERROR', 'CRITICAL')"),
     ("NOT index=web", "index_name IS DISTINCT FROM 'web'")],
)
def test_search_from_the_url_filters_the_total(run_page, raw_duckdb, search, where):
    at = run_page("admin", PAGE, q=search)
    assert_clean(at)
    start, end = default_range(raw_duckdb)
    assert shown_total(at) == count(raw_duckdb, start, end, where)
    assert at.text_input(key="q").value == search


def test_fields_panel_shows_exact_counts_and_percentages(run_page, raw_duckdb):
    at = run_page("admin", PAGE)
    start, end = default_range(raw_duckdb)
    total = count(raw_duckdb, start, end)
    top = raw_duckdb.execute(
        f"SELECT severity, COUNT(*) n FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND severity IS NOT NULL "
        "GROUP BY 1 ORDER BY n DESC, severity", [start, end]).fetchall()
    text = page_text(at)
    for value, n in top:
        share = f"{n / total:.1%}" if n / total >= 0.001 else f"{n / total:.2%}"  # small shares keep two decimals
        assert f"`{value}`  \n:gray[{n:,} · {share}]" in text


def test_team_lead_sees_no_security_index_and_only_payments_accounts(run_page, raw_duckdb):
    at = run_page("teamlead", PAGE, field="account")
    assert_clean(at)
    text = page_text(at)
    assert "`security`" not in text
    accounts = set(re.findall(r"`(\d{12})`", text))
    assert accounts and accounts <= set(PAYMENTS_ACCOUNT_IDS)
    admin_text = page_text(run_page("admin", PAGE))
    assert "`security`" in admin_text


def test_clicking_a_value_adds_it_to_the_search(run_page, raw_duckdb):
    at = run_page("admin", PAGE, q="status>=400")
    value_md = next(str(m.value) for m in at.markdown if re.match(r"^`(DEBUG|INFO|WARN|ERROR|CRITICAL)`", str(m.value)))
    severity = re.match(r"^`(\w+)`", value_md).group(1)
    at.button(key="include-severity-0").click().run()
    assert_clean(at)
    assert at.text_input(key="q").value == f"status>=400 severity={severity}"
    start, end = default_range(raw_duckdb)
    assert shown_total(at) == count(raw_duckdb, start, end, f"http_status >= 400 AND severity = '{severity}'")
    at.button(key="exclude-index-0").click().run()
    assert re.fullmatch(rf"status>=400 severity={severity} index!=\w+", at.text_input(key="q").value)
    assert_clean(at)


def test_finance_is_told_it_has_no_splunk_grant():
    # The navigation hides the view; a direct run of the script (a stale link) must still say so.
    at = AppTest.from_file(str(PROJECT_ROOT / "views" / PAGE), default_timeout=APP_TIMEOUT_S)
    at.query_params["persona"] = "finance"
    at.run()
    assert_clean(at)
    assert any("may not read the Splunk lakehouse" in str(w.value) for w in at.warning)
    assert "events** match" not in page_text(at)


def test_finance_navigation_has_no_logs_view(run_page):
    at = run_page("finance")
    assert_clean(at)
    with pytest.raises(ValueError, match="Could not find a navigation page for .*logs.py"):
        at.switch_page("views/logs.py")


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ('error "timed out', 'Unbalanced quote: the " at position 7 is never closed'),
        ("(status>=500 OR error", "the '(' at position 1 is never closed"),
        ("status>=500)", "the ')' at position 12 has no matching '('"),
        ("colour=red", "Unknown field 'colour' at position 1"),
        ("host>=5", ">= compares numbers, and host is text"),
    ],
)
def test_bad_search_gets_a_clear_message_with_a_caret(run_page, search, message):
    at = run_page("admin", PAGE, q=search)
    assert_clean(at)
    errors = [as_read(str(e.value)) for e in at.error]
    assert any(message in e for e in errors), errors
    assert any("^" in str(c.value) for c in at.code)  # the caret under the position
    assert not at.dataframe  # nothing ran


@pytest.mark.parametrize("search", ["user=\"x'; DROP TABLE daivi_splunk.events; --\"", "\"Zürich 💥\"", "message=\"%\""])
def test_metacharacters_and_unicode_are_searched_literally(run_page, search):
    at = run_page("admin", PAGE, q=search)
    assert_clean(at)
    assert not at.error, [as_read(e.value) for e in at.error]
    assert shown_total(at) == 0
    assert any("No events match" in str(i.value) for i in at.info)


def test_a_range_over_a_year_is_bounded_with_a_notice(run_page, raw_duckdb):
    start, end = default_range(raw_duckdb)
    at = run_page("admin", PAGE, range="custom", **{"from": f"{end - dt.timedelta(days=400):%Y-%m-%dT%H:%M}",
                                                    "to": f"{end:%Y-%m-%dT%H:%M}"})
    assert_clean(at)
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "at most 31 days" in warnings and "400 days" in warnings
    assert shown_total(at) == count(raw_duckdb, end - dt.timedelta(days=31), end)


def test_stats_tab_equals_independent_aggregates(run_page, raw_duckdb):
    at = run_page("admin", PAGE, tab="Stats", stat="avg", of="duration", by="index")
    assert_clean(at)
    start, end = default_range(raw_duckdb)
    expected = dict(raw_duckdb.execute(
        f"SELECT index_name, AVG(duration_ms) FROM {EVENTS} WHERE event_time >= ? AND event_time < ? GROUP BY 1",
        [start, end]).fetchall())
    table = next(d.value for d in at.dataframe if "average of duration" in d.value.columns or "avg of duration" in d.value.columns)
    column = [c for c in table.columns if "duration" in c][0]
    for _, row in table.iterrows():
        if expected[row["index"]] is None:
            assert row[column] != row[column]
        else:
            assert row[column] == pytest.approx(expected[row["index"]])


def test_events_tab_pages_newest_first(run_page, raw_duckdb):
    at = run_page("admin", PAGE, q="status>=500")
    assert_clean(at)
    start, end = default_range(raw_duckdb)
    table = next(d.value for d in at.dataframe if "event_time" in d.value.columns)
    expected = [r[0] for r in raw_duckdb.execute(
        f"SELECT event_time FROM {EVENTS} WHERE event_time >= ? AND event_time < ? AND http_status >= 500 "
        "ORDER BY event_time DESC LIMIT 50", [start, end]).fetchall()]
    assert [t.to_pydatetime() for t in table["event_time"]] == expected
    assert "CSV export: up to 10,000 rows" in page_text(at)


def test_error_rate_tab_shows_the_shares(run_page, raw_duckdb):
    at = run_page("admin", PAGE, tab="Error rate")
    assert_clean(at)
    start, end = default_range(raw_duckdb)
    http, server = raw_duckdb.execute(
        f"SELECT COUNT(http_status), COUNT(*) FILTER (WHERE http_status >= 500) FROM {EVENTS} "
        "WHERE event_time >= ? AND event_time < ?", [start, end]).fetchone()
    metric = next(m for m in at.metric if m.label == "5xx share of HTTP responses")
    assert metric.value == f"{server / http:.2%}"


def test_invalid_url_choices_are_ignored_with_a_notice(run_page):
    at = run_page("admin", PAGE, range="forever", split="colour")
    assert_clean(at)
    infos = " ".join(as_read(str(i.value)) for i in at.info)
    assert "'forever'" in infos and "'colour'" in infos
    assert at.selectbox(key="range").value == "24h"


def test_embed_mode_is_compact():
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.context["is_embedded"] = True  # what the browser reports for ?embed=true
    at.query_params["persona"] = "admin"
    at.run()
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert_clean(at)
    assert not [t.value for t in at.title]
    assert "Search the events exported from Splunk" not in page_text(at)
    assert shown_total(at) > 0 and at.get("plotly_chart")


def test_malformed_dates_in_the_url_are_ignored_with_a_notice(run_page):
    at = run_page("admin", PAGE, range="custom", **{"from": "yesterday'; --", "to": "2026-13-45T99:99"})
    assert_clean(at)
    infos = " ".join(as_read(str(i.value)) for i in at.info)
    assert "yesterday'; --" in infos and "2026-13-45T99:99" in infos
    assert shown_total(at) > 0  # the default custom range (the last 24 hours of data) is shown instead


# --- the figure helpers the page relies on (pure functions, no AppTest) --------------------------


def test_selected_span_reads_plotly_box_selections():
    from daivi_ui.figures_logs import selected_span

    box = {"box": [{"x": ["2026-11-24 10:15:30.25", "2026-11-24 09:00:00"], "y": [0, 10]}], "points": []}
    assert selected_span(box) == (dt.datetime(2026, 11, 24, 9, 0), dt.datetime(2026, 11, 24, 10, 15, 31))
    assert selected_span({"box": [], "points": [{"x": 1}]}) is None
    assert selected_span({"box": [{"x": ["not a time", "2026-11-24"]}]}) is None
    assert selected_span(None) is None


def test_timeline_figure_stacks_severities_in_order():
    import pandas as pd

    from daivi_ui.figures_logs import bucket_label, build_timeline_figure

    df = pd.DataFrame({"bucket": pd.to_datetime(["2026-11-24 00:00", "2026-11-24 00:00", "2026-11-24 00:15"]),
                       "value": ["ERROR", "INFO", "INFO"], "events": [3, 10, 7]})
    fig = build_timeline_figure(df, 900, "severity", dt.datetime(2026, 11, 24), dt.datetime(2026, 11, 24, 1))
    assert [t.name for t in fig.data] == ["INFO", "ERROR"]
    assert fig.layout.barmode == "stack" and fig.layout.dragmode == "select"
    assert sum(sum(t.y) for t in fig.data) == 20
    assert (bucket_label(900), bucket_label(3600), bucket_label(86400), bucket_label(10)) == ("15 min", "1 h", "1 day", "10 s")


def test_relative_to_now_explains_the_export_lag(run_page):
    at = run_page("admin", PAGE, range="15m", anchor="now")
    assert_clean(at)
    assert shown_total(at) == 0  # the demo data ends yesterday
    assert any("The newest event is at" in str(i.value) and "Newest event" in str(i.value) for i in at.info)  # the option as shown
    assert "Relative to now" in page_text(at)


def test_a_search_for_an_index_the_role_cannot_read_says_so(run_page):
    """The team lead's grant leaves out the security index: searching it says so, not just "no events match"."""
    at = run_page("teamlead", "logs.py", q="index=security", range="7d")
    assert not at.exception
    notices = [i.value for i in at.info]
    assert any("cannot read the **security** index" in n and "team-lead-payments" in n for n in notices), notices
    at = run_page("admin", "logs.py", q="index=security", range="7d")
    assert not [i.value for i in at.info if "cannot read" in i.value]


def test_event_columns_show_names_and_the_url_keeps_keys(run_page):
    at = run_page("admin", PAGE, cols="event_time,http_status,host")
    assert_clean(at)
    box = at.multiselect(key="cols")
    assert box.value == ["event_time", "http_status", "host"]
    assert [box.format_func(v) for v in box.value] == ["Time (UTC)", "HTTP status", "Host"]
    box.unselect("host").run()
    assert at.query_params["cols"] == "event_time,http_status"  # keys, not the names shown


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
@pytest.mark.parametrize("search", [None, "error NOT status=2*"])
def test_the_bench_state_runs_the_pages_queries(monkeypatch, engine, persona, search):
    """bench/views.py's Logs state (Events tab, 7 days) is the query set the page runs, in its order: the bench
    times what a user waits for. None: the state's own search."""
    from bench import views as bench
    from daivi_data import connection

    state = next(s for s in bench.view_states(engine) if s.script == PAGE)
    params = {**state.params, **({"q": search} if search else {})}
    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    at.query_params.update(persona=persona, **params)
    at.run()
    ran = []
    audit = connection.write_audit_record
    monkeypatch.setattr(connection, "write_audit_record", lambda *a, query, **kw: (ran.append(query), audit(*a, query=query, **kw)))
    at.switch_page(f"views/{PAGE}")
    at.run()
    assert_clean(at)
    expected = bench.logs_queries(engine, principal(persona), params["q"])
    assert [(q.name, q.sql, q.params) for q in ran] == [(q.name, q.sql, q.params) for q in expected]
    assert [q.name for q in ran][:2] == ["splunk.newest_event_time", "splunk.search_overview"]
