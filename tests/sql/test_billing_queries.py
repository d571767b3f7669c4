"""Cost Explorer queries on the small lakehouse, checked against independent SQL over the raw Parquet files."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest
import sqlglot

from daivi_data import cost_analysis as ca
from daivi_data.errors import AccessDenied, InvalidRequest
from daivi_data.queries import billing
from daivi_data.queries.billing import CostFilter, CostScope, Dimension
from tests.helpers import PAYMENTS_ACCOUNT_IDS

COST_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def as_of(raw_duckdb) -> dt.date:
    return raw_duckdb.execute("SELECT max(usage_date) FROM daivi_billing.cost_daily").fetchone()[0]


@pytest.fixture(scope="module")
def last_30(as_of) -> tuple[dt.date, dt.date]:
    return ca.preset_range("last-30-days", as_of)


def expected_by(raw, expression: str, start, end, where: str = "TRUE", basis: str = "unblended_cost", accounts: tuple = ()) -> pd.Series:
    """Independent SQL: cost per `expression` over [start, end], optionally restricted to some accounts."""
    restrict = f"AND c.account_id IN ({', '.join(repr(a) for a in accounts)})" if accounts else ""
    df = raw.execute(
        f"""SELECT {expression} AS g, SUM(c.{basis}) AS cost
            FROM daivi_billing.cost_daily c LEFT JOIN daivi_billing.accounts a USING (account_id)
            WHERE c.usage_date BETWEEN ? AND ? AND {where} {restrict}
            GROUP BY 1""",
        [start, end],
    ).df()
    return df.set_index("g")["cost"].sort_index()


def actual_by(df: pd.DataFrame, column: str = "cost") -> pd.Series:
    return df.set_index("group1")[column].sort_index()


def assert_series_equal(actual: pd.Series, expected: pd.Series) -> None:
    actual = actual[actual.abs() > COST_TOLERANCE]
    expected = expected[expected.abs() > COST_TOLERANCE]
    assert list(actual.index) == list(expected.index)
    for key in expected.index:
        assert actual[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-6), key


# --- shape of the SQL ---------------------------------------------------------------------------

def all_queries(start, end):
    scope = CostScope(start, end, "amortized", (CostFilter(Dimension("region"), ("us-east-1",)),))
    previous = ca.comparison_range(start, end)
    return [
        billing.group_totals(scope, Dimension("service"), Dimension.parse("tag:team"), *previous),
        billing.cost_series(scope, "weekly", Dimension("ou"), ("Payments",), Dimension("region"), ("us-east-1",)),
        billing.daily_totals(scope),
        billing.daily_by_group(scope, Dimension("account")),
        billing.anomaly_details(scope, Dimension("service"), ("Amazon Elastic Compute Cloud",)),
        billing.dimension_values(scope),
        billing.tag_keys(start, end),
        billing.tag_values(start, end, "team"),
        billing.budget_scope_costs(end, "unblended", 7),
        billing.budget_daily_costs(end, "amortized", 7),
    ]


def test_every_cost_daily_query_scans_the_billing_periods_of_its_range():
    # That the periods are a bound partition predicate (and the SQL parses as Athena): tests/sql/test_query_contract.py.
    start, end = dt.date(2026, 1, 20), dt.date(2026, 3, 5)
    for query in all_queries(start, end):
        assert "c.usage_date BETWEEN :start_date AND :end_date" in query.sql, query.name
        periods = query.param_dict["periods"]
        first, last = query.param_dict["start_date"], query.param_dict["end_date"]
        assert periods == ca.billing_periods_between(first, last), query.name
    # The comparison period is scanned too, and only its months are added.
    totals = all_queries(start, end)[0]
    assert totals.param_dict["periods"] == ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")


def test_tag_keys_and_filter_values_are_bound_never_in_sql_text():
    evil = "team') OR 1=1 --"
    scope = CostScope(dt.date(2026, 1, 1), dt.date(2026, 1, 31), filters=(CostFilter(Dimension("service"), (evil,)),))
    query = billing.group_totals(scope, Dimension.parse("tag:cost_center"), None, dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert evil not in query.sql
    # The tag key stands in the SELECT list, where Athena cannot bind: checked, then written as a literal.
    assert "element_at(c.tags, 'cost_center')" in query.sql
    assert query.param_dict["filter_0"] == (evil,)


@pytest.mark.parametrize("bad", ["service; DROP TABLE x", "tags", "usage_date", "tag:", "tag:" + "k" * 200, "tag:a'b"])
def test_unknown_dimensions_and_bad_tag_keys_are_refused(bad):
    with pytest.raises(InvalidRequest):
        Dimension.parse(bad)


def test_a_thousand_filter_values_are_refused_with_the_limit():
    with pytest.raises(InvalidRequest, match="at most 500"):
        CostFilter(Dimension("usage_type"), tuple(f"usage-{i}" for i in range(1000)))


def test_unknown_cost_basis_and_reversed_ranges_are_refused():
    with pytest.raises(InvalidRequest, match="Cost basis"):
        CostScope(dt.date(2026, 1, 1), dt.date(2026, 1, 2), "blended; DROP")
    with pytest.raises(InvalidRequest, match="after"):
        CostScope(dt.date(2026, 1, 2), dt.date(2026, 1, 1))


# --- numbers vs independent SQL -----------------------------------------------------------------

CASES = [
    # (persona, group, filters, independent group expression, independent where, basis)
    ("admin", "service", (), "c.service_name", "TRUE", "unblended"),
    ("finance", "account", (CostFilter(Dimension("region"), ("us-east-1",)),), "c.account_id", "c.region = 'us-east-1'", "amortized"),
    ("admin", "ou", (CostFilter(Dimension("record_type"), ("Usage",), exclude=True),), "coalesce(a.ou, '(no OU)')",
     "c.record_type <> 'Usage'", "net_unblended"),
    ("finance", "tag:team", (CostFilter(Dimension.parse("tag:environment"), ("prod", "(untagged)")),),
     "coalesce(nullif(c.tags['team'], ''), '(untagged)')", "coalesce(nullif(c.tags['environment'], ''), '(untagged)') IN ('prod', '(untagged)')",
     "unblended"),
    ("teamlead", "service", (), "c.service_name", "TRUE", "unblended"),
    ("teamlead", "region", (CostFilter(Dimension("ou"), ("Payments",)),), "c.region", "a.ou = 'Payments'", "amortized"),
    ("ops", "usage_type", (CostFilter(Dimension("service"), ("Amazon Elastic Compute Cloud",)),), "c.usage_type",
     "c.service_name = 'Amazon Elastic Compute Cloud'", "unblended"),
]


@pytest.mark.parametrize(("persona", "group", "filters", "expression", "where", "basis"), CASES)
def test_group_totals_equal_independent_sql(engine, raw_duckdb, as_persona, last_30, persona, group, filters, expression, where, basis):
    start, end = last_30
    prev_start, prev_end = ca.comparison_range(start, end)
    scope = CostScope(start, end, basis, filters)
    df = engine.run(billing.group_totals(scope, Dimension.parse(group), None, prev_start, prev_end), as_persona(persona)).df
    accounts = PAYMENTS_ACCOUNT_IDS if persona == "teamlead" else ()
    column = f"{basis}_cost"
    assert_series_equal(actual_by(df, "cost"), expected_by(raw_duckdb, expression, start, end, where, column, accounts))
    assert_series_equal(actual_by(df, "previous"), expected_by(raw_duckdb, expression, prev_start, prev_end, where, column, accounts))
    assert not df.empty


def test_teamlead_sees_only_payments_accounts(engine, raw_duckdb, as_persona, last_30):
    start, end = last_30
    scope = CostScope(start, end)
    df = engine.run(billing.group_totals(scope, Dimension("account"), None, *ca.comparison_range(start, end)), as_persona("teamlead")).df
    assert set(df["group1"]) <= set(PAYMENTS_ACCOUNT_IDS) and len(set(df["group1"])) == 5
    total = raw_duckdb.execute(
        f"SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ? AND account_id IN {PAYMENTS_ACCOUNT_IDS}",
        [start, end]).fetchone()[0]
    assert df["cost"].sum() == pytest.approx(total, rel=1e-9)
    everyone = raw_duckdb.execute("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?",
                                  [start, end]).fetchone()[0]
    assert everyone > total * 1.5  # the restriction really removed something


@pytest.mark.parametrize("granularity", ["daily", "weekly", "monthly"])
def test_series_with_top_n_adds_up_to_the_totals(engine, as_persona, as_of, granularity):
    start, end = as_of - dt.timedelta(days=59), as_of  # the small lakehouse holds about three months
    scope = CostScope(start, end)
    principal = as_persona("finance")
    totals = engine.run(billing.group_totals(scope, Dimension("service"), None, *ca.comparison_range(start, end)), principal).df
    by_group = totals.set_index("group1")["cost"]
    keep = ca.top_groups(by_group, 3)
    series = engine.run(billing.cost_series(scope, granularity, Dimension("service"), tuple(keep)), principal).df
    per_group = series.groupby("group1")["cost"].sum()
    for g in keep:
        assert per_group[g] == pytest.approx(by_group[g], rel=1e-9)
    assert per_group[ca.OTHERS] == pytest.approx(by_group.drop(keep).sum(), rel=1e-9)
    periods = pd.to_datetime(series["period"]).dt.date
    assert set(periods) <= set(ca.bucket_starts(start, end, granularity))
    assert len(set(periods)) == len(ca.bucket_starts(start, end, granularity))


def test_two_level_series_adds_up(engine, as_persona, last_30):
    start, end = last_30
    scope = CostScope(start, end)
    principal = as_persona("admin")
    totals = engine.run(billing.group_totals(scope, Dimension("ou"), Dimension("region"), *ca.comparison_range(start, end)), principal).df
    keep1 = ca.top_groups(totals.groupby("group1")["cost"].sum(), 3)
    keep2 = ca.top_groups(totals.groupby("group2")["cost"].sum(), 2)
    series = engine.run(billing.cost_series(scope, "weekly", Dimension("ou"), tuple(keep1), Dimension("region"), tuple(keep2)), principal).df
    assert series["cost"].sum() == pytest.approx(totals["cost"].sum(), rel=1e-9)
    assert set(series["group2"]) <= set(keep2) | {ca.OTHERS}


SERIES_CASES = [
    # (persona, granularity, group, group2, filters, independent where): the keep lists come from independent totals
    ("finance", "monthly", "tag:team", None, (), "TRUE"),
    ("teamlead", "daily", "service", None, (), "TRUE"),
    ("admin", "weekly", "ou", "region", (CostFilter(Dimension("record_type"), ("Usage",), exclude=True),), "c.record_type <> 'Usage'"),
    ("admin", "monthly", "account", "tag:environment", (CostFilter(Dimension("ou"), ("Payments",)),), "a.ou = 'Payments'"),
]
INDEPENDENT_BUCKETS = {"daily": "c.usage_date", "weekly": "CAST(date_trunc('week', c.usage_date) AS DATE)",
                       "monthly": "CAST(date_trunc('month', c.usage_date) AS DATE)"}
INDEPENDENT_GROUPS = {"service": "c.service_name", "account": "c.account_id", "ou": "coalesce(a.ou, '(no OU)')", "region": "c.region",
                      "tag:team": "coalesce(nullif(c.tags['team'], ''), '(untagged)')",
                      "tag:environment": "coalesce(nullif(c.tags['environment'], ''), '(untagged)')"}


@pytest.mark.parametrize(("persona", "granularity", "group", "group2", "filters", "where"), SERIES_CASES)
@pytest.mark.parametrize("top_n", [3, 0])
def test_series_equal_independent_sql(engine, raw_duckdb, as_persona, as_of, persona, granularity, group, group2, filters, where, top_n):
    """Per period and group, folded into Others in pandas over independent sums per line item's group (top 0: all Others)."""
    start, end = as_of - dt.timedelta(days=59), as_of
    accounts = PAYMENTS_ACCOUNT_IDS if persona == "teamlead" else ()
    restrict = f"AND c.account_id IN {accounts}" if accounts else ""
    second = INDEPENDENT_GROUPS[group2] if group2 else "'-'"
    raw = raw_duckdb.execute(
        f"""SELECT {INDEPENDENT_BUCKETS[granularity]} AS period, {INDEPENDENT_GROUPS[group]} AS g1, {second} AS g2, c.unblended_cost AS cost
            FROM daivi_billing.cost_daily c LEFT JOIN daivi_billing.accounts a USING (account_id)
            WHERE c.usage_date BETWEEN ? AND ? AND {where} {restrict}""", [start, end]).df()
    keep = ca.top_groups(raw.groupby("g1")["cost"].sum(), top_n) if top_n else []
    keep2 = ca.top_groups(raw.groupby("g2")["cost"].sum(), top_n) if top_n and group2 else []
    folded = raw.assign(group1=raw["g1"].where(raw["g1"].isin(keep), ca.OTHERS), group2=raw["g2"].where(raw["g2"].isin(keep2), ca.OTHERS))
    keys = ["period", "group1", *(["group2"] if group2 else [])]
    expected = folded.groupby(keys)["cost"].sum()

    scope = CostScope(start, end, "unblended", filters)
    query = billing.cost_series(scope, granularity, Dimension.parse(group), tuple(keep), Dimension.parse(group2) if group2 else None,
                                tuple(keep2))
    series = engine.run(query, as_persona(persona)).df
    actual = series.assign(period=pd.to_datetime(series["period"])).set_index(keys)["cost"]
    expected.index = expected.index.set_levels(pd.to_datetime(expected.index.levels[0]), level=0)
    assert sorted(actual.index) == sorted(expected.index)
    for key in expected.index:
        assert actual[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-6), key
    assert list(pd.to_datetime(series["period"])) == sorted(pd.to_datetime(series["period"]))  # in period order


