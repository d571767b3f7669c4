"""Import data: build the embedded lakehouse from the user's own AWS and Splunk exports.

Upload files, or point at a folder on the server (the way AWS lays exports out
in S3, e.g. a synced `aws s3 sync` copy). The import runs `daivi_data.ingest`:
it detects each format, validates, writes a new lakehouse beside the current
one and swaps it in only when everything succeeded; then every cached result
and engine is dropped so all views read the new data. It replaces the data
every user sees, so only the admin role may use it, and only on the embedded
DuckDB engine (on Athena the data lives in S3 and Glue). Embedded in a wiki, the
page is only what it is there: a read-only summary of the current lakehouse.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from daivi_data.errors import InvalidRequest
from daivi_data.ingest import ImportFailed, ImportOptions, ImportReport, run_import
from daivi_data.ingest.detect import SUPPORTED
from daivi_data.models import import_data as model
from daivi_ui.context import forget_cached_data
from daivi_ui.errors import show_error
from daivi_ui.figures_import import build_table_rows_figure
from daivi_ui.page import open_page
from daivi_ui.state import URL, check_url_param
from daivi_ui.text import literal

IMPORT_CAPABILITY = "import"
MODES = ("Upload files", "Folder on the server")
UPLOAD_TYPES = ["csv", "gz", "parquet", "json", "jsonl", "ndjson"]
LAST_REPORT_KEY = "_import_last_report"
MAIN_TABLES = ("daivi_billing.cost_daily", "daivi_cur.cur", "daivi_inventory.resources", "daivi_splunk.events")
FOCUS_SAMPLE_NAME = "focus_sample.csv"
FOCUS_SAMPLE_ATTRIBUTION = "FOCUS sample data: FinOps Foundation, FOCUS Sample Data (CC BY 4.0)."

page = open_page("Import data", "Build the lakehouse from exports you already have, so every view shows your data instead of the "
                                f"demo. Supported: {SUPPORTED}. Daily billing is derived from the CUR unless a daily billing export is given.")
ctx = page.ctx
if ctx.settings.engine != "duckdb":
    st.info(f"Importing files builds the embedded DuckDB lakehouse. This app runs on the `{ctx.settings.engine}` engine, "
            "whose data lives in S3 and the Glue Data Catalog: load exports there instead.", icon=":material/info:")
    st.stop()
if not ctx.grants.has_capability(IMPORT_CAPABILITY):
    st.warning("Importing replaces the data every user of this app sees, so it is reserved for roles the grants file "
               f"gives the `{IMPORT_CAPABILITY}` capability (the `admin` role in the demo). "
               f"You are signed in with role `{ctx.principal.role}`.", icon=":material/lock:")
    st.stop()

target = ctx.settings.lakehouse_path
manifest = model.read_manifest(target)
if ctx.embed:  # a read-only summary of the current lakehouse: the tables the role may read; never the form
    summary = page.derived(model.lakehouse_summary, manifest, tuple(sorted(f"{db}.{t.name}" for db, t, _ in ctx.grants.readable_tables())))
    layout = page.layout(summary.line)
    with layout.chart_area:
        if ctx.shows("kpis"):
            for tile, (label, value) in zip(st.columns(3), summary.kpis(), strict=True):
                tile.metric(label, value)
        if ctx.shows("chart") and not summary.tables.empty:
            st.plotly_chart(page.figure(build_table_rows_figure, summary.tables), key="import_rows_chart")
        if ctx.shows("table"):
            st.dataframe(summary.tables, hide_index=True, key="import_summary",
                         column_config={"Rows": st.column_config.NumberColumn(format="localized")})
    layout.controls.caption(model.describe_current(manifest, Path(target.name)))  # not the server path
    st.stop()

st.caption(model.describe_current(manifest, target))

check_url_param("mode", MODES, "source")
mode = st.segmented_control("Source", MODES, default=MODES[0], key="mode", bind=URL)
uploads = []
folder_text = ""
if mode == "Folder on the server":
    folder_text = st.text_input(
        "Folder or file path on the server", key="folder", placeholder="/data/exports/cur2",
        help="Searched recursively: point at the export's root (e.g. the folder holding `data/BILLING_PERIOD=...`). "
             "Several paths can be separated by `;`. Use this for large exports: nothing is uploaded.",
    )
else:
    uploads = st.file_uploader(
        "Export files", type=UPLOAD_TYPES, accept_multiple_files=True, key="uploads",
        help="CUR 2.0 / legacy CUR files, FOCUS CSV or Parquet, AWS Config snapshots, a resources CSV, Splunk exports. "
             "For a FOCUS example, the FinOps Foundation's FOCUS Sample Data (CC BY 4.0) imports as is.",
    )

with st.expander("Options"):
    skip_duplicates = st.checkbox(
        "Keep one copy of line items that appear in several files", key="skip_duplicates",
        help="By default the import stops when the same line item is in two files (usually two versions of one "
             "billing period), because counting both would double the cost.")
    max_rejected_pct = st.slider("Stop when more than this share of a table's rows is rejected", 1, 100, 50, key="max_rejected",
                                 format="%d%%")
    merge = st.checkbox(
        "Merge into the current data", key="merge",
        help="Replace only the billing periods, snapshot days and event days these files cover; every other period "
             "and table stays as it is. The same as `python -m daivi_data.ingest ... --merge`.")

if merge:
    st.info(f"The import replaces, in the lakehouse at `{target}`, only the periods and days these files cover; "
            "everything else stays. The current data stays until the import has fully succeeded.", icon=":material/merge:")
else:
    st.warning(f"The import replaces the whole lakehouse at `{target}` for every user. Tables you do not import "
               "(e.g. Splunk events) will be empty afterwards. The current data stays until the import has fully succeeded.",
               icon=":material/warning:")
start = st.button("Import", type="primary", key="start_import", icon=":material/upload_file:")


def sources_from_form(workdir: Path) -> list[Path]:
    """Paths to import: the typed folder(s), or the uploads saved into `workdir`."""
    if mode == "Folder on the server":
        paths = [Path(p.strip()).expanduser() for p in folder_text.split(";") if p.strip()]
        if not paths:
            raise InvalidRequest("Enter the path of a folder or file on the server.")
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InvalidRequest(f"Not found on the server: {', '.join(missing)}.")
        return paths
    if not uploads:
        raise InvalidRequest("Choose one or more export files to upload.")
    for i, f in enumerate(uploads):
        # A folder per upload keeps files with the same name (part-00001 of two exports) apart.
        dest = workdir / f"{i:04d}" / Path(f.name).name
        dest.parent.mkdir(parents=True)
        with dest.open("wb") as out:
            shutil.copyfileobj(f, out)
    return [workdir]


def show_report(report: ImportReport) -> None:
    tables = pd.DataFrame(
        [{"table": name, "rows": t.rows, "partitions": len(t.partitions), "first day": t.first_date or "",
          "last day": t.last_date or "", "derived from": t.derived_from or t.note or ""} for name, t in sorted(report.tables.items())]
    )
    if not tables.empty:
        st.dataframe(tables, hide_index=True, key="import_tables")
        absent = [t for t in MAIN_TABLES if t not in report.tables]
        if report.merged:
            st.caption("Merged: " + "; ".join(f"`{t}` {len(report.replaced_partitions.get(t, []))} partition(s) replaced, "
                                              f"{len(kept)} kept" for t, kept in sorted(report.kept_partitions.items())) + ".")
        elif absent:
            st.caption("Not in this import, so empty now: " + ", ".join(f"`{t}`" for t in absent) + ".")
    first, last = report.date_range
    if first:
        st.caption(f"Detected date range: **{first} .. {last}** · {len(report.sources)} file(s) read"
                   + (f" · {report.elapsed_s:.1f} s · peak memory of the app process {report.peak_rss_mb:,.0f} MB" if report.elapsed_s else ""))
        if "daivi_billing.cost_daily" in report.tables:
            # Views open on recent dates; an export of older months needs its own range.
            st.markdown(f"[Open Cost Explorer on these dates](./cost-explorer?range=custom&start={first}&end={last}) · "
                        f"[Open the CUR drill-down for {last[:7]}](./cur?period={last[:7]})")
    if any(Path(s.path).name == FOCUS_SAMPLE_NAME for s in report.sources):
        st.caption(FOCUS_SAMPLE_ATTRIBUTION)
    for warning in report.warnings:
        st.warning(literal(warning, 2_000), icon=":material/flag:")
    for table, groups in sorted(report.rejected.items()):
        for r in groups:
            with st.expander(f"{r.count:,} row(s) rejected from {literal(table)}: {literal(r.reason)}"):
                st.code("\n".join(r.sample), language=None, wrap_lines=True)
    if report.skipped_files:
        with st.expander(f"{len(report.skipped_files)} file(s) skipped"):
            st.dataframe(pd.DataFrame(report.skipped_files, columns=["file", "why"]), hide_index=True, key="import_skipped")


if start:
    workdir = Path(tempfile.mkdtemp(prefix="daivi-upload-"))
    try:
        sources = sources_from_form(workdir)
        bar = st.progress(0.0, text="Starting…")
        options = ImportOptions(skip_duplicates=skip_duplicates, max_rejected_fraction=max_rejected_pct / 100, merge=merge)
        report = run_import(sources, target, options,
                            progress=lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
    except ImportFailed as e:
        st.session_state[LAST_REPORT_KEY] = ("failed", str(e), e.report)
    except InvalidRequest as e:
        show_error(e)
    except Exception as e:  # anything unexpected: one calm line, details in the log
        show_error(e)
    else:
        # Every view must read the new files: drop cached results and the engine that points at the old ones.
        forget_cached_data()
        st.session_state[LAST_REPORT_KEY] = ("ok", "", report)
        st.rerun()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

last = st.session_state.get(LAST_REPORT_KEY)
if last:
    outcome, message, report = last
    if outcome == "ok":
        st.success(f"Imported into `{target}`. Every view now shows this data.", icon=":material/check_circle:")
    else:
        st.error(f"**Import stopped.** {literal(message, 2_000)} The previous lakehouse was not changed.", icon=":material/error:")
    show_report(report)
