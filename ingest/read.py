"""Read a submission (xlsx/xls workbook, zip of CSVs, or folder of CSVs) into string frames.

Every cell is read as text; typing happens in `normalize`. Each frame keeps `_row`, the row
number a person sees in Excel (the header is row 1), so every problem can point at its cell.
Names of people are dropped here and never leave this module.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from ingest.containers import (
    EXCEL_MAX_ROWS,
    check_compression,
    csv_first_record_fields,
    declared_entries,
    inspect_workbook,
)
from ingest.errors import Problem, StructuralError
from ingest.settings import IngestSettings
from ingest.spec import COVER, DATA_SHEETS, FILE_NAME_PATTERN, HEADER_ALIASES, SHEETS, Sheet
from warehouse.reference import Period, reporting_units

Container = Literal["xlsx", "xls", "zip", "folder"]
ROW = "_row"
PRESENT = "_present__"  # prefix of the flag saying a never-stored required cell (a name) is filled
LINE_BREAK = "_line_break__"  # prefix of the flag saying a never-stored cell (a name) holds a line break


@dataclass(frozen=True)
class SubmissionName:
    file_name: str
    district_code: str
    period: Period
    version: int
    container: Container

    @property
    def key(self) -> str:
        return f"{self.district_code}_{self.period}_v{self.version}"


def parse_submission_name(file_name: str, is_dir: bool = False) -> SubmissionName:
    """Check an untrusted file name against the spec's pattern and the reporting units."""

    def fail(rule: str) -> StructuralError:
        return StructuralError(Problem(file=file_name, rule=rule, severity="structural"))

    m = FILE_NAME_PATTERN.fullmatch(file_name)  # not match: `$` also matches before a final newline
    if not m or bool(m.group("ext")) == is_dir:
        raise fail("file_name")
    district = m.group("district").upper()
    period = Period(int(m.group("year")), int(m.group("half")))
    unit = reporting_units().get(district)
    if unit is None or not unit.reports_in(period):
        raise fail("unknown_district")
    ext = (m.group("ext") or "").lower().lstrip(".")
    container: Container = "folder" if not ext else ext  # type: ignore[assignment]
    return SubmissionName(file_name, district, period, int(m.group("version") or 1), container)


@dataclass
class RawSheet:
    sheet: Sheet
    frame: pl.DataFrame  # canonical column names, all String, plus _row
    source_name: str  # the sheet or CSV name as found


@dataclass
class RawSubmission:
    name: SubmissionName
    cover: dict[str, str | None]
    sheets: dict[str, RawSheet]  # by sheet alias
    warnings: list[Problem] = field(default_factory=list)


def normalize_header(text: object) -> str:
    """NFKC, trimmed, inner spaces and a trailing * removed, then whole-header aliases."""
    if text is None:
        return ""
    h = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    h = "".join(h.split()).rstrip("*")
    return HEADER_ALIASES.get(h, h)


def _match_sheet(name: str) -> Sheet | None:
    n = normalize_header(name)
    for sheet in SHEETS:
        if n == sheet.name or n.lower() == sheet.alias:
            return sheet
    return None


def _sheet_label(name: str) -> str | None:
    """How a problem names a workbook sheet that is read (None: a sheet of no table, never read)."""
    sheet = _match_sheet(name)
    return sheet.name if sheet else None


def read_submission(path: Path, settings: IngestSettings | None = None) -> RawSubmission:
    """Read and shape a submission; raise StructuralError for what rejects it whole."""
    settings = settings or IngestSettings()
    name = parse_submission_name(path.name, is_dir=path.is_dir())
    if not path.is_dir() and path.stat().st_size > settings.max_file_bytes:
        raise StructuralError(Problem(path.name, "file_too_large", "structural"))
    if name.container in ("xlsx", "xls"):
        tables = _read_workbook(path, settings)
        return _shape(name, tables)
    with _csv_folder(path, name, settings) as folder:
        return _shape(name, _read_csv_folder(folder, path.name, settings))


# --- containers --------------------------------------------------------------------------------


