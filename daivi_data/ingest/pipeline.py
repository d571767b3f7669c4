"""The import: detect -> map each format onto the catalog -> validate -> write -> swap in.

Everything streams through DuckDB: each input is read once (`read_csv` /
`read_parquet` / `read_json_objects`, gzip included) and copied into a staging
Parquet file per target table, holding the catalog columns plus why a row
would be rejected. Validation (rejected rows, duplicate line items across
files, mixed currencies, dates outside every billing period) runs over the
staging files; then the valid rows are copied into the hive-partitioned
layout. DuckDB works under a memory limit and spills to a temp folder, so
a multi-GB export never has to fit in memory.
"""

# SQL here is built over the user's files: every identifier goes through `ident`, every value through `lit`.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from daivi_data import lakehouse
from daivi_data.ingest import billing, config_snapshot, cur2, focus, legacy_cur, resources_csv, splunk
from daivi_data.ingest._sql import ident, lit, reader_sql
from daivi_data.ingest.detect import FORMAT_TITLES, SourceFile, detect_sources
from daivi_data.ingest.report import REJECT_SAMPLE_ROWS, ImportFailed, ImportReport, RejectedRows, SourceSummary, TableSummary
from daivi_data.lakehouse import ACCOUNTS, BUDGETS, COST_DAILY, CUR, EVENTS, MANIFEST, RESOURCES, TABLES, LakehouseError, LakehouseWriter
from daivi_data.lakehouse.layout import partitions, table_dir
from daivi_data.lakehouse.manifest import now_utc
from daivi_data.periods import LATE_BILLING_MONTHS

log = logging.getLogger(__name__)

OUTSIDE_PERIODS = "usage date outside every billing period of the import"
# (date expression for the report's range, over the final table)
DATE_COLUMNS = {
    CUR: "CAST(line_item_usage_start_date AS DATE)",
    COST_DAILY: "usage_date",
    RESOURCES: "snapshot_date",
    EVENTS: "event_date",
}
# The column row filters by account use (config/grants.toml): rows without it are visible to unfiltered roles only.
ACCOUNT_COLUMNS = {CUR: "line_item_usage_account_id", COST_DAILY: "account_id", RESOURCES: "account_id", EVENTS: "account_id"}
STAGING_ROW_GROUP = 16_384
PARTITION_FLUSH_ROWS = 65_536
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportOptions:
    skip_duplicates: bool = False  # keep one copy of line items found in several files instead of stopping
    max_rejected_fraction: float = 0.5  # stop when more of a table's rows than this are rejected
    memory_limit: str = "512MB"
    threads: int = 2
    import_day: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    merge: bool = False  # replace only the partitions the input covers; keep the rest of `out` as it is
    origin: str = ""  # where the input came from, for the manifest and Home (e.g. an s3:// URI); default: the paths
    source_state: dict = field(default_factory=dict)  # what was fetched ({uri: {etag, last_modified}}), kept in the manifest


