"""Run GX Core 1.x inside DuckDB.

GX talks to DuckDB through SQLAlchemy (duckdb-engine). Unless GX keeps one persisted connection,
the engine closes its connection before the results are fetched and every expectation comes back
failed with no counts. GX persists connections only for the dialects it lists, so DuckDB is added
to that list here, in one place, before any context is created. `expectation_evaluated` then
guards against the quiet failure mode: an expectation that raised is a failure, never a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class _DuckDBDialect(str):
    value = "duckdb"  # GX compares dialects by `.value` in one place and by string in another


def _persist_duckdb_connections() -> None:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    if "duckdb" not in engine._PERSISTED_CONNECTION_DIALECTS:
        engine._PERSISTED_CONNECTION_DIALECTS = (
            *engine._PERSISTED_CONNECTION_DIALECTS,
            _DuckDBDialect("duckdb"),
        )


def duckdb_datasource(context: Any, name: str, database: Path) -> Any:
    """A GX SQL datasource on a DuckDB file, with one persisted connection, within the memory
    limit the dbt build has (`orchestration.project.duckdb_memory_limit`)."""
    from warehouse.settings import duckdb_memory_limit

    _persist_duckdb_connections()
    config = {"memory_limit": duckdb_memory_limit()}
    return context.data_sources.add_sql(
        name=name, connection_string=f"duckdb:///{database}", kwargs={"connect_args": {"config": config}}
    )


def close_datasource(datasource: Any) -> None:
    """Release the DuckDB file: the next step (another process, maybe) may need to write it.

    GX holds two engines: the datasource's own (table inspection) and its execution engine's.
    """
    execution_engine = datasource.get_execution_engine()
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.engine.dispose()
    datasource.get_engine().dispose()
