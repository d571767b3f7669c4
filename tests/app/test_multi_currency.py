"""A FOCUS file billed in USD, EUR and JPY: totals per currency everywhere, never one mixed sum.

Data: the FOCUS 1.0 sample (CC BY 4.0, tests/fixtures/focus-1.0/ with its licence) with its
Microsoft rows re-labelled EUR and its Oracle rows JPY (the amounts unchanged), written at test
time. Expected values come from pandas over that file, independently of the importer.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from daivi_data.engines.duckdb import DuckDBEngine
from daivi_data.governance import load_policy
from daivi_data.ingest import run_import
from daivi_data.queries import billing
from daivi_data.queries import cur as q
from daivi_data.settings import PROJECT_ROOT
from daivi_ui.components import format_money
from tests.app.conftest import page_text
from tests.helpers import FIXTURES, principal

FOCUS_SAMPLE = FIXTURES / "focus-1.0" / "focus_sample.csv"
CURRENCY_OF_PROVIDER = {"AWS": "USD", "Microsoft": "EUR", "Oracle": "JPY"}
SEPTEMBER = {"start": "2024-09-01", "end": "2024-09-30", "range": "custom"}


@pytest.fixture(scope="module")
def focus_df(tmp_path_factory) -> tuple[pd.DataFrame, object]:
    df = pd.read_csv(FOCUS_SAMPLE, dtype=str, keep_default_na=False)
    df["BillingCurrency"] = df["ProviderName"].map(CURRENCY_OF_PROVIDER)
    path = tmp_path_factory.mktemp("multi") / "focus_multi_currency.csv"
    df.to_csv(path, index=False)
    numbers = pd.read_csv(path, na_values=["NULL"], keep_default_na=False)
    return numbers, path


@pytest.fixture(scope="module")
def lakehouse(focus_df, tmp_path_factory):
    out = tmp_path_factory.mktemp("multi-lh") / "lh"
    run_import([focus_df[1]], out)
    return out


@pytest.fixture
def on_multi(lakehouse, monkeypatch):
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(lakehouse))


def billed(df: pd.DataFrame, currency: str, period: str | None = "2024-09") -> float:
    rows = df[df["BillingCurrency"] == currency]
    if period:
        rows = rows[rows["BillingPeriodStart"].str.startswith(period)]
    return float(rows["BilledCost"].sum())


def test_every_query_sums_within_one_currency(lakehouse, focus_df):
    df, _ = focus_df
    engine = DuckDBEngine(lakehouse, load_policy(PROJECT_ROOT / "config" / "grants.toml"))
    finance = principal("finance")
    currencies = engine.run(billing.currencies(dt.date(2024, 9, 1), dt.date(2024, 9, 30)), finance).df
    assert sorted(currencies["currency"]) == ["EUR", "JPY", "USD"]
    for currency in ("USD", "EUR", "JPY"):
        summary = engine.run(q.period_summary("2024-09", currency), finance).df.iloc[0]
        assert summary["unblended_cost"] == pytest.approx(billed(df, currency), abs=1e-9)
        level = engine.run(q.drill_level(q.DrillPath("2024-09", currency=currency)), finance).df
        assert level["unblended_cost"].sum() == pytest.approx(billed(df, currency), abs=1e-9)
        by_type = engine.run(q.invoice_by_line_item_type("2024-09", currency), finance).df
        assert by_type["unblended_cost"].sum() == pytest.approx(billed(df, currency), abs=1e-9)
        scope = billing.CostScope(dt.date(2024, 9, 1), dt.date(2024, 9, 30), currency=currency)
        totals = engine.run(billing.group_totals(scope, billing.Dimension("service"), None, dt.date(2024, 8, 1), dt.date(2024, 8, 31)),
                            finance).df
        in_sept = df[(df["BillingCurrency"] == currency) & df["ChargePeriodStart"].str.startswith("2024-09")]
        assert totals["cost"].sum() == pytest.approx(float(in_sept["BilledCost"].sum()), abs=1e-9)
    periods = engine.run(q.period_totals("2024-10", 2), finance).df
    assert sorted(map(tuple, periods[["billing_period", "currency"]].values)) == [
        ("2024-09", "EUR"), ("2024-09", "JPY"), ("2024-09", "USD"), ("2024-10", "JPY")]


def test_the_cur_view_shows_one_currency_at_a_time_and_each_total_apart(run_page, on_multi, focus_df):
    df, _ = focus_df
    at = run_page("finance", "cur.py")
    assert not at.exception
    assert at.selectbox(key="currency").options == ["USD", "EUR", "JPY"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unblended"] == format_money(billed(df, "USD"), "USD")
    text = page_text(at)
    assert "2024-09 is billed in 3 currencies; every figure below is in **USD**" in text
    for currency in ("USD", "EUR", "JPY"):
        assert format_money(billed(df, currency), currency) in text  # page_text is what the user reads
    mixed = format_money(sum(billed(df, c) for c in CURRENCY_OF_PROVIDER.values()), "USD")
    assert mixed not in text
    eur = run_page("finance", "cur.py", currency="EUR")
    assert {m.label: m.value for m in eur.metric}["Unblended"] == format_money(billed(df, "EUR"), "EUR")


def test_the_cost_explorer_totals_are_per_currency(run_page, on_multi, focus_df):
    df, _ = focus_df
    at = run_page("finance", "cost_explorer.py", **SEPTEMBER, currency="JPY")
    assert not at.exception
    assert at.selectbox(key="currency").value == "JPY"
    total = next(m for m in at.metric if m.label == "Total")
    in_sept = df[(df["BillingCurrency"] == "JPY") & df["ChargePeriodStart"].str.startswith("2024-09")]
    assert total.value == f"JPY {round(in_sept['BilledCost'].sum()):,}"
    text = page_text(at)
    assert "This range holds costs in 3 currencies; every figure below is in **JPY**" in text
    assert "$" not in "".join(m.value for m in at.metric)


def test_an_unknown_currency_in_the_url_gets_a_notice(run_page, on_multi):
    at = run_page("finance", "cur.py", currency="XX$")
    assert not at.exception
    assert any("showing USD" in i.value for i in at.info)


def test_home_shows_the_other_currencies_apart(run_page, on_multi):
    at = run_page("admin")
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Unblended per currency (never added):") and "EUR " in c and "JPY " in c for c in captions), captions
    assert any(c.startswith("In other currencies (never added):") for c in captions), captions
