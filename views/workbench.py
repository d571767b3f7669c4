"""SQL workbench: governed, read-only ad-hoc Athena SQL, the catalog the role may see, examples and history.

The SQL lives in the URL (`?sql=`): a shared link runs its query on open (on Athena only when it prunes
partitions). Every run goes through the guard (`daivi_data.workbench`) and the connection's
`run_open_ended`: governed, cached per principal and audited like every view's query. Embedded, the result
comes first and the editor folds under the query's first line; `&show=chart|table|kpis` keeps only those.
"""

import datetime as dt

import streamlit as st

from daivi_data import catalog_browser
from daivi_data.errors import DaiviError
from daivi_data.models import workbench as model
from daivi_data.saved_queries import DEFAULT_KEY, saved_queries_for
from daivi_data.workbench import MAX_SQL_CHARS, WORKBENCH_ROW_LIMIT, EmptySql, adhoc_query, check_sql, date_only_columns, limit_result
from daivi_ui.components import csv_download, empty_state
from daivi_ui.errors import show_error
from daivi_ui.figures_workbench import CHART_KINDS, build_quick_chart
from daivi_ui.page import open_page
from daivi_ui.state import URL
from daivi_ui.text import literal

CATALOG_TABLE_MAX_PX = 250  # a column list taller than this scrolls
SUMMARY_CHARS = 70  # an embed's one-line summary fits a 900 px iframe
ss = st.session_state

page = open_page("SQL workbench", "Ask what the views don't answer, in Athena SQL, under your role: "
                                  "you see exactly the tables, columns and rows your grants allow.")
ctx = page.ctx
row_limit = min(WORKBENCH_ROW_LIMIT, ctx.settings.max_result_rows)
on_athena = ctx.connection.engine.name == "athena"
as_of = ctx.today - dt.timedelta(days=1)  # the lakehouse's last full day


def load_into_editor(sql: str) -> None:
    """Callback: put SQL into the editor (not run until Run is pressed)."""
    ss["sql"] = sql
    mark_edited()


def mark_edited() -> None:
    ss["wb_edited"] = True  # the editor's text changed in the page (typed or loaded), not through a link


def run_editor() -> None:
    """Callback of Run: the editor's text becomes the query that runs (and stays until the next Run)."""
    ss["wb_active_sql"] = ss.get("sql") or ""


def run_from_history(sql: str) -> None:
    ss["sql"] = ss["wb_active_sql"] = sql


def remember(sql: str, outcome: str) -> None:
    ss["wb_history"] = model.with_history(ss.get("wb_history", []), sql, outcome, dt.datetime.now().strftime("%H:%M:%S"))


def draw_catalog() -> None:
    st.subheader("Catalog")
    st.caption(f"What role `{ctx.principal.role}` may read. Pick a table to start a query on its latest partition.")
    for database in catalog_browser.visible_catalog(ctx.grants):
        st.markdown(f"**{database.title}** · `{database.database}`")
        for table in database.tables:
            with st.expander(table.name, icon=":material/table:"):
                st.caption(table.table.description)
                info = ctx.connection.engine.table_info(table.database, table.name)
                stats = page.try_run(catalog_browser.table_stats_query(table, info)) if info.exists else None
                row_count, newest = (int(stats["row_count"].iloc[0]), stats["newest"].iloc[0]) if stats is not None else (None, None)
                st.caption(catalog_browser.describe_stats(table, info, row_count, newest))
                if table.partition_keys:
                    st.caption(f"Partition key: `{', '.join(table.partition_keys)}`")
                st.dataframe(catalog_browser.columns_frame(table), hide_index=True,
                             height=min(CATALOG_TABLE_MAX_PX, 38 + 35 * len(table.columns)), key=f"wb_columns_{table.full_name}")
                st.button("Query this table", key=f"wb_use_{table.full_name}", icon=":material/edit_note:",
                          on_click=load_into_editor, args=(catalog_browser.starter_sql(table, info.latest_partition),))


def draw_examples() -> None:
    examples = {q.key: q for q in saved_queries_for(ctx.grants, as_of)}
    if not examples:
        return
    keys = list(examples)
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")  # the button keeps its width
    key = row.selectbox("Example queries", keys, index=keys.index(DEFAULT_KEY) if DEFAULT_KEY in keys else 0, width="stretch",
                        format_func=lambda k: f"{examples[k].title} ({', '.join(examples[k].lakehouses)})", key="wb_example")
    # The callback reads the selection at click time, not the one rendered before it changed.
    row.button("Load", key="wb_load_example", on_click=lambda: load_into_editor(examples[ss["wb_example"]].sql),
               icon=":material/lightbulb:", width="content", help="Put the example's SQL into the editor.")
    st.caption(examples[key].question)


def draw_editor() -> str:
    """Examples, the editor and Run; the SQL that runs (the last one Run was pressed on, or a link's)."""
    draw_examples()
    text = st.text_area("SQL (Athena dialect)", key="sql", bind=URL, height=220, max_chars=MAX_SQL_CHARS,
                        placeholder=model.editor_placeholder(as_of), help=model.EDITOR_HELP, on_change=mark_edited) or ""
    edited = ss.pop("wb_edited", False)
    if "wb_active_sql" not in ss or (text != ss.get("wb_seen_text") and not edited):
        ss["wb_active_sql"] = text  # opened from a link (shared, or another view's `./workbench?sql=`): run its query
    ss["wb_seen_text"] = text
    left, right = st.columns([1.7, 4], vertical_alignment="center")
    left.button("Run", type="primary", key="wb_run", icon=":material/play_arrow:", on_click=run_editor, shortcut="Mod+Enter")
    right.caption(model.limits_caption(row_limit, ctx.settings.query_timeout_s))
    if text != ss["wb_active_sql"] and ss["wb_active_sql"]:
        st.caption("The editor changed since the last run: press **Run** to see its results.")
    return ss["wb_active_sql"]


