"""What every engine returns: a DataFrame and the stats of the query that made it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from daivi_data.identity import Principal
from daivi_data.queries import Query


@dataclass
class QueryStats:
    engine: str
    rows: int
    elapsed_s: float
    query_id: str = ""
    bytes_scanned: int | None = None
    cost_usd: float | None = None
    cached: bool = False

    def summary(self) -> str:
        """One line for under a chart: '1,234 rows in 0.12 s (scanned 1.2 GB, $0.006)'."""
        text = f"{self.rows:,} rows in {self.elapsed_s:.2f} s"
        if self.bytes_scanned is not None:
            text += f" · scanned {format_bytes(self.bytes_scanned)}"
            if self.cost_usd is not None:
                text += f", ${self.cost_usd:.4f}"
        if self.cached:
            text += " · cached"
        return text


@dataclass
class QueryResult:
    df: pd.DataFrame
    stats: QueryStats
    sql: str = field(default="", repr=False)  # the SQL as the engine ran it
    # (data version, policy version) the rows were read under, set by the connection: what a value derived
    # from these rows is keyed by, never the versions read again later (an edit in between would go unseen).
    versions: tuple[str, str] = field(default=("", ""), repr=False)


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


@dataclass(frozen=True)
class TableInfo:
    """Freshness and size of a table, from metadata (not a query)."""

    database: str
    table: str
    partitions: int
    latest_partition: str | None
    exists: bool = True
    note: str = ""  # why a table is missing (or could not be looked up), naming it


class Engine(Protocol):
    name: str

    def run(self, query: Query, principal: Principal) -> QueryResult: ...

    def run_open_ended(self, query: Query, principal: Principal, max_rows: int) -> QueryResult:
        """The first `max_rows` rows of an ad-hoc query (the workbench), without fetching the rest."""
        ...

    def data_version(self) -> str: ...

    def result_scope(self, principal: Principal) -> Hashable:
        """What, besides the query and the versions, determines the rows `principal` gets: values derived from
        query results are shared by the principals of one scope (connection.derived). The principal itself
        unless the engine can show less: the embedded engine's answer depends on the role's grants only."""
        ...

    def table_info(self, database: str, table: str) -> TableInfo: ...
