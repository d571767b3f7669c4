"""Home: who is signed in, and one card per lakehouse they may read."""

import datetime as dt

import pandas as pd
import streamlit as st

from daivi_data.errors import DaiviError
from daivi_data.queries import overview
from daivi_data.queries import splunk as splunk_queries
from daivi_ui import format as fmt
from daivi_ui.components import show_query_stats
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.navigation import view_for_lakehouse

ctx = app_context()
now = ctx.now
yesterday = ctx.today - dt.timedelta(days=1)
# The figure a card shows is the one its view opens with: the same range, basis and anchoring.
VIEW_PARAMS = {"billing": {"range": "month-to-date"}, "splunk": {"range": "24h"}}

if not ctx.embed:
    st.title("DAIVI Lakehouse Explorer")
    st.write(
        f"Signed in as **{ctx.principal.display_name}** with role `{ctx.principal.role}`"
        f"{' (demo persona)' if ctx.principal.source == 'demo' else ''}. "
        "Every figure below comes from SQL run under that role's grants."
    )

CARDS = {
    "billing": ("daivi_billing", "cost_daily", "Daily AWS cost"),
    "cur": ("daivi_cur", "cur", "Cost and Usage Report line items"),
    "inventory": ("daivi_inventory", "resources", "Every AWS resource, daily snapshots"),
    "splunk": ("daivi_splunk", "events", "Log events exported from Splunk"),
}
visible = [key for key in CARDS if ctx.can_read(key)]
if not visible:
    st.warning("Your role may not read any lakehouse. Ask the data platform team for access.")
    st.stop()

results = []


def or_zero(value):
    """SQL NULL (None, NaN or pd.NA, depending on the engine's column type) as 0."""
    return 0 if pd.isna(value) else value


def headline(key: str, latest: str | None) -> None:
    """The card's figure: one governed, partition-pruned query."""
    if key == "billing":
        result = ctx.run(overview.billing_month_to_date(yesterday))
        row = result.df.iloc[0]
        mtd, prev = or_zero(row["month_to_date"]), or_zero(row["previous_month_to_date"])
        delta = fmt.delta_percent((mtd - prev) / prev) if prev else None
        st.metric("Month to date", fmt.money_short(mtd), delta, delta_color="inverse",
                  help=f"{fmt.money(mtd)} unblended, vs {fmt.money(prev)} over the same days of the previous month: "
                       "the Cost Explorer's Month to date range with its default comparison.")
        st.caption(f"Unblended, through {fmt.day(yesterday)} (UTC); the change is against the same days of last month "
                   f"({fmt.money_short(prev)}).")
    elif key == "cur":
        result = ctx.run(overview.cur_month_summary(yesterday))
        row = result.df.iloc[0]
        st.metric(f"Line items in {yesterday:%B %Y}", f"{int(row['line_items']):,}")
        st.caption(f"{fmt.money(row['unblended_cost'])} unblended across {int(row['accounts'])} accounts")
    elif key == "inventory":
        snapshot = dt.date.fromisoformat(latest) if latest else yesterday
        result = ctx.run(overview.inventory_snapshot_summary(snapshot))
        row = result.df.iloc[0]
        st.metric("Resources tracked", f"{int(row['resources']):,}")
        st.caption(f"{int(row['resource_types'])} resource types in {int(row['accounts'])} accounts")
    else:
        # Anchored like the Logs view's default: the 24 hours up to the newest event (exports lag behind now).
        newest_result = ctx.run(splunk_queries.newest_event_time(dt.date.fromisoformat(latest) if latest else ctx.today))
        results.append(newest_result)
        newest = newest_result.df["newest"].iloc[0]
        anchor = now
        if not pd.isna(newest):
            newest = pd.Timestamp(newest).to_pydatetime()
            anchor = newest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        result = ctx.run(overview.splunk_last_24h(anchor))
        row = result.df.iloc[0]
        st.metric("Events in the 24 h to the newest event", f"{int(row['events']):,}",
                  help=f"{fmt.timestamp(anchor - dt.timedelta(hours=24))} – {fmt.timestamp(anchor)}, as the Logs view's "
                       "Last 24 hours relative to the newest event.")
        st.caption(f"{int(or_zero(row['errors'])):,} errors (ERROR/CRITICAL or HTTP 5xx) from {int(row['hosts'])} hosts · "
                   f"up to {fmt.timestamp(anchor)}")
    results.append(result)


columns = st.columns(2)
for i, key in enumerate(visible):
    database, table, blurb = CARDS[key]
    with columns[i % 2].container(border=True):
        st.subheader(f"{key.title() if key != 'cur' else 'Billing CUR'}")
        st.caption(f"{blurb} · `{database}.{table}`")
        info = ctx.connection.engine.table_info(database, table)
        if not info.exists:
            st.warning(info.note or f"`{database}.{table}` has no data yet.")  # the note names what is missing
            continue
        if info.note:
            st.caption(info.note)
        try:
            headline(key, info.latest_partition)
        except DaiviError as e:
            show_error(e)
        if info.latest_partition:
            st.caption(f"Latest partition **{info.latest_partition}** · {info.partitions} partitions")
        view = view_for_lakehouse(key, ctx.grants)
        if view:
            st.page_link(str(view.path), label=f"Open {view.title}", icon=view.icon, query_params=VIEW_PARAMS.get(key))

show_query_stats(results)
