"""Ingest one submission or a whole landing folder: archive → read → validate → pseudonymize → load.

Plain functions with typed results, shared by the CLI, the Dagster assets and the tests.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from ingest.errors import Problem, StructuralError, empty_problems, problem_frame
from ingest.load import (
    RAW_TABLES,
    SubmissionRecord,
    archive_file,
    ensure_schema,
    raw_columns,
    rows_to_store,
    sha256_of,
    write_submission,
)
from ingest.read import SubmissionName, parse_submission_name, read_submission
from ingest.settings import IngestSettings
from ingest.spec import DATA_SHEETS
from ingest.validate import ValidatedSubmission, validate_submission

Status = Literal["accepted", "rejected", "superseded", "unchanged"]


@dataclass
class IngestOutcome:
    file_name: str
    status: Status
    submission_id: str | None
    district_code: str | None = None
    period: str | None = None
    version: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    quarantined_rows: int = 0
    reason: Problem | None = None
    problems: pl.DataFrame = field(default_factory=empty_problems)


def list_landing(landing: Path) -> list[Path]:
    """Candidate submissions in a landing folder, in the order they must be applied.

    Lower versions first, so that a landing folder holding v1 and v2 ends with v2 current.
    Hidden and partial files (`.name`, `name.part`) are skipped: a file still being copied is
    not a submission yet.
    """
    entries = [p for p in landing.iterdir() if not p.name.startswith(".") and not p.name.endswith(".part")]

    def order(p: Path) -> tuple:
        try:
            n = parse_submission_name(p.name, p.is_dir())
            return (0, n.district_code, str(n.period), n.version, p.name)
        except StructuralError:
            return (1, "", "", 0, p.name)

    return sorted(entries, key=order)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def ingest_submission(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    archive_dir: Path,
    key: bytes,
    settings: IngestSettings,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
    prepared: Prepared | None = None,
) -> IngestOutcome:
    """Ingest one file. `prepared`: its reading and validation done ahead (used if the bytes match)."""
    sha = sha256_of(path)
    known = con.execute("SELECT submission_id FROM raw.submissions WHERE sha256 = ?", [sha]).fetchone()
    if known:  # the same bytes again change nothing
        return IngestOutcome(path.name, "unchanged", known[0])
    archive_file(path, archive_dir, sha)

    name: SubmissionName | None = None
    try:
        name = parse_submission_name(path.name, path.is_dir())
    except StructuralError as exc:
        return _record_rejection(con, path, sha, None, exc.problem, empty_problems(), now())

    submission_id = f"{name.key}-{sha[:8]}"
    previous = con.execute(
        "SELECT submission_id, version, sha256, status FROM raw.submissions "
        "WHERE district_code = ? AND period = ?",
        [name.district_code, str(name.period)],
    ).fetchall()
    if any(v == name.version for _, v, _, _ in previous):
        next_version = max(v for _, v, _, _ in previous) + 1
        problem = Problem(path.name, "version_conflict", "structural", value=str(next_version))
        return _record_rejection(con, path, sha, name, problem, empty_problems(), now())
    accepted = [(sid, v) for sid, v, _, status in previous if status == "accepted"]
    if accepted and max(v for _, v in accepted) > name.version:
        record = _record(path, sha, name, submission_id, "superseded", now())
        write_submission(con, record, empty_problems())
        return _outcome(record)

    try:
        if prepared is not None and prepared.sha256 == sha and prepared.outcome is not None:
            if isinstance(prepared.outcome, StructuralError):
                raise prepared.outcome
            validated = prepared.outcome
        else:
            validated = validate_submission(read_submission(path, settings), settings)
    except StructuralError as exc:
        return _record_rejection(con, path, sha, name, exc.problem, empty_problems(), now())
    except Exception as exc:  # a file nothing foresaw: rejected with its reason, the run goes on
        problem = Problem(path.name, "unreadable_file", "structural", value=type(exc).__name__)
        return _record_rejection(con, path, sha, name, problem, empty_problems(), now())
    warnings = validated.all_problems
    if validated.rejection is not None:
        return _record_rejection(con, path, sha, name, validated.rejection, warnings, now())

    if prepared is not None and prepared.sha256 == sha and prepared.stored is not None:
        frames = prepared.stored  # pseudonymized ahead, in the reading thread
    else:
        frames = rows_to_store(validated, submission_id, key)
    record = _record(
        path,
        sha,
        name,
        submission_id,
        "accepted",
        now(),
        submitted_date=validated.submitted_date,
        committee_org_code=validated.committee_org,
        row_counts={s: f.height for s, f in frames.items()},
        quarantined_rows=validated.quarantined_rows,
    )
    write_submission(con, record, warnings, frames, supersede=[sid for sid, _ in accepted])
    return _outcome(record, warnings)


def printable_name(path: Path) -> str:
    """The file's name as text: bytes that are not UTF-8 (a name from another system) as `\\xff`.

    Python keeps such bytes as lone surrogates, which no UTF-8 writer (polars, DuckDB, a log)
    accepts: one odd name would stop the whole run.
    """
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def _record(
    path: Path,
    sha: str,
    name: SubmissionName | None,
    submission_id: str,
    status: str,
    at: dt.datetime,
    **kw: object,
) -> SubmissionRecord:
    return SubmissionRecord(
        submission_id=submission_id,
        file_name=printable_name(path),
        district_code=name.district_code if name else None,  # type: ignore[arg-type]
        period=str(name.period) if name else None,  # type: ignore[arg-type]
        version=name.version if name else None,  # type: ignore[arg-type]
        sha256=sha,
        size_bytes=_size(path),
        received_at=at,
        status=status,
        **kw,  # type: ignore[arg-type]
    )


def _record_rejection(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sha: str,
    name: SubmissionName | None,
    problem: Problem,
    problems: pl.DataFrame,
    at: dt.datetime,
) -> IngestOutcome:
    submission_id = f"{name.key}-{sha[:8]}" if name else f"unnamed-{sha[:16]}"
    record = _record(
        path,
        sha,
        name,
        submission_id,
        "rejected",
        at,
        reason_rule=problem.rule,
        reason=f"{problem.message_zh} / {problem.message_en}",
    )
    all_problems = pl.concat([problem_frame([problem]), problems])
    write_submission(con, record, all_problems)
    return _outcome(record, all_problems, problem)


def _outcome(
    record: SubmissionRecord, problems: pl.DataFrame | None = None, reason: Problem | None = None
) -> IngestOutcome:
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
        problems=problems if problems is not None else empty_problems(),
    )


@dataclass(frozen=True)
class Prepared:
    """A file read and validated ahead of its turn: what `read_submission` + `validate_submission`
    returned or raised for the bytes with this SHA-256 (None: not prepared, the bytes were known)."""

    sha256: str
    outcome: ValidatedSubmission | StructuralError | None
    stored: dict[str, pl.DataFrame] | None = None  # `rows_to_store` of an accepted outcome, with `key`


def prepare_submission(
    path: Path, settings: IngestSettings, known: frozenset[str] = frozenset(), key: bytes | None = None
) -> Prepared:
    """Read and validate a file without touching the warehouse (safe in a worker thread).

    With `key`, a submission that passed is also pseudonymized here, so the writing thread only writes.
    """
    sha = sha256_of(path)
    if sha in known:
        return Prepared(sha, None)
    try:
        validated = validate_submission(read_submission(path, settings), settings)
    except StructuralError as exc:
        return Prepared(sha, exc)
    stored = None
    if key is not None and validated.rejection is None:
        submission_id = f"{parse_submission_name(path.name, path.is_dir()).key}-{sha[:8]}"
        stored = rows_to_store(validated, submission_id, key)
    return Prepared(sha, validated, stored)


def ingest_landing(
    paths: Iterable[Path],
    warehouse: Path,
    archive_dir: Path,
    key: bytes,
    settings: IngestSettings | None = None,
    progress: Callable[[IngestOutcome], None] | None = None,
    workers: int = 2,
) -> list[IngestOutcome]:
    """Ingest submissions, in order, into the warehouse through one connection.

    Reading and validating (CPU-bound, mostly in polars outside the GIL) runs up to `workers`
    files ahead in threads, while this thread checks versions and writes, one file after the
    other in the given order. `workers=0` does everything here, in turn.

    Memory follows the data in flight, so read-ahead is bounded by bytes as well: the files being
    read or waiting to be written hold at most `settings.read_ahead_bytes` of unpacked data
    (`unpacked_size`), one file always. Many small workbooks are read two at a time; a district
    of a million members is read alone.
    """
    settings = settings or IngestSettings()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with duckdb.connect(str(warehouse)) as con, ThreadPoolExecutor(max(workers, 1)) as pool:
        ensure_schema(con)
        known = frozenset(sha for (sha,) in con.execute("SELECT sha256 FROM raw.submissions").fetchall())
        pending = deque((path, unpacked_size(path)) for path in paths)
        ahead: deque[tuple[Path, int, Future[Prepared] | None]] = deque()
        in_flight = 0  # unpacked bytes of the files in `ahead` and of the one being written

        def read_ahead() -> None:
            nonlocal in_flight
            while pending and len(ahead) <= workers:
                path, size = pending[0]
                if (ahead or in_flight) and in_flight + size > settings.read_ahead_bytes:
                    return
                pending.popleft()
                in_flight += size
                future = pool.submit(prepare_submission, path, settings, known, key) if workers else None
                ahead.append((path, size, future))

        read_ahead()
        while ahead:
            path, size, future = ahead.popleft()
            read_ahead()
            try:
                prepared = future.result() if future else None
            except Exception:  # read it again in turn: the same error, raised where it always was
                prepared = None
            outcome = ingest_submission(path, con, archive_dir, key, settings, prepared=prepared)
            prepared = None  # its frames go before the next file is read
            in_flight -= size
            outcomes.append(outcome)
            if progress:
                progress(outcome)
            read_ahead()
    return outcomes


def unpacked_size(path: Path) -> int:
    """What a file's data takes unpacked: the entries of an xlsx or zip (their declared sizes), the
    files of a folder of CSVs, else the file's size. Reading holds a few times this in memory
    (measured at scale 1.0: ≈3× for an xlsx's XML, ≈8× for CSV). 0 for what cannot be looked at."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return sum(info.file_size for info in archive.infolist())
        return path.stat().st_size
    except (OSError, zipfile.BadZipFile, ValueError):
        return 0


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


def landing_partitions(landing: Path) -> dict[str, list[Path]]:
    """The landing folder's files by partition key, keys and files in the order they must be applied."""
    out: dict[str, list[Path]] = {}
    for path in list_landing(landing) if landing.exists() else []:
        out.setdefault(partition_key(path), []).append(path)
    return out


def is_archived(archive_dir: Path, sha256: str) -> bool:
    """Whether these bytes were received already (`load.archive_file` keeps them under this path)."""
    return (archive_dir / sha256[:2] / sha256).exists()


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
