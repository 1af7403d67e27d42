"""The audit trail: one row per check of every run, whatever layer ran it (pandera, dbt, GX).

`audit.audit_check_results` lives in the warehouse and is published, so that "what failed for
district X in period P, and when was it fixed" is one query:

    SELECT checked_at, layer, check_name, passed, failing_count
    FROM audit_check_results WHERE district_code = 'X' AND period = 'P' ORDER BY checked_at;
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import polars as pl

AUDIT_TABLE = "audit.audit_check_results"
AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "checked_at": pl.Datetime("us"),
    "layer": pl.String(),  # pandera | dbt | gx
    "check_name": pl.String(),
    "asset": pl.String(),
    "district_code": pl.String(),
    "period": pl.String(),
    "submission_id": pl.String(),
    "passed": pl.Boolean(),
    "failing_count": pl.Int64(),
    "severity": pl.String(),  # blocking | warning
    "details": pl.String(),
}
_SQL = {pl.String(): "VARCHAR", pl.Datetime("us"): "TIMESTAMP", pl.Boolean(): "BOOLEAN", pl.Int64(): "BIGINT"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_audit_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    columns = ", ".join(f"{name} {_SQL[dtype]}" for name, dtype in AUDIT_SCHEMA.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} ({columns})")


def audit_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=AUDIT_SCHEMA)


def write_audit_rows(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    ensure_audit_table(con)
    if frame.height:
        con.register("_audit_rows", frame.to_arrow())
        try:
            con.execute(f"INSERT INTO {AUDIT_TABLE} BY NAME SELECT * FROM _audit_rows")
        finally:
            con.unregister("_audit_rows")
    return frame.height


def locate_submissions(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Fill district and period of a run's audit rows that name a submission but not where it is from."""
    con.execute(
        f"UPDATE {AUDIT_TABLE} AS a SET district_code = s.district_code, period = s.period"
        " FROM raw.submissions AS s"
        " WHERE a.run_id = ? AND a.submission_id = s.submission_id AND a.district_code IS NULL",
        [run_id],
    )
