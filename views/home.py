"""Home: who is signed in, and one card per lakehouse they may read (layout over `daivi_data.models.home`)."""

import datetime as dt

import pandas as pd
import streamlit as st

from daivi_data.currency import totals_text
from daivi_data.data_span import anchor_day, anchor_period, line_items_per_period, refresh_note, rows_without_account
from daivi_data.errors import DaiviError
from daivi_data.models import home as m
from daivi_data.queries import billing, cur, overview, splunk
from daivi_ui import format as fmt
from daivi_ui.components import cost_change_delta, format_money
from daivi_ui.errors import show_error
from daivi_ui.navigation import view_for_lakehouse
from daivi_ui.page import Page, open_page
from daivi_ui.text import literal

page: Page = open_page("DAIVI Lakehouse Explorer", "")
ctx = page.ctx
now, yesterday = ctx.now, ctx.today - dt.timedelta(days=1)
this_period = overview.billing_period(yesterday)
if not ctx.embed:
    st.write(f"Signed in as **{ctx.principal.display_name}** with role `{ctx.principal.role}`"
             f"{' (demo persona)' if ctx.principal.source == 'demo' else ''}. "
             "Every figure below comes from SQL run under that role's grants.")

visible = [key for key in m.CARDS if ctx.can_read(key)]
if not visible:
    st.warning("Your role may not read any lakehouse. Ask the data platform team for access.")
    st.stop()


def billing_card(latest: str | None, _partitions: int) -> str | None:
    period = anchor_period(this_period, latest)
    last = page.result(billing.data_end(period)).df["last_day"].iloc[0]
    as_of = anchor_day(ctx.today, pd.Timestamp(last).date() if pd.notna(last) else None)
    card = m.month_to_date(page.result(overview.billing_month_to_date(as_of)).df, as_of, ctx.today)
    st.metric("Month to date", fmt.money_short(card.amount, card.currency), **cost_change_delta(card.change),
              help=f"{fmt.money(card.amount, card.currency)} unblended, vs {fmt.money(card.previous, card.currency)} over the "
                   "same days of the previous month: the Cost Explorer's Month to date range with its default comparison.")
    st.caption(f"Unblended, through {fmt.day(as_of)} (UTC); the change is against the same days of last month.")
    if card.others:
        st.caption("In other currencies (never added): " + literal(totals_text(card.others, format_money)))
    return card.note


def cur_card(latest: str | None, partitions: int) -> str | None:
    # The CUR view's default period: the newest that holds the bulk of the line items.
    totals = page.result(cur.period_totals(*cur.period_span_to_list(this_period, latest, partitions))).df
    period = cur.default_period(line_items_per_period(totals)) or this_period
    card = m.cur_period(page.result(overview.cur_month_summary(dt.date.fromisoformat(f"{period}-01"))).df, period, this_period)
    st.metric(f"Line items in {card.month:%B %Y}", f"{card.line_items:,}")
    if card.accounts is not None:
        (currency, amount), = card.unblended.items()
        st.caption(f"{format_money(amount, currency)} unblended across {card.accounts} accounts")
    elif card.unblended:
        st.caption("Unblended per currency (never added): " + literal(totals_text(card.unblended, format_money)))
    return card.note


def inventory_card(latest: str | None, _partitions: int) -> str | None:
    day = dt.date.fromisoformat(latest) if latest else yesterday
    card = m.inventory_snapshot(page.result(overview.inventory_snapshot_summary(day)).df, day, ctx.today)
    st.metric("Resources tracked", f"{card.resources:,}")
    st.caption(f"{card.resource_types} resource types in {card.accounts} accounts")
    return card.note


def splunk_card(latest: str | None, _partitions: int) -> str | None:
    newest = m.newest_event(page.result(splunk.newest_event_time(dt.date.fromisoformat(latest) if latest else ctx.today)).df)
    anchor = m.splunk_anchor(now, newest)  # as the Logs view's default range, to the minute
    card = m.last_24h(page.result(overview.splunk_last_24h(anchor)).df, anchor, now, ctx.today, newest is not None)
    st.metric("Events in the last 24 h" if card.live else "Events in the last 24 h of the data", f"{card.events:,}",
              help=f"The 24 hours up to {anchor:%Y-%m-%d %H:%M} UTC: the Logs view's default range (relative to the newest event).")
    st.caption(f"{card.errors:,} errors from {card.hosts} hosts")
    return card.note


HEADLINES = {"billing": billing_card, "cur": cur_card, "inventory": inventory_card, "splunk": splunk_card}


def sees_every_row(database: str, table: str) -> bool:
    """The role's grant on the table has no row filter (the admin): only such roles see rows without an account."""
    grant = ctx.grants.grant_for(database, table)
    return grant is not None and not grant.row_filter


columns = st.columns(2)
manifest = getattr(ctx.connection.engine, "manifest", None) or {}  # the embedded lakehouse's; Athena has none
for i, key in enumerate(visible):
    database, table, blurb = m.CARDS[key]
    with columns[i % 2].container(border=True):
        st.subheader(m.TITLES[key])
        st.caption(f"{blurb} · `{database}.{table}`")
        info = ctx.connection.engine.table_info(database, table)
        if not info.exists:
            st.warning(info.note or f"`{database}.{table}` has no data yet.")  # the note names what is missing
            continue
        if info.note:
            st.caption(info.note)
        try:
            note = HEADLINES[key](info.latest_partition, info.partitions)
            if note:
                st.caption(note)
        except DaiviError as e:
            show_error(e)
        if info.latest_partition:
            st.caption(f"Latest partition **{literal(info.latest_partition)}** · {info.partitions} partitions")
        refreshed = refresh_note(manifest, f"{database}.{table}")
        if refreshed:
            st.caption(literal(refreshed))
        hidden = rows_without_account(manifest, f"{database}.{table}")
        if hidden and sees_every_row(database, table):
            st.warning(f"{hidden:,} row(s) of `{database}.{table}` carry no account id: roles whose grant filters rows "
                       "by account never see them. Import the inventory (hosts map to accounts) or add the account "
                       "to the export.", icon=":material/visibility_off:")
        view = view_for_lakehouse(key, ctx.grants)
        if view:
            st.page_link(str(view.path), label=f"Open {view.title}", icon=view.icon, query_params=m.VIEW_PARAMS.get(key))

page.stats()
