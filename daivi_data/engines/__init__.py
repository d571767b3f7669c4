"""Engines execute governed SQL and return DataFrames. Pick one with `create_engine`."""

from __future__ import annotations

from daivi_data.engines.base import Engine, QueryResult, QueryStats, TableInfo
from daivi_data.governance import policy_store
from daivi_data.settings import Settings

__all__ = ["Engine", "QueryResult", "QueryStats", "TableInfo", "create_engine"]


def create_engine(settings: Settings) -> Engine:
    """The engine the settings name; a new engine is one module and one branch here."""
    if settings.engine == "athena":
        from daivi_data.engines.athena import AthenaEngine

        return AthenaEngine(settings)
    from daivi_data.engines.duckdb import DuckDBEngine

    return DuckDBEngine(settings.lakehouse_path, policy_store(settings.grants_file), timeout_s=settings.query_timeout_s,
                       role_extracts=settings.role_extracts)
