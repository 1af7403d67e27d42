"""Look inside a container before a heavy reader touches its bytes: zip bombs, huge sheets, wide CSVs.

The xlsx reader (calamine, through fastexcel) inflates every part it reads and allocates a sheet's
grid from its first used cell to its last, ≈32 bytes a cell: one value at XFD1048576 asks for 2^34
cells (512 GiB) and aborts the process. polars makes a column of every field of a CSV's first
record: a line of commas is millions of columns. So, before either runs, streaming and in bounded
memory (zipfile and zlib for the parts, polars' regexes for the sheets' cells):

- a zip's entry count, from its end record, before zipfile parses a central directory that may
  list millions of entries;
- an .xlsx's parts: the sum of their declared sizes, each part's compression ratio (Apache POI's
  ZipSecureFile rule, above a floor), and the sizes themselves: every part is inflated here, and
  one that inflates past its declared size is refused (zipfile stops there, calamine would not);
- the grid of each sheet the reader will load, as calamine computes it: from the cells' `r`
  references, or, where a cell or a row has none, by counting as calamine counts;
- the fields of a CSV's first record.

Legacy .xls (OLE2 compound files, not zips) cannot be inspected this way: only its size is capped,
and the reader's child process (memory and time limits) is what bounds it.
"""

from __future__ import annotations

import codecs
import html
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import polars as pl

from ingest.errors import Problem, StructuralError
from ingest.settings import MIB, IngestSettings

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# Parts and entries up to this size are never refused for their ratio: one alone is harmless (the
# total and the sheet's grid bound what it can hold), and legitimate parts compress that well too
# (thousands of formatted empty rows; a 5-million-character cell, reported as a row problem).
# POI's grace is smaller because it reads every part into a DOM.
RATIO_FLOOR_BYTES = 16 * MIB
_CHUNK = 4 * MIB  # inflated bytes handled at once
_MAX_TAG = MIB  # no spreadsheet writes a longer tag
_MAX_WORKBOOK_XML = 64 * MIB  # workbook.xml and its relationships are read whole, to map sheets to parts
# Without a reference past Z or below row 999999, the fast scan knows the grid is at most Z999999.
_FAST_ROWS, _FAST_COLUMNS = 999_999, 26

SheetLabel = Callable[[str], str | None]  # a workbook's sheet name -> how a problem names it, None: not read


def _fail(file: str, rule: str, value: str | None = None, sheet: str | None = None) -> StructuralError:
    return StructuralError(Problem(file, rule, "structural", sheet=sheet, value=value))


# --- zips -------------------------------------------------------------------------------------------


def declared_entries(path: Path) -> int | None:
    """The entry count a zip's end record declares (None: no end record, or an unresolved zip64 one)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        start = max(0, size - (22 + 0xFFFF))  # the end record, then a comment of at most 64 KiB
        f.seek(start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries = struct.unpack_from("<H", tail, at + 10)[0]
        if entries != 0xFFFF:
            return entries
        locator = at - 20  # zip64: its end record's locator sits right before the end record
        if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return None
        f.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = f.read(56)
        if len(record) < 40 or record[:4] != b"PK\x06\x06":
            return None
        return struct.unpack_from("<Q", record, 32)[0]


def _unpacked_size(info: zipfile.ZipInfo) -> int:
    """What the reader gets out of an entry: a stored one is read for its packed size."""
    if info.compress_type == zipfile.ZIP_STORED:
        return max(info.file_size, info.compress_size)
    return info.file_size


def check_compression(
    file: str,
    infos: Iterable[zipfile.ZipInfo],
    settings: IngestSettings,
    name: Callable[[zipfile.ZipInfo], str] = lambda info: info.filename,
) -> None:
    """Refuse an entry over the floor that unpacks to more than `max_compression_ratio` × its packed size."""
    limit = settings.max_compression_ratio
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limit * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise _fail(file, "unpacked_limits", f"{name(info)}: {ratio:.0f}× (> {limit:g}×)")


def _inflate(file: str, fp: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """An entry's bytes as a reader that trusts its stream gets them, refusing any past its declared size."""
    if info.flag_bits & 0x1:
        raise _fail(file, "unreadable_file", "encrypted")
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _fail(file, "unreadable_file", "BadZipFile")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    fp.seek(info.header_offset + 30 + name_length + extra_length)
    left, produced = info.compress_size, 0

    def counted(data: bytes) -> bytes:
        nonlocal produced
        produced += len(data)
        if produced > info.file_size:
            raise _fail(
                file, "unpacked_limits", f"{info.filename}: more than its declared {info.file_size} bytes"
            )
        return data

    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0 and (data := fp.read(min(left, _CHUNK))):
            left -= len(data)
            yield counted(data)
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:  # what Excel and every xlsx writer use
        raise _fail(file, "unreadable_file", f"compression method {info.compress_type}")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        while not inflater.eof:
            packed = inflater.unconsumed_tail
            if not packed and left > 0:
                packed = fp.read(min(left, MIB))
                left = left - len(packed) if packed else 0
            data = inflater.decompress(packed, _CHUNK)
            if not data and not packed:
                break  # the packed bytes ended before the stream did
            if data:
                yield counted(data)
    except zlib.error:
        raise _fail(file, "unreadable_file", "zlib.error") from None
    if not inflater.eof:
        raise _fail(file, "unreadable_file", f"{info.filename}: truncated")


