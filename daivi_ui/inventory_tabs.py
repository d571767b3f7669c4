"""The Inventory view's tabs: layout only, over the page model `daivi_data.models.inventory`.

Each `draw_*` takes the `InventoryPage` the view opened (the page, the snapshot and the comparison
day the controls chose) and lays out what the model returns; every pandas step goes through
`page.derived` and every figure through `page.figure`, so a rerun redoes neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
import streamlit as st

from daivi_data import inventory_analysis as ia
from daivi_data.currency import DEFAULT_CURRENCY, choose_currency, shown_code
from daivi_data.errors import DaiviError, InvalidRequest
from daivi_data.models import inventory as m
from daivi_data.queries import inventory as q
from daivi_ui import figures_inventory as fig
from daivi_ui import format as fmt
from daivi_ui.components import csv_download, empty_state, kpi, kpi_row, money_kpi
from daivi_ui.currency import pick_currency
from daivi_ui.errors import show_error
from daivi_ui.page import Page
from daivi_ui.state import URL, labelled_multichoice
from daivi_ui.tables import header, money_column
from daivi_ui.text import literal

RESOURCE_KEY, HOST_KEY, TAB_KEY = "resource", "host", "tab"
HISTORY_OPEN_KEY = "detail_history_open"
# Only the open tab runs, so its widgets vanish while another tab is open: keep their values for the
# page, so coming back restores them (and puts them back in the URL).
KEEP = "page"


@dataclass(frozen=True)
class InventoryPage:
    page: Page
    snapshots: m.Snapshots
    snapshot: dt.date
    since: dt.date
    data_ends: str  # the newest partition, for everyone

    @property
    def ctx(self):
        return self.page.ctx

    def date_input(self, column, label: str, value: dt.date, key: str) -> dt.date:
        return column.date_input(label, value=value, key=key, bind=URL, persist_state=KEEP, format="YYYY-MM-DD",
                                 min_value=m.MIN_DATE, max_value=m.max_date(self.ctx.today))

    def no_resources(self) -> None:
        grant = self.ctx.grants.grant_for("daivi_inventory", "resources")
        empty_state(m.no_resources_message(self.snapshot, self.data_ends, self.ctx.principal.role,
                                           row_filtered=grant is None or bool(grant.row_filter)))

    def account_names(self) -> tuple[tuple[str, str], ...]:
        """(id, name) of the accounts, where the role may read billing's accounts table (labels only: () otherwise)."""
        if not self.ctx.can_read("billing"):
            return ()
        try:
            names = self.page.result(q.account_names()).df
        except DaiviError:  # a role may read billing but not its accounts table: ids alone are fine
            return ()
        return tuple(sorted(self.page.derived(m.account_names, names).items()))


def table_with_csv(page: Page, result: object, field: str | None, key: str, file_name: str, **table_options) -> None:
    """The first rows of a long list (`result.field`, or `result`) on screen, with a caption saying so, and all in the CSV.

    The rows shown come through `page.derived` from `result`, so a rerun neither cuts nor hashes the table again."""
    df = getattr(result, field) if field else result
    shown = page.derived(m.screen_rows, result, field)
    note = m.cut_note(len(shown), len(df))
    if note:
        st.caption(note)
    page.table(shown, key=key, **table_options)
    csv_download(df, file_name, key=f"dl_{key}")


def open_selected_resource(table_key: str) -> None:
    """Row selection in a table (search, waste) opens that resource's detail tab."""
    selection = st.session_state.get(table_key)
    ids = st.session_state.get(f"_ids_{table_key}", [])
    rows = selection.selection.rows if selection is not None else []
    if rows and rows[0] < len(ids):
        st.session_state[RESOURCE_KEY] = ids[rows[0]]
        st.session_state[HOST_KEY] = ""
        st.session_state[TAB_KEY] = "Detail"


def selectable_table(page: Page, df: pd.DataFrame, ids: list[str], key: str, **options) -> None:
    st.session_state[f"_ids_{key}"] = ids
    page.table(df, key=key, on_select=partial(open_selected_resource, key), selection_mode="single-row", **options)


def missing_snapshot(v: InventoryPage, day: dt.date) -> bool:
    if day in v.snapshots:
        return False
    st.warning(v.snapshots.missing(day), icon=":material/event_busy:")
    return True


# --- Overview -----------------------------------------------------------------------------------

