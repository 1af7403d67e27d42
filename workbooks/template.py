"""`qiangji template UNIT PERIOD`: the official workbook a reporting unit fills for a half-year.

Every sheet and header of the contract (ingest/spec.py, the one description of the format) in
order, a required header marked `*` (the reader strips it); a note on each header saying what goes
there; drop-downs for every code list and boolean, from the dbt seeds that validation reads too
(a hidden sheet 代码表 holds the lists: Excel's inline lists stop at 255 characters); date columns
formatted as dates; the cover filled in. When the warehouse holds an accepted earlier submission of
the unit, its 单位 and 组织 rows are filled in (never members: names and IDs are not kept), so the
clerk updates what changed. Written with xlsxwriter (shared strings, as Excel writes).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.spec import COVER, ORGANIZATIONS, SHEETS, UNITS, Column, Sheet
from warehouse.reference import Period, code_values, reporting_units

CODES_SHEET = "代码表"
BOOLEAN_CODES = ("是", "否")
DATE_FORMAT = "yyyy-mm-dd"
LAST_ROW = 1_048_575  # 0-based: validations and formats reach Excel's last row
TYPE_LABELS = {
    "text": ("文本", "text"),
    "code": ("代码(从下拉列表选择)", "a code from the drop-down list"),
    "int": ("整数(≥0)", "whole number (≥ 0)"),
    "number": ("数字", "number"),
    "date": ("日期,如 2008-06-30", "date, e.g. 2008-06-30"),
    "bool": ("是/否", "yes/no (是/否)"),
    "national_id": ("18位公民身份号码", "18-character national ID"),
}
# What the format says of a column beyond its type (submission-format.md), for the header's note.
HINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("单位", "unit_code"): ("本表内唯一,各期保持不变", "unique in the sheet, the same in every period"),
    ("单位", "unit_type"): (
        "本单位党委填 区县党委 或 系统党委,只能有一行",
        "exactly one row is the reporting unit's own committee (区县党委 or 系统党委)",
    ),
    ("单位", "covering_org_code"): (
        "覆盖本单位的党组织(组织表中的编码);空=无党组织覆盖",
        "the 组织 row covering this unit; empty = not covered",
    ),
    ("单位", "employee_count"): ("企业和社会组织必填", "required for enterprises and 社会组织"),
    ("单位", "member_count"): ("非公有制企业和社会组织必填", "required for 非公有制企业 and 社会组织"),
    ("单位", "cross_appointed"): ("0 至 班子成员数", "0 to board_members"),
    ("单位", "built_date"): ("居民小区的交付日期", "居民小区: delivery date"),
    ("组织", "org_code"): ("本表内唯一,各期保持不变", "unique in the sheet, the same in every period"),
    ("组织", "parent_org_code"): ("仅本单位党委可为空", "empty only for the reporting unit's committee"),
    ("组织", "established_date"): ("不晚于报告期末", "not after the period end"),
    ("组织", "secretary_name"): ("不入库", "never stored"),
    ("党员", "national_id"): (
        "以文本输入,勿用数字格式;表内唯一",
        "typed as text, never as a number; unique in the sheet",
    ),
    ("党员", "name"): ("不入库", "never stored"),
    ("党员", "gender"): ("须与身份证号一致", "must agree with the ID"),
    ("党员", "birth_date"): ("须与身份证号一致", "must agree with the ID"),
    ("党员", "join_date"): ("入党时年满18岁,不晚于报告期末", "at least 18 on it, not after the period end"),
    ("党员", "full_member_date"): ("预备党员为空", "empty for 预备党员"),
    ("党员", "org_code"): ("组织表中的编码", "an org_code of 组织"),
    ("党员", "floating_managed_by"): ("管理流动党员的组织", "the organization managing a floating member"),
    ("发展党员", "national_id"): ("须在党员表中", "must appear in 党员"),
    ("发展党员", "admission_date"): ("在报告期内", "inside the period"),
    ("活动", "activity_id"): ("表内唯一", "unique in the sheet"),
    ("活动", "org_code"): ("组织表中的编码", "an org_code of 组织"),
    ("活动", "start_date"): ("在报告期内", "inside the period"),
    ("培训", "activity_id"): ("活动表中的集中培训", "a 集中培训 activity of 活动"),
    ("培训", "national_id"): ("须在党员表中", "must appear in 党员"),
    ("培训", "days"): ("大于0,不超过活动天数", "more than 0, at most the activity's length"),
}


class TemplateError(ValueError):
    """The unit does not report in that period, or the period is not one."""


@dataclass(frozen=True)
class Prefill:
    """An accepted earlier submission's 单位 and 组织 rows (by the spec's column names)."""

    period: str
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # by sheet name


@dataclass(frozen=True)
class Template:
    path: Path
    unit: str
    period: str
    prefilled_from: str | None
    prefilled_rows: dict[str, int]


def write_template(unit: str, period: str, out: Path, prefill: Prefill | None = None) -> Template:
    """Write the workbook of `unit` for `period` at `out` (written aside, then renamed into place)."""
    import xlsxwriter

    parsed = _check(unit, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    book = xlsxwriter.Workbook(str(partial), {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        formats = _Formats(book)
        lists = _code_lists()
        codes = _list_ranges(lists)
        _write_cover(book, formats, unit, parsed)
        counts = {}
        for sheet in SHEETS[1:]:
            rows = prefill.rows.get(sheet.name, []) if prefill else []
            counts[sheet.name] = _write_sheet(book, formats, codes, sheet, rows)
        _write_code_sheet(book, formats, lists)  # last, hidden: what the drop-downs offer
        book.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    filled = {k: v for k, v in counts.items() if v}
    return Template(out, unit, str(parsed), prefill.period if prefill and filled else None, filled)


def _check(unit: str, period: str) -> Period:
    try:
        parsed = Period.parse(period)
    except ValueError as e:
        raise TemplateError(str(e)) from None
    units = reporting_units()
    if unit not in units:
        raise TemplateError(f"{unit!r} is not a reporting unit (shared/reference/districts.csv)")
    if not units[unit].reports_in(parsed):
        ru = units[unit]
        until = f" to {ru.reports_to}" if ru.reports_to else ""
        raise TemplateError(f"{unit} {ru.name} reports from {ru.reports_from}{until}, not in {parsed}")
    return parsed


class _Formats:
    def __init__(self, book) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        self.date = book.add_format({"num_format": DATE_FORMAT})
        self.text = book.add_format({"num_format": "@"})  # IDs and codes stay text


def _code_lists() -> dict[str, tuple[str, ...]]:
    """Every code list a column uses, and the booleans, by name."""
    lists = {"bool": BOOLEAN_CODES}
    for column in (c for s in SHEETS for c in s.columns if c.code_list):
        lists.setdefault(column.code_list, code_values(column.code_list))
    return lists


def _list_ranges(lists: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each list's range in the 代码表 sheet (one column per list, its name in row 1)."""
    ranges = {}
    for i, (name, values) in enumerate(lists.items()):
        letter = _column_letter(i)
        ranges[name] = f"='{CODES_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _write_code_sheet(book, formats: _Formats, lists: dict[str, tuple[str, ...]]) -> None:
    sheet = book.add_worksheet(CODES_SHEET)
    for i, (name, values) in enumerate(lists.items()):
        sheet.write_string(0, i, name, formats.header)
        for r, value in enumerate(values, start=1):
            sheet.write_string(r, i, value)
    sheet.hide()


