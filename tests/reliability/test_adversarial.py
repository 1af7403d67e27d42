"""Issue #15's cases, each reproduced against the ingest library: files that used to stop a run,
hang it, lose a correction or reject a valid file for good.

Every test here failed (or hung) before the submission state machine, the landing scan and the
isolated readers; docs/reliability.md names the protection each one proves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from ingest.archive import read_receipts
from ingest.isolation import ReaderPool
from ingest.landing import scan_landing, wait_until_quiet
from ingest.pipeline import IngestOutcome, audit_raw, ingest_landing, list_landing
from ingest.reader_worker import ReadTask
from ingest.replay import replay_items
from ingest.settings import IngestSettings
from tests.support.builders import minimal_sheets, write_csv_folder, write_xlsx

KEY = b"adversarial-test-key-0123456789abcdef"
PERIOD = "2007H1"


def _ingest(home: Path, *paths: Path, settings: IngestSettings | None = None) -> list[IngestOutcome]:
    return ingest_landing(list(paths), home / "warehouse.duckdb", home / "archive", KEY, settings)


def _log(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT file_name, version, status, reason_rule FROM raw.submissions ORDER BY received_at"
        ).fetchall()


def _book(folder: Path, name: str, district: str = "120104", venue: str = "是") -> Path:
    sheets = minimal_sheets(district, PERIOD)
    sheets["单位"][2]["活动场所"] = venue
    return write_xlsx(folder / name, sheets)


def _zip_of_csvs(folder: Path, name: str, district: str = "120104") -> Path:
    csvs = write_csv_folder(folder / f"{name}.src", minimal_sheets(district, PERIOD))
    target = folder / name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(csvs.iterdir()):
            zf.write(p, p.name)
    return target


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "landing").mkdir()
    return tmp_path


# --- 2. doing what the error message says never loses the fix -------------------------------------


def test_case2_a_version_conflict_renamed_as_the_message_asks_is_loaded(home: Path):
    landing = home / "landing"
    v1 = _book(landing, f"120104_{PERIOD}.xlsx")
    assert [o.status for o in _ingest(home, v1)] == ["accepted"]
    other = _book(home, f"120104_{PERIOD}.xlsx", venue="否")  # v1 again, other bytes
    v1.unlink()
    other = other.rename(landing / other.name)
    [conflict] = _ingest(home, other)
    assert (conflict.status, conflict.reason.rule, conflict.reason.value) == (
        "rejected",
        "version_conflict",
        "2",
    )
    renamed = other.rename(landing / f"120104_{PERIOD}_v2.xlsx")  # what the message says
    [fixed] = _ingest(home, renamed)
    assert (fixed.status, fixed.version) == ("accepted", 2)
    assert [(v, s) for _, v, s, _ in _log(home)] == [(1, "superseded"), (1, "rejected"), (2, "accepted")]
    assert audit_raw(home / "warehouse.duckdb").ok


def test_case2_b_a_misnamed_file_renamed_correctly_is_loaded(home: Path):
    wrong = _book(home / "landing", f"120104-{PERIOD}.xlsx")
    [rejected] = _ingest(home, wrong)
    assert (rejected.status, rejected.reason.rule) == ("rejected", "file_name")
    right = wrong.rename(wrong.with_name(f"120104_{PERIOD}.xlsx"))
    [accepted] = _ingest(home, right)
    assert accepted.status == "accepted" and accepted.rows["members"] > 0


def test_case2_c_the_same_bytes_under_the_same_name_change_nothing(home: Path):
    wrong = _book(home / "landing", f"120104-{PERIOD}.xlsx")
    good = _book(home / "landing", f"120105_{PERIOD}.xlsx", district="120105")
    assert [o.status for o in _ingest(home, wrong, good)] == ["rejected", "accepted"]
    assert [o.status for o in _ingest(home, wrong, good)] == ["unchanged", "unchanged"]
    assert len(_log(home)) == 2


# --- 3. the server's errors are not rejections --------------------------------------------------------


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A 64 KiB tmpfs (as root), for a reader's temporary folder that fills up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_case3_disk_full_in_the_readers_temp_folder_leaves_the_file_pending_then_loads(
    home: Path, tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch
):
    big = _zip_of_csvs(home / "landing", f"120104_{PERIOD}.zip")
    with zipfile.ZipFile(big) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 64 * 1024 or True
    # pad one CSV so that extracting the zip needs more than the tmpfs holds
    with zipfile.ZipFile(big, "a") as zf:
        zf.writestr("说明.csv", "x" * 200_000)
    monkeypatch.setenv("TMPDIR", str(tiny_tmpfs))
    [first] = _ingest(home, big)
    assert first.status == "pending" and first.attempts == 1
    [(_, _, status, rule)] = _log(home)
    assert (status, rule) == ("pending", "server_error")
    monkeypatch.delenv("TMPDIR")  # the operator frees the disk
    [second] = _ingest(home, big)
    assert second.status == "accepted"
    assert [s for _, _, s, _ in _log(home)] == ["accepted"]  # the pending entry became the outcome


def test_case3_a_reader_killed_by_the_system_leaves_the_file_pending(home: Path):
    book = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    with ReaderPool(1, IngestSettings().reader_memory_bytes, 60) as pool:
        [worker] = pool._idle
        pool._await_ready(worker)
        os.kill(worker.process.pid, signal.SIGKILL)  # the OOM killer, or an operator
        worker.process.wait()
        ticket = pool.submit(ReadTask(book, "x", KEY, IngestSettings(), home / "out1"))
        assert pool.result(ticket).kind == "environment"
        ticket = pool.submit(ReadTask(book, "x", KEY, IngestSettings(), home / "out2"))
        assert pool.result(ticket).kind == "validated"  # a new reader took over


def test_case3_pending_files_are_retried_up_to_the_cap(home: Path, tiny_tmpfs: Path, monkeypatch):
    big = _zip_of_csvs(home / "landing", f"120104_{PERIOD}.zip")
    with zipfile.ZipFile(big, "a") as zf:
        zf.writestr("说明.csv", "x" * 200_000)
    monkeypatch.setenv("TMPDIR", str(tiny_tmpfs))
    settings = IngestSettings(max_attempts=2)
    assert [o.attempts for o in _ingest(home, big, settings=settings)] == [1]
    assert [o.attempts for o in _ingest(home, big, settings=settings)] == [2]
    [third] = _ingest(home, big, settings=settings)  # given up: not read again, still pending
    assert (third.status, third.attempts) == ("pending", 2)
    monkeypatch.delenv("TMPDIR")
    [raised] = _ingest(home, big, settings=IngestSettings(max_attempts=3))  # the operator raises the cap
    assert raised.status == "accepted"


# --- 1. a reader that crashes, runs out of memory or time stops only its own file -----------------


def test_case1_a_crashing_reader_rejects_its_file_and_the_next_file_loads(home: Path):
    book = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    with ReaderPool(1, IngestSettings().reader_memory_bytes, 60) as pool:
        [worker] = pool._idle
        pool._await_ready(worker)
        os.kill(worker.process.pid, signal.SIGSEGV)
        worker.process.wait()
        ticket = pool.submit(ReadTask(book, "x", KEY, IngestSettings(), home / "out1"))
        result = pool.result(ticket)
        assert (result.kind, result.problem.rule) == ("error", "reader_crashed")
        ticket = pool.submit(ReadTask(book, "x", KEY, IngestSettings(), home / "out2"))
        assert pool.result(ticket).kind == "validated"


def test_case1_a_reader_out_of_time_rejects_its_file_and_is_never_retried(home: Path):
    slow = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    [timed_out] = _ingest(home, slow, settings=IngestSettings(reader_timeout_seconds=0.01))
    assert (timed_out.status, timed_out.reason.rule) == ("rejected", "reader_timeout")
    assert timed_out.reason.message_en.startswith("reading the file took longer")
    assert [o.status for o in _ingest(home, slow)] == ["unchanged"]  # the same bytes: not read again


def test_case1_a_workbook_that_allocates_the_whole_grid_cannot_take_the_run_down(home: Path):
    """One cell at XFD1048576: calamine allocates 16384 × 1048576 cells and aborts its process."""
    import xlsxwriter

    landing = home / "landing"
    bomb = _book(home, f"120104_{PERIOD}.xlsx")
    with zipfile.ZipFile(bomb) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    del xlsxwriter
    sheet = next(n for n in parts if n.startswith("xl/worksheets/") and b"<sheetData>" in parts[n])
    xml = parts[sheet].decode()
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    parts[sheet] = xml.encode()
    target = landing / bomb.name
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    good = _book(landing, f"120105_{PERIOD}.xlsx", district="120105")
    # with a 4 GiB address space the reader dies on the grid whatever guard comes before it
    settings = IngestSettings(reader_memory_bytes=4 << 30)
    outcomes = _ingest(home, target, good, settings=settings)
    assert [o.status for o in outcomes] == ["rejected", "accepted"]
    assert outcomes[0].reason.rule != "unreadable_file" or outcomes[0].reason.value
    # the next run does not read it again: same bytes, same name
    assert [o.status for o in _ingest(home, target, good, settings=settings)] == ["unchanged"] * 2


# --- 4. names and entries that used to stop or hang the run ------------------------------------------


def test_case4_a_version_past_32_bits_is_rejected_and_the_run_goes_on(home: Path):
    landing = home / "landing"
    huge = _book(landing, f"120104_{PERIOD}_v{2**31}.xlsx")
    good = _book(landing, f"120105_{PERIOD}.xlsx", district="120105")
    outcomes = _ingest(home, *list_landing(landing))
    by_name = {o.file_name: o for o in outcomes}
    assert (by_name[huge.name].status, by_name[huge.name].reason.rule) == ("rejected", "file_name")
    assert by_name[good.name].status == "accepted"


def test_case4_links_fifos_and_devices_are_refused_without_hanging(home: Path):
    landing = home / "landing"
    (landing / f"120104_{PERIOD}.xlsx").symlink_to(home / "nowhere.xlsx")  # dangling
    os.mkfifo(landing / f"120105_{PERIOD}.xlsx")
    (landing / f"120106_{PERIOD}.xlsx").symlink_to("/dev/zero")
    secret = home / "secret.xlsx"
    _book(home, "secret.xlsx").rename(secret)
    (landing / f"120107_{PERIOD}.xlsx").symlink_to(secret)  # a link to a file the uploader may not read
    good = _book(landing, f"120110_{PERIOD}.xlsx", district="120110")
    entries = list_landing(landing)
    assert len(entries) == 5
    result: list[list[IngestOutcome]] = []
    worker = threading.Thread(target=lambda: result.append(_ingest(home, *entries)), daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert result, "the run hung on a landing entry"
    by_name = {o.file_name: o for o in result[0]}
    assert by_name[good.name].status == "accepted"
    for name in (
        f"120104_{PERIOD}.xlsx",
        f"120105_{PERIOD}.xlsx",
        f"120106_{PERIOD}.xlsx",
        f"120107_{PERIOD}.xlsx",
    ):
        assert (by_name[name].status, by_name[name].reason.rule) == ("rejected", "not_a_regular_file"), name
    # nothing behind a link was copied into the archive
    archived = [p for p in (home / "archive").rglob("*") if p.is_file() and not p.name.endswith(".jsonl")]
    assert len(archived) == 1
    # the next run does not log them again
    assert {o.status for o in _ingest(home, *list_landing(landing))} == {"unchanged"}


def test_case4_the_landing_sensor_never_hangs_on_a_fifo_nor_follows_a_link(home: Path, monkeypatch):
    import dagster as dg

    from orchestration.defs.automation import LandingCursor, landing_sensor
    from orchestration.resources import QiangjiHome

    landing = home / "landing"
    os.mkfifo(landing / f"120105_{PERIOD}.xlsx")
    (landing / f"120106_{PERIOD}.xlsx").symlink_to("/dev/zero")
    good = _book(landing, f"120110_{PERIOD}.xlsx", district="120110")
    past = time.time() - 60
    os.utime(good, (past, past))
    monkeypatch.setenv("QIANGJI_LANDING_QUIET_SECONDS", "30")
    results: list[dg.SensorResult] = []

    def evaluate() -> None:
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(
                instance=instance,
                resources={"qiangji": QiangjiHome(home=str(home), landing=str(landing))},
            )
            results.append(landing_sensor(context))

    thread = threading.Thread(target=evaluate, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert results, "the sensor hung"
    requests = results[0].run_requests
    assert sorted(r.partition_key for r in requests) == ["120105|2007H1", "120106|2007H1", "120110|2007H1"]
    cursor = LandingCursor.load(results[0].cursor)
    assert list(cursor.files) == [good.name]  # only what is in the folder now, never a link's target


# --- 5. a file still being uploaded is left for later ---------------------------------------------------


def test_case5_a_file_still_changing_is_left_for_a_later_run(home: Path):
    landing = home / "landing"
    done = _book(landing, f"120104_{PERIOD}.xlsx")
    past = time.time() - 60
    os.utime(done, (past, past))
    half = landing / f"120105_{PERIOD}.xlsx"
    half.write_bytes(done.read_bytes()[:5000])  # half an upload, written just now
    scan = scan_landing(landing, quiet_seconds=30)
    assert (scan.ready, scan.waiting) == ([done], [half])
    assert list_landing(landing, quiet_seconds=30) == [done]


def test_case5_a_folder_whose_csv_is_mid_write_waits_for_the_whole_folder(home: Path):
    folder = write_csv_folder(home / "landing" / f"120104_{PERIOD}", minimal_sheets("120104", PERIOD))
    past = time.time() - 60
    for p in [*folder.iterdir(), folder]:
        os.utime(p, (past, past))
    assert scan_landing(home / "landing", 30).ready == [folder]
    members = next(p for p in folder.iterdir() if p.stem in ("党员", "members"))
    with open(members, "a", encoding="utf-8") as f:
        f.write("half a row")  # the upload goes on
    assert scan_landing(home / "landing", 30).waiting == [folder]


def test_case5_a_one_off_run_waits_once_for_files_copied_a_moment_ago(home: Path):
    book = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    clock = [time.time()]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    scan = wait_until_quiet(home / "landing", 5, sleep=sleep, now=lambda: clock[0])
    assert scan.ready == [book] and slept == [5]


# --- 10. the archive is enough to rebuild the warehouse ----------------------------------------------------


def test_case10_the_archive_alone_replays_into_the_same_raw_tables(home: Path, tmp_path_factory):
    landing = home / "landing"
    v1 = _book(landing, f"120104_{PERIOD}.xlsx")
    _book(landing, f"120105_{PERIOD}.xlsx", district="120105")
    _book(landing, f"120104-{PERIOD}.xlsx")  # misnamed
    _ingest(home, *list_landing(landing))
    v1.unlink()
    _book(landing, f"120104_{PERIOD}.xlsx", venue="否")  # a conflict
    _book(landing, f"120104_{PERIOD}_v2.xlsx", venue="否")
    _ingest(home, *list_landing(landing))
    assert len(list(read_receipts(home / "archive"))) == 5

    again = tmp_path_factory.mktemp("rebuilt")
    ingest_landing(replay_items(home / "archive"), again / "warehouse.duckdb", home / "archive", KEY)
    with duckdb.connect(str(again / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"ATTACH '{home / 'warehouse.duckdb'}' AS original (READ_ONLY)")
        for table in ("submissions", "problems", "members", "units", "organizations"):
            query = "SELECT * FROM {db}.raw." + table + " ORDER BY ALL"
            rebuilt = con.sql(query.format(db="warehouse")).fetchall()
            assert rebuilt == con.sql(query.format(db="original")).fetchall(), table
            assert rebuilt or table == "problems"


def test_a_file_read_ahead_for_nothing_is_logged_as_if_never_read(home: Path):
    """Two files of the same version in one run: both are read at once (two readers, nothing in the
    warehouse yet), and the second is then a version conflict. Its read is not an attempt: its entry
    is the one it gets when it is decided before any reading (case 10: replays give the same tables)."""
    landing = home / "landing"
    first = _book(landing, f"120104_{PERIOD}.xlsx")
    second = _book(landing, f"120104_{PERIOD}_v1.xlsx", venue="否")
    outcomes = _ingest(home, first, second)
    assert [(o.status, o.reason.rule if o.reason else None) for o in outcomes] == [
        ("accepted", None), ("rejected", "version_conflict")
    ]  # fmt: skip
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT status, attempts FROM raw.submissions ORDER BY received_at").fetchall()
    assert rows == [("accepted", 1), ("rejected", None)]


def test_a_file_over_the_size_limit_is_rejected_once_then_unchanged(home: Path):
    big = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    settings = IngestSettings(max_file_bytes=1000)
    [first] = _ingest(home, big, settings=settings)
    assert (first.status, first.reason.rule) == ("rejected", "file_too_large")
    assert [o.status for o in _ingest(home, big, settings=settings)] == ["unchanged"]
    assert len(_log(home)) == 1


# --- the place a run starts from, and readers that cannot start --------------------------------------


def _shadowing_modules(folder: Path) -> Path:
    """A folder of modules named as what a reader imports, each of which fails."""
    folder.mkdir()
    for name in ("polars", "fastexcel", "ingest"):
        (folder / f"{name}.py").write_text("raise ImportError('a stray module, not the real one')\n")
    return folder


def test_case4_a_run_started_from_a_folder_of_stray_modules_reads_with_the_real_ones(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    """Found measuring `qiangji run` from /tmp, which held a `dbt.py`: a reader started as
    `python -m` put the current folder first on its path."""
    book = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    monkeypatch.chdir(_shadowing_modules(home / "strays"))
    [outcome] = _ingest(home, book)
    assert outcome.status == "accepted", outcome


def test_case3_readers_that_cannot_start_leave_files_pending_never_rejected(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The server's fault, not the file's: no clerk is told that a good file is unreadable. Once
    readers start again, the next run loads it."""
    book = _book(home / "landing", f"120104_{PERIOD}.xlsx")
    strays = _shadowing_modules(home / "strays")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(strays), os.environ.get("PYTHONPATH", "")]))
    (home / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(home / "tmp"))  # new readers (those of this process are started)
    with caplog.at_level("ERROR", logger="qiangji.ingest"):
        [outcome] = _ingest(home, book)
    assert outcome.status == "pending", outcome
    assert _log(home) == [(book.name, 1, "pending", "server_error")]
    assert "a stray module" in caplog.text  # the reader's own error, for the operator
    monkeypatch.undo()
    [outcome] = _ingest(home, book)
    assert outcome.status == "accepted", outcome
    assert [(status, rule) for _, _, status, rule in _log(home)] == [("accepted", None)]


def test_case1_a_file_waiting_for_a_reader_behind_one_out_of_time_is_read_by_its_replacement(home: Path):
    """One reader, two files, both out of time: the second file waits for the reader (it does not
    start another), the first is killed at its deadline, and the second goes to its replacement."""
    books = [_book(home / "landing", f"{d}_{PERIOD}.xlsx", district=d) for d in ("120104", "120105")]
    settings = IngestSettings()
    with ReaderPool(1, settings.reader_memory_bytes, 0.01) as pool:
        tickets = [pool.submit(ReadTask(b, b.stem, KEY, settings, home / b.stem)) for b in books]
        assert len(pool._busy) + len(pool._idle) == 1  # the second waited: never two readers
        results = [pool.result(t) for t in tickets]
    assert [(r.kind, r.problem.rule) for r in results] == [("error", "reader_timeout")] * 2
    assert pool.spawned == 3  # the first reader, then one in place of each reader killed
