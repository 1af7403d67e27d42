"""Write-audit-publish's last step: what BI tools read, written aside and renamed into place.

`published/marts.duckdb` (marts, dimensions, audit tables — never member-level or raw rows),
`published/parquet/<table>.parquet` for every published table and `published/csv/<mart>.csv` for
every mart (UTF-8 with BOM, so Chinese Excel opens it; formulas neutralized), with the same mart
under Chinese headers in `published/csv/zh/<mart>.csv`. Each file is written next to its target and
renamed over it: atomic on one file system, so a reader holding the old file is never disturbed,
and a failed publication leaves the last good one in place.

The documentation travels with the data. The warehouse's tables and columns carry comments (dbt's
`persist_docs`: every published column is described `<中文标签> / <English description>`, checked
by tests/unit/test_published_docs.py; the audit table's in warehouse/audit.py). `CREATE TABLE … AS
SELECT` drops comments, so they are copied with `COMMENT ON` into marts.duckdb, where SQL clients
(SQLAlchemy's inspector, `information_schema.columns`) read them; each Parquet field gets its
comment as the field metadata `description` and the file the table's as the schema metadata
`description`; the Chinese CSV's header is each column's Chinese label, the text before " / ".

Everything else in a data home is its owner's only; what is published gets the mode
`QIANGJI_PUBLISHED_MODE` says (default 0750: folders 0750, files 0640, so a BI readers' group can
read), set on each file before it is renamed into place. docs/security.md: how to give the group.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.files import partial_path
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


# A description is `<中文标签> / <English description>`: the label is what a Chinese header shows.
LABEL_SEPARATOR = " / "


def chinese_label(comment: str | None, fallback: str) -> str:
    """The Chinese label of a column's comment (the text before the first " / "), or `fallback` (the
    column's name) when the comment has none."""
    label, separator, _ = (comment or "").partition(LABEL_SEPARATOR)
    return label.strip() if separator and label.strip() else fallback


@dataclass(frozen=True)
class PublishedColumn:
    name: str
    type: str  # DuckDB's type name, e.g. VARCHAR, DECIMAL(9,4)
    comment: str | None


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    comment: str | None
    columns: tuple[PublishedColumn, ...]

    @property
    def chinese_headers(self) -> list[str]:
        """Each column's Chinese label; a label two columns share gets the column's name added."""
        labels = [chinese_label(c.comment, c.name) for c in self.columns]
        return [
            f"{label}（{c.name}）" if labels.count(label) > 1 else label
            for label, c in zip(labels, self.columns, strict=True)
        ]


@dataclass(frozen=True)
class Publication:
    database: Path
    rows: dict[str, int]
    parquet: list[Path]
    csv: list[Path]
    csv_zh: list[Path] = field(default_factory=list)
    tables: dict[str, PublishedTable] = field(default_factory=dict)  # as published, with comments