def _write_cover(book, formats: _Formats, unit: str, period: Period) -> None:
    sheet = book.add_worksheet(COVER.name)
    values = {"district_code": unit, "period": str(period)}
    for r, column in enumerate(COVER.columns):
        sheet.write_string(r, 0, _header(column), formats.required if column.required else formats.header)
        sheet.write_comment(r, 0, _note(COVER, column), {"x_scale": 2, "y_scale": 1.5})
        if column.name in values:
            sheet.write_string(r, 1, values[column.name], formats.text)
        elif column.dtype == "date":
            sheet.write_blank(r, 1, None, formats.date)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 24)
    sheet.write_string(0, 2, f"{reporting_units()[unit].name} {period}")  # beside the keys, never read


def _write_sheet(book, formats: _Formats, codes: dict[str, str], sheet: Sheet, rows: list[dict]) -> int:
    ws = book.add_worksheet(sheet.name)
    for c, column in enumerate(sheet.columns):
        ws.write_string(0, c, _header(column), formats.required if column.required else formats.header)
        ws.write_comment(0, c, _note(sheet, column), {"x_scale": 2, "y_scale": 1.6})
        width = max(10, 2 * len(column.header) + 4)
        if column.dtype == "date":
            ws.set_column(c, c, max(width, 12), formats.date)
        elif column.dtype in ("text", "national_id", "code"):
            ws.set_column(c, c, width, formats.text)
        else:
            ws.set_column(c, c, width)
        source = codes.get("bool" if column.dtype == "bool" else column.code_list or "")
        if source:
            ws.data_validation(
                1,
                c,
                LAST_ROW,
                c,
                {
                    "validate": "list",
                    "source": source,
                    "error_title": column.header,
                    "error_message": "请从下拉列表中选择 / choose a value from the list",
                },
            )
        elif column.dtype == "int":
            ws.data_validation(
                1,
                c,
                LAST_ROW,
                c,
                {
                    "validate": "integer",
                    "criteria": ">=",
                    "value": 0,
                    "error_message": "整数,不小于0 / a whole number, at least 0",
                },
            )
    for r, row in enumerate(rows, start=1):
        for c, column in enumerate(sheet.columns):
            _write_value(ws, r, c, column, row.get(column.name), formats)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(sheet.columns) - 1)
    return len(rows)