def draw_overview(v: InventoryPage) -> None:
    ctx, page = v.ctx, v.page
    counts = page.run(q.counts_by_dimension(v.snapshot))
    if counts.empty:
        v.no_resources()
        return
    overview = page.derived(m.overview_of, counts)
    changes = None
    if v.since in v.snapshots and v.since != v.snapshot:
        before, after = m.ordered(v.since, v.snapshot)
        changes = page.derived(m.changes_between, page.run(q.snapshot_changes(before, after)), before, after)
    if ctx.shows("kpis"):
        k = kpi_row()
        kpi(k, "Resources", f"{overview.resources:,}")
        kpi(k, "Resource types", f"{overview.resource_types:,}")
        kpi(k, "Accounts", f"{overview.accounts:,}")
        kpi(k, "Regions", f"{overview.regions:,}")
        if changes is not None:
            kpi(k, f"Since {changes.before:%b %d}", f"+{changes.created:,} / −{changes.deleted:,}",
                f"{changes.changed:,} changed", delta_color="off", delta_arrow="off")
        else:
            kpi(k, "Change", fmt.MISSING, "pick an earlier snapshot", delta_color="off", delta_arrow="off")
    if changes is None and v.since not in v.snapshots:
        st.info(f"No snapshot on {v.since} to compare with; pick one between {v.snapshots.first} and {v.snapshots.last}.",
                icon=":material/event_busy:")
    if not ctx.shows_everything and ctx.shows("table"):
        page.table(overview.by_type, key="overview_counts")
    if not ctx.shows("chart"):
        return
    trend = page.run(q.trend_by_type(m.trend_start(v.snapshots, v.snapshot), v.snapshot))
    labelled = page.derived(fig.label_accounts, counts, dict(v.account_names()))
    left, right = st.columns(2)
    left.plotly_chart(page.figure(fig.build_count_bar_figure, counts, "resource_type", "Resources by type"), key="fig_type")
    right.plotly_chart(page.figure(fig.build_count_bar_figure, labelled, "account_id", "Resources by account"), key="fig_account")
    left, right = st.columns(2)
    left.plotly_chart(page.figure(fig.build_count_bar_figure, counts, "region", "Resources by region"), key="fig_region")
    right.plotly_chart(page.figure(fig.build_region_map_figure, counts), key="fig_map", config=fig.MAP_PLOTLY_CONFIG)
    _, unplaced = page.derived(fig.region_points, counts)
    if unplaced:
        right.caption(f"Not on the map: {literal(', '.join(unplaced))} (no fixed location).")
    st.plotly_chart(page.figure(fig.build_trend_figure, trend), key="fig_trend")
    if changes is not None and ctx.shows_everything:
        with st.expander(f"What changed between {changes.before} and {changes.after} ({len(changes.diff):,} resources)"):
            if changes.diff.empty:
                st.write("Nothing: the two snapshots hold the same resources with the same attributes.")
            else:
                table_with_csv(page, changes, "diff", "overview_diff", f"inventory-changes-{changes.before}-{changes.after}.csv")


# --- Search -------------------------------------------------------------------------------------

def search_widgets(v: InventoryPage, counts: pd.DataFrame) -> q.ResourceFilter:
    c = st.columns([2, 2])
    text = c[0].text_input("Id, name or ARN contains", key="q", bind=URL, persist_state=KEEP, placeholder="i-0abc, web-01, :volume/…",
                           help="Matched literally, case-insensitively: % _ * . ' and other symbols are plain characters.")
    tags_text = c[1].text_input("Tags", key="tags", bind=URL, persist_state=KEEP, placeholder="team=payments, !cost-center, owner",
                                help="Comma-separated: key=value (case-insensitive value), key!=value, key (has the tag), "
                                     "!key (lacks the tag). Keys are case-sensitive, as in AWS.")
    c = st.columns(4)
    options = v.page.derived(m.search_options, counts)
    chosen = [c[i].multiselect(label, options[column], key=key, bind=URL, persist_state=KEEP)
              for i, (label, column, key) in enumerate((("Type", "resource_type", "type"), ("Account", "account_id", "account"),
                                                        ("Region", "region", "region"), ("State", "state", "state")))]
    return m.search_filter(text, tags_text, *chosen)


