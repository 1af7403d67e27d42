"""The archive: every received file's bytes, kept by SHA-256, with a manifest of each time it came.

`archive/<aa>/<sha256>` holds the bytes of a file (a folder of CSVs: a folder), exactly as
received; `archive/<aa>/<sha256>.receipts.jsonl` one line per receipt: the name it came under,
the reporting unit, period and version that name says, when it was received, and what became of
it. The receipts are what `qiangji rebuild` replays into a new warehouse: the archive alone,
without the warehouse, gives back every submission and its outcome.

A landing entry is first copied into `archive/.staging/` (owner-only, never following a link),
hashed while it is copied; everything after that reads the copy, so a file that changes in the
landing folder meanwhile cannot give the warehouse bytes other than the archived ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

CHUNK = 1 << 20
STAGING = ".staging"
RECEIPTS_SUFFIX = ".receipts.jsonl"


class NotARegularFile(Exception):
    """The entry is a link, a FIFO, a socket or a device (or became one since it was listed)."""


class OverLimit(Exception):
    """The entry is larger than the limits allow: it is hashed, not copied."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _open_regular(path: Path) -> int:
    """An fd of a regular file, never through a link, never blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno in (40, 6):  # ELOOP: a link; ENXIO: a socket or a FIFO without writer
            raise NotARegularFile(path.name) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(path.name)
    return fd


def regular_or_folder(path: Path) -> bool:
    """Whether a landing entry is a regular file or a folder (`lstat`: a link is neither)."""
    mode = path.lstat().st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _copy_hashing(fd: int, target: Path | None) -> tuple[str, int]:
    """SHA-256 and size of an open file's bytes, copied to `target` (mode 0600) if given."""
    h = hashlib.sha256()
    size = 0
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600) if target else None
    try:
        with os.fdopen(fd, "rb", closefd=False) as src:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                if out is not None:
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(out, view) :]
    finally:
        if out is not None:
            os.close(out)
    return h.hexdigest(), size


def _folder_files(path: Path) -> list[Path]:
    """The regular files of a folder submission (links and subfolders are never read)."""
    with os.scandir(path) as entries:
        return sorted(
            (Path(e.path) for e in entries if e.is_file(follow_symlinks=False)),
            key=lambda p: os.fsencode(p.name),
        )


def _folder_digest(hashes: list[tuple[str, str]]) -> str:
    return hashlib.sha256("".join(f"{name}\t{sha}\n" for name, sha in hashes).encode()).hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a regular file, or of a folder's manifest (each file's name and SHA-256, sorted).

    Never follows a link nor opens a FIFO: such an entry raises `NotARegularFile`.
    """
    st = path.lstat()
    if stat.S_ISDIR(st.st_mode):
        hashes = []
        for p in _folder_files(path):
            fd = _open_regular(p)
            try:
                hashes.append((p.name, _copy_hashing(fd, None)[0]))
            finally:
                os.close(fd)
        return _folder_digest(hashes)
    fd = _open_regular(path)
    try:
        return _copy_hashing(fd, None)[0]
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Staged:
    """A landing entry copied into the staging area: `path` has the entry's name."""

    path: Path
    sha256: str
    size_bytes: int
    kept: bool = True  # False: over the limits, hashed only (`path` is then the landing entry)
    over_limit: str | None = None


