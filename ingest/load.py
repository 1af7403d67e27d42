"""Write submissions to the warehouse: the archive, the raw tables and the submissions log.

A submission is the unit of change: its rows, its problems and its log entry are written in one
DuckDB transaction, so a reader never sees half of one. Raw tables keep every loaded version
(keyed by submission_id); which version is current is decided in dbt from `raw.submissions`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
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
    "status": "VARCHAR",  # accepted | rejected | superseded
    "reason_rule": "VARCHAR",
    "reason": "VARCHAR",
    "committee_org_code": "VARCHAR",
    **{f"rows_{s.table}": "INTEGER" for s in DATA_SHEETS},
    "quarantined_rows": "INTEGER",
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
    con.execute(_ddl("problems", PROBLEM_COLUMNS))
    for sheet in DATA_SHEETS:
        con.execute(_ddl(sheet.table, raw_columns(sheet)))


# --- the archive -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, or of a folder's manifest (each CSV's name and SHA-256, sorted)."""
    if path.is_dir():
        manifest = "".join(
            f"{p.name}\t{sha256_of(p)}\n"
            for p in sorted(path.iterdir())
            if p.is_file() and not p.is_symlink()
        )
        return hashlib.sha256(manifest.encode()).hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def archive_file(path: Path, archive_dir: Path, sha256: str) -> Path:
    """Keep the received bytes under archive/<sha256> (a folder's files under archive/<sha256>/)."""
    target = archive_dir / sha256[:2] / sha256
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if path.is_dir():
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        for p in sorted(path.iterdir()):
            if p.is_file() and not p.is_symlink():
                shutil.copyfile(p, partial / p.name)
    else:
        shutil.copyfile(path, partial)
    partial.rename(target)  # atomic: an archive entry is whole or absent
    return target


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

    def as_row(self) -> dict[str, object]:
        row = {k: getattr(self, k) for k in SUBMISSION_COLUMNS if hasattr(self, k)}
        for s in DATA_SHEETS:
            row[f"rows_{s.table}"] = (self.row_counts or {}).get(s.table)
        return row


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def _problem_frame(record: SubmissionRecord, problems: pl.DataFrame) -> pl.DataFrame:
    return (
        problems.rename({"row": "excel_row", "column": "column_header"})
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
    frames: dict[str, pl.DataFrame] | None = None,
    supersede: list[str] | None = None,
) -> None:
    """One transaction: the log entry, its problems, its rows, and the versions it supersedes."""
    con.execute("BEGIN TRANSACTION")
    try:
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
    """The typed frames as raw rows: IDs replaced by their pseudonym, context columns dropped."""
    from ingest.identity import pseudonym_map, pseudonymize

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
            else:
                columns.append(pl.col(c.name))
        out[sheet.alias] = frame.select(columns)
    return out