def test_tag_keys_are_those_found_in_the_range(engine, raw_duckdb, as_persona, last_30):
    start, end = last_30
    found = engine.run(billing.tag_keys(start, end), as_persona("finance")).df["tag_key"].tolist()
    expected = sorted(r[0] for r in raw_duckdb.execute(
        "SELECT DISTINCT unnest(map_keys(tags)) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?", [start, end]).fetchall())
    assert found == expected
    assert {"team", "environment", "cost_center", "application"} <= set(found)


def test_filter_options_list_every_value(engine, raw_duckdb, as_persona, last_30):
    start, end = last_30
    df = engine.run(billing.dimension_values(CostScope(start, end)), as_persona("admin")).df
    services = set(df["service_name"].dropna())
    expected = {r[0] for r in raw_duckdb.execute(
        "SELECT DISTINCT service_name FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?", [start, end]).fetchall()}
    assert services == expected


def test_injection_text_in_a_filter_matches_nothing_and_harms_nothing(engine, raw_duckdb, as_persona, last_30):
    start, end = last_30
    evil = "x'); DROP TABLE daivi_billing.cost_daily; --"
    principal = as_persona("admin")
    scope = CostScope(start, end, filters=(CostFilter(Dimension("service"), (evil,)),))
    df = engine.run(billing.group_totals(scope, Dimension("service"), None, *ca.comparison_range(start, end)), principal).df
    assert df.empty
    excluded = CostScope(start, end, filters=(CostFilter(Dimension("service"), (evil,), exclude=True),))
    df = engine.run(billing.daily_totals(excluded), principal).df
    total = raw_duckdb.execute("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?",
                               [start, end]).fetchone()[0]
    assert df["cost"].sum() == pytest.approx(total, rel=1e-9)