def draw_search(v: InventoryPage) -> None:
    page, snapshot = v.page, v.snapshot
    counts = page.run(q.counts_by_dimension(snapshot))
    try:
        flt = search_widgets(v, counts)
    except InvalidRequest as e:
        show_error(e)
        return
    c = st.columns([4, 1])
    columns = labelled_multichoice(c[0].multiselect, "Columns", {k: header(k) for k in q.SEARCH_COLUMNS}, key="cols",
                                   default=list(q.DEFAULT_SEARCH_COLUMNS), persist_state=KEEP)
    page_size = c[1].selectbox("Rows per page", m.PAGE_SIZES, key="size", bind=URL, persist_state=KEEP)
    if not columns:
        st.info("Pick at least one column to show.", icon=":material/view_column:")
        return
    total = int(page.run(q.search_count(snapshot, flt))["total"][0])
    if total == 0:
        empty_state(f"No resource on {snapshot} matches this search. Loosen a filter, or check the tag syntax "
                    "(key=value, key, !key).")
        return
    pages = m.page_count(total, page_size)
    top = st.columns([3, 2])
    top[0].markdown(f"**{total:,}** resources match on {snapshot}.")
    number = min(st.pagination(pages, key="page", bind=URL, persist_state=KEEP) if pages > 1 else 1, pages)
    rows = page.run(q.search_page(snapshot, flt, tuple(columns), number, page_size))
    ids, shown = list(rows["resource_id"]), page.derived(m.search_table, rows, "resource_id" in columns)
    st.caption(f"Rows {(number - 1) * page_size + 1:,}–{(number - 1) * page_size + len(ids):,} of {total:,}. "
               "Select a row to open its detail.")
    selectable_table(page, shown, ids, "search_table")
    max_rows = v.ctx.settings.max_result_rows
    query = q.search_export(snapshot, flt, tuple(columns), max_rows)
    with top[1]:  # the export runs its query when clicked: the whole result, not the page on screen
        csv_download(lambda: m.for_display(v.ctx.run(query).df.head(max_rows)), f"inventory-{snapshot}.csv",
                     f"Download all {min(total, max_rows):,} rows (CSV)", key="dl_search")
    if total > max_rows:
        top[1].caption(f"The export stops at {max_rows:,} rows (setting `daivi.max_result_rows`).")


# --- Tag compliance -----------------------------------------------------------------------------

def draw_compliance(v: InventoryPage) -> None:
    required = dict(v.ctx.settings.required_tags)
    if not required:
        st.info("No required tags are configured. Set `daivi.required_tags` (tag key = [allowed values]) in secrets.toml.")
        return
    st.markdown(f"Required tags: {ia.describe_required_tags(required)}. A resource complies when it has every required "
                "tag with a non-empty value from the allowed list (where one is given).")
    query, tag_columns = q.required_tag_values(v.snapshot, tuple(required))
    result = v.page.derived(m.compliance_of, v.page.run(query), tuple((k, tuple(a)) for k, a in required.items()),
                            tuple(tag_columns.items()))
    if not result.checked:
        v.no_resources()
        return
    k = kpi_row()
    kpi(k, "Compliant", f"{result.compliant_pct:.1f}%")
    kpi(k, "Resources checked", f"{result.checked:,}")
    kpi(k, "Violations", f"{len(result.violators):,}")
    by_account = v.page.derived(fig.label_accounts, result.by_account, dict(v.account_names()))
    left, right = st.columns(2)
    left.plotly_chart(v.page.figure(fig.build_compliance_figure, by_account, "account_id", "Compliance by account (worst first)"),
                      key="fig_cmp_acct")
    right.plotly_chart(v.page.figure(fig.build_compliance_figure, result.by_type, "resource_type", "Compliance by type (worst first)"),
                       key="fig_cmp_type")
    with st.expander("Compliance tables"):
        left, right = st.columns(2)
        compliance = {"compliance_pct": st.column_config.NumberColumn("Compliance", format="%.1f%%")}
        with left:
            v.page.table(result.by_account, key="cmp_by_account", column_config=compliance)
        with right:
            v.page.table(result.by_type, key="cmp_by_type", column_config=compliance)
    st.subheader("Violators")
    if result.violators.empty:
        st.success("Every resource carries the required tags.")
        return
    table_with_csv(v.page, result, "violators", "violators", f"tag-violators-{v.snapshot}.csv")


