"""The reading child process: reads, validates and pseudonymizes one submission at a time.

Started by `ingest.isolation.ReaderPool` as `python -m ingest.reader_worker <address-space bytes>`.
It limits its own address space (RLIMIT_AS) before importing anything heavy, so a workbook that
makes the reader allocate without bound (one cell at XFD1048576, a bomb of shared strings) ends in
this process — a `MemoryError`, or an abort of the Rust reader — and never in the run.

Messages are pickles framed by their length, on stdin (tasks) and on the original stdout (results);
anything printed goes to stderr. Rows and problems are written as Parquet into the task's folder
(owner-only, under the archive's staging area) for the parent to load with DuckDB: no frame travels
through the pipe.
"""

from __future__ import annotations

import errno
import os
import pickle
import resource
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from ingest.errors import Problem
from ingest.settings import IngestSettings
from warehouse.unused_imports import refuse_unused_imports

HEADER = struct.Struct("!Q")

# The server's errors, not the file's: the file stays pending and is read again by a later run.
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
    }
)


@dataclass(frozen=True)
class ReadTask:
    path: Path  # the staged copy (its name is the submission's name)
    submission_id: str
    key: bytes  # travels through the pipe only: never in argv nor in the environment
    settings: IngestSettings
    out_dir: Path
    store: bool = True  # False (`qiangji check`): validate only, no rows written


@dataclass
class ReadResult:
    kind: Literal["validated", "structural", "environment", "error"]
    problem: Problem | None = None  # the rejection (structural, or too many row errors)
    detail: str | None = None  # environment/error: the exception's type and errno name (no path)
    problems_path: Path | None = None  # every problem and warning, values masked
    frames: dict[str, Path] = field(default_factory=dict)  # sheet alias -> raw rows (Parquet)
    row_counts: dict[str, int] = field(default_factory=dict)
    submitted_date: object = None
    committee_org: str | None = None
    quarantined_rows: int = 0


def send(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> object | None:
    """The next message, or None at the end of the stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (n,) = HEADER.unpack(head)
    data = stream.read(n)
    if len(data) < n:
        return None
    return pickle.loads(data)


def describe(exc: BaseException) -> str:
    """An exception as its type and errno name: never its message, which may quote a path or a value."""
    name = type(exc).__name__
    code = getattr(exc, "errno", None)
    return f"{name}({errno.errorcode.get(code, code)})" if code else name


def is_environment_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and getattr(exc, "errno", None) in ENVIRONMENT_ERRNOS


def read_one(task: ReadTask) -> ReadResult:
    """Read, validate and pseudonymize one submission; write its rows and problems as Parquet."""
    from ingest.errors import StructuralError, problem_frame
    from ingest.load import mask_problem_frame, rows_to_store
    from ingest.read import read_submission
    from ingest.validate import validate_submission

    task.out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    problems_path = task.out_dir / "problems.parquet"
    try:
        validated = validate_submission(read_submission(task.path, task.settings), task.settings)
    except StructuralError as exc:
        problems = problem_frame([exc.problem])
        mask_problem_frame(problems).write_parquet(problems_path)
        return ReadResult("structural", exc.problem, problems_path=problems_path)
    # a clean file has no problems file: its reader writes none, the writing thread reads none
    # (≈ 10 ms of the one writing thread per file: a demo of 236 files waited 2.3 s for them)
    if validated.all_problems.height:
        mask_problem_frame(validated.all_problems).write_parquet(problems_path)
    else:
        problems_path = None
    if validated.rejection is not None:
        return ReadResult("structural", validated.rejection, problems_path=problems_path)
    frames: dict[str, Path] = {}
    counts: dict[str, int] = {alias: frame.height for alias, frame in validated.frames.items()}
    stored = rows_to_store(validated, task.submission_id, task.key) if task.store else {}
    for alias, frame in stored.items():
        frames[alias] = task.out_dir / f"{alias}.parquet"
        frame.write_parquet(frames[alias], compression="lz4", statistics=False)
        counts[alias] = frame.height
    return ReadResult(
        "validated",
        problems_path=problems_path,
        frames=frames,
        row_counts=counts,
        submitted_date=validated.submitted_date,
        committee_org=validated.committee_org,
        quarantined_rows=validated.quarantined_rows,
    )


def handle(task: ReadTask) -> ReadResult:
    """`read_one` with every exception turned into a result: the process survives all but a crash."""
    try:
        return read_one(task)
    except MemoryError:
        return ReadResult("error", Problem(task.path.name, "reader_memory", "structural"), "MemoryError")
    except Exception as exc:
        if is_environment_error(exc):
            return ReadResult("environment", detail=describe(exc))
        problem = Problem(task.path.name, "unreadable_file", "structural", value=type(exc).__name__)
        return ReadResult("error", problem, describe(exc))


def limit_address_space(limit: int) -> None:
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def warm_up() -> None:
    """The heavy imports and pandera's backends, once, before the first task (≈4 s otherwise spent
    on the first file)."""
    import importlib

    for module in ("ingest.load", "ingest.read", "ingest.validate", "fastexcel"):
        importlib.import_module(module)
    from pandera.backends.polars.register import register_polars_backends

    register_polars_backends()


def main(argv: list[str]) -> None:
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the results
    limit_address_space(int(argv[1]) if len(argv) > 1 else 0)
    tasks = sys.stdin.buffer
    refuse_unused_imports()  # pyspark and hypothesis, through pandera: ≈ 0.4 s of each reader's start
    warm_up()
    send(results, "ready")
    while (task := receive(tasks)) is not None:
        send(results, handle(task))  # type: ignore[arg-type]


if __name__ == "__main__":
    # through the module's own name, so that results pickle as `ingest.reader_worker.ReadResult`
    from ingest import reader_worker

    reader_worker.main(sys.argv)