def run_import(sources: list[Path], out: Path, options: ImportOptions | None = None,
               progress: Progress | None = None) -> ImportReport:
    """Import the exports in `sources` into a new lakehouse at `out`; raise ImportFailed (out untouched) if it cannot."""
    options = options or ImportOptions()
    say = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    report = ImportReport(out=str(out))
    out = Path(out)
    _lakehouse_step(lakehouse.check_target, out, report=report)
    say(0.02, "Detecting formats")
    try:
        detection = detect_sources([Path(s) for s in sources])
    except ImportFailed as e:
        e.report = report
        raise
    report.skipped_files = detection.skipped
    report.sources = [SourceSummary(str(f.path), FORMAT_TITLES[f.format], f.table) for f in detection.files]
    previous = Path(out).resolve() if options.merge and (out / MANIFEST).exists() else None
    report.merged = previous is not None
    if previous is not None:
        _lakehouse_step(lakehouse.check_mergeable, previous, report=report)
    writer = _lakehouse_step(LakehouseWriter, out, "import", report=report)
    con = None
    try:
        con = _connect(writer, options)
        by_table: dict[str, list[SourceFile]] = {}
        for f in detection.files:
            by_table.setdefault(f.table, []).append(f)
        tables = sorted(by_table, key=lambda t: (t == EVENTS, t))  # events last: they borrow accounts from inventory
        rewritten = _tables_rewritten(set(by_table))
        if previous is not None:
            for table in TABLES:
                if table not in rewritten:
                    writer.carry_over_table(previous, table)
        for i, table in enumerate(tables):
            say(0.05 + 0.6 * i / len(tables), f"Reading {len(by_table[table])} file(s) into {table}")
            selects = _staging_selects(con, by_table[table], options)
            staging = writer.scratch / f"{table}.parquet"
            _copy(con, " UNION ALL BY NAME ".join(f"({s})" for s in selects), staging)
            say(0.05 + 0.6 * (i + 0.5) / len(tables), f"Validating {table}")
            valid = _validate(con, table, staging, report, options)
            writer.write_table(con, table, _final_select(table, staging, valid, writer, by_table))
            report.replaced_partitions[table] = writer.new_partitions(table)
            if previous is not None:
                _carry_over(con, writer, previous, table, report)
        derived = _derive_billing(con, writer, by_table, previous, report) if CUR in by_table or COST_DAILY in by_table else {}
        say(0.9, "Summarizing")
        for table in [*tables, *derived]:
            report.tables[table] = _summarize(con, writer, table)
            _report_rows_without_account(con, writer, table, report)
            report.tables[table].derived_from = derived.get(table) or None
            if table == BUDGETS and previous is None:
                report.tables[table].note = "empty: exports hold no budgets"
        report.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report.elapsed_s = time.perf_counter() - started
        con.close()
        writer.commit(_manifest_fields(report, previous, options, [*tables, *derived]))
    except ImportFailed as e:
        _abandon(con, writer)
        log.warning("import into %s stopped: %s", out, e)
        e.report = report
        raise
    except duckdb.Error as e:
        _abandon(con, writer)
        log.warning("import into %s failed in DuckDB: %s", out, e)
        raise ImportFailed(_duckdb_message(e), report) from None
    except BaseException:
        _abandon(con, writer)
        raise
    say(1.0, "Done")
    return report


def _lakehouse_step(step, *args, report: ImportReport):
    """Run a lakehouse writer step; its refusal stops the import like any other (the lakehouse untouched)."""
    try:
        return step(*args)
    except LakehouseError as e:
        raise ImportFailed(str(e), report) from None


def _carry_over(con: duckdb.DuckDBPyConnection, writer: LakehouseWriter, previous: Path, table: str, report: ImportReport) -> None:
    """A merge keeps what the input does not cover: whole partitions, and in a partition it covers in part
    (an inventory snapshot of some accounts) the other accounts' rows."""
    carried = writer.carry_over_partitions(con, previous, table)
    report.kept_partitions[table] = carried.kept
    if carried.merged:
        report.merged_partitions[table] = carried.merged


def _tables_rewritten(inputs: set[str]) -> set[str]:
    """Tables the import writes (in full or in part): its inputs, and the billing tables derived from them."""
    rewritten = set(inputs)
    if CUR in inputs or COST_DAILY in inputs:
        rewritten |= {COST_DAILY, ACCOUNTS, BUDGETS}
    return rewritten


def _derive_billing(con: duckdb.DuckDBPyConnection, writer: LakehouseWriter, by_table: dict[str, list[SourceFile]],
                    previous: Path | None, report: ImportReport) -> dict[str, str]:
    """Billing tables from the imported CUR (or billing export): {table: what it was derived from}.

    On a merge, `cost_daily` is derived for the CUR periods the input covers only (it is keyed by
    the same billing period), the previous `accounts` gain the new accounts (names, OUs and owners
    of known accounts stay), and the previous budgets stay.
    """
    derived: dict[str, str] = {}
    if COST_DAILY not in by_table:
        periods = [p.split("=", 1)[1] for p in report.replaced_partitions[CUR]]
        new_cur = f"(SELECT * FROM {_table_relation(writer, CUR)} WHERE list_contains({_list(periods)}, CAST(billing_period AS VARCHAR)))"
        writer.write_table(con, COST_DAILY, lakehouse.cost_daily_sql(new_cur))
        derived[COST_DAILY] = CUR
        report.replaced_partitions[COST_DAILY] = writer.new_partitions(COST_DAILY)
        if previous is not None:
            _carry_over(con, writer, previous, COST_DAILY, report)
    source = CUR if CUR in by_table else COST_DAILY
    accounts = (lakehouse.accounts_sql if source == CUR else lakehouse.accounts_from_billing_sql)(_table_relation(writer, source))
    old_accounts = table_dir(previous, ACCOUNTS) if previous is not None else None
    if previous is not None and old_accounts is not None and old_accounts.is_dir():
        old = f"read_parquet({lit(str(old_accounts / '*.parquet'))})"
        added = f"SELECT * FROM ({accounts}) WHERE account_id NOT IN (SELECT account_id FROM {old})"
        if _rows(con, f"SELECT COUNT(*) FROM ({added})")[0][0]:
            writer.write_table(con, ACCOUNTS, f"SELECT * FROM (SELECT * FROM {old} UNION ALL {added}) ORDER BY account_id")
        else:
            writer.carry_over_table(previous, ACCOUNTS)  # nothing new: the same file, byte for byte
    else:
        writer.write_table(con, ACCOUNTS, accounts)
    derived[ACCOUNTS] = source
    if previous is None or not writer.carry_over_table(previous, BUDGETS):
        writer.write_table(con, BUDGETS, lakehouse.empty_budgets_sql())
    derived[BUDGETS] = ""
    return derived


