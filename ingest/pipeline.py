"""Ingest one submission or a whole landing folder: archive → read → validate → pseudonymize → load.

Plain functions with typed results, shared by the CLI, the Dagster assets and the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from ingest.errors import Problem, StructuralError, empty_problems, problem_frame
from ingest.load import (
    SubmissionRecord,
    archive_file,
    ensure_schema,
    rows_to_store,
    sha256_of,
    write_submission,
)
from ingest.read import SubmissionName, parse_submission_name, read_submission
from ingest.settings import IngestSettings
from ingest.validate import validate_submission

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
) -> IngestOutcome:
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
        validated = validate_submission(read_submission(path, settings), settings)
    except StructuralError as exc:
        return _record_rejection(con, path, sha, name, exc.problem, empty_problems(), now())
    warnings = validated.all_problems
    if validated.rejection is not None:
        return _record_rejection(con, path, sha, name, validated.rejection, warnings, now())

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
        file_name=path.name,
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


def ingest_landing(
    paths: Iterable[Path],
    warehouse: Path,
    archive_dir: Path,
    key: bytes,
    settings: IngestSettings | None = None,
    progress: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Ingest submissions, in order, into the warehouse through one connection."""
    settings = settings or IngestSettings()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with duckdb.connect(str(warehouse)) as con:
        ensure_schema(con)
        for path in paths:
            outcome = ingest_submission(path, con, archive_dir, key, settings)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    return outcomes