# --- Waste --------------------------------------------------------------------------------------

def draw_waste(v: InventoryPage) -> None:
    page, snapshot, days = v.page, v.snapshot, ia.OLD_SNAPSHOT_DAYS
    with_cost = v.ctx.can_read("cur")
    candidates = page.run(q.waste_candidates(snapshot, days))
    costs = page.run(q.waste_costs(snapshot, days)) if with_cost else None
    currency = DEFAULT_CURRENCY
    if with_cost:
        unblended = page.derived(m.cost_by_currency, costs, "cost_30d")
        currency = pick_currency(choose_currency({c: abs(t) for c, t in unblended.items()}, st.query_params.get("currency")),
                                 lambda: st.columns([1.4, 4.6])[0], "The CUR cost of these resources is billed", unblended)
    waste = page.derived(m.waste_of, candidates, costs, snapshot, days, currency)
    if not with_cost:
        st.info("Your role may not read the CUR lakehouse, so the waste finder shows **no cost estimate**: "
                "the list below is what to look at, not what it costs.", icon=":material/money_off:")
    k = kpi_row()
    kpi(k, "Findings", f"{len(waste.findings):,}")
    kpi(k, "Resources", f"{waste.resources:,}")
    if waste.at_stake is None:
        # The "no figure" dash, with the reason on hover: "no cost data" was cut to "no cost …" in the tile.
        kpi(k, "At stake per month", fmt.MISSING, help="No cost estimate: your role may not read the CUR lakehouse.")
    else:
        money_kpi(k, "At stake per month", waste.at_stake, currency=currency,
                  help="Estimated monthly savings: last 30 days of CUR unblended cost for each resource, counted once "
                       "per resource (gp3 saves 20% of a gp2 volume's cost, a newer generation about 10%).")
    if not waste.categories:
        st.success(f"No waste found on {snapshot}.")
        return
    st.plotly_chart(page.figure(fig.build_waste_figure, waste.summary, with_cost, currency), key="fig_waste")
    st.caption("Select a row to open the resource's detail.")
    money = {"monthly_cost": money_column("Cost (30 days)", currency), "monthly_savings": money_column("Savings per month", currency)}
    for category in waste.categories:
        title = f"{category.label}: {category.resources:,}"
        if with_cost:
            title += f" · {fmt.money(category.monthly_savings, currency)} / month"
        with st.expander(title):
            shown = page.derived(m.waste_table, waste, category.key)
            note = m.cut_note(len(shown), len(category.table))
            if note:
                st.caption(note)
            selectable_table(page, shown, list(shown["resource_id"]), f"waste_{category.key}", column_config=money)
    csv_download(waste.findings, f"inventory-waste-{snapshot}.csv", key="dl_waste", currency=currency if with_cost else None)


# --- Detail -------------------------------------------------------------------------------------

def resolve_host(v: InventoryPage, host: str) -> str | None:
    """The resource id for a host name: one match opens it, several ask which one, none says so."""
    matches = v.page.run(q.resources_by_host(v.snapshot, host))
    if matches.empty:
        st.warning(f"No resource named **{literal(host)}** on {v.snapshot}. Check the host name, or pick another snapshot.",
                   icon=":material/search_off:")
        return None
    if len(matches) == 1:
        return str(matches["resource_id"][0])
    labels = m.host_choices(matches)
    return st.selectbox(f"{len(matches)} resources are named {literal(host)}", list(labels), format_func=labels.get, key="host_pick")