def neutralize_formula(text: str) -> str:
    """One text cell that a spreadsheet would run as a formula, with a leading apostrophe (the rule
    of `neutralize_formulas`, for the workbooks written cell by cell)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def neutralize_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_columns
    )


def _partial(target: Path) -> Path:
    return partial_path(target)


def _replace(partial: Path, target: Path, mode: PublishedMode) -> None:
    mode.apply(partial)  # before the rename: the file appears with its mode
    os.replace(partial, target)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _documentation(
    con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str
) -> tuple[str | None, list[tuple[str, str, str | None]]]:
    """A table's (or view's) comment and its columns' (name, type, comment), from DuckDB's catalog."""
    found = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?"
        " UNION ALL SELECT comment FROM duckdb_views()"
        " WHERE database_name = ? AND schema_name = ? AND view_name = ?",
        [database, schema, table] * 2,
    ).fetchall()
    columns = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [database, schema, table],
    ).fetchall()
    return (found[0][0] if found else None), columns


def _copy_comments(con: duckdb.DuckDBPyConnection, source: tuple[str, str], table: str) -> None:
    """The warehouse's comments of `source` (schema, table) onto published.main.`table`."""
    [database] = con.execute("SELECT current_database()").fetchone()
    comment, columns = _documentation(con, database, *source)
    target = f"published.main.{_identifier(table)}"
    if comment:
        con.execute(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
    for name, _, column_comment in columns:
        if column_comment:
            con.execute(f"COMMENT ON COLUMN {target}.{_identifier(name)} IS {_literal(column_comment)}")


def _documented_arrow(data: pa.Table, table: PublishedTable) -> pa.Table:
    """`data` with each field's comment as its metadata `description`, the table's in the schema's."""
    comments = {c.name: c.comment for c in table.columns}
    fields = [
        f.with_metadata({"description": comments[f.name]}) if comments.get(f.name) else f for f in data.schema
    ]
    metadata = dict(data.schema.metadata or {})
    if table.comment:
        metadata[b"description"] = table.comment.encode()
    return pa.Table.from_arrays(data.columns, schema=pa.schema(fields, metadata=metadata))


def publish_marts(
    warehouse: Path, published_dir: Path, tables: list[str], mode: PublishedMode | None = None
) -> Publication:
    """Copy `tables` (schema.table or table in main) from the warehouse into the published folder,
    with their comments.

    Folders and files get `mode` (default: from QIANGJI_PUBLISHED_MODE, read now)."""
    mode = mode or PublishedMode.from_env()
    csv_zh_dir = published_dir / "csv" / "zh"
    folders = (published_dir, published_dir / "parquet", published_dir / "csv", csv_zh_dir)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        mode.apply(folder)
    database = published_dir / PUBLISHED_DATABASE
    partial_db = _partial(database)
    partial_db.unlink(missing_ok=True)
    documented: dict[str, PublishedTable] = {}
    data: dict[str, pa.Table] = {}
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"ATTACH '{partial_db}' AS published")
            for qualified in tables:
                schema, _, table = qualified.rpartition(".")
                source = f"{schema or 'main'}.{table}"
                con.execute(f"CREATE TABLE published.main.{table} AS SELECT * FROM {source}")
                _copy_comments(con, (schema or "main", table), table)
                data[table] = con.sql(f"SELECT * FROM published.main.{table}").to_arrow_table()
                comment, columns = _documentation(con, "published", "main", table)
                documented[table] = PublishedTable(
                    table, data[table].num_rows, comment, tuple(PublishedColumn(*c) for c in columns)
                )
            con.execute("DETACH published")
        parquet, csv, csv_zh = [], [], []
        for table, arrow in data.items():
            target = published_dir / "parquet" / f"{table}.parquet"
            pq.write_table(_documented_arrow(arrow, documented[table]), _partial(target), compression="zstd")
            parquet.append(target)
            if table.startswith("mart_"):
                frame = neutralize_formulas(pl.from_arrow(arrow))
                target = published_dir / "csv" / f"{table}.csv"
                frame.write_csv(_partial(target), include_bom=True)
                csv.append(target)
                target = csv_zh_dir / f"{table}.csv"
                frame.rename(
                    dict(zip(frame.columns, documented[table].chinese_headers, strict=True))
                ).write_csv(_partial(target), include_bom=True)
                csv_zh.append(target)
        # everything is written: now rename, the database last (it is what most readers open)
        for target in [*parquet, *csv, *csv_zh]:
            _replace(_partial(target), target, mode)
        _replace(partial_db, database, mode)
    finally:
        # `*.partial*`: DuckDB leaves its write-ahead log next to a database it could not finish
        for leftover in published_dir.rglob(f"*.{os.getpid()}.partial*"):
            leftover.unlink(missing_ok=True)
    rows = {name: table.rows for name, table in documented.items()}
    return Publication(database, rows, parquet, csv, csv_zh, documented)
