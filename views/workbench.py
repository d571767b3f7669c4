"""SQL workbench: governed, read-only ad-hoc Athena SQL, the catalog the role may see, examples and history.

The SQL lives in the URL (`?sql=`), so a query can be shared or embedded; a
shared link runs its query on open (on Athena only when it prunes partitions).
Every run goes through the guard (`daivi_data.workbench`) and then the
connection's `run_open_ended`, so it is governed, cached per principal and
audited like every view's query; on Athena a PyAthena cursor reads only the
first rows and cancels the query at the time limit.
"""

import datetime as dt
import hashlib

import streamlit as st

from daivi_data import catalog_browser
from daivi_data.engines.base import format_bytes
from daivi_data.errors import DaiviError
from daivi_data.saved_queries import DEFAULT_KEY, saved_queries_for
from daivi_data.workbench import MAX_SQL_CHARS, WORKBENCH_ROW_LIMIT, EmptySql, adhoc_query, check_sql, date_only_columns, limit_result
from daivi_ui.components import csv_download, empty_state
from daivi_ui.context import app_context
from daivi_ui.errors import show_error
from daivi_ui.figures_workbench import CHART_KINDS, build_quick_chart, numeric_columns
from daivi_ui.state import URL

HISTORY_SIZE = 10
CATALOG_TABLE_MAX_PX = 250  # a column list taller than this scrolls
MAX_COLOR_GROUPS = 30  # more groups than this make an unreadable legend
ss = st.session_state

ctx = app_context()
row_limit = min(WORKBENCH_ROW_LIMIT, ctx.settings.max_result_rows)
on_athena = ctx.connection.engine.name == "athena"
as_of = ctx.today - dt.timedelta(days=1)  # the lakehouse's last full day


def load_into_editor(sql: str) -> None:
    """Callback: put SQL into the editor (not run until Run is pressed)."""
    ss["sql"] = sql
    mark_edited()


def mark_edited() -> None:
    """Callback: the editor's text changed in the page (typed or loaded), not through a link."""
    ss["wb_edited"] = True


def run_editor() -> None:
    """Callback of Run: the editor's text becomes the query that runs (and stays until the next Run)."""
    ss["wb_active_sql"] = ss.get("sql") or ""


def run_from_history(sql: str) -> None:
    ss["sql"] = sql
    ss["wb_active_sql"] = sql


