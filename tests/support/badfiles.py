"""Bad submissions the fault generator does not write, each built with real libraries.

Every case is one file (or folder) in a landing folder and the one outcome the spec promises
for it: accepted or rejected, and the problem it must get (rule, sheet, Excel row, column).
They are all versions of one small but valid submission of 南开区 (120104) for 2008H1 (or an
odd name), padded so that one bad row stays under the 5% quarantine share.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
import re
import shutil
import stat
import struct
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from ingest.spec import COVER, DATA_SHEETS
from tests.support.builders import cell_text, make_id, minimal_sheets

DISTRICT, PERIOD = "120104", "2008H1"
STEM = f"{DISTRICT}_{PERIOD}"
MAX_FILE_BYTES = 4 << 20  # the run's limits, lowered so that the bombs stay small and fast
MAX_ZIP_EXPANDED_BYTES = 16 << 20
EXCEL_LAST_ROW = 1_048_576

Sheets = dict[str, list[dict[str, object]]]
_SERIAL = itertools.count()


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # the name in the landing folder
    outcome: str  # accepted | rejected | unchanged (bytes received before) | skipped (being copied)
    description: str
    rule: str | None = None  # the problem it must get (None: no problem but warnings)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None


def padded_sheets() -> Sheets:
    """The builders' minimal submission plus valid rows: 1 bad row of 30+ stays quarantined."""
    sheets = minimal_sheets(DISTRICT, PERIOD)
    committee = f"{DISTRICT}-O1"
    for i in range(30):
        sheets["单位"].append(
            {
                "单位编码": f"{DISTRICT}-U{100 + i}",
                "单位名称": f"村{i}",
                "单位类型": "行政村",
                "活动场所": "是",
            }
        )
        sheets["组织"].append(
            {
                "组织编码": f"{DISTRICT}-O{100 + i}",
                "组织名称": f"第{i}党支部",
                "组织类型": "党支部",
                "上级组织编码": committee,
                "建立日期": dt.date(1990, 1, 1),
            }
        )
        sheets["活动"].append(
            {
                "活动编号": f"M{i}",
                "组织编码": committee,
                "活动类型": "党委会",
                "开始日期": dt.date(2008, 3, 1),
                "结束日期": dt.date(2008, 3, 1),
                "参加人数": 7,
            }
        )
    for i in range(40):
        birth = dt.date(1950 + i % 30, 1 + i % 12, 1 + i % 28)
        sheets["党员"].append(
            {
                "公民身份号码": make_id("120104", birth, 10 + i, i % 2 == 0),
                "姓名": f"党员{i}",
                "性别": "男" if i % 2 == 0 else "女",
                "出生日期": birth,
                "学历": "高中",
                "入党日期": dt.date(2000, 7, 1),
                "转正日期": dt.date(2001, 7, 1),
                "党员类别": "正式党员",
                "所在组织编码": committee,
            }
        )
    return sheets


def _headers(sheet_name: str) -> list[str]:
    return [c.header for c in next(s for s in DATA_SHEETS if s.name == sheet_name).columns]


def _column(sheet_name: str, header: str) -> int:
    return _headers(sheet_name).index(header)


Edit = Callable[[xlsxwriter.Workbook, dict], None]


