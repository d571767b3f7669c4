"""Inventory: every AWS resource of a snapshot, its tags, its waste, its cost and its hosts' logs.

Tabs (bound to `?tab=`): Overview, Search, Tag compliance, Waste, Detail,
History. Only the open tab's queries run. `?resource=<id>` or `?host=<name>`
opens a resource's detail (links from the CUR and Logs views).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from daivi_data import inventory_analysis as ia
from daivi_data.data_span import empty_result_message
from daivi_data.errors import DaiviError, InvalidRequest
from daivi_data.queries import inventory as q
from daivi_ui import figures_inventory as fig
from daivi_ui.components import csv_download, draw_open_tabs, empty_state, format_money, show_query_stats
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.state import URL, check_url_param, url_values
from daivi_ui.text import literal

TABS = ("Overview", "Search", "Tag compliance", "Waste", "Detail", "History")
PAGE_SIZES = (25, 50, 100, 200)
COMPARE_DAYS_BACK = 7
TREND_DAYS = 90
RESOURCE_KEY, HOST_KEY, TAB_KEY = "resource", "host", "tab"
# Only the open tab runs, so its widgets vanish while another tab is open: keep their values for the
# page, so coming back restores them (and puts them back in the URL).
KEEP = "page"
ANALYSIS_TTL_S = 600
# Long lists (violators, gp2 volumes, a big diff) show their first rows; their CSV button has them all.
MAX_TABLE_ROWS = 1_000
ANALYSIS_MAX_ENTRIES = 64

ctx = app_context()
results = []


def run(query):
    """Run a query as the signed-in principal and keep its stats for the caption under the view."""
    result = ctx.run(query)
    results.append(result)
    return result.df


@st.cache_data(ttl=ANALYSIS_TTL_S, max_entries=ANALYSIS_MAX_ENTRIES, show_spinner=False)
def _cached_analysis(principal_key: str, data_version: str, name: str, key: tuple, _compute):
    # Keyed like the query cache: principal and data version first, so no user ever sees another's result.
    return _compute()


def analysed(name: str, key: tuple, compute):
    """The pandas work on query results, cached per principal: a rerun of the page redoes none of it."""
    return _cached_analysis(ctx.principal.cache_key, ctx.connection.engine.data_version(), name, key, compute)


def head_for_screen(df: pd.DataFrame) -> pd.DataFrame:
    """The first MAX_TABLE_ROWS rows, with a caption when there are more (sending 20k rows to a browser is slow)."""
    if len(df) <= MAX_TABLE_ROWS:
        return df
    st.caption(f"Showing the first {MAX_TABLE_ROWS:,} of {len(df):,} rows; the CSV has them all.")
    return df.head(MAX_TABLE_ROWS)


def as_dates(values) -> list[dt.date]:
    return [d.date() if isinstance(d, (pd.Timestamp, dt.datetime)) else d for d in pd.to_datetime(pd.Series(values)).dt.date]


def configuration_readable() -> bool:
    grant = ctx.grants.grant_for("daivi_inventory", "resources")
    return grant is not None and "configuration" not in grant.excluded_columns


def no_resources_message() -> str:
    """Whether nobody has resources on the snapshot day or the role's row filter hides them."""
    grant = ctx.grants.grant_for("daivi_inventory", "resources")
    return empty_result_message(f"No resource on {snapshot}", data_ends=info.latest_partition, asked_from=f"{snapshot}",
                                role=ctx.principal.role, row_filtered=grant is None or bool(grant.row_filter))


def persona_suffix() -> dict[str, str]:
    """Carry the demo persona into links to other views (demo sign-in lives in the URL)."""
    persona = st.session_state.get("persona")
    return {"persona": persona} if ctx.principal.source == "demo" and persona else {}


if not ctx.embed:
    st.title("Inventory")
    st.caption("Every AWS resource of the organization from the daily inventory snapshots: what runs where, "
               "its tags, its waste, its cost from the CUR and its hosts' recent logs.")

