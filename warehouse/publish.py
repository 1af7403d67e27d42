"""Write-audit-publish's last step: what BI tools read, written aside and renamed into place.

`published/marts.duckdb` (marts, dimensions, audit tables — never member-level or raw rows),
`published/parquet/<table>.parquet` for every published table and `published/csv/<mart>.csv` for
every mart (UTF-8 with BOM, so Chinese Excel opens it; formulas neutralized). Each file is written
next to its target and renamed over it: atomic on one file system, so a reader holding the old
file is never disturbed, and a failed publication leaves the last good one in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from warehouse.layout import PUBLISHED_DATABASE

# The dbt models BI tools get: marts and dimensions only, no member-level or raw rows (the audit
# tables of the warehouse's `audit` schema are added by the publishing step).
PUBLISHED_MODELS = [
    "mart_target_attainment",
    "mart_target_attainment_current_districts",
    "mart_member_development",
    "mart_organization_coverage",
    "mart_cadre_training",
    "mart_submission_status",
    "mart_cross_district_duplicates",
    "dim_target",
    "dim_district",
    "dim_period",
    "audit_submission_problems",
]

# A cell starting with one of these is a formula to Excel, LibreOffice and WPS (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Publication:
    database: Path
    rows: dict[str, int]
    parquet: list[Path]
    csv: list[Path]


def neutralize_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_columns
    )


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


def _replace(partial: Path, target: Path) -> None:
    os.replace(partial, target)


def publish_marts(warehouse: Path, published_dir: Path, tables: list[str]) -> Publication:
    """Copy `tables` (schema.table or table in main) from the warehouse into the published folder."""
    published_dir.mkdir(parents=True, exist_ok=True)
    (published_dir / "parquet").mkdir(exist_ok=True)
    (published_dir / "csv").mkdir(exist_ok=True)
    database = published_dir / PUBLISHED_DATABASE
    partial_db = _partial(database)
    partial_db.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    frames: dict[str, pl.DataFrame] = {}
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"ATTACH '{partial_db}' AS published")
            for qualified in tables:
                schema, _, table = qualified.rpartition(".")
                source = f"{schema or 'main'}.{table}"
                con.execute(f"CREATE TABLE published.main.{table} AS SELECT * FROM {source}")
                frames[table] = con.sql(f"SELECT * FROM published.main.{table}").pl()
                rows[table] = frames[table].height
            con.execute("DETACH published")
        parquet, csv = [], []
        for table, frame in frames.items():
            target = published_dir / "parquet" / f"{table}.parquet"
            frame.write_parquet(_partial(target))
            parquet.append(target)
            if table.startswith("mart_"):
                target = published_dir / "csv" / f"{table}.csv"
                neutralize_formulas(frame).write_csv(_partial(target), include_bom=True)
                csv.append(target)
        # everything is written: now rename, the database last (it is what most readers open)
        for target in [*parquet, *csv]:
            _replace(_partial(target), target)
        _replace(partial_db, database)
    finally:
        # `*.partial*`: DuckDB leaves its write-ahead log next to a database it could not finish
        for leftover in published_dir.rglob(f"*.{os.getpid()}.partial*"):
            leftover.unlink(missing_ok=True)
    return Publication(database, rows, parquet, csv)
