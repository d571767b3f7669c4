"""Inventory cost in two currencies: the waste and a resource's cost are shown per currency, never one mixed sum.

Data: a copy of the small lakehouse whose CUR line items of one account are billed in EUR (the
amounts unchanged). Expected values come from SQL over those Parquet files, not from the app.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest

from daivi_data.queries import inventory as q
from daivi_ui import format as fmt
from tests.app.conftest import as_read, page_text


@pytest.fixture(scope="module")
def two_currencies(small_lakehouse, tmp_path_factory) -> dict:
    """The copied lakehouse, the account billed in EUR, the snapshot and an unattached volume of that account with cost."""
    out = tmp_path_factory.mktemp("two-currencies") / "lh"
    shutil.copytree(small_lakehouse, out)
    planted = json.loads((out / "manifest.json").read_text())["planted"]["unattached_volumes"]
    snapshot = dt.date.fromisoformat(sorted(p.name.split("=")[1] for p in (out / "daivi_inventory/resources").glob("*=*"))[-1])
    con = duckdb.connect()
    start, end, _, _ = q.cost_window(snapshot)
    cur = f"read_parquet('{out}/daivi_cur/cur/*/*.parquet', hive_partitioning=true)"
    volume, account, cost = con.execute(
        f"SELECT line_item_resource_id, line_item_usage_account_id, SUM(line_item_unblended_cost) FROM {cur} "
        "WHERE list_contains(?, line_item_resource_id) AND line_item_usage_start_date >= ? AND line_item_usage_start_date < ? "
        "GROUP BY 1, 2 HAVING SUM(line_item_unblended_cost) > 0 ORDER BY 1 LIMIT 1", [planted, start, end]).fetchall()[0]
    for part in (out / "daivi_cur/cur").glob("*/*.parquet"):
        rewritten = part.with_suffix(".tmp")
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN line_item_usage_account_id = '{account}' THEN 'EUR' "
                    f"ELSE line_item_currency_code END AS line_item_currency_code) FROM read_parquet('{part}')) "
                    f"TO '{rewritten}' (FORMAT parquet)")
        rewritten.replace(part)
    return {"path": out, "account": account, "volume": volume, "cost": cost, "snapshot": snapshot}


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