def stage_entry(
    source: Path,
    archive_dir: Path,
    max_file_bytes: int,
    max_entries: int,
    max_folder_bytes: int,
    name: str | None = None,
) -> Staged:
    """Copy a landing entry (a regular file, or a folder's regular files) into the staging area.

    A file over `max_file_bytes`, or a folder over `max_entries` files or `max_folder_bytes` in all,
    is hashed but not copied (`kept=False`): it is rejected for its size, and the archive does not
    fill the disk with it. Raises `NotARegularFile` for anything else, `OSError` for the server's
    errors (disk full, permissions). `name`: the copy's name, if not the source's (a replay).
    """
    staging = archive_dir / STAGING / uuid.uuid4().hex
    staging.mkdir(parents=True, mode=0o700)
    target = staging / (name or source.name)
    st = source.lstat()
    if stat.S_ISDIR(st.st_mode):
        files = _folder_files(source)
        total = sum(p.lstat().st_size for p in files)
        over = (
            f"{len(files)} files"
            if len(files) > max_entries
            else ("size" if total > max_folder_bytes else None)
        )
        if over:
            shutil.rmtree(staging)
            return Staged(source, sha256_of(source), total, kept=False, over_limit=over)
        target.mkdir(mode=0o700)
        hashes, size = [], 0
        for p in files:
            fd = _open_regular(p)
            try:
                sha, n = _copy_hashing(fd, target / p.name)
            finally:
                os.close(fd)
            hashes.append((p.name, sha))
            size += n
        return Staged(target, _folder_digest(hashes), size)
    fd = _open_regular(source)
    try:
        size = os.fstat(fd).st_size
        if size > max_file_bytes:
            shutil.rmtree(staging)
            return Staged(source, _copy_hashing(fd, None)[0], size, kept=False, over_limit="size")
        sha, size = _copy_hashing(fd, target)
    finally:
        os.close(fd)
    return Staged(target, sha, size)


def discard_staged(staged: Staged, archive_dir: Path) -> None:
    """Remove a staged copy (the bytes were archived before, or are not kept)."""
    staging = archive_dir / STAGING
    if staged.kept and staging in staged.path.parents:
        shutil.rmtree(staged.path.parent, ignore_errors=True)


def clear_staging(archive_dir: Path) -> None:
    """Remove the staged copies a killed run left behind (they are copies: the landing keeps the files)."""
    shutil.rmtree(archive_dir / STAGING, ignore_errors=True)


def entry_path(archive_dir: Path, sha256: str) -> Path:
    return archive_dir / sha256[:2] / sha256


def is_archived(archive_dir: Path, sha256: str) -> bool:
    return entry_path(archive_dir, sha256).exists()


def keep(staged: Staged, archive_dir: Path) -> Path | None:
    """Move a staged copy into the archive (atomic: an entry is whole or absent); None if not kept."""
    if not staged.kept:
        return None
    target = entry_path(archive_dir, staged.sha256)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        discard_staged(staged, archive_dir)
        return target
    staged.path.rename(target)
    shutil.rmtree(staged.path.parent, ignore_errors=True)
    return target


# --- receipts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """One arrival of some bytes under a name, and its outcome (a line of the entry's manifest)."""

    sha256: str
    file_name: str  # as received (printable): the archive is owner-only and holds the bytes anyway
    received_at: str  # ISO 8601, UTC
    status: str  # accepted | rejected | superseded | pending
    district_code: str | None = None
    period: str | None = None
    version: int | None = None
    reason_rule: str | None = None
    kept: bool = True  # the bytes are in the archive (False: over the size limits, or not a file)

    @property
    def received(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.received_at)


def append_receipt(archive_dir: Path, receipt: Receipt) -> None:
    """Add a line to the entry's manifest, flushed to disk before the warehouse commits the outcome."""
    path = archive_dir / receipt.sha256[:2] / (receipt.sha256 + RECEIPTS_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(asdict(receipt), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_receipts(manifest: Path) -> list[Receipt]:
    out = []
    # split on "\n" only: `splitlines` also splits inside a name holding U+0085 or U+2028
    for line in manifest.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        try:
            out.append(Receipt(**json.loads(line)))
        except (ValueError, TypeError):  # a torn last line of a killed run
            continue
    return out


def receipts_of(archive_dir: Path, sha256: str) -> list[Receipt]:
    """The receipts of these bytes, in the order they were written."""
    manifest = archive_dir / sha256[:2] / (sha256 + RECEIPTS_SUFFIX)
    try:
        return _parse_receipts(manifest)
    except FileNotFoundError:
        return []


def read_receipts(archive_dir: Path) -> Iterator[Receipt]:
    """Every receipt of the archive (unordered; a torn last line of a killed run is skipped)."""
    if not archive_dir.is_dir():
        return
    for manifest in sorted(archive_dir.glob(f"??/*{RECEIPTS_SUFFIX}")):
        yield from _parse_receipts(manifest)
