"""Containers and their safety limits: zips of CSVs, folders, broken workbooks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.containers import RATIO_FLOOR_BYTES, declared_entries
from ingest.errors import StructuralError
from ingest.precheck import check_path
from ingest.read import read_submission
from ingest.settings import IngestSettings
from tests.support.builders import minimal_sheets, write_csv_folder


class _LegacyNameInfo(zipfile.ZipInfo):
    """An entry name stored as raw bytes without the UTF-8 flag, as old Windows tools do."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits


def _zip_folder(folder: Path, target: Path, top: str | None = None, gb18030_names: bool = False) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.iterdir()):
            name = f"{top}/{p.name}" if top else p.name
            info = zipfile.ZipInfo(name)
            if gb18030_names:  # what Chinese Windows writes: no UTF-8 flag, GB18030 bytes
                info = _LegacyNameInfo(name.encode("gb18030").decode("cp437"))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, p.read_bytes())
    return target


@pytest.mark.parametrize("top", [None, "120104_2007H1"])
def test_zip_with_or_without_one_top_folder(tmp_path, top):
    folder = write_csv_folder(tmp_path / "src", minimal_sheets())
    path = _zip_folder(folder, tmp_path / "120104_2007H1.zip", top=top)
    report = check_path(path)
    assert report.accepted, report.structural
    assert report.rows["members"] == 3


def test_zip_with_chinese_sheet_names_in_gb18030(tmp_path):
    folder = write_csv_folder(tmp_path / "src", minimal_sheets(), encoding="gb18030")
    for p in list(folder.iterdir()):
        chinese = {"cover": "封面", "units": "单位", "organizations": "组织", "members": "党员",
                   "admissions": "发展党员", "activities": "活动", "training": "培训"}[p.stem]  # fmt: skip
        p.rename(folder / f"{chinese}.csv")
    path = _zip_folder(folder, tmp_path / "120104_2007H1.zip", gb18030_names=True)
    report = check_path(path)
    assert report.accepted, report.structural
    assert report.rows["activities"] == 2


def _zip_with(tmp_path: Path, entries: dict[str, bytes]) -> Path:
    path = tmp_path / "120104_2007H1.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "entry", ["../members.csv", "/etc/members.csv", "a/b/members.csv", "C:/members.csv", "a/x.csv"]
)
def test_unsafe_zip_entries_reject(tmp_path, entry):
    entries = {"cover.csv": b"x", entry: b"x"}
    if entry == "a/x.csv":  # two top-level folders
        entries = {"a/x.csv": b"x", "b/y.csv": b"y"}
    report = check_path(_zip_with(tmp_path, entries))
    assert report.structural is not None and report.structural.rule == "unsafe_entry"


def test_zip_limits(tmp_path):
    many = _zip_with(tmp_path, {f"f{i}.csv": b"x" for i in range(101)})
    assert check_path(many).structural.rule == "zip_limits"


def test_zip_bomb_is_stopped_by_the_expanded_size(tmp_path, monkeypatch):
    monkeypatch.setenv("QIANGJI_MAX_ZIP_EXPANDED_BYTES", str(1024 * 1024))
    path = tmp_path / "120104_2007H1.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("members.csv", b"0" * (8 * 1024 * 1024))
    assert path.stat().st_size < 64 * 1024
    report = check_path(path)
    assert report.structural.rule == "zip_limits"


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("120104_2007H1.xlsx", b"", "unreadable_file"),
        ("120104_2007H1.xlsx", b"\x00\x01garbage" * 100, "unreadable_file"),
        ("120104_2007H1.xlsx", b"PK\x03\x04 truncated", "unreadable_file"),
        ("120104_2007H1.zip", b"not a zip", "unreadable_file"),
        ("120104_2007H1.csv", b"a,b", "file_name"),
        ("120104_2007H3.xlsx", b"", "file_name"),
    ],
)
def test_broken_files_get_a_message_not_a_trace(tmp_path, name, content, rule):
    path = tmp_path / name
    path.write_bytes(content)
    report = check_path(path)
    assert report.structural is not None and report.structural.rule == rule


