"""Lineage and versions: archive by SHA-256, the submissions log, replacement rules."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from ingest.pipeline import ingest_landing, list_landing
from tests.support.builders import minimal_sheets, write_xlsx

KEY = b"test-key-not-a-secret-at-least-32-bytes"


@pytest.fixture
def ingest_home(tmp_path: Path) -> Path:
    """A data home with an empty landing folder, for `ingest_landing` (no Dagster, no environment)."""
    (tmp_path / "landing").mkdir()
    return tmp_path


def _ingest(home: Path, *paths: Path):
    return ingest_landing(list(paths), home / "warehouse.duckdb", home / "archive", KEY)


def _log(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT file_name, version, status, reason_rule FROM raw.submissions"
            " ORDER BY received_at, file_name"
        ).fetchall()


def _variant(home: Path, name: str, villages_with_venue: str = "是") -> Path:
    sheets = minimal_sheets()
    sheets["单位"][2]["活动场所"] = villages_with_venue
    return write_xlsx(home / "landing" / name, sheets)


def test_every_file_is_archived_byte_for_byte(ingest_home):
    path = _variant(ingest_home, "120104_2007H1.xlsx")
    [outcome] = _ingest(ingest_home, path)
    assert outcome.status == "accepted"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (ingest_home / "archive" / sha[:2] / sha).read_bytes() == path.read_bytes()


def test_the_same_bytes_twice_change_nothing(ingest_home):
    path = _variant(ingest_home, "120104_2007H1.xlsx")
    _ingest(ingest_home, path)
    [again] = _ingest(ingest_home, path)
    assert again.status == "unchanged"
    assert len(_log(ingest_home)) == 1
    with duckdb.connect(str(ingest_home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.members").fetchone()[0] == 3


def test_a_higher_version_replaces_the_earlier_one(ingest_home):
    _variant(ingest_home, "120104_2007H1.xlsx", "否")
    _variant(ingest_home, "120104_2007H1_v2.xlsx", "是")
    assert [o.status for o in _ingest(ingest_home, *list_landing(ingest_home / "landing"))] == [
        "accepted",
        "accepted",
    ]
    assert [(f, v, s) for f, v, s, _ in _log(ingest_home)] == [
        ("120104_2007H1.xlsx", 1, "superseded"),
        ("120104_2007H1_v2.xlsx", 2, "accepted"),
    ]


def test_a_version_lower_than_the_accepted_one_changes_nothing(ingest_home):
    [v3] = _ingest(ingest_home, _variant(ingest_home, "120104_2007H1_v3.xlsx", "是"))
    [v2] = _ingest(ingest_home, _variant(ingest_home, "120104_2007H1_v2.xlsx", "否"))
    assert (v3.status, v2.status) == ("accepted", "superseded")
    with duckdb.connect(str(ingest_home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT submission_id) FROM raw.units").fetchone()[0] == 1


def test_the_same_version_with_other_bytes_is_rejected(ingest_home):
    first = _variant(ingest_home, "120104_2007H1.xlsx", "是")  # minimal_sheets() has 否 there
    _ingest(ingest_home, first)
    other = write_xlsx(ingest_home / "120104_2007H1.xlsx", {**minimal_sheets()})
    [outcome] = _ingest(ingest_home, other)
    assert outcome.status == "rejected"
    assert outcome.reason.rule == "version_conflict" and outcome.reason.value == "2"
    assert "_v2" in outcome.reason.message_en


def test_a_rejected_version_never_replaces_an_accepted_one(ingest_home):
    _ingest(ingest_home, _variant(ingest_home, "120104_2007H1.xlsx"))
    bad = minimal_sheets()
    bad["封面"][1]["value"] = "2007H2"  # cover does not match the file name
    [outcome] = _ingest(ingest_home, write_xlsx(ingest_home / "landing" / "120104_2007H1_v2.xlsx", bad))
    assert outcome.status == "rejected" and outcome.reason.rule == "cover_mismatch"
    assert [(v, s) for _, v, s, _ in _log(ingest_home)] == [(1, "accepted"), (2, "rejected")]


def test_bad_names_are_rejected_and_archived_never_used_as_paths(ingest_home):
    weird = ingest_home / "landing" / "..%2F120104_2007H1.xlsx"
    weird.write_bytes(b"PK not really")
    unknown = write_xlsx(ingest_home / "landing" / "999999_2007H1.xlsx", minimal_sheets("999999"))
    merged = write_xlsx(
        ingest_home / "landing" / "120116_2007H1.xlsx", minimal_sheets("120116")
    )  # reports from 2010H1
    outcomes = _ingest(ingest_home, weird, unknown, merged)
    assert [(o.status, o.reason.rule) for o in outcomes] == [
        ("rejected", "file_name"),
        ("rejected", "unknown_district"),
        ("rejected", "unknown_district"),
    ]
    archived = {p.name for p in (ingest_home / "archive").rglob("*") if p.is_file()}
    assert hashlib.sha256(weird.read_bytes()).hexdigest() in archived


def test_quarantined_rows_stay_queryable_with_their_errors(ingest_home, monkeypatch):
    monkeypatch.setenv("QIANGJI_QUARANTINE_SHARE", "0.5")
    from ingest.settings import IngestSettings

    sheets = minimal_sheets()
    sheets["党员"][2]["学历"] = "小学"
    path = write_xlsx(ingest_home / "landing" / "120104_2007H1.xlsx", sheets)
    [outcome] = ingest_landing(
        [path], ingest_home / "warehouse.duckdb", ingest_home / "archive", KEY, IngestSettings.from_env()
    )
    assert outcome.status == "accepted" and outcome.quarantined_rows == 1
    with duckdb.connect(str(ingest_home / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT m.source_row, p.column_header, p.rule, p.message_en FROM raw.members m "
            "JOIN raw.problems p ON p.submission_id = m.submission_id AND p.excel_row = m.source_row "
            "AND p.sheet = '党员' WHERE m.quarantined"
        ).fetchall()
    assert row == [(4, "学历", "code_list", "not one of the accepted codes")]


def test_read_ahead_bounded_by_unpacked_bytes_loads_the_same(tmp_path: Path):
    from ingest.pipeline import unpacked_size
    from ingest.settings import IngestSettings
    from tests.support.builders import write_csv_folder

    landing = tmp_path / "landing"
    landing.mkdir()
    paths = [
        write_xlsx(landing / f"{d}_2007H1.xlsx", minimal_sheets(d, "2007H1")) for d in ("120104", "120105")
    ]
    folder = write_csv_folder(landing / "120106_2007H1", minimal_sheets("120106", "2007H1"))
    (landing / "120107_2007H1.xlsx.txt").write_bytes(b"not a workbook")
    assert unpacked_size(paths[0]) > paths[0].stat().st_size  # the XML inside, not the zip
    assert unpacked_size(folder) == sum(p.stat().st_size for p in folder.iterdir())
    assert unpacked_size(landing / "120107_2007H1.xlsx.txt") == len(b"not a workbook")
    assert unpacked_size(landing / "missing.xlsx") == 0

    files = list_landing(landing)
    loaded = {}
    for name, budget in (("one_at_a_time", 1), ("default", IngestSettings().read_ahead_bytes)):
        home = tmp_path / name
        outcomes = ingest_landing(files, home / "warehouse.duckdb", home / "archive", KEY,
                                  IngestSettings(read_ahead_bytes=budget))  # fmt: skip
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            rows = con.execute("SELECT count(*), count(DISTINCT submission_id) FROM raw.members").fetchone()
        loaded[name] = ([(o.file_name, o.status) for o in outcomes], rows)
    assert loaded["one_at_a_time"] == loaded["default"]
    assert [status for _, status in loaded["default"][0]].count("accepted") == 3