def run_active(active: str):
    """The guarded SQL and its result, or None after saying why not (empty, refused, failed, awaiting a confirmation)."""
    try:
        checked = check_sql(active, ctx.grants, row_limit)
    except EmptySql as e:
        st.info(str(e), icon=":material/edit:")
        return None
    except DaiviError as e:
        ctx.connection.record_refusal(adhoc_query(active), ctx.principal, e)
        show_error(e)
        remember(active, f"refused: {e.title.lower()}")
        return None
    for warning in checked.partition_warnings:
        if on_athena:
            st.warning(warning.message(), icon=":material/savings:")
        elif ctx.shows_everything:
            st.caption(f":material/savings: {warning.message()}")
    if on_athena and checked.partition_warnings and not st.checkbox("Run anyway (full scan)", key=model.confirm_key(checked.sql)):
        return None
    try:
        with st.spinner("Running…"):
            result = ctx.connection.run_open_ended(checked.query(), ctx.principal, checked.max_rows)
    except DaiviError as e:
        show_error(e)
        remember(active, f"failed: {e.title.lower()}")
        return None
    remember(active, model.rows_text(min(result.stats.rows, row_limit)))
    return checked, result


def draw_result(checked, result, chart_options=None) -> None:
    """The result: an embed puts the chart first (options in `chart_options`); the page puts it under the table."""
    df, truncated = limit_result(result.df, checked)
    if ctx.shows_everything:
        st.caption(model.result_caption(result.stats, len(df)))
        if truncated:
            st.warning(model.truncation_warning(checked.row_limit), icon=":material/content_cut:")
    if df.empty:
        empty_state("The query returned no rows.")
        return
    if ctx.shows("kpis") and not ctx.shows_everything:
        for tile, (label, value) in zip(st.columns(len(model.kpi_tiles(df))), model.kpi_tiles(df), strict=True):
            tile.metric(literal(label), model.kpi_text(value))
    if ctx.embed and ctx.shows("chart") and model.chartable(df):
        draw_chart(df, chart_options)
    if ctx.shows("table"):
        dates = {c: st.column_config.DateColumn(format="YYYY-MM-DD") for c in date_only_columns(df)}
        st.dataframe(df, hide_index=True, key="wb_result", column_config=dates)
    if ctx.shows_everything:
        csv_download(df, "workbench-result.csv", key="wb_download",
                     label=f"Download CSV (the first {len(df):,} rows)" if truncated else "Download CSV")
    if not model.chartable(df):
        if ctx.shows_everything:
            st.caption("Quick chart: needs a numeric column and at least two columns.")
    elif not ctx.embed:
        with st.expander("Quick chart", expanded=True, icon=":material/bar_chart:"):
            draw_chart(df, st)


def draw_chart(df, options) -> None:
    """The quick chart, with its x / y / color / kind boxes in `options` (None: the defaults, for `show=chart`)."""
    chosen = model.default_chart(df)
    if options is not None:
        c1, c2, c3, c4 = options.columns(4)
        columns = [str(c) for c in df.columns]
        x = c1.selectbox("x", columns, index=columns.index(chosen.x), key="wb_chart_x")
        ys = model.y_options(df, x)
        y = c2.selectbox("y", ys, index=len(ys) - 1, key="wb_chart_y")
        colors = model.color_options(df, x, y)
        color = c3.selectbox("color", colors, index=colors.index(model.default_color(df, colors)), key="wb_chart_color")
        chosen = model.ChartChoice(x, y, None if color == model.NO_COLOR else color,
                                   c4.selectbox("chart", CHART_KINDS, key="wb_chart_kind"))
    st.plotly_chart(page.figure(build_quick_chart, df, chosen.x, chosen.y, chosen.color, chosen.kind), key="wb_chart",
                    use_container_width=True)


def draw_history() -> None:
    history = ss.get("wb_history", [])
    with st.expander(f"History ({len(history)} of the last {model.HISTORY_SIZE} queries in this session)", icon=":material/history:"):
        if not history:
            st.caption("Queries you run appear here.")
        for i, item in enumerate(history):
            left, right = st.columns([6, 1], vertical_alignment="center")
            left.code(item["sql"], language="sql", wrap_lines=True, height="content" if item["sql"].count("\n") < 8 else 200)
            right.caption(f"{item['at']} · {item['outcome']}")
            right.button("Run again", key=f"wb_history_{i}", on_click=run_from_history, args=(item["sql"],))


if ctx.embed:  # the result first; the editor and the chart's options fold under the query's first line
    layout = page.layout(lambda: literal(model.embed_summary(ss.get("sql") or st.query_params.get("sql") or ""), SUMMARY_CHARS))
    with layout.controls:
        active = draw_editor()
        chart_options = st.container() if ctx.shows_everything else None
    with layout.chart_area:
        ran = run_active(active)
        if ran:
            draw_result(*ran, chart_options)
else:
    catalog_column, editor_column = st.columns([1, 2.4], gap="large")
    with catalog_column:
        draw_catalog()
    with editor_column:
        ran = run_active(draw_editor())
        if ran:
            draw_result(*ran)
            with st.expander("SQL as run", icon=":material/code:"):
                st.code(ran[0].sql, language="sql")
        draw_history()
