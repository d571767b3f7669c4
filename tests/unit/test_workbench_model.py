"""The SQL workbench page model without Streamlit: history, captions, quick-chart defaults, an embed's tiles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from daivi_data.engines.base import QueryStats
from daivi_data.models import workbench as model


def test_history_is_newest_first_one_entry_per_query_and_bounded():
    history: list[dict] = []
    for i in range(model.HISTORY_SIZE + 3):
        history = model.with_history(history, f"SELECT {i}", "1 row", "10:00:00")
    assert len(history) == model.HISTORY_SIZE and history[0]["sql"] == f"SELECT {model.HISTORY_SIZE + 2}"
    again = model.with_history(history, "SELECT 5", "1 row", "10:01:00")
    assert again[0] == {"sql": "SELECT 5", "outcome": "1 row", "at": "10:01:00"} and [h["sql"] for h in again].count("SELECT 5") == 1
    assert model.with_history(again, "SELECT 5", "1 row", "10:02:00") is again  # a rerun is not a new run


def test_captions_say_rows_time_cache_and_on_athena_bytes_and_cost():
    local = QueryStats(engine="duckdb", rows=1, elapsed_s=0.123, cached=True)
    assert model.result_caption(local, 1) == "**1 row** in 0.12 s on the embedded engine · from cache"
    athena = QueryStats(engine="athena", rows=2, elapsed_s=1.5, bytes_scanned=10_000_000, cost_usd=0.00005)
    assert model.result_caption(athena, 1234).startswith("Scanned **10.0 MB**, $0.0001 · 1,234 rows in 1.50 s")
    assert "first 100" in model.truncation_warning(100) and "**10,000 rows**" in model.limits_caption(10_000, 60)
    assert model.confirm_key("SELECT 1") != model.confirm_key("SELECT 2") and model.confirm_key("x").startswith("wb_confirm_scan_")


def test_an_embed_summary_is_the_first_line_of_the_query():
    assert model.embed_summary("\n  SELECT a\nFROM t") == "SQL: SELECT a"
    assert model.embed_summary("") == "SQL: the editor is empty"


def test_quick_chart_defaults_plot_a_number_over_a_category_grouped_by_a_small_text_column():
    df = pd.DataFrame({"month": ["2026-10", "2026-11"], "team": ["a", "b"], "ip": ["1", "2"], "cost": [1.5, 2.0], "n": [1, 2]})
    assert model.chartable(df) and not model.chartable(df[["cost"]]) and not model.chartable(df[["month", "team"]])
    assert model.default_chart(df) == model.ChartChoice("month", "n", "team")
    assert model.y_options(df, "cost") == ["n"] and model.y_options(df[["cost"]], "cost") == ["cost"]
    assert model.color_options(df, "month", "n") == [model.NO_COLOR, "team", "ip", "cost"]
    many = pd.DataFrame({"x": [str(i) for i in range(40)], "who": [str(i) for i in range(40)], "y": range(40)})
    assert model.default_chart(many).color is None  # 40 groups would make an unreadable legend
    flags = pd.DataFrame({"ok": [True, False], "y": [1.0, 2.0]})
    assert model.numeric_columns(flags) == ["y"]


def test_kpi_tiles_are_the_columns_of_a_one_row_result_else_its_row_count():
    one = pd.DataFrame({"total": [np.int64(12_345)], "average": [3.14159], "currency": ["USD"], "missing": [np.nan]})
    assert [(label, model.kpi_text(v)) for label, v in model.kpi_tiles(one)] == [
        ("total", "12,345"), ("average", "3.14"), ("currency", "USD"), ("missing", "–")]
    assert model.kpi_tiles(pd.DataFrame({"a": range(3)})) == [("Rows", 3)]
    wide = pd.DataFrame({f"c{i}": [i] for i in range(10)})
    assert len(model.kpi_tiles(wide)) == model.MAX_KPIS
    assert model.editor_placeholder(dt.date(2026, 11, 30)).endswith("billing_period = '2026-11'\nGROUP BY 1 ORDER BY 2 DESC")
