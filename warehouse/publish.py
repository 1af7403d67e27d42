"""Write-audit-publish's last step: what BI tools read, written aside and renamed into place.

`published/marts.duckdb` (marts, dimensions, audit tables — never member-level or raw rows),
`published/parquet/<table>.parquet` for every published table and `published/csv/<mart>.csv` for
every mart (UTF-8 with BOM, so Chinese Excel opens it; formulas neutralized). Each file is written
next to its target and renamed over it: atomic on one file system, so a reader holding the old
file is never disturbed, and a failed publication leaves the last good one in place.

Everything else in a data home is its owner's only; what is published gets the mode
`QIANGJI_PUBLISHED_MODE` says (default 0750: folders 0750, files 0640, so a BI readers' group can
read), set on each file before it is renamed into place. docs/security.md: how to give the group.
"""

from __future__ import annotations

import os
import stat
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
    "mart_target_gaps",
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


PUBLISHED_MODE_ENV = "QIANGJI_PUBLISHED_MODE"
DEFAULT_PUBLISHED_MODE = 0o750


class PublishedModeError(ValueError):
    """QIANGJI_PUBLISHED_MODE is not a mode published/ may have."""


@dataclass(frozen=True)
class PublishedMode:
    """The permissions of published/: `folders` as given (e.g. 0750, or 02750 to keep the setgid
    bit), files the same without execute bits (0640). The owner always reads and writes; nobody else
    may write (a reader who could replace marts.duckdb could show every BI user made-up numbers)."""

    folders: int = DEFAULT_PUBLISHED_MODE

    def __post_init__(self) -> None:
        if self.folders & ~0o2777 or self.folders & 0o700 != 0o700 or self.folders & 0o022:
            raise PublishedModeError(
                f"{PUBLISHED_MODE_ENV}={self.folders:04o}: a published folder's mode must give its owner rwx "
                "(0700), may give group and others r and x (e.g. 0750, 0755, or 02750 with the setgid bit) "
                "and never write"
            )

    @property
    def files(self) -> int:
        return self.folders & 0o666

    @classmethod
    def from_env(cls) -> PublishedMode:
        """QIANGJI_PUBLISHED_MODE (octal: 0750, 750, 0o750), or the default 0750."""
        raw = (os.environ.get(PUBLISHED_MODE_ENV) or "").strip()
        if not raw:
            return cls()
        try:
            folders = int(raw.removeprefix("0o"), 8)
        except ValueError as e:
            raise PublishedModeError(f"{PUBLISHED_MODE_ENV}={raw!r} is not an octal mode such as 0750") from e
        return cls(folders)

    def apply(self, path: Path) -> None:
        """Give `path` (a file or a folder of published/) its mode, if it is this user's. A folder's
        setgid bit, set by whoever gave published/ its group, is kept."""
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
            return
        if stat.S_ISDIR(info.st_mode):
            mode = self.folders | (info.st_mode & stat.S_ISGID)
        else:
            mode = self.files
        if stat.S_IMODE(info.st_mode) != mode:
            os.chmod(path, mode)


def apply_published_mode(published_dir: Path, mode: PublishedMode | None = None) -> None:
    """Give published/ and everything in it `mode` (default: from QIANGJI_PUBLISHED_MODE): what a
    publication wrote, the dashboard, and what an earlier publication left with another mode."""
    if not published_dir.is_dir():
        return
    mode = mode or PublishedMode.from_env()
    mode.apply(published_dir)
    for path in sorted(published_dir.rglob("*")):
        try:
            mode.apply(path)
        except FileNotFoundError:  # a partial file renamed into place meanwhile
            pass


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


def _replace(partial: Path, target: Path, mode: PublishedMode) -> None:
    mode.apply(partial)  # before the rename: the file appears with its mode
    os.replace(partial, target)


def publish_marts(
    warehouse: Path, published_dir: Path, tables: list[str], mode: PublishedMode | None = None
) -> Publication:
    """Copy `tables` (schema.table or table in main) from the warehouse into the published folder.

    Folders and files get `mode` (default: from QIANGJI_PUBLISHED_MODE, read now)."""
    mode = mode or PublishedMode.from_env()
    published_dir.mkdir(parents=True, exist_ok=True)
    (published_dir / "parquet").mkdir(exist_ok=True)
    (published_dir / "csv").mkdir(exist_ok=True)
    for folder in (published_dir, published_dir / "parquet", published_dir / "csv"):
        mode.apply(folder)
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
            _replace(_partial(target), target, mode)
        _replace(partial_db, database, mode)
    finally:
        # `*.partial*`: DuckDB leaves its write-ahead log next to a database it could not finish
        for leftover in published_dir.rglob(f"*.{os.getpid()}.partial*"):
            leftover.unlink(missing_ok=True)
    return Publication(database, rows, parquet, csv)