def _list(values: list[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]::VARCHAR[]"


def _manifest_fields(report: ImportReport, previous: Path | None, options: ImportOptions, tables: list[str]) -> dict:
    """The import's part of the new manifest: its report, and per table when it was last refreshed and from where.

    A merge keeps the previous manifest's entries for the tables it did not touch, and its
    record of fetched sources (`source_state`) for the sources it did not fetch again.
    """
    before = lakehouse.read_manifest(previous) if previous is not None else {}
    now = now_utc()  # the manifest's own time format
    origin = options.origin or ", ".join(sorted({s.path for s in report.sources}))
    refreshed = dict(before.get("refreshed", {})) if previous is not None else {}
    for table in tables:
        refreshed[table] = {"at": now, "origin": origin, "partitions": report.replaced_partitions.get(table, []),
                            "rows_without_account": report.rows_without_account.get(table, 0)}
    state = {**before.get("source_state", {}), **options.source_state} if previous is not None else dict(options.source_state)
    return {"report": report.to_dict(), "sources": [s.path for s in report.sources], "merged": previous is not None,
            "refreshed": refreshed, "source_state": state}


def _abandon(con: duckdb.DuckDBPyConnection | None, writer: LakehouseWriter) -> None:
    """Close DuckDB (it holds spill files in the temp folder) and remove the unfinished lakehouse."""
    if con is not None:
        try:
            con.close()
        except duckdb.Error:
            pass
    writer.abort()


def _connect(writer: LakehouseWriter, options: ImportOptions) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = {lit(options.memory_limit)}")
    con.execute(f"SET threads = {int(options.threads)}")
    con.execute(f"SET temp_directory = {lit(str(writer.scratch / 'spill'))}")
    # Order of rows within a file carries no meaning; dropping it lets COPY stream.
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    # A partitioned COPY holds up to this many rows per open partition before flushing (default 524,288):
    # with ~60 wide CUR columns that alone outgrows a modest memory limit.
    con.execute(f"SET partitioned_write_flush_threshold = {PARTITION_FLUSH_ROWS}")
    return con


def _duckdb_message(e: duckdb.Error) -> str:
    text = str(e).strip().splitlines()[0]
    if "GZIP" in text.upper():
        return f"A gzip file is truncated or corrupt, so the import stopped: {text}. Download that file again."
    if isinstance(e, duckdb.OutOfMemoryException):
        return f"The import ran out of memory ({text[:200]}). Raise the memory limit (--memory-limit) or import fewer files at once."
    if any(word in text for word in ("CSV", "csv", "Parquet", "parquet", "JSON", "json", "file")):
        return f"An input file could not be read: {text[:400]}"
    return f"The import failed: {text[:400]}"


def _copy(con: duckdb.DuckDBPyConnection, select_sql: str, target: Path) -> None:
    # Small row groups: the Parquet writer buffers a whole row group of ~60 wide columns per thread.
    con.execute(f"COPY ({select_sql}) TO {lit(str(target))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {STAGING_ROW_GROUP})")


def _describe(con: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    return {r[0]: r[1] for r in rows if r[0] != "filename"}


def _stop_missing(files: list[SourceFile], title: str, missing: list[str]) -> None:
    names = ", ".join(str(f.path) for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    raise ImportFailed(f"{title} input {names} lacks required column(s): {', '.join(missing)}.")


def _staging_selects(con: duckdb.DuckDBPyConnection, files: list[SourceFile], options: ImportOptions) -> list[str]:
    """One SELECT per group of files with the same format, kind and CSV header, each yielding the staging
    columns of the target table (the groups are then combined by column name)."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[SourceFile]] = {}
    for f in files:
        header = f.columns if f.kind == "csv" else ()
        groups.setdefault((f.format, f.kind, header), []).append(f)
    return [f"SELECT *, {lit(fmt)} AS _format FROM ({_group_select(con, fmt, kind, group, options)})"
            for (fmt, kind, _), group in sorted(groups.items())]


def _group_select(con: duckdb.DuckDBPyConnection, fmt: str, kind: str, group: list[SourceFile], options: ImportOptions) -> str:
    paths = [str(f.path) for f in group]
    if fmt == "config_snapshot":
        return config_snapshot.build_select(paths)
    if fmt == "splunk_jsonl":
        return splunk.build_select_jsonl(paths)
    # Check each file's own columns: one file without a required column must not hide in a union.
    for f in group:
        missing = _missing(fmt, {c: "VARCHAR" for c in f.columns}, f)
        if missing:
            _stop_missing([f], FORMAT_TITLES[fmt], missing)
    reader = reader_sql(paths, kind, focus.NULL_STRINGS if fmt == "focus" else ("",))
    types = _describe(con, reader)
    if fmt == "cur2":
        return cur2.build_select(reader, types)
    if fmt == "legacy_cur":
        return legacy_cur.build_select(reader, types)
    if fmt == "focus":
        return focus.build_select(reader, types)
    if fmt == "resources_csv":
        return resources_csv.build_select(reader, list(types), options.import_day)
    if fmt == "billing_export":
        return billing.export_select(reader, types)
    return splunk.build_select_csv(reader, list(types))


def _missing(fmt: str, types: dict[str, str], f: SourceFile) -> list[str]:
    path = f.path.as_posix()
    if fmt == "cur2":
        return cur2.missing_required(set(types), "BILLING_PERIOD=" in path)
    if fmt == "legacy_cur":
        import re

        known = re.search(r"year=\d{4}/month=\d{1,2}/|\d{6}01-\d{8}", path) is not None
        return legacy_cur.missing_required(types, known)
    if fmt == "focus":
        return focus.missing_required(types)
    if fmt == "resources_csv":
        return resources_csv.missing_required(list(types))
    if fmt == "splunk_csv":
        return [c for c in splunk.REQUIRED if c not in types]
    if fmt == "billing_export":
        return billing.export_missing_required(types)
    return []


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _validate(con: duckdb.DuckDBPyConnection, table: str, staging: Path, report: ImportReport,
              options: ImportOptions) -> str:
    """Fill the report from the staging file; stop on what must not be imported. Returns the valid-row predicate."""
    stg = f"read_parquet({lit(str(staging))})"
    valid = "_reject_reason IS NULL"
    if table == CUR:
        periods = [r[0] for r in _rows(con, f"SELECT DISTINCT billing_period FROM {stg} WHERE billing_period IS NOT NULL ORDER BY 1")]
        period_list = "[" + ", ".join(lit(p) for p in periods) + "]"
        usage_month = "strftime(line_item_usage_start_date, '%Y-%m')"
        # A charge billed in the period after its usage day (FOCUS: ChargePeriodStart in September,
        # BillingPeriodStart October) is a late charge of that invoice, not a bad date.
        late = (f"strftime(CAST(billing_period || '-01' AS DATE) - INTERVAL {LATE_BILLING_MONTHS} MONTH, '%Y-%m') "
                f"<= {usage_month} AND {usage_month} <= billing_period")
        outside = f"({valid} AND NOT list_contains({period_list}, {usage_month}) AND NOT ({late}))"
        reason = (f"CASE WHEN _reject_reason IS NOT NULL THEN _reject_reason "
                  f"WHEN {outside} THEN {lit(OUTSIDE_PERIODS + ' (' + ', '.join(periods) + ')')} END")
        valid = f"({valid} AND NOT {outside})"
    else:
        reason = "_reject_reason"
    total = _rows(con, f"SELECT COUNT(*) FROM {stg}")[0][0]
    groups = _rows(con, f"""
        SELECT reason, _reject_detail
        FROM (SELECT {reason} AS reason, _reject_detail, _source_file FROM {stg} WHERE {reason} IS NOT NULL)
        QUALIFY row_number() OVER (PARTITION BY reason ORDER BY _source_file) <= {REJECT_SAMPLE_ROWS}
    """)
    counts = dict(_rows(con, f"SELECT {reason} AS reason, COUNT(*) FROM {stg} WHERE reason IS NOT NULL GROUP BY 1"))
    rejected: dict[str, RejectedRows] = {}
    for r, detail in groups:
        rejected.setdefault(r, RejectedRows(r, counts[r])).sample.append(detail)
    if rejected:
        report.rejected[table] = sorted(rejected.values(), key=lambda x: -x.count)
    n_rejected = sum(counts.values())
    if total == 0 or n_rejected == total:
        raise ImportFailed(f"No valid rows for {table}: {n_rejected:,} of {total:,} rows rejected "
                           f"({'; '.join(list(counts)[:3]) or 'the files are empty'}).")
    if n_rejected > options.max_rejected_fraction * total:
        raise ImportFailed(f"{n_rejected:,} of {total:,} rows for {table} were rejected (more than "
                           f"{options.max_rejected_fraction:.0%}), so the files probably do not match their format. "
                           f"Main reason: {max(counts, key=lambda reason: counts[reason])}.")
    if table == CUR:
        valid = _check_cur(con, stg, valid, report, options)
    elif table == EVENTS:
        valid = _check_events(con, stg, valid, report)
    return valid


def _check_events(con: duckdb.DuckDBPyConnection, stg: str, valid: str, report: ImportReport) -> str:
    """Splunk exports of overlapping time ranges repeat events: keep one copy, say how many were dropped."""
    keys, extra = _rows(con, f"""
        SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM (
          SELECT _dup_key, COUNT(*) AS n FROM {stg} WHERE {valid} GROUP BY _dup_key HAVING MIN(_source_file) <> MAX(_source_file))""")[0]
    if not keys:
        return valid
    report.warnings.append(f"{extra:,} Splunk event(s) appear in more than one export file (overlapping search time ranges); "
                           "kept one copy of each.")
    # Within one file identical events are kept: only copies from a second file are dropped.
    return (f"{valid} QUALIFY _source_file = MIN(_source_file) OVER (PARTITION BY _dup_key)")


def _check_cur(con: duckdb.DuckDBPyConnection, stg: str, valid: str, report: ImportReport, options: ImportOptions) -> str:
    """Duplicates across files, mixed currencies, rows billed in another period."""
    # MIN <> MAX rather than COUNT(DISTINCT ...): plain aggregates spill to disk, per-group sets do not.
    dup = _rows(con, f"""
        SELECT COUNT(*), SUM(n - 1), MIN(_dup_key)
        FROM (SELECT _dup_key, COUNT(*) AS n FROM {stg} WHERE {valid}
              GROUP BY _dup_key HAVING MIN(_source_file) <> MAX(_source_file))
    """)[0]
    if dup[0]:
        keys, extra_rows, example = dup
        files = _rows(con, f"SELECT string_agg(DISTINCT _source_file, ' and ' ORDER BY _source_file) FROM {stg} WHERE _dup_key = ?",
                      [example])[0][0]
        where = f"{keys:,} line items appear in more than one file ({extra_rows:,} extra rows), e.g. {example.split('|')[0]} in {files}"
        if not options.skip_duplicates:
            raise ImportFailed(
                f"Duplicate line items: {where}. The same billing period was probably given twice (two versions "
                "of an export, or a copied file). Remove the older copy, or import with --skip-duplicates to keep one copy of each.")
        report.warnings.append(f"Duplicate line items skipped: {where}; kept the copy from the first file by name.")
        valid = f"{valid} QUALIFY row_number() OVER (PARTITION BY _dup_key ORDER BY _source_file) = 1"
    where_valid = valid.split(" QUALIFY ")[0]
    overlap = _rows(con, f"""
        SELECT line_item_usage_account_id, billing_period, string_agg(DISTINCT _format, ' and ' ORDER BY _format)
        FROM {stg} WHERE {where_valid} AND COALESCE(bill_billing_entity, 'AWS') LIKE 'AWS%'
        GROUP BY 1, 2 HAVING COUNT(DISTINCT CASE WHEN _format = 'focus' THEN 'focus' ELSE 'cur' END) > 1
        ORDER BY 2, 1""")
    if overlap:
        account, period, formats = overlap[0]
        raise ImportFailed(
            f"Both a CUR export and a FOCUS export ({formats}) cover AWS account {account} in {period} "
            f"({len(overlap)} account-period(s) in all): importing both would count that cost twice. Import one of them.")
    currencies = _rows(con, f"""
        SELECT COALESCE(line_item_currency_code, '(none)'), COUNT(*), SUM(line_item_unblended_cost)
        FROM {stg} WHERE {where_valid} GROUP BY 1 ORDER BY 2 DESC""")
    if len(currencies) > 1:
        parts = ", ".join(f"{c} ({n:,} rows, {s:,.2f})" for c, n, s in currencies)
        report.warnings.append(f"Mixed currencies in daivi_cur.cur, kept as they are: {parts}. "
                               "Totals across currencies are not meaningful; filter by line_item_currency_code.")
    own = _rows(con, f"""SELECT COUNT(*) FROM {stg}
        WHERE {where_valid} AND strftime(line_item_usage_start_date, '%Y-%m') <> billing_period""")[0][0]
    if own:
        report.warnings.append(f"{own:,} line item(s) have a usage date in another month than their own billing period "
                               "(kept in the period that billed them; Cost Explorer shows them on their usage day).")
    return valid


def _final_select(table: str, staging: Path, valid: str, writer: LakehouseWriter,
                  by_table: dict[str, list[SourceFile]]) -> str:
    columns = lakehouse.catalog_table(table).column_names
    stg = f"read_parquet({lit(str(staging))})"
    cols = ", ".join(ident(c) for c in columns)
    if table == EVENTS and (RESOURCES in by_table or writer.table_dir(RESOURCES).is_dir()):  # imported now, or kept by a merge
        # Hosts join to inventory names: fill the account of events whose export did not carry it.
        hosts = (f"(SELECT resource_name, MIN(account_id) AS host_account FROM {_table_relation(writer, RESOURCES)} "
                 "WHERE resource_name IS NOT NULL GROUP BY resource_name)")
        cols = ", ".join("COALESCE(e.account_id, h.host_account) AS account_id" if c == "account_id" else f"e.{ident(c)}" for c in columns)
        where, _, qualify = valid.partition(" QUALIFY ")
        qualify = f" QUALIFY {qualify}" if qualify else ""
        return f"SELECT {cols} FROM {stg} e LEFT JOIN {hosts} h ON h.resource_name = e.host WHERE {where}{qualify}"
    return f"SELECT {cols} FROM {stg} WHERE {valid}"


def _table_relation(writer: LakehouseWriter, table: str) -> str:
    # By name: a merge puts the previous lakehouse's files beside the new ones.
    return lakehouse.table_relation_sql(writer.tmp, table, union_by_name=True)


def _report_rows_without_account(con: duckdb.DuckDBPyConnection, writer: LakehouseWriter, table: str,
                                 report: ImportReport) -> None:
    """Rows with no account id pass no row filter by account: only roles that see every row see them. Say so."""
    column = ACCOUNT_COLUMNS.get(table)
    if column is None:
        return
    n = _rows(con, f"SELECT COUNT(*) FROM {_table_relation(writer, table)} WHERE {ident(column)} IS NULL")[0][0]
    if not n:
        return
    report.rows_without_account[table] = n
    why = " (the export has none and their host is not an inventory resource)" if table == EVENTS else ""
    report.warnings.append(
        f"{n:,} row(s) of {table} carry no account id{why}: a role whose grant filters rows by account can never see them; "
        "only roles that see every row (admin) do.")


def _summarize(con: duckdb.DuckDBPyConnection, writer: LakehouseWriter, table: str) -> TableSummary:
    names = [p.split("=", 1)[1] for p in partitions(writer.table_dir(table))]
    rel = _table_relation(writer, table)
    date_expr = DATE_COLUMNS.get(table)
    if date_expr:
        n, first, last = _rows(con, f"SELECT COUNT(*), MIN({date_expr}), MAX({date_expr}) FROM {rel}")[0]
    else:
        n, first, last = _rows(con, f"SELECT COUNT(*) FROM {rel}")[0][0], None, None
    return TableSummary(rows=n, partitions=names, first_date=str(first) if first else None,
                        last_date=str(last) if last else None)
