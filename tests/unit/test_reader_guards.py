"""The readers' guards (issue #15): resource bombs and silent data loss refused before the heavy
libraries touch the bytes — an .xlsx's parts and sheets' grids (`ingest.containers`), CSVs' rows and
columns, folders' limits, line breaks that a stray quote leaves in a cell.

Every file is real (xlsxwriter, zipfile, CSV text). A file that would make the xlsx reader abort
(a value at XFD1048576) is only ever given to fastexcel in a child process with a 4 GiB RLIMIT_AS.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import polars as pl
import pytest

from ingest.containers import (
    EXCEL_MAX_ROWS,
    RATIO_FLOOR_BYTES,
    csv_first_record_fields,
    declared_entries,
    inspect_workbook,
)
from ingest.errors import RULES, StructuralError
from ingest.read import _read_csv, _sheet_label, read_submission
from ingest.settings import IngestSettings
from ingest.spec import MEMBERS
from ingest.validate import validate_submission
from tests.support.badfiles import csv_entries, padded_sheets, write_book

SETTINGS = IngestSettings()
STEM = "120104_2008H1"
FAR_CELL = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
ROOT = Path(__file__).resolve().parents[2]


def _sheet_part(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        workbook, rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" r:id="(rId\d+)"', workbook).group(1)  # type: ignore[union-attr]
    return "xl/" + re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)  # type: ignore[union-attr]


def _book(
    tmp_path: Path,
    rows: bytes = b"",
    sheet: str = "党员",
    dimension: bytes | None = None,
    encoding: str | None = None,
    name: str = f"{STEM}.xlsx",
) -> Path:
    """A valid workbook (the padded submission), `rows` added at the end of `sheet`'s data."""
    path = write_book(tmp_path / name)
    part = _sheet_part(path, sheet)

    def edit(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        data = data.replace(b"</sheetData>", rows + b"</sheetData>")
        if dimension is not None:
            data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="' + dimension + b'"/>', data)
        return data.decode().encode(encoding) if encoding else data

    _rewrite(path, edit)
    return path


def _rewrite(path: Path, edit) -> None:
    rewritten = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, edit(info.filename, source.read(info)), zipfile.ZIP_DEFLATED)
    os.replace(rewritten, path)


def _refused(path: Path, settings: IngestSettings = SETTINGS) -> tuple[str, str | None, str | None]:
    """The inspection's verdict (rule, sheet, value); it never hands the file to the xlsx reader."""
    with pytest.raises(StructuralError) as exc:
        inspect_workbook(path, settings, _sheet_label)
    p = exc.value.problem
    return p.rule, p.sheet, p.value


_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from pathlib import Path
from ingest.errors import StructuralError
from ingest.read import read_submission
from ingest.validate import validate_submission
for path in sys.argv[1:]:
    started = time.perf_counter()
    try:
        validate_submission(read_submission(Path(path)))
        outcome = ["accepted", None, None]
    except StructuralError as exc:
        outcome = [exc.problem.rule, exc.problem.sheet, exc.problem.value]
    print(json.dumps(outcome + [time.perf_counter() - started]), flush=True)
"""


def _read_in_child(*paths: Path) -> list[list]:
    """read_submission in a child with 4 GiB of address space: what reading the files does."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


# --- a sheet's grid ---------------------------------------------------------------------------------


def test_one_value_at_xfd1048576_is_refused_before_the_reader(tmp_path):
    path = _book(tmp_path, rows=FAR_CELL, dimension=b"A1:XFD1048576")
    assert path.stat().st_size < 20_000
    assert _refused(path) == ("sheet_too_large", "党员", "A1:XFD1048576")
    [(rule, sheet, value, seconds)] = _read_in_child(path)  # the reader would abort (512 GiB)
    assert (rule, sheet, value) == ("sheet_too_large", "党员", "A1:XFD1048576") and seconds < 5


