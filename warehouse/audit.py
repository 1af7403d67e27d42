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
# The comments BI tools show (published with the table): `<中文标签> / <English description>`, as every
# published column's (tests/unit/test_published_docs.py).
AUDIT_TABLE_COMMENT = (
    "检查记录 / The audit trail: one row per check of every run, whatever layer ran it (pandera, dbt, GX)."
)
AUDIT_COLUMN_COMMENTS: dict[str, str] = {
    "run_id": "运行编号 / The Dagster run (or command) that ran the check.",
    "checked_at": "检查时间 / When the check ran (UTC).",
    "layer": "检查层 / pandera (a submission's rows), dbt (a model's tests) or gx (Great Expectations).",
    "check_name": "检查名称 / The check: a pandera rule, a dbt test or a GX expectation.",
    "asset": "检查对象 / The table or model checked.",
    "district_code": "填报单位代码 / The reporting unit the check is about, if one.",
    "period": "报告期 / The period the check is about, if one.",
    "submission_id": "报送编号 / The submission checked, if one.",
    "passed": "是否通过 / True when the check passed.",
    "failing_count": "未通过数 / Rows (or cells) that failed the check.",
    "severity": "级别 / blocking (stops publishing) or warning.",
    "details": "详情 / What failed, values masked; empty when the check passed.",
}
_SQL = {pl.String(): "VARCHAR", pl.Datetime("us"): "TIMESTAMP", pl.Boolean(): "BOOLEAN", pl.Int64(): "BIGINT"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_audit_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    columns = ", ".join(f"{name} {_SQL[dtype]}" for name, dtype in AUDIT_SCHEMA.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} ({columns})")
    _comment(con)


def _comment(con: duckdb.DuckDBPyConnection) -> None:
    """The table's and its columns' comments, set when they differ from `AUDIT_*_COMMENT(S)`."""
    wanted = {None: AUDIT_TABLE_COMMENT, **AUDIT_COLUMN_COMMENTS}
    schema, table = AUDIT_TABLE.split(".")
    current = dict(
        con.execute(
            "SELECT NULL, comment FROM duckdb_tables()"
            " WHERE database_name = current_database() AND schema_name = ? AND table_name = ?"
            " UNION ALL SELECT column_name, comment FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
            [schema, table, schema, table],
        ).fetchall()
    )
    for column, text in wanted.items():
        if column in current and current[column] != text:
            target = f"TABLE {AUDIT_TABLE}" if column is None else f"COLUMN {AUDIT_TABLE}.{column}"
            con.execute(f"COMMENT ON {target} IS '" + text.replace("'", "''") + "'")


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
