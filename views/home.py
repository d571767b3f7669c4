"""Home: who is signed in, and one card per lakehouse they may read."""

import datetime as dt

import pandas as pd
import streamlit as st

from daivi_data.currency import totals_text
from daivi_data.data_span import anchor_day, anchor_period, data_end_note, line_items_per_period, refresh_note, rows_without_account
from daivi_data.errors import DaiviError
from daivi_data.queries import billing, cur, overview, splunk
from daivi_ui.components import format_money, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.navigation import view_for_lakehouse
from daivi_ui.text import literal

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


def headline(key: str, latest: str | None, partitions: int) -> None:
    """The card's figure: governed, partition-pruned queries anchored where the data ends, as the views do."""
    if key == "billing":
        period = anchor_period(overview.billing_period(yesterday), latest)
        last = run_card(billing.data_end(period)).df["last_day"].iloc[0]
        as_of = anchor_day(ctx.today, pd.Timestamp(last).date() if pd.notna(last) else None)
        rows = run_card(overview.billing_month_to_date(as_of)).df  # one row per currency, the largest first
        row = rows.iloc[0] if not rows.empty else {"currency": "USD", "month_to_date": 0, "previous_month_to_date": 0}
        mtd, prev = or_zero(row["month_to_date"]), or_zero(row["previous_month_to_date"])
        delta = f"{(mtd - prev) / prev:+.1%} vs same point last month" if prev else None
        st.metric(f"Month to date (through {as_of:%b %d, %Y})", format_money(mtd, row["currency"]), delta, delta_color="inverse")
        if len(rows) > 1:
            st.caption("In other currencies (never added): " + literal(totals_text(
                dict(zip(rows["currency"][1:], rows["month_to_date"][1:].map(or_zero), strict=True)), format_money)))
        note = data_end_note(ctx.today, as_of)
    elif key == "cur":
        # The CUR view's default period: the newest that holds the bulk of the line items.
        totals = run_card(cur.period_totals(*cur.period_span_to_list(overview.billing_period(yesterday), latest, partitions))).df
        period = cur.default_period(line_items_per_period(totals)) or overview.billing_period(yesterday)
        rows = run_card(overview.cur_month_summary(dt.date.fromisoformat(f"{period}-01"))).df  # per currency
        st.metric(f"Line items in {dt.date.fromisoformat(f'{period}-01'):%B %Y}", f"{int(rows['line_items'].sum()):,}")
        if len(rows) == 1:
            st.caption(f"{format_money(rows['unblended_cost'].iloc[0], rows['currency'].iloc[0])} unblended "
                       f"across {int(rows['accounts'].iloc[0])} accounts")
        elif len(rows) > 1:
            st.caption("Unblended per currency (never added): "
                       + literal(totals_text(dict(zip(rows["currency"], rows["unblended_cost"], strict=True)), format_money)))
        note = (f"Showing billing period {period}: the newest that holds the bulk of the data."
                if period < overview.billing_period(yesterday) else None)
    elif key == "inventory":
        snapshot = dt.date.fromisoformat(latest) if latest else yesterday
        row = run_card(overview.inventory_snapshot_summary(snapshot)).df.iloc[0]
        st.metric("Resources tracked", f"{int(row['resources']):,}")
        st.caption(f"{int(row['resource_types'])} resource types in {int(row['accounts'])} accounts")
        note = data_end_note(ctx.today, snapshot)
    else:
        newest = run_card(splunk.newest_event_time(dt.date.fromisoformat(latest) if latest else now.date())).df["newest"].iloc[0]
        newest = None if pd.isna(newest) else pd.Timestamp(newest).to_pydatetime()
        anchor = min(now, newest.replace(microsecond=0) + dt.timedelta(seconds=1)) if newest else now
        row = run_card(overview.splunk_last_24h(anchor)).df.iloc[0]
        st.metric("Events in the last 24 h" if anchor == now else "Events in the last 24 h of the data", f"{int(row['events']):,}")
        st.caption(f"{int(or_zero(row['errors'])):,} errors from {int(row['hosts'])} hosts")
        note = data_end_note(ctx.today, anchor.date()) if newest else None
    if note:
        st.caption(note)


def sees_every_row(database: str, table: str) -> bool:
    """The role's grant on the table has no row filter (the admin): only such roles see rows without an account."""
    grant = ctx.grants.grant_for(database, table)
    return grant is not None and not grant.row_filter


def run_card(query):
    result = ctx.run(query)
    results.append(result)
    return result


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
            headline(key, info.latest_partition, info.partitions)
        except DaiviError as e:
            show_error(e)
        if info.latest_partition:
            st.caption(f"Latest partition **{literal(info.latest_partition)}** · {info.partitions} partitions")
        manifest = getattr(ctx.connection.engine, "manifest", None) or {}  # the embedded lakehouse's; Athena has none
        note = refresh_note(manifest, f"{database}.{table}")
        if note:
            st.caption(literal(note))
        hidden = rows_without_account(manifest, f"{database}.{table}")
        if hidden and sees_every_row(database, table):
            st.warning(f"{hidden:,} row(s) of `{database}.{table}` carry no account id: roles whose grant filters rows "
                       "by account never see them. Import the inventory (hosts map to accounts) or add the account "
                       "to the export.", icon=":material/visibility_off:")
        view = view_for_lakehouse(key, ctx.grants)
        if view:
            st.page_link(str(view.path), label=f"Open {view.title}", icon=view.icon)

show_query_stats(results)