@pytest.mark.parametrize(
    ("rows", "value"),
    [
        pytest.param(
            b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576", id="lying-dimension"
        ),
        pytest.param(
            b'<row r="1048576">' + b"<c><v>1</v></c>" * 16_384 + b"</row>",
            "A1:XFD1048576",
            id="no-references",
        ),
        pytest.param(
            b'<row r="50"><c r="A50" r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576", id="second-r"
        ),
        pytest.param(
            b'<row r="50"><c r="A50"r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576", id="second-r-glued"
        ),
        pytest.param(
            b'<row r="50"><c r="A50" x=">" r="XFD1048576"><v>1</v></c></row>', "A1:XFD1048576", id="quoted-gt"
        ),
        pytest.param(b'<row r="50"><c r="xfd1048576"><v>1</v></c></row>', "A1:XFD1048576", id="lowercase"),
        pytest.param(b'<row r="50"><x:c r="XFD1048576"><v>1</v></x:c></row>', "A1:XFD1048576", id="prefix"),
        pytest.param(
            b"<row r='50'><c\tr = 'XFD1048576'><v>1</v></c></row>", "A1:XFD1048576", id="odd-syntax"
        ),
        pytest.param(b'<row r="1048576"/><row><c><v>1</v></c></row>', "A1:M1048577", id="row-past-the-grid"),
        pytest.param(b'<row r="60"><c r="AMM60"><v>1</v></c></row>', "A1:AMM60", id="past-1000-columns"),
    ],
)
def test_a_far_cell_however_written_is_refused(tmp_path, rows, value):
    """The cells decide, as the xlsx reader (calamine) places them: its r (the last, if two), else
    by counting; a namespace prefix or odd spacing and quotes change nothing."""
    lie = b"A1:M41"  # what the file claims
    assert _refused(_book(tmp_path, rows=rows, dimension=lie)) == ("sheet_too_large", "党员", value)


def test_a_sheet_in_utf16_is_scanned_too(tmp_path):
    path = _book(tmp_path, rows=FAR_CELL, encoding="utf-16")
    assert _refused(path)[0] == "sheet_too_large"


def test_a_dimension_past_the_grid_is_refused_a_large_one_inside_it_is_only_a_hint(tmp_path):
    beyond = _book(tmp_path, dimension=b"A1:XFE1")
    assert _refused(beyond) == ("sheet_too_large", "党员", "A1:XFE1")
    hint = _book(tmp_path, dimension=b"A1:XFD1048576", name=f"{STEM}_v2.xlsx")
    inspect_workbook(hint, SETTINGS, _sheet_label)  # the reader allocates nothing for a dimension
    [(rule, *_)] = _read_in_child(hint)
    assert rule == "accepted"


def test_a_far_cell_in_a_sheet_never_read_is_left_alone(tmp_path):
    path = write_book(
        tmp_path / f"{STEM}.xlsx", edit=lambda wb, ws: wb.add_worksheet("说明").write(0, 0, "x")
    )
    part = _sheet_part(path, "说明")
    _rewrite(path, lambda n, d: d.replace(b"</sheetData>", FAR_CELL + b"</sheetData>") if n == part else d)
    inspect_workbook(path, SETTINGS, _sheet_label)
    [(rule, *_)] = _read_in_child(path)
    assert rule == "accepted"


def test_the_limits_of_a_grid_are_settings(tmp_path):
    wide = b'<row r="30"><c r="BH30"><v>1</v></c></row>'  # 60 columns: the exact rows are read
    inspect_workbook(_book(tmp_path, rows=wide), SETTINGS, _sheet_label)
    narrow = IngestSettings(max_sheet_columns=50)
    assert _refused(_book(tmp_path, rows=wide), narrow) == ("sheet_too_large", "党员", "A1:BH30")
    few_cells = IngestSettings(max_sheet_cells=500)  # 44 rows × 13 columns of 党员
    assert _refused(_book(tmp_path), few_cells) == ("sheet_too_large", "单位", "A1:O35")


def test_the_last_row_of_excel_is_read(tmp_path):
    """A value in row 1,048,576 with the sheet's own width: a grid Excel can hold, read as usual."""
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = _book(tmp_path, sheet="活动", rows=last)
    inspect_workbook(path, SETTINGS, _sheet_label)


def test_the_scan_places_cells_as_the_reader_does(tmp_path):
    """Differential: for cells written every way the reader accepts, the grid the scan computes is
    the reader's own (fastexcel's height and width of the sheet), never smaller."""
    variants = {
        "plain": b'<row r="700"><c r="JZ700"><v>1</v></c></row>',
        "no-r": b'<row r="300">' + b"<c><v>1</v></c>" * 40 + b"</row>",
        "rows-without-r": b'<row r="200"></row><row><c r="A1"/><c><v>1</v></c></row>',
        "self-closing": b'<row r="90"><c r="CV90"/><c><v>1</v></c></row>',
        "second-r": b'<row r="80"><c r="A80" s="0" r="EZ80"><v>1</v></c></row>',
        "prefix": b'<row r="70"><x:c r="DA70"><v>1</v></x:c></row>',
        "lowercase": b'<row r="60"><c r="cx60"><v>1</v></c></row>',
    }
    paths = []
    for name, rows in variants.items():
        (tmp_path / name).mkdir()
        paths.append(_book(tmp_path / name, rows=rows))
    tight = IngestSettings(max_sheet_cells=1)  # every grid refused: the verdict says how large it is
    predicted = []
    for path in paths:
        with pytest.raises(StructuralError) as exc:
            inspect_workbook(path, tight, lambda name: name if name == "党员" else None)
        predicted.append((exc.value.problem.rule, exc.value.problem.sheet, exc.value.problem.value))
    actual = _reader_grids(paths)
    for name, (rule, sheet, value), (height, width) in zip(variants, predicted, actual, strict=True):
        assert (rule, sheet) == ("sheet_too_large", "党员"), name
        m = re.fullmatch(r"A1:([A-Z]+)(\d+)", value or "")
        assert m, value
        columns = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(m.group(1))))
        assert (int(m.group(2)), columns) == (height, width), name