def draw_detail(v: InventoryPage) -> None:
    ctx, page, snapshot, snapshots = v.ctx, v.page, v.snapshot, v.snapshots
    resource_id = str(st.session_state.get(RESOURCE_KEY) or "").strip()
    host = st.columns(2)[0].text_input("Host name", key=HOST_KEY, bind=URL, persist_state=KEEP, placeholder="payments-api-prod-01",
                                       help="Opens the resource whose name is this host (as in the Logs view), "
                                            "when no resource id is given above.").strip()
    if not resource_id and host:
        resource_id = resolve_host(v, host) or ""
        if not resource_id:
            return
    if not resource_id:
        st.info("Enter a resource id in **Open a resource** above or a host name here, or select a row in **Search**.",
                icon=":material/info:")
        return
    grant = ctx.grants.grant_for("daivi_inventory", "resources")
    readable = grant is not None and "configuration" not in grant.excluded_columns
    detail = page.derived(m.resource_detail_of, page.run(q.resource_detail(snapshot, resource_id, readable)))
    # Where it was seen reads one column of each snapshot; its attributes over time are read only when shown.
    seen = page.derived(m.seen_of, page.run(q.resource_seen(resource_id, snapshots.first, snapshots.last)))
    if detail is None:
        if seen is None:
            st.warning(f"No resource with id **{literal(resource_id)}** in any snapshot your role can see "
                       f"({snapshots.first} to {snapshots.last}). Check the id.", icon=":material/search_off:")
        else:
            st.warning(f"**{literal(resource_id)}** is not in the {snapshot} snapshot. It was seen from {seen.first} to {seen.last}: "
                       "pick one of those dates as the snapshot.", icon=":material/event_busy:")
        return
    seen = seen or m.Seen(snapshot, snapshot, 1)
    st.subheader(literal(detail.title))
    st.caption(f"{literal(detail.resource_type)} · account {literal(detail.account_id)} · {literal(detail.region)} · "
               f"state **{literal(detail.state)}** · first seen {seen.first}, last seen {seen.last} "
               f"(within {snapshots.first} – {snapshots.last})")
    draw_attributes(v, detail)
    draw_resource_cost(v, resource_id)
    draw_host_logs(v, detail.name)
    history = st.expander(f"How it changed over its {seen.snapshots:,} snapshots", key=HISTORY_OPEN_KEY, on_change="rerun")
    if history.open:  # runs its query only when opened
        with history:
            timeline = page.run(q.resource_history(resource_id, seen.first, seen.last))
            page.table(page.derived(m.history_timeline, timeline), key="detail_history")


def draw_attributes(v: InventoryPage, detail: m.ResourceDetail) -> None:
    left, right = st.columns(2)
    left.markdown("**Attributes**")
    with left:
        v.page.table(detail.attributes, key="detail_attrs", height=35 * (len(detail.attributes) + 1) + 3)
    right.markdown("**Tags**")
    if len(detail.tags):
        with right:
            v.page.table(detail.tags, key="detail_tags")
    else:
        right.write("No tags.")
    right.markdown("**Configuration**")
    if not detail.configuration_readable:
        right.info(f"The configuration is not available for your role (`{v.ctx.principal.role}`).", icon=":material/lock:")
    elif detail.configuration is None:
        right.write("No configuration recorded.")
    elif isinstance(detail.configuration, str):
        right.code(detail.configuration, language="json")
    else:
        right.json(detail.configuration, expanded=False)


def section(v: InventoryPage, title: str, lakehouse: str, what: str) -> bool:
    """The heading of a part of the detail; False, said under it, when the role may not read the lakehouse it needs."""
    st.markdown(f"**{title}**")
    if v.ctx.can_read(lakehouse):
        return True
    st.caption(f"{what} not shown: your role may not read the {lakehouse.upper() if lakehouse == 'cur' else lakehouse.title()} lakehouse.")
    return False


def draw_resource_cost(v: InventoryPage, resource_id: str) -> None:
    if not section(v, "Cost", "cur", "Cost is"):
        return
    daily = v.page.run(q.resource_daily_cost(resource_id, v.snapshot))
    if daily.empty:
        st.write(f"No CUR line items for this resource id in the 30 days ending {v.snapshot}.")
        return
    totals = v.page.derived(m.cost_by_currency, daily, "cost")
    if len(totals) > 1:
        st.caption(f"Billed in {len(totals)} currencies: each shown apart, never added.")
    for currency, total in totals.items():  # one figure per currency, the largest first
        st.metric(f"CUR unblended cost, 30 days to {v.snapshot}" + (f" ({shown_code(currency)})" if len(totals) > 1 else ""),
                  fmt.money(total, currency))
        st.plotly_chart(v.page.figure(fig.build_daily_cost_figure, v.page.derived(m.daily_cost_in, daily, currency), currency),
                        key="fig_detail_cost" if currency == next(iter(totals)) else f"fig_detail_cost_{currency}")


