"""What a landing folder offers: entries that are ready, entries still being written, entries refused.

The landing folder is written by whoever uploads (SFTP, a share, a copy script); ingest only reads
it, and never follows a link out of it. Every entry is looked at with `lstat`:

- a regular file or a folder is a candidate; a symlink, a FIFO, a socket or a device is refused
  (rule `not_a_regular_file`): a link could point anywhere (`/dev/zero`, another user's file), a
  FIFO would block the reader forever;
- a candidate is taken only once it is quiet: nothing was written to it for `quiet_seconds` (its
  modification time, and for a folder those of the folder and of every entry in it). A file still
  being copied keeps changing; so does a folder whose CSVs are still arriving. A tool that sets
  the original's time when it is done (`cp -p`, rsync) or moves a finished file in is ready at
  once. An upload tool that writes under a hidden or `.part` name
  and renames when done is ready at once (hidden and `.part` names are never candidates).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PARTIAL_SUFFIX = ".part"


@dataclass(frozen=True)
class LandingScan:
    ready: list[Path] = field(default_factory=list)  # regular files and folders, quiet
    waiting: list[Path] = field(default_factory=list)  # still changing: left for a later run
    refused: list[Path] = field(default_factory=list)  # links, FIFOs, sockets, devices


def is_candidate_name(name: str) -> bool:
    """Hidden names and `.part` names are uploads in progress, never submissions."""
    return not name.startswith(".") and not name.endswith(PARTIAL_SUFFIX)


def last_change(path: Path) -> float | None:
    """The latest modification of a regular file, or of a folder and the entries in it (without
    following links); None if it is not a regular file or folder."""
    st = path.lstat()
    if stat.S_ISREG(st.st_mode):
        return st.st_mtime
    if not stat.S_ISDIR(st.st_mode):
        return None
    newest = st.st_mtime
    with os.scandir(path) as entries:
        for entry in entries:
            newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    return newest


def scan_landing(landing: Path, quiet_seconds: float, now: Callable[[], float] = time.time) -> LandingScan:
    """The landing folder's entries, sorted into ready, waiting and refused (names sorted)."""
    scan = LandingScan()
    if not landing.is_dir():
        return scan
    at = now()
    for path in sorted(landing.iterdir(), key=lambda p: os.fsencode(p.name)):
        if not is_candidate_name(path.name):
            continue
        try:
            changed = last_change(path)
        except OSError:  # gone meanwhile, or not ours to look at: the next scan sees what is there
            continue
        if changed is None:
            scan.refused.append(path)
        elif at - changed < quiet_seconds:
            scan.waiting.append(path)
        else:
            scan.ready.append(path)
    return scan


def wait_until_quiet(
    landing: Path,
    quiet_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> LandingScan:
    """A scan after waiting (at most `quiet_seconds`, once) for entries that were still changing.

    For a one-off command (`qiangji run`): files generated or copied a moment ago are taken after a
    short wait; a file still changing after that is left for the next run.
    """
    scan = scan_landing(landing, quiet_seconds, now)
    if not scan.waiting:
        return scan
    sleep(quiet_seconds)
    return scan_landing(landing, quiet_seconds, now)
