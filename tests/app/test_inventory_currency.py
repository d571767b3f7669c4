"""Inventory cost in two currencies: the waste and a resource's cost are shown per currency, never one mixed sum.

Data: a copy of the small lakehouse whose CUR line items of one account are billed in EUR (the
amounts unchanged). Expected values come from SQL over those Parquet files, not from the app.
"""

from __future__ import annotations

import pytest

from daivi_ui import format as fmt
from tests.app.conftest import as_read, page_text


@pytest.fixture
def on_two_currencies(two_currencies, monkeypatch):
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(two_currencies["path"]))
    return two_currencies


def stake(at) -> str:
    """The 'At stake per month' tile's value, after checking its help carries the exact amount in the same currency."""
    tile = next(m for m in at.metric if m.label == "At stake per month")
    assert tile.help[:2] == tile.value[:2], (tile.value, tile.help)  # the same symbol or code
    return tile.value


def volume_cost_shown(at, volume: str) -> float:
    for df in at.dataframe:
        table = df.value
        if "resource_id" in table.columns and "monthly_cost" in table.columns and volume in set(table["resource_id"]):
            return float(table.loc[table["resource_id"] == volume, "monthly_cost"].iloc[0])
    raise AssertionError(f"{volume} is in no waste table")


def test_waste_shows_one_currency_at_a_time_with_each_total_apart(run_page, on_two_currencies):
    data = on_two_currencies
    at = run_page("admin", "inventory.py", tab="Waste")
    assert not at.exception and not at.error, [as_read(e.value) for e in at.error]
    assert "in 2 currencies" in page_text(at)
    assert sorted(at.selectbox(key="currency").options) == ["EUR", "USD"]
    usd = stake(at)
    assert volume_cost_shown(at, data["volume"]) == 0.0  # its EUR cost is not counted in USD
    at.selectbox(key="currency").set_value("EUR").run()
    eur = stake(at)
    assert eur.startswith("EUR ") and usd.startswith("$")
    assert volume_cost_shown(at, data["volume"]) == pytest.approx(data["cost"])
    linked = run_page("admin", "inventory.py", tab="Waste", currency="EUR")  # a link keeps the currency
    assert stake(linked) == eur and "every figure below is in **EUR**" in page_text(linked)


def test_resource_detail_cost_is_in_the_currency_it_is_billed_in(run_page, on_two_currencies):
    data = on_two_currencies
    at = run_page("admin", "inventory.py", resource=data["volume"])
    assert not at.error, [as_read(e.value) for e in at.error]
    metric = next(m for m in at.metric if m.label.startswith("CUR unblended cost"))
    assert metric.value == fmt.money(data["cost"], "EUR")
