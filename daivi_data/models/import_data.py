"""The Import data page model: what the current lakehouse holds, read from its manifest.

Pure and Streamlit-free. An embed of the Import page shows only this read-only summary (never the
import form), and only the tables the role's grants cover.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from daivi_data.data_span import manifest_time

MANIFEST = "manifest.json"
SUMMARY_COLUMNS = ["Table", "Rows", "Partitions", "First partition", "Last partition"]


def read_manifest(root: Path) -> dict | None:
    """The lakehouse's manifest, or None when there is no finished lakehouse at `root`."""
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def describe_current(manifest: dict | None, root: Path) -> str:
    """One line about the lakehouse the import would replace."""
    if manifest is None:
        return f"No finished lakehouse at `{root}` yet."
    when = manifest_time(manifest.get("generated_at"))
    if manifest.get("kind") == "import":
        return f"Current data: **imported** at {when} from {len(manifest.get('sources', []))} file(s) · `{root}`"
    return f"Current data: **demo** lakehouse generated at {when} · `{root}`"


@dataclass(frozen=True)
class LakehouseSummary:
    kind: str  # "demo", "import" or "" (no lakehouse)
    generated_at: str
    scale: str | None
    sources: int
    tables: pd.DataFrame  # SUMMARY_COLUMNS, the readable tables only (a blank partition: the table has none)

    @property
    def rows(self) -> int:
        return int(self.tables["Rows"].sum())

    def line(self) -> str:
        """The embed's one line over its folded details."""
        if not self.kind:
            return "No lakehouse yet"
        what = f"Demo lakehouse ({self.scale})" if self.kind == "demo" else f"Imported lakehouse ({self.sources} file(s))"
        n = len(self.tables)
        return f"{what} · built {self.generated_at.replace('T', ' ').removesuffix('Z')} UTC · {n} table{'s' if n != 1 else ''}"

    def kpis(self) -> list[tuple[str, str]]:
        last = [p for p in self.tables["Last partition"] if p]
        return [("Tables", f"{len(self.tables):,}"), ("Rows", f"{self.rows:,}"), ("Newest partition", max(last) if last else "–")]


def lakehouse_summary(manifest: dict | None, readable: Collection[str]) -> LakehouseSummary:
    """The manifest's tables that are in `readable` (`database.table` names), with their size and partition span."""
    manifest = manifest or {}
    rows = [(name, int(t.get("rows", 0)), int(t.get("partitions", 0)), t.get("min_partition") or "", t.get("max_partition") or "")
            for name, t in sorted(manifest.get("tables", {}).items()) if name in readable]
    return LakehouseSummary(kind=str(manifest.get("kind", "")), generated_at=str(manifest.get("generated_at", "")),
                            scale=manifest.get("scale"), sources=len(manifest.get("sources", [])),
                            tables=pd.DataFrame(rows, columns=SUMMARY_COLUMNS))