def _reader_grids(paths: list[Path]) -> list[tuple[int, int]]:
    code = (
        "import json, resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "import fastexcel\n"
        "for p in sys.argv[1:]:\n"
        "    s = fastexcel.read_excel(p).load_sheet('党员', header_row=None, dtypes='string')\n"
        "    print(json.dumps([s.height, s.width]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return [tuple(json.loads(line)) for line in done.stdout.splitlines()]  # type: ignore[misc]


# --- a workbook's parts -----------------------------------------------------------------------------


def test_a_shared_strings_bomb_is_refused_by_its_ratio(tmp_path):
    """A workbook of a few hundred KiB whose strings unpack to 140 MB: POI's ZipSecureFile rule."""
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = "PLACEHOLDER"
    path = write_book(tmp_path / f"{STEM}.xlsx", sheets)
    _rewrite(path, lambda n, d: d.replace(b"PLACEHOLDER", "强基创先".encode() * 11_700_000))
    started = time.perf_counter()
    rule, _, value = _refused(path)
    assert rule == "unpacked_limits" and value.startswith("xl/sharedStrings.xml: ")  # type: ignore[union-attr]
    assert time.perf_counter() - started < 1  # from the sizes the zip declares: nothing inflated


def test_a_part_that_inflates_past_its_declared_size_is_refused(tmp_path):
    """zipfile stops at the declared size; the xlsx reader reads the stream to its end (180 MB here)."""
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = "PLACEHOLDER"
    path = write_book(tmp_path / f"{STEM}.xlsx", sheets)
    _rewrite(path, lambda n, d: d.replace(b"PLACEHOLDER", "强".encode() * 6_000_000))
    full = zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    _declare(path, "xl/sharedStrings.xml", 1_000_000, zlib.crc32(full[:1_000_000]))
    assert _refused(path) == (
        "unpacked_limits",
        None,
        "xl/sharedStrings.xml: more than its declared 1000000 bytes",
    )


def _declare(path: Path, entry: str, size: int, crc: int) -> None:
    """Make `entry` declare `size` bytes (and the CRC of that many) in both its headers."""
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo(entry)
    struct.pack_into("<II", data, info.header_offset + 14, crc, info.compress_size)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + length] == entry.encode():
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_unpacked_size_and_part_count_are_settings(tmp_path):
    path = write_book(tmp_path / f"{STEM}.xlsx")
    rule, _, value = _refused(path, IngestSettings(max_unpacked_bytes=10_000))
    assert rule == "unpacked_limits" and value.endswith("bytes unpacked")  # type: ignore[union-attr]
    parts = len(zipfile.ZipFile(path).infolist())
    assert declared_entries(path) == parts
    assert _refused(path, IngestSettings(max_workbook_parts=5)) == ("unpacked_limits", None, f"{parts} parts")


def test_not_a_zip_and_a_zip_named_xls(tmp_path):
    cfb = tmp_path / f"{STEM}.xlsx"
    cfb.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))  # an OLE2 file (an encrypted workbook)
    assert _refused(cfb) == ("unreadable_file", None, "not a zip")
    bomb = _book(tmp_path, rows=FAR_CELL)
    legacy = bomb.rename(tmp_path / f"{STEM}_v2.xls")  # a zip named .xls is looked into all the same
    with pytest.raises(StructuralError) as exc:
        read_submission(legacy)
    assert exc.value.problem.rule == "sheet_too_large"


