"""Write-audit-publish's last step: a consistent copy of chosen tables, renamed into place."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def publish_marts(warehouse: Path, target: Path, tables: list[str]) -> dict[str, int]:
    """Copy `tables` from the warehouse's main schema into a new DuckDB file at `target`.

    The copy is written next to the target and renamed over it (atomic on one file system), so
    a reader of the previous file is never disturbed and a failed copy leaves it in place.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"ATTACH '{partial}' AS published")
            for table in tables:
                con.execute(f"CREATE TABLE published.main.{table} AS SELECT * FROM main.{table}")
                counts[table] = con.execute(f"SELECT count(*) FROM published.main.{table}").fetchone()[0]
            con.execute("DETACH published")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return counts
