"""A rerun of an Inventory tab redoes no pandas work and builds no figure: both come from the principal's cache.

Counts calls, never time: the analysis functions and figure builders are wrapped (keeping their names,
which key the cache) and a rerun of the same state must not call them again.
"""

from __future__ import annotations

import functools

import pytest

from daivi_data import inventory_analysis as ia
from daivi_data.connection import clear_cached
from daivi_ui import figures_inventory as fig
from tests.app.conftest import as_read

COUNTED = {
    "Overview": [(fig, "build_trend_figure"), (fig, "build_region_map_figure"), (ia, "diff_snapshots")],
    "Tag compliance": [(ia, "evaluate_tag_compliance"), (fig, "build_compliance_figure")],
    "Waste": [(ia, "classify_waste"), (fig, "build_waste_figure")],
    "History": [(ia, "history_changes")],
}


@pytest.fixture
def calls(monkeypatch):
    counts: dict[str, int] = {}

    def count(module, name):
        original = getattr(module, name)

        @functools.wraps(original)  # the same module and name: the same cache key
        def counted(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    clear_cached()  # the first run below computes, whatever ran before in this process
    return counts, count


@pytest.mark.parametrize("tab", sorted(COUNTED))
def test_a_rerun_computes_nothing_again(run_page, raw_duckdb, calls, tab):
    counts, count = calls
    for module, name in COUNTED[tab]:
        count(module, name)
    params = {"tab": tab}
    if tab == "History":  # a resource's timeline
        params |= {"hist_kind": "Resource", "hist_resource": raw_duckdb.execute(
            "SELECT MIN(resource_id) FROM daivi_inventory.resources WHERE snapshot_date = "
            "(SELECT MAX(snapshot_date) FROM daivi_inventory.resources)").fetchall()[0][0]}
    at = run_page("admin", "inventory.py", **params)
    assert not at.exception and not at.error, [as_read(e.value) for e in at.error]
    first = dict(counts)
    assert all(first.get(name) for _, name in COUNTED[tab]), first  # the first run did compute
    at.run()
    at.run()
    assert counts == first  # the reruns took every result from the cache