def test_generated_workbooks_pass_and_the_scan_costs_little(tmp_path):
    """Workbooks as Excel and xlsxwriter write them pass; the scan inflates and reads every sheet."""
    from generator import generate_submissions

    generate_submissions(tmp_path / "landing", "2008H1", "2008H1", scale=0.02, seed=11)
    books = sorted((tmp_path / "landing").glob("*.xlsx"))
    assert len(books) >= 18
    started = time.process_time()
    for book in books:
        inspect_workbook(book, SETTINGS, _sheet_label)
    assert time.process_time() - started < 0.1 * len(books) + 2


# --- CSVs -------------------------------------------------------------------------------------------


def _zip(path: Path, members: bytes | None = None, names: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in csv_entries().items():
            z.writestr(
                (names or {}).get(n, n), members if members is not None and n == "members.csv" else text
            )
    return path


def test_a_zip_of_a_csv_of_commas_is_refused_without_extracting_it(tmp_path):
    """850 KB of zip, 128 MiB of commas (and a few digits a line) inflated: refused from its header."""
    digits = random.Random(15).choices(b"0123456789", k=32 * 1024 * 36)
    members = b"".join(
        b"," * (4096 - 37) + bytes(digits[i * 36 : (i + 1) * 36]) + b"\n" for i in range(32 * 1024)
    )
    path = _zip(tmp_path / f"{STEM}.zip", members)
    assert len(members) == 128 << 20 and 700_000 < path.stat().st_size < 1_000_000
    started = time.perf_counter()
    with pytest.raises(StructuralError) as exc:
        read_submission(path)
    assert exc.value.problem.rule == "unpacked_limits"
    assert exc.value.problem.value.startswith("members.csv: ")  # type: ignore[union-attr]
    assert time.perf_counter() - started < 1


def test_the_ratio_floor_spares_small_entries(tmp_path):
    """Below the floor a highly compressible entry is harmless: a cell of 5.5 million characters
    (a row problem, the cell over 32,767) in 16 MB that zip into a few KiB."""
    sheets = padded_sheets()
    sheets["活动"][1]["主题"] = "长" * ((RATIO_FLOOR_BYTES - 10_000) // 3)
    path = tmp_path / f"{STEM}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in csv_entries(sheets).items():
            z.writestr(n, text.encode())
    info = zipfile.ZipFile(path).getinfo("activities.csv")
    assert info.file_size < RATIO_FLOOR_BYTES and info.file_size > 100 * info.compress_size
    validated = validate_submission(read_submission(path))
    assert _located(validated.problems, "text_too_long") == [("活动", 3, "主题", "长" * 200)]


@pytest.mark.parametrize(("commas", "fields"), [(0, 1), (999, 1000), (5000, 1001)])
def test_the_fields_of_a_csvs_first_record_are_counted_before_polars(tmp_path, commas, fields):
    path = tmp_path / "members.csv"
    path.write_bytes(b"," * commas + b"\r\n1,2\r\n")
    assert csv_first_record_fields(path, 1000) == fields


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        (b'"a,b",c\n1,2\n', 2),  # a quoted comma is no field
        (b'"a""b,c",d\n', 2),  # a doubled quote inside quotes
        (b'x"y,z\n', 2),  # a quote inside an unquoted field is a character (polars refuses the file)
        (b'a,"b\nc",d\n', 3),  # a line break inside quotes does not end the record
        (b"a,b\rc,d\n", 3),  # polars ends no record at a lone carriage return
        ("名,姓,号\r\n".encode("gb18030"), 3),
    ],
)
def test_first_record_as_polars_splits_it(tmp_path, text, fields):
    path = tmp_path / "x.csv"
    path.write_bytes(text)
    assert csv_first_record_fields(path, 1000) == fields
    if b'x"' not in text:
        assert pl.read_csv(path, has_header=False, infer_schema=False, encoding="utf8-lossy").width == fields


def test_a_csv_of_too_many_columns_is_refused(tmp_path):
    path = _zip(tmp_path / f"{STEM}.zip", b"," * 100_000 + b"\r\n")
    with pytest.raises(StructuralError) as exc:
        read_submission(path)
    p = exc.value.problem
    assert (p.rule, p.sheet, p.value) == ("sheet_too_large", "党员", "1001+ columns")