def test_currencies_count_rows_without_a_currency_as_usd():
    """A range with USD, EUR and currency-less rows: the currency-less ones join USD (one row, summed), as independent SQL says."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA daivi_billing")
    con.execute("""CREATE TABLE daivi_billing.cost_daily AS SELECT * FROM (VALUES
        ('2026-01', DATE '2026-01-05', 'USD', 10.0), ('2026-01', DATE '2026-01-06', NULL, -4.0), ('2026-01', DATE '2026-01-06', 'EUR', 7.0),
        ('2026-01', DATE '2026-01-07', NULL, 2.5), ('2026-02', DATE '2026-02-01', 'EUR', 100.0))
        AS t (billing_period, usage_date, currency, unblended_cost)""")
    query = billing.currencies(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in query.params}
    df = con.execute(sqlglot.transpile(query.sql, read="athena", write="duckdb")[0], params).df()
    expected = con.execute("""SELECT coalesce(currency, 'USD') AS currency, SUM(abs(unblended_cost)) AS abs_cost,
        SUM(unblended_cost) AS unblended_cost, COUNT(*) AS rows FROM daivi_billing.cost_daily
        WHERE usage_date BETWEEN DATE '2026-01-01' AND DATE '2026-01-31' GROUP BY 1 ORDER BY 2 DESC""").df()
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)
    assert df["currency"].tolist() == ["USD", "EUR"] and df["rows"].tolist() == [3, 1]


def test_budgets_are_denied_to_ops_and_filtered_for_the_teamlead(engine, raw_duckdb, as_persona):
    with pytest.raises(AccessDenied, match="budgets"):
        engine.run(billing.budgets(), as_persona("ops"))
    mine = engine.run(billing.budgets(), as_persona("teamlead")).df
    assert set(mine["account_id"]) <= set(PAYMENTS_ACCOUNT_IDS)
    everything = engine.run(billing.budgets(), as_persona("finance")).df
    assert len(everything) == raw_duckdb.execute("SELECT count(*) FROM daivi_billing.budgets").fetchone()[0]


def test_budget_scope_costs_equal_independent_sql(engine, raw_duckdb, as_persona, as_of):
    df = engine.run(billing.budget_scope_costs(as_of, "unblended", 7), as_persona("finance")).df
    month_start = as_of.replace(day=1)
    total = raw_duckdb.execute("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?",
                               [month_start, as_of]).fetchone()[0]
    grand = df[df[["account_id", "ou", "service_code"]].isna().all(axis=1)]
    assert grand["mtd"].iloc[0] == pytest.approx(total, rel=1e-9)
    recent = raw_duckdb.execute("SELECT SUM(unblended_cost) FROM daivi_billing.cost_daily WHERE usage_date BETWEEN ? AND ?",
                                [as_of - dt.timedelta(days=6), as_of]).fetchone()[0]
    assert grand["recent"].iloc[0] == pytest.approx(recent, rel=1e-9)
    ous = df[df["ou"].notna()].set_index("ou")["mtd"]
    assert ous.sum() == pytest.approx(total, rel=1e-9)


def test_budget_daily_costs_equal_independent_sql_per_scope_and_currency(engine, raw_duckdb, as_persona, as_of):
    df = engine.run(billing.budget_daily_costs(as_of, "unblended", 7), as_persona("finance")).df
    first = min(as_of.replace(day=1), as_of - dt.timedelta(days=6))
    expected = raw_duckdb.execute(
        "SELECT usage_date, COALESCE(currency, 'USD') AS currency, SUM(unblended_cost) AS cost FROM daivi_billing.cost_daily "
        "WHERE usage_date BETWEEN ? AND ? GROUP BY ALL", [first, as_of]).df().set_index(["usage_date", "currency"])["cost"]
    grand = df[df[["account_id", "ou", "service_code"]].isna().all(axis=1)].copy()
    grand["usage_date"] = pd.to_datetime(grand["usage_date"])
    shown = grand.set_index(["usage_date", "currency"])["cost"]
    expected.index = expected.index.set_levels(pd.to_datetime(expected.index.levels[0]), level=0)
    assert shown.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy(), rel=1e-9)
    for column in ("account_id", "ou", "service_code"):  # each scope kind adds up to the day's total
        part = df[df[column].notna()]
        assert part["cost"].sum() == pytest.approx(expected.sum(), rel=1e-9), column
    # A row-filtered role sees its own accounts' days only.
    mine = engine.run(billing.budget_daily_costs(as_of, "unblended", 7), as_persona("teamlead")).df
    assert set(mine["account_id"].dropna()) <= set(PAYMENTS_ACCOUNT_IDS)


@pytest.mark.parametrize("persona", ["admin", "teamlead"])
def test_dimension_values_equal_independent_sql(engine, raw_duckdb, as_persona, last_30, persona):
    """Each plain dimension's values and their cost, as independent SQL sums them per line item."""
    start, end = last_30
    df = engine.run(billing.dimension_values(CostScope(start, end, "amortized", currency="USD")), as_persona(persona)).df
    accounts = PAYMENTS_ACCOUNT_IDS if persona == "teamlead" else ()
    where = "coalesce(c.currency, 'USD') = 'USD'"
    columns = {"service_name": "c.service_name", "account_id": "c.account_id", "ou": "coalesce(a.ou, '(no OU)')", "region": "c.region",
               "usage_type": "c.usage_type", "record_type": "c.record_type"}
    for column, expression in columns.items():
        rows = df[df[column].notna()] if column != "service_name" else df[df["service_code"].notna()]
        actual = rows.groupby(column, dropna=False)["cost"].sum().rename_axis("g").sort_index()
        assert_series_equal(actual, expected_by(raw_duckdb, expression, start, end, where, "amortized_cost", accounts))
    assert df["cost"].sum() == pytest.approx(6 * expected_by(raw_duckdb, "1", start, end, where, "amortized_cost", accounts).sum(), rel=1e-9)


