"""`qiangji check FILE --annotate OUT.xlsx`: the clerk's own workbook with every problem marked.

A copy of the submission (a zip or folder of CSVs becomes a workbook, a sheet per CSV) where every
cell a problem names is filled red and carries a comment in Chinese and English; a problem of a
whole row marks the row's first cell, a problem of a column its header; a structural problem (the
file is rejected whole) is a comment on the cover's first cell. A first sheet 问题清单 lists every
problem with a link to its cell. The clerk's cells keep their values; problem values in the list are
masked as everywhere (national IDs as `120104********1234`).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import RULES, Problem
from ingest.read import normalize_header, zip_entry_name
from ingest.spec import COVER, SHEETS
from warehouse.publish import neutralize_formula

LIST_SHEET = "问题清单"
PROBLEM_FILL = "FFC7CE"  # Excel's own "light red fill" of conditional formatting
WARNING_FILL = "FFEB9C"  # its "light yellow": a warning does not quarantine the row
HEADER_FILL = "DDEBF7"
COMMENT_AUTHOR = "qiangji check"
# Excel shows at most this many characters of a comment comfortably; more problems in one cell
# are counted, and all are in the list.
MAX_COMMENT_PROBLEMS = 5
LIST_HEADERS = (
    ("严重程度", "severity"),
    ("规则", "rule"),
    ("工作表", "sheet"),
    ("行", "row"),
    ("列", "column"),
    ("值(已脱敏)", "value (masked)"),
    ("说明", "message"),
    ("Message", "message (en)"),
    ("位置", "cell"),
)
SEVERITY_ZH = {"structural": "整份退回", "row": "行错误(隔离)", "warning": "警告"}


# Structural rules found in a file's content, once the guarded reader had read it within its limits:
# the copy shows the file. Any other structural rule (over a limit, unsafe, unreadable, a reader
# that died, a name or a link) means the file itself is not opened again here: the copy is the list
# alone, the problem on a cover of its own. The CLI process has no reader's memory or time limits.
CONTENT_RULES = frozenset(
    {
        "missing_sheet",
        "duplicate_sheet",
        "duplicate_column",
        "missing_column",
        "empty_sheet",
        "cover_mismatch",
        "committee_count",
        "too_many_row_errors",
        "file_name",
        "unknown_district",
        "version_conflict",
    }
)


class AnnotateError(ValueError):
    """The submission cannot be copied into a workbook (e.g. a legacy .xls or an unreadable file)."""


@dataclass(frozen=True)
class Annotation:
    path: Path
    problems: int  # listed in 问题清单
    marked_cells: int  # cells filled and commented


def annotate_submission(source: Path, problems: Iterable[Problem], out: Path) -> Annotation:
    """Write `out`: the submission at `source` with `problems` marked (see the module's docstring)."""
    from openpyxl import Workbook, load_workbook

    problems = list(problems)
    suffix = source.suffix.lower()
    if any(p.severity == "structural" and p.rule not in CONTENT_RULES for p in problems):
        workbook = Workbook()  # never opened again: the list and the cover's comment say why
        workbook.remove(workbook.active)
    elif source.is_dir() or suffix == ".zip":
        workbook = Workbook()
        workbook.remove(workbook.active)
        for name, rows in _csv_tables(source):
            sheet = workbook.create_sheet(_sheet_title(name))
            for row in rows:
                sheet.append(row)
    elif suffix == ".xlsx":
        try:
            workbook = load_workbook(source, rich_text=True)
        except Exception as e:  # openpyxl refuses what calamine read: say so, nothing half-written
            raise AnnotateError(f"{source.name}: cannot be copied as a workbook ({e})") from None
    else:
        raise AnnotateError(f"{source.name}: only .xlsx, .zip and folders of CSVs can be annotated")
    marked = _mark_cells(workbook, problems)
    _write_list(workbook, problems, marked)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        workbook.save(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return Annotation(out, len(problems), len({cell for cell in marked.values() if cell}))


# --- copying CSVs --------------------------------------------------------------------------------


def _csv_tables(source: Path) -> list[tuple[str, list[list[str]]]]:
    """The CSVs of a zip or folder as (name without .csv, rows of text), in name order."""
    if source.is_dir():
        files = sorted(p for p in source.rglob("*.csv") if p.is_file() and not p.is_symlink())
        return [(p.stem, _csv_rows(p.read_bytes())) for p in files]
    with zipfile.ZipFile(source) as archive:
        entries = sorted(
            (i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")),
            key=lambda i: i.filename,
        )
        return [(Path(zip_entry_name(i)).stem, _csv_rows(archive.read(i))) for i in entries]


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8", errors="replace")
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def _sheet_title(name: str) -> str:
    """A sheet title Excel accepts: 31 characters, none of []:*?/\\."""
    title = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31]
    return title or "sheet"


# --- marking cells -------------------------------------------------------------------------------


def _find_sheet(workbook, label: str | None):
    """The worksheet a problem's sheet (its Chinese name) names, by name or English alias."""
    if label is None:
        return None
    spec = next((s for s in SHEETS if s.name == label), None)
    for sheet in workbook.worksheets:
        name = normalize_header(sheet.title)
        if name == label or (spec is not None and name.lower() == spec.alias):
            return sheet
    return None


def _column_index(sheet, header: str | None) -> int | None:
    """The 1-based column whose header (row 1, normalized as the reader does) is `header`."""
    if header is None:
        return None
    spec = next((s for s in SHEETS if s.name == sheet.title), None)
    names = {header}
    if spec is not None:
        names |= {c.name for c in spec.columns if c.header == header}
    for cell in next(sheet.iter_rows(min_row=1, max_row=1), ()):
        if normalize_header(cell.value) in names:
            return cell.column
    return None


def _mark_cells(workbook, problems: list[Problem]) -> dict[int, str | None]:
    """Fill and comment the cell of each problem; returns, per problem, its cell as 'sheet'!A1."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname

    by_cell: dict[tuple[str, int, int], list[Problem]] = defaultdict(list)
    where: dict[int, str | None] = {}
    for i, problem in enumerate(problems):
        sheet, row, column = _locate(workbook, problem)
        if sheet is None:
            where[i] = None
            continue
        by_cell[(sheet.title, row, column)].append(problem)
        where[i] = f"{quote_sheetname(sheet.title)}!{get_column_letter(column)}{row}"
    for (title, row, column), cell_problems in by_cell.items():
        cell = workbook[title].cell(row=row, column=column)
        worst = "row" if any(p.severity != "warning" for p in cell_problems) else "warning"
        colour = PROBLEM_FILL if worst == "row" else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        shown = cell_problems[:MAX_COMMENT_PROBLEMS]
        text = "\n".join(f"{p.message_zh}\n{p.message_en} [{p.rule}]" for p in shown)
        if len(cell_problems) > len(shown):
            more = len(cell_problems) - len(shown)
            text += f"\n… 另有 {more} 个问题 / {more} more: see {LIST_SHEET}"
        comment = Comment(text, COMMENT_AUTHOR)
        comment.width, comment.height = 320, 40 + 36 * len(shown)
        cell.comment = comment
    return where


def _locate(workbook, problem: Problem):
    """(worksheet, row, column) of a problem's cell: its own; the row's first cell; the column's
    header; the cover's first cell for a structural problem or one without a sheet."""
    sheet = _find_sheet(workbook, problem.sheet)
    if sheet is None and (problem.severity == "structural" or problem.sheet is None):
        sheet = _find_sheet(workbook, COVER.name)
        if sheet is None:
            sheet = workbook.create_sheet(COVER.name, 0)
        return sheet, 1, 1
    if sheet is None:
        return None, 0, 0
    column = _column_index(sheet, problem.column)
    row = problem.row if problem.row and problem.row >= 1 else 1
    return sheet, row, column or 1


# --- the list ------------------------------------------------------------------------------------


def _write_list(workbook, problems: list[Problem], where: dict[int, str | None]) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    sheet = workbook.create_sheet(LIST_SHEET, 0)
    sheet.append([f"{zh} / {en}" for zh, en in LIST_HEADERS])
    header_fill = PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    if not problems:
        sheet.append(["", "", "", "", "", "", "没有发现问题", "no problem found", ""])
    for i, p in enumerate(problems):
        location = where.get(i)
        sheet.append(
            [
                SEVERITY_ZH.get(p.severity, p.severity),
                p.rule,
                p.sheet or "",
                p.row if p.row is not None else "",
                p.column or "",
                _as_text(p.value),
                p.message_zh if p.rule in RULES else p.rule,
                p.message_en if p.rule in RULES else p.rule,
                location.replace("'", "") if location else "",
            ]
        )
        if location:
            cell = sheet.cell(row=sheet.max_row, column=len(LIST_HEADERS))
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=location, display=cell.value)
            cell.font = Font(color="0563C1", underline="single")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for letter, width in zip("ABCDEFGHI", (14, 24, 10, 8, 16, 24, 48, 48, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.active = 0


def _as_text(value: object) -> str:
    """A problem's value as the list shows it: text, so Excel never runs or converts it."""
    return "" if value is None else neutralize_formula(str(value))