def test_file_size_limit(tmp_path):
    path = tmp_path / "120104_2007H1.xlsx"
    path.write_bytes(b"0" * 2048)
    from ingest.errors import StructuralError
    from ingest.read import read_submission

    with pytest.raises(StructuralError) as exc:
        read_submission(path, IngestSettings(max_file_bytes=1024))
    assert exc.value.problem.rule == "file_too_large"


def test_encrypted_zip_entries_are_refused(tmp_path):
    path = _zip_with(tmp_path, {"members.csv": b"x"})
    raw = bytearray(path.read_bytes())
    # set the "encrypted" flag in the local header (offset 6) and the central directory entry (offset 8)
    raw[6] |= 0x1
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 0x1
    path.write_bytes(bytes(raw))
    report = check_path(path)
    assert report.structural is not None and report.structural.rule == "unreadable_file"


def _read(path: Path, settings: IngestSettings | None = None):
    return read_submission(path, settings)


def _refusal(path: Path, settings: IngestSettings | None = None) -> tuple[str, str | None]:
    with pytest.raises(StructuralError) as exc:
        _read(path, settings)
    return exc.value.problem.rule, exc.value.problem.value


def test_a_windows_zip_with_its_folder_written_with_backslashes(tmp_path):
    """Windows tools may write `120104_2007H1\\members.csv` (no "/"): one top folder all the same."""
    folder = write_csv_folder(tmp_path / "src", minimal_sheets())
    path = tmp_path / "120104_2007H1.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("120104_2007H1\\"), b"")  # the folder's own entry
        for p in sorted(folder.iterdir()):
            z.writestr(zipfile.ZipInfo(f"120104_2007H1\\{p.name}"), p.read_bytes())
    assert all("/" not in n for n in zipfile.ZipFile(path).namelist())
    raw = _read(path)
    assert raw.sheets["members"].frame.height == 3


@pytest.mark.parametrize(
    "entries",
    [
        ["..\\members.csv"],
        ["C:\\members.csv"],
        ["\\members.csv"],
        ["a\\b\\members.csv"],
        ["a\\members.csv", "b\\cover.csv"],  # two top folders
        ["a\\members.csv", "cover.csv"],  # a folder and a file beside it
        ["a\\..\\..\\members.csv"],
    ],
)
def test_backslashes_keep_every_unsafe_path_unsafe(tmp_path, entries):
    path = tmp_path / "120104_2007H1.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name in entries:
            z.writestr(zipfile.ZipInfo(name), b"x")
    assert _refusal(path)[0] == "unsafe_entry"


def test_a_zip_declaring_too_many_entries_is_refused_from_its_end_record(tmp_path):
    path = _zip_with(tmp_path, {f"f{i}.csv": b"x" for i in range(150)})
    assert declared_entries(path) == 150
    assert _refusal(path) == ("zip_limits", "150 entries")


def test_a_folder_has_a_zips_limits(tmp_path):
    folder = write_csv_folder(tmp_path / "120104_2007H1", minimal_sheets())
    assert _read(folder).sheets["members"].frame.height == 3
    for i in range(94):  # 7 CSVs + 94 = 101 files
        (folder / f"note{i}.txt").write_bytes(b"x")
    assert _refusal(folder) == ("zip_limits", "101 files")
    for p in folder.glob("note*.txt"):
        p.unlink()
    (folder / "scan.pdf").write_bytes(b"%PDF" + bytes(4096))
    (folder / "link.csv").symlink_to("/etc/passwd")  # never read: neither counted nor sized
    (folder / "sub").mkdir()
    size = sum(p.lstat().st_size for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    assert _read(folder, IngestSettings(max_zip_expanded_bytes=size)).sheets["members"].frame.height == 3
    assert _read(folder, IngestSettings(max_zip_entries=8)).sheets["members"].frame.height == 3
    assert _refusal(folder, IngestSettings(max_zip_expanded_bytes=size - 1)) == ("zip_limits", "size")


def test_an_entry_over_the_floor_and_100_times_its_packed_size_is_refused(tmp_path):
    path = tmp_path / "120104_2007H1.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("members.csv", b"," * (RATIO_FLOOR_BYTES + 1))
    rule, value = _refusal(path)
    assert rule == "unpacked_limits" and value.startswith("members.csv: ") and value.endswith("(> 100×)")
    assert _refusal(path, IngestSettings(max_compression_ratio=10_000))[0] != "unpacked_limits"