info = ctx.connection.engine.table_info("daivi_inventory", "resources")
if not info.exists or not info.latest_partition:
    empty_state("The inventory lakehouse has no snapshot yet. Build the demo (`make demo`) or import an inventory export.")
    st.stop()
latest = dt.date.fromisoformat(info.latest_partition)

try:
    dates_df = run(q.snapshot_dates(latest - dt.timedelta(days=q.MAX_HISTORY_DAYS), latest))
except DaiviError as e:
    show_error(e)
    st.stop()
available = as_dates(dates_df["snapshot_date"])
counts_by_date = dict(zip(available, dates_df["resources"], strict=True))
if not available:
    empty_state("Your role sees no resource in any inventory snapshot.")
    st.stop()

# The date pickers' range: AWS's first day to a year ahead. A date outside it would be dropped by the
# widget silently; inside it, a day without a snapshot gets a clear message below.
MIN_DATE, MAX_DATE = dt.date(2006, 1, 1), ctx.today + dt.timedelta(days=366)


def valid_url_date(value: str) -> bool:
    day = ia.parse_iso_date(value)
    return day is not None and MIN_DATE <= day <= MAX_DATE


check_url_param("snapshot", valid_url_date, "snapshot date")
check_url_param("since", valid_url_date, "compare date")


def show_detail_tab() -> None:
    """Typing a resource id opens its detail."""
    if st.session_state.get(RESOURCE_KEY, "").strip():
        st.session_state[TAB_KEY] = "Detail"


controls = st.columns([1, 1, 2])
snapshot = controls[0].date_input("Snapshot", value=available[-1], key="snapshot", bind=URL, format="YYYY-MM-DD",
                                  min_value=MIN_DATE, max_value=MAX_DATE,
                                  help="Day of the inventory snapshot everything below shows.")
compare_default = ia.default_compare_date(available, snapshot, COMPARE_DAYS_BACK) or available[0]
since = controls[1].date_input("Compare with", value=compare_default, key="since", bind=URL, format="YYYY-MM-DD",
                               min_value=MIN_DATE, max_value=MAX_DATE,
                               help="An earlier snapshot: the overview counts what was created, deleted or changed since.")
# Drawn on every run (not inside the Detail tab), so that a row picked in Search can set it and the
# URL follows: a bound widget's programmatic value reaches the URL only if it was drawn the run before.
controls[2].text_input("Open a resource", key=RESOURCE_KEY, bind=URL, placeholder="resource id, e.g. i-0123456789abcdef0",
                       on_change=show_detail_tab, help="Opens the resource's detail: attributes, tags, cost, logs.")
st.caption(f"{len(available)} snapshots from **{available[0]}** to **{available[-1]}**.")

if snapshot not in counts_by_date:
    before, after = ia.nearest_snapshots(available, snapshot)
    nearest = " or ".join(str(d) for d in (before, after) if d)
    st.warning(f"No inventory snapshot on **{snapshot}**." + (f" The nearest: **{nearest}**." if nearest else "")
               + f" Snapshots exist from {available[0]} to {available[-1]}.", icon=":material/event_busy:")
    st.stop()

# A link with ?resource= or ?host= (and no ?tab=) opens on the detail, once per linked resource: after
# that the user's own tab choice stands.
linked = (url_values(RESOURCE_KEY) or url_values(HOST_KEY) or [""])[0]
if linked and not url_values(TAB_KEY) and st.session_state.get("_inventory_linked") != linked:
    st.session_state[TAB_KEY] = "Detail"
st.session_state["_inventory_linked"] = linked or st.session_state.get("_inventory_linked")
tabs = st.tabs(list(TABS), key=TAB_KEY, bind=URL, default="Overview")
tab = dict(zip(TABS, tabs, strict=True))