def _as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A part's XML as UTF-8: a UTF-16 or UTF-32 part (a BOM, or NULs in its first bytes) transcoded."""
    first = next(chunks, b"")
    encoding = None
    if first.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in first[:4]:
        encoding = "utf-16-le" if first[1:2] == b"\x00" else "utf-16-be"
    if encoding is None:
        yield first
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chain([first], chunks):
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


# Any complete tag from its `<` (a `>` inside a quoted attribute value does not end it).
_COMPLETE_TAG = re.compile(rb"<[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>")


def _whole_tags(file: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream in pieces that split neither a tag nor a UTF-8 character.

    An attribute value may not hold a `<`: the last `<` of a piece starts its last tag.
    """
    carry = b""
    for chunk in chunks:
        buffer = carry + chunk
        cut = buffer.rfind(b"<")
        if cut >= 0 and not _COMPLETE_TAG.match(buffer, cut):  # an unfinished tag: kept whole
            if len(buffer) - cut > _MAX_TAG:
                raise _fail(file, "unreadable_file", "a tag over 1 MiB")
        else:  # text or a tag's end: the last character is kept for the next piece if not ASCII
            cut = len(buffer)
            while cut > 0 and len(buffer) - cut < 3 and 0x80 <= buffer[cut - 1] < 0xC0:
                cut -= 1
            cut = cut - 1 if cut > 0 and buffer[cut - 1] >= 0xC0 else len(buffer)
        buffer, carry = buffer[:cut], buffer[cut:]
        if buffer:
            yield buffer
    if carry:
        yield carry


# --- a sheet's grid ---------------------------------------------------------------------------------

# The fast scan (polars' Rust regexes, batches at once) proves that every cell is written
# `<c r="<letters><digits>"` with no second r, and reads exactly the few references past column Z or
# row 999999. Anything else (a cell without r, a prefix, a second r, odd spacing or quotes) is left
# to the exact scan, which follows calamine tag by tag.
_NOTABLE = (  # a cell past Z or 999999, a second r, or a cell tag not starting <c r="A (cols, cfRule… pass)
    r'<c(?:[^ ofhue]| [^r]| r[^=]| r=[^"]| r="(?:[^A-Z]|[A-Z][A-Za-z]+[0-9]+|[A-Z][0-9]{7,}'
    r"""|[A-Z][0-9]{1,6}(?:[^0-9"]|"(?:(?:[^>"']|"[^"]*"|'[^']*')*?[\s"'])?r\s*=)))"""
)
_CANONICAL = r'^<c r="[A-Z][A-Za-z]*[0-9]+$'  # of those, a reference past Z or 999999
_PREFIXED = r":c[\s/>]"  # a cell tag with a namespace prefix
_BATCH = 8  # buffers scanned at once (≤ 32 MiB)
_ROW_OR_CELL = re.compile(rb"<(/?)(?:[^\s<>/:!?]+:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
# (after a quote too: calamine takes `<c r="A1"r="XFD1">`, the last r)
_R_ATTRIBUTE = re.compile(rb"""(?:^|(?<=[\s"']))r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]+)")
_DIMENSION = re.compile(rb"<(?:[^\s<>/:!?]+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_HUGE = 10**12  # a reference beyond any grid: its exact value does not matter


def _reference(text: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference like XFD1048576 (column 0: none); None if unreadable.

    As calamine reads them: letters of either case.
    """
    m = _REFERENCE.fullmatch(text)
    if m is None:
        return None
    letters, digits = m.group(1).upper(), m.group(2)
    row = int(digits) if len(digits) <= 12 else _HUGE
    if row == 0:
        return None
    return row, _column(letters)


def _column(letters: bytes) -> int:
    if len(letters) > 8:
        return _HUGE
    column = 0
    for letter in letters.upper():
        column = column * 26 + letter - 64
    return column


def column_letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _extent(refs: pl.Series) -> tuple[int, int]:
    """(row, column), 1-based, furthest of references `<c r="XFD1048576`."""
    found = refs.str.slice(6).str.extract_groups(r"^([A-Za-z]+)([0-9]+)$")
    digits, letters = found.struct.field("2"), found.struct.field("1")
    rows = _HUGE if digits.str.len_bytes().max() > 12 else int(digits.cast(pl.Int64).max())  # type: ignore[operator,arg-type]
    return rows, max(_column(text.encode()) for text in letters.unique())


def _batched(buffers: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for buffer in buffers:
        batch.append(buffer)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _texts(buffers: list[bytes]) -> pl.Series:
    try:
        return pl.Series(buffers, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # not UTF-8 throughout: the regexes only look at ASCII
        return pl.Series([b.decode("utf-8", "replace") for b in buffers], dtype=pl.String)


class _Grid:
    """The grid calamine allocates for a sheet, from A1 to its last cell that may hold a value."""

    def __init__(self, file: str, sheet: str, settings: IngestSettings):
        self.file, self.sheet, self.settings = file, sheet, settings
        self.rows = self.columns = 0
        self.canonical = False  # every cell written <c r="…" (the fast scan went through)

    def too_large(self, rows: int, columns: int) -> bool:
        s = self.settings
        too_wide = columns > min(EXCEL_MAX_COLUMNS, s.max_sheet_columns)
        return rows > EXCEL_MAX_ROWS or too_wide or rows * columns > s.max_sheet_cells

    def fail(self, rows: int, columns: int) -> StructuralError:
        where = (
            f"A1:{column_letters(columns)}{rows}"
            if max(rows, columns) < _HUGE
            else f"{rows} rows × {columns} columns"
        )
        return _fail(self.file, "sheet_too_large", where, sheet=self.sheet)

    def check_dimension(self, head: bytes) -> None:
        """A `<dimension ref>` beyond Excel's grid is refused; a large one inside it is only a hint
        (calamine allocates nothing for it): the cells decide."""
        m = _DIMENSION.search(head)
        if m is None:
            return
        ends = [_reference(part) for part in m.group(1).split(b":")]
        if all(end is not None and end[0] <= EXCEL_MAX_ROWS and end[1] <= EXCEL_MAX_COLUMNS for end in ends):
            return
        if any(end is None for end in ends):
            return  # calamine cannot read it either: the sheet is unreadable, not large
        raise _fail(self.file, "sheet_too_large", m.group(1).decode("ascii", "replace"), sheet=self.sheet)

    def fast(self, buffers: Iterable[bytes]) -> bool:
        """The fast scan: True when it settled the grid (refusing it if too large), False if not."""
        rows = columns = 0  # the furthest row and column of the notable cells
        for batch in _batched(buffers, _BATCH):
            text = pl.col("text")
            found = (
                pl.DataFrame({"text": _texts(batch)})
                .select(  # one pass of the batch, its regexes in parallel
                    text.str.extract_all(_NOTABLE)
                    .list.explode(keep_nulls=False, empty_as_null=False)
                    .implode(),
                    text.str.contains(_PREFIXED).any().alias("irregular"),
                )
                .row(0, named=True)
            )
            notable = pl.Series(found["text"], dtype=pl.String)
            if found["irregular"] or not notable.str.contains(_CANONICAL).all():
                return False
            if notable.len():
                furthest = _extent(notable)
                rows, columns = max(rows, furthest[0]), max(columns, furthest[1])
                if self.too_large(rows, columns):  # cells that are there
                    raise self.fail(rows, columns)
        # exact where a reference goes past Z or 999999, else the bound that none does
        self.rows, self.columns = max(rows, _FAST_ROWS), max(columns, _FAST_COLUMNS)
        self.canonical = True
        return not self.too_large(self.rows, self.columns)

    def every_reference(self, buffers: Iterable[bytes]) -> None:
        """After a fast scan too large only by a bound (a sheet past column AX): every cell's
        reference read, still in Rust."""
        rows = columns = 0
        for batch in _batched(buffers, _BATCH):
            refs = pl.DataFrame({"text": _texts(batch)}).select(
                pl.col("text")
                .str.extract_all(r'<c r="[A-Za-z]+[0-9]+')
                .list.explode(keep_nulls=False, empty_as_null=False)
            )["text"]
            if refs.len():
                furthest = _extent(refs)
                rows, columns = max(rows, furthest[0]), max(columns, furthest[1])
        if self.too_large(rows, columns):
            raise self.fail(rows, columns)

    def exact(self, buffers: Iterable[bytes]) -> None:
        """Follow calamine over every row and cell tag; an upper bound where two versions differ.

        A cell's position is its `r` (of two, the further), else the next column of its row (a
        row's `r`, else the row after the previous one). A cell that may hold a value counts; a
        self-closing one moves the column (calamine expanding empty elements) or not (calamine
        ignoring them): the larger.
        """
        row_index = column_index = 0  # 0-based row of the current row; 1-based column of the last cell
        for buffer in buffers:
            for m in _ROW_OR_CELL.finditer(buffer):
                closing, name, attributes = m.groups()
                if closing:
                    if name == b"row":
                        row_index, column_index = row_index + 1, 0
                    continue
                empty = attributes.rstrip().endswith(b"/")
                found = [
                    _reference(r.group(1) if r.group(1) is not None else r.group(2))
                    for r in _R_ATTRIBUTE.finditer(attributes)
                ]
                refs = [ref for ref in found if ref is not None]
                if name == b"row":
                    row = max((r for r, _ in refs), default=None)
                    if empty:
                        row_index = max(row_index, row if row is not None else row_index + 1)
                    elif row is not None:
                        row_index = row - 1
                    continue
                cells = [ref for ref in refs if ref[1] > 0]
                if found and not cells:
                    continue  # a reference calamine cannot read: the sheet fails, nothing is allocated
                if cells:  # two r attributes: either may be the one used
                    row, column = max(r for r, _ in cells), max(c for _, c in cells)
                else:
                    row, column = row_index + 1, column_index + 1
                if empty:
                    column_index = max(column_index, column)
                    continue
                column_index = column
                self.rows, self.columns = max(self.rows, row), max(self.columns, column)
            if self.too_large(self.rows, self.columns):
                raise self.fail(self.rows, self.columns)


def check_sheet(file: str, sheet: str, part: Callable[[], Iterator[bytes]], settings: IngestSettings) -> None:
    """Refuse a sheet whose grid is beyond Excel's or the settings' limits. `part` opens its bytes."""
    grid = _Grid(file, sheet, settings)
    buffers = _whole_tags(file, _as_utf8(part()))
    first = next(buffers, b"")
    grid.check_dimension(first[: 64 * 1024])
    if grid.fast(chain([first], buffers)):
        return
    if grid.canonical:
        grid.every_reference(_whole_tags(file, _as_utf8(part())))
    else:
        grid.exact(_whole_tags(file, _as_utf8(part())))


# --- workbooks --------------------------------------------------------------------------------------

_SHEET_FOLDERS = ("xl/worksheets/", "xl/dialogsheets/", "xl/chartsheets/")
_ATTRIBUTE = re.compile(rb"""([^\s=/<>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_RELATIONSHIP = re.compile(rb"<(?:[^\s<>/:!?]+:)?Relationship\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_SHEET = re.compile(rb"<(?:[^\s<>/:!?]+:)?sheet\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")


def _attributes(text: bytes) -> dict[str, str]:
    return {
        m.group(1).decode("utf-8", "replace"): html.unescape(
            (m.group(2) if m.group(2) is not None else m.group(3)).decode("utf-8", "replace")
        )
        for m in _ATTRIBUTE.finditer(text)
    }


def _sheet_parts(
    file: str, fp: BinaryIO, parts: dict[str, list[zipfile.ZipInfo]], label: SheetLabel
) -> list[tuple[str, zipfile.ZipInfo]]:
    """The parts of the sheets the reader will load, found as calamine finds them.

    Every worksheet part when the workbook cannot be mapped with certainty.
    """
    every = [
        (info.filename, info)
        for key, infos in parts.items()
        if key.startswith(_SHEET_FOLDERS)
        for info in infos
    ]
    texts = []
    for key in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        infos = parts.get(key, [])
        if len(infos) != 1 or infos[0].file_size > _MAX_WORKBOOK_XML:
            return every
        texts.append(b"".join(_as_utf8(_inflate(file, fp, infos[0]))))
    workbook, relationships = texts
    targets = {}
    for m in _RELATIONSHIP.finditer(relationships):
        attributes = _attributes(m.group(1))
        if "Id" in attributes and "Target" in attributes:
            targets[attributes["Id"]] = attributes["Target"]
    found = []
    for m in _SHEET.finditer(workbook):
        attributes = _attributes(m.group(1))
        name = label(attributes.get("name", ""))
        if name is None:
            continue
        target = targets.get(attributes.get("r:id") or attributes.get("relationships:id") or "")
        if target is None:
            return every
        path = (
            target[1:]
            if target.startswith("/xl/")
            else target
            if target.startswith("xl/")
            else f"xl/{target}"
        )
        found += [(name, info) for info in parts.get(path.lower(), [])]
    return found


def inspect_workbook(path: Path, settings: IngestSettings, label: SheetLabel) -> None:
    """Raise `StructuralError` for an .xlsx that would take the reader down, before it opens it.

    `label` names the sheets the reader will load (the others are never read, their grid is not
    checked). Every part the reader reads is inflated once here and its sheets' cells scanned: about
    a quarter of the CPU time the reader then takes (inflating is half of it).
    """
    file = path.name
    with open(path, "rb") as fp:
        if fp.read(4) != b"PK\x03\x04":  # not a zip (an encrypted workbook is an OLE2 file)
            raise _fail(file, "unreadable_file", "not a zip")
    count = declared_entries(path)
    if count is not None and count > settings.max_workbook_parts:
        raise _fail(file, "unpacked_limits", f"{count} parts")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise _fail(file, "unreadable_file", type(exc).__name__) from None
    with archive, open(path, "rb") as fp:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > settings.max_workbook_parts:
            raise _fail(file, "unpacked_limits", f"{len(infos)} parts")
        total = sum(_unpacked_size(info) for info in infos)
        if total > settings.max_unpacked_bytes:
            raise _fail(file, "unpacked_limits", f"{total} bytes unpacked")
        check_compression(file, infos, settings)
        parts: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            parts.setdefault(info.filename.replace("\\", "/").lstrip("/").lower(), []).append(info)
        sheets = _sheet_parts(file, fp, parts, label)
        for sheet, info in sheets:
            check_sheet(file, sheet, lambda info=info: _inflate(file, fp, info), settings)
        for key, same in parts.items():  # what else the reader reads: none unpacks past its size
            if not key.startswith(_SHEET_FOLDERS):  # a sheet is scanned above, or never read
                for info in same:
                    for _ in _inflate(file, fp, info):
                        pass


# --- CSVs -------------------------------------------------------------------------------------------

_CSV_SPECIAL = re.compile(rb'[,"\n]')


def csv_first_record_fields(path: Path, limit: int) -> int:
    """The fields of a CSV's first record as polars splits it, counted up to `limit` + 1.

    A field is quoted when it starts with a quote (a doubled quote inside it is one quote); a record
    ends at a line feed outside quotes (polars does not end one at a lone carriage return).
    """
    fields, quoted, at_field_start, carry = 1, False, True, b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(MIB)
            data, carry = carry + chunk, b""
            if not data:
                return fields
            pos = 0
            while pos < len(data):
                if quoted:
                    at = data.find(b'"', pos)
                    if at < 0:
                        break
                    if at + 1 == len(data) and chunk:  # a doubled quote split by the chunk?
                        carry = data[at:]
                        break
                    if data[at + 1 : at + 2] == b'"':
                        pos = at + 2
                    else:
                        quoted, pos = False, at + 1
                    continue
                if at_field_start and data[pos : pos + 1] == b'"':
                    quoted, at_field_start, pos = True, False, pos + 1
                    continue
                m = _CSV_SPECIAL.search(data, pos)
                if m is None:
                    at_field_start = False
                    break
                if m.group() == b",":
                    fields += 1
                    if fields > limit:
                        return fields
                    at_field_start, pos = True, m.end()
                elif m.group() == b"\n":
                    return fields
                else:  # a quote inside an unquoted field is a character
                    at_field_start, pos = False, m.end()
            if not chunk:
                return fields