def write_book(path: Path, sheets: Sheets | None = None, edit: Edit | None = None, skip=()) -> Path:
    """The submission as Excel writes it; `edit(workbook, worksheets)` adds the defect.

    `skip`: (sheet, row, col) cells left unwritten (a merge covers them).
    """
    sheets = sheets or padded_sheets()
    workbook = xlsxwriter.Workbook(str(path))
    # distinct bytes for every case: the same bytes twice are one submission ("unchanged")
    workbook.set_properties({"comments": f"case {next(_SERIAL)}"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

    def put(ws, r: int, c: int, value: object) -> None:
        if value is None:
            return
        if isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value)
        else:
            ws.write_string(r, c, str(value))

    worksheets = {}
    for name, rows in sheets.items():
        ws = worksheets[name] = workbook.add_worksheet(name)
        if name == COVER.name:
            for r, row in enumerate(rows):
                ws.write_string(r, 0, str(row["key"]))
                put(ws, r, 1, row["value"])
            continue
        headers = _headers(name)
        for c, header in enumerate(headers):
            if (name, 0, c) not in skip:
                ws.write_string(0, c, header)
        for r, row in enumerate(rows, start=1):
            for c, header in enumerate(headers):
                put(ws, r, c, row.get(header))
    if edit:
        edit(workbook, worksheets)
    workbook.close()
    return path


def csv_entries(sheets: Sheets | None = None) -> dict[str, str]:
    """One CSV text per sheet, named by the English alias (as `members.csv`)."""
    sheets = sheets or padded_sheets()
    aliases = {s.name: s.alias for s in (COVER, *DATA_SHEETS)}
    out = {}
    for name, rows in sheets.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if name == COVER.name:
            writer.writerows([row["key"], cell_text(row["value"])] for row in rows)
        else:
            headers = _headers(name)
            writer.writerow(headers)
            writer.writerows([cell_text(row.get(h)) for h in headers] for row in rows)
        out[f"{aliases[name]}.csv"] = buffer.getvalue()
    return out


def write_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def _utf8(entries: dict[str, str]) -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    return [(n, t.encode("utf-8")) for n, t in entries.items()]


# --- the cases -------------------------------------------------------------------------------------


def build_cases(folder: Path) -> list[Case]:
    """Write every case into `folder` (the landing folder); return what each must get."""
    cases: list[Case] = []
    versions = iter(range(2, 1000))

    def name(ext: str = "xlsx") -> str:
        return f"{STEM}_v{next(versions)}.{ext}"

    def add(case_id: str, file: str, outcome: str, description: str, **expect: object) -> None:
        cases.append(Case(case_id, file, outcome, description, **expect))  # type: ignore[arg-type]

    # the baseline, v1: valid
    write_book(folder / f"{STEM}.xlsx")
    add("baseline_valid", f"{STEM}.xlsx", "accepted", "the padded valid submission")

    # -- names: untrusted input, rejected, never used as a path ---------------------------------------
    odd_names = {
        "name_trailing_newline": (f"{STEM}_v90.xlsx\n", "a newline after the extension"),
        "name_trailing_space": (f"{STEM}_v91.xlsx ", "a space after the extension"),
        "name_leading_space": (f" {STEM}_v92.xlsx", "a space before the code"),
        "name_fullwidth_digits": (f"{DISTRICT}_２００８H1_v93.xlsx", "full-width digits in the period"),
        "name_very_long": (f"{STEM}_v94" + "长" * 70 + ".xlsx", "a 240-byte name"),
        "name_rtl_override": (f"{STEM}_v95\u202excod.xlsx", "a right-to-left override hiding the extension"),
        "name_shell_metacharacters": (f"$(touch x);{STEM}.xlsx", "shell metacharacters"),
        "name_double_extension": (f"{STEM}_v96.xlsx.exe", "a double extension"),
    }
    for case_id, (file, desc) in odd_names.items():
        write_book(folder / file)
        add(case_id, file, "rejected", desc, rule="file_name")
    raw_name = os.fsdecode(b"\xff\xfe" + f"_{PERIOD}.xlsx".encode())  # not UTF-8: a surrogate escape
    write_book(folder / raw_name)
    add("name_not_utf8", raw_name, "rejected", "a name whose bytes are not UTF-8", rule="file_name")
    write_book(folder / f"XT99_{PERIOD}.xlsx")
    add(
        "unknown_system_code", f"XT99_{PERIOD}.xlsx", "rejected", "XT99 is no system", rule="unknown_district"
    )
    write_book(folder / f"120116_{PERIOD}.xlsx")
    add(
        "unit_not_reporting_yet",
        f"120116_{PERIOD}.xlsx",
        "rejected",
        "滨海新区 reports only from 2010H1",
        rule="unknown_district",
    )
    (folder / f"{STEM}_v97.xlsx.part").write_bytes(b"half a copy")
    add("partial_copy_skipped", f"{STEM}_v97.xlsx.part", "skipped", "a file still being copied")

    # -- versions and size ------------------------------------------------------------------------------
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = "另一个版本"
    write_book(folder / f"{STEM}_v1.xlsx", sheets)
    add(
        "same_version_other_bytes",
        f"{STEM}_v1.xlsx",
        "rejected",
        "v1 again, other bytes",
        rule="version_conflict",
        value="2",
    )
    file = name()
    write_book(folder / file)
    with open(folder / file, "ab") as f:
        f.write(os.urandom(MAX_FILE_BYTES))
    add("file_too_large", file, "rejected", "a file over the size limit", rule="file_too_large")

    # -- empty files and binary garbage --------------------------------------------------------------
    for case_id, ext, data, desc in (
        ("empty_xlsx", "xlsx", b"", "an empty .xlsx"),
        ("garbage_xlsx", "xlsx", os.urandom(64 << 10), "64 KiB of random bytes as .xlsx"),
        ("garbage_xls", "xls", os.urandom(64 << 10), "64 KiB of random bytes as .xls"),
        ("csv_text_as_xlsx", "xlsx", csv_entries()["members.csv"].encode(), "a CSV renamed .xlsx"),
        ("pdf_as_xlsx", "xlsx", b"%PDF-1.4\n" + os.urandom(4096), "a PDF renamed .xlsx"),
    ):
        file = name(ext)
        (folder / file).write_bytes(data)
        add(case_id, file, "rejected", desc, rule="unreadable_file")
    file = name("zip")
    (folder / file).write_bytes(b"")
    add(
        "empty_zip_after_empty_xlsx",
        file,
        "rejected",
        "0 bytes again, as .zip: bytes rejected before, under another name, are judged anew",
        rule="unreadable_file",
    )
    file = name("zip")
    write_zip(folder / file, [])
    add(
        "zip_without_entries",
        file,
        "rejected",
        "a valid zip with no entry",
        rule="missing_sheet",
        sheet="封面",
    )
    empty_folder = folder / f"{STEM}_v{next(versions)}"
    empty_folder.mkdir()
    (empty_folder / "desktop.ini").write_bytes(b"[.ShellClassInfo]\r\n")
    add(
        "folder_without_csv",
        empty_folder.name,
        "rejected",
        "a folder holding no CSV",
        rule="missing_sheet",
        sheet="封面",
    )

    # -- zips: bombs, traversal, links, nesting, damage ----------------------------------------------
    good = _utf8(csv_entries())
    file = name("zip")
    write_zip(folder / file, [*good, ("padding.bin", b"\0" * (MAX_ZIP_EXPANDED_BYTES + (1 << 20)))])
    add(
        "zip_bomb_declared",
        file,
        "rejected",
        "a 20 KiB zip that expands past the limit",
        rule="zip_limits",
        value="expanded size",
    )
    file = name("zip")
    write_zip(folder / file, [*good, ("padding.bin", b"\0" * (8 << 20))])
    _lie_about_size(folder / file, "padding.bin", 1000)
    add(
        "zip_bomb_lying_sizes",
        file,
        "rejected",
        "an entry that says 1000 bytes and inflates to 8 MiB",
        rule="unreadable_file",
        value="BadZipFile",
    )
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, data in good:
            archive.writestr(n, data)
    file = name("zip")
    write_zip(folder / file, [("inner.zip", inner.getvalue())])
    add(
        "nested_zip",
        file,
        "rejected",
        "the CSVs inside a zip inside the zip (never opened)",
        rule="missing_sheet",
        sheet="封面",
    )
    traversal = {
        "zip_absolute_path": "/tmp/members.csv",
        "zip_backslash_traversal": "..\\members.csv",
        "zip_drive_letter": "C:members.csv",
        "zip_deep_nesting": "a/b/members.csv",
        "zip_traversal_inside_folder": f"{STEM}/../../members.csv",
    }
    for case_id, entry in traversal.items():
        file = name("zip")
        write_zip(
            folder / file,
            [*[(n, d) for n, d in good if n != "members.csv"], (entry, dict(good)["members.csv"])],
        )
        add(case_id, file, "rejected", f"a zip entry {entry}", rule="unsafe_entry")
    file = name("zip")
    write_zip(folder / file, [(f"../{n}", d) for n, d in good])
    add(
        "zip_every_entry_under_dotdot",
        file,
        "rejected",
        "every CSV under ../ (one 'top folder')",
        rule="unsafe_entry",
    )
    file = name("zip")
    link = zipfile.ZipInfo("members.csv")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    write_zip(folder / file, [*[(n, d) for n, d in good if n != "members.csv"], (link, b"/etc/passwd")])
    add(
        "zip_symlink_entry",
        file,
        "rejected",
        "members.csv a symbolic link to /etc/passwd",
        rule="unsafe_entry",
    )
    file = name("zip")
    write_zip(folder / file, [(f"a/{n}", d) for n, d in good[:4]] + [(f"b/{n}", d) for n, d in good[4:]])
    add("zip_two_top_folders", file, "rejected", "CSVs split over two top folders", rule="unsafe_entry")
    file = name("zip")
    write_zip(folder / file, [*good, (f"{STEM}/members.csv", dict(good)["members.csv"])])
    add(
        "zip_same_sheet_twice",
        file,
        "rejected",
        "members.csv at the top and in a folder",
        rule="unsafe_entry",
    )
    file = name("zip")
    _encrypted_zip(folder / file, good)
    add(
        "zip_encrypted",
        file,
        "rejected",
        "a password-protected zip",
        rule="unreadable_file",
        value="encrypted",
    )
    file = name("zip")
    write_zip(folder / file, good)
    _damage_entry(folder / file, "members.csv")
    add("zip_corrupt_entry", file, "rejected", "deflate data of members.csv damaged", rule="unreadable_file")

    # -- encodings of CSVs ---------------------------------------------------------------------------------
    texts = csv_entries()
    for case_id, encode, outcome, expect, desc in (
        ("csv_gb18030", lambda t: t.encode("gb18030"), "accepted", {}, "GB18030, as Chinese Excel saves it"),
        ("csv_utf8_bom", lambda t: t.encode("utf-8-sig"), "accepted", {}, "UTF-8 with a BOM"),
        (
            "csv_utf16",
            lambda t: t.encode("utf-16"),
            "rejected",
            {"rule": "unreadable_file", "sheet": "活动"},
            "UTF-16 (Excel's 'Unicode text'): not an accepted encoding",
        ),
        (
            "csv_big5_mislabelled",
            lambda t: t.encode("big5", errors="replace"),
            "rejected",
            {"rule": "missing_column", "sheet": "封面", "column": "填报单位代码"},
            "Big5 read as GB18030: the headers are not recognized",
        ),
    ):
        file = name("zip")
        write_zip(folder / file, [(n, encode(t)) for n, t in texts.items()])
        add(case_id, file, outcome, desc, **expect)
    file = name("zip")
    mixed = [(n, t.encode("gb18030" if n == "members.csv" else "utf-8-sig")) for n, t in texts.items()]
    write_zip(folder / file, mixed)
    add(
        "csv_mixed_encodings",
        file,
        "accepted",
        "one CSV in GB18030, the others UTF-8: each decoded on its own",
    )
    for case_id, members, rule, desc in (
        ("csv_empty_file", b"", "unreadable_file", "members.csv of 0 bytes"),
        ("csv_binary_garbage", os.urandom(5000), "unreadable_file", "members.csv of random bytes"),
        (
            "csv_ragged_rows",
            (texts["members.csv"] + ",".join("x" * 20) + "\r\n").encode(),
            "unreadable_file",
            "a row with more fields than the header",
        ),
    ):
        file = name("zip")
        write_zip(folder / file, [(n, members if n == "members.csv" else d) for n, d in good])
        add(case_id, file, "rejected", desc, rule=rule, sheet="党员")
    sheets = padded_sheets()
    sheets["活动"][1]["主题"] = "长" * (5 << 20)
    file = name("zip")
    write_zip(folder / file, _utf8(csv_entries(sheets)))
    add(
        "csv_huge_cell",
        file,
        "accepted",
        "a 5-million-character cell",
        rule="text_too_long",
        sheet="活动",
        row=3,
        column="主题",
    )
    sheets = padded_sheets()
    sheets["活动"][0]["参加人数"] = "#NAME?"
    file = name("zip")
    write_zip(folder / file, _utf8(csv_entries(sheets)))
    add(
        "csv_excel_error_text",
        file,
        "accepted",
        "#NAME? as Excel exports a failed formula to CSV",
        rule="excel_error",
        sheet="活动",
        row=2,
        column="参加人数",
        value="#NAME?",
    )
    link_folder = folder / f"{STEM}_v{next(versions)}"
    link_folder.mkdir()
    for n, text in texts.items():
        if n == "members.csv":
            (link_folder / n).symlink_to("/etc/passwd")
        else:
            (link_folder / n).write_text(text, encoding="utf-8")
    add(
        "folder_symlinked_csv",
        link_folder.name,
        "rejected",
        "members.csv a link to /etc/passwd: never read",
        rule="missing_sheet",
        sheet="党员",
    )

    # -- workbooks: formulas, error values, huge cells, headers, sheets, the last row -----------------
    def formula(sheet: str, row: int, header: str, text: str, cached: object) -> Edit:
        return lambda wb, ws: ws[sheet].write_formula(row - 1, _column(sheet, header), text, None, cached)

    for case_id, sheet, row, header, text, shown in (
        ("cell_error_na", "活动", 2, "参加人数", "=NA()", "#N/A"),
        ("cell_error_div0", "党员", 5, "出生日期", "=1/0", "#DIV/0!"),
        ("cell_error_ref", "单位", 6, "单位名称", "=#REF!", "#REF!"),
        ("cell_error_value", "组织", 7, "建立日期", '="a"+1', "#VALUE!"),
        ("cell_error_num", "活动", 9, "结束日期", "=SQRT(-1)", "#NUM!"),
    ):
        file = name()
        write_book(folder / file, edit=formula(sheet, row, header, text, shown))
        add(
            case_id,
            file,
            "accepted",
            f"{text} in {sheet}.{header}: {shown}",
            rule="excel_error",
            sheet=sheet,
            row=row,
            column=header,
            value=shown,
        )
    file = name()
    write_book(folder / file, edit=formula("活动", 2, "参加人数", "=4+5", 9))
    add("formula_with_value", file, "accepted", "=4+5 in 参加人数: its computed value 9 is read")
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = '=HYPERLINK("http://evil.example","点击")'
    file = name()
    write_book(folder / file, sheets)
    add(
        "formula_as_text",
        file,
        "accepted",
        "a formula typed as text: kept as text, neutralized on publishing",
    )
    sheets = padded_sheets()
    sheets["活动"][2]["主题"] = "HUGE_CELL_PLACEHOLDER"
    file = name()
    write_book(folder / file, sheets)
    _replace_shared_string(folder / file, "HUGE_CELL_PLACEHOLDER", "长" * 40_000)
    add(
        "xlsx_huge_cell",
        file,
        "accepted",
        "a cell of 40,000 characters (Excel stops at 32,767)",
        rule="text_too_long",
        sheet="活动",
        row=4,
        column="主题",
    )

    def merged(wb, ws) -> None:
        ws["党员"].merge_range(0, 0, 0, 1, "公民身份号码")

    file = name()
    write_book(folder / file, edit=merged, skip={("党员", 0, 1)})
    add(
        "merged_header_cells",
        file,
        "rejected",
        "公民身份号码 merged over the 姓名 header",
        rule="missing_column",
        sheet="党员",
        column="姓名",
    )

    def repeated(wb, ws) -> None:
        ws["党员"].write_string(0, len(_headers("党员")), "学历")

    file = name()
    write_book(folder / file, edit=repeated)
    add(
        "repeated_header",
        file,
        "rejected",
        "学历 twice in the header",
        rule="duplicate_column",
        sheet="党员",
        column="学历",
    )
    sheets = padded_sheets()
    title = {"单位": [{h: None for h in _headers("单位")}]}
    sheets["单位"] = title["单位"] + sheets["单位"]
    file = name()

    def title_row(wb, ws) -> None:
        ws["单位"].write_string(0, 0, "南开区强基创先单位名册")
        for c, header in enumerate(_headers("单位")):
            ws["单位"].write_string(1, c, header)

    write_book(folder / file, sheets, edit=title_row, skip={("单位", 0, c) for c in range(20)})
    add(
        "title_row_above_header",
        file,
        "rejected",
        "a title row above the header",
        rule="missing_column",
        sheet="单位",
        column="单位编码",
    )

    def hidden_notes(wb, ws) -> None:
        notes = wb.add_worksheet("填表说明")
        notes.write_string(0, 0, "说明")
        notes.hide()

    file = name()
    write_book(folder / file, edit=hidden_notes)
    add("hidden_extra_sheet", file, "accepted", "a hidden 填表说明 sheet: not a table of the format, ignored")

    def hidden_copy(wb, ws) -> None:
        copy = wb.add_worksheet("members")
        copy.write_row(0, 0, _headers("党员"))
        copy.hide()

    file = name()
    write_book(folder / file, edit=hidden_copy)
    add(
        "hidden_duplicate_sheet",
        file,
        "rejected",
        "a hidden, empty 'members' next to 党员",
        rule="duplicate_sheet",
        sheet="党员",
        value="members",
    )

    def spaced_copy(wb, ws) -> None:
        wb.add_worksheet("党员 ").write_row(0, 0, _headers("党员"))

    file = name()
    write_book(folder / file, edit=spaced_copy)
    add(
        "duplicate_sheet_trailing_space",
        file,
        "rejected",
        "党员 and '党员 '",
        rule="duplicate_sheet",
        sheet="党员",
    )

    def last_row(wb, ws) -> None:
        values = ["L1", f"{DISTRICT}-O1", "党委会", "末行", None, "2008-13-01", "2008-03-01", 3]
        for c, value in enumerate(values):
            if value is not None:
                ws["活动"].write(EXCEL_LAST_ROW - 1, c, value)

    file = name()
    write_book(folder / file, edit=last_row)
    add(
        "row_at_excel_limit",
        file,
        "accepted",
        "a bad date in row 1,048,576, Excel's last row",
        rule="date_format",
        sheet="活动",
        row=EXCEL_LAST_ROW,
        column="开始日期",
    )

    # -- resource bombs refused before a reader touches the bytes, and rows swallowed silently -------
    # (in 活动: the privacy scan of the tests reads 党员, 组织 and 发展党员 of every workbook in-process)
    far_cell = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    file = name()
    write_book(folder / file)
    _rewrite_sheet(folder / file, "活动", far_cell, dimension=b"A1:XFD1048576")
    add(
        "xlsx_cell_at_xfd1048576",
        file,
        "rejected",
        "one value at XFD1048576: the reader would allocate 2^34 cells (512 GiB) and abort",
        rule="sheet_too_large",
        sheet="活动",
        value="A1:XFD1048576",
    )
    file = name()
    write_book(folder / file)
    _rewrite_sheet(folder / file, "活动", b'<row r="1048576">' + b"<c><v>1</v></c>" * 16_384 + b"</row>")
    add(
        "xlsx_far_cell_without_references",
        file,
        "rejected",
        "16,384 cells without r in row 1,048,576: the reader counts them to XFD1048576",
        rule="sheet_too_large",
        sheet="活动",
        value="A1:XFD1048576",
    )
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = "SHARED_STRINGS_BOMB"
    file = name()
    write_book(folder / file, sheets)
    _replace_shared_string(folder / file, "SHARED_STRINGS_BOMB", "强基创先" * 2_400_000)
    add(
        "xlsx_shared_strings_bomb",
        file,
        "rejected",
        "29 MB of shared strings in a workbook of a few KiB: a part over 100× its packed size",
        rule="unpacked_limits",
    )
    many = folder / f"{STEM}_v{next(versions)}"
    many.mkdir()
    for n, text in texts.items():
        (many / n).write_text(text, encoding="utf-8")
    for i in range(100):
        (many / f"附件{i}.txt").write_bytes(b"x")
    add(
        "folder_too_many_files",
        many.name,
        "rejected",
        "a folder of 107 files (a zip may hold 100 entries)",
        rule="zip_limits",
        value="107 files",
    )
    file = name("zip")
    write_zip(
        folder / file, [(n, b"x\r\n" * (EXCEL_LAST_ROW + 1) if n == "members.csv" else d) for n, d in good]
    )
    add(
        "csv_too_many_rows",
        file,
        "rejected",
        "members.csv of 1,048,577 lines: more rows than Excel has",
        rule="too_many_rows",
        sheet="党员",
    )
    file = name("zip")
    write_zip(folder / file, [(n, b"," * 5000 + b"\r\n" if n == "members.csv" else d) for n, d in good])
    add(
        "csv_line_of_commas",
        file,
        "rejected",
        "a first line of 5,000 commas: a column each for the CSV reader",
        rule="sheet_too_large",
        sheet="党员",
        value="1001+ columns",
    )
    members = texts["members.csv"]
    assert members.count(",党员5,") == members.count(",党员6,") == 1
    stray = members.replace(",党员5,", ',"党员5,').replace(",党员6,", ',党员6",')
    file = name("zip")
    write_zip(folder / file, [(n, stray.encode() if n == "members.csv" else d) for n, d in good])
    add(
        "csv_stray_quote_in_name",
        file,
        "accepted",
        '"党员5 with no closing quote: the next row is swallowed into the name, up to 党员6"',
        rule="line_break_in_cell",
        sheet="党员",
        row=10,
        column="姓名",
    )
    top = f"{STEM}_v{next(versions)}"
    file = f"{top}.zip"
    write_zip(folder / file, [(zipfile.ZipInfo(f"{top}\\{n}"), d) for n, d in good])
    add(
        "zip_windows_backslash_folder",
        file,
        "accepted",
        "one top folder written with backslashes (120104_2008H1\\members.csv), as Windows tools do",
    )
    return cases


# --- byte-level surgery (what no library writes on purpose) ----------------------------------------


def _lie_about_size(path: Path, entry: str, size: int) -> None:
    """Set `entry`'s uncompressed size to `size` in its local header and the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == entry.encode():
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def _damage_entry(path: Path, entry: str) -> None:
    """Flip bytes inside `entry`'s compressed data."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 5
    for i in range(12):
        data[start + i] ^= 0x55
    path.write_bytes(bytes(data))


def _encrypted_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> None:
    """A ZipCrypto archive from Info-ZIP's `zip -P` (what a clerk's tool writes)."""
    staging = path.with_name(path.name + ".staging")
    staging.mkdir()
    try:
        for n, data in entries:
            (staging / str(n)).write_bytes(data)
        if shutil.which("zip"):
            subprocess.run(
                ["zip", "-q", "-P", "secret", str(path.resolve()), *sorted(os.listdir(staging))],
                cwd=staging,
                check=True,
            )
        else:  # no Info-ZIP: the same flag a ZipCrypto archive carries (bit 0: encrypted)
            with zipfile.ZipFile(path, "w") as archive:
                for n, data in entries:
                    info = zipfile.ZipInfo(str(n))
                    info.flag_bits |= 0x1
                    archive.writestr(info, data)
    finally:
        shutil.rmtree(staging)


def _rewrite_sheet(path: Path, sheet: str, rows: bytes, dimension: bytes | None = None) -> None:
    """Add `rows` at the end of `sheet`'s data (and set its dimension): what a crafted file holds."""
    with zipfile.ZipFile(path) as source:
        workbook = source.read("xl/workbook.xml").decode()
        relationships = source.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" r:id="(rId\d+)"', workbook).group(1)  # type: ignore[union-attr]
    part = "xl/" + re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', relationships).group(1)  # type: ignore[union-attr]
    rewritten = path.with_name(path.name + ".rewrite")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                data = data.replace(b"</sheetData>", rows + b"</sheetData>")
                if dimension is not None:
                    data = re.sub(
                        rb'<dimension ref="[^"]*"/>', b'<dimension ref="' + dimension + b'"/>', data
                    )
            target.writestr(info, data)
    os.replace(rewritten, path)


def _replace_shared_string(path: Path, placeholder: str, text: str) -> None:
    """Put `text` where `placeholder` is in the workbook's strings (xlsxwriter caps cells at 32,767)."""
    rewritten = path.with_name(path.name + ".rewrite")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(placeholder.encode(), text.encode())
            target.writestr(info, data)
    os.replace(rewritten, path)