def account_names() -> dict[str, str]:
    """Account names from the billing lakehouse, where the role may read it (labels only: {} otherwise)."""
    if not ctx.can_read("billing"):
        return {}
    try:
        names = run(q.account_names())
    except DaiviError:  # a role may read billing but not its accounts table: ids alone are fine
        return {}
    return dict(zip(names["account_id"].astype(str), names["account_name"].astype(str), strict=True))


def diff_of(pair: pd.DataFrame, before: dt.date, after: dt.date) -> pd.DataFrame:
    dates = pd.to_datetime(pair["snapshot_date"]).dt.date
    return ia.diff_snapshots(pair[dates == before], pair[dates == after])


def compliance_of(values: pd.DataFrame, required: dict, tag_columns: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    evaluated = ia.evaluate_tag_compliance(values, required, tag_columns)
    return evaluated, ia.compliance_by(evaluated, "account_id"), ia.compliance_by(evaluated, "resource_type")


def waste_of(candidates: pd.DataFrame, costs: pd.DataFrame | None, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    findings = ia.classify_waste(candidates, snapshot, costs, days)
    return findings, ia.waste_summary(findings)


# --- Overview -----------------------------------------------------------------------------------

def draw_overview() -> None:
    counts = run(q.counts_by_dimension(snapshot))
    if counts.empty:
        empty_state(no_resources_message())
        return
    k = st.columns(5)
    k[0].metric("Resources", f"{int(counts['resources'].sum()):,}")
    k[1].metric("Resource types", f"{counts['resource_type'].nunique():,}")
    k[2].metric("Accounts", f"{counts['account_id'].nunique():,}")
    k[3].metric("Regions", f"{counts['region'].nunique():,}")
    if since in counts_by_date and since != snapshot:
        before, after = (since, snapshot) if since < snapshot else (snapshot, since)
        pair = run(q.snapshot_changes(before, after))
        diff = analysed("diff", (before, after), lambda: diff_of(pair, before, after))
        changes = ia.count_changes(diff)
        k[4].metric(f"Since {before:%b %d}", f"+{changes['created']:,} / −{changes['deleted']:,}",
                    f"{changes['changed']:,} changed", delta_color="off", delta_arrow="off")
    else:
        diff = None
        k[4].metric("Change", "–", "pick an earlier snapshot to compare", delta_color="off", delta_arrow="off")
        if since not in counts_by_date:
            st.info(f"No snapshot on {since} to compare with; pick one between {available[0]} and {available[-1]}.",
                    icon=":material/event_busy:")

    trend = run(q.trend_by_type(max(available[0], snapshot - dt.timedelta(days=TREND_DAYS)), snapshot))
    names = account_names()
    figures = analysed("overview_figures", (snapshot, available[0], tuple(sorted(names.items()))), lambda: {
        "type": fig.build_count_bar_figure(counts, "resource_type", "Resources by type"),
        "account": fig.build_count_bar_figure(fig.label_accounts(counts, names), "account_id", "Resources by account"),
        "region": fig.build_count_bar_figure(counts, "region", "Resources by region"),
        "map": fig.build_region_map_figure(counts),
        "trend": fig.build_trend_figure(trend),
    })
    left, right = st.columns(2)
    left.plotly_chart(figures["type"], key="fig_type")
    right.plotly_chart(figures["account"], key="fig_account")
    left, right = st.columns(2)
    left.plotly_chart(figures["region"], key="fig_region")
    right.plotly_chart(figures["map"], key="fig_map", config=fig.MAP_PLOTLY_CONFIG)
    _, unplaced = fig.region_points(counts)
    if unplaced:
        right.caption(f"Not on the map: {literal(', '.join(unplaced))} (no fixed location).")
    st.plotly_chart(figures["trend"], key="fig_trend")

    if diff is not None:
        with st.expander(f"What changed between {before} and {after} ({len(diff):,} resources)", expanded=False):
            if diff.empty:
                st.write("Nothing: the two snapshots hold the same resources with the same attributes.")
            else:
                st.dataframe(head_for_screen(diff), hide_index=True, key="overview_diff")
                csv_download(diff, f"inventory-changes-{before}-{after}.csv", key="dl_overview_diff")


# --- Search -------------------------------------------------------------------------------------

def open_selected_resource(table_key: str) -> None:
    """Row selection in a table (search, waste) opens that resource's detail tab."""
    selection = st.session_state.get(table_key)
    ids = st.session_state.get(f"_ids_{table_key}", [])
    rows = selection.selection.rows if selection is not None else []
    if rows and rows[0] < len(ids):
        st.session_state[RESOURCE_KEY] = ids[rows[0]]
        st.session_state[HOST_KEY] = ""
        st.session_state[TAB_KEY] = "Detail"


def filter_widgets(counts: pd.DataFrame) -> q.ResourceFilter:
    c = st.columns([2, 2])
    text = c[0].text_input("Id, name or ARN contains", key="q", bind=URL, persist_state=KEEP, placeholder="i-0abc, web-01, :volume/…",
                           help="Matched literally, case-insensitively: % _ * . ' and other symbols are plain characters.")
    tags_text = c[1].text_input("Tags", key="tags", bind=URL, persist_state=KEEP, placeholder="team=payments, !cost-center, owner",
                                help="Comma-separated: key=value (case-insensitive value), key!=value, key (has the tag), "
                                     "!key (lacks the tag). Keys are case-sensitive, as in AWS.")
    c = st.columns(4)
    options = {col: sorted(counts[col].dropna().astype(str).unique()) for col in ("resource_type", "account_id", "region", "state")}
    # global resources have an empty region: offer it by name (a label, not a format_func, so the URL stays readable)
    options["region"] = [r or fig.GLOBAL_REGION_LABEL for r in options["region"]]
    types = c[0].multiselect("Type", options["resource_type"], key="type", bind=URL, persist_state=KEEP)
    accounts = c[1].multiselect("Account", options["account_id"], key="account", bind=URL, persist_state=KEEP)
    regions = c[2].multiselect("Region", options["region"], key="region", bind=URL, persist_state=KEEP)
    states = c[3].multiselect("State", options["state"], key="state", bind=URL, persist_state=KEEP)
    return q.ResourceFilter(text=ia.normalize_search_text(text), tags=ia.parse_tag_search(tags_text),
                            resource_types=tuple(types), accounts=tuple(accounts),
                            regions=tuple("" if r == fig.GLOBAL_REGION_LABEL else r for r in regions), states=tuple(states))


def for_display(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    if "tags" in out.columns:
        out["tags"] = out["tags"].map(ia.format_tags)
    return out


def draw_search() -> None:
    counts = run(q.counts_by_dimension(snapshot))
    try:
        flt = filter_widgets(counts)
    except InvalidRequest as e:
        show_error(e)
        return
    c = st.columns([4, 1])
    columns = c[0].multiselect("Columns", list(q.SEARCH_COLUMNS), default=list(q.DEFAULT_SEARCH_COLUMNS), key="cols", bind=URL, persist_state=KEEP)
    page_size = c[1].selectbox("Rows per page", PAGE_SIZES, key="size", bind=URL, persist_state=KEEP)
    if not columns:
        st.info("Pick at least one column to show.", icon=":material/view_column:")
        return
    total = int(run(q.search_count(snapshot, flt))["total"][0])
    if total == 0:
        empty_state(f"No resource on {snapshot} matches this search. Loosen a filter, or check the tag syntax "
                    "(key=value, key, !key).")
        return
    pages = max(1, -(-total // page_size))
    top = st.columns([3, 2])
    top[0].markdown(f"**{total:,}** resources match on {snapshot}.")
    page = st.pagination(pages, key="page", bind=URL, persist_state=KEEP) if pages > 1 else 1
    page = min(page, pages)
    df = run(q.search_page(snapshot, flt, tuple(columns), page, page_size))
    st.session_state["_ids_search_table"] = list(df["resource_id"])
    shown = for_display(df if "resource_id" in columns else df.drop(columns="resource_id"))
    st.caption(f"Rows {(page - 1) * page_size + 1:,}–{(page - 1) * page_size + len(df):,} of {total:,}. "
               "Select a row to open its detail.")
    st.dataframe(shown, hide_index=True, key="search_table", on_select=partial(open_selected_resource, "search_table"),
                 selection_mode="single-row")

    max_rows = ctx.settings.max_result_rows
    query = q.search_export(snapshot, flt, tuple(columns), max_rows)

    def export() -> pd.DataFrame:
        # Runs when the button is clicked: the whole result, not the page on screen.
        return for_display(ctx.run(query).df.head(max_rows))

    with top[1]:
        csv_download(export, f"inventory-{snapshot}.csv", f"Download all {min(total, max_rows):,} rows (CSV)", key="dl_search")
    if total > max_rows:
        top[1].caption(f"The export stops at {max_rows:,} rows (setting `daivi.max_result_rows`).")


# --- Tag compliance -----------------------------------------------------------------------------

def draw_compliance() -> None:
    required = dict(ctx.settings.required_tags)
    if not required:
        st.info("No required tags are configured. Set `daivi.required_tags` (tag key = [allowed values]) in secrets.toml.")
        return
    st.markdown(f"Required tags: {ia.describe_required_tags(required)}. A resource complies when it has every required "
                "tag with a non-empty value from the allowed list (where one is given).")
    query, tag_columns = q.required_tag_values(snapshot, tuple(required))
    values = run(query)
    evaluated, by_account, by_type = analysed("compliance", (snapshot, tuple(required.items())), lambda: compliance_of(values, required, tag_columns))
    if evaluated.empty:
        empty_state(no_resources_message())
        return
    violators = evaluated[~evaluated["compliant"]]
    k = st.columns(3)
    k[0].metric("Compliant", f"{ia.compliance_pct(evaluated):.1f}%")
    k[1].metric("Resources checked", f"{len(evaluated):,}")
    k[2].metric("Violations", f"{len(violators):,}")
    left, right = st.columns(2)
    left.plotly_chart(fig.build_compliance_figure(fig.label_accounts(by_account, account_names()), "account_id",
                                                  "Compliance by account (worst first)"), key="fig_cmp_acct")
    right.plotly_chart(fig.build_compliance_figure(by_type, "resource_type", "Compliance by type (worst first)"), key="fig_cmp_type")
    with st.expander("Compliance tables"):
        left, right = st.columns(2)
        left.dataframe(by_account, hide_index=True, key="cmp_by_account",
                       column_config={"compliance_pct": st.column_config.NumberColumn("compliance %", format="%.1f")})
        right.dataframe(by_type, hide_index=True, key="cmp_by_type",
                        column_config={"compliance_pct": st.column_config.NumberColumn("compliance %", format="%.1f")})
    st.subheader("Violators")
    if violators.empty:
        st.success("Every resource carries the required tags.")
        return
    # what is wrong first: ids can be long ARNs and would push it out of view
    shown = violators[["resource_id", "missing", "invalid", "account_id", "resource_type", "resource_name"]]
    st.dataframe(head_for_screen(shown), hide_index=True, key="violators")
    csv_download(shown, f"tag-violators-{snapshot}.csv", key="dl_violators")


# --- Waste --------------------------------------------------------------------------------------

def draw_waste() -> None:
    days = ia.OLD_SNAPSHOT_DAYS
    candidates = run(q.waste_candidates(snapshot, days))
    with_cost = ctx.can_read("cur")
    costs = run(q.waste_costs(snapshot, days)) if with_cost else None
    findings, summary = analysed("waste", (snapshot, days, with_cost), lambda: waste_of(candidates, costs, days))
    if not with_cost:
        st.info("Your role may not read the CUR lakehouse, so the waste finder shows **no cost estimate**: "
                "the list below is what to look at, not what it costs.", icon=":material/money_off:")
    k = st.columns(3)
    k[0].metric("Findings", f"{len(findings):,}")
    k[1].metric("Resources", f"{findings['resource_id'].nunique():,}" if len(findings) else "0")
    stake = ia.total_at_stake(findings)
    k[2].metric("Total at stake per month", format_money(stake) if stake is not None else "no cost data",
                help="Estimated monthly savings: last 30 days of CUR unblended cost for each resource, counted once "
                     "per resource (gp3 saves 20% of a gp2 volume's cost, a newer generation about 10%).")
    if findings.empty:
        st.success(f"No waste found on {snapshot}.")
        return
    st.plotly_chart(fig.build_waste_figure(summary, with_cost), key="fig_waste")
    st.caption("Select a row to open the resource's detail.")
    money = {"monthly_cost": st.column_config.NumberColumn("cost (30 d)", format="$%.2f"),
             "monthly_savings": st.column_config.NumberColumn("savings / month", format="$%.2f")}
    for row in summary.itertuples():
        part = findings[findings["category"] == row.category]
        if part.empty:
            continue
        title = f"{row.category_label}: {row.resources:,}"
        if with_cost:
            title += f" · {format_money(row.monthly_savings)} / month"
        with st.expander(title):
            shown = part.drop(columns=["category", "category_label", "savings_fraction"])
            if not with_cost:
                shown = shown.drop(columns=["monthly_cost", "monthly_savings"])
            table_key = f"waste_{row.category}"
            shown = head_for_screen(shown)
            st.session_state[f"_ids_{table_key}"] = list(shown["resource_id"])
            st.dataframe(shown, hide_index=True, key=table_key, column_config=money, on_select=partial(open_selected_resource, table_key),
                         selection_mode="single-row")
    csv_download(findings, f"inventory-waste-{snapshot}.csv", key="dl_waste")


# --- Detail -------------------------------------------------------------------------------------

def resolve_host(host: str) -> str | None:
    """The resource id for a host name: one match opens it, several ask which one, none says so."""
    matches = run(q.resources_by_host(snapshot, host))
    if matches.empty:
        st.warning(f"No resource named **{literal(host)}** on {snapshot}. Check the host name, or pick another snapshot.",
                   icon=":material/search_off:")
        return None
    if len(matches) == 1:
        return str(matches["resource_id"][0])
    labels = {r.resource_id: f"{r.resource_id} · {r.resource_type} · {r.account_id}" for r in matches.itertuples()}
    return st.selectbox(f"{len(matches)} resources are named {literal(host)}", list(labels), format_func=labels.get, key="host_pick")


def draw_detail() -> None:
    resource_id = str(st.session_state.get(RESOURCE_KEY) or "").strip()
    host = st.columns(2)[0].text_input("Host name", key=HOST_KEY, bind=URL, persist_state=KEEP, placeholder="payments-api-prod-01",
                                       help="Opens the resource whose name is this host (as in the Logs view), "
                                            "when no resource id is given above.").strip()
    if not resource_id and host:
        resource_id = resolve_host(host) or ""
        if not resource_id:
            return
    if not resource_id:
        st.info("Enter a resource id in **Open a resource** above or a host name here, or select a row in **Search**.",
                icon=":material/info:")
        return
    detail = run(q.resource_detail(snapshot, resource_id, configuration_readable()))
    history = run(q.resource_history(resource_id, available[0], available[-1]))
    if detail.empty:
        if history.empty:
            st.warning(f"No resource with id **{literal(resource_id)}** in any snapshot your role can see "
                       f"({available[0]} to {available[-1]}). Check the id.", icon=":material/search_off:")
        else:
            seen = as_dates(history["snapshot_date"])
            st.warning(f"**{literal(resource_id)}** is not in the {snapshot} snapshot. It was seen from {seen[0]} to {seen[-1]}: "
                       "pick one of those dates as the snapshot.", icon=":material/event_busy:")
        return
    r = detail.iloc[0]
    seen = as_dates(history["snapshot_date"])
    st.subheader(literal(r['resource_name'] or r['resource_id']))
    st.caption(f"{literal(r['resource_type'])} · account {literal(r['account_id'])} · {literal(r['region'])} · state **{literal(r['state'])}** · "
               f"first seen {seen[0]}, last seen {seen[-1]} (within {available[0]} – {available[-1]})")
    left, right = st.columns(2)
    attrs = r.drop(labels=["tags"] + (["configuration"] if "configuration" in r.index else []))
    attr_frame = pd.DataFrame({"attribute": attrs.index, "value": [("" if ia.is_missing(v) else str(v)) for v in attrs.values]})
    left.markdown("**Attributes**")
    left.dataframe(attr_frame, hide_index=True, key="detail_attrs", height=35 * (len(attr_frame) + 1) + 3)
    tags = ia.as_tag_dict(r["tags"])
    right.markdown("**Tags**")
    if tags:
        right.dataframe(pd.DataFrame({"key": list(tags), "value": list(tags.values())}), hide_index=True, key="detail_tags")
    else:
        right.write("No tags.")
    right.markdown("**Configuration**")
    if "configuration" not in detail.columns:
        right.info(f"The configuration is not available for your role (`{ctx.principal.role}`).", icon=":material/lock:")
    elif ia.is_missing(r["configuration"]) or not str(r["configuration"]).strip():
        right.write("No configuration recorded.")
    else:
        try:
            right.json(json.loads(r["configuration"]), expanded=False)
        except (TypeError, ValueError):
            right.code(str(r["configuration"])[:20_000], language="json")

    st.markdown("**Cost**")
    if ctx.can_read("cur"):
        daily = run(q.resource_daily_cost(resource_id, snapshot))
        if daily.empty:
            st.write(f"No CUR line items for this resource id in the 30 days ending {snapshot}.")
        else:
            st.metric(f"CUR unblended cost, 30 days to {snapshot}", format_money(float(daily["cost"].sum())))
            st.plotly_chart(fig.build_daily_cost_figure(daily), key="fig_detail_cost")
    else:
        st.caption("Cost is not shown: your role may not read the CUR lakehouse.")

    name = r["resource_name"]
    st.markdown("**Recent log events of its host**")
    if not ctx.can_read("splunk"):
        st.caption("Logs are not shown: your role may not read the Splunk lakehouse.")
    elif ia.is_missing(name) or not name:
        st.write("This resource has no name, so no host to look up in the logs.")
    else:
        counts = run(q.host_event_counts(name, snapshot))
        if counts.empty:
            st.write(f"No events from host **{literal(name)}** in the {q.EVENTS_WINDOW_DAYS} days ending {snapshot}.")
        else:
            left, right = st.columns([1, 2])
            left.plotly_chart(fig.build_severity_figure(counts), key="fig_detail_sev")
            last_day = max(as_dates(counts["latest_date"]))
            first_day = last_day - dt.timedelta(days=q.RECENT_EVENT_DAYS - 1)
            events = run(q.host_events(name, first_day, last_day))
            total = int(counts["events"].sum())
            right.caption(f"The latest {len(events):,} events ({first_day} to {last_day}) of the {total:,} this host logged "
                          f"in the {q.EVENTS_WINDOW_DAYS} days ending {snapshot}.")
            right.dataframe(events, hide_index=True, key="detail_events", height=260)
            link = "./logs?" + urlencode({"q": f"host={name}", "range": "24h", **persona_suffix()})
            right.markdown(f"[Open these logs in the Logs view]({link})")
    with st.expander("How it changed over the snapshots"):
        st.dataframe(ia.history_changes(history), hide_index=True, key="detail_history")


# --- History ------------------------------------------------------------------------------------

def draw_history() -> None:
    c = st.columns([1, 2, 1, 1])
    kind = c[0].radio("Look at", ("Account", "Resource"), key="hist_kind", bind=URL, persist_state=KEEP, horizontal=True)
    if kind == "Account":
        accounts = sorted(run(q.counts_by_dimension(snapshot))["account_id"].astype(str).unique())
        subject = c[1].selectbox("Account", accounts, key="hist_account", bind=URL, persist_state=KEEP)
    else:
        subject = c[1].text_input("Resource id", key="hist_resource", bind=URL, persist_state=KEEP).strip()
    when = c[2].date_input("On", value=snapshot, key="hist_on", bind=URL, persist_state=KEEP, format="YYYY-MM-DD", min_value=MIN_DATE, max_value=MAX_DATE)
    vs = c[3].date_input("Diff with", value=ia.default_compare_date(available, when, COMPARE_DAYS_BACK) or when,
                         key="hist_vs", bind=URL, persist_state=KEEP, format="YYYY-MM-DD", min_value=MIN_DATE, max_value=MAX_DATE)
    if not subject:
        st.info("Pick an account, or enter a resource id.", icon=":material/info:")
        return
    for day in (when, vs):
        if day not in counts_by_date:
            before, after = ia.nearest_snapshots(available, day)
            nearest = " or ".join(str(d) for d in (before, after) if d)
            st.warning(f"No inventory snapshot on **{day}**." + (f" The nearest: {nearest}." if nearest else ""),
                       icon=":material/event_busy:")
            return
    if kind == "Account":
        state = run(q.search_export(when, q.ResourceFilter(accounts=(subject,)), tuple(q.SEARCH_COLUMNS), ctx.settings.max_result_rows))
        st.markdown(f"**Account {literal(subject)} on {when}**: {len(state):,} resources.")
        st.dataframe(for_display(head_for_screen(state)), hide_index=True, key="hist_state")
        csv_download(state.pipe(for_display), f"inventory-{subject}-{when}.csv", key="dl_hist_state")
        if vs == when:
            return
        pair = run(q.snapshot_changes(min(when, vs), max(when, vs), subject))
    else:
        history = run(q.resource_history(subject, available[0], available[-1]))
        if history.empty:
            st.warning(f"No resource with id **{literal(subject)}** in any snapshot your role can see.", icon=":material/search_off:")
            return
        dates = pd.to_datetime(history["snapshot_date"]).dt.date
        on_day = history[dates == when]
        if on_day.empty:
            seen = as_dates(history["snapshot_date"])
            st.info(f"**{literal(subject)}** did not exist on {when} (seen {seen[0]} to {seen[-1]}).", icon=":material/event_busy:")
        else:
            row = on_day.iloc[0].drop(labels=["snapshot_date"])
            st.markdown(f"**{literal(subject)} on {when}**")
            st.dataframe(pd.DataFrame({"attribute": row.index, "value": [ia.display_value(v) for v in row.values]}),
                         hide_index=True, key="hist_state")
        st.markdown("**Changes over the snapshots**")
        st.dataframe(ia.history_changes(history), hide_index=True, key="hist_timeline")
        if vs == when:
            return
        pair = history[dates.isin([when, vs])]
    before, after = min(when, vs), max(when, vs)
    diff = diff_of(pair, before, after)
    counts = ia.count_changes(diff)
    st.markdown(f"**Diff {before} → {after}**: {counts['created']:,} created, {counts['deleted']:,} deleted, "
                f"{counts['changed']:,} changed.")
    if not diff.empty:
        st.dataframe(head_for_screen(diff), hide_index=True, key="hist_diff")
        csv_download(diff, f"inventory-diff-{before}-{after}.csv", key="dl_hist_diff")


DRAW = {"Overview": draw_overview, "Search": draw_search, "Tag compliance": draw_compliance, "Waste": draw_waste,
        "Detail": draw_detail, "History": draw_history}
draw_open_tabs(tab, DRAW)

show_query_stats(results)