def _read_workbook(path: Path, settings: IngestSettings) -> dict[str, tuple[str, pl.DataFrame]]:
    import fastexcel

    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
        # An .xlsx is looked into before the reader touches it (zip bombs, a sheet's grid). A legacy
        # .xls is an OLE2 compound file, not a zip: only its size is capped (read_submission); one
        # that is a zip after all is looked into all the same.
        if path.suffix.lower() == ".xlsx" or is_zip:
            inspect_workbook(path, settings, _sheet_label)
        reader = fastexcel.read_excel(str(path))
        found: dict[str, tuple[str, pl.DataFrame]] = {}
        for sheet_name in reader.sheet_names:
            sheet = _match_sheet(sheet_name)
            if sheet is None:
                continue
            if sheet.alias in found:
                raise StructuralError(
                    Problem(path.name, "duplicate_sheet", "structural", sheet=sheet.name, value=sheet_name)
                )
            data = _with_error_values(reader.load_sheet(sheet_name, header_row=None, dtypes="string"))
            found[sheet.alias] = (sheet_name, data)
        return found
    except StructuralError:
        raise
    except Exception as exc:  # corrupt, encrypted or not a workbook: a message, never a trace
        raise StructuralError(
            Problem(path.name, "unreadable_file", "structural", value=type(exc).__name__)
        ) from None


_CALAMINE_ERRORS = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}


def _with_error_values(sheet) -> pl.DataFrame:
    """The sheet as text, a cell holding an Excel error (#N/A, #DIV/0!…) as that text.

    fastexcel reads an error cell as empty, which would silently turn a failed formula into a
    missing value (or no value at all in an optional column); as text it gets its own message.
    """
    batch, errors = sheet.to_arrow_with_errors()
    data = pl.from_arrow(batch)
    if not errors:
        return data  # type: ignore[return-value]
    columns = data.columns  # type: ignore[union-attr]
    fixes: dict[str, dict[int, str]] = {}
    for error in errors.errors:
        row, col = error.offset_position
        match = re.search(r"Error\((\w+)\)", error.detail)
        fixes.setdefault(columns[col], {})[row] = _CALAMINE_ERRORS.get(
            match.group(1) if match else "", "#N/A"
        )
    return data.with_columns(  # type: ignore[union-attr]
        pl.Series(name, [fix.get(i, v) for i, v in enumerate(data[name].to_list())], pl.String)  # type: ignore[index]
        for name, fix in fixes.items()
    )


@contextmanager
def _csv_folder(path: Path, name: SubmissionName, settings: IngestSettings) -> Iterator[Path]:
    if name.container == "folder":
        _check_folder(path, settings)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="qiangji-zip-") as tmp:
        yield _extract_zip(path, Path(tmp), settings)


def _check_folder(path: Path, settings: IngestSettings) -> None:
    """A folder's limits are a zip's (as ingest's staging checks them): its regular files, counted
    and sized with lstat before any is read. Links and subfolders are never read."""
    files = total = 0
    with os.scandir(path) as entries:
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode):
                files, total = files + 1, total + info.st_size
    over = (
        f"{files} files"
        if files > settings.max_zip_entries
        else ("size" if total > settings.max_zip_expanded_bytes else None)
    )
    if over:
        raise StructuralError(Problem(path.name, "zip_limits", "structural", value=over))