def test_a_csv_of_more_rows_than_excel_is_refused_without_reading_it_all(tmp_path):
    at_limit, over = tmp_path / "at.csv", tmp_path / "over.csv"
    at_limit.write_bytes(b"x\n" * EXCEL_MAX_ROWS)
    over.write_bytes(b"x\n" * (EXCEL_MAX_ROWS + 1))
    assert _read_csv(at_limit, "f", MEMBERS, SETTINGS).height == EXCEL_MAX_ROWS
    with pytest.raises(StructuralError) as exc:
        _read_csv(over, "f", MEMBERS, SETTINGS)
    p = exc.value.problem
    assert (p.rule, p.sheet, p.value) == ("too_many_rows", "党员", f"> {EXCEL_MAX_ROWS} rows")
    wide = tmp_path / "wide.csv"  # 500 columns: max_sheet_cells // 500 rows at most
    wide.write_bytes((b"," * 499 + b"\n") * 1_000)
    with pytest.raises(StructuralError) as exc:
        _read_csv(wide, "f", MEMBERS, IngestSettings(max_sheet_cells=250_000))
    assert (exc.value.problem.rule, exc.value.problem.value) == (
        "sheet_too_large",
        "> 500 rows × 500 columns",
    )


# --- line breaks that a stray quote leaves in a cell -----------------------------------------------


def _members_zip(tmp_path: Path, edit) -> Path:
    entries = csv_entries()
    entries["members.csv"] = edit(entries["members.csv"])
    path = tmp_path / f"{STEM}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in entries.items():
            z.writestr(n, text.encode())
    return path


def _located(problems: pl.DataFrame, rule: str = "line_break_in_cell") -> list[tuple]:
    return problems.filter(pl.col("rule") == rule).select("sheet", "row", "column", "value").rows()


def test_a_stray_quote_in_a_name_swallows_the_next_row_and_is_reported(tmp_path):
    path = _members_zip(tmp_path, lambda t: t.replace(",党员5,", ',"党员5,').replace(",党员6,", ',党员6",'))
    raw = read_submission(path)
    assert raw.sheets["members"].frame.height == 42  # 43 members: one row swallowed
    validated = validate_submission(raw)
    assert _located(validated.problems) == [("党员", 10, "姓名", None)]
    assert validated.frames["members"].filter(pl.col("_quarantined"))["_row"].to_list() == [10]
    shown = " ".join(str(v) for v in validated.problems["value"].drop_nulls())
    assert "党员" not in shown  # no name (nor the swallowed row's ID) in any problem


@pytest.mark.parametrize("header", ["所在组织编码", "性别", "出生日期", "公民身份号码"])
def test_a_stray_quote_in_a_code_id_or_date_cell_is_reported_and_not_kept(tmp_path, header):
    """The swallowed row's ID and name would otherwise be stored as this cell's value, or quoted."""
    rows = csv_entries()["members.csv"].split("\r\n")
    headers = rows[0].split(",")
    column = headers.index(header)
    cells = [rows[9].split(","), rows[10].split(",")]  # rows 10 and 11 as Excel numbers them
    cells[0][column] = '"' + cells[0][column]
    cells[1][column] = cells[1][column] + '"'
    rows[9], rows[10] = ",".join(cells[0]), ",".join(cells[1])
    path = _members_zip(tmp_path, lambda _: "\r\n".join(rows))
    validated = validate_submission(read_submission(path))
    assert _located(validated.problems) == [("党员", 10, header, None)]
    name = next(c.name for c in MEMBERS.columns if c.header == header)
    kept = validated.frames["members"].filter(pl.col("_row") == 10)[name].to_list()
    assert kept == [None]  # never kept, never quoted: it holds the next row's ID and name
    errors = validated.problems.filter((pl.col("row") == 10) & (pl.col("column") == header))
    assert errors["rule"].to_list() == ["line_break_in_cell"]  # one message for the cell


def test_a_line_break_in_free_text_is_kept(tmp_path):
    """An activity's topic may hold a line break (Alt+Enter in Excel): no problem."""
    sheets = padded_sheets()
    sheets["活动"][0]["主题"] = "学习\n强基创先"
    sheets["党员"][5]["姓名"] = "张\n三"  # a name cannot
    path = write_book(tmp_path / f"{STEM}.xlsx", sheets)
    validated = validate_submission(read_submission(path))
    assert _located(validated.problems) == [("党员", 7, "姓名", None)]
    assert validated.frames["activities"]["topic"][0] == "学习\n强基创先"


def test_every_new_rule_has_its_messages():
    for rule in ("unpacked_limits", "sheet_too_large", "too_many_rows", "line_break_in_cell"):
        zh, en = RULES[rule]
        assert zh and en and "{value}" not in zh + en


def test_a_utf16_bom_is_transcoded_before_the_scan():
    from ingest.containers import _as_utf8

    text = '<c r="XFD1">'
    assert b"".join(_as_utf8(iter([codecs.BOM_UTF16_LE + text.encode("utf-16-le")]))) == text.encode()
