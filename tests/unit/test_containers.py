"""Containers and their safety limits: zips of CSVs, folders, broken workbooks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.precheck import check_path
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
