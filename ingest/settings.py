"""Ingest settings: the limits and thresholds of the submission contract, each in one place.

Defaults are the spec's; each can be overridden by an environment variable so that a deployment
changes a number without changing code. Read when a run starts, never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class IngestSettings:
    max_file_bytes: int = 200 * MIB
    max_zip_entries: int = 100
    max_zip_expanded_bytes: int = 2048 * MIB
    max_cell_chars: int = 32_767
    # What an .xlsx (a zip) may unpack to, checked before the xlsx reader opens it: all parts
    # together, how many parts, and each part's ratio of unpacked to packed size (above a 16 MiB
    # floor; also each entry of a zip of CSVs). Legacy .xls is not a zip: only its size is capped.
    max_unpacked_bytes: int = 2048 * MIB
    max_workbook_parts: int = 10_000
    max_compression_ratio: float = 100.0
    # A sheet's grid (from A1 to its last used cell, what the reader allocates, ≈32 bytes a
    # cell): at most this many cells and columns. A CSV's too (columns of its first record).
    max_sheet_cells: int = 50_000_000
    max_sheet_columns: int = 1_000
    # More than this share of a sheet's rows with errors of their own rejects the submission.
    quarantine_share: float = 0.05
    # Unpacked bytes of the files read ahead and not yet written (ingest holds ≈3-8× this);
    # one file is always read, whatever its size.
    read_ahead_bytes: int = 256 * MIB
    # A landing entry is taken once neither its size nor its times changed for this long (a file
    # still being uploaded is left for the next run); a folder: every file in it.
    quiet_seconds: float = 5.0
    # Each file is read in a child process with this address-space limit (RLIMIT_AS) and time limit.
    reader_memory_bytes: int = 12 * 1024 * MIB
    reader_timeout_seconds: float = 1800.0
    # A file whose reading failed for a reason of the server (disk, memory, permissions) stays
    # pending and is tried again by the next runs, this many times in all.
    max_attempts: int = 3

    @classmethod
    def from_env(cls) -> IngestSettings:
        def num(name: str, default: float, kind: type) -> float:
            raw = os.environ.get(name)
            return kind(raw) if raw else default

        d = cls()
        return cls(
            max_file_bytes=int(num("QIANGJI_MAX_FILE_BYTES", d.max_file_bytes, int)),
            max_zip_entries=int(num("QIANGJI_MAX_ZIP_ENTRIES", d.max_zip_entries, int)),
            max_zip_expanded_bytes=int(num("QIANGJI_MAX_ZIP_EXPANDED_BYTES", d.max_zip_expanded_bytes, int)),
            max_cell_chars=int(num("QIANGJI_MAX_CELL_CHARS", d.max_cell_chars, int)),
            max_unpacked_bytes=int(num("QIANGJI_MAX_UNPACKED_BYTES", d.max_unpacked_bytes, int)),
            max_workbook_parts=int(num("QIANGJI_MAX_WORKBOOK_PARTS", d.max_workbook_parts, int)),
            max_compression_ratio=float(num("QIANGJI_MAX_COMPRESSION_RATIO", d.max_compression_ratio, float)),
            max_sheet_cells=int(num("QIANGJI_MAX_SHEET_CELLS", d.max_sheet_cells, int)),
            max_sheet_columns=int(num("QIANGJI_MAX_SHEET_COLUMNS", d.max_sheet_columns, int)),
            quarantine_share=float(num("QIANGJI_QUARANTINE_SHARE", d.quarantine_share, float)),
            read_ahead_bytes=int(num("QIANGJI_READ_AHEAD_BYTES", d.read_ahead_bytes, int)),
            quiet_seconds=float(num("QIANGJI_LANDING_QUIET_SECONDS", d.quiet_seconds, float)),
            reader_memory_bytes=int(num("QIANGJI_READER_MEMORY_BYTES", d.reader_memory_bytes, int)),
            reader_timeout_seconds=float(
                num("QIANGJI_READER_TIMEOUT_SECONDS", d.reader_timeout_seconds, float)
            ),
            max_attempts=int(num("QIANGJI_MAX_ATTEMPTS", d.max_attempts, int)),
        )
