"""Replay the archive into a warehouse: every receipt, in the order the files came.

The archive's receipts (`ingest.archive`) say which bytes came under which name and when. Given
again to the same state machine in the same order, under the same names, at the same times and
with the same key, they give the same `raw.*` — so a lost warehouse is rebuilt from the archive
alone (`qiangji rebuild`), and a key is rotated by rebuilding with the new one.
"""

from __future__ import annotations

from pathlib import Path

from ingest.archive import Receipt, entry_path, read_receipts
from ingest.pipeline import Replayed


def replay_items(archive_dir: Path) -> list[Replayed]:
    """The archive's receipts as entries to ingest, oldest first.

    Pending receipts are left out (a file the server stopped is judged when it is read); the same
    outcome of the same bytes under the same name twice (a run killed after writing the receipt
    and before committing, then run again) is one entry.
    """
    receipts = sorted(
        (r for r in read_receipts(archive_dir) if r.status != "pending"),
        key=lambda r: (r.received, r.version or 0),
    )
    items: list[Replayed] = []
    seen: set[tuple[str, str, str]] = set()
    for r in receipts:
        if (r.sha256, r.file_name, r.status) in seen:
            continue
        seen.add((r.sha256, r.file_name, r.status))
        items.append(
            Replayed(
                path=entry_path(archive_dir, r.sha256),
                name=r.file_name,
                received_at=r.received,
                sha256=r.sha256,
                rule=None if r.kept else _unkept_rule(r),
            )
        )
    return items


def _unkept_rule(r: Receipt) -> str:
    """The rule that refused bytes the archive does not hold (over the size limits, not a file)."""
    return r.reason_rule or "file_too_large"
