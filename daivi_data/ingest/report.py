"""What an import did: rows per table, rejected rows (reason, count, sample), warnings, date ranges.

The report is built while the import runs, printed by the CLI, shown by the
Import page and stored in the new lakehouse's manifest. When the import stops,
`ImportFailed` carries the report so far, so the user sees what was found
before the reason it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from daivi_data.errors import DaiviError

REJECT_SAMPLE_ROWS = 5


@dataclass
class SourceSummary:
    path: str
    format: str
    table: str  # target "database.table"


@dataclass
class RejectedRows:
    reason: str
    count: int
    sample: list[str] = field(default_factory=list)  # a few offending rows: file and raw values


@dataclass
class TableSummary:
    rows: int
    partitions: list[str] = field(default_factory=list)
    first_date: str | None = None
    last_date: str | None = None
    derived_from: str | None = None  # e.g. "daivi_cur.cur" for the derived billing tables
    note: str | None = None


@dataclass
class ImportReport:
    sources: list[SourceSummary] = field(default_factory=list)
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    tables: dict[str, TableSummary] = field(default_factory=dict)
    rejected: dict[str, list[RejectedRows]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rows_without_account: dict[str, int] = field(default_factory=dict)  # table -> rows no account row filter lets through
    replaced_partitions: dict[str, list[str]] = field(default_factory=dict)  # table -> partitions this import wrote
    kept_partitions: dict[str, list[str]] = field(default_factory=dict)  # table -> partitions a merge kept as they were
    # table -> partitions the input covered in part (some accounts' snapshots): the other rows were kept
    merged_partitions: dict[str, list[str]] = field(default_factory=dict)
    merged: bool = False  # merged into an existing lakehouse (`--merge`) rather than replacing it
    out: str = ""
    peak_rss_mb: float | None = None
    elapsed_s: float | None = None

    def rejected_count(self, table: str | None = None) -> int:
        groups = self.rejected.values() if table is None else [self.rejected.get(table, [])]
        return sum(r.count for rows in groups for r in rows)

    @property
    def date_range(self) -> tuple[str | None, str | None]:
        """Earliest and latest day over every imported table."""
        firsts = [t.first_date for t in self.tables.values() if t.first_date]
        lasts = [t.last_date for t in self.tables.values() if t.last_date]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped_files"] = [{"path": p, "reason": r} for p, r in self.skipped_files]
        data["date_range"] = list(self.date_range)
        return data

    def to_text(self) -> str:
        """The report as plain text for the terminal."""
        lines = []
        if self.sources:
            lines.append("Inputs:")
            by_format: dict[tuple[str, str], int] = {}
            for s in self.sources:
                by_format[(s.format, s.table)] = by_format.get((s.format, s.table), 0) + 1
            for (fmt, table), n in sorted(by_format.items()):
                lines.append(f"  {n:>5} file(s)  {fmt:<22} -> {table}")
        for path, why in self.skipped_files:
            lines.append(f"  skipped {path}: {why}")
        if self.tables:
            lines.append("Tables:")
            for name, t in sorted(self.tables.items()):
                span = f"  {t.first_date} .. {t.last_date}" if t.first_date else ""
                parts = f"  {len(t.partitions)} partitions" if t.partitions else ""
                derived = f"  (derived from {t.derived_from})" if t.derived_from else (f"  ({t.note})" if t.note else "")
                lines.append(f"  {name:<26} {t.rows:>12,} rows{parts}{span}{derived}")
        first, last = self.date_range
        if first:
            lines.append(f"Date range: {first} .. {last}")
        for table, groups in sorted(self.rejected.items()):
            for r in groups:
                lines.append(f"Rejected from {table}: {r.count:,} rows: {r.reason}")
                lines.extend(f"    e.g. {s}" for s in r.sample)
        for table, kept in sorted(self.kept_partitions.items()):
            lines.append(f"Merged into {table}: replaced {len(self.replaced_partitions.get(table, []))} partition(s), "
                         f"kept {len(kept)} as they were")
            if self.merged_partitions.get(table):
                lines.append(f"  in {', '.join(self.merged_partitions[table])} only the rows of the accounts and regions "
                             "the input covers were replaced; the other rows were kept")
        lines.extend(f"Warning: {w}" for w in self.warnings)
        if self.peak_rss_mb is not None:
            lines.append(f"Peak memory (RSS): {self.peak_rss_mb:,.0f} MB · {self.elapsed_s or 0:.1f} s")
        return "\n".join(lines)


class ImportFailed(DaiviError):
    """The import stopped; the previous lakehouse is untouched. `report` holds what was found."""

    title = "Import stopped"

    def __init__(self, message: str, report: ImportReport | None = None):
        super().__init__(message)
        self.report = report or ImportReport()
