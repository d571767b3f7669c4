"""Home: who is signed in, and one card per lakehouse they may read."""

import datetime as dt

import pandas as pd
import streamlit as st

from daivi_data.errors import DaiviError
from daivi_data.queries import overview
from daivi_ui.components import format_money, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.navigation import view_for_lakehouse

ctx = app_context()
now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
yesterday = now.date() - dt.timedelta(days=1)

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
        delta = f"{(mtd - prev) / prev:+.1%} vs same point last month" if prev else None
        st.metric(f"Month to date (through {yesterday:%b %d})", format_money(mtd), delta, delta_color="inverse")
    elif key == "cur":
        result = ctx.run(overview.cur_month_summary(yesterday))
        row = result.df.iloc[0]
        st.metric(f"Line items in {yesterday:%B %Y}", f"{int(row['line_items']):,}")
        st.caption(f"{format_money(row['unblended_cost'])} unblended across {int(row['accounts'])} accounts")
    elif key == "inventory":
        snapshot = dt.date.fromisoformat(latest) if latest else yesterday
        result = ctx.run(overview.inventory_snapshot_summary(snapshot))
        row = result.df.iloc[0]
        st.metric("Resources tracked", f"{int(row['resources']):,}")
        st.caption(f"{int(row['resource_types'])} resource types in {int(row['accounts'])} accounts")
    else:
        result = ctx.run(overview.splunk_last_24h(now))
        row = result.df.iloc[0]
        st.metric("Events in the last 24 h", f"{int(row['events']):,}")
        st.caption(f"{int(or_zero(row['errors'])):,} errors from {int(row['hosts'])} hosts")
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
            st.page_link(str(view.path), label=f"Open {view.title}", icon=view.icon)

show_query_stats(results)