def test_dimension_values_name_each_services_product_code(engine, raw_duckdb, as_persona, last_30):
    start, end = last_30
    df = engine.run(billing.dimension_values(CostScope(start, end)), as_persona("admin")).df
    pairs = set(zip(df["service_name"].dropna(), df["service_code"].dropna(), strict=True))
    expected = set(raw_duckdb.execute("SELECT DISTINCT service_name, service_code FROM daivi_billing.cost_daily "
                                      "WHERE usage_date BETWEEN ? AND ?", [start, end]).fetchall())
    assert pairs == expected


def test_anomaly_details_sum_to_the_group(engine, as_persona, last_30):
    start, end = last_30
    scope = CostScope(start, end)
    principal = as_persona("admin")
    by_day = engine.run(billing.daily_by_group(scope, Dimension("service")), principal).df
    top = by_day.groupby("group1")["cost"].sum().idxmax()
    detail = engine.run(billing.anomaly_details(scope, Dimension("service"), (top,)), principal).df
    group_total = by_day[by_day["group1"] == top]["cost"].sum()
    for column in ("account_id", "region", "usage_type"):
        assert detail[detail[column].notna()]["cost"].sum() == pytest.approx(group_total, rel=1e-9)


# --- the demo's planted incidents ---------------------------------------------------------------

