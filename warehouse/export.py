"""The raw tables as Parquet files, for the dbt project's Spark target (docs/scale-out.md).

DuckDB stays the ingest store; a distributed engine reads the raw layer as files. Every loaded
submission's rows are immutable (keyed by submission_id), so each data table is written as one file
per submission, `<out>/<table>/<submission_id>.parquet`, and an export only writes the submissions
it has not written before. The submissions log changes (a version gets superseded), so it is
rewritten whole. Every table also gets `schema.parquet`, a file with its columns and no rows: Spark
infers a table's schema from its files and fails on a folder without any.

Files are written under a hidden name and renamed into place: Spark ignores names starting with
`.`, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA_FILE = "schema.parquet"
RAW_SCHEMA = "raw"
LOG_TABLE = "submissions"  # rewritten whole: statuses change when a later version arrives


@dataclass(frozen=True)
class ExportSummary:
    """What one export wrote and removed, per table (files, not rows)."""

    written: dict[str, int]
    removed: dict[str, int]


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    con.execute(f"COPY ({query}) TO {_sql_string(str(partial))} (FORMAT parquet, COMPRESSION zstd)")
    os.replace(partial, target)


def _submission_ids(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(f"SELECT DISTINCT submission_id FROM raw.{table}").fetchall()}


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the warehouse's raw schema (ingest creates them), the submissions log first."""
    names = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
            [RAW_SCHEMA],
        ).fetchall()
    ]
    return sorted(names, key=lambda name: name != LOG_TABLE)


def export_raw_parquet(warehouse: Path, out_dir: Path) -> ExportSummary:
    """Write the warehouse's raw.* tables under `out_dir` (one folder per table); return what changed."""
    written: dict[str, int] = {}
    removed: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in raw_tables(con):
            folder = out_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / SCHEMA_FILE).exists():
                _copy(con, f"SELECT * FROM raw.{table} LIMIT 0", folder / SCHEMA_FILE)
            written[table], removed[table] = 0, 0
            if table == LOG_TABLE:
                _copy(con, f"SELECT * FROM raw.{table} ORDER BY submission_id", folder / f"{table}.parquet")
                written[table] = 1
                continue
            present = {p.stem for p in folder.glob("*.parquet") if p.name != SCHEMA_FILE}
            loaded = _submission_ids(con, table)
            for submission_id in sorted(loaded - present):
                query = f"SELECT * FROM raw.{table} WHERE submission_id = {_sql_string(submission_id)}"
                _copy(con, query, folder / f"{submission_id}.parquet")
                written[table] += 1
            # a warehouse rebuilt from scratch: files of submissions it no longer holds must go
            for stale in sorted(present - loaded):
                (folder / f"{stale}.parquet").unlink()
                removed[table] += 1
    return ExportSummary(written=written, removed=removed)
