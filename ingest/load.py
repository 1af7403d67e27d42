"""Write submissions to the warehouse: the archive, the raw tables and the submissions log.

A submission is the unit of change: its rows, its problems and its log entry are written in one
DuckDB transaction, so a reader never sees half of one. Raw tables keep every loaded version
(keyed by submission_id); which version is current is decided in dbt from `raw.submissions`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl

from ingest.errors import message_columns
from ingest.spec import DATA_SHEETS, Sheet
from ingest.validate import QUARANTINED, ValidatedSubmission

_SQL_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "int": "BIGINT",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "national_id": "VARCHAR",
}

SUBMISSION_COLUMNS: dict[str, str] = {
    "submission_id": "VARCHAR",
    "file_name": "VARCHAR",
    "district_code": "VARCHAR",
    "period": "VARCHAR",
    "version": "INTEGER",
    "sha256": "VARCHAR",
    "size_bytes": "BIGINT",
    "received_at": "TIMESTAMP",
    "submitted_date": "DATE",
    "status": "VARCHAR",  # accepted | rejected | superseded | pending
    "reason_rule": "VARCHAR",
    "reason": "VARCHAR",
    "committee_org_code": "VARCHAR",
    **{f"rows_{s.table}": "INTEGER" for s in DATA_SHEETS},
    "quarantined_rows": "INTEGER",
    "attempts": "INTEGER",  # reads begun (a pending file is read again by later runs, up to a cap)
}

PROBLEM_COLUMNS: dict[str, str] = {
    "submission_id": "VARCHAR",
    "file_name": "VARCHAR",
    "sheet": "VARCHAR",
    "excel_row": "BIGINT",
    "column_header": "VARCHAR",
    "value": "VARCHAR",
    "rule": "VARCHAR",
    "severity": "VARCHAR",
    "message_zh": "VARCHAR",
    "message_en": "VARCHAR",
}


def stored_column_name(column_name: str, dtype: str) -> str:
    """National IDs are stored only as their pseudonym."""
    return "person_key" if dtype == "national_id" else column_name


def raw_columns(sheet: Sheet) -> dict[str, str]:
    cols = {"submission_id": "VARCHAR", "source_row": "BIGINT", "quarantined": "BOOLEAN"}
    for c in sheet.columns:
        if c.stored:
            cols[stored_column_name(c.name, c.dtype)] = _SQL_TYPES[c.dtype]
    return cols


def _ddl(table: str, columns: dict[str, str]) -> str:
    body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    return f"CREATE TABLE IF NOT EXISTS raw.{table} ({body})"


# The raw tables: the submissions log, the problems, and one table per data sheet.
RAW_TABLES = ("submissions", "problems", *(s.table for s in DATA_SHEETS))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_ddl("submissions", SUBMISSION_COLUMNS))
    # warehouses from before a column was added get it (empty for the rows they hold)
    for column, sql_type in SUBMISSION_COLUMNS.items():
        con.execute(f"ALTER TABLE raw.submissions ADD COLUMN IF NOT EXISTS {column} {sql_type}")
    con.execute(_ddl("problems", PROBLEM_COLUMNS))
    for sheet in DATA_SHEETS:
        con.execute(_ddl(sheet.table, raw_columns(sheet)))


# --- the submissions log and the rows ----------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRecord:
    submission_id: str
    file_name: str
    district_code: str
    period: str
    version: int
    sha256: str
    size_bytes: int
    received_at: dt.datetime
    status: str
    submitted_date: dt.date | None = None
    reason_rule: str | None = None
    reason: str | None = None
    committee_org_code: str | None = None
    row_counts: dict[str, int] | None = None
    quarantined_rows: int = 0
    attempts: int | None = None

    def as_row(self) -> dict[str, object]:
        row = {k: getattr(self, k) for k in SUBMISSION_COLUMNS if hasattr(self, k)}
        for s in DATA_SHEETS:
            row[f"rows_{s.table}"] = (self.row_counts or {}).get(s.table)
        return row


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame | Path) -> None:
    if isinstance(frame, Path):  # rows a reader process wrote: DuckDB reads them, not Python
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM read_parquet(?)", [str(frame)])
        return
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def mask_problem_frame(problems: pl.DataFrame) -> pl.DataFrame:
    """A problem frame with every ID-shaped token masked in its text (a value, a header, a sheet
    name): an ID typed into a code or a date column is quoted masked like one in an ID column."""
    from ingest.identity import mask_ids_expr

    text = [c for c in ("sheet", "column", "value") if c in problems.columns]
    return problems.with_columns(mask_ids_expr(pl.col(c)).alias(c) for c in text)


def _problem_frame(record: SubmissionRecord, problems: pl.DataFrame) -> pl.DataFrame:
    return (
        mask_problem_frame(problems)
        .rename({"row": "excel_row", "column": "column_header"})
        .with_columns(
            pl.lit(record.submission_id).alias("submission_id"),
            pl.lit(record.file_name).alias("file_name"),
            *message_columns(),
        )
        .select(list(PROBLEM_COLUMNS))
    )


def write_submission(
    con: duckdb.DuckDBPyConnection,
    record: SubmissionRecord,
    problems: pl.DataFrame,
    frames: dict[str, pl.DataFrame | Path] | None = None,
    supersede: list[str] | None = None,
) -> None:
    """One transaction: the log entry, its problems, its rows, and the versions it supersedes; the
    file's pending entry (being read, or waiting for a retry), if any, is replaced by this one."""
    con.execute("BEGIN TRANSACTION")
    try:
        clear_pending(con, record.file_name, record.sha256)
        for sheet in DATA_SHEETS:
            if frames and sheet.alias in frames:
                _insert(con, sheet.table, frames[sheet.alias])
        if problems.height:
            _insert(con, "problems", _problem_frame(record, problems))
        _insert(con, "submissions", pl.DataFrame([record.as_row()], schema_overrides=_polars_types()))
        if supersede:
            con.execute(
                "UPDATE raw.submissions SET status = 'superseded' WHERE submission_id IN "
                f"({', '.join('?' for _ in supersede)})",
                supersede,
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def clear_pending(con: duckdb.DuckDBPyConnection, file_name: str, sha256: str | None) -> None:
    """Remove the pending entry of a file (by name, with these bytes or not yet hashed)."""
    con.execute(
        "DELETE FROM raw.submissions WHERE status = 'pending' AND file_name = ? "
        "AND (sha256 IS NULL OR sha256 = ?)",
        [file_name, sha256],
    )


def mark_pending(con: duckdb.DuckDBPyConnection, record: SubmissionRecord, count_attempt: bool) -> int:
    """Record a file as pending (being read, or waiting for a retry); its attempts so far."""
    attempts = max(pending_attempts(con, record.file_name, record.sha256) + int(count_attempt), 1)
    con.execute("BEGIN TRANSACTION")
    try:
        clear_pending(con, record.file_name, record.sha256)
        row = replace(record, status="pending", attempts=attempts).as_row()
        _insert(con, "submissions", pl.DataFrame([row], schema_overrides=_polars_types()))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return attempts


def pending_attempts(con: duckdb.DuckDBPyConnection, file_name: str, sha256: str | None) -> int:
    row = con.execute(
        "SELECT max(coalesce(attempts, 0)) FROM raw.submissions WHERE status = 'pending' "
        "AND file_name = ? AND (sha256 IS NULL OR sha256 = ?)",
        [file_name, sha256],
    ).fetchone()
    return int(row[0] or 0) if row else 0


def _polars_types() -> dict[str, pl.DataType]:
    mapping = {
        "VARCHAR": pl.String(),
        "INTEGER": pl.Int32(),
        "BIGINT": pl.Int64(),
        "DATE": pl.Date(),
        "TIMESTAMP": pl.Datetime("us"),
    }
    return {k: mapping[v] for k, v in SUBMISSION_COLUMNS.items()}


def rows_to_store(validated: ValidatedSubmission, submission_id: str, key: bytes) -> dict[str, pl.DataFrame]:
    """The typed frames as raw rows: IDs replaced by their pseudonym, context columns dropped, and
    every ID-shaped token in a text column masked (an ID typed into a code or a free-text cell)."""
    from ingest.identity import mask_ids_expr, pseudonym_map, pseudonymize

    id_columns = [
        validated.frames[s.alias][c.name]
        for s in DATA_SHEETS
        for c in s.columns
        if c.stored and c.dtype == "national_id"
    ]
    # one HMAC per person, whichever sheets name them (a member's training rows reuse it)
    mapping = pseudonym_map(id_columns, key)
    out = {}
    for sheet in DATA_SHEETS:
        frame = validated.frames[sheet.alias]
        columns: list[pl.Expr | pl.Series] = [
            pl.lit(submission_id).alias("submission_id"),
            pl.col("_row").alias("source_row"),
            pl.col(QUARANTINED).alias("quarantined"),
        ]
        for c in sheet.columns:
            if not c.stored:
                continue
            if c.dtype == "national_id":
                columns.append(pseudonymize(frame[c.name], key, mapping).alias("person_key"))
            elif frame.schema[c.name] == pl.String:
                columns.append(mask_ids_expr(pl.col(c.name)).alias(c.name))
            else:
                columns.append(pl.col(c.name))
        out[sheet.alias] = frame.select(columns)
    return out