@pytest.fixture(scope="module")
def incidents(small_lakehouse) -> list[dict]:
    found = json.loads((small_lakehouse / "manifest.json").read_text()).get("incidents", [])
    assert found, "the demo manifest lists no incidents"
    return found


def detected_events(engine, principal, dimension: str, start, end) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, daily input) exactly as the page computes them."""
    scope = CostScope(start - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), end)
    by_day = engine.run(billing.daily_by_group(scope, Dimension(dimension)), principal).df
    return ca.detect_anomalies(by_day.rename(columns={"group1": "group"}), start, end), by_day


@pytest.mark.parametrize(("dimension", "incident_key"), [("account", "account_id"), ("usage_type", "usage_type"), ("service", "service_code")])
def test_the_demo_incidents_are_found(engine, as_persona, as_of, incidents, dimension, incident_key):
    principal = as_persona("admin")
    start = as_of - dt.timedelta(days=91)
    events, _ = detected_events(engine, principal, dimension, start, as_of)
    names = engine.run(billing.dimension_values(CostScope(start, as_of)), principal).df
    for incident in incidents:
        first, last = dt.date.fromisoformat(incident["start_date"]), dt.date.fromisoformat(incident["end_date"])
        overlapping = events[(events["first_day"] <= last) & (events["last_day"] >= first) & (events["direction"] == "spike")]
        expected = incident[incident_key]
        if dimension == "service":  # the view groups by service name; the manifest names the code
            expected = {"AmazonEC2": "Amazon Elastic Compute Cloud", "AmazonS3": "Amazon Simple Storage Service"}.get(expected, expected)
            assert expected in set(names["service_name"].dropna())
        assert expected in set(overlapping["group"]), f"{incident['id']} not found by {dimension}: {overlapping.to_dict('records')}"
    # The incidents are among the largest events, not buried in noise.
    assert len(events) <= 4 * len(incidents)


def test_anomaly_drivers_name_the_incident_usage_type_and_region(engine, as_persona, as_of, incidents):
    principal = as_persona("admin")
    start = as_of - dt.timedelta(days=91)
    events, _ = detected_events(engine, principal, "account", start, as_of)
    for incident in incidents:
        first = dt.date.fromisoformat(incident["start_date"])
        event = events[(events["group"] == incident["account_id"]) & (events["first_day"] <= first + dt.timedelta(days=1))
                       & (events["last_day"] >= first)].iloc[0]
        scope = CostScope(event["first_day"] - dt.timedelta(days=ca.ANOMALY_WINDOW_DAYS), event["last_day"])
        detail = engine.run(billing.anomaly_details(scope, Dimension("account"), (incident["account_id"],)), principal).df
        detail["driver_dim"] = ["account" if pd.notna(a) else "region" if pd.notna(r) else "usage_type"
                                for a, r in zip(detail["account_id"], detail["region"], strict=True)]
        detail["driver"] = detail["account_id"].fillna(detail["region"]).fillna(detail["usage_type"])
        drivers = ca.anomaly_drivers(detail.rename(columns={"group1": "group"}), event)
        top = drivers.groupby("driver_dim").head(1).set_index("driver_dim")["driver"]
        assert top["region"] == incident["region"], incident["id"]
        top_usage = set(drivers[drivers["driver_dim"] == "usage_type"]["driver"].head(2))
        assert incident["usage_type"] in top_usage, (incident["id"], drivers.to_dict("records"))