def zip_entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its writer meant it: UTF-8 when the zip says so, else GB18030."""
    if info.flag_bits & 0x800:  # the zip says UTF-8
        return info.filename
    try:  # zipfile decoded it as cp437; Chinese Windows wrote GB18030
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _extract_zip(path: Path, into: Path, settings: IngestSettings) -> Path:
    def unsafe(entry: str) -> StructuralError:
        return StructuralError(Problem(path.name, "unsafe_entry", "structural", value=entry))

    def limits(value: str) -> StructuralError:
        return StructuralError(Problem(path.name, "zip_limits", "structural", value=value))

    try:
        # the count its end record declares: zipfile would parse a million-entry directory first
        declared = declared_entries(path)
        if declared is not None and declared > settings.max_zip_entries:
            raise limits(f"{declared} entries")
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        raise StructuralError(Problem(path.name, "unreadable_file", "structural")) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > settings.max_zip_entries:
            raise limits(f"{len(infos)} entries")
        if sum(i.file_size for i in infos) > settings.max_zip_expanded_bytes:
            raise limits("expanded size")
        check_compression(path.name, infos, settings, zip_entry_name)
        top_dirs = set()
        files: list[tuple[zipfile.ZipInfo, str, int]] = []  # entry, its file name, its depth
        for info in infos:
            entry = zip_entry_name(info)
            # Windows tools may write the folder with backslashes: a separator like "/"
            parts = entry.replace("\\", "/").split("/")
            if entry.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise unsafe(entry)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise unsafe(entry)
            if info.flag_bits & 0x1:
                raise StructuralError(Problem(path.name, "unreadable_file", "structural", value="encrypted"))
            parts = [p for p in parts if p]
            if info.is_dir() or entry.endswith("\\"):
                if len(parts) > 1:
                    raise unsafe(entry)
                if parts:
                    top_dirs.add(parts[0])
                continue
            if not parts or len(parts) > 2:
                raise unsafe(entry)
            if len(parts) == 2:
                top_dirs.add(parts[0])
            files.append((info, parts[-1], len(parts)))
        if len(top_dirs) > 1 or (top_dirs and any(depth == 1 for _, _, depth in files)):
            raise unsafe(", ".join(sorted(top_dirs)))
        budget = settings.max_zip_expanded_bytes
        for info, leaf, _ in files:
            target = into / leaf
            if target.exists():
                raise unsafe(leaf)
            try:
                with archive.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        budget -= len(chunk)
                        if budget < 0:  # the declared sizes lied: a zip bomb
                            raise StructuralError(
                                Problem(path.name, "zip_limits", "structural", value="expanded size")
                            )
                        dst.write(chunk)
            # a damaged entry (bad CRC, corrupt deflate data, a method zipfile cannot read)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise StructuralError(
                    Problem(path.name, "unreadable_file", "structural", value=type(exc).__name__)
                ) from None
    return into


def _utf8_copy(path: Path, tmp: Path) -> Path:
    """`path` if it is UTF-8 (BOM or not), else a streaming GB18030 → UTF-8 copy in `tmp`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return path
    except UnicodeDecodeError:
        pass
    out = tmp / (path.stem + ".utf8.csv")
    with (
        open(path, encoding="gb18030", newline="") as src,
        open(out, "w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, 1 << 20)
    return out


def _read_csv_folder(
    folder: Path, file_name: str, settings: IngestSettings
) -> dict[str, tuple[str, pl.DataFrame]]:
    found: dict[str, tuple[str, pl.DataFrame]] = {}
    with tempfile.TemporaryDirectory(prefix="qiangji-csv-") as tmp:
        for csv_path in sorted(folder.iterdir()):
            if csv_path.is_symlink() or not csv_path.is_file() or csv_path.suffix.lower() != ".csv":
                continue
            sheet = _match_sheet(csv_path.stem)
            if sheet is None:
                continue
            if sheet.alias in found:
                raise StructuralError(
                    Problem(file_name, "duplicate_sheet", "structural", sheet=sheet.name, value=csv_path.name)
                )
            try:
                data = _read_csv(_utf8_copy(csv_path, Path(tmp)), file_name, sheet, settings)
            except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
                raise StructuralError(
                    Problem(
                        file_name, "unreadable_file", "structural", sheet=sheet.name, value=type(exc).__name__
                    )
                ) from None
            found[sheet.alias] = (csv_path.name, data)
    return found


def _read_csv(path: Path, file_name: str, sheet: Sheet, settings: IngestSettings) -> pl.DataFrame:
    """A CSV as text columns, never more than a sheet can hold: polars makes a column of every field
    of the first record (a line of commas would be millions), and reads no more rows than allowed."""
    fields = csv_first_record_fields(path, settings.max_sheet_columns)
    if fields > settings.max_sheet_columns:
        raise StructuralError(
            Problem(file_name, "sheet_too_large", "structural", sheet=sheet.name, value=f"{fields}+ columns")
        )
    max_rows = min(EXCEL_MAX_ROWS, settings.max_sheet_cells // fields)  # the header is a row
    data = pl.read_csv(path, has_header=False, infer_schema=False, encoding="utf8", n_rows=max_rows + 1)
    if data.height > max_rows:
        rule = "too_many_rows" if max_rows == EXCEL_MAX_ROWS else "sheet_too_large"
        value = f"> {max_rows} rows" + ("" if rule == "too_many_rows" else f" × {fields} columns")
        raise StructuralError(Problem(file_name, rule, "structural", sheet=sheet.name, value=value))
    return data


# --- shaping: headers, required columns, cover ----------------------------------------------------


def _shape(name: SubmissionName, tables: dict[str, tuple[str, pl.DataFrame]]) -> RawSubmission:
    file = name.file_name
    missing = [s for s in SHEETS if s.alias not in tables]
    if missing:
        raise StructuralError(Problem(file, "missing_sheet", "structural", sheet=missing[0].name))
    warnings: list[Problem] = []
    cover = _read_cover(file, tables["cover"][1])
    sheets: dict[str, RawSheet] = {}
    for sheet in DATA_SHEETS:
        source, data = tables[sheet.alias]
        frame, extra = _apply_headers(file, sheet, data)
        warnings += [Problem(file, "extra_column", "warning", sheet=sheet.name, column=h) for h in extra]
        if sheet.must_have_rows and frame.height == 0:
            raise StructuralError(Problem(file, "empty_sheet", "structural", sheet=sheet.name))
        sheets[sheet.alias] = RawSheet(sheet, frame, source)
    return RawSubmission(name, cover, sheets, warnings)


def _apply_headers(file: str, sheet: Sheet, data: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    if data.height == 0:
        raise StructuralError(
            Problem(
                file,
                "missing_column",
                "structural",
                sheet=sheet.name,
                column=sheet.required_columns[0].header,
            )
        )
    headers = [normalize_header(v) for v in data.row(0)]
    by_header = {c.header: c for c in sheet.columns} | {c.name: c for c in sheet.columns}
    selected: dict[str, str] = {}  # source column -> canonical name
    present: dict[str, str] = {}  # source column of a required, never-stored column -> its name
    never_stored: dict[str, str] = {}  # source column of any never-stored column (a name) -> its name
    extra: list[str] = []
    for source, header in zip(data.columns, headers, strict=True):
        column = by_header.get(header)
        if column is None:
            if header:
                extra.append(header)
            continue
        if column.name in selected.values():
            raise StructuralError(
                Problem(file, "duplicate_column", "structural", sheet=sheet.name, column=header)
            )
        if column.stored:
            selected[source] = column.name
            continue
        never_stored[source] = column.name  # a name: only whether it holds a line break leaves this module
        if column.required:  # and whether it is there
            present[source] = column.name
    found = set(selected.values()) | {c.name for c in sheet.columns if not c.stored and c.header in headers}
    for column in sheet.required_columns:
        if column.name not in found:
            raise StructuralError(
                Problem(file, "missing_column", "structural", sheet=sheet.name, column=column.header)
            )
    frame = (
        data.slice(1)
        .with_row_index(ROW, offset=2)
        .select(
            pl.col(ROW).cast(pl.Int64),
            *[pl.col(s).alias(n) for s, n in selected.items()],
            *[
                (pl.col(s).str.normalize("NFKC").str.strip_chars().str.len_chars() > 0)
                .fill_null(False)
                .alias(f"{PRESENT}{n}")
                for s, n in present.items()
            ],
            # a stray quote in a CSV swallows the next rows into the cell, line breaks and all
            *[
                pl.col(s).str.strip_chars().str.contains(r"[\r\n]").fill_null(False).alias(f"{LINE_BREAK}{n}")
                for s, n in never_stored.items()
            ],
        )
    )
    for column in sheet.columns:  # optional columns the file left out are simply empty
        if column.stored and column.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column.name))
    # rows with nothing in them (Excel keeps formatted empty rows) are not rows
    value_columns = [c for c in frame.columns if c != ROW and not c.startswith((PRESENT, LINE_BREAK))]
    flags = [c for c in frame.columns if c.startswith(PRESENT)]
    filled = [pl.col(c).str.strip_chars().str.len_chars() > 0 for c in value_columns]
    frame = frame.filter(pl.any_horizontal(*filled, *[pl.col(f) for f in flags]))
    return frame, extra


def _read_cover(file: str, data: pl.DataFrame) -> dict[str, str | None]:
    by_header = {c.header: c for c in COVER.columns} | {c.name: c for c in COVER.columns}
    cover: dict[str, str | None] = {}
    if data.width >= 2:
        for key, value in data.select(data.columns[:2]).iter_rows():
            column = by_header.get(normalize_header(key))
            if column is not None and column.stored:
                cover[column.name] = value
    for column in COVER.required_columns:
        if not cover.get(column.name):
            raise StructuralError(
                Problem(file, "missing_column", "structural", sheet=COVER.name, column=column.header)
            )
    return cover