def _write_value(ws, r: int, c: int, column: Column, value: object, formats: _Formats) -> None:
    if value is None:
        return
    if column.dtype == "bool":
        ws.write_string(r, c, "是" if value else "否")
    elif isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), formats.date)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value), formats.text)


def _header(column: Column) -> str:
    return column.header + ("*" if column.required else "")


def _note(sheet: Sheet, column: Column) -> str:
    kind_zh, kind_en = TYPE_LABELS.get(column.dtype, (column.dtype, column.dtype))
    need_zh, need_en = ("必填", "required") if column.required else ("选填", "optional")
    hint_zh, hint_en = HINTS.get((sheet.name, column.name), ("", ""))
    lines = [
        f"{column.header}: {need_zh},{kind_zh}" + (f";{hint_zh}" if hint_zh else ""),
        f"{column.name}: {need_en}, {kind_en}" + (f"; {hint_en}" if hint_en else ""),
    ]
    if column.code_list:
        lines.append("可选值 / values: " + " ".join(code_values(column.code_list)))
    return "\n".join(lines)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- pre-filling from the warehouse --------------------------------------------------------------

PREFILLED_SHEETS = (UNITS, ORGANIZATIONS)  # never 党员 and the event sheets: no names, no IDs


def previous_submission(warehouse: Path, unit: str, period: str) -> Prefill | None:
    """The 单位 and 组织 rows of the unit's latest current submission before `period` (rows that
    were not quarantined), or None when the warehouse holds none. Opened read-only."""
    import duckdb

    parsed = _check(unit, period)
    if not warehouse.is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "select submission_id, period from main.int_current_submissions"
            " where district_code = ? and period_index < ? order by period_index desc limit 1",
            [unit, parsed.index],
        ).fetchone()
        if found is None:
            return None
        submission_id, earlier = found
        rows = {}
        for sheet in PREFILLED_SHEETS:
            names = [c.name for c in sheet.columns if c.stored]
            found_rows = con.execute(
                f"select {', '.join(names)} from raw.{sheet.table}"
                " where submission_id = ? and not quarantined order by source_row",
                [submission_id],
            ).fetchall()
            rows[sheet.name] = [dict(zip(names, row, strict=True)) for row in found_rows]
    return Prefill(str(earlier), rows)