def draw_host_logs(v: InventoryPage, name: str | None) -> None:
    if not section(v, "Recent log events of its host", "splunk", "Logs are"):
        return
    if not name:
        st.write("This resource has no name, so no host to look up in the logs.")
        return
    counts = v.page.run(q.host_event_counts(name, v.snapshot))
    if counts.empty:
        st.write(f"No events from host **{literal(name)}** in the {q.EVENTS_WINDOW_DAYS} days ending {v.snapshot}.")
        return
    left, right = st.columns([1, 2])
    left.plotly_chart(v.page.figure(fig.build_severity_figure, counts), key="fig_detail_sev")
    recent = v.page.derived(m.recent_events, counts)
    events = v.page.run(q.host_events(name, recent.first_day, recent.last_day))
    right.caption(f"The latest {len(events):,} events ({recent.first_day} to {recent.last_day}) of the {recent.total:,} "
                  f"this host logged in the {q.EVENTS_WINDOW_DAYS} days ending {v.snapshot}.")
    with right:
        v.page.table(events, key="detail_events", height=260)
    right.markdown(f"[Open these logs in the Logs view]({v.ctx.link('logs', q=f'host={name}', range='24h')})")


# --- History ------------------------------------------------------------------------------------

def draw_history(v: InventoryPage) -> None:
    page, snapshots = v.page, v.snapshots
    c = st.columns([1, 2, 1, 1])
    kind = c[0].radio("Look at", ("Account", "Resource"), key="hist_kind", bind=URL, persist_state=KEEP, horizontal=True)
    if kind == "Account":
        accounts = page.derived(m.search_options, page.run(q.counts_by_dimension(v.snapshot)))["account_id"]
        subject = c[1].selectbox("Account", accounts, key="hist_account", bind=URL, persist_state=KEEP)
    else:
        subject = c[1].text_input("Resource id", key="hist_resource", bind=URL, persist_state=KEEP).strip()
    when = v.date_input(c[2], "On", v.snapshot, "hist_on")
    vs = v.date_input(c[3], "Diff with", snapshots.compare_default(when) or when, "hist_vs")
    if not subject:
        st.info("Pick an account, or enter a resource id.", icon=":material/info:")
        return
    if missing_snapshot(v, when) or missing_snapshot(v, vs):
        return
    if kind == "Account":
        state = page.derived(m.for_display, page.run(q.search_export(when, q.ResourceFilter(accounts=(subject,)),
                                                                     tuple(q.SEARCH_COLUMNS), v.ctx.settings.max_result_rows)))
        st.markdown(f"**Account {literal(subject)} on {when}**: {len(state):,} resources.")
        table_with_csv(page, state, None, "hist_state", f"inventory-{subject}-{when}.csv")
        pair = page.run(q.snapshot_changes(*m.ordered(when, vs), subject)) if vs != when else None
    else:
        pair = draw_resource_history(v, subject, when)
    if pair is None or vs == when:
        return
    changes = page.derived(m.changes_between, pair, *m.ordered(when, vs))
    st.markdown(f"**Diff {changes.before} → {changes.after}**: {changes.created:,} created, {changes.deleted:,} deleted, "
                f"{changes.changed:,} changed.")
    if not changes.diff.empty:
        table_with_csv(page, changes, "diff", "hist_diff", f"inventory-diff-{changes.before}-{changes.after}.csv")


def draw_resource_history(v: InventoryPage, resource_id: str, when: dt.date) -> pd.DataFrame | None:
    """A resource's state on `when` and its timeline; its history (the rows a diff compares), None when never seen."""
    history = v.page.run(q.resource_history(resource_id, v.snapshots.first, v.snapshots.last))
    if history.empty:
        st.warning(f"No resource with id **{literal(resource_id)}** in any snapshot your role can see.", icon=":material/search_off:")
        return None
    state = v.page.derived(m.state_on, history, when)
    if state is None:
        seen = m.as_dates(history["snapshot_date"])
        st.info(f"**{literal(resource_id)}** did not exist on {when} (seen {seen[0]} to {seen[-1]}).", icon=":material/event_busy:")
    else:
        st.markdown(f"**{literal(resource_id)} on {when}**")
        v.page.table(state, key="hist_state")
    st.markdown("**Changes over the snapshots**")
    v.page.table(v.page.derived(m.history_timeline, history), key="hist_timeline")
    return history


DRAW: dict[str, Callable[[InventoryPage], None]] = {
    "Overview": draw_overview, "Search": draw_search, "Tag compliance": draw_compliance, "Waste": draw_waste,
    "Detail": draw_detail, "History": draw_history}
