"""Inventory: every AWS resource of a snapshot, its tags, its waste, its cost and its hosts' logs.

Tabs (bound to `?tab=`): Overview, Search, Tag compliance, Waste, Detail,
History. Only the open tab's queries run. `?resource=<id>` or `?host=<name>`
opens a resource's detail (links from the CUR and Logs views).

Layout only: the page model is `daivi_data.models.inventory`, the tabs are drawn by `daivi_ui.inventory_tabs`.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import streamlit as st

from daivi_data.models import inventory as m
from daivi_data.queries import inventory as q
from daivi_ui.components import draw_open_tabs, empty_state
from daivi_ui.inventory_tabs import DRAW, HOST_KEY, RESOURCE_KEY, TAB_KEY, InventoryPage
from daivi_ui.page import open_page
from daivi_ui.state import URL, check_url_param, url_values

page = open_page("Inventory", "Every AWS resource of the organization from the daily inventory snapshots: what runs where, "
                              "its tags, its waste, its cost from the CUR and its hosts' recent logs.", needs="inventory")
ctx = page.ctx
info = page.table_with_data("daivi_inventory", "resources",
                            "The inventory lakehouse has no snapshot yet. Build the demo (`make demo`) or import an inventory export.")
latest = dt.date.fromisoformat(info.latest_partition)
snapshots = page.derived(m.snapshots_of, page.run(q.snapshot_dates(m.history_start(latest), latest)))
if not snapshots.days:
    empty_state("Your role sees no resource in any inventory snapshot.")
    st.stop()

check_url_param("snapshot", partial(m.valid_url_date, today=ctx.today), "snapshot date")
check_url_param("since", partial(m.valid_url_date, today=ctx.today), "compare date")


def show_detail_tab() -> None:
    """Typing a resource id opens its detail."""
    if st.session_state.get(RESOURCE_KEY, "").strip():
        st.session_state[TAB_KEY] = "Detail"


def embed_summary() -> str:
    shown = st.session_state.get("snapshot") or st.query_params.get("snapshot") or snapshots.last
    return f"Inventory snapshot {shown} (UTC day)"


# An embed shows the figures first and folds the snapshot choice into a one-line summary under them.
layout = page.layout(summary=embed_summary)
controls = layout.controls.container(horizontal=True, gap="small")  # wraps on a narrow screen instead of cutting dates
dates = {"format": "YYYY-MM-DD", "min_value": m.MIN_DATE, "max_value": m.max_date(ctx.today), "width": 160}
snapshot = controls.date_input("Snapshot", value=snapshots.last, key="snapshot", bind=URL,
                               help="Day (UTC) of the inventory snapshot everything below shows.", **dates)
since = controls.date_input("Compare with", value=snapshots.compare_default(snapshot) or snapshots.first, key="since", bind=URL,
                            help="An earlier snapshot: the overview counts what was created, deleted or changed since.", **dates)
# Drawn on every run (not inside the Detail tab), so that a row picked in Search can set it and the
# URL follows: a bound widget's programmatic value reaches the URL only if it was drawn the run before.
controls.text_input("Open a resource", width="stretch", key=RESOURCE_KEY, bind=URL, placeholder="resource id, e.g. i-0123456789abcdef0",
                    on_change=show_detail_tab, help="Opens the resource's detail: attributes, tags, cost, logs.")
layout.controls.caption(snapshots.describe())

if snapshot not in snapshots:
    st.warning(f"{snapshots.missing(snapshot)} Snapshots exist from {snapshots.first} to {snapshots.last}.",
               icon=":material/event_busy:")
    st.stop()

# A link with ?resource= or ?host= (and no ?tab=) opens on the detail, once per linked resource: after
# that the user's own tab choice stands.
linked = (url_values(RESOURCE_KEY) or url_values(HOST_KEY) or [""])[0]
if linked and not url_values(TAB_KEY) and st.session_state.get("_inventory_linked") != linked:
    st.session_state[TAB_KEY] = "Detail"
st.session_state["_inventory_linked"] = linked or st.session_state.get("_inventory_linked")
if ctx.shows_everything:
    tab = dict(zip(m.TABS, layout.chart_area.tabs(list(m.TABS), key=TAB_KEY, bind=URL, default="Overview"), strict=True))
else:  # an embed of some parts only (`show=kpis,chart`): the overview's, without tabs
    tab = {"Overview": layout.chart_area.container()}

view = InventoryPage(page, snapshots, snapshot, since, info.latest_partition)
draw_open_tabs(tab, {name: partial(DRAW[name], view) for name in tab})
page.stats()
