"""Mutations of valid submissions for the fuzz harness: what a damaged, hand-edited or crafted file
can look like, as hypothesis strategies.

A sample is a seed (a valid submission of 南开区 120104 for 2008H1: a workbook, a zip of CSVs or a
folder of CSVs, in UTF-8, UTF-8 with a BOM or GB18030), a few mutations and the name it lands under.
Mutations are frozen dataclasses: hypothesis prints a failing sample as Python that rebuilds it
(`Sample(seed='xlsx', mutations=(InPart(part='xl/sharedStrings.xml', edit=…),), name='…')`), which
can be pasted into an `@example`.

- bytes of the whole file, or of one part: `FlipBits`, `InsertBytes`, `DeleteBytes`, `Truncate`,
  `PadTo` (past the size limit too);
- XML parts of a workbook (`InPart`): `DuplicateElement`, `DeleteElement`, `SetAttribute`,
  `SetCellRef` (XFD1048576…), `SetCellTag` (other spellings of a cell: quotes, case, entities, a
  second `r`, a prefix), `SetDimension`, `SetText`, `InjectDoctype` (entities, external
  references), `AppendRows`;
- the zip itself (workbook or CSVs): `RenamePart`, `DropPart`, `DuplicatePart`, `AddPart` (a large
  compressible part), `AddManyParts`, `Recompress` (stored, bzip2, lzma), `LieAboutSize`,
  `SetFlags` (encrypted, UTF-8 names, data descriptor), `PatchZip` (any field of a local header,
  a central record or the end record: versions, methods, sizes, offsets, counts);
- CSVs (`InPart` of a zip, `InFile` of a folder): `Reencode` (UTF-16, Big5, latin-1, …),
  `InsertText` (stray quotes, NULs, CRs), `LineEndings`, `LongField`, `DeleteColumn`,
  `DuplicateLines`, `DropLines`, `SetField`;
- folders: `RenameFile`, `DropFile`, `AddFile`, `AddManyFiles` (around the entry limit),
  `AddSpecial` (a link to /dev/zero, a FIFO, a subfolder);
- the name (`names`): the pattern with other versions (up to 2**40), extensions, districts and
  periods; control characters, ID-shaped digits, very long names, bytes that are not UTF-8,
  random text.

Every size is bounded so that one example stays a few seconds and a few hundred MB.
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hypothesis import strategies as st

from tests.support.badfiles import (
    DISTRICT,
    MAX_FILE_BYTES,
    MAX_ZIP_EXPANDED_BYTES,
    PERIOD,
    csv_entries,
    write_book,
    write_zip,
)

STEM = f"{DISTRICT}_{PERIOD}"
MAX_ADDED_BYTES = 4 * MAX_ZIP_EXPANDED_BYTES  # a compressible part's size (a few hundred KiB zipped)
MAX_RANDOM_BYTES = 1 << 20  # incompressible bytes added at most
MAX_ROWS_ADDED = 50_000

Folder = dict[str, bytes | str]  # file name -> bytes, or a special entry ("symlink", "fifo", "dir")
Payload = bytes | Folder


class Edit(Protocol):
    def apply(self, data: bytes) -> bytes: ...


# --- seeds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    container: str  # xlsx | zip | folder
    payload: Payload

    @property
    def parts(self) -> list[str]:
        """The zip's entries or the folder's files (what `InPart` / `InFile` can name)."""
        if isinstance(self.payload, dict):
            return sorted(self.payload)
        with zipfile.ZipFile(io.BytesIO(self.payload)) as zf:
            return [i.filename for i in zf.infolist()]


def build_seeds() -> dict[str, Seed]:
    """The valid submissions every sample starts from (in memory: a few hundred KiB in all)."""
    texts = csv_entries()
    with tempfile.TemporaryDirectory(prefix="qiangji-fuzz-seed-") as tmp:
        book = write_book(Path(tmp) / f"{STEM}.xlsx").read_bytes()
        zips = {
            encoding: write_zip(
                Path(tmp) / f"{encoding}.zip", [(n, t.encode(encoding)) for n, t in texts.items()]
            ).read_bytes()
            for encoding in ("utf-8", "utf-8-sig", "gb18030")
        }
    return {
        "xlsx": Seed("xlsx", book),
        "zip_utf8": Seed("zip", zips["utf-8"]),
        "zip_utf8_bom": Seed("zip", zips["utf-8-sig"]),
        "zip_gb18030": Seed("zip", zips["gb18030"]),
        "folder_utf8": Seed("folder", {n: t.encode("utf-8") for n, t in texts.items()}),
        "folder_gb18030": Seed("folder", {n: t.encode("gb18030") for n, t in texts.items()}),
    }


# --- bytes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlipBits:
    at: int  # modulo the length
    mask: int  # 1..255

    def apply(self, data: bytes) -> bytes:
        if not data:
            return data
        out = bytearray(data)
        out[self.at % len(out)] ^= self.mask
        return bytes(out)


@dataclass(frozen=True)
class InsertBytes:
    at: int  # modulo the length + 1
    data: bytes

    def apply(self, data: bytes) -> bytes:
        i = self.at % (len(data) + 1)
        return data[:i] + self.data + data[i:]


@dataclass(frozen=True)
class DeleteBytes:
    at: int
    length: int

    def apply(self, data: bytes) -> bytes:
        i = self.at % (len(data) + 1)
        return data[:i] + data[i + self.length :]


@dataclass(frozen=True)
class Truncate:
    keep: int  # modulo the length + 1

    def apply(self, data: bytes) -> bytes:
        return data[: self.keep % (len(data) + 1)]


@dataclass(frozen=True)
class PadTo:
    size: int  # the length after padding (nothing if already longer)
    byte: int = 0

    def apply(self, data: bytes) -> bytes:
        return data + bytes([self.byte]) * max(self.size - len(data), 0)


# --- XML (the parts of a workbook) --------------------------------------------------------------------


def _elements(data: bytes, tag: str) -> list[re.Match[bytes]]:
    """`<tag …/>` or `<tag …>…</tag>` (not nested in itself: true of the tags used here)."""
    t = re.escape(tag.encode())
    return list(re.finditer(rb"<" + t + rb"(?=[\s/>])[^>]*?(?:/>|>.*?</" + t + rb">)", data, re.S))


@dataclass(frozen=True)
class DuplicateElement:
    tag: str
    nth: int
    times: int

    def apply(self, data: bytes) -> bytes:
        found = _elements(data, self.tag)
        if not found:
            return data
        m = found[self.nth % len(found)]
        return data[: m.end()] + m.group(0) * self.times + data[m.end() :]


@dataclass(frozen=True)
class DeleteElement:
    tag: str
    nth: int

    def apply(self, data: bytes) -> bytes:
        found = _elements(data, self.tag)
        if not found:
            return data
        m = found[self.nth % len(found)]
        return data[: m.start()] + data[m.end() :]


@dataclass(frozen=True)
class SetAttribute:
    attr: str
    nth: int
    value: str

    def apply(self, data: bytes) -> bytes:
        found = list(re.finditer(rb"(?<=[\s<])" + re.escape(self.attr.encode()) + rb'="([^"]*)"', data))
        if not found:
            return data
        m = found[self.nth % len(found)]
        return data[: m.start(1)] + _attr(self.value) + data[m.end(1) :]


def _attr(value: str) -> bytes:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").encode("utf-8", "replace")


@dataclass(frozen=True)
class SetCellRef:
    nth: int
    ref: str

    def apply(self, data: bytes) -> bytes:
        found = list(re.finditer(rb'<c r="([^"]*)"', data))
        if not found:
            return data
        m = found[self.nth % len(found)]
        return data[: m.start(1)] + _attr(self.ref) + data[m.end(1) :]


@dataclass(frozen=True)
class SetCellTag:
    """The opening `<c r="A2"` of the nth cell rewritten as another spelling calamine may read."""

    nth: int
    tag: str

    def apply(self, data: bytes) -> bytes:
        found = list(re.finditer(rb'<c r="[^"]*"', data))
        if not found:
            return data
        m = found[self.nth % len(found)]
        return data[: m.start()] + self.tag.encode("utf-8") + data[m.end() :]


@dataclass(frozen=True)
class SetDimension:
    ref: str

    def apply(self, data: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + _attr(self.ref) + b'"', data, count=1)


@dataclass(frozen=True)
class SetText:
    tag: str  # v (a cell's value) or t (a string)
    nth: int
    text: str
    escape: bool = True  # False: the text goes in as XML (entities, CDATA, markup)

    def apply(self, data: bytes) -> bytes:
        t = re.escape(self.tag.encode())
        found = list(re.finditer(rb"<" + t + rb"(?:\s[^>]*)?>(.*?)</" + t + rb">", data, re.S))
        if not found:
            return data
        m = found[self.nth % len(found)]
        text = self.text.encode("utf-8", "surrogatepass") if not self.escape else _text(self.text)
        return data[: m.start(1)] + text + data[m.end(1) :]


def _text(value: str) -> bytes:
    return value.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "replace")


DOCTYPES = {
    "billion_laughs": (
        '<!DOCTYPE {root} [<!ENTITY a0 "lol">'
        + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
        + "]>",
        "&a9;",
    ),
    "external_file": ('<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    "external_http": ('<!DOCTYPE {root} [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;"),
    "parameter_entity": ('<!DOCTYPE {root} [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>', ""),
    "internal_entity": ('<!DOCTYPE {root} [<!ENTITY x "120104">]>', "&x;"),
    "dtd_only": ("<!DOCTYPE {root}>", ""),
}


@dataclass(frozen=True)
class InjectDoctype:
    kind: str  # a key of DOCTYPES
    nth: int = 0  # which <t>/<v> gets the entity reference

    def apply(self, data: bytes) -> bytes:
        declaration, reference = DOCTYPES[self.kind]
        root = re.search(rb"<([A-Za-z][\w:]*)[\s>]", data[data.find(b"?>") + 2 if b"?>" in data else 0 :])
        name = root.group(1).decode() if root else "x"
        head = data.find(b"?>")
        at = head + 2 if head >= 0 else 0
        data = data[:at] + declaration.replace("{root}", name).encode() + data[at:]
        if reference:
            data = SetText(
                "t" if b"<t>" in data or b"<t " in data else "v", self.nth, reference, False
            ).apply(data)
        return data


@dataclass(frozen=True)
class AppendRows:
    """Rows after the last one of a sheet (each a copy of the sheet's last row, numbered on)."""

    count: int

    def apply(self, data: bytes) -> bytes:
        rows = _elements(data, "row")
        if not rows:
            return data
        last = rows[-1]
        number = int(re.search(rb'r="(\d+)"', last.group(0)).group(1)) if b'r="' in last.group(0) else 1
        template = last.group(0)
        added = [
            re.sub(
                rb'(<c r="[A-Z]+)\d+"',
                lambda m, n=number + k + 1: m.group(1) + str(n).encode() + b'"',
                template.replace(f'r="{number}"'.encode(), f'r="{number + k + 1}"'.encode(), 1),
            )
            for k in range(self.count)
        ]
        return data[: last.end()] + b"".join(added) + data[last.end() :]


# --- CSVs -------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """The CSV as text and the codec that gives its bytes back."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for codec in ("utf-8", "gb18030"):
        try:
            text = data.decode(codec)
            if text.encode(codec) == data:
                return text, codec
        except UnicodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _encode(text: str, codec: str) -> bytes:
    return text.encode(codec, "replace")


@dataclass(frozen=True)
class Reencode:
    encoding: str

    def apply(self, data: bytes) -> bytes:
        return _encode(_decode(data)[0], self.encoding)


@dataclass(frozen=True)
class InsertText:
    at: int
    text: str

    def apply(self, data: bytes) -> bytes:
        text, codec = _decode(data)
        i = self.at % (len(text) + 1)
        return _encode(text[:i] + self.text + text[i:], codec)


@dataclass(frozen=True)
class LineEndings:
    newline: str

    def apply(self, data: bytes) -> bytes:
        text, codec = _decode(data)
        return _encode(re.sub(r"\r\n|\n|\r", lambda _: self.newline, text), codec)


def _lines(data: bytes) -> tuple[list[str], str]:
    text, codec = _decode(data)
    return text.split("\r\n") if "\r\n" in text else text.split("\n"), codec


def _join(lines: list[str], codec: str) -> bytes:
    return _encode("\r\n".join(lines), codec)


@dataclass(frozen=True)
class SetField:
    line: int
    column: int
    value: str

    def apply(self, data: bytes) -> bytes:
        lines, codec = _lines(data)
        i = self.line % len(lines)
        fields = lines[i].split(",")
        fields[self.column % len(fields)] = self.value
        lines[i] = ",".join(fields)
        return _join(lines, codec)


@dataclass(frozen=True)
class LongField:
    line: int
    column: int
    length: int
    char: str = "长"

    def apply(self, data: bytes) -> bytes:
        return SetField(self.line, self.column, self.char * self.length).apply(data)


@dataclass(frozen=True)
class DeleteColumn:
    column: int

    def apply(self, data: bytes) -> bytes:
        lines, codec = _lines(data)
        out = []
        for line in lines:
            fields = line.split(",")
            if line:
                del fields[self.column % len(fields)]
            out.append(",".join(fields))
        return _join(out, codec)


@dataclass(frozen=True)
class DuplicateLines:
    line: int
    times: int

    def apply(self, data: bytes) -> bytes:
        lines, codec = _lines(data)
        i = self.line % len(lines)
        return _join(lines[: i + 1] + [lines[i]] * self.times + lines[i + 1 :], codec)


@dataclass(frozen=True)
class DropLines:
    line: int
    count: int

    def apply(self, data: bytes) -> bytes:
        lines, codec = _lines(data)
        i = self.line % len(lines)
        return _join(lines[:i] + lines[i + self.count :], codec)


# --- zips (a workbook, or a zip of CSVs) --------------------------------------------------------------


def _read_zip(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(info, zf.read(info)) for info in zf.infolist()]
    except Exception:  # a damaged zip (an earlier mutation): part mutations leave it as it is
        return None


def _write_zip(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:

    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": on purpose
        with zipfile.ZipFile(out, "w") as zf:
            for info, data in entries:
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.create_system = info.create_system
                zf.writestr(copy, data)
    return out.getvalue()


def _part(entries: list[tuple[zipfile.ZipInfo, bytes]], part: str) -> int | None:
    names = [i.filename for i, _ in entries]
    return names.index(part) if part in names else None


@dataclass(frozen=True)
class InPart:
    part: str
    edit: Edit

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        i = _part(entries, self.part) if entries else None
        if i is None:
            return data
        info, content = entries[i]  # type: ignore[index]
        entries[i] = (info, self.edit.apply(content))  # type: ignore[index]
        return _write_zip(entries)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RenamePart:
    part: str
    name: str

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        i = _part(entries, self.part) if entries else None
        if i is None:
            return data
        info, content = entries[i]  # type: ignore[index]
        renamed = zipfile.ZipInfo(self.name, info.date_time)
        renamed.compress_type = info.compress_type
        entries[i] = (renamed, content)  # type: ignore[index]
        return _write_zip(entries)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DropPart:
    part: str

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        if entries is None:
            return data
        return _write_zip([(i, d) for i, d in entries if i.filename != self.part])


@dataclass(frozen=True)
class DuplicatePart:
    part: str

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        i = _part(entries, self.part) if entries else None
        if i is None:
            return data
        return _write_zip([*entries, entries[i]])  # type: ignore[index, misc]


def _filler(size: int, fill: str) -> bytes:
    if fill == "zeros":
        return b"\0" * size
    if fill == "xml":  # shared strings, as many as fit
        unit = b"<si><t>x</t></si>"
        head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        return head + unit * max((size - len(head)) // len(unit), 0) + b"</sst>"
    if fill == "csv":
        return b"a,b,c\r\n" * (size // 7)
    return random.Random(size).randbytes(min(size, MAX_RANDOM_BYTES))


@dataclass(frozen=True)
class AddPart:
    name: str
    size: int
    fill: str  # zeros | xml | csv | random (random is capped at MAX_RANDOM_BYTES)

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        if entries is None:
            return data
        info = zipfile.ZipInfo(self.name)
        info.compress_type = zipfile.ZIP_DEFLATED
        if (i := _part(entries, self.name)) is not None:  # replaces the part of that name
            entries[i] = (info, _filler(self.size, self.fill))
            return _write_zip(entries)
        return _write_zip([*entries, (info, _filler(self.size, self.fill))])


@dataclass(frozen=True)
class Recompress:
    method: int  # zipfile.ZIP_STORED, ZIP_DEFLATED, ZIP_BZIP2, ZIP_LZMA

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        if entries is None:
            return data
        for info, _ in entries:
            info.compress_type = self.method
        return _write_zip(entries)


def _central_records(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset of the central record, offset of the local header, name) of each entry."""
    out = []
    at = data.find(b"PK\x01\x02")
    while at != -1 and at + 46 <= len(data):
        n, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        local = struct.unpack_from("<I", data, at + 42)[0]
        out.append((at, local, data[at + 46 : at + 46 + n]))
        at = data.find(b"PK\x01\x02", at + 46 + n + extra + comment)
    return out


@dataclass(frozen=True)
class LieAboutSize:
    """An entry's uncompressed size as its headers declare it (local and central)."""

    part: str
    declared: int  # 0 .. 2**32-1

    def apply(self, data: bytes) -> bytes:
        out = bytearray(data)
        for central, local, name in _central_records(data):
            if name == self.part.encode("utf-8") and local + 30 <= len(out):
                struct.pack_into("<I", out, central + 24, self.declared)
                if out[local : local + 4] == b"PK\x03\x04":
                    struct.pack_into("<I", out, local + 22, self.declared)
        return bytes(out)


@dataclass(frozen=True)
class SetFlags:
    """Toggle general-purpose flag bits of an entry: 0x1 encrypted, 0x8 data descriptor, 0x800 UTF-8."""

    part: str
    xor: int

    def apply(self, data: bytes) -> bytes:
        out = bytearray(data)
        for central, local, name in _central_records(data):
            if name == self.part.encode("utf-8"):
                flags = struct.unpack_from("<H", out, central + 8)[0]
                struct.pack_into("<H", out, central + 8, flags ^ self.xor)
                if local + 8 <= len(out) and out[local : local + 4] == b"PK\x03\x04":
                    flags = struct.unpack_from("<H", out, local + 6)[0]
                    struct.pack_into("<H", out, local + 6, flags ^ self.xor)
        return bytes(out)


# the fixed fields of a zip's records: name -> (offset, struct format)
ZIP_FIELDS = {
    "local": {
        "version_needed": (4, "<H"),
        "flags": (6, "<H"),
        "method": (8, "<H"),
        "crc": (14, "<I"),
        "compressed": (18, "<I"),
        "uncompressed": (22, "<I"),
        "name_length": (26, "<H"),
        "extra_length": (28, "<H"),
    },
    "central": {
        "version_made": (4, "<H"),
        "version_needed": (6, "<H"),
        "flags": (8, "<H"),
        "method": (10, "<H"),
        "date": (14, "<H"),
        "crc": (16, "<I"),
        "compressed": (20, "<I"),
        "uncompressed": (24, "<I"),
        "name_length": (28, "<H"),
        "extra_length": (30, "<H"),
        "comment_length": (32, "<H"),
        "disk": (34, "<H"),
        "external_attr": (38, "<I"),
        "local_offset": (42, "<I"),
    },
    "end": {
        "disk": (4, "<H"),
        "cd_disk": (6, "<H"),
        "entries_here": (8, "<H"),
        "entries": (10, "<H"),
        "cd_size": (12, "<I"),
        "cd_offset": (16, "<I"),
        "comment_length": (20, "<H"),
    },
}


@dataclass(frozen=True)
class PatchZip:
    """One field of a zip's records set to a value: an entry's local header or central record
    (`part`), or the end of the central directory."""

    record: str  # local | central | end
    field: str  # a key of ZIP_FIELDS[record]
    value: int  # masked to the field's width
    part: str = ""

    def apply(self, data: bytes) -> bytes:
        offset, fmt = ZIP_FIELDS[self.record][self.field]
        value = self.value % (1 << (8 * struct.calcsize(fmt)))
        out = bytearray(data)
        if self.record == "end":
            at = out.rfind(b"PK\x05\x06")
            starts = [at] if at >= 0 else []
        else:
            found = [(c, loc) for c, loc, name in _central_records(data) if name == self.part.encode("utf-8")]
            starts = [c if self.record == "central" else loc for c, loc in found]
        for start in starts:
            if start + offset + struct.calcsize(fmt) <= len(out):
                struct.pack_into(fmt, out, start + offset, value)
        return bytes(out)


@dataclass(frozen=True)
class AddManyParts:
    count: int

    def apply(self, data: bytes) -> bytes:
        entries = _read_zip(data)
        if entries is None:
            return data
        extra = [(zipfile.ZipInfo(f"extra/{i}.xml"), b"") for i in range(self.count)]
        return _write_zip(entries + extra)


# --- folders -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InFile:
    file: str
    edit: Edit

    def apply(self, folder: Folder) -> Folder:
        data = folder.get(self.file)
        if not isinstance(data, bytes):
            return folder
        return {**folder, self.file: self.edit.apply(data)}


@dataclass(frozen=True)
class RenameFile:
    file: str
    name: str

    def apply(self, folder: Folder) -> Folder:
        if self.file not in folder:
            return folder
        out = {k: v for k, v in folder.items() if k != self.file}
        out[self.name] = folder[self.file]
        return out


@dataclass(frozen=True)
class DropFile:
    file: str

    def apply(self, folder: Folder) -> Folder:
        return {k: v for k, v in folder.items() if k != self.file}


@dataclass(frozen=True)
class AddFile:
    name: str
    size: int
    fill: str

    def apply(self, folder: Folder) -> Folder:
        return {**folder, self.name: _filler(self.size, self.fill)}


@dataclass(frozen=True)
class AddSpecial:
    name: str
    kind: str  # symlink (to /dev/zero) | fifo | dir

    def apply(self, folder: Folder) -> Folder:
        return {**folder, self.name: self.kind}


@dataclass(frozen=True)
class AddManyFiles:
    count: int

    def apply(self, folder: Folder) -> Folder:
        return {**folder, **{f"extra{i}.csv": b"a\r\n" for i in range(self.count)}}


# --- a sample ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    seed: str  # a key of build_seeds()
    mutations: tuple
    name: str  # the landing entry's name

    def payload(self, seeds: dict[str, Seed]) -> Payload:
        data = seeds[self.seed].payload
        for mutation in self.mutations:
            data = mutation.apply(data)
        return data

    def write(self, seeds: dict[str, Seed], landing: Path) -> Path:
        """Put the sample into the landing folder; its path."""
        data = self.payload(seeds)
        path = landing / self.name
        if isinstance(data, bytes):
            path.write_bytes(data)
            return path
        path.mkdir()
        for name, content in data.items():
            target = path / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            elif content == "symlink":
                target.symlink_to("/dev/zero")
            elif content == "fifo":
                os.mkfifo(target)
            else:
                target.mkdir()
                (target / "members.csv").write_bytes(b"x")
        return path


# --- strategies -----------------------------------------------------------------------------------------

positions = st.integers(0, 1 << 20)
small_bytes = st.binary(min_size=1, max_size=64)
tricky_bytes = st.sampled_from(
    [b"\0", b"\xff\xfe", b"\xef\xbb\xbf", b"PK\x03\x04", b"PK\x05\x06", b"<", b"&", b"\r", b'"', b"\x80"]
)

byte_edits = st.one_of(
    st.builds(FlipBits, positions, st.integers(1, 255)),
    st.builds(Truncate, positions),
    st.builds(InsertBytes, positions, st.one_of(tricky_bytes, small_bytes)),
    st.builds(DeleteBytes, positions, st.integers(1, 4096)),
    st.builds(
        PadTo,
        st.sampled_from([MAX_FILE_BYTES, MAX_FILE_BYTES + 1, 64 << 10]),
        st.sampled_from([0, 0x20, 0x41]),
    ),
)

XML_TAGS = [
    "row",
    "c",
    "v",
    "si",
    "t",
    "sheet",
    "Override",
    "Default",
    "Relationship",
    "dimension",
    "sheetData",
]
ATTRIBUTES = ["r", "t", "s", "spans", "ref", "count", "uniqueCount", "sheetId", "r:id", "name", "state"]
ATTRIBUTES += ["Target", "Id", "ContentType", "PartName", "Extension", "xmlns"]
ATTRIBUTE_VALUES = [
    "",
    "0",
    "-1",
    "4294967296",
    "99999999999999999999",
    "1.5",
    "inlineStr",
    "e",
    "b",
    "s",
    "str",
    "n",
    "d",
    "A1:XFD1048576",
    "XFD1048576",
    "../../../../etc/passwd",
    "/xl/worksheets/sheet99.xml",
    "worksheets/sheet1.xml",
    "党员",
    "members",
    "hidden",
    "veryHidden",
    "x" * 5000,
    "\u202e",
    "rId1",
]
CELL_TAGS = [
    "<c r='XFD1048576'",
    '<c r = "XFD1048576"',
    '<c r="xfd1048576"',
    '<c r="&#x58;FD1048576"',
    '<c r="A2" r="XFD1048576"',
    '<c\nr="XFD1048576"',
    '<c r="XFD0001048576"',
    '<c r="XFD1048577"',
    '<c t="n" r="XFD1048576"',
    '<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD1048576"',
    "<c",
    '<c r="A1048576"',
]
CELL_REFS = ["XFD1048576", "A1048576", "XFD1", "A0", "", "1A", "AAAA1", "A4294967296", "A-1", "ZZZZZZZZ1"]
CELL_TEXTS = [
    "",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-0",
    "99999999999999999999999999",
    "4294967296",
    "1.20104E+17",
    "#N/A",
    "#REF!",
    "2008-02-30",
    "是",
    "\u0001\u0002",
    "\ufffd",
    "\u202e",
    "=1+1",
]
CELL_TEXTS_XML = [
    "&#0;",
    "&#x1F;",
    "&#xD800;",
    "&unknown;",
    "<![CDATA[x]]>",
    "]]>",
    "<b>x</b>",
    "&#99999999;",
]

xml_texts = st.one_of(
    st.sampled_from(CELL_TEXTS),
    st.text(max_size=40),
    st.builds(lambda n, ch: ch * n, st.integers(32_000, 200_000), st.sampled_from(["长", "x", "1"])),
)

xml_edits = st.one_of(
    st.builds(DuplicateElement, st.sampled_from(XML_TAGS), positions, st.integers(1, 2000)),
    st.builds(DeleteElement, st.sampled_from(XML_TAGS), positions),
    st.builds(SetAttribute, st.sampled_from(ATTRIBUTES), positions, st.sampled_from(ATTRIBUTE_VALUES)),
    st.builds(SetCellRef, positions, st.sampled_from(CELL_REFS)),
    st.builds(SetCellTag, positions, st.sampled_from(CELL_TAGS)),
    st.builds(SetDimension, st.sampled_from(["A1:XFD1048576", "A1", "", "XFD1048576:A1", "A1:A99999999"])),
    st.builds(SetText, st.sampled_from(["v", "t"]), positions, xml_texts),
    st.builds(
        SetText, st.sampled_from(["v", "t"]), positions, st.sampled_from(CELL_TEXTS_XML), st.just(False)
    ),
    st.builds(InjectDoctype, st.sampled_from(sorted(DOCTYPES)), positions),
    st.builds(AppendRows, st.integers(1, MAX_ROWS_ADDED)),
    byte_edits,
)

ENCODINGS = ["utf-16", "utf-16-le", "utf-32", "big5", "latin-1", "cp1252", "shift_jis", "gb18030"]
ENCODINGS += ["utf-8", "utf-8-sig", "utf-7", "ascii"]
CSV_INSERTS = ['"', '""', "\0", "\r", "\n", ",", "\ufeff", "\u2028", '"\n"', "\x1a", "\\", "'", "\t"]
FIELD_VALUES = [*CELL_TEXTS, "120104198005170013", "1,234", "２００８-０１-０１", '"', 'a"b', "\0", " "]

csv_edits = st.one_of(
    st.builds(Reencode, st.sampled_from(ENCODINGS)),
    st.builds(InsertText, positions, st.one_of(st.sampled_from(CSV_INSERTS), st.text(max_size=20))),
    st.builds(LineEndings, st.sampled_from(["\r", "\n", "\n\r", "\u2028", "\r\r\n", ""])),
    st.builds(
        LongField, positions, st.integers(0, 20), st.integers(30_000, 6 << 20), st.sampled_from(["长", "x"])
    ),
    st.builds(DeleteColumn, st.integers(0, 20)),
    st.builds(DuplicateLines, positions, st.integers(1, 20_000)),
    st.builds(DropLines, positions, st.integers(1, 50)),
    st.builds(
        SetField,
        positions,
        st.integers(0, 20),
        st.one_of(st.sampled_from(FIELD_VALUES), st.text(max_size=20)),
    ),
    byte_edits,
)

PART_NAMES = [
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
    "xl/workbook.xml",
    "[Content_Types].xml",
    "members.csv",
    "党员.csv",
    "MEMBERS.CSV",
    "../members.csv",
    "/members.csv",
    "a\\members.csv",
    "top/members.csv",
    "x/y/z.csv",
    "长" * 80 + ".csv",
    "extra.csv",
    "padding.bin",
    "inner.zip",
    "cover.csv ",
    "\u202emembers.csv",
]
CSV_NAMES = [
    "members.csv",
    "党员.csv",
    "Members.CSV",
    "cover.csv",
    "extra.csv",
    "members.txt",
    "members",
    ".members.csv",
]
CSV_NAMES += ["members.csv.part", "desktop.ini", "长" * 60 + ".csv", "a\nb.csv", "\u202evsc.srebmem"]

fills = st.sampled_from(["zeros", "xml", "csv", "random"])
added_sizes = st.one_of(
    st.integers(0, 4096),
    st.sampled_from([MAX_ZIP_EXPANDED_BYTES - 1, MAX_ZIP_EXPANDED_BYTES + 1, MAX_ADDED_BYTES]),
)
methods = st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])


ZIP_VALUES = [0, 1, 8, 12, 14, 20, 45, 63, 64, 99, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


@st.composite
def zip_patches(draw: st.DrawFn, parts: list[str]) -> PatchZip:
    record = draw(st.sampled_from(sorted(ZIP_FIELDS)))
    field = draw(st.sampled_from(sorted(ZIP_FIELDS[record])))
    value = draw(st.one_of(st.sampled_from(ZIP_VALUES), st.integers(0, 0xFFFFFFFF)))
    return PatchZip(record, field, value, "" if record == "end" else draw(st.sampled_from(parts)))


def zip_mutations(parts: list[str], csvs: bool) -> st.SearchStrategy:
    """Mutations of a zip's entries: of a workbook (`csvs` False) or of a zip of CSVs."""
    part = st.sampled_from(parts)
    return st.one_of(
        zip_patches(parts),
        st.builds(AddManyParts, st.sampled_from([101, 10_001])),
        st.builds(RenamePart, part, st.sampled_from(PART_NAMES)),
        st.builds(DropPart, part),
        st.builds(DuplicatePart, part),
        st.builds(AddPart, st.sampled_from(PART_NAMES), added_sizes, fills),
        st.builds(Recompress, methods),
        st.builds(
            LieAboutSize, part, st.sampled_from([0, 1, 1000, MAX_ZIP_EXPANDED_BYTES + 1, 2**31, 2**32 - 1])
        ),
        st.builds(SetFlags, part, st.sampled_from([0x1, 0x8, 0x800, 0x1 | 0x800])),
    )


def folder_mutations(files: list[str]) -> st.SearchStrategy:
    """Mutations of a folder's files (other than their content)."""
    file = st.sampled_from(files)
    return st.one_of(
        st.builds(RenameFile, file, st.sampled_from(CSV_NAMES)),
        st.builds(DropFile, file),
        st.builds(AddFile, st.sampled_from(CSV_NAMES), added_sizes, fills),
        st.builds(AddSpecial, st.sampled_from(CSV_NAMES), st.sampled_from(["symlink", "fifo", "dir"])),
        st.builds(AddManyFiles, st.sampled_from([93, 94, 200])),
    )


def _ordered(mutations: list) -> tuple:
    """Part and file mutations before those of the whole file's bytes (which may break the zip)."""
    return tuple(
        sorted(
            mutations, key=lambda m: isinstance(m, FlipBits | InsertBytes | DeleteBytes | Truncate | PadTo)
        )
    )


EXTENSIONS = {"xlsx": ".xlsx", "zip": ".zip", "folder": ""}
OTHER_EXTENSIONS = [".xlsx", ".XLSX", ".Xlsx", ".xls", ".zip", ".ZIP", "", ".csv", ".xlsx.exe", ".xlsx "]
VERSIONS = ["", "_v1", "_v2", "_v0", "_v02", "_V3", "_v9999", "_v10000", f"_v{2**31}", f"_v{2**40}"]
VERSIONS += ["_v" + "9" * 30, "_v-1", "_v"]
# never 120101 nor 120102 of 2008H1: those are the valid neighbours the property watches
DISTRICTS = ["120104", "XT01", "xt01", "XT07", "120116", "120107", "999999", "120000", "12010４"]
PERIODS = ["2008H1", "2008H2", "2008h1", "2008H3", "2008H0", "1999H1", "2011H1", "9999H2", "0000H1"]
# ID-shaped digits: a valid GB 11643 number, and 15 digits
ID_LIKE = ["120104198005170013", "12010419800517001X", "120104800517001"]


def _fits(name: str) -> bool:
    try:
        raw = os.fsencode(name)
    except UnicodeError:
        return False
    return 0 < len(raw) <= 255 and b"/" not in raw and b"\0" not in raw and name not in (".", "..")


@st.composite
def names(draw: st.DrawFn, container: str) -> str:
    """The name a sample lands under: mostly the pattern, sometimes anything a file system allows."""
    ext = EXTENSIONS[container]
    # half of them valid: a file whose name is refused is never read
    odd = ["version", "pattern", "control", "id", "long", "bytes", "text"]
    kind = draw(st.sampled_from(["valid"] * len(odd) + odd))
    if kind == "valid":
        name = STEM + ext
    elif kind == "version":
        name = STEM + draw(st.sampled_from(VERSIONS)) + draw(st.sampled_from([ext, *OTHER_EXTENSIONS]))
    elif kind == "pattern":
        name = f"{draw(st.sampled_from(DISTRICTS))}_{draw(st.sampled_from(PERIODS))}{ext}"
    elif kind == "control":
        base = STEM + ext
        at = draw(st.integers(0, len(base)))
        char = draw(
            st.sampled_from(["\n", "\r", "\t", " ", "\u202e", "\u200b", "\x7f", "\x1b[31m", "*", "?"])
        )
        name = base[:at] + char + base[at:]
    elif kind == "id":
        shapes = [f"{i}{ext}" for i in ID_LIKE] + [f"{STEM}_{i}{ext}" for i in ID_LIKE]
        name = draw(st.sampled_from(shapes + [f"{i}_{PERIOD}{ext}" for i in ID_LIKE]))
    elif kind == "long":
        name = STEM + "_v2" + "长" * draw(st.integers(1, 80)) + ext
    elif kind == "bytes":
        name = os.fsdecode(draw(st.binary(min_size=1, max_size=40)) + f"_{PERIOD}{ext}".encode())
    else:
        name = draw(
            st.text(st.characters(blacklist_characters="/\0", blacklist_categories=["Cs"]), min_size=1)
        )
    return name if _fits(name) else STEM + ext


@st.composite
def samples(draw: st.DrawFn, seeds: dict[str, Seed]) -> Sample:
    """A seed, up to three mutations and a name. Half the mutations edit one part's or one file's
    content (XML or CSV), a quarter the zip or the folder, a quarter the whole file's bytes."""
    others = sorted(k for k in seeds if k != "xlsx")
    seed = draw(
        st.sampled_from(["xlsx"] * 3 + others)
    )  # the workbook the most: its reader is the most intricate
    container = seeds[seed].container
    parts = seeds[seed].parts
    if container == "folder":
        content = st.builds(InFile, st.sampled_from(parts), csv_edits)
        families = [content, content, content, folder_mutations(parts)]
    else:
        content = st.builds(InPart, st.sampled_from(parts), csv_edits if container == "zip" else xml_edits)
        families = [content, content, zip_mutations(parts, csvs=container == "zip"), byte_edits]
    mutations = [draw(draw(st.sampled_from(families))) for _ in range(draw(st.integers(0, 3)))]
    return Sample(seed, _ordered(mutations), draw(names(container)))
