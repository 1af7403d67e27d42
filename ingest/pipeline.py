"""Ingest a landing folder: stage → hash → decide → read (isolated) → archive → record.

Plain functions with typed results, shared by the CLI, the Dagster assets and the tests.

Every file goes through a small state machine, keyed by its (reporting unit, period, version)
and its bytes (SHA-256), written to `raw.submissions`:

- **accepted** / **superseded**: loaded; the same bytes under the same unit, period and version
  again are `unchanged` (nothing written).
- **rejected**, with the rule that rejected it; the same bytes under the same name again are
  `unchanged`, but under another name (renamed as the message asked, another version) they are
  judged anew.
- **pending**: being read (recorded before reading, so a file that took a run down is known to
  the next one), or stopped by the server (disk full, permissions, memory of the machine): read
  again by later runs, `max_attempts` times in all. Never a rejection: it is not the file's fault.

Each step of a file — staging, hashing, naming, reading, archiving, recording — is inside that
file's guard: whatever one file does, the others get their outcome. Reading happens in child
processes (`ingest.isolation`) with memory and time limits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from ingest import archive
from ingest.errors import Problem, StructuralError, empty_problems, problem_frame
from ingest.isolation import ReaderPool, ReaderStartError, reader_pool
from ingest.landing import scan_landing
from ingest.load import (
    RAW_TABLES,
    SubmissionRecord,
    clear_pending,
    ensure_schema,
    mark_pending,
    mask_problem_frame,
    pending_attempts,
    raw_columns,
    write_submission,
)
from ingest.read import SubmissionName, parse_submission_name
from ingest.reader_worker import ReadResult, ReadTask, describe, is_environment_error
from ingest.settings import IngestSettings
from ingest.spec import DATA_SHEETS

_log = logging.getLogger("qiangji.ingest")
Status = Literal["accepted", "rejected", "superseded", "unchanged", "pending"]
MAX_VERSION = 9999  # the version column is 32-bit; a name asking for more is not a submission's


@dataclass
class IngestOutcome:
    file_name: str  # as it may be shown: IDs masked (`identity.display_file_name`)
    status: Status
    submission_id: str | None
    district_code: str | None = None
    period: str | None = None
    version: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    quarantined_rows: int = 0
    reason: Problem | None = None
    problems: pl.DataFrame = field(default_factory=empty_problems)
    attempts: int = 0


def printable_name(path: Path) -> str:
    """The file's name as text: bytes that are not UTF-8 (a name from another system) as `\\xff`.

    Python keeps such bytes as lone surrogates, which no UTF-8 writer (polars, DuckDB, a log)
    accepts: one odd name would stop the whole run.
    """
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def parse_name(path: Path, name: str | None = None) -> SubmissionName:
    """The submission a landing entry names (`StructuralError` `file_name` if none)."""
    text = name if name is not None else printable_name(path)
    parsed = parse_submission_name(text, path.is_dir() and not path.is_symlink())
    if parsed.version > MAX_VERSION or parsed.version < 1:
        raise StructuralError(Problem(text, "file_name", "structural", value=f"_v{parsed.version}"))
    return parsed


def shown_name(text: str, parsed: SubmissionName | None) -> str:
    from ingest.identity import display_file_name

    return display_file_name(text, parsed is not None)


def shown_landing_name(path: Path) -> str:
    """A landing entry's name as it may be shown (IDs masked, a stray name's CJK hidden)."""
    text = printable_name(path)
    try:
        return shown_name(text, parse_name(path, text))
    except (StructuralError, OSError):
        return shown_name(text, None)


def list_landing(landing: Path, quiet_seconds: float = 0.0) -> list[Path]:
    """The landing entries a run takes, in the order they must be applied.

    Entries still changing (`ingest.landing`: younger than `quiet_seconds`), hidden and `.part`
    names are left for a later run; links, FIFOs and devices are listed (they are refused with a
    rule). Lower versions first, so that a landing folder holding v1 and v2 ends with v2 current.
    """
    scan = scan_landing(landing, quiet_seconds)

    def order(p: Path) -> tuple:
        try:
            n = parse_name(p)
            return (0, n.district_code, str(n.period), n.version, os.fsencode(p.name))
        except (StructuralError, OSError):
            return (1, "", "", 0, os.fsencode(p.name))

    return sorted(scan.ready + scan.refused, key=order)


def unpacked_size(path: Path) -> int:
    """What a file's data takes unpacked: the entries of an xlsx or zip (their declared sizes), the
    files of a folder of CSVs, else the file's size. Reading holds a few times this in memory
    (measured at scale 1.0: ≈3× for an xlsx's XML, ≈8× for CSV). 0 for what cannot be looked at."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return sum(info.file_size for info in zf.infolist())
        return path.stat().st_size
    except Exception:  # an estimate for the read-ahead budget: whatever the file is, reading will say
        return 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- one file ---------------------------------------------------------------------------------------


@dataclass
class _File:
    """A landing entry on its way: what is known of it so far."""

    source: Path
    text: str  # its name as received (printable)
    shown: str  # its name as it may be shown and stored
    received_at: dt.datetime
    name: SubmissionName | None = None
    staged: archive.Staged | None = None
    ticket: int | None = None
    considered: bool = False  # decided ahead of its turn (read, or left for its turn)
    out_dir: Path | None = None
    attempts: int = 0
    counted: bool = False  # this run counted its attempt at the file (once, however often it tried)

    @property
    def sha(self) -> str | None:
        return self.staged.sha256 if self.staged else None

    renamed: bool = False  # these bytes were recorded under another name before (`_Run._write`)

    @property
    def submission_id(self) -> str:
        """`<unit>_<period>_v<N>-<sha[:8]>`; bytes logged before under another name (judged anew)
        and names that name no submission also carry a digest of the name."""
        name_digest = hashlib.sha256(self.text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        if self.name and self.sha:
            suffix = f"-{name_digest}" if self.renamed else ""
            return f"{self.name.key}-{self.sha[:8]}{suffix}"
        return f"unnamed-{(self.sha or '')[:8]}{name_digest}"

    def record(self, status: str, **kw: object) -> SubmissionRecord:
        return SubmissionRecord(
            submission_id=self.submission_id,
            file_name=self.shown,
            district_code=self.name.district_code if self.name else None,  # type: ignore[arg-type]
            period=str(self.name.period) if self.name else None,  # type: ignore[arg-type]
            version=self.name.version if self.name else None,  # type: ignore[arg-type]
            sha256=self.sha,  # type: ignore[arg-type]
            size_bytes=self.staged.size_bytes if self.staged else None,  # type: ignore[arg-type]
            received_at=self.received_at,
            status=status,
            attempts=self.attempts or None,
            **kw,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Decision:
    action: Literal["unchanged", "conflict", "superseded", "read", "gave_up"]
    submission_id: str | None = None
    next_version: int | None = None
    supersede: tuple[str, ...] = ()


def decide(con: duckdb.DuckDBPyConnection, f: _File, settings: IngestSettings) -> Decision:
    """What to do with a named, hashed file, given what the warehouse holds (a file this run began
    to read has its own pending entry: that attempt is not held against it)."""
    assert f.name is not None and f.sha is not None
    same_bytes = con.execute(
        "SELECT submission_id, status, file_name, district_code, period, version "
        "FROM raw.submissions WHERE sha256 = ? AND status <> 'pending'",
        [f.sha],
    ).fetchall()
    here = (f.name.district_code, str(f.name.period), f.name.version)
    for sid, status, file_name, *key in same_bytes:
        if status in ("accepted", "superseded") and tuple(key) == here:
            return Decision("unchanged", sid)
        if status == "rejected" and file_name == f.shown:
            return Decision("unchanged", sid)
    if not f.counted and pending_attempts(con, f.shown, f.sha) >= settings.max_attempts:
        return Decision("gave_up")
    previous = con.execute(
        "SELECT submission_id, version, status FROM raw.submissions "
        "WHERE district_code = ? AND period = ? AND status <> 'pending'",
        [f.name.district_code, str(f.name.period)],
    ).fetchall()
    if any(v == f.name.version for _, v, _ in previous):
        return Decision("conflict", next_version=max(v for _, v, _ in previous) + 1)
    accepted = [(sid, v) for sid, v, status in previous if status == "accepted"]
    if accepted and max(v for _, v in accepted) > f.name.version:
        return Decision("superseded")
    return Decision("read", supersede=tuple(sid for sid, _ in accepted))


class _Run:
    """One pass over landing entries through one warehouse connection and one pool of readers."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        archive_dir: Path,
        key: bytes,
        settings: IngestSettings,
        pool: ReaderPool | None,
        now: Callable[[], dt.datetime],
    ):
        self.con, self.archive_dir, self.key, self.settings = con, archive_dir, key, settings
        self.pool, self.now = pool, now
        # gives freed readers the next files while a file waits for its own reader (the caller's)
        self.read_ahead: Callable[[], None] | None = None

    # the steps before reading, in the order of the landing (each guarded by the caller)

    def open(self, path: Path, name_as_received: str | None = None) -> _File:
        text = name_as_received if name_as_received is not None else printable_name(path)
        f = _File(path, text, text, self.now())
        try:
            f.name = parse_name(path, text)
        except StructuralError:
            f.name = None
        f.shown = shown_name(text, f.name)
        return f

    def stage(self, f: _File, name: str | None = None) -> None:
        s = self.settings
        f.staged = archive.stage_entry(
            f.source,
            self.archive_dir,
            s.max_file_bytes,
            s.max_zip_entries,
            s.max_zip_expanded_bytes,
            name=name,
        )

    def start_reading(self, f: _File, decision: Decision) -> None:
        """Record the file as being read (a pending entry), then give it to a reader."""
        assert f.staged is not None and self.pool is not None
        f.attempts = mark_pending(self.con, f.record("pending", reason_rule="being_read"), not f.counted)
        f.counted = True
        f.out_dir = self.archive_dir / archive.STAGING / f"{f.staged.path.parent.name}.out"
        f.ticket = self.pool.submit(
            ReadTask(f.staged.path, f.submission_id, self.key, self.settings, f.out_dir)
        )

    # the outcome, in order

    def finish(self, f: _File) -> IngestOutcome:
        try:
            try:
                return self._finish(f)
            except Exception as exc:  # a step nothing foresaw: this file only
                return _unforeseen(self, f, exc)
        finally:
            if f.staged is not None:
                archive.discard_staged(f.staged, self.archive_dir)
            if f.out_dir is not None:
                shutil.rmtree(f.out_dir, ignore_errors=True)

    def _finish(self, f: _File) -> IngestOutcome:
        if f.staged is None:
            raise AssertionError("a file is staged before it is finished")
        if f.name is None:
            return self._unnamed(f)
        if not f.staged.kept:  # over the size limits: rejected once under a name, unchanged after
            if same := self._rejected_before(f):
                return IngestOutcome(f.shown, "unchanged", same)
            problem = Problem(f.shown, "file_too_large", "structural", value=f.staged.over_limit)
            if f.source.is_dir():
                problem = Problem(f.shown, "zip_limits", "structural", value=f.staged.over_limit)
            return self._reject(f, problem)
        decision = decide(self.con, f, self.settings)
        if decision.action != "read" and f.ticket is not None:
            # read ahead for nothing (a file before it decided otherwise): not an attempt at the file,
            # so that its entry does not depend on how far ahead the readers were (a replay of the
            # archive gives the same tables)
            self.pool.result(f.ticket)  # type: ignore[union-attr]
            f.ticket, f.attempts, f.counted = None, 0, False
        if decision.action == "unchanged":
            clear_pending(self.con, f.shown, f.sha)
            return IngestOutcome(f.shown, "unchanged", decision.submission_id)
        if decision.action == "gave_up":
            attempts = pending_attempts(self.con, f.shown, f.sha)
            return IngestOutcome(f.shown, "pending", f.submission_id, attempts=attempts)
        if decision.action == "conflict":
            problem = Problem(f.shown, "version_conflict", "structural", value=str(decision.next_version))
            return self._reject(f, problem)
        if decision.action == "superseded":
            return self._write(f, f.record("superseded"))
        if f.ticket is None:
            self.start_reading(f, decision)
        result = self.pool.result(f.ticket, self.read_ahead)  # type: ignore[union-attr, arg-type]
        if self.read_ahead is not None:
            self.read_ahead()  # this file's reader is free: the next file is read while this one is written
        return self._outcome(f, decision, result)

    def _outcome(self, f: _File, decision: Decision, result: ReadResult) -> IngestOutcome:
        problems = pl.read_parquet(result.problems_path) if result.problems_path else empty_problems()
        if result.kind == "environment":
            return self._pending(f, result.detail)
        if result.kind != "validated" or result.problem is not None:
            problem = result.problem or Problem(f.shown, "unreadable_file", "structural")
            problem = Problem(f.shown, **{k: getattr(problem, k) for k in _PROBLEM_FIELDS})
            if result.kind == "structural":  # the reader's problems include the rejection
                problems = problems.filter(pl.col("severity") != "structural")
            return self._reject(f, problem, problems)
        record = f.record(
            "accepted",
            submitted_date=result.submitted_date,
            committee_org_code=result.committee_org,
            row_counts=result.row_counts,
            quarantined_rows=result.quarantined_rows,
        )
        return self._write(f, record, problems, dict(result.frames), list(decision.supersede))

    def _rejected_before(self, f: _File) -> str | None:
        """The submission id of these bytes rejected under this very name, if they were."""
        same = self.con.execute(
            "SELECT submission_id FROM raw.submissions WHERE sha256 = ? AND file_name = ? "
            "AND status = 'rejected'",
            [f.sha, f.shown],
        ).fetchone()
        return same[0] if same else None

    def _unnamed(self, f: _File) -> IngestOutcome:
        if same := self._rejected_before(f):
            return IngestOutcome(f.shown, "unchanged", same)
        try:
            parse_name(f.source, f.text)
        except StructuralError as exc:
            problem = Problem(f.shown, exc.problem.rule, "structural", value=None)
            return self._reject(f, problem)
        raise AssertionError("an unnamed file has a name")

    def _reject(self, f: _File, problem: Problem, problems: pl.DataFrame | None = None) -> IngestOutcome:
        record = f.record(
            "rejected", reason_rule=problem.rule, reason=f"{problem.message_zh} / {problem.message_en}"
        )
        extra = problems if problems is not None else empty_problems()
        return self._write(f, record, pl.concat([problem_frame([problem]), extra]), reason=problem)

    def _pending(self, f: _File, detail: str | None) -> IngestOutcome:
        record = f.record("pending", reason_rule="server_error", reason=detail)
        f.attempts = mark_pending(self.con, record, not f.counted)  # a read counted when it began
        f.counted = True
        self._receipt(f, "pending", "server_error")
        return IngestOutcome(f.shown, "pending", f.submission_id, attempts=f.attempts)

    def _write(
        self,
        f: _File,
        record: SubmissionRecord,
        problems: pl.DataFrame | None = None,
        frames: dict[str, pl.DataFrame | Path] | None = None,
        supersede: list[str] | None = None,
        reason: Problem | None = None,
    ) -> IngestOutcome:
        problems = mask_problem_frame(problems) if problems is not None else empty_problems()
        taken = self.con.execute(
            "SELECT 1 FROM raw.submissions WHERE submission_id = ? AND status <> 'pending'",
            [record.submission_id],
        ).fetchone()
        if taken:  # the same bytes, the same unit, period and version, under another name
            f.renamed = True
            record = replace(record, submission_id=f.submission_id)
        archive.keep(f.staged, self.archive_dir)  # type: ignore[arg-type]
        self._receipt(f, record.status, record.reason_rule)
        write_submission(self.con, record, problems, frames, supersede=supersede)
        return IngestOutcome(
            file_name=record.file_name,
            status=record.status,  # type: ignore[arg-type]
            submission_id=record.submission_id,
            district_code=record.district_code,
            period=record.period,
            version=record.version,
            rows=record.row_counts or {},
            quarantined_rows=record.quarantined_rows,
            reason=reason,
            problems=problems if problems.height else empty_problems(),
            attempts=f.attempts,
        )

    def _receipt(self, f: _File, status: str, rule: str | None) -> None:
        if f.sha is None:
            return
        archive.append_receipt(
            self.archive_dir,
            archive.Receipt(
                sha256=f.sha,
                file_name=f.text,
                received_at=f.received_at.isoformat(),
                status=status,
                district_code=f.name.district_code if f.name else None,
                period=str(f.name.period) if f.name else None,
                version=f.name.version if f.name else None,
                reason_rule=rule,
                kept=bool(f.staged and f.staged.kept),
            ),
        )

    # the guard of one file

    def refused(self, f: _File, rule: str = "not_a_regular_file") -> IngestOutcome:
        """A link, FIFO or device: refused by its name (nothing of it is read or kept)."""
        digest = hashlib.sha256(b"not a regular file\0" + os.fsencode(f.source.name)).hexdigest()
        f.staged = archive.Staged(f.source, digest, 0, kept=False)
        same = self.con.execute(
            "SELECT submission_id FROM raw.submissions WHERE sha256 = ? AND status = 'rejected'", [digest]
        ).fetchone()
        if same:
            return IngestOutcome(f.shown, "unchanged", same[0])
        return self._reject(f, Problem(f.shown, rule, "structural"))

    def server_error(self, f: _File, exc: BaseException) -> IngestOutcome:
        """The server stopped this file (disk, permissions): pending, retried by a later run."""
        try:
            return self._pending(f, describe(exc))
        except Exception:  # the warehouse itself cannot be written: nothing can be recorded
            return IngestOutcome(f.shown, "pending", None, attempts=f.attempts)


_PROBLEM_FIELDS = ("rule", "severity", "sheet", "row", "column", "value")


@dataclass(frozen=True)
class Replayed:
    """Archived bytes given again under the name and at the time they first came (`qiangji rebuild`)."""

    path: Path  # the archive entry
    name: str
    received_at: dt.datetime
    sha256: str
    rule: str | None = None  # bytes the archive does not hold: the rule that refused them unread


def ingest_landing(
    paths: Iterable[Path | Replayed],
    warehouse: Path,
    archive_dir: Path,
    key: bytes,
    settings: IngestSettings | None = None,
    progress: Callable[[IngestOutcome], None] | None = None,
    workers: int = 2,
) -> list[IngestOutcome]:
    """Ingest landing entries, in order, into the warehouse through one connection.

    Files are read and validated up to `workers` ahead, each in a child process with memory and
    time limits, while this process decides and writes, one file after the other in the given
    order. Memory follows the data in flight, so read-ahead is bounded by bytes as well: the files
    being read or waiting to be written hold at most `settings.read_ahead_bytes` of unpacked data
    (`unpacked_size`), one file always.
    """
    settings = settings or IngestSettings()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    archive_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    archive.clear_staging(archive_dir)
    limits = (max(workers, 1), settings.reader_memory_bytes, settings.reader_timeout_seconds)
    with duckdb.connect(str(warehouse)) as con, reader_pool(*limits) as pool:
        # Every commit past 16 MB of log (DuckDB's default) checkpoints the whole database: at city
        # scale a checkpoint per large file, 4.1 s of the 5.7 s of writes. The log is as durable
        # (each commit is synced; a crash replays it); one checkpoint is made when the run closes.
        con.execute("SET checkpoint_threshold = '1GB'")
        ensure_schema(con)
        _check_key(con, key)
        return _ingest_in_order(_Run(con, archive_dir, key, settings, pool, _now), deque(paths), progress)


def _ingest_in_order(
    run: _Run, todo: deque[Path | Replayed], progress: Callable[[IngestOutcome], None] | None
) -> list[IngestOutcome]:
    """Stage and start reading ahead of the writes; finish every file in the given order."""
    pool, outcomes = run.pool, []
    assert pool is not None
    ahead: deque[tuple[_File, IngestOutcome | None, int]] = deque()
    in_flight = 0  # unpacked bytes of the files staged ahead and not yet written

    def read_ahead() -> None:
        nonlocal in_flight
        budget = run.settings.read_ahead_bytes
        for f, done, _ in ahead:  # a freed reader goes to the oldest file still waiting for one
            if done is None and f.ticket is None and not f.considered:
                _start_if_new(run, f, run.con, run.settings, pool)
        while todo and len(ahead) <= 3 * pool.workers and (not ahead or in_flight <= budget):
            f, done, size = _prepare(run, todo.popleft())
            ahead.append((f, done, size))
            if done is None:
                in_flight += size
                _start_if_new(run, f, run.con, run.settings, pool)

    def read_ahead_meanwhile() -> None:
        """`read_ahead` from within a file's finish: its clock is the file's again after, and an
        error of staging the next files is never the file's (it recurs after its finish)."""
        now = run.now
        try:
            read_ahead()
        except Exception as exc:  # its type and errno only: a message may quote a path (describe)
            _log.debug("reading ahead during a file's finish failed (%s); retried after it", describe(exc))
        finally:
            run.now = now

    run.read_ahead = read_ahead_meanwhile
    read_ahead()
    while ahead:
        f, done, size = ahead.popleft()
        if done is None:
            run.now = lambda f=f: f.received_at
            done = run.finish(f)
            in_flight -= size
        outcomes.append(done)
        if progress:
            progress(done)
        read_ahead()
    return outcomes


def _prepare(run: _Run, item: Path | Replayed) -> tuple[_File, IngestOutcome | None, int]:
    """Name and stage an entry (its outcome already if it is refused or the server failed it)."""
    path = item.path if isinstance(item, Replayed) else item
    received = item.received_at if isinstance(item, Replayed) else _now()
    run.now = lambda: received
    name = item.name if isinstance(item, Replayed) else None
    f = _File(path, printable_name(path), printable_name(path), received)
    try:
        f = run.open(path, name)
        if isinstance(item, Replayed) and item.rule is not None:
            f.staged = archive.Staged(path, item.sha256, 0, kept=False)
            return f, run._reject(f, Problem(f.shown, item.rule, "structural")), 0
        if not archive.regular_or_folder(path):
            return f, _guarded(run, run.refused, f), 0
        run.stage(f, name)
    except archive.NotARegularFile:
        return f, _guarded(run, run.refused, f), 0
    except Exception as exc:  # the server's error (disk, permissions): the file stays pending
        return f, run.server_error(f, exc), 0
    return f, None, unpacked_size(f.staged.path) if f.staged and f.staged.kept else 0


def _guarded(run: _Run, step: Callable[[_File], IngestOutcome], f: _File) -> IngestOutcome:
    try:
        return step(f)
    except Exception as exc:
        return run.server_error(f, exc)


def _start_if_new(
    run: _Run, f: _File, con: duckdb.DuckDBPyConnection, settings: IngestSettings, pool: ReaderPool
) -> None:
    """Start reading a staged file ahead of its turn when the warehouse says it will be read and a
    reader is free (decided again in turn: a file ahead may change the answer)."""
    if f.name is None or f.staged is None or not f.staged.kept or not pool.free:
        return
    f.considered = True
    try:
        decision = decide(con, f, settings)
        if decision.action == "read":
            run.start_reading(f, decision)
    except Exception:  # decided again, guarded, in turn
        f.ticket = None


def _unforeseen(run: _Run, f: _File, exc: BaseException) -> IngestOutcome:
    if is_environment_error(exc) or isinstance(exc, ReaderStartError):  # the server's, not the file's
        return run.server_error(f, exc)
    try:
        return run._reject(f, Problem(f.shown, "unreadable_file", "structural", value=type(exc).__name__))
    except Exception as again:
        return run.server_error(f, again)


def _check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """The warehouse's rows were pseudonymized with one key: refuse another (`ingest.keys`)."""
    try:
        from ingest.keys import ensure_key_fingerprint
    except ImportError:  # pragma: no cover  (the key module is part of the package)
        return
    ensure_key_fingerprint(con, key)


# --- partitions and the raw layer's integrity (used by the orchestration; no Dagster here) --------------

UNMATCHED_PARTITION = "unmatched"  # files whose name names no (reporting unit, period) that reports


def partition_key(path: Path) -> str:
    """The (reporting unit, period) a landing file is for, as `<code>|<period>` (e.g. `120104|2007H2`).

    Every version of a submission shares its key. A name that does not parse, or names a unit that
    does not report in that period (滨海新区 before 2010H1, 塘沽/汉沽/大港 after 2009H2), maps to
    `UNMATCHED_PARTITION`: such files are still ingested (and rejected, with their reason logged).
    """
    try:
        name = parse_submission_name(path.name, path.is_dir())
    except StructuralError:
        return UNMATCHED_PARTITION
    return f"{name.district_code}|{name.period}"


def landing_partitions(landing: Path, quiet_seconds: float = 0.0) -> dict[str, list[Path]]:
    """The landing folder's files by partition key, keys and files in the order they must be applied."""
    out: dict[str, list[Path]] = {}
    for path in list_landing(landing, quiet_seconds) if landing.exists() else []:
        out.setdefault(partition_key(path), []).append(path)
    return out


def settled(archive_dir: Path, path: Path, sha256: str) -> bool:
    """Whether ingesting this landing entry would change nothing, by the archive's receipts alone
    (the landing sensor never opens the warehouse): its bytes were loaded under the unit, period
    and version its name says, or rejected under this very name. The ingest decides again."""
    receipts = archive.receipts_of(archive_dir, sha256)
    if not receipts:
        return False
    text = printable_name(path)
    try:
        name = parse_name(path, text)
        here = (name.district_code, str(name.period), name.version)
    except (StructuralError, OSError):
        here = None
    return any(
        (r.status in ("accepted", "superseded") and (r.district_code, r.period, r.version) == here)
        or (r.status == "rejected" and r.file_name == text)
        for r in receipts
    )


@dataclass(frozen=True)
class RawAudit:
    """The raw layer as a whole: rows per table and the invariants the models rely on."""

    row_counts: dict[str, int]
    violations: dict[str, int]  # invariant -> how many submissions, rows or values break it

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())


RAW_INVARIANTS = {
    "one_accepted_version": "at most one accepted submission per reporting unit and period",
    "rows_match_the_log": "every raw table holds exactly the rows the submissions log records",
    "problems_have_a_submission": "every problem belongs to a logged submission",
    "person_key_is_a_pseudonym": "person_key is a 64-hex HMAC or empty (no national ID stored)",
}


def audit_raw(warehouse: Path) -> RawAudit:
    """Row counts of the raw tables and the number of violations of each of `RAW_INVARIANTS`."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_schema(con)

        def scalar(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])  # type: ignore[index]

        counts = {t: scalar(f"SELECT count(*) FROM raw.{t}") for t in RAW_TABLES}
        mismatched = sum(
            scalar(
                f"SELECT count(*) FROM raw.submissions s FULL JOIN (SELECT submission_id, count(*) AS n "
                f"FROM raw.{s.table} GROUP BY 1) r USING (submission_id) "
                f"WHERE coalesce(s.rows_{s.table}, 0) <> coalesce(r.n, 0)"
            )
            for s in DATA_SHEETS
        )
        bad_keys = sum(
            scalar(
                f"SELECT count(*) FROM raw.{s.table} "
                "WHERE person_key IS NOT NULL AND NOT regexp_full_match(person_key, '[0-9a-f]{64}')"
            )
            for s in DATA_SHEETS
            if "person_key" in raw_columns(s)
        )
        violations = {
            "one_accepted_version": scalar(
                "SELECT count(*) FROM (SELECT district_code, period FROM raw.submissions "
                "WHERE status = 'accepted' GROUP BY ALL HAVING count(*) > 1)"
            ),
            "rows_match_the_log": mismatched,
            "problems_have_a_submission": scalar(
                "SELECT count(*) FROM raw.problems p ANTI JOIN raw.submissions s USING (submission_id)"
            ),
            "person_key_is_a_pseudonym": bad_keys,
        }
    return RawAudit(counts, violations)