def rows_text(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def remember(sql: str, outcome: str) -> None:
    """Per-session history, newest first, one entry per distinct query."""
    history = ss.get("wb_history", [])
    if history and history[0]["sql"] == sql and history[0]["outcome"] == outcome:
        return  # a rerun (e.g. a chart option changed), not a new run
    history = [h for h in history if h["sql"] != sql]
    history.insert(0, {"sql": sql, "outcome": outcome, "at": dt.datetime.now().strftime("%H:%M:%S")})
    ss["wb_history"] = history[:HISTORY_SIZE]


def draw_catalog() -> None:
    st.subheader("Catalog")
    st.caption(f"What role `{ctx.principal.role}` may read. Pick a table to start a query on its latest partition.")
    for database in catalog_browser.visible_catalog(ctx.grants):
        st.markdown(f"**{database.title}** · `{database.database}`")
        for table in database.tables:
            with st.expander(table.name, icon=":material/table:"):
                st.caption(table.table.description)
                info = ctx.connection.engine.table_info(table.database, table.name)
                row_count, newest = None, None
                if info.exists:
                    try:
                        stats = ctx.run(catalog_browser.table_stats_query(table, info)).df
                        row_count, newest = int(stats["row_count"].iloc[0]), stats["newest"].iloc[0]
                    except DaiviError as e:
                        show_error(e)
                st.caption(catalog_browser.describe_stats(table, info, row_count, newest))
                if table.partition_keys:
                    st.caption(f"Partition key: `{', '.join(table.partition_keys)}`")
                st.dataframe(catalog_browser.columns_frame(table), hide_index=True,
                             height=min(CATALOG_TABLE_MAX_PX, 38 + 35 * len(table.columns)),
                             key=f"wb_columns_{table.full_name}")
                st.button("Query this table", key=f"wb_use_{table.full_name}", icon=":material/edit_note:",
                          on_click=load_into_editor, args=(catalog_browser.starter_sql(table, info.latest_partition),))


def draw_examples() -> None:
    examples = {q.key: q for q in saved_queries_for(ctx.grants, as_of)}
    if not examples:
        return
    keys = list(examples)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    key = left.selectbox("Example queries", keys, index=keys.index(DEFAULT_KEY) if DEFAULT_KEY in keys else 0,
                         format_func=lambda k: f"{examples[k].title} ({', '.join(examples[k].lakehouses)})",
                         key="wb_example")
    # The callback reads the selection at click time, not the one rendered before it changed.
    right.button("Load example", key="wb_load_example", on_click=lambda: load_into_editor(examples[ss["wb_example"]].sql),
                 icon=":material/lightbulb:", use_container_width=True)
    st.caption(examples[key].question)


def draw_result(checked, result) -> None:
    df, truncated = limit_result(result.df, checked)
    stats = result.stats
    if stats.bytes_scanned is not None:
        cost = f", ${stats.cost_usd:.4f}" if stats.cost_usd is not None else ""
        st.caption(f"Scanned **{format_bytes(stats.bytes_scanned)}**{cost} · {rows_text(len(df))} in {stats.elapsed_s:.2f} s"
                   + (" · from cache" if stats.cached else ""))
    else:
        st.caption(f"**{rows_text(len(df))}** in {stats.elapsed_s:.2f} s on the embedded engine"
                   + (" · from cache" if stats.cached else ""))
    if truncated:
        st.warning(f"The result has more than {checked.row_limit:,} rows: showing the first {checked.row_limit:,}. "
                   "Aggregate, filter or add a LIMIT to see what matters.", icon=":material/content_cut:")
    if df.empty:
        empty_state("The query returned no rows.")
        return
    dates = {c: st.column_config.DateColumn(format="YYYY-MM-DD") for c in date_only_columns(df)}
    st.dataframe(df, hide_index=True, key="wb_result", column_config=dates)
    csv_download(df, "workbench-result.csv", key="wb_download",
                 label=f"Download CSV (the first {len(df):,} rows)" if truncated else "Download CSV")
    draw_chart(df)


def draw_chart(df) -> None:
    numbers = numeric_columns(df)
    if not numbers or len(df.columns) < 2:
        st.caption("Quick chart: needs a numeric column and at least two columns.")
        return
    columns = list(df.columns)
    with st.expander("Quick chart", expanded=True, icon=":material/bar_chart:"):
        c1, c2, c3, c4 = st.columns(4)
        x_default = next((c for c in columns if c not in numbers), columns[0])
        x = c1.selectbox("x", columns, index=columns.index(x_default), key="wb_chart_x")
        y_options = [c for c in numbers if c != x] or numbers
        y = c2.selectbox("y", y_options, index=len(y_options) - 1, key="wb_chart_y")
        color_options = ["(none)"] + [c for c in columns if c not in (x, y)]
        # A second text column with few values (team, service, ...) makes a useful default grouping.
        groups = [c for c in color_options[1:] if c not in numbers and df[c].nunique() <= MAX_COLOR_GROUPS]
        color = c3.selectbox("color", color_options, index=color_options.index(groups[0]) if groups else 0,
                             key="wb_chart_color")
        kind = c4.selectbox("chart", CHART_KINDS, key="wb_chart_kind")
        st.plotly_chart(build_quick_chart(df, x, y, None if color == "(none)" else color, kind),
                        key="wb_chart", use_container_width=True)


def draw_history() -> None:
    history = ss.get("wb_history", [])
    with st.expander(f"History ({len(history)} of the last {HISTORY_SIZE} queries in this session)", icon=":material/history:"):
        if not history:
            st.caption("Queries you run appear here.")
        for i, item in enumerate(history):
            left, right = st.columns([6, 1], vertical_alignment="center")
            left.code(item["sql"], language="sql", wrap_lines=True, height="content" if item["sql"].count("\n") < 8 else 200)
            right.caption(f"{item['at']} · {item['outcome']}")
            right.button("Run again", key=f"wb_history_{i}", on_click=run_from_history, args=(item["sql"],))


def draw_editor() -> None:
    draw_examples()
    text = st.text_area(
        "SQL (Athena dialect)", key="sql", bind=URL, height=220, max_chars=MAX_SQL_CHARS,
        placeholder="SELECT service_code, SUM(unblended_cost) AS cost\nFROM daivi_billing.cost_daily\n"
                    f"WHERE billing_period = '{as_of:%Y-%m}'\nGROUP BY 1 ORDER BY 2 DESC",
        help="One read-only SELECT / WITH query, run under your role's grants. Tables are "
             "`database.table` (see the catalog). The query is kept in the URL so you can share it.",
        on_change=mark_edited,
    )
    text = text or ""
    edited = ss.pop("wb_edited", False)
    if "wb_active_sql" not in ss or (text != ss.get("wb_seen_text") and not edited):
        # Opened from a link (shared, or another view's `./workbench?sql=`): run the query it carries.
        ss["wb_active_sql"] = text
    ss["wb_seen_text"] = text
    left, right = st.columns([1.7, 4], vertical_alignment="center")
    left.button("Run", type="primary", key="wb_run", icon=":material/play_arrow:", on_click=run_editor, shortcut="Mod+Enter")
    right.caption(f"Read-only · at most **{row_limit:,} rows** are shown (a LIMIT is added when the query has none) · "
                  f"runs stop after {ctx.settings.query_timeout_s:.0f} s.")
    active = ss["wb_active_sql"]
    if text != active and active:
        st.caption("The editor changed since the last run: press **Run** to see its results.")

    try:
        checked = check_sql(active, ctx.grants, row_limit)
    except EmptySql as e:
        st.info(str(e), icon=":material/edit:")
        return
    except DaiviError as e:
        ctx.connection.record_refusal(adhoc_query(active), ctx.principal, e)
        show_error(e)
        remember(active, f"refused: {e.title.lower()}")
        return
    for warning in checked.partition_warnings:
        if on_athena:
            st.warning(warning.message(), icon=":material/savings:")
        else:
            st.caption(f":material/savings: {warning.message()}")
    # One confirmation per query text: agreeing to one full scan is not agreeing to the next.
    confirm_key = "wb_confirm_scan_" + hashlib.sha256(checked.sql.encode()).hexdigest()[:12]
    if on_athena and checked.partition_warnings and not st.checkbox("Run anyway (full scan)", key=confirm_key):
        return
    try:
        with st.spinner("Running…"):
            result = ctx.connection.run_open_ended(checked.query(), ctx.principal, checked.max_rows)
    except DaiviError as e:
        show_error(e)
        remember(active, f"failed: {e.title.lower()}")
        return
    remember(active, rows_text(min(result.stats.rows, row_limit)))
    draw_result(checked, result)
    with st.expander("SQL as run", icon=":material/code:"):
        st.code(checked.sql, language="sql")


if not ctx.embed:
    st.title("SQL workbench")
    st.write(
        f"Ask what the views don't answer, in Athena SQL, under your role (`{ctx.principal.role}`): "
        "you see exactly the tables, columns and rows your grants allow."
    )
    catalog_column, editor_column = st.columns([1, 2.4], gap="large")
    with catalog_column:
        draw_catalog()
    with editor_column:
        draw_editor()
        draw_history()
else:
    draw_editor()
