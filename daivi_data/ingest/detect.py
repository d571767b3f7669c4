"""Format detection: which export each input file is, from its name, folder and header.

A SOURCE on the command line is a file or a folder (walked recursively, the
way AWS lays exports out in S3). Each data file is classified by its columns,
not its name: CUR 2.0 and legacy CUR, FOCUS, AWS Config snapshots, a plain
resources CSV, Splunk JSON lines or CSV. Known companions (export manifests,
the Athena integration's status table, CloudFormation templates) are skipped
and listed; an unknown file inside a folder is skipped and listed; an unknown
file named explicitly stops the import.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from daivi_data.ingest.report import ImportFailed

PEEK_BYTES = 256 * 1024

# format -> target table
TARGETS = {
    "cur2": "daivi_cur.cur",
    "legacy_cur": "daivi_cur.cur",
    "focus": "daivi_cur.cur",
    "config_snapshot": "daivi_inventory.resources",
    "resources_csv": "daivi_inventory.resources",
    "splunk_jsonl": "daivi_splunk.events",
    "splunk_csv": "daivi_splunk.events",
    "billing_export": "daivi_billing.cost_daily",
}
FORMAT_TITLES = {
    "cur2": "CUR 2.0 (Data Exports)",
    "legacy_cur": "legacy CUR",
    "focus": "FOCUS",
    "config_snapshot": "AWS Config snapshot",
    "resources_csv": "resources CSV",
    "splunk_jsonl": "Splunk export (JSON lines)",
    "splunk_csv": "Splunk export (CSV)",
    "billing_export": "daily billing export",
}
SUPPORTED = (
    "CUR 2.0 or legacy CUR (CSV, CSV.gz, Parquet), FOCUS 1.x (CSV, Parquet), AWS Config snapshot (JSON, JSON.gz), "
    "resources CSV, Splunk search export (JSON lines, CSV), daily billing with the cost_daily columns (CSV, Parquet)"
)

_CUR_PREFIXES = ("identity_", "bill_", "line_item_", "product_", "pricing_", "reservation_", "savings_plan_")
_LEGACY_PREFIXES = ("identity/", "bill/", "lineItem/", "product/", "pricing/", "reservation/", "savingsPlan/")
_RESOURCE_ID = {"resource_id", "resourceid", "resource id", "arn", "identifier"}
_RESOURCE_TYPE = {"resource_type", "resourcetype", "resource type", "type"}

# Files that travel with exports but hold no rows to import.
_COMPANION_NAMES = re.compile(
    r"(-Manifest\.json|manifest\.json|\.yml|\.yaml|\.sql|\.md|\.txt|\.crc|_SUCCESS|LICENSE.*|README.*)$", re.IGNORECASE
)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str  # a key of TARGETS
    kind: str  # csv | parquet | json | jsonl
    columns: tuple[str, ...] = ()
    column_types: tuple[str, ...] = ()  # DuckDB/Arrow type names, for Parquet

    @property
    def table(self) -> str:
        return TARGETS[self.format]


@dataclass
class Detection:
    files: list[SourceFile]
    skipped: list[tuple[str, str]]


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def _peek(path: Path) -> str:
    try:
        with _open_text(path) as f:
            return f.read(PEEK_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        if path.name.lower().endswith(".gz"):
            raise ImportFailed(f"{path} is not a readable gzip file ({e}). Download it again.") from None
        raise ImportFailed(f"{path} cannot be read: {e}.") from None


def _csv_header(path: Path) -> tuple[str, ...]:
    text = _peek(path)
    first = next(csv.reader(io.StringIO(text)), [])
    return tuple(c.strip() for c in first)


def _bare_name(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def classify_columns(columns: tuple[str, ...], path: Path) -> str | None:
    """The export format a table with these columns is, or None."""
    cols = set(columns)
    lower = {c.lower() for c in columns}
    if {"billedcost", "chargeperiodstart"} <= lower:
        return "focus"
    if sum(c.startswith(_LEGACY_PREFIXES) for c in columns) >= 3:
        return "legacy_cur"
    if sum(c.startswith(_CUR_PREFIXES) for c in columns) >= 3:
        legacy_layout = re.search(r"(^|/)year=\d{4}/month=\d{1,2}(/|$)", path.as_posix()) is not None
        if legacy_layout or any(c.startswith("resource_tags_") for c in columns):
            return "legacy_cur"
        return "cur2"
    if "_time" in cols and ({"_raw", "sourcetype"} & cols):
        return "splunk_csv"
    if {"usage_date", "account_id", "unblended_cost"} <= cols:
        return "billing_export"
    if lower & _RESOURCE_ID and lower & _RESOURCE_TYPE:
        return "resources_csv"
    return None


def detect_file(path: Path) -> SourceFile | None:
    """Classify one data file; None when it is not a format we read."""
    name = _bare_name(path)
    if name.endswith(".parquet"):
        try:
            schema = pq.read_schema(path)
        except Exception as e:  # pyarrow raises several types for a broken file
            raise ImportFailed(f"{path} is not a readable Parquet file ({str(e).splitlines()[0][:200]}).") from None
        columns = tuple(schema.names)
        fmt = classify_columns(columns, path)
        types = tuple(str(schema.field(c).type) for c in columns)
        return SourceFile(path, fmt, "parquet", columns, types) if fmt else None
    if name.endswith((".csv", ".tsv")):
        columns = _csv_header(path)
        fmt = classify_columns(columns, path)
        return SourceFile(path, fmt, "csv", columns) if fmt else None
    if name.endswith((".json", ".jsonl", ".ndjson")):
        text = _peek(path)
        head = text.lstrip()[:1]
        if head == "{" and '"configurationItems"' in text:
            return SourceFile(path, "config_snapshot", "json")
        if head == "{":
            first_line = text.lstrip().split("\n", 1)[0]
            try:
                obj = json.loads(first_line)
            except json.JSONDecodeError:
                return None
            event = obj.get("result", obj) if isinstance(obj, dict) else None
            if isinstance(event, dict) and "_time" in event:
                return SourceFile(path, "splunk_jsonl", "jsonl", tuple(event))
        return None
    return None


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _superseded_legacy_versions(folder: Path) -> dict[Path, str]:
    """Legacy CUR keeps every version of a period in `<YYYYMMDD-YYYYMMDD>/<assemblyId>/`; the period's
    `<report>-Manifest.json` names the current one. {older version folder: why it is skipped}."""
    skipped: dict[Path, str] = {}
    for manifest in folder.rglob("*-Manifest.json"):
        if not re.fullmatch(r"\d{8}-\d{8}", manifest.parent.name):
            continue
        try:
            current = json.loads(manifest.read_text()).get("assemblyId")
        except (OSError, ValueError, AttributeError):
            continue
        if not current:
            continue
        for version in manifest.parent.iterdir():
            if version.is_dir() and version.name != current:
                skipped[version] = f"older legacy CUR version {version.name} (the period's manifest names {current})"
    return skipped


def detect_sources(sources: list[Path]) -> Detection:
    """Classify every file under the given sources, or stop naming the file that is not an export."""
    files: list[SourceFile] = []
    skipped: list[tuple[str, str]] = []
    for source in sources:
        source = Path(source)
        superseded = _superseded_legacy_versions(source) if source.is_dir() else {}
        if not source.exists():
            raise ImportFailed(f"{source} does not exist.")
        if source.is_file():
            found = detect_file(source)
            if found is None:
                raise ImportFailed(f"{source} is not a recognized export. Supported: {SUPPORTED}.")
            files.append(found)
            continue
        for path in _data_files(source):
            rel = path.as_posix()
            if "cost_and_usage_data_status" in rel:
                skipped.append((str(path), "CUR Athena integration status table"))
                continue
            if _COMPANION_NAMES.search(path.name) and not path.name.lower().endswith(".csv"):
                skipped.append((str(path), "export companion file (manifest, template or notes)"))
                continue
            if path.parent in superseded:
                skipped.append((str(path), superseded[path.parent]))
                continue
            found = detect_file(path)
            if found is None:
                skipped.append((str(path), f"not a recognized export (supported: {SUPPORTED})"))
            else:
                files.append(found)
    if not files:
        where = ", ".join(str(s) for s in sources)
        raise ImportFailed(f"No importable export found in {where}. Supported: {SUPPORTED}.")
    return Detection(files, skipped)
